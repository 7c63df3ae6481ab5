"""Explicit pyarrow schemas of the files ``wiredesk run --state`` keeps between runs (never inferred).

``STATE/v-<run>/canonicals/part-SSSSS.parquet``: one row per canonical story inside the retention horizon, with
what the next run needs of it: its dedup keys and MinHash sketches, its event member (vector, blocking keys,
background) and its event. ``STATE/v-<run>/df/part-00000.parquet``: the events stage's document frequencies
(the non-zero counters of its count-min sketch; its number of articles in the metadata). Every file carries the
state header (:data:`HEADER_KEY`: the parameters that shaped it, JSON) in its Parquet key-value metadata.
"""
from __future__ import annotations

import pyarrow as pa

from wiredesk.schemas.tables import field

#: Version of the state files' layout; a state of another version is refused like other parameters.
STATE_FORMAT = "1"
#: Parquet key-value metadata keys.
HEADER_KEY = "wiredesk.state.header"
TABLE_KEY = "wiredesk.state.table"
N_DOCS_KEY = "wiredesk.state.n_docs"

CANONICALS_FIELDS = [
    field("article_id", pa.string(), "The canonical story (`articles.article_id` of the run that saw it).",
          nullable=False),
    field("seen_at", pa.float64(), "Its `published_at`, else `ingested_at`, in seconds since the epoch (the "
          "retention horizon counts back from the latest of these the state has seen)."),
    field("exact_key", pa.string(), "Exact-duplicate key (`dedup.canonical.exact_key`: the body's hash, or the "
          "headline-and-words hash of a short body).", nullable=False),
    field("rank_undated", pa.int32(), "Canonical rank: 0 dated, 1 unparseable date, 2 none.", nullable=False),
    field("rank_epoch_us", pa.int64(), "Canonical rank: `published_at` in microseconds.", nullable=False),
    field("rank_timestamp_text", pa.string(), "Canonical rank: an unparseable `published_at` as text.",
          nullable=False),
    field("rank_minus_length", pa.int64(), "Canonical rank: minus the body length.", nullable=False),
    field("rank_source", pa.int32(), "Canonical rank: position of the source in `--source_priority`.",
          nullable=False),
    field("shingles", pa.int64(), "Distinct shingles of the body; null for a short body (exact path only)."),
    field("signature", pa.binary(), "MinHash signature, little-endian uint32 (null for a short body)."),
    field("sketch", pa.binary(), "Bottom-k verification sketch, sorted little-endian uint32 (null for a short "
          "body)."),
    field("time", pa.float64(), "Events: the member's time, seconds since the epoch (null: none)."),
    field("vector", pa.binary(), "Events: the packed tf-idf vector the run made of it (`vectors.pack_vector`), "
          "before neighbour expansion.", nullable=False),
    field("blocking_keys", pa.list_(pa.string()), "Events: the features its blocking keys are chosen from, "
          "highest-weighted first (every run takes the first `block_keys` of them that are shared and not common "
          "under its own document frequencies: a feature only this story had becomes a key once a later story "
          "shares it).", nullable=False),
    field("background", pa.float64(), "Events: its background similarity in the last run (recomputed by each "
          "run against that run's reference sample).", nullable=False),
    field("event_id", pa.string(), "Its event (`articles.event_id`), after any merge.", nullable=False),
]

DF_FIELDS = [
    field("cell", pa.int64(), "Index of a non-zero counter of the count-min sketch (row * width + column).",
          nullable=False),
    field("count", pa.int64(), "Its count.", nullable=False),
]


def canonicals_schema(header_json: str) -> pa.Schema:
    return pa.schema(CANONICALS_FIELDS, metadata={TABLE_KEY: "canonicals", HEADER_KEY: header_json})


def df_schema(header_json: str, n_docs: int) -> pa.Schema:
    return pa.schema(DF_FIELDS, metadata={TABLE_KEY: "df", HEADER_KEY: header_json, N_DOCS_KEY: str(n_docs)})
