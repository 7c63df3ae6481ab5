"""Events: feature ids, terms, packed vectors and neighbour expansion, against references."""
import math
from collections import defaultdict

import numpy as np
import pytest
from events_helpers import (
    EXPAND_FEATURES,
    FAST,
    f32,
    unpacked_dict,
)
from hypothesis import given
from hypothesis import strategies as st

from wiredesk.transforms.events.config import EventConfig
from wiredesk.transforms.events.text import stem, terms
from wiredesk.transforms.events.vectors import expand_vector, feature_id, pack_vector, unpack_vector

# -- feature_id -------------------------------------------------------------

@pytest.mark.parametrize("feature, expected", [
    ("t:earthquak", 3592922010),
    ("e:chile", 2854874208),
    ("h:sapporo", 2988400787),
])
def test_feature_id_pinned(feature, expected):
    # Ids are persisted between Beam steps and runs: a change of hash, key or
    # bit layout must be deliberate.
    assert feature_id(feature) == expected


@given(st.text(max_size=30))
@FAST
def test_feature_id_range_and_stability(feature):
    fid = feature_id(feature)
    assert isinstance(fid, int)
    assert 0 <= fid < 2 ** 32
    assert feature_id.__wrapped__(feature) == fid  # the lru_cache does not change the value


def test_feature_id_distinguishes_blocks():
    assert len({feature_id(p + ":chile") for p in "thepogn"}) == 7


# -- terms -----------------------------------------------------------------

def test_terms_are_stemmed_words_of_the_shared_tokenizer():
    # cleaning.tokens.words splits at apostrophes and points ("japan", "s";
    # "7", "1"), one-character words go, words starting with a digit stay whole
    assert terms("Rescuers searched São Paulo's collapsed buildings after the 7.1 quake; 1,500 G20 leaders' "
                 "20th summit") == ["rescuer", "search", "sao", "paulo", "collaps", "build", "quak", "500", "g20",
                                    "leader", "20th", "summit"]
    assert terms("The and of") == []
    # PyStemmer's Porter algorithm, not Porter2 ("generously" -> "gener", not "generous")
    assert [stem(w) for w in ("generously", "presidential", "agreed", "running", "g20", "ab")] == [
        "gener", "presidenti", "agre", "run", "g20", "ab"]


# -- pack_vector / unpack_vector --------------------------------------------

VECTORS = st.dictionaries(
    st.text(min_size=1, max_size=6),
    st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False),
    max_size=40,
)


@given(VECTORS)
@FAST
def test_pack_unpack_round_trip(vec):
    packed = pack_vector(vec)
    assert len(packed) == 8 * len(vec)
    ids, weights = unpack_vector(packed)
    assert ids.dtype == np.uint32 and weights.dtype == np.float32
    assert len(ids) == len(weights) == len(vec)
    assert np.all(np.diff(ids) > 0), "ids sorted ascending and distinct"
    expected = {feature_id(f): f32(w) for f, w in vec.items()}
    assert unpacked_dict(packed) == expected
    for f, w in vec.items():  # float32 precision of the input
        assert math.isclose(expected[feature_id(f)], w, rel_tol=2 ** -23, abs_tol=1e-38)


@given(VECTORS, st.randoms(use_true_random=False))
@FAST
def test_pack_is_independent_of_dict_order(vec, rnd):
    items = list(vec.items())
    rnd.shuffle(items)
    assert pack_vector(dict(items)) == pack_vector(vec)


def test_pack_empty():
    assert pack_vector({}) == b""
    ids, weights = unpack_vector(b"")
    assert ids.dtype == np.uint32 and weights.dtype == np.float32
    assert len(ids) == len(weights) == 0


# -- time_factor / time_factors ---------------------------------------------


EXPAND_CONFIG = EventConfig(expand_k=3, expand_top=8, expand_alpha=0.7, expand_min_sim=0.2,
                            expand_min_total=0.5)
SPARSE = st.dictionaries(st.sampled_from(EXPAND_FEATURES), st.floats(0.01, 2.0), min_size=1, max_size=8)


@st.composite
def neighbourhoods(draw):
    n = draw(st.integers(0, 6))
    ids = draw(st.lists(st.text("abcdef", min_size=1, max_size=3), min_size=n, max_size=n, unique=True))
    sims = st.sampled_from([0.1, 0.2, 0.5, 0.5, 0.9]) | st.floats(0.0, 1.0)
    return [(draw(sims), j, pack_vector(draw(SPARSE))) for j in ids]


def length(d: dict) -> float:
    return math.sqrt(sum(w * w for w in d.values()))


def reference_expand(own, neighbours, config):
    """expand_vector as its docstring states it, with dicts:
    v' = |v| unit(unit(v) + alpha sum_j p_j unit(v_j) / max(sum_j p_j, expand_min_total)),
    p_j = s_j - expand_min_sim over the expand_k best neighbours (ties by id),
    the expand_top heaviest features kept (ties by smaller id)."""
    best = sorted((n for n in neighbours if n[0] >= config.expand_min_sim),
                  key=lambda n: (-n[0], n[1]))[: config.expand_k]
    mine = unpacked_dict(own)
    if not best:
        return mine
    pulls = [s - config.expand_min_sim for s, _, _ in best]
    total = max(sum(pulls), config.expand_min_total)
    acc = defaultdict(float)
    for f, w in mine.items():
        acc[f] += w * (1.0 / length(mine))
    for p, (_, _, v) in zip(pulls, best):
        theirs = unpacked_dict(v)
        for f, w in theirs.items():
            acc[f] += w * (config.expand_alpha * p / total / length(theirs))
    kept = sorted(acc.items(), key=lambda kv: (-kv[1], kv[0]))[: config.expand_top]
    scale = length(mine) / length(dict(kept))
    return {f: w * scale for f, w in kept}


@given(SPARSE, neighbourhoods(), st.randoms(use_true_random=False))
@FAST
def test_expand_vector_matches_reference(own_vec, neighbours, rnd):
    own = pack_vector(own_vec)
    out = expand_vector(own, neighbours, EXPAND_CONFIG)
    want = reference_expand(own, neighbours, EXPAND_CONFIG)
    ids, _ = unpack_vector(out)
    got = unpacked_dict(out)
    assert np.all(np.diff(ids) > 0)
    assert got.keys() == want.keys()
    for f in want:
        assert abs(got[f] - want[f]) <= 1e-6 * max(1.0, abs(want[f]))
    # the result keeps the length of the article's own vector
    assert math.isclose(length(got), length(unpacked_dict(own)), rel_tol=1e-5)
    if any(s >= EXPAND_CONFIG.expand_min_sim for s, _, _ in neighbours):
        assert len(got) <= EXPAND_CONFIG.expand_top
    else:
        assert out == own
    shuffled = list(neighbours)
    rnd.shuffle(shuffled)
    assert expand_vector(own, shuffled, EXPAND_CONFIG) == out


def test_expand_vector_without_usable_neighbours_is_identity():
    own = pack_vector({"t:a": 3.0, "t:b": 4.0})  # deliberately not unit length
    other = pack_vector({"t:c": 1.0})
    assert expand_vector(own, []) == own
    floor = EventConfig(expand_min_sim=0.1)
    assert expand_vector(own, [(0.09, "x", other), (0.0, "y", other)], floor) == own


@pytest.mark.parametrize("sim", [0.1, 0.35, 0.8, 1.0])
def test_expand_vector_identical_neighbour_keeps_vector(sim):
    vec = {"t:a": 0.6, "t:b": 0.48, "e:c": 0.64}  # unit length: stays unit
    own = pack_vector(vec)
    out = unpacked_dict(expand_vector(own, [(sim, "n", own)]))
    assert out.keys() == {feature_id(f) for f in vec}
    for f, w in vec.items():
        assert abs(out[feature_id(f)] - w) <= 1e-6
    # a scaled copy of itself is the same direction too; the length stays the own one
    out2 = unpacked_dict(expand_vector(own, [(sim, "n", pack_vector({f: 5 * w for f, w in vec.items()}))]))
    assert all(abs(out2[k] - out[k]) <= 1e-6 for k in out)


def test_expand_vector_moves_toward_neighbour_and_caps_features():
    own = pack_vector({f"t:o{i}": 1.0 for i in range(5)})
    nb = pack_vector({f"t:n{i}": 1.0 for i in range(5)})
    cfg = EventConfig(expand_top=7, expand_min_sim=0.1, expand_min_total=0.5)  # alpha 1
    out = unpacked_dict(expand_vector(own, [(0.5, "n", nb)], cfg))
    # own features weigh 1/sqrt(5), the neighbour's (0.5 - 0.1) / 0.5 = 0.8 of that:
    # all own features stay, then the neighbour's by smaller id
    own_ids = {feature_id(f"t:o{i}") for i in range(5)}
    nb_ids = sorted(feature_id(f"t:n{i}") for i in range(5))
    assert set(out) == own_ids | set(nb_ids[:2])
    assert math.isclose(length(out), math.sqrt(5), rel_tol=1e-6)
    ratio = out[nb_ids[0]] / out[min(own_ids)]
    assert math.isclose(ratio, 0.8, rel_tol=1e-6)
    # a weak neighbour pulls less: (0.2 - 0.1) / max(0.1, 0.5) = 0.2
    weak = unpacked_dict(expand_vector(own, [(0.2, "n", nb)], cfg))
    assert math.isclose(weak[nb_ids[0]] / weak[min(own_ids)], 0.2, rel_tol=1e-6)


# -- cluster_edges ----------------------------------------------------------


def test_colliding_feature_ids_are_one_feature():
    # 32-bit ids: find two features with one id (a birthday search, deterministic)
    seen = {}
    for i in range(300_000):
        f = f"t:w{i}"
        fid = feature_id.__wrapped__(f)
        if fid in seen:
            a, b = seen[fid], f
            break
        seen[fid] = f
    else:
        pytest.fail("no collision found")
    packed = pack_vector({a: 0.25, b: 0.5, "t:other": 1.0})
    ids, weights = unpack_vector(packed)
    assert len(ids) == 2 and np.all(np.diff(ids.astype(np.int64)) > 0)
    assert dict(zip(ids.tolist(), weights.tolist()))[feature_id(a)] == 0.75
