"""Words, shingles and their 32-bit hashes.

The reference is :func:`shingles`: ``shingle_size`` consecutive
:func:`~wiredesk.transforms.cleaning.tokens.words` joined by one space, as
UTF-8 bytes (the input to ``datasketch.MinHash.update``). :func:`shingle_hashes`
computes the hashes of exactly these shingles without building one Python
object per shingle: a byte-level twin of the tokenizer finds the word spans
with numpy, and the default hash ("wdhash32") is a polynomial over per-token
hashes computed with prefix sums. Tests pin the twin to ``words`` and the
vectorized hashes to the scalar :func:`wdhash32` / sha1 of the reference shingles.
"""
from __future__ import annotations

import functools
import hashlib
import re
import threading
from typing import List, Optional

import numpy as np

from wiredesk.transforms.cleaning.tokens import comparison_form, words
from wiredesk.transforms.dedup.config import DEFAULT_CONFIG, DedupConfig

__all__ = ["ENCODING", "shingles", "twin_words", "shingle_hashes", "wdhash32", "hash_function"]

#: How tokens become bytes (lone surrogates survive instead of raising).
ENCODING = ("utf-8", "surrogatepass")

_U64 = (1 << 64) - 1
# Non-ASCII characters that are not word characters (curly quotes, dashes,
# symbols, combining marks): replaced by a space before byte-level tokenizing.
_NON_ASCII_NON_WORD = re.compile(r"[^\w\x00-\x7F]")
# Word bytes: ASCII letters and digits, and every byte of a non-ASCII
# character's UTF-8 encoding (all >= 0x80; non-ASCII non-word characters are
# replaced by spaces first): the byte-level twin of ``tokens.WORD``.
_WORD_BYTE = np.zeros(256, dtype=bool)
for _c in b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz":
    _WORD_BYTE[_c] = True
_WORD_BYTE[0x80:] = True


def shingles(text: Optional[str], k: int = 5) -> List[bytes]:
    """Reference shingles: UTF-8 of ``k`` consecutive words joined by a space.

    These are the values to feed ``datasketch.MinHash.update``; the vectorized
    :func:`shingle_hashes` hashes exactly these (with repeats).
    """
    toks = words(text)
    return [" ".join(toks[i:i + k]).encode(*ENCODING) for i in range(len(toks) - k + 1)]


def _token_spans(text: str):
    """(bytes, byte array, starts, ends) of the words of ``text`` (UTF-8 of its
    comparison form, as :func:`words` tokenizes it: NFKC, casefold)."""
    text = comparison_form(text)
    if not text.isascii():
        text = _NON_ASCII_NON_WORD.sub(" ", text)
    raw = text.encode(*ENCODING)
    arr = np.frombuffer(raw, dtype=np.uint8)
    word = _WORD_BYTE[arr].view(np.int8)
    edges = np.diff(word, prepend=np.int8(0), append=np.int8(0))
    return raw, arr, np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)


def twin_words(text: Optional[str]) -> List[str]:
    """The words the byte-level twin finds; equal to ``words(text)`` (tested)."""
    if not text:
        return []
    raw, _arr, starts, ends = _token_spans(text)
    return [raw[s:e].decode(*ENCODING) for s, e in zip(starts.tolist(), ends.tolist())]


# -- wdhash32: token polynomial hash, vectorizable ----------------------------

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
        data = data.encode(*ENCODING)
    s = 0
    for tok in data.split(b" "):
        s = (s * _M + _token_hash_int(tok)) & _U64
    return _fmix64_int(s) >> 32


def _cumulative_powers(base: int, n: int) -> np.ndarray:
    out = np.full(n, base, dtype=np.uint64)
    out[0] = 1
    with np.errstate(over="ignore"):
        return np.cumprod(out, dtype=np.uint64)


class _Powers:
    """P**i and P**-i modulo 2**64 for i < n, shared per process.

    Grown on demand up to ``MAX_CACHED`` entries (16 MB for both arrays);
    longer texts get arrays computed for them alone, so one huge body does not
    pin its memory for the life of the worker.
    """

    MAX_CACHED = 1 << 20

    def __init__(self):
        self._lock = threading.Lock()
        self.pow = np.ones(1, dtype=np.uint64)
        self.inv = np.ones(1, dtype=np.uint64)

    def get(self, n: int):
        pw, inv = self.pow, self.inv
        if len(pw) >= n:
            return pw, inv
        if n > self.MAX_CACHED:
            return _cumulative_powers(_P, n), _cumulative_powers(_P_INV, n)
        with self._lock:
            size = min(max(n, 2 * len(self.pow), 8192), self.MAX_CACHED)
            pw, inv = _cumulative_powers(_P, size), _cumulative_powers(_P_INV, size)
            self.pow, self.inv = pw, inv
        return pw, inv


_POWERS = _Powers()


@functools.lru_cache(maxsize=16)
def _m_powers(k: int) -> tuple:
    return tuple(np.uint64(pow(_M, k - 1 - j, 1 << 64)) for j in range(k))


def _wdhash_shingles(arr, starts, ends, k: int) -> np.ndarray:
    # Integer array arithmetic wraps silently (only numpy scalars warn):
    # the modulo 2**64 arithmetic is intended.
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
    return _wdhash_shingles(arr, starts, ends, k)


def hash_function(config: DedupConfig = DEFAULT_CONFIG):
    """The scalar hash function for ``datasketch.MinHash(hashfunc=...)``."""
    if config.hashfunc == "sha1":
        from datasketch.hashfunc import sha1_hash32
        return sha1_hash32
    return wdhash32
