"""Events: the time factor, block scoring against an all-pairs reference, and the burst boost."""
import math
import random
from collections import defaultdict, namedtuple

import numpy as np
import pytest
from events_helpers import (
    DAY,
    FAST,
    MIDNIGHT,
    NO_BURST,
    T0,
    burst_headlines,
    unpacked_dict,
)
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from wiredesk.transforms.events.blocking import block_entry, block_order, key_id
from wiredesk.transforms.events.config import DEFAULT_CONFIG, EventConfig
from wiredesk.transforms.events.records import BlockEntry, BlockMember
from wiredesk.transforms.events.scoring import SMALL_BLOCK, block_edges
from wiredesk.transforms.events.timing import (
    burst_boost,
    close_pairs,
    data_burst_boost,
    horizon_days,
    time_bin,
    time_factor,
    time_factors,
)
from wiredesk.transforms.events.vectors import pack_vector


def test_time_factor_shape():
    c = NO_BURST
    assert time_factor(None, T0, c) == time_factor(T0, None, c) == time_factor(None, None, c) == 1.0
    assert time_factor(T0, T0, c) == 1.0
    assert time_factor(T0, T0 + 0.9 * DAY, c) == 1.0                  # within the grace day
    assert 0.0 < time_factor(T0, T0 + 40 * DAY, c) < time_factor(T0, T0 + 20 * DAY, c) < 1.0
    assert math.isclose(time_factor(T0, T0 + 121 * DAY, c), math.exp(-1.0))  # (121 - 1) / scale, scale = 120
    horizon = horizon_days(c)
    assert math.isclose(horizon, 1.0 + 120.0 * math.log(20.0))       # where 1 * factor < edge_min 0.05
    assert time_factor(T0, T0 + (horizon - 0.01) * DAY, c) > 0.0      # within the horizon
    assert time_factor(T0, T0 + (horizon + 0.01) * DAY, c) == 0.0
    assert time_factor(T0 + (horizon + 1) * DAY, T0, c) == 0.0


def test_time_factor_burst():
    c = DEFAULT_CONFIG
    boost, tau = c.time_burst_boost, 60.0 * c.time_burst_minutes
    assert time_factor(T0, T0) == 1.0 + boost                         # same instant
    assert math.isclose(time_factor(T0, T0 + tau), 1.0 + boost * math.exp(-1.0))
    gaps = [0.0, 60.0, 600.0, 3600.0, 0.5 * DAY]
    got = [time_factor(T0, T0 + g) for g in gaps]
    assert got == sorted(got, reverse=True) and got[-1] < 1.0 + 1e-6  # fades within hours
    # only a boost: never below the factor without it
    for g in gaps + [2 * DAY, 4 * DAY, 400 * DAY]:
        assert time_factor(T0, T0 + g) >= time_factor(T0, T0 + g, NO_BURST)
    # bare dates (midnight UTC) and unknown times get no boost
    assert time_factor(MIDNIGHT, MIDNIGHT) == 1.0
    assert time_factor(MIDNIGHT, T0) == time_factor(MIDNIGHT, T0, NO_BURST)
    assert time_factor(None, T0) == 1.0


TIMES = st.one_of(st.none(), st.floats(0.0, 400 * DAY), st.integers(0, 400).map(lambda d: d * DAY),
                  st.integers(1, 30).map(lambda d: MIDNIGHT - T0 + d * DAY),   # bare dates
                  st.floats(0.0, 3600.0))                                     # one burst
CONFIGS = st.sampled_from([
    DEFAULT_CONFIG,
    NO_BURST,
    EventConfig(time_grace_days=0.0, time_scale_days=1.0),
    EventConfig(time_grace_days=2.5, time_scale_days=5.0, edge_min=0.2),
])


@given(st.lists(st.tuples(TIMES, TIMES), min_size=1, max_size=20), CONFIGS)
@example([(0.0, 360 * DAY), (0.0, 361 * DAY + 1), (None, 100 * DAY), (5 * DAY, None),
          (None, None), (DAY, 0.0), (0.0, 0.0)], DEFAULT_CONFIG)
@FAST
def test_time_factors_match_scalar(pairs, config):
    ta = np.array([np.nan if a is None else T0 + a for a, _ in pairs])
    tb = np.array([np.nan if b is None else T0 + b for _, b in pairs])
    got = time_factors(ta, tb, config)
    want = [time_factor(None if a is None else T0 + a, None if b is None else T0 + b, config)
            for a, b in pairs]
    assert got.shape == (len(pairs),)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=0.0)


# -- block_edges ------------------------------------------------------------

BLOCK_KEY = "k2"
KEY_POOL = ["k0", "k1", "k3", "k4"]      # "k0", "k1" sort before the block key
FEATURE_POOL = [f"t:f{i}" for i in range(10)]


@st.composite
def block_members(draw, min_size, max_size):
    """Members of block ``BLOCK_KEY``: unique ids, times with ties and gaps
    across the horizon, some undated, unit sparse vectors with float32
    weights, and backgrounds from 0 to 0.3."""
    n = draw(st.integers(min_size, max_size))
    out = []
    for i in range(n):
        raw = draw(st.dictionaries(st.sampled_from(FEATURE_POOL), st.floats(0.01, 1.0), max_size=5))
        norm = math.sqrt(sum(v * v for v in raw.values())) or 1.0
        vec = {f: v / norm for f, v in raw.items()}
        t = draw(st.one_of(st.none(), st.integers(0, 400 * 4).map(lambda q: T0 + q * DAY / 4)))
        extra = draw(st.sets(st.sampled_from(KEY_POOL), max_size=3))
        keys = tuple(draw(st.permutations(sorted(extra | {BLOCK_KEY}))))
        background = draw(st.sampled_from([0.0, 0.0, 0.05, 0.3]))
        out.append(BlockMember(f"a{i:02d}", t, pack_vector(vec), keys, background))
    return out


def reference_block_edges(key, members, config):
    """block_edges as its docstring states it, pair by pair with dicts: each
    member paired with the next ``block_window`` members in (time, id) order,
    undated last; score = (dot above the pair's background) * time_factor,
    kept if >= edge_min; in a block
    of at most block_window + 1 members only where ``key`` is the pair's shared
    key of smallest id."""
    order = sorted(members, key=lambda m: (m.time is None, m.time if m.time is not None else 0.0,
                                           m.article_id))
    m = len(order)
    full = m <= config.block_window + 1
    out = {}
    for i in range(m):
        for j in range(i + 1, min(m, i + 1 + config.block_window)):
            a, b = order[i], order[j]
            if full and min({key_id(k) for k in a.keys} & {key_id(k) for k in b.keys},
                            default=key_id(key)) != key_id(key):
                continue
            va, vb = unpacked_dict(a.vector), unpacked_dict(b.vector)
            dot = sum(w * vb[f] for f, w in va.items() if f in vb)
            bg = (a.background + b.background) / 2
            s = max(0.0, (dot - bg) / (1 - bg)) * time_factor(a.time, b.time, config)
            if s >= config.edge_min:
                out[tuple(sorted((a.article_id, b.article_id)))] = s
    return out


def assert_edges_match(got_list, want, config):
    got = {(a, b): s for a, b, s in got_list}
    assert len(got) == len(got_list), "a pair scored twice in one block"
    assert all(a < b for a, b in got), "edges are (lo id, hi id)"
    for pair in got.keys() | want.keys():
        if pair in got and pair in want:
            assert abs(got[pair] - want[pair]) <= 1e-5, (pair, got[pair], want[pair])
        else:  # only a pair within rounding of the cut may differ
            s = got.get(pair, want.get(pair))
            assert abs(s - config.edge_min) <= 1e-5, ("missing" if pair in want else "extra", pair, s)


BLOCK_CASES = {
    # name: (config, min members, max members, examples)
    "small-pairwise": (DEFAULT_CONFIG, 2, SMALL_BLOCK, 80),
    "matrix-windowed": (EventConfig(block_window=3), 20, 40, 40),
    "matrix-full": (EventConfig(block_window=20), SMALL_BLOCK + 1, 21, 30),
    "matrix-full-sliced": (DEFAULT_CONFIG, 25, 45, 15),            # 2048 // 100 = 20 rows a slice
    # 2048 // 45 = 45 rows a slice, each slice reaching 45 columns past its end
    "matrix-windowed-sliced": (EventConfig(block_window=45), 92, 100, 6),
}


@pytest.mark.parametrize("case", list(BLOCK_CASES))
def test_block_edges_match_reference_and_ignore_member_order(case):
    config, lo, hi, n = BLOCK_CASES[case]

    @given(block_members(lo, hi), st.randoms(use_true_random=False))
    @settings(max_examples=n, deadline=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    def check(members, rnd):
        got = block_edges(BLOCK_KEY, members, config)
        assert_edges_match(got, reference_block_edges(BLOCK_KEY, members, config), config)
        shuffled = list(members)
        rnd.shuffle(shuffled)
        assert sorted(block_edges(BLOCK_KEY, shuffled, config)) == sorted(got)

    check()


def test_block_edges_first_shared_key_and_window():
    v = pack_vector({"t:x": 1.0})
    # Small block: the pair sharing "a" and "b" is scored in the block of the smaller key id only.
    assert key_id("b") < key_id("a")
    ab = [BlockMember("p", T0, v, ("a", "b")), BlockMember("q", T0, v, ("b", "a"))]
    assert block_edges("b", ab, NO_BURST) == [("p", "q", 1.0)]
    assert block_edges("a", ab, NO_BURST) == []
    assert block_edges("b", [block_entry(m) for m in ab], NO_BURST) == [("p", "q", 1.0)]  # as a block holds them
    # a worker process may decode an entry as another class of the same schema (RowCoder)
    Decoded = namedtuple("Decoded", BlockEntry._fields)
    assert block_edges("b", [Decoded(*block_entry(m)) for m in ab], NO_BURST) == [("p", "q", 1.0)]
    assert block_edges("b", ab) == [("p", "q", 1.0 + DEFAULT_CONFIG.time_burst_boost)]  # same instant
    # Windowed block: each member meets the next block_window ones only.
    ms = [BlockMember(f"m{i:02d}", T0 + i, v, ("k",)) for i in range(30)]
    got = block_edges("k", ms, EventConfig(block_window=2))
    assert sorted((a, b) for a, b, _ in got) == sorted(
        [(f"m{i:02d}", f"m{j:02d}") for i in range(30) for j in (i + 1, i + 2) if j < 30])
    # Never across the horizon; undated members pair with everyone.
    far = [BlockMember("x", T0, v, ("k",)), BlockMember("y", T0 + 400 * DAY, v, ("k",)),
           BlockMember("z", None, v, ("k",))]
    assert sorted(block_edges("k", far, NO_BURST)) == [("x", "z", 1.0), ("y", "z", 1.0)]
    assert [m.article_id for m in block_order(reversed(far))] == ["x", "y", "z"]


def test_small_block_respects_block_window():
    """A block smaller than SMALL_BLOCK but larger than the window is windowed too."""
    v = pack_vector({"t:x": 1.0})
    config = EventConfig(block_window=3)
    members = [BlockMember(f"a{i}", None, v, ("k",)) for i in range(5)]
    got = block_edges("k", members, config)
    assert len(got) == 4 + 3 + 2  # pairs at distance 1, 2, 3 in a block of 5
    assert got and {(a, b) for a, b, _ in got} == set(reference_block_edges("k", members, config))


def test_zero_scores_are_never_edges():
    """With a tiny edge_min, pairs past the time horizon (score 0) and pairs
    at their background (score 0) are still not edges."""
    v = pack_vector({"t:x": 1.0})
    config = EventConfig(edge_min=1e-9, time_scale_days=1.0)
    at_background = [BlockMember("p", None, v, ("k",), 1.0), BlockMember("q", None, v, ("k",), 1.0)]
    assert block_edges("k", at_background, config) == []
    for n in (3, 13):
        members = [BlockMember(f"a{i:02d}", T0 + 400 * DAY * i, v, ("k",)) for i in range(n)]
        assert block_edges("k", members, config) == []


# -- expand_vector ----------------------------------------------------------


def test_burst_boost_is_the_lift_minus_one_capped():
    c = DEFAULT_CONFIG
    assert burst_boost(0, 0, 0, 0) == 0.0                    # no dated pairs
    assert burst_boost(10, 100, 0, 1000) == 0.0              # no close pairs at all
    assert burst_boost(10, 100, 100, 1000) == 0.0            # lift 1: times say nothing
    assert burst_boost(5, 100, 100, 1000) == 0.0             # lift below 1
    assert burst_boost(20, 100, 100, 1000) == 1.0            # lift 2
    assert burst_boost(90, 100, 10, 1000) == c.time_burst_boost  # capped
    assert burst_boost(90, 100, 10, 1000, c.replace(time_burst_boost=0.0)) == 0.0


def test_close_pairs_and_bins():
    assert close_pairs([]) == (0, 0)
    assert close_pairs([3, 1, 2]) == (3 + 0 + 1, 15)
    assert time_bin(None) is None and time_bin(MIDNIGHT) is None
    step = 60 * DEFAULT_CONFIG.time_burst_minutes
    assert T0 % step == 0                                       # T0 opens a bin
    assert time_bin(T0 + step - 1) == time_bin(T0) == time_bin(T0 + step) - 1 == time_bin(T0 - 1) + 1
    assert time_bin(-1.0) == -1                                  # floor, not truncation


#: (boost of the bursts, boost of the same articles spread over an hour) per
#: seed: near the cap of 3 against well under 1.
DATA_BOOSTS = {0: (3.0, 0.0), 1: (2.930141, 0.383397), 2: (3.0, 0.282609)}


@pytest.mark.parametrize("seed", range(3))
def test_data_burst_boost_follows_the_data(seed):
    """Stories in bursts: full boost. The same articles at random times within
    an hour (a dense feed): about none. No times: none."""
    raws, times = burst_headlines(seed)
    blocks = defaultdict(list)
    for i in sorted(raws):
        for k in sorted(raws[i])[:3]:
            blocks[k].append(i)
    bursts, dense_boost = DATA_BOOSTS[seed]
    assert data_burst_boost(times, blocks) == bursts
    rnd = random.Random(seed)
    dense = {i: T0 + rnd.uniform(0, 3600) for i in sorted(raws)}
    assert data_burst_boost(dense, blocks) == dense_boost
    assert data_burst_boost({i: None for i in raws}, blocks) == 0.0
