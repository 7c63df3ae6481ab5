"""Pure functions of transforms.minhash: datasketch equality, band math, verification."""
import math
import pickle
import random

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

datasketch = pytest.importorskip("datasketch")
from datasketch import MinHash  # noqa: E402
from datasketch.hashfunc import sha1_hash32  # noqa: E402

from wiredesk.transforms import minhash as mh  # noqa: E402
from wiredesk.transforms.minhash import DedupConfig  # noqa: E402

FOX = "The quick brown fox jumps over the lazy dog near the river bank today"

HAS_SCHEMES = "scheme" in MinHash.__init__.__code__.co_varnames
COMBOS = [(h, s) for h in ("wdhash32", "sha1") for s in ("affine32", "legacy")]


def datasketch_minhash(text, config):
    kwargs = dict(num_perm=config.num_perm, seed=config.seed, hashfunc=mh.hash_function(config))
    if HAS_SCHEMES:
        kwargs["scheme"] = config.scheme
    elif config.scheme != "legacy":
        pytest.skip("datasketch < 2.0 has only the legacy scheme")
    m = MinHash(**kwargs)
    for sh in mh.shingles(text, config.shingle_size):
        m.update(sh)                     # one update() per shingle, as datasketch's README
    return m.hashvalues


# -- pinned values ----------------------------------------------------------

def test_pinned_datasketch_legacy_hello():
    # datasketch's own test_byte_tokens: MinHash(4, 1).update(b"Hello") (legacy scheme).
    cfg = DedupConfig(num_perm=4, bands=1, rows=4, scheme="legacy", hashfunc="sha1")
    sig = mh.signature_from_hashes(np.array([sha1_hash32(b"Hello")], dtype=np.uint32), cfg)
    assert sig.tolist() == [734825475, 960773806, 359816889, 342714745]


def test_pinned_datasketch_affine32_hello():
    cfg = DedupConfig(num_perm=4, bands=1, rows=4, scheme="affine32", hashfunc="sha1")
    sig = mh.signature_from_hashes(np.array([sha1_hash32(b"Hello")], dtype=np.uint32), cfg)
    assert sig.tolist() == [3231258861, 1388533999, 831950533, 1845606703]


def test_pinned_signature_sha1_default_scheme():
    # Recorded from datasketch 2.0.0: MinHash(num_perm=128, seed=1) updated with shingles(FOX).
    cfg = DedupConfig(hashfunc="sha1")
    assert mh.signature(FOX, cfg)[:6].tolist() == [
        525945524, 308070412, 607579761, 515962279, 815407907, 208335525]


def test_pinned_signature_default_config():
    # Recorded from datasketch 2.0.0: MinHash(num_perm=128, seed=1, hashfunc=wdhash32).
    assert mh.signature(FOX)[:6].tolist() == [
        654194111, 464170161, 885825725, 318564982, 2209854, 941974371]
    assert [mh.wdhash32(s) for s in mh.shingles(FOX)[:3]] == [1091245438, 3290486843, 524784580]


# -- equality with datasketch -----------------------------------------------

@pytest.mark.parametrize("hashfunc,scheme", COMBOS)
def test_signature_equals_datasketch_on_articles(hashfunc, scheme):
    cfg = DedupConfig(hashfunc=hashfunc, scheme=scheme)
    rng = random.Random(3)
    words = FOX.split() + ["Sydney", "minister", "fire", "2001", "café", "naïve", "“quoted”"]
    for n in (5, 6, 40, 900, 2500):          # 2500 tokens cross the matrix chunk size
        text = " ".join(rng.choice(words) for _ in range(n))
        assert np.array_equal(mh.signature(text, cfg), datasketch_minhash(text, cfg))


text_strategy = st.text(
    alphabet=st.one_of(st.sampled_from(list("abc XYZ 019 .,'\"-_\n\t")),
                       st.characters(codec="utf-8")),
    max_size=300)


@settings(max_examples=60, deadline=None)
@given(text=text_strategy, combo=st.sampled_from(COMBOS), seed=st.integers(0, 2**31))
def test_signature_equals_datasketch_random_texts(text, combo, seed):
    cfg = DedupConfig(hashfunc=combo[0], scheme=combo[1], seed=seed, shingle_size=2)
    assert np.array_equal(mh.signature(text, cfg), datasketch_minhash(text, cfg))


@settings(max_examples=100, deadline=None)
@given(text=text_strategy, k=st.integers(1, 6))
def test_vectorized_hashes_equal_scalar_hash_of_reference_shingles(text, k):
    for hashfunc in ("wdhash32", "sha1"):
        cfg = DedupConfig(hashfunc=hashfunc, shingle_size=k)
        scalar = [mh.hash_function(cfg)(s) for s in mh.shingles(text, k)]
        assert mh.shingle_hashes(text, cfg).tolist() == scalar


def test_tokenize_normalizes_case_and_punctuation():
    assert mh.tokenize("“Don’t” — SAID the_man, 3.5%") == ["don", "t", "said", "the", "man", "3", "5"]
    assert mh.shingles("a b c", 2) == [b"a b", b"b c"]
    assert mh.shingles("a b", 5) == []


def test_permutations_match_datasketch():
    for scheme in ("affine32", "legacy"):
        a, b = mh.permutations(128, 7, scheme)
        kwargs = {"scheme": scheme} if HAS_SCHEMES else {}
        if not HAS_SCHEMES and scheme != "legacy":
            continue
        ref = MinHash(num_perm=128, seed=7, **kwargs).permutations
        assert np.array_equal(a, ref[0]) and np.array_equal(b, ref[1])


# -- band math --------------------------------------------------------------

def test_default_banding_meets_the_s_curve_targets():
    cfg = mh.DEFAULT_CONFIG
    assert cfg.bands * cfg.rows <= cfg.num_perm
    assert mh.candidate_probability(0.8, cfg.bands, cfg.rows) >= 0.99
    assert mh.candidate_probability(0.5, cfg.bands, cfg.rows) >= 0.99     # trimmed to half
    assert (cfg.bands, cfg.rows) == mh.choose_bands(128, 0.8, 0.5, 0.99) == (42, 3)
    # The next larger r fails the trimmed target: r=3 is the cheapest that works.
    assert mh.candidate_probability(0.5, 128 // 4, 4) < 0.99


def test_datasketch_optimizer_choice_misses_pairs_at_0_8():
    from datasketch.lsh import _optimal_param
    b, r = _optimal_param(0.8, 128, 0.5, 0.5)
    assert (b, r) == (9, 13)
    assert mh.candidate_probability(0.8, b, r) == pytest.approx(0.40, abs=0.01)


def test_candidate_probability_matches_simulation():
    rng = np.random.default_rng(0)
    b, r, s = 42, 3, 0.4
    hits = (rng.random((20000, b, r)) < s).all(axis=2).any(axis=1).mean()
    assert hits == pytest.approx(mh.candidate_probability(s, b, r), abs=0.01)


def test_band_keys_stable_and_distinct_per_band():
    sig = mh.signature(FOX)
    keys = mh.band_keys(sig)
    assert len(keys) == 42 and len(set(keys)) == 42
    assert keys[0] == b"\x00\x00" + sig[:3].astype("<u4").tobytes()
    assert keys == mh.band_keys(sig.copy())
    wide = DedupConfig(bands=8, rows=16)
    wkeys = mh.band_keys(sig, wide)
    assert len(wkeys) == 8 and all(len(k) == 18 for k in wkeys)


# -- verification -----------------------------------------------------------

def _sets(n_a, n_b, shared, seed=0):
    rng = np.random.default_rng(seed)
    vals = rng.choice(2**32, size=n_a + n_b - shared, replace=False).astype(np.uint32)
    return vals[:n_a], vals[n_a - shared:]


def test_estimate_similarity_exact_for_small_sets():
    a, b = _sets(300, 200, 150)
    jac, cont = mh.estimate_similarity(mh.bottom_k(a, 1024), 300, mh.bottom_k(b, 1024), 200, 1024)
    assert jac == pytest.approx(150 / 350)
    assert cont == pytest.approx(150 / 200)


def test_estimate_similarity_bottom_k_for_large_sets():
    a, b = _sets(20000, 10000, 9500, seed=1)
    jac, cont = mh.estimate_similarity(mh.bottom_k(a, 1024), 20000, mh.bottom_k(b, 1024), 10000, 1024)
    assert jac == pytest.approx(9500 / 20500, abs=0.05)
    assert cont == pytest.approx(0.95, abs=0.03)


def test_classify_thresholds():
    cfg = mh.DEFAULT_CONFIG
    assert mh.classify(0.8, 0.0, 10, cfg) == mh.NEAR
    assert mh.classify(0.79, 0.95, 50, cfg) == mh.CONTAINED
    assert mh.classify(0.79, 0.95, 49, cfg) is None
    assert mh.classify(0.79, 0.89, 500, cfg) is None
    loose = DedupConfig(jaccard_threshold=0.7, containment_threshold=0.8)
    assert mh.classify(0.7, 0.0, 1, loose) == mh.NEAR
    assert mh.classify(0.5, 0.8, 60, loose) == mh.CONTAINED


def test_minhash_verification_mode():
    cfg = DedupConfig(sketch_size=0)
    text = " ".join("w%d" % i for i in range(300))
    fa = mh.article_features(_article("a", text), cfg)[3]
    fb = mh.article_features(_article("b", text + " extra words here"), cfg)[3]
    kind, jac, cont = mh.verify(fa, fb, cfg)
    assert kind == mh.NEAR and jac > 0.9 and cont > 0.9


# -- articles ---------------------------------------------------------------

def _article(article_id, body, published_at="2020-01-01T00:00:00Z", source="s", headline=None):
    from tests.test_near_duplicates import make_article
    return make_article(article_id, body, published_at=published_at, source=source,
                        headline=headline)


def test_rank_key_order():
    cfg = DedupConfig(source_priority=("AP", "Reuters"))
    early = _article("z", "x", "2020-01-01T00:00:00Z")
    late_frac = _article("a", "x", "2020-01-01T00:00:00.5Z")
    none = _article("a", "x" * 99, None)
    longer = _article("y", "xx", "2020-01-01T00:00:00Z")
    ap = _article("x", "xx", "2020-01-01T00:00:00Z", source="AP")
    ranks = sorted([early, late_frac, none, longer, ap], key=lambda a: mh.rank_key(a, cfg))
    assert [a.article_id for a in ranks] == ["x", "y", "z", "a", "a"]
    assert ranks[-1].published_at is None


def test_exact_key_short_articles_never_share_one_bucket():
    cfg = mh.DEFAULT_CONFIG
    keys = {mh.exact_key(_article(str(i), "", headline="Headline number %d" % i), cfg)
            for i in range(50)}
    assert len(keys) == 50
    same = [mh.exact_key(_article(str(i), "", headline="Fire in HILL TOP!"), cfg) for i in range(2)]
    assert same[0] == same[1] == mh.exact_key(_article("9", "", headline="fire in hill top"), cfg)
    empty = {mh.exact_key(_article(str(i), "", headline=None), cfg) for i in range(5)}
    assert len(empty) == 5


def test_config_validation_and_pickling():
    with pytest.raises(ValueError):
        DedupConfig(bands=50, rows=3)
    with pytest.raises(ValueError):
        DedupConfig(hashfunc="md5")
    cfg = DedupConfig(source_priority=["AP"])
    assert cfg.source_priority == ("AP",)
    assert pickle.loads(pickle.dumps(cfg)) == cfg
    assert hash(cfg) == hash(pickle.loads(pickle.dumps(cfg)))
