"""Pure functions of transforms.dedup: datasketch equality, tokenizer twin, band math,
verification, canonical order, bounded caches, typed records."""
import pickle
import random

import apache_beam as beam
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

datasketch = pytest.importorskip("datasketch")
from datasketch import MinHash  # noqa: E402
from datasketch.hashfunc import sha1_hash32  # noqa: E402
from dedup_helpers import make_article  # noqa: E402

from wiredesk.transforms.cleaning.tokens import words  # noqa: E402
from wiredesk.transforms.dedup import DEFAULT_CONFIG, DedupConfig, lsh, records, shingles, signatures  # noqa: E402  # noqa: E402
from wiredesk.transforms.dedup.canonical import exact_key, rank_key  # noqa: E402
from wiredesk.transforms.dedup.features import article_features  # noqa: E402
from wiredesk.transforms.dedup.records import CONTAINED, NEAR, Rank  # noqa: E402
from wiredesk.transforms.dedup.verify import bottom_k, classify, estimate_similarity, verify  # noqa: E402

FOX = "The quick brown fox jumps over the lazy dog near the river bank today"

HAS_SCHEMES = "scheme" in MinHash.__init__.__code__.co_varnames
COMBOS = [(h, s) for h in ("wdhash32", "sha1") for s in ("affine32", "legacy")]


def datasketch_minhash(text, config):
    kwargs = dict(num_perm=config.num_perm, seed=config.seed, hashfunc=shingles.hash_function(config))
    if HAS_SCHEMES:
        kwargs["scheme"] = config.scheme
    elif config.scheme != "legacy":
        pytest.skip("datasketch < 2.0 has only the legacy scheme")
    m = MinHash(**kwargs)
    for sh in shingles.shingles(text, config.shingle_size):
        m.update(sh)                     # one update() per shingle, as datasketch's README
    return m.hashvalues


# -- pinned values ----------------------------------------------------------

def test_pinned_datasketch_legacy_hello():
    # datasketch's own test_byte_tokens: MinHash(4, 1).update(b"Hello") (legacy scheme).
    cfg = DedupConfig(num_perm=4, bands=1, rows=4, scheme="legacy", hashfunc="sha1")
    sig = signatures.signature_from_hashes(np.array([sha1_hash32(b"Hello")], dtype=np.uint32), cfg)
    assert sig.tolist() == [734825475, 960773806, 359816889, 342714745]


def test_pinned_datasketch_affine32_hello():
    cfg = DedupConfig(num_perm=4, bands=1, rows=4, scheme="affine32", hashfunc="sha1")
    sig = signatures.signature_from_hashes(np.array([sha1_hash32(b"Hello")], dtype=np.uint32), cfg)
    assert sig.tolist() == [3231258861, 1388533999, 831950533, 1845606703]


def test_pinned_signature_sha1_default_scheme():
    # Recorded from datasketch 2.0.0: MinHash(num_perm=128, seed=1) updated with shingles(FOX).
    cfg = DedupConfig(hashfunc="sha1")
    assert signatures.signature(FOX, cfg)[:6].tolist() == [
        525945524, 308070412, 607579761, 515962279, 815407907, 208335525]


def test_pinned_signature_default_config():
    # Recorded from datasketch 2.0.0: MinHash(num_perm=128, seed=1, hashfunc=wdhash32).
    assert signatures.signature(FOX)[:6].tolist() == [
        654194111, 464170161, 885825725, 318564982, 2209854, 941974371]
    assert [shingles.wdhash32(s) for s in shingles.shingles(FOX)[:3]] == [1091245438, 3290486843, 524784580]


# -- equality with datasketch -----------------------------------------------

@pytest.mark.parametrize("hashfunc,scheme", COMBOS)
def test_signature_equals_datasketch_on_articles(hashfunc, scheme):
    cfg = DedupConfig(hashfunc=hashfunc, scheme=scheme)
    rng = random.Random(3)
    vocab = FOX.split() + ["Sydney", "minister", "fire", "2001", "café", "naïve", "“quoted”"]
    for n in (5, 6, 40, 900, 2500):          # 2500 tokens cross the matrix chunk size
        text = " ".join(rng.choice(vocab) for _ in range(n))
        assert np.array_equal(signatures.signature(text, cfg), datasketch_minhash(text, cfg))


text_strategy = st.text(
    alphabet=st.one_of(st.sampled_from(list("abc XYZ 019 .,'\"-_\n\t")),
                       st.characters(codec="utf-8")),
    max_size=300)


@settings(max_examples=60, deadline=None)
@given(text=text_strategy, combo=st.sampled_from(COMBOS), seed=st.integers(0, 2**31))
def test_signature_equals_datasketch_random_texts(text, combo, seed):
    cfg = DedupConfig(hashfunc=combo[0], scheme=combo[1], seed=seed, shingle_size=2)
    assert np.array_equal(signatures.signature(text, cfg), datasketch_minhash(text, cfg))


@settings(max_examples=100, deadline=None)
@given(text=text_strategy, k=st.integers(1, 6))
def test_vectorized_hashes_equal_scalar_hash_of_reference_shingles(text, k):
    for hashfunc in ("wdhash32", "sha1"):
        cfg = DedupConfig(hashfunc=hashfunc, shingle_size=k)
        scalar = [shingles.hash_function(cfg)(s) for s in shingles.shingles(text, k)]
        assert shingles.shingle_hashes(text, cfg).tolist() == scalar


@settings(max_examples=200, deadline=None)
@given(text=text_strategy)
def test_byte_level_twin_finds_the_same_words(text):
    assert shingles.twin_words(text) == words(text)


def test_shingles_are_built_from_cleaning_words():
    assert words("“Don’t” — SAID the_man, 3.5%") == ["don", "t", "said", "the", "man", "3", "5"]
    assert shingles.twin_words("“Don’t” — SAID the_man, 3.5%") == ["don", "t", "said", "the", "man", "3", "5"]
    assert shingles.shingles("a b c", 2) == [b"a b", b"b c"]
    assert shingles.shingles("Zürich, ZÜRICH!", 2) == ["zürich zürich".encode()]
    assert shingles.shingles("a b", 5) == []


def test_permutations_match_datasketch():
    for scheme in ("affine32", "legacy"):
        a, b = signatures.permutations(128, 7, scheme)
        kwargs = {"scheme": scheme} if HAS_SCHEMES else {}
        if not HAS_SCHEMES and scheme != "legacy":
            continue
        ref = MinHash(num_perm=128, seed=7, **kwargs).permutations
        assert np.array_equal(a, ref[0]) and np.array_equal(b, ref[1])


# -- bounded caches -----------------------------------------------------------

def test_caches_are_bounded():
    for seed in range(40):                      # more configurations than the cache holds
        signatures.permutations(8, seed, "affine32")
    info = signatures.permutations.cache_info()
    assert info.maxsize == 16 and info.currsize <= 16
    a, _b = signatures.permutations(8, 3, "affine32")
    with pytest.raises(ValueError):
        a[0] = 1                                # shared: read-only


def test_huge_body_hashes_like_its_parts_without_growing_the_power_cache():
    powers = shingles._POWERS
    huge = FOX + " " + "x " * (powers.MAX_CACHED // 2 + 10)
    assert len(huge) > powers.MAX_CACHED
    hv = shingles.shingle_hashes(huge)
    assert hv[:10].tolist() == shingles.shingle_hashes(FOX).tolist()
    assert len(hv) == len(words(huge)) - 4
    assert len(powers.pow) <= powers.MAX_CACHED


# -- band math --------------------------------------------------------------

def test_default_banding_meets_the_s_curve_targets():
    cfg = DEFAULT_CONFIG
    assert lsh.candidate_probability(0.8, cfg.bands, cfg.rows) >= 0.99
    assert lsh.candidate_probability(0.5, cfg.bands, cfg.rows) == pytest.approx(0.9963, abs=5e-5)
    assert (cfg.bands, cfg.rows) == lsh.choose_bands(128, 0.8, 0.5, 0.99) == (42, 3)
    # The next larger r fails the trimmed target: r=3 is the cheapest that works.
    assert lsh.candidate_probability(0.5, 128 // 4, 4) < 0.99


def test_datasketch_optimizer_choice_misses_pairs_at_0_8():
    from datasketch.lsh import _optimal_param
    b, r = _optimal_param(0.8, 128, 0.5, 0.5)
    assert (b, r) == (9, 13)
    assert lsh.candidate_probability(0.8, b, r) == pytest.approx(0.40, abs=0.01)


def test_candidate_probability_matches_simulation():
    rng = np.random.default_rng(0)
    b, r, s = 42, 3, 0.4
    hits = (rng.random((20000, b, r)) < s).all(axis=2).any(axis=1).mean()
    assert hits == pytest.approx(lsh.candidate_probability(s, b, r), abs=0.01)


def test_band_keys_stable_and_distinct_per_band():
    sig = signatures.signature(FOX)
    keys = lsh.band_keys(sig)
    assert len(keys) == 42 and len(set(keys)) == 42
    assert keys[0] == b"\x00\x00" + sig[:3].astype("<u4").tobytes()
    assert keys[41][:2] == b"\x00\x29"
    assert keys == lsh.band_keys(sig.copy())
    wide = DedupConfig(bands=8, rows=16)
    wkeys = lsh.band_keys(sig, wide)
    assert len(wkeys) == 8 and all(len(k) == 18 for k in wkeys)


def _members(n):
    return [records.BucketMember(Rank(0, i, "", 0, 0, "m%d" % i), "m%d" % i) for i in range(n)]


def test_bucket_pairs_all_pairs_in_rank_order():
    members = _members(4)
    oversized, pairs = lsh.bucket_pairs(members[::-1], DEFAULT_CONFIG)
    assert not oversized
    assert [tuple(p) for p in pairs] == [("m0", "m1"), ("m0", "m2"), ("m0", "m3"),
                                         ("m1", "m2"), ("m1", "m3"), ("m2", "m3")]
    assert list(lsh.bucket_pairs(members[:1], DEFAULT_CONFIG)[1]) == []


def test_bucket_pairs_oversized_pairs_with_anchors_only():
    cfg = DedupConfig(max_bucket_size=4, oversized_anchors=2)
    members = _members(6)
    assert not lsh.bucket_pairs(members[:4], cfg)[0]
    oversized, pairs = lsh.bucket_pairs(members[::-1], cfg)
    assert oversized
    assert sorted(tuple(p) for p in pairs) == [
        ("m0", "m1"), ("m0", "m2"), ("m0", "m3"), ("m0", "m4"), ("m0", "m5"),
        ("m1", "m2"), ("m1", "m3"), ("m1", "m4"), ("m1", "m5")]


# -- verification -----------------------------------------------------------

def _sets(n_a, n_b, shared, seed=0):
    rng = np.random.default_rng(seed)
    vals = rng.choice(2**32, size=n_a + n_b - shared, replace=False).astype(np.uint32)
    return vals[:n_a], vals[n_a - shared:]


def test_estimate_similarity_exact_for_small_sets():
    a, b = _sets(300, 200, 150)
    jac, cont = estimate_similarity(bottom_k(a, 1024), 300, bottom_k(b, 1024), 200, 1024)
    assert jac == pytest.approx(150 / 350)
    assert cont == pytest.approx(150 / 200)


def test_estimate_similarity_bottom_k_for_large_sets():
    a, b = _sets(20000, 10000, 9500, seed=1)
    jac, cont = estimate_similarity(bottom_k(a, 1024), 20000, bottom_k(b, 1024), 10000, 1024)
    assert jac == pytest.approx(9500 / 20500, abs=0.05)
    assert cont == pytest.approx(0.95, abs=0.03)


def test_classify_thresholds():
    cfg = DEFAULT_CONFIG
    assert classify(0.8, 0.0, 10, cfg) == NEAR
    assert classify(0.79, 0.95, 50, cfg) == CONTAINED
    assert classify(0.79, 0.95, 49, cfg) is None
    assert classify(0.79, 0.89, 500, cfg) is None
    loose = DedupConfig(jaccard_threshold=0.7, containment_threshold=0.8)
    assert classify(0.7, 0.0, 1, loose) == NEAR
    assert classify(0.5, 0.8, 60, loose) == CONTAINED


def test_minhash_verification_mode():
    cfg = DedupConfig(sketch_size=0)
    text = " ".join("w%d" % i for i in range(300))
    _key, a = article_features(make_article("a", text), cfg)
    _key, b = article_features(make_article("b", text + " extra words here"), cfg)
    assert a.features.sketch == b"" and a.features.shingles == 296 and b.features.shingles == 299
    kind, jac, cont = verify(a.features, b.features, cfg)
    # 296 of 299 shingles shared (Jaccard 0.990): each of the 128 values differs with
    # probability 3/299, and here none does, so the estimate is 1 (containment capped at 1).
    assert (kind, jac, cont) == (NEAR, 1.0, 1.0)
    other = article_features(make_article("c", " ".join("v%d" % i for i in range(300))), cfg)[1]
    assert verify(a.features, other.features, cfg) == (None, 0.0, 0.0)


# -- articles ---------------------------------------------------------------

def test_rank_key_order():
    cfg = DedupConfig(source_priority=("AP", "Reuters"))
    early = make_article("z", "x", "2020-01-01T00:00:00Z")
    late_frac = make_article("a", "x", "2020-01-01T00:00:00.5Z")
    none = make_article("a", "x" * 99, None)
    longer = make_article("y", "xx", "2020-01-01T00:00:00Z")
    ap = make_article("x", "xx", "2020-01-01T00:00:00Z", source="AP")
    ranks = sorted([early, late_frac, none, longer, ap], key=lambda a: rank_key(a, cfg))
    assert [a.article_id for a in ranks] == ["x", "y", "z", "a", "a"]
    assert ranks[-1].published_at is None
    assert rank_key(ap, cfg) == Rank(0, 1577836800_000000, "", -2, 0, "x")
    assert rank_key(late_frac, cfg).epoch_us == 1577836800_500000


def test_rank_key_reads_times_with_the_cleaning_parser():
    # Offsets are read as the same instant; an unparseable time sorts after
    # every dated article and before undated ones.
    utc = make_article("a", "x", "2020-01-01T00:00:00Z")
    offset = make_article("a", "x", "2020-01-01T01:00:00+01:00")
    rfc2822 = make_article("a", "x", "Wed, 01 Jan 2020 00:00:00 GMT")
    bad = make_article("b", "x", "yesterday")
    none = make_article("c", "x", None)
    assert rank_key(utc) == rank_key(offset) == rank_key(rfc2822)
    assert rank_key(bad) == Rank(1, 0, "yesterday", -1, 0, "b")
    assert rank_key(utc) < rank_key(bad) < rank_key(none)


def test_exact_key_short_articles_never_share_one_bucket():
    cfg = DEFAULT_CONFIG
    keys = {exact_key(make_article(str(i), "", headline="Headline number %d" % i), cfg)
            for i in range(50)}
    assert len(keys) == 50
    same = [exact_key(make_article(str(i), "", headline="Fire in HILL TOP!"), cfg) for i in range(2)]
    assert same[0] == same[1] == exact_key(make_article("9", "", headline="fire in hill top"), cfg)
    empty = {exact_key(make_article(str(i), "", headline=None), cfg) for i in range(5)}
    assert empty == {"i:%d" % i for i in range(5)}


def test_article_features_long_and_short():
    body = " ".join("w%d" % i for i in range(20))
    key, member = article_features(make_article("a", body))
    assert key == exact_key(make_article("a", body)) and key.startswith("b:")
    assert member.features.shingles == 16 and len(member.features.signature) == 4 * 128
    assert np.array_equal(signatures.unpack_u32(member.features.signature), signatures.signature(body))
    assert len(member.features.sketch) == 4 * 16
    key, member = article_features(make_article("h", "too short", headline="A headline"))
    assert key.startswith("s:") and member.features is None and member.article_id == "h"


def test_config_validation_and_pickling():
    with pytest.raises(ValueError):
        DedupConfig(bands=50, rows=3)
    with pytest.raises(ValueError):
        DedupConfig(hashfunc="md5")
    cfg = DedupConfig(source_priority=["AP"])
    assert cfg.source_priority == ("AP",)
    assert pickle.loads(pickle.dumps(cfg)) == cfg
    assert hash(cfg) == hash(pickle.loads(pickle.dumps(cfg)))


# -- typed records ------------------------------------------------------------

def test_records_round_trip_through_row_coders():
    body = " ".join("w%d" % i for i in range(60))
    _key, member = article_features(make_article("a", body))
    short = article_features(make_article("s", "short"))[1]
    rank = member.rank
    values = [rank, member, short, member.features, records.BucketMember(rank, "a"),
              records.CandidatePair("a", "b"),
              records.Edge("a", rank, "b", rank._replace(article_id="b"), NEAR, 0.875, 0.9),
              records.Assignment("a", CONTAINED, 0.5, 0.95)]
    for value in values:
        coder = beam.coders.registry.get_coder(type(value))
        assert isinstance(coder, beam.coders.RowCoder), type(value)
        assert coder.decode(coder.encode(value)) == value
    assert beam.coders.registry.get_coder(records.CandidatePair).is_deterministic()
