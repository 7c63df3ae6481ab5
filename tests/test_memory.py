"""pipeline.memory: the malloc arena limit a local run sets for itself and its workers."""
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
