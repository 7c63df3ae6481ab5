"""One output root for many runs: Apache Iceberg tables kept by ``pyiceberg``, with an embedded SQLite catalog.

``wiredesk run --table_root ROOT`` lays out::

    ROOT/catalog.db                    the SQLite catalog (Iceberg's JDBC/SQL catalog tables): the current
                                       metadata file of every table
    ROOT/wiredesk/<table>/metadata/    Iceberg metadata, snapshots, manifests; version-hint.text for readers
                                       without a catalog (DuckDB's iceberg_scan of the directory)
    ROOT/wiredesk/<table>/data/        files the library rewrote (deletes, compaction)
    ROOT/data/<run>/<table>/dt=.../    the Parquet files Beam wrote for one run, added in place

A run's files are written by Beam under ``ROOT/data/<run>/`` and verified by ``run.check_files``; nothing in
them is visible until :func:`commit_run` commits every table in one SQLite transaction (the table pointers of
all tables swap together, see :class:`RootCatalog`), so a reader of the catalog never sees a half-written run
and a run killed before that leaves only files no snapshot references (``wiredesk compact`` removes them).

Each table's commit is an upsert on its story key: rows of the same keys are deleted (``Transaction.delete``)
and the run's files added (``Transaction.add_files``) in one transaction, so running the same input again
replaces its rows and a story a later run moves to another event has one row, the current one; earlier rows
stay in the snapshots (time travel). Keys: articles and duplicates by ``article_id`` of the run's articles;
events by ``event_id`` (and events no current article points at any more are dropped); rejects and superseded
by ``origin`` (an input file read again replaces what it gave). The ``runs`` table logs every run with its
manifest and the snapshot each table got.

Iceberg partitioning: none. The files keep Beam's Hive-style ``dt=`` folders, but ``dt`` is not a column of
the files (it is the date of ``published_at``, else of ``ingested_at``), and Iceberg takes a file's partition
value from a column; readers prune on the ``published_at`` / ``ingested_at`` statistics of each file instead.
"""
from __future__ import annotations

import datetime as _dt
import json
import os
import uuid
import warnings
from contextlib import contextmanager
from typing import Dict, Iterable, List, Optional, Set

import pyarrow as pa
import pyarrow.parquet as pq

from wiredesk.schemas import tables

NAMESPACE = "wiredesk"
CATALOG_FILE = "catalog.db"
DATA = "data"
HINT = "version-hint.text"
#: The data tables, in commit order, and the runs log last.
DATA_TABLES = ("articles", "duplicates", "events", "rejects", "superseded")

RUNS = tables.schema("runs", [
    tables.field("run_id", pa.string(), "The run's id (`--run_id`, or the time and a digest of its inputs).",
                 nullable=False),
    tables.field("committed_at", tables.TS, "When the run's tables were committed, in UTC.", nullable=False),
    tables.field("inputs", pa.list_(pa.string()), "The run's `--input` paths as given."),
    tables.field("data_directory", pa.string(), "Where the run's Parquet files are, below the table root.",
                 nullable=False),
    *[tables.field(f"{name}_snapshot_id", pa.int64(), f"The `{name}` snapshot this run committed (time travel: "
                   "the table as this run left it); null when the table did not change.") for name in DATA_TABLES],
    tables.field("manifest", pa.string(), "The run's manifest (`_manifest.json`): counts, options, versions, as "
                 "JSON.", nullable=False),
])

SCHEMAS: Dict[str, pa.Schema] = {**{name: tables.TABLES[name] for name in DATA_TABLES}, "runs": RUNS}


class TableRootError(ValueError):
    """A --table_root wiredesk cannot use; the message says why."""


def local_root(root: str) -> str:
    """The absolute local path of ``root``: the embedded SQLite catalog needs a local directory."""
    if root.startswith("file://"):
        root = root[len("file://"):]
    if "://" in root:
        raise TableRootError(f"--table_root {root}: only a local directory is supported (the SQLite catalog "
                             "lives in it)")
    return os.path.abspath(root)


def staging_dir(root: str, run_id: str) -> str:
    """Where Beam writes a run's files: below the root, a new directory for every attempt."""
    return os.path.join(local_root(root), DATA, f"{run_id}-{uuid.uuid4().hex[:8]}")


def iceberg_schema_of(schema: pa.Schema) -> pa.Schema:
    """The explicit pyarrow schema with each field's description as Iceberg's ``doc`` (nested fields too)."""
    def convert(f: pa.Field) -> pa.Field:
        type_ = f.type
        if pa.types.is_struct(type_):
            type_ = pa.struct([convert(type_.field(i)) for i in range(type_.num_fields)])
        elif pa.types.is_list(type_):
            type_ = pa.list_(convert(type_.value_field))
        doc = tables.description(f)
        return pa.field(f.name, type_, nullable=f.nullable, metadata={"doc": doc} if doc else None)
    return pa.schema([convert(f) for f in schema], metadata=schema.metadata)


def _root_catalog_class():
    from pyiceberg.catalog.sql import IcebergTables, SqlCatalog
    from pyiceberg.exceptions import CommitFailedException
    from pyiceberg.table import CommitTableResponse
    from sqlalchemy import update
    from sqlalchemy.orm import Session

    class RootCatalog(SqlCatalog):
        """pyiceberg's SQL catalog that, inside :meth:`one_commit`, swaps the pointers of every table committed
        there in one SQLite transaction: all tables of a run become visible together, or none does.

        Each table's new metadata file is written as pyiceberg does for a single commit; only the final pointer
        update (the same compare-and-swap ``UPDATE`` as ``SqlCatalog.commit_table``) is deferred and batched.
        """

        _pending: Optional[list] = None

        @contextmanager
        def one_commit(self):
            self._pending = []
            try:
                yield
                pending, self._pending = self._pending, None
                self._swap(pending)
            finally:
                self._pending = None

        def commit_table(self, table, requirements, updates):
            if self._pending is None:
                return super().commit_table(table, requirements, updates)
            name = table.name()
            if any(current.name() == name for current, _ in self._pending):
                raise RuntimeError(f"{name} committed twice in one commit")
            current = self.load_table(name)
            staged = self._update_and_stage_table(current, name, requirements, updates)
            if staged.metadata == current.metadata:
                return CommitTableResponse(metadata=current.metadata, metadata_location=current.metadata_location)
            self._write_metadata(metadata=staged.metadata, io=staged.io, metadata_path=staged.metadata_location)
            self._pending.append((current, staged))
            return CommitTableResponse(metadata=staged.metadata, metadata_location=staged.metadata_location)

        def _swap(self, pending) -> None:
            with Session(self.engine) as session:
                for current, staged in pending:
                    namespace, name = current.name()[:-1], current.name()[-1]
                    result = session.execute(
                        update(IcebergTables)
                        .where(IcebergTables.catalog_name == self.name,
                               IcebergTables.table_namespace == self.namespace_to_string(namespace),
                               IcebergTables.table_name == name,
                               IcebergTables.metadata_location == current.metadata_location)
                        .values(metadata_location=staged.metadata_location,
                                previous_metadata_location=current.metadata_location))
                    if result.rowcount < 1:
                        session.rollback()
                        raise CommitFailedException(f"{name} was changed by another process while this one "
                                                    "committed: nothing was committed")
                session.commit()

    return RootCatalog


def open_root(root: str):
    """The root's catalog, with the namespace and every table created on first use."""
    path = local_root(root)
    os.makedirs(os.path.join(path, DATA), exist_ok=True)
    catalog = _root_catalog_class()(NAMESPACE, uri=f"sqlite:///{os.path.join(path, CATALOG_FILE)}",
                                    warehouse=f"file://{path}")
    catalog.create_namespace_if_not_exists(NAMESPACE)
    for name, schema in SCHEMAS.items():
        catalog.create_table_if_not_exists(f"{NAMESPACE}.{name}", schema=iceberg_schema_of(schema))
    return catalog


def load(catalog, name: str):
    return catalog.load_table(f"{NAMESPACE}.{name}")


def write_hints(catalog) -> None:
    """``metadata/version-hint.text`` of every table: its current metadata file, for readers without the catalog.

    Written after the catalog commit (each hint replaced atomically); the catalog stays the authority, and every
    commit rewrites all hints, so a run killed between the two is repaired by the next commit.
    """
    for name in SCHEMAS:
        location = load(catalog, name).metadata_location
        directory = os.path.dirname(location[len("file://"):] if location.startswith("file://") else location)
        version = os.path.basename(location)[:-len(".metadata.json")]
        tmp = os.path.join(directory, f".{HINT}.{uuid.uuid4().hex}")
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(version)
        os.replace(tmp, os.path.join(directory, HINT))


def column_values(paths: Iterable[str], column: str) -> Set[str]:
    """Distinct non-null values of ``column`` in the Parquet files ``paths``."""
    found: Set[str] = set()
    for path in paths:
        found.update(v for v in pq.read_table(path, columns=[column]).column(column).to_pylist() if v is not None)
    return found


def scan_values(table, row_filter, column: str) -> Set[str]:
    rows = table.scan(row_filter=row_filter, selected_fields=(column,)).to_arrow()
    return {v for v in rows.column(column).to_pylist() if v is not None}


def replaced_keys(catalog, files: Dict[str, List[str]]):
    """{table: the delete predicate of the rows the run's files replace} (see the module's docstring)."""
    from pyiceberg.expressions import And, In, Not

    article_ids = column_values(files.get("articles", []), "article_id")
    origins = set().union(*(column_values(files.get(name, []), "origin")
                            for name in ("articles", "rejects", "superseded")))
    event_ids = column_values(files.get("events", []), "event_id")
    predicates = {}
    if article_ids:
        predicates["articles"] = predicates["duplicates"] = In("article_id", article_ids)
        articles = load(catalog, "articles")
        # events that pointed at the replaced rows and that no other current row points at any more
        candidates = scan_values(articles, In("article_id", article_ids), "event_id") - event_ids
        if candidates:
            kept = scan_values(articles, And(In("event_id", candidates), Not(In("article_id", article_ids))),
                               "event_id")
            event_ids = event_ids | (candidates - kept)
    if event_ids:
        predicates["events"] = In("event_id", event_ids)
    if origins:
        predicates["rejects"] = predicates["superseded"] = In("origin", origins)
    return predicates


def commit_run(root: str, staging: str, files: Dict[str, List[str]], manifest: Dict) -> Dict[str, Optional[int]]:
    """Commit a verified run: in every table, its keys' earlier rows replaced by its files; all tables at once.

    ``files``: {table: paths relative to ``staging``} (``run.list_tables``). Returns {table: new snapshot id}.
    """
    catalog = open_root(root)
    paths = {name: [os.path.join(staging, rel) for rel in rels] for name, rels in files.items()}
    predicates = replaced_keys(catalog, paths)
    properties = {"wiredesk.run_id": manifest["run_id"]}
    snapshots: Dict[str, Optional[int]] = {}
    with catalog.one_commit():
        for name in DATA_TABLES:
            table = load(catalog, name)
            before = table.metadata.current_snapshot_id
            with table.transaction() as txn:
                with txn.update_schema() as update:  # an additive change of schemas/tables.py: columns added
                    update.union_by_name(iceberg_schema_of(SCHEMAS[name]))
                if name in predicates:
                    with warnings.catch_warnings():  # "did not match any records": nothing to replace
                        warnings.simplefilter("ignore")
                        txn.delete(predicates[name], snapshot_properties=properties)
                if paths.get(name):
                    txn.add_files(paths[name], snapshot_properties=properties)
                after = txn.table_metadata.current_snapshot_id
            snapshots[name] = after if after != before else None
        runs = load(catalog, "runs")
        row = {"run_id": manifest["run_id"], "committed_at": _dt.datetime.now(_dt.timezone.utc),
               "inputs": manifest.get("inputs"), "data_directory": os.path.relpath(staging, local_root(root)),
               "manifest": json.dumps(manifest, sort_keys=False),
               **{f"{name}_snapshot_id": snapshots[name] for name in DATA_TABLES}}
        runs.append(pa.Table.from_pylist([row], schema=RUNS), snapshot_properties=properties)
    write_hints(catalog)
    return snapshots


def current_rows(root: str, name: str, snapshot_id: Optional[int] = None) -> pa.Table:
    """A table's current rows (or as of ``snapshot_id``), read through the catalog."""
    return load(open_root(root), name).scan(snapshot_id=snapshot_id).to_arrow()
