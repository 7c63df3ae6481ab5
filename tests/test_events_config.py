"""EventConfig: frozen, validated field by field, and the source of the
events command-line options."""
import dataclasses
import pickle

import pytest

from wiredesk.transforms.events import DEFAULT_CONFIG, EventConfig
from wiredesk.transforms.events.config import ConfigValueError, with_burst_boost


def test_frozen_hashable_picklable():
    with pytest.raises(dataclasses.FrozenInstanceError):
        DEFAULT_CONFIG.threshold = 0.5
    assert hash(EventConfig()) == hash(DEFAULT_CONFIG) and EventConfig() == DEFAULT_CONFIG
    assert pickle.loads(pickle.dumps(DEFAULT_CONFIG)) == DEFAULT_CONFIG


def test_replace_changes_one_field_and_validates():
    cfg = DEFAULT_CONFIG.replace(threshold=0.8)
    assert cfg.threshold == 0.8 and DEFAULT_CONFIG.threshold == 0.4
    assert dataclasses.replace(cfg, threshold=0.4) == DEFAULT_CONFIG
    with pytest.raises(ConfigValueError, match=r"^threshold must be in \(0, 1\], got 0$"):
        DEFAULT_CONFIG.replace(threshold=0)


@pytest.mark.parametrize("changes, message", [
    ({"threshold": 1.5}, "threshold must be in (0, 1], got 1.5"),
    ({"time_scale_days": 0.0}, "time_scale_days must be positive, got 0.0"),
    ({"edge_min": 0.0}, "edge_min must be in (0, 1), got 0.0"),
    ({"background_sample": 0}, "background_sample must be a whole number, 1 or more, got 0"),
    ({"time_burst_boost": -1.0}, "time_burst_boost must be in [0, 100] (0 turns it off), got -1.0"),
    ({"time_burst_minutes": -3}, "time_burst_minutes must be positive, got -3"),
    ({"expand_k": 0}, "expand_k must be a whole number, 1 or more, got 0"),
    ({"expand_k": 2.5}, "expand_k must be a whole number, 1 or more, got 2.5"),
    ({"block_window": True}, "block_window must be a whole number, 1 or more, got True"),
    ({"ner_max_chars": 0}, "ner_max_chars must be a positive number of characters or None, got 0"),
    ({"w_entities": -0.5}, "w_entities must be 0 or more (0 drops the block), got -0.5"),
    ({"merge_clusters": 1}, "merge_clusters must be True or False, got 1"),
    ({"block_max_df": "0.1"}, "block_max_df must be in (0, 1], got '0.1'"),
])
def test_invalid_values_say_how_to_fix_them(changes, message):
    with pytest.raises(ConfigValueError) as err:
        EventConfig(**changes)
    assert str(err.value) == message
    assert isinstance(err.value, ValueError)
    field, value = next(iter(changes.items()))
    assert (err.value.field, err.value.value) == (field, value)


def test_boundary_values_are_allowed():
    cfg = EventConfig(threshold=1.0, time_burst_boost=0.0, edge_min=1e-9, expand_rounds=0, max_features=0,
                      expand_min_sim=0.0, ner_max_chars=None, term_max_chars=None, time_grace_days=0.0)
    assert (cfg.threshold, cfg.time_burst_boost, cfg.ner_max_chars) == (1.0, 0.0, None)


def test_every_field_has_a_rule():
    for f in dataclasses.fields(EventConfig):
        assert f.metadata["rule"] and callable(f.metadata["check"]), f.name
        assert f.metadata["check"](f.default), f.name


def test_options_come_from_the_fields():
    options = list(EventConfig.options())
    assert [(o.field, o.flag, o.type) for o in options] == [
        ("threshold", "event_threshold", float),
        ("time_scale_days", "event_time_scale_days", float),
        ("time_burst_boost", "event_burst_boost", float),
        ("time_burst_minutes", "event_burst_minutes", float),
    ]
    assert all(o.help.startswith("Events: ") for o in options)


def test_with_burst_boost():
    assert with_burst_boost(DEFAULT_CONFIG, 3.0) == DEFAULT_CONFIG
    boosted = with_burst_boost(DEFAULT_CONFIG, 1.25)
    assert boosted == DEFAULT_CONFIG.replace(time_burst_boost=1.25)
    assert with_burst_boost(DEFAULT_CONFIG, 1.25) is boosted  # cached, not rebuilt per block
