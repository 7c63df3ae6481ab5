"""Reading fixtures and bytes through the readers, for the reader tests (imported as ``reader_helpers``:
tests/ is on sys.path)."""
import io
from pathlib import Path

from wiredesk.transforms.formats import iter_file

FIXTURES = Path(__file__).parent / "fixtures"
INGESTED = "2024-03-11T18:00:00Z"


def read_fixture(relative: str, ingested_at: str = INGESTED):
    """Every item the readers give for ``tests/fixtures/<relative>``."""
    path = FIXTURES / relative
    with open(path, "rb") as fh:
        return list(iter_file(str(path), fh, ingested_at))


def read_bytes(name: str, data: bytes, ingested_at: str = INGESTED):
    """Every item the readers give for ``data`` read as a file called ``name``."""
    return list(iter_file(name, io.BytesIO(data), ingested_at))


def only(items):
    assert len(items) == 1, items
    return items[0]
