import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def read_table(out: Path, table: str):
    """A table written by wiredesk, read back with pyarrow (Hive partitions as columns)."""
    import pyarrow.dataset as ds
    return ds.dataset(str(out / table), format="parquet", partitioning="hive").to_table()


def manifest(out: Path) -> dict:
    return json.loads((out / "_manifest.json").read_text())


@pytest.fixture
def run_cli(capsys):
    """Run ``wiredesk run ARGS`` in-process; returns (exit code, stdout)."""
    from wiredesk.pipeline.cli import main

    def call(*args):
        code = main(["run", *map(str, args)])
        return code, capsys.readouterr().out
    return call
