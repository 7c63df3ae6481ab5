r"""MinHash near-duplicate detection: configuration and small pure functions.

Everything the Beam stages in ``transforms.near_duplicates`` compute lives
here, as plain functions of a frozen :class:`DedupConfig` that every stage
shares (so the signature stage, the banding stage and the verification stage
can never disagree about seeds, shingle size or thresholds).

Shingles
--------
A body is tokenized as follows (normalized text is already NFKC, quote and
dash folded by ``transforms.normalize``):

* lower-cased with ``str.lower()`` (re-headlined wire copies often change
  case, e.g. an all-caps dateline or lead);
* a token is a maximal run of letters and digits (``[^\W_]+`` in Python's
  Unicode ``re``); everything else (punctuation of any script, whitespace,
  symbols, ``_``) only separates tokens. So punctuation edits, curly vs
  straight quotes and apostrophes ("don't" -> "don", "t") do not change
  shingles, even on text that was not normalized;
* a shingle is ``shingle_size`` (5) consecutive tokens; as bytes it is the
  UTF-8 of the tokens joined by one space. :func:`shingles` returns exactly
  these bytes, the input to ``datasketch.MinHash.update``.

A body with fewer than ``shingle_size`` tokens cannot be shingled ("short"):
it takes the exact path keyed on its tokens and its headline's tokens
(:func:`exact_key`); with neither it is keyed on its own id, so short articles
never share one bucket.

Signatures (datasketch compatible)
----------------------------------
``signature`` is bit-for-bit ``datasketch.MinHash(num_perm, seed,
hashfunc=H, scheme=S)`` updated with every shingle of :func:`shingles`, where
``H`` is :func:`hash_function` of ``config.hashfunc`` and ``S`` is
``config.scheme``:

* ``scheme="affine32"`` (datasketch >= 2.0 default): ``a, b`` drawn from
  ``np.random.RandomState(seed)`` exactly as datasketch draws them, shingle
  hash pre-mixed with the 32-bit MurmurHash3 finalizer, then ``a*h + b`` in
  uint32 with wraparound;
* ``scheme="legacy"`` (datasketch < 2.0): ``(a*h + b) % (2**61 - 1) & (2**32 -
  1)`` computed in numpy uint64 with the same wraparound of ``a*h`` as
  datasketch's own numpy code.

It is computed vectorized: one hash per shingle, one ``(shingles x num_perm)``
matrix operation into a reused buffer, one ``min`` over the shingle axis.

Hash functions (``config.hashfunc``):

* ``"wdhash32"`` (default): 64-bit polynomial hash of each token's bytes
  (computed for all tokens at once with numpy prefix sums modulo 2**64),
  MurmurHash3 64-bit finalizer, then a polynomial over the shingle's token
  hashes, finalized again; the top 32 bits. :func:`wdhash32` is the same
  function on one shingle's bytes, usable as ``datasketch.MinHash(hashfunc=
  wdhash32)``; tests prove the signatures equal. No Python-level work per
  shingle, which is what makes the throughput goal reachable: building and
  SHA-1 hashing one ``bytes`` per shingle alone costs more than the whole
  vectorized path.
* ``"sha1"``: ``datasketch.hashfunc.sha1_hash32`` of the shingle bytes, i.e.
  datasketch's default; selectable, about 3x slower.

Banding (the S-curve)
---------------------
With ``b`` bands of ``r`` rows a pair with Jaccard ``s`` becomes a candidate
with probability ``P(s) = 1 - (1 - s**r)**b``. Two kinds of pairs must become
candidates:

* near duplicates, Jaccard >= 0.8: need ``P(0.8) >= 0.99``;
* trimmed republications: a copy trimmed to a fraction ``rho`` of the
  original's shingles has Jaccard about ``rho`` (containment 1), so with
  copies trimmed to half the story we need ``P(0.5) >= 0.99``.

For a fixed ``r`` more bands only raise ``P``; the false-candidate rate of
unrelated pairs (small ``s``) is about ``b * s**r``, so it is minimized by the
largest ``r`` that still meets both targets, using ``b = num_perm // r``
bands (every band row that fits adds recall margin for copies trimmed below
half). For ``num_perm=128`` (:func:`choose_bands`):

====  ====  ========  ========  ========  ========  ==========
 r     b    P(0.8)    P(0.5)    P(0.45)   P(0.4)    P(0.05)
====  ====  ========  ========  ========  ========  ==========
 2     64   1.0000    1.0000    1.0000    1.0000    0.1480
 3     42   1.0000    0.9963    0.9819    0.9378    0.0052
 4     32   1.0000    0.8732    0.7381    0.5639    0.0002
 6     16   0.9923    0.2227    0.1249    0.0636    2.5e-07
 6     21   0.9983    0.2816    0.1606    0.0826    3.3e-07
 13    9    0.3988    0.0011    0.0003    0.0001    ~0
====  ====  ========  ========  ========  ========  ==========

so the default is ``bands=42, rows=3`` (126 of the 128 values). ``r=6, b=16``
would be the cheapest choice for Jaccard 0.8 alone (P(0.8)=0.9923) but would
find only 22% of copies trimmed to half. datasketch's optimizer picks 9x13 for
threshold 0.8, which catches only 40% of pairs at 0.8.

A band key is the band index (2 bytes) followed by the band's row values
(little-endian uint32, 12 bytes for 3 rows): collision free and stable across
processes, runners and Python versions. Bands of more than 4 rows are hashed
with BLAKE2b to 16 bytes instead.

Verification
------------
A candidate pair is verified on a bottom-k sketch of each body's shingle
hashes (the ``sketch_size`` smallest distinct 32-bit shingle hashes, 1024 by
default). For bodies with at most ``sketch_size`` distinct shingles (about
6 KB of text) the sketch *is* the whole shingle set, so Jaccard and
containment are exact up to 32-bit hash collisions; longer bodies are
estimated from the shared sketch range (standard error about
``sqrt(s*(1-s)/1024) = 0.0125`` at ``s = 0.8``). A 128-value MinHash estimate
has a standard error of 0.035 at 0.8, and a containment estimate derived from
it about 0.06 at half length: too coarse for both recall and precision near
the thresholds. ``sketch_size=0`` verifies with the MinHash signature alone.

A pair is a duplicate when Jaccard >= ``jaccard_threshold`` ("near"), or when
the shorter body has at least ``min_contained_shingles`` shingles and
containment of the shorter in the longer is >= ``containment_threshold``
("contained").

Canonical order
---------------
:func:`rank_key`: earliest ``published_at`` (missing last), then the longest
body, then ``source_priority`` (earlier in the tuple wins; unlisted sources
after listed ones), then the smallest ``article_id``. A total order, so every
decision is deterministic whatever order the input arrives in.
"""
from __future__ import annotations

import dataclasses
import datetime as _dt
import hashlib
import math
import re
import struct
import threading
from typing import Iterable, List, Optional, Sequence, Tuple

import numpy as np

__all__ = [
    "DedupConfig", "DEFAULT_CONFIG", "NEAR", "EXACT", "CONTAINED",
    "tokenize", "shingles", "shingle_hashes", "signature", "signature_from_hashes",
    "wdhash32", "hash_function", "permutations", "band_keys",
    "candidate_probability", "choose_bands", "bottom_k", "distinct_sorted", "estimate_similarity",
    "minhash_jaccard", "classify", "rank_key", "exact_key", "article_features",
    "verify", "F_ID", "F_RANK", "F_SHINGLES", "F_SIG", "F_SKETCH",
]

EXACT = "exact"
NEAR = "near"
CONTAINED = "contained"

_U64 = (1 << 64) - 1
_MERSENNE = np.uint64((1 << 61) - 1)
_MAX32 = np.uint64((1 << 32) - 1)


@dataclasses.dataclass(frozen=True)
class DedupConfig:
    """Parameters shared by every dedup stage. Frozen: hashable and picklable."""

    #: MinHash permutations (signature length).
    num_perm: int = 128
    #: Seed of datasketch's permutation parameters.
    seed: int = 1
    #: Tokens per shingle.
    shingle_size: int = 5
    #: Shingle hash function: "wdhash32" (vectorized) or "sha1" (datasketch's default).
    hashfunc: str = "wdhash32"
    #: datasketch permutation scheme: "affine32" (datasketch >= 2.0 default) or "legacy".
    scheme: str = "affine32"
    #: LSH bands x rows (see the module docstring for the S-curve).
    bands: int = 42
    rows: int = 3
    #: "near": estimated Jaccard of the two bodies' shingle sets at least this.
    jaccard_threshold: float = 0.8
    #: "contained": containment of the shorter body in the longer at least this ...
    containment_threshold: float = 0.9
    #: ... when the shorter body has at least this many distinct shingles.
    min_contained_shingles: int = 50
    #: Bottom-k verification sketch size; 0 verifies with the MinHash signature.
    sketch_size: int = 1024
    #: Buckets with more members than this are "oversized": not all pairs are
    #: enumerated, each member is only paired with the bucket's best-ranked
    #: ``oversized_anchors`` members.
    max_bucket_size: int = 64
    oversized_anchors: int = 8
    #: Sources in order of preference for the canonical copy (after date and length).
    source_priority: Tuple[str, ...] = ()

    def __post_init__(self):
        if self.num_perm < 1 or self.shingle_size < 1:
            raise ValueError("num_perm and shingle_size must be positive")
        if self.bands < 1 or self.rows < 1 or self.bands * self.rows > self.num_perm:
            raise ValueError("need bands * rows <= num_perm, got %d x %d > %d"
                             % (self.bands, self.rows, self.num_perm))
        if self.hashfunc not in ("wdhash32", "sha1"):
            raise ValueError("hashfunc must be 'wdhash32' or 'sha1'")
        if self.scheme not in ("affine32", "legacy"):
            raise ValueError("scheme must be 'affine32' or 'legacy'")
        for name in ("jaccard_threshold", "containment_threshold"):
            if not 0.0 < getattr(self, name) <= 1.0:
                raise ValueError("%s must be in (0, 1]" % name)
        if self.max_bucket_size < 2 or self.oversized_anchors < 1:
            raise ValueError("max_bucket_size >= 2 and oversized_anchors >= 1 required")
        if self.sketch_size < 0:
            raise ValueError("sketch_size must be >= 0")
        if not isinstance(self.source_priority, tuple):
            object.__setattr__(self, "source_priority", tuple(self.source_priority))


DEFAULT_CONFIG = DedupConfig()


# --------------------------------------------------------------------------
# Tokens and shingles
# --------------------------------------------------------------------------

_TOKEN_RE = re.compile(r"[^\W_]+")
# Non-ASCII characters that are not word characters (curly quotes, dashes,
# symbols, combining marks): replaced by a space before byte-level tokenizing.
_NON_ASCII_NON_WORD = re.compile(r"[^\w\x00-\x7F]")
_ENCODING = ("utf-8", "surrogatepass")
# Word bytes: ASCII letters and digits, and every byte of a non-ASCII
# character's UTF-8 encoding (all >= 0x80; non-ASCII non-word characters are
# replaced by spaces first): the byte-level twin of _TOKEN_RE.
_WORD_BYTE = np.zeros(256, dtype=bool)
for _c in b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz":
    _WORD_BYTE[_c] = True
_WORD_BYTE[0x80:] = True


def tokenize(text: Optional[str]) -> List[str]:
    """Reference tokenizer: lower-case, maximal runs of word characters."""
    return _TOKEN_RE.findall(text.lower()) if text else []


def shingles(text: Optional[str], k: int = 5) -> List[bytes]:
    """Reference shingles: UTF-8 of ``k`` consecutive tokens joined by a space.

    These are the values to feed ``datasketch.MinHash.update``; the vectorized
    :func:`shingle_hashes` hashes exactly these (with repeats).
    """
    toks = tokenize(text)
    return [" ".join(toks[i:i + k]).encode(*_ENCODING) for i in range(len(toks) - k + 1)]


def _token_spans(text: str):
    """(bytes, starts, ends) of the tokens of ``text`` (lower-cased UTF-8)."""
    text = text.lower()
    if not text.isascii():
        text = _NON_ASCII_NON_WORD.sub(" ", text)
    raw = text.encode(*_ENCODING)
    arr = np.frombuffer(raw, dtype=np.uint8)
    word = _WORD_BYTE[arr].view(np.int8)
    edges = np.diff(word, prepend=np.int8(0), append=np.int8(0))
    return raw, arr, np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)


# --------------------------------------------------------------------------
# wdhash32: token polynomial hash, vectorizable
# --------------------------------------------------------------------------

_P = 0x100000001B3                      # byte polynomial base (odd: invertible mod 2**64)
_P_INV = pow(_P, -1, 1 << 64)
_LEN_MIX = 0x9E3779B97F4A7C15           # token length mixed into its hash
_M = 0xC2B2AE3D27D4EB4F                 # token polynomial base for shingles
_F1, _F2 = 0xFF51AFD7ED558CCD, 0xC4CEB9FE1A85EC53


def _fmix64_int(h: int) -> int:
    h ^= h >> 33
    h = (h * _F1) & _U64
    h ^= h >> 33
    h = (h * _F2) & _U64
    return h ^ (h >> 33)


def _fmix64(h: np.ndarray) -> np.ndarray:
    h = h ^ (h >> np.uint64(33))
    h *= np.uint64(_F1)
    h ^= h >> np.uint64(33)
    h *= np.uint64(_F2)
    return h ^ (h >> np.uint64(33))


def _fmix32(h: np.ndarray) -> np.ndarray:
    """MurmurHash3 32-bit finalizer, as datasketch's affine schemes pre-mix."""
    h = h ^ (h >> np.uint32(16))
    h *= np.uint32(0x85EBCA6B)
    h ^= h >> np.uint32(13)
    h *= np.uint32(0xC2B2AE35)
    return h ^ (h >> np.uint32(16))


def _token_hash_int(tok: bytes) -> int:
    h, p = 0, 1
    for byte in tok:
        h = (h + byte * p) & _U64
        p = (p * _P) & _U64
    return _fmix64_int(h ^ ((len(tok) * _LEN_MIX) & _U64))


def wdhash32(data: bytes) -> int:
    """32-bit hash of one shingle's bytes (tokens joined by b" ").

    Pure-Python reference of the vectorized default; pass it as
    ``datasketch.MinHash(hashfunc=wdhash32)`` to get the same signatures.
    """
    if isinstance(data, str):
        data = data.encode(*_ENCODING)
    s = 0
    for tok in data.split(b" "):
        s = (s * _M + _token_hash_int(tok)) & _U64
    return _fmix64_int(s) >> 32


class _Powers:
    """P**i and P**-i modulo 2**64 for i < n, grown on demand, shared per process."""

    def __init__(self):
        self._lock = threading.Lock()
        self.pow = np.ones(1, dtype=np.uint64)
        self.inv = np.ones(1, dtype=np.uint64)

    def get(self, n: int):
        pw, inv = self.pow, self.inv
        if len(pw) >= n:
            return pw, inv
        with self._lock:
            size = max(n, 2 * len(self.pow), 8192)
            pw = np.full(size, _P, dtype=np.uint64)
            pw[0] = 1
            inv = np.full(size, _P_INV, dtype=np.uint64)
            inv[0] = 1
            with np.errstate(over="ignore"):
                pw = np.cumprod(pw, dtype=np.uint64)
                inv = np.cumprod(inv, dtype=np.uint64)
            self.pow, self.inv = pw, inv
        return pw, inv


_POWERS = _Powers()
_M_POWERS = {}


def _m_powers(k: int) -> List[np.uint64]:
    got = _M_POWERS.get(k)
    if got is None:
        got = [np.uint64(pow(_M, k - 1 - j, 1 << 64)) for j in range(k)]
        _M_POWERS[k] = got
    return got


def _wdhash_shingles(arr, starts, ends, k: int) -> np.ndarray:
    n = len(arr)
    pw, inv = _POWERS.get(n + 1)
    prefix = np.empty(n + 1, dtype=np.uint64)
    prefix[0] = 0
    np.cumsum(arr.astype(np.uint64) * pw[:n], out=prefix[1:])
    tok = (prefix[ends] - prefix[starts]) * inv[starts]
    tok ^= (ends - starts).astype(np.uint64) * np.uint64(_LEN_MIX)
    tok = _fmix64(tok)
    m = len(tok) - k + 1
    mp = _m_powers(k)
    acc = tok[:m] * mp[0]
    for j in range(1, k):
        acc += tok[j:j + m] * mp[j]
    return (_fmix64(acc) >> np.uint64(32)).astype(np.uint32)


def _sha1_shingles(raw: bytes, starts, ends, k: int) -> np.ndarray:
    toks = [raw[s:e] for s, e in zip(starts.tolist(), ends.tolist())]
    sha1 = hashlib.sha1
    digests = b"".join([sha1(b" ".join(toks[i:i + k])).digest()[:4]
                        for i in range(len(toks) - k + 1)])
    return np.frombuffer(digests, dtype="<u4").astype(np.uint32)


def shingle_hashes(text: Optional[str], config: DedupConfig = DEFAULT_CONFIG) -> np.ndarray:
    """32-bit hash of every shingle of ``text`` (in order, with repeats).

    Equal to ``[hash_function(config)(s) for s in shingles(text, k)]``.
    """
    k = config.shingle_size
    if not text:
        return np.empty(0, dtype=np.uint32)
    raw, arr, starts, ends = _token_spans(text)
    if len(starts) < k:
        return np.empty(0, dtype=np.uint32)
    if config.hashfunc == "sha1":
        return _sha1_shingles(raw, starts, ends, k)
    # Integer array arithmetic wraps silently (only numpy scalars warn):
    # the modulo 2**64 / 2**32 arithmetic is intended.
    return _wdhash_shingles(arr, starts, ends, k)


def hash_function(config: DedupConfig = DEFAULT_CONFIG):
    """The scalar hash function for ``datasketch.MinHash(hashfunc=...)``."""
    if config.hashfunc == "sha1":
        from datasketch.hashfunc import sha1_hash32
        return sha1_hash32
    return wdhash32


# --------------------------------------------------------------------------
# MinHash signatures
# --------------------------------------------------------------------------

_PERM_CACHE = {}


def permutations(num_perm: int = 128, seed: int = 1, scheme: str = "affine32"):
    """datasketch's permutation parameters ``(a, b)`` for ``(num_perm, seed, scheme)``.

    Drawn from ``np.random.RandomState(seed)`` in datasketch's exact order.
    """
    key = (num_perm, seed, scheme)
    got = _PERM_CACHE.get(key)
    if got is not None:
        return got
    gen = np.random.RandomState(seed)
    if scheme == "legacy":
        ab = np.array([(gen.randint(1, _MERSENNE, dtype=np.uint64),
                        gen.randint(0, _MERSENNE, dtype=np.uint64))
                       for _ in range(num_perm)], dtype=np.uint64).T
        a, b = ab[0].copy(), ab[1].copy()
    elif scheme == "affine32":
        a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
        b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    else:
        raise ValueError("unknown scheme %r" % scheme)
    a.setflags(write=False)
    b.setflags(write=False)
    _PERM_CACHE[key] = (a, b)
    return a, b


_CHUNK = 2048           # shingles per matrix block: bounds the buffer to 1 MB
_BUFFERS = threading.local()


def _buffer(dtype, num_perm):
    key = (np.dtype(dtype).str, num_perm)
    cache = getattr(_BUFFERS, "cache", None)
    if cache is None:
        cache = _BUFFERS.cache = {}
    buf = cache.get(key)
    if buf is None:
        buf = cache[key] = np.empty((_CHUNK, num_perm), dtype=dtype)
    return buf


def signature_from_hashes(hv: np.ndarray, config: DedupConfig = DEFAULT_CONFIG) -> np.ndarray:
    """MinHash signature of the shingle hashes ``hv``: datasketch's ``hashvalues``.

    uint32 for "affine32", uint64 for "legacy" (as datasketch stores them).
    An empty input gives datasketch's empty signature (all max hash).
    """
    a, b = permutations(config.num_perm, config.seed, config.scheme)
    if config.scheme == "affine32":
        out = np.full(config.num_perm, 0xFFFFFFFF, dtype=np.uint32)
        if len(hv) == 0:
            return out
        h = _fmix32(np.asarray(hv, dtype=np.uint32))
        buf = _buffer(np.uint32, config.num_perm)
        for start in range(0, len(h), _CHUNK):
            part = h[start:start + _CHUNK]
            blk = buf[:len(part)]
            np.multiply(part[:, None], a, out=blk)
            np.add(blk, b, out=blk)
            np.minimum(out, blk.min(axis=0), out=out)
        return out
    out = np.full(config.num_perm, _MAX32, dtype=np.uint64)
    if len(hv) == 0:
        return out
    h = np.asarray(hv, dtype=np.uint64)
    buf = _buffer(np.uint64, config.num_perm)
    with np.errstate(over="ignore"):
        for start in range(0, len(h), _CHUNK):
            part = h[start:start + _CHUNK]
            blk = buf[:len(part)]
            np.multiply(part[:, None], a, out=blk)
            np.add(blk, b, out=blk)
            np.remainder(blk, _MERSENNE, out=blk)
            np.bitwise_and(blk, _MAX32, out=blk)
            np.minimum(out, blk.min(axis=0), out=out)
    return out


def signature(text: Optional[str], config: DedupConfig = DEFAULT_CONFIG) -> np.ndarray:
    """MinHash signature of ``text``'s shingles (see the module docstring)."""
    return signature_from_hashes(shingle_hashes(text, config), config)


def minhash_jaccard(sig_a: np.ndarray, sig_b: np.ndarray) -> float:
    """datasketch's Jaccard estimate: the fraction of equal signature values."""
    return float(np.count_nonzero(sig_a == sig_b)) / float(len(sig_a))


# --------------------------------------------------------------------------
# Banding
# --------------------------------------------------------------------------

def candidate_probability(s: float, bands: int, rows: int) -> float:
    """P(a pair with Jaccard ``s`` shares at least one band) = 1-(1-s^r)^b."""
    return 1.0 - (1.0 - s ** rows) ** bands


def choose_bands(num_perm: int = 128, jaccard: float = 0.8, trimmed_jaccard: float = 0.5,
                 probability: float = 0.99) -> Tuple[int, int]:
    """(bands, rows): the largest ``r`` with ``b = num_perm // r`` bands such
    that pairs at ``jaccard`` and at ``trimmed_jaccard`` both become
    candidates with at least ``probability``. Larger ``r`` means fewer false
    candidates (about ``b * s**r`` for unrelated pairs)."""
    best = None
    for rows in range(1, num_perm + 1):
        bands = num_perm // rows
        if min(candidate_probability(jaccard, bands, rows),
               candidate_probability(trimmed_jaccard, bands, rows)) >= probability:
            best = (bands, rows)
    if best is None:
        raise ValueError("no banding of %d permutations reaches the target" % num_perm)
    return best


def band_keys(sig: np.ndarray, config: DedupConfig = DEFAULT_CONFIG) -> List[bytes]:
    """One stable bytes key per band: band index + the band's row values."""
    b, r = config.bands, config.rows
    rows = np.ascontiguousarray(sig[:b * r], dtype="<u4").tobytes()
    width = 4 * r
    prefixes = _band_prefixes(b)
    if width <= 16:
        return [p + rows[o:o + width] for p, o in zip(prefixes, range(0, b * width, width))]
    blake = hashlib.blake2b
    return [p + blake(rows[o:o + width], digest_size=16).digest()
            for p, o in zip(prefixes, range(0, b * width, width))]


_PREFIXES = {}


def _band_prefixes(b: int) -> List[bytes]:
    got = _PREFIXES.get(b)
    if got is None:
        got = _PREFIXES[b] = [struct.pack(">H", i) for i in range(b)]
    return got


# --------------------------------------------------------------------------
# Verification
# --------------------------------------------------------------------------

def distinct_sorted(hv: np.ndarray) -> np.ndarray:
    """Sorted distinct values (``np.unique``, several times faster on small arrays)."""
    s = np.sort(hv)
    if len(s) < 2:
        return s
    keep = np.empty(len(s), dtype=bool)
    keep[0] = True
    np.not_equal(s[1:], s[:-1], out=keep[1:])
    return s[keep]


def bottom_k(hv: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` smallest distinct values of ``hv``, sorted (uint32)."""
    u = distinct_sorted(hv)
    return u[:k] if k and len(u) > k else u


def estimate_similarity(sk_a: np.ndarray, n_a: int, sk_b: np.ndarray, n_b: int,
                        k: int) -> Tuple[float, float]:
    """(Jaccard, containment of the smaller set in the larger) from two
    bottom-k sketches of sets of sizes ``n_a``, ``n_b``.

    A sketch holding its whole set (``n <= k``) is exact; otherwise only
    values up to the smaller sketch maximum are compared, where both sketches
    are complete samples.
    """
    if n_a == 0 or n_b == 0:
        return 0.0, 0.0
    lim = 0xFFFFFFFF
    if n_a > len(sk_a):
        lim = min(lim, int(sk_a[-1]))
    if n_b > len(sk_b):
        lim = min(lim, int(sk_b[-1]))
    if lim < 0xFFFFFFFF:
        sk_a = sk_a[:np.searchsorted(sk_a, lim, side="right")]
        sk_b = sk_b[:np.searchsorted(sk_b, lim, side="right")]
    inter = len(np.intersect1d(sk_a, sk_b, assume_unique=True))
    union = len(sk_a) + len(sk_b) - inter
    jac = inter / union if union else 0.0
    small = sk_a if (n_a, 0) <= (n_b, 1) else sk_b
    cont = inter / len(small) if len(small) else 0.0
    return jac, cont


def _minhash_similarity(sig_a, n_a, sig_b, n_b) -> Tuple[float, float]:
    jac = minhash_jaccard(sig_a, sig_b)
    small = min(n_a, n_b)
    if small == 0:
        return jac, 0.0
    # |A n B| = J (|A| + |B|) / (1 + J)
    cont = min(1.0, jac * (n_a + n_b) / ((1.0 + jac) * small))
    return jac, cont


def classify(jaccard: float, containment: float, smaller_shingles: int,
             config: DedupConfig = DEFAULT_CONFIG) -> Optional[str]:
    """"near", "contained" or None (not a duplicate)."""
    if jaccard >= config.jaccard_threshold:
        return NEAR
    if (smaller_shingles >= config.min_contained_shingles
            and containment >= config.containment_threshold):
        return CONTAINED
    return None


# --------------------------------------------------------------------------
# Articles
# --------------------------------------------------------------------------

def _epoch_us(ts: str) -> Optional[int]:
    try:
        t = _dt.datetime.fromisoformat(ts.replace("Z", "+00:00").replace("z", "+00:00"))
    except (ValueError, AttributeError):
        return None
    if t.tzinfo is None:
        t = t.replace(tzinfo=_dt.timezone.utc)
    delta = t - _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


def rank_key(article, config: DedupConfig = DEFAULT_CONFIG) -> tuple:
    """Total order for choosing canonicals: smaller is better.

    (published_at missing?, published_at as epoch microseconds, unparseable
    timestamp text, -len(body), source priority, article_id).
    """
    ts = article.published_at
    us = _epoch_us(ts) if ts else None
    if ts is None:
        when = (2, 0, "")
    elif us is None:
        when = (1, 0, str(ts))
    else:
        when = (0, us, "")
    prio = config.source_priority
    try:
        src = prio.index(article.source)
    except ValueError:
        src = len(prio)
    return when + (-len(article.body or ""), src, article.article_id)


def exact_key(article, config: DedupConfig = DEFAULT_CONFIG, tokens: Optional[list] = None) -> str:
    """Key of the exact-duplicate path.

    Long bodies: BLAKE2b of the normalized body. Short bodies (fewer than
    ``shingle_size`` tokens, e.g. headline-only records): BLAKE2b of the
    headline's and body's tokens, or the article's own id when both are empty.
    """
    body = article.body or ""
    if tokens is None:
        tokens = tokenize(body)
    if len(tokens) >= config.shingle_size:
        return "b:" + hashlib.blake2b(body.encode(*_ENCODING), digest_size=16).hexdigest()
    head = tokenize(article.headline)
    if not head and not tokens:
        return "i:" + article.article_id
    text = " ".join(head) + "\n" + " ".join(tokens)
    return "s:" + hashlib.blake2b(text.encode(*_ENCODING), digest_size=16).hexdigest()


#: A feature tuple is plain values (deterministic, cheap to encode with any
#: runner's coders): (article_id, rank, n_shingles, signature bytes, sketch bytes).
F_ID, F_RANK, F_SHINGLES, F_SIG, F_SKETCH = range(5)


def article_features(article, config: DedupConfig = DEFAULT_CONFIG):
    """``(exact_key, short, rank, features or None)`` for one article."""
    rank = rank_key(article, config)
    hv = shingle_hashes(article.body, config)
    if len(hv) == 0:
        return exact_key(article, config, tokens=tokenize(article.body)), True, rank, None
    body = article.body
    key = "b:" + hashlib.blake2b(body.encode(*_ENCODING), digest_size=16).hexdigest()
    uniq = distinct_sorted(hv)
    # The minimum over a set does not depend on repeats: hash each distinct shingle once.
    sig = signature_from_hashes(uniq, config)
    sk = uniq[:config.sketch_size] if config.sketch_size else uniq[:0]
    feats = (article.article_id, rank, int(len(uniq)),
             sig.astype("<u4").tobytes(), sk.astype("<u4").tobytes())
    return key, False, rank, feats


def decode_sig(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype="<u4")


def verify(fa: tuple, fb: tuple, config: DedupConfig = DEFAULT_CONFIG):
    """``(kind or None, jaccard, containment)`` for two feature tuples."""
    na, nb = fa[F_SHINGLES], fb[F_SHINGLES]
    if config.sketch_size:
        jac, cont = estimate_similarity(decode_sig(fa[F_SKETCH]), na,
                                        decode_sig(fb[F_SKETCH]), nb, config.sketch_size)
    else:
        jac, cont = _minhash_similarity(decode_sig(fa[F_SIG]), na, decode_sig(fb[F_SIG]), nb)
    return classify(jac, cont, min(na, nb), config), jac, cont
