"""The state stage (``wiredesk run --state``): read an earlier run's state as PCollections, feed it to the dedup
and events stages joined by key, and write the next state.

Reading: one element per state file (listed by the manifest), spread by a Reshuffle; each is read whole by one
worker (a file is a shard of the state, never the state), checked against the manifest's size, SHA-256 and row
count and against the header, then turned into typed records. Nothing of the state is a side input except the
document-frequency sketch, which the events stage already hands every worker (fixed size).

Writing: this run's canonical stories (their dedup keys and sketches, their events member and event) and the
earlier ones still inside the horizon, merged events renamed, into a new version folder; the launcher
(``pipeline.state``) writes the manifest and swaps the pointer once the run's outputs are committed.
"""
from __future__ import annotations

import hashlib
import io
import json
from typing import Dict, Iterable, List, Optional, Sequence

import apache_beam as beam
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics import Metrics
from apache_beam.typehints import KV

from wiredesk.schemas import state as schema
from wiredesk.schemas.records import Article
from wiredesk.transforms.cleaning.timestamps import epoch_seconds
from wiredesk.transforms.dedup.records import ExactMember, Features, Rank
from wiredesk.transforms.events.frequencies import DEPTH, WIDTH, DfSketch
from wiredesk.transforms.events.records import BlockMember, PriorMember
from wiredesk.transforms.join import JoinByKey
from wiredesk.transforms.state.records import NewStory, StateCanonical, StateFile, StateKey

__all__ = ["NAMESPACE", "StateFileError", "ReadState", "PriorInputs", "BuildState", "to_row", "from_row",
           "SHARDS", "FILES"]

NAMESPACE = "wiredesk.state"
#: Files of the canonicals table (rows go to one by a stable hash of their id).
SHARDS = 4
#: Written by the pipeline into the version folder: the files it wrote and the latest time seen.
FILES = "_files.json"


class StateFileError(RuntimeError):
    """A state file does not match the manifest (torn or altered state)."""


# -- rows ----------------------------------------------------------------------

def to_row(r: StateCanonical) -> Dict:
    f = r.features
    return {
        "article_id": r.article_id, "seen_at": r.seen_at, "exact_key": r.exact_key,
        "rank_undated": r.rank.undated, "rank_epoch_us": r.rank.epoch_us, "rank_timestamp_text": r.rank.timestamp_text,
        "rank_minus_length": r.rank.minus_length, "rank_source": r.rank.source_rank,
        "shingles": None if f is None else f.shingles, "signature": None if f is None else f.signature,
        "sketch": None if f is None else f.sketch,
        "time": r.member.time, "vector": r.member.vector, "blocking_keys": list(r.member.keys),
        "background": float(r.member.background), "event_id": r.event_id,
    }


def from_row(d: Dict) -> StateCanonical:
    rank = Rank(d["rank_undated"], d["rank_epoch_us"], d["rank_timestamp_text"], d["rank_minus_length"],
                d["rank_source"], d["article_id"])
    features = None if d["signature"] is None else Features(d["article_id"], rank, d["shingles"], d["signature"],
                                                             d["sketch"])
    member = BlockMember(d["article_id"], d["time"], d["vector"], list(d["blocking_keys"]), d["background"])
    return StateCanonical(d["article_id"], d["seen_at"], d["exact_key"], rank, features, member, d["event_id"])


# -- reading -------------------------------------------------------------------

def read_verified(base: str, entry: Dict) -> bytes:
    """A state file's bytes, refused unless its size and SHA-256 are the manifest's."""
    path = FileSystems.join(base, entry["name"])
    try:
        with FileSystems.open(path) as fh:
            data = fh.read()
    except Exception as exc:  # noqa: BLE001 - any filesystem's error: the state is torn
        raise StateFileError(f"state file {path} cannot be read ({exc}): the state is torn; rebuild it") from exc
    if len(data) != entry["size"] or hashlib.sha256(data).hexdigest() != entry["sha256"]:
        raise StateFileError(f"state file {path} does not match its manifest (size or SHA-256): the state is torn "
                             "or was altered; delete it or use a new --state path")
    return data


def parse_verified(base: str, entry: Dict, header: str) -> pa.Table:
    table = pq.read_table(pa.BufferReader(read_verified(base, entry)))
    meta = table.schema.metadata or {}
    if meta.get(schema.HEADER_KEY.encode()) != header.encode() or table.num_rows != entry["rows"]:
        raise StateFileError(f"state file {entry['name']} under {base}: its header or row count is not the "
                             "manifest's: the state is torn or mixed; delete it or use a new --state path")
    return table


class ReadCanonicalsFn(beam.DoFn):
    def __init__(self, base: str, header: str):
        self.base, self.header = base, header

    def setup(self):
        self.rows = Metrics.counter(NAMESPACE, "prior_canonicals")

    def process(self, entry):
        table = parse_verified(self.base, entry, self.header)
        self.rows.inc(table.num_rows)
        for d in table.to_pylist():
            yield from_row(d)


class ReadDfFn(beam.DoFn):
    def __init__(self, base: str, header: str):
        self.base, self.header = base, header

    def process(self, entry):
        table = parse_verified(self.base, entry, self.header)
        n_docs = int(table.schema.metadata[schema.N_DOCS_KEY.encode()])
        counts = np.zeros(DEPTH * WIDTH, dtype=np.uint32)
        counts[table.column("cell").to_numpy()] = table.column("count").to_numpy().astype(np.uint32)
        yield DfSketch(counts.reshape(DEPTH, WIDTH), n_docs)


class ReadState(beam.PTransform):
    """The state files a manifest lists -> {"canonicals": StateCanonical, "df": DfSketch (one, or none)}."""

    def __init__(self, base: str, files: Sequence[Dict], header: str):
        super().__init__()
        self.base, self.files, self.header = base, list(files), header

    def expand(self, p):
        def files_of(table):
            return sorted((f for f in self.files if f["table"] == table), key=lambda f: f["name"])
        canonicals = (
            p | "CanonicalFiles" >> beam.Create(files_of("canonicals"))
            | "Spread" >> beam.Reshuffle()
            | "ReadCanonicals" >> beam.ParDo(ReadCanonicalsFn(self.base, self.header)).with_output_types(
                StateCanonical))
        df = (p | "DfFiles" >> beam.Create(files_of("df"))
              | "ReadDf" >> beam.ParDo(ReadDfFn(self.base, self.header)))
        return {"canonicals": canonicals, "df": df}


def _not_superseded(element) -> List[StateCanonical]:
    """(id, {"prior": [row], "new": [...]}) -> the row, unless this run has a story of that id (its new version)."""
    _, joined = element
    return [] if joined["new"] else list(joined["prior"])


class PriorInputs(beam.PTransform):
    """(state rows, this run's articles) -> {"dedup": KV[exact key, ExactMember], "events": PriorMember}: the
    earlier canonicals as the dedup and events stages take them, minus those this run sends again by id."""

    def expand(self, inputs):
        rows, articles = inputs
        kept = (
            {"prior": rows | "PriorById" >> beam.Map(lambda r: (r.article_id, r)).with_output_types(
                KV[str, StateCanonical]),
             "new": articles | "NewIds" >> beam.Map(lambda a: (a.article_id, 1)).with_output_types(KV[str, int])}
            | "JoinNewIds" >> JoinByKey()
            | "NotSuperseded" >> beam.FlatMap(_not_superseded).with_output_types(StateCanonical))
        dedup = kept | "DedupMembers" >> beam.Map(
            lambda r: (r.exact_key, ExactMember(r.rank, r.article_id, r.features))).with_output_types(
            KV[str, ExactMember])
        events = kept | "EventMembers" >> beam.Map(lambda r: PriorMember(r.member, r.event_id)).with_output_types(
            PriorMember)
        return {"dedup": dedup, "events": events, "rows": kept}


# -- writing -------------------------------------------------------------------

def _seen_at(article: Article) -> Optional[float]:
    for value in (article.published_at, article.ingested_at):
        try:
            t = epoch_seconds(value) if value else None
        except ValueError:
            t = None
        if t is not None:
            return t
    return None


def _state_row(element) -> List[StateCanonical]:
    """(id, {"story", "key", "member", "prior"}) -> its state row: a canonical of this run, or an earlier one
    (its member's background refreshed)."""
    article_id, j = element
    member = next(iter(j["member"]), None)
    story = next(iter(j["story"]), None)
    if story is not None:
        key = next(iter(j["key"]), None)
        candidates = next(iter(j["candidates"]), None)
        if key is None or member is None:
            return []
        member = member._replace(keys=list(candidates if candidates is not None else member.keys))
        return [StateCanonical(article_id, story.seen_at, key.exact_key, key.member.rank, key.member.features,
                               member, story.event_id)]
    prior = next(iter(j["prior"]), None)
    if prior is None:
        return []
    if member is None:
        return [prior]
    # the stored key candidates stay (this run chose its keys from them); the background is this run's
    return [prior._replace(member=prior.member._replace(background=member.background))]


def _renamed(element) -> List[StateCanonical]:
    """(event id, {"row": [rows], "to": [surviving id]}) -> the rows, under the surviving id when merged."""
    _, j = element
    to = min(j["to"], default=None)
    return [r if to is None else r._replace(event_id=to) for r in j["row"]]


def _latest(values: Iterable[Optional[float]], floor: Optional[float]) -> Optional[float]:
    known = [v for v in values if v is not None]
    if floor is not None:
        known.append(floor)
    return max(known) if known else None


class EvictFn(beam.DoFn):
    """Rows older than the horizon (counted back from the latest time seen) are dropped."""

    def __init__(self, horizon_days: float):
        self.horizon = horizon_days * 86400.0

    def setup(self):
        self.kept = Metrics.counter(NAMESPACE, "state_rows")
        self.evicted = Metrics.counter(NAMESPACE, "evicted_rows")

    def process(self, row: StateCanonical, latest: Optional[float]):
        if row.seen_at is None and latest is not None:
            row = row._replace(seen_at=latest)  # no time of its own: it is as old as the run that saw it
        if latest is not None and row.seen_at is not None and row.seen_at < latest - self.horizon:
            self.evicted.inc()
            return
        self.kept.inc()
        yield row


def _shard(article_id: str) -> int:
    return int.from_bytes(hashlib.blake2b(article_id.encode("utf-8"), digest_size=8).digest(), "big") % SHARDS


def write_file(base: str, name: str, table: pa.Table, kind: str) -> StateFile:
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="zstd")
    data = buf.getvalue()
    with FileSystems.create(FileSystems.join(base, name)) as fh:
        fh.write(data)
    return StateFile(kind, name, table.num_rows, len(data), hashlib.sha256(data).hexdigest())


class WriteCanonicalsFn(beam.DoFn):
    """(shard, rows) -> one file, rows sorted by id (the same bytes for the same rows; a retry rewrites it)."""

    def __init__(self, base: str, header: str):
        self.base, self.header = base, header

    def process(self, element):
        shard, rows = element
        rows = sorted(rows, key=lambda r: r.article_id)
        table = pa.Table.from_pylist([to_row(r) for r in rows], schema=schema.canonicals_schema(self.header))
        yield write_file(self.base, f"canonicals/part-{shard:05d}.parquet", table, "canonicals")


class WriteDfFn(beam.DoFn):
    def __init__(self, base: str, header: str):
        self.base, self.header = base, header

    def process(self, df: DfSketch):
        flat = df.counts.ravel()
        cells = np.flatnonzero(flat)
        table = pa.Table.from_arrays([pa.array(cells.astype(np.int64)), pa.array(flat[cells].astype(np.int64))],
                                     schema=schema.df_schema(self.header, df.n_docs))
        yield write_file(self.base, "df/part-00000.parquet", table, "df")


def _write_listing(files: List[StateFile], latest: Optional[float], base: str) -> int:
    listing = {"files": [f._asdict() for f in sorted(files, key=lambda f: f.name)], "latest_seen_at": latest}
    with FileSystems.create(FileSystems.join(base, FILES)) as fh:
        fh.write(json.dumps(listing, indent=1).encode("utf-8"))
    return len(files)


class BuildState(beam.PTransform):
    """This run's outputs and the earlier state -> the next state's files under ``base`` (and ``_files.json``).

    Inputs (a dict): "articles" (the events stage's, with event ids), "keys" (the dedup stage's
    ``KV[exact key, ExactMember]``), "members" (the events stage's members, earlier ones included),
    "candidates" (each new canonical's key candidates, kept in place of its keys), "merges"
    (merged-away event id, surviving id), "df" (the merged DfSketch) and "prior" (the earlier rows kept, or
    None). Joined by article id, then by event id; the horizon counts back from the latest time seen (this
    run's and ``prior_latest``, the state's), not the clock, so a rerun writes the same state.
    """

    def __init__(self, base: str, header: str, horizon_days: float, prior_latest: Optional[float] = None):
        super().__init__()
        self.base, self.header, self.horizon_days, self.prior_latest = base, header, horizon_days, prior_latest

    def expand(self, inputs):
        joined = {
            "story": (inputs["articles"]
                      | "Canonicals" >> beam.Filter(lambda a: a.duplicate_of is None)
                      | "Stories" >> beam.Map(lambda a: (a.article_id, NewStory(_seen_at(a), a.event_id)))
                      .with_output_types(KV[str, NewStory])),
            "key": inputs["keys"] | "KeysById" >> beam.MapTuple(
                lambda k, m: (m.article_id, StateKey(k, m))).with_output_types(KV[str, StateKey]),
            "member": inputs["members"] | "MembersById" >> beam.Map(
                lambda m: (m.article_id, m)).with_output_types(KV[str, BlockMember]),
        }
        if inputs.get("candidates") is not None:
            joined["candidates"] = inputs["candidates"]
        if inputs.get("prior") is not None:
            joined["prior"] = inputs["prior"] | "PriorById" >> beam.Map(
                lambda r: (r.article_id, r)).with_output_types(KV[str, StateCanonical])
        rows = (joined | "JoinById" >> JoinByKey()
                | "Rows" >> beam.FlatMap(lambda e: _state_row((e[0], {"prior": [], "candidates": [], **e[1]})))
                .with_output_types(StateCanonical))
        if inputs.get("merges") is not None:
            rows = (
                {"row": rows | "ByEvent" >> beam.Map(lambda r: (r.event_id, r)).with_output_types(
                    KV[str, StateCanonical]),
                 "to": inputs["merges"]}
                | "JoinMerges" >> JoinByKey()
                | "Renamed" >> beam.FlatMap(_renamed).with_output_types(StateCanonical))
        # every story of the run counts (copies too), and what the state had seen before
        latest = (inputs["articles"] | "SeenAt" >> beam.Map(_seen_at)
                  | "Latest" >> beam.CombineGlobally(_latest, self.prior_latest))
        kept = rows | "Evict" >> beam.ParDo(EvictFn(self.horizon_days), beam.pvalue.AsSingleton(latest)
                                            ).with_output_types(StateCanonical)
        files = (kept
                 | "ToShards" >> beam.Map(lambda r: (_shard(r.article_id), r)).with_output_types(
                     KV[int, StateCanonical])
                 | "GroupShards" >> beam.GroupByKey()
                 | "WriteCanonicals" >> beam.ParDo(WriteCanonicalsFn(self.base, self.header))
                 .with_output_types(StateFile))
        df_files = inputs["df"] | "WriteDf" >> beam.ParDo(WriteDfFn(self.base, self.header)).with_output_types(
            StateFile)
        return ((files, df_files) | "AllFiles" >> beam.Flatten()
                | "Listed" >> beam.combiners.ToList()
                | "WriteListing" >> beam.Map(_write_listing, beam.pvalue.AsSingleton(latest), self.base))
