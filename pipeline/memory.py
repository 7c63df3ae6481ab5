"""Fewer glibc malloc arenas for a local run: the same work in less resident memory.

glibc gives each thread that allocates its own arena (up to eight per core), and memory freed in one arena is not
reused by another. A Beam worker and the FnApiRunner's driver are multi-threaded (gRPC, the data plane, bundle
processing), so their freed buffers scatter over many arenas and the process keeps them. Two arenas per process
cut a whole ``wiredesk run`` of 8,000 articles on the DirectRunner from 4.5 GB to 3.6 GB peak (all processes)
at the same speed (``benchmarks/README.md``).

``limit_malloc_arenas`` sets ``MALLOC_ARENA_MAX`` for the processes the run starts (the DirectRunner's
``multi_processing`` workers inherit the environment; a value the user set is kept) and asks this process's
glibc for the same limit through ``mallopt``. On another C library it does nothing.
"""
from __future__ import annotations

import os

from wiredesk.transforms.memory import LIBC

__all__ = ["ARENAS", "limit_malloc_arenas"]

#: Arenas per process.
ARENAS = 2
_M_ARENA_MAX = -8  # glibc's mallopt parameter number


def limit_malloc_arenas(arenas: int = ARENAS) -> bool:
    """Limit malloc arenas here and in the processes started from here; True when this process's glibc took it."""
    value = os.environ.setdefault("MALLOC_ARENA_MAX", str(arenas))
    try:
        return bool(LIBC.mallopt(_M_ARENA_MAX, int(value)))
    except (AttributeError, ValueError):  # no C library loaded, or one without mallopt
        return False
