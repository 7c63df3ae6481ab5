"""pipeline.memory and transforms.memory: the malloc arena limit a local run sets for itself and its workers, and
freed memory handed back to the OS."""
import os
import platform
import subprocess
import sys

import pytest

from wiredesk.pipeline.memory import ARENAS, limit_malloc_arenas


def test_sets_the_limit_for_started_processes_and_keeps_the_users(monkeypatch):
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    limit_malloc_arenas()
    assert os.environ["MALLOC_ARENA_MAX"] == str(ARENAS)
    child = subprocess.run([sys.executable, "-c", "import os; print(os.environ['MALLOC_ARENA_MAX'])"],
                           capture_output=True, text=True, check=True)
    assert child.stdout.strip() == str(ARENAS)  # a multi_processing worker inherits it
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    limit_malloc_arenas()
    assert os.environ["MALLOC_ARENA_MAX"] == "4"  # the user's value wins


@pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc only")
def test_glibc_takes_the_limit_in_this_process(monkeypatch):
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    assert limit_malloc_arenas() is True


_FRAGMENTED = """
import sys
from wiredesk.transforms.memory import release_freed_memory

def rss_mb():
    return int(open('/proc/self/statm').read().split()[1]) * 4096 / 2**20

keep, drop = [], []
for i in range(300_000):  # 1 KB buffers from glibc's heap (not mmap), every 50th kept alive: the heap cannot shrink
    (keep if i % 50 == 0 else drop).append(bytes(1000 + i % 7))
drop.clear()
before = rss_mb()
released = release_freed_memory()
after = rss_mb()
print(released, round(before - after))
"""


@pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc only")
def test_freed_memory_inside_the_heap_goes_back_to_the_os():
    # a fresh process with one arena, so the figure is this heap's alone
    out = subprocess.run([sys.executable, "-c", _FRAGMENTED], capture_output=True, text=True, check=True,
                         env=dict(os.environ, MALLOC_ARENA_MAX="1")).stdout.split()
    released, freed_mb = out[0] == "True", int(out[1])
    assert released and freed_mb > 150  # about 290 MB were freed behind the kept buffers


def test_the_driver_releases_after_each_stage_even_when_it_fails(monkeypatch):
    from wiredesk.pipeline import direct_runner

    calls = []
    monkeypatch.setattr(direct_runner, "release_freed_memory", lambda: calls.append("release"))

    def stage(runner, ok):
        calls.append("stage")
        if not ok:
            raise RuntimeError("stage failed")
        return "result"

    wrapped = direct_runner.trimmed(stage)
    assert wrapped(None, True) == "result" and calls == ["stage", "release"]
    with pytest.raises(RuntimeError, match="stage failed"):
        wrapped(None, False)
    assert calls == ["stage", "release", "stage", "release"]
