"""Shared helpers of the events tests (imported as ``events_helpers``: tests/ is on sys.path)."""
import random

import numpy as np
from hypothesis import HealthCheck, settings

from wiredesk.transforms.events.config import DEFAULT_CONFIG
from wiredesk.transforms.events.features import raw_features
from wiredesk.transforms.events.records import BlockMember
from wiredesk.transforms.events.vectors import pack_vector, unpack_vector

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
DAY = 86400.0
T0 = 1_710_000_000.0  # 2024-03-09, any fixed instant
NO_BURST = DEFAULT_CONFIG.replace(time_burst_boost=0.0)
MIDNIGHT = 1_709_942_400.0  # 2024-03-09T00:00:00Z: a bare date
EXPAND_FEATURES = [f"t:w{i}" for i in range(30)]


def unpacked_dict(packed: bytes) -> dict:
    ids, weights = unpack_vector(packed)
    return {int(i): float(w) for i, w in zip(ids, weights)}


def f32(x: float) -> float:
    return float(np.float32(x))


STORY_WORDS = [["harbour", "crane", "collapse", "dockers", "rotterdam", "port", "inquiry", "cargo"],
               ["glacier", "melt", "alpine", "record", "swiss", "scientists", "summer", "ice"],
               ["chess", "olympiad", "grandmaster", "budapest", "final", "gold", "team", "draw"],
               ["vaccine", "malaria", "trial", "ghana", "children", "dose", "approval", "who"],
               ["railway", "strike", "unions", "france", "trains", "pension", "sncf", "talks"]]


def burst_headlines(seed, stories=5, per_story=12):
    """Headlines of two story words and one filler word; each story a burst
    of reports 37 s apart, two hours after the previous story."""
    rnd = random.Random(seed)
    filler = ["says", "report", "update", "live", "watch", "new", "latest", "first", "week", "today"]
    raws, times = {}, {}
    for s in range(stories):
        words = STORY_WORDS[s]
        for i in range(per_story):
            aid = f"s{s}-{i:02d}"
            raws[aid] = raw_features(" ".join(rnd.sample(words, 2) + rnd.sample(filler, 1)), None, [], DEFAULT_CONFIG)
            times[aid] = T0 + s * 7200 + 37 * i
    return raws, times


def random_members(seed: int, count: int, words: int, extra_keys=()) -> list:
    """``count`` BlockMembers a minute apart, each with 6 of ``words`` words at random weights (unit vector),
    in the blocks "k:all", each of ``extra_keys`` and "k:<i mod 3>"."""
    rng = random.Random(seed)
    vocabulary = [f"w{i}" for i in range(words)]
    out = []
    for i in range(count):
        vec = {f"t:{w}": rng.random() + 0.1 for w in rng.sample(vocabulary, 6)}
        norm = sum(v * v for v in vec.values()) ** 0.5
        out.append(BlockMember(f"a{i:02d}", 1.7e9 + 60 * i, pack_vector({f: v / norm for f, v in vec.items()}),
                               ["k:all", *extra_keys, f"k:{i % 3}"]))
    return out
