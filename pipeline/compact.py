"""``wiredesk compact``: compaction, snapshot expiry and removal of unreferenced files of a table root.

Through pyiceberg, all tables in one catalog commit (``table_root.RootCatalog.one_commit``):

- compaction: a table with more than one data file has its current rows rewritten by the library
  (``Transaction.delete`` of every file, then ``Transaction.append`` of a streamed scan of the same
  snapshot) into files of ``write.target-file-size-bytes``; the current rows stay the same;
- expiry: snapshots older than ``--expire_older_than_hours`` are removed (``ExpireSnapshots.older_than``),
  the current one always kept; time travel reaches back that far only;
- files no remaining snapshot references (what expiry released, and the files of runs killed before their
  commit) are deleted when older than ``--orphan_older_than_hours``: a grace period so that a run still
  writing is never touched. pyiceberg has no orphan-file removal of its own yet; the referenced files are
  the library's ``inspect.all_files()`` of every table.
"""
from __future__ import annotations

import datetime as _dt
import os
import shutil
import time
from typing import Dict, Set

from wiredesk.pipeline import table_root as tr

EXPIRE_OLDER_THAN_HOURS = 7 * 24
ORPHAN_OLDER_THAN_HOURS = 24


def local(path: str) -> str:
    return path[len("file://"):] if path.startswith("file://") else path


def data_files(table) -> int:
    return len(table.inspect.files()) if table.metadata.current_snapshot_id is not None else 0


def compact_table(table, expire_before: _dt.datetime) -> None:
    """Rewrite the current rows into as few files as the target size allows, then expire old snapshots; one
    transaction."""
    from pyiceberg.expressions import AlwaysTrue
    from pyiceberg.table.update.snapshot import ExpireSnapshots

    properties = {"wiredesk.operation": "compact"}
    with table.transaction() as txn:
        emptied = None
        if data_files(table) > 1:
            rows = table.scan().to_arrow_batch_reader()  # the snapshot before the rewrite: its files stay on disk
            txn.delete(AlwaysTrue(), snapshot_properties=properties)
            emptied = txn.table_metadata.current_snapshot_id  # the table between the delete and the append
            txn.append(rows, snapshot_properties=properties)
        expire = ExpireSnapshots(transaction=txn).older_than(expire_before)  # the current snapshot is protected
        if emptied is not None:
            expire.by_id(emptied)
        expire.commit()


def referenced_files(catalog) -> Set[str]:
    found: Set[str] = set()
    for name in tr.SCHEMAS:
        table = tr.load(catalog, name)
        if table.metadata.snapshots:
            found.update(os.path.abspath(local(p)) for p in table.inspect.all_files().column("file_path").to_pylist())
    return found


def remove_orphans(root: str, catalog, older_than_hours: float) -> int:
    """Delete Parquet files under the root that no snapshot references and older than the grace; returns how
    many. A run directory left with no referenced file goes too."""
    keep = referenced_files(catalog)
    cutoff = time.time() - older_than_hours * 3600
    removed = 0
    tops = [os.path.join(root, tr.DATA)] + [os.path.join(root, tr.NAMESPACE, name, "data") for name in tr.SCHEMAS]
    for top in tops:
        for directory, _, names in os.walk(top):
            for name in names:
                path = os.path.join(directory, name)
                if name.endswith(".parquet") and path not in keep and os.path.getmtime(path) < cutoff:
                    os.remove(path)
                    removed += 1
    runs = os.path.join(root, tr.DATA)
    for run in os.listdir(runs) if os.path.isdir(runs) else []:
        path = os.path.join(runs, run)
        left = any(n.endswith(".parquet") for _, _, names in os.walk(path) for n in names)
        if not left and os.path.getmtime(path) < cutoff:
            shutil.rmtree(path, ignore_errors=True)
    return removed


def compact(root: str, expire_older_than_hours: float = EXPIRE_OLDER_THAN_HOURS,
            orphan_older_than_hours: float = ORPHAN_OLDER_THAN_HOURS) -> Dict[str, Dict[str, int]]:
    """Compact every table, expire old snapshots, remove unreferenced files; {table: before/after counts}."""
    path = tr.local_root(root)
    if not os.path.exists(os.path.join(path, tr.CATALOG_FILE)):
        raise tr.TableRootError(f"{root} is not a wiredesk table root (no {tr.CATALOG_FILE})")
    catalog = tr.open_root(path)
    expire_before = _dt.datetime.now(_dt.timezone.utc) - _dt.timedelta(hours=expire_older_than_hours)
    before = {name: (data_files(t), len(t.snapshots())) for name in tr.SCHEMAS for t in [tr.load(catalog, name)]}
    with catalog.one_commit():
        for name in tr.SCHEMAS:
            compact_table(tr.load(catalog, name), expire_before)
    tr.write_hints(catalog)
    removed = remove_orphans(path, catalog, orphan_older_than_hours)
    summary = {}
    for name in tr.SCHEMAS:
        table = tr.load(catalog, name)
        summary[name] = {"files_before": before[name][0], "files_after": data_files(table),
                         "snapshots_before": before[name][1], "snapshots_after": len(table.snapshots())}
    summary["_removed"] = {"files": removed}
    return summary


def format_compact(root: str, summary: Dict[str, Dict[str, int]]) -> str:
    lines = [f"wiredesk compact {root}"]
    for name, c in summary.items():
        if name != "_removed":
            lines.append(f"  {name:<11} files {c['files_before']:>5} -> {c['files_after']:<5} "
                         f"snapshots {c['snapshots_before']:>4} -> {c['snapshots_after']}")
    lines.append(f"  unreferenced files removed: {summary['_removed']['files']}")
    return "\n".join(lines)
