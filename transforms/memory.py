"""Freed memory handed back to the OS between bundles (glibc ``malloc_trim``).

glibc returns only the top of its heap to the OS: the buffers of a finished bundle or stage (a shuffle's decoded
values, a block's matrices, a combine's table) stay resident while the next one allocates elsewhere, so a long
run's resident memory is the sum of its stages' high-water marks rather than the largest. The FnApiRunner's
driver calls ``release_freed_memory`` after each stage (``pipeline.direct_runner``); the events stage's heavy DoFns
are ``ReleasingDoFn``s, which call it at the start of each bundle. On another C library it does nothing.
"""
from __future__ import annotations

import ctypes
import ctypes.util

import apache_beam as beam

__all__ = ["LIBC", "ReleasingDoFn", "release_freed_memory"]


def _libc():
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None


#: This process's C library (None where it cannot be loaded).
LIBC = _libc()


def release_freed_memory() -> bool:
    """Hand the pages glibc holds free back to the OS (``malloc_trim(0)``); True when some were released."""
    trim = getattr(LIBC, "malloc_trim", None)
    if trim is None:
        return False
    return bool(trim(0))


class ReleasingDoFn(beam.DoFn):
    """A DoFn that hands what the worker's last bundle freed back to the OS when a bundle starts."""

    def start_bundle(self):
        release_freed_memory()
