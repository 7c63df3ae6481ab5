"""``EventConfig``: every knob of the events stage, frozen and validated.

One frozen dataclass shared by every step (so no two steps can disagree about
a threshold). Each field carries its rule in its metadata; ``__post_init__``
checks them all, and the command-line options for events are built from the
same metadata (``options()``), so a value is validated in one place only.
"""
from __future__ import annotations

import dataclasses
from functools import lru_cache
from typing import Any, Callable, Iterator, NamedTuple, Optional

__all__ = ["EventConfig", "DEFAULT_CONFIG", "ConfigValueError", "EventOption", "with_burst_boost"]


class ConfigValueError(ValueError):
    """A field of EventConfig given a value its rule does not allow."""

    def __init__(self, field: str, rule: str, value: Any):
        super().__init__(f"{field} must be {rule}, got {value!r}")
        self.field = field
        self.rule = rule
        self.value = value


class EventOption(NamedTuple):
    """A command-line option that sets one EventConfig field."""

    field: str
    #: The option's name without the leading "--".
    flag: str
    help: str
    #: The argparse type of the option's value.
    type: Callable


def _knob(default, rule: str, check: Callable[[Any], bool], flag: Optional[str] = None,
          help: Optional[str] = None):
    """A field with its rule ("positive", "in (0, 1]": what the error says) and,
    for the few that are command-line options, the option's name and help."""
    return dataclasses.field(default=default, metadata={"rule": rule, "check": check, "flag": flag, "help": help})


def _positive(v) -> bool:
    return v > 0


def _non_negative(v) -> bool:
    return v >= 0


def _count(minimum: int) -> Callable[[Any], bool]:
    return lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= minimum


def _chars(v) -> bool:
    return v is None or _count(1)(v)


def _flag(v) -> bool:
    return isinstance(v, bool)


_WEIGHT = ("0 or more (0 drops the block)", _non_negative)
_BOOL = ("True or False", _flag)


@dataclasses.dataclass(frozen=True)
class EventConfig:
    """Every knob of the events stage, with the shipped defaults. Frozen:
    hashable and picklable; ``replace`` gives a changed, re-validated copy."""

    # Characters of headline + body given to spaCy NER (None: all).
    ner_max_chars: Optional[int] = _knob(1500, "a positive number of characters or None", _chars)
    # Characters of the body whose words become terms (None: all).
    term_max_chars: Optional[int] = _knob(4000, "a positive number of characters or None", _chars)
    # A short first body line becomes the headline of an article without one.
    headline_from_body: bool = _knob(True, *_BOOL)
    # Weight of the term block (headline + body words) in an article's vector.
    w_terms: float = _knob(1.0, *_WEIGHT)
    # Weight of the headline-term block.
    w_headline: float = _knob(0.5, *_WEIGHT)
    # Weight of the entity block (names, places, dates and numbers spaCy finds).
    w_entities: float = _knob(1.0, *_WEIGHT)
    # Heaviest features kept per article vector (0: all).
    max_features: int = _knob(150, "a whole number, 0 or more (0: no cap)", _count(0))
    # Articles of the run's reference sample: each article's background similarity is its mean
    # similarity to them (``background``), and a pair's score is what it has above that background.
    background_sample: int = _knob(300, "a whole number, 1 or more", _count(1))
    # Average score two groups need to merge; higher splits events more finely.
    threshold: float = _knob(
        0.4, "in (0, 1]", lambda v: 0.0 < v <= 1.0, flag="event_threshold",
        help="Events: average score two groups of articles need to merge (0-1; default 0.4). A score is the "
             "similarity a pair has above the two articles' background similarity to the run's other "
             "articles. Higher splits events more finely.")
    # Second pass: first-pass clusters, as one member each, are clustered again ...
    merge_clusters: bool = _knob(True, *_BOOL)
    # ... those of at least this many articles ...
    merge_min_size: int = _knob(2, "a whole number, 1 or more", _count(1))
    # ... at this threshold (a cluster's mean vector is less noisy than an article's, so it is higher).
    merge_threshold: float = _knob(0.65, "in (0, 1]", lambda v: 0.0 < v <= 1.0)
    # Rounds of neighbour expansion (0: none, the first scores are final).
    expand_rounds: int = _knob(1, "a whole number, 0 or more", _count(0))
    # Neighbours an article moves toward in each round.
    expand_k: int = _knob(6, "a whole number, 1 or more", _count(1))
    # How far an article moves toward its neighbours (1: as much as toward itself).
    expand_alpha: float = _knob(1.0, "0 or more", _non_negative)
    # Score a neighbour needs to pull at all; it pulls by how far it clears this (scores are
    # already above the pair's background; the small floor keeps two articles that share a word
    # or two from pulling each other together where a run is too small to have a background).
    expand_min_sim: float = _knob(0.02, "0 or more", _non_negative)
    # Heaviest features kept in an expanded or cluster vector.
    expand_top: int = _knob(150, "a whole number, 1 or more", _count(1))
    # Least total pull the neighbours' pulls are divided by (a lone weak neighbour pulls little).
    expand_min_total: float = _knob(0.25, "positive", _positive)
    # Blocking keys per article (its highest-weighted shared features).
    block_keys: int = _knob(20, "a whole number, 1 or more", _count(1))
    # Features in more than this share of the articles are too common to block on ...
    block_max_df: float = _knob(0.05, "in (0, 1]", lambda v: 0.0 < v <= 1.0)
    # ... but that cap is at least this many articles ...
    block_min_max_df: int = _knob(50, "a whole number, 2 or more", _count(2))
    # ... and at most this many.
    block_max_df_abs: int = _knob(2000, "a whole number, 2 or more", _count(2))
    # Each block member is paired with the next this many members in (time, id) order.
    block_window: int = _knob(50, "a whole number, 1 or more", _count(1))
    # Least score of a pair kept as an edge (it also bounds the time horizon, ``timing.horizon_days``).
    edge_min: float = _knob(0.05, "in (0, 1)", lambda v: 0.0 < v < 1.0)
    # Edges each article keeps after rescoring: its this many best (an edge stays if either end keeps it),
    # so the graph has at most this many edges per article however dense the run (``scoring.top_edges``).
    node_edges: int = _knob(100, "a whole number, 1 or more", _count(1))
    # Days of publication gap that do not weaken similarity.
    time_grace_days: float = _knob(1.0, "0 or more", _non_negative)
    # Days beyond the grace over which a publication gap weakens similarity by a factor e.
    time_scale_days: float = _knob(
        120.0, "positive", _positive, flag="event_time_scale_days",
        help="Events: days over which a publication gap weakens similarity by a factor e (exponential, "
             "after a one-day grace; default 120: follow-ups weeks later still join, the same kind of "
             "event months later does not). Articles without a time are not affected.")
    # Cap of the burst boost: articles minutes apart score up to (1 + boost) times their
    # similarity; the boost used is what the run's own times support (``timing.burst_boost``).
    time_burst_boost: float = _knob(
        3.0, "in [0, 100] (0 turns it off)", lambda v: 0.0 <= v <= 100.0, flag="event_burst_boost",
        help="Events: cap of the burst boost (default 3; 0 turns it off). Two articles published minutes "
             "apart count as up to 1 + boost times as alike; the boost used is what the run's own times "
             "support (about 0 when times do not cluster by story). Bare dates (midnight UTC) never get it.")
    # Time scale of the burst boost, in minutes (it fades as exp(-gap / this)).
    time_burst_minutes: float = _knob(
        6.0, "positive", _positive, flag="event_burst_minutes",
        help="Events: time scale of that boost, in minutes (it fades as exp(-gap / this); default 6).")
    # Rounds of label propagation that find the connected pieces of the graph clustered apart.
    component_rounds: int = _knob(4, "a whole number, 1 or more", _count(1))
    # Most articles clustered in one worker: a larger piece is cut in (time, id) order.
    max_component: int = _knob(20_000, "a whole number, 2 or more", _count(2))

    def __post_init__(self):
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            try:
                ok = f.metadata["check"](value)
            except TypeError:
                ok = False
            if not ok:
                raise ConfigValueError(f.name, f.metadata["rule"], value)

    def replace(self, **changes) -> EventConfig:
        """A copy with ``changes``, validated like a new config."""
        return dataclasses.replace(self, **changes)

    @classmethod
    def options(cls) -> Iterator[EventOption]:
        """The fields that are command-line options, in field order."""
        for f in dataclasses.fields(cls):
            if f.metadata["flag"]:
                yield EventOption(f.name, f.metadata["flag"], f.metadata["help"], type(f.default))


DEFAULT_CONFIG = EventConfig()


@lru_cache(maxsize=16)
def with_burst_boost(config: EventConfig, boost: float) -> EventConfig:
    """``config`` with the burst boost a run measured (a new config; cached,
    since every block of a run asks for the same one)."""
    return config if boost == config.time_burst_boost else config.replace(time_burst_boost=boost)
