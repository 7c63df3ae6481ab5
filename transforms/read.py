"""Read stage: input paths -> WireRecords, and rejects for what cannot be read.

A PATH is a file, a directory (every file below it) or a glob, on any
filesystem Beam knows. Inside a directory, names starting with '.' or '_' are
skipped, as Hadoop and Spark do (``_manifest.json``, ``.DS_Store``), and so are
the documents that travel with data sets (README, LICENSE, NOTICE, CHANGELOG,
COPYING, any ``.md`` file). A file named explicitly is always read.
Formats are detected per file by ``transforms.formats``.
"""
from __future__ import annotations

import datetime as _dt
import posixpath

import apache_beam as beam
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics import Metrics

from wiredesk.schemas.records import RAW_MAX_CHARS, InputFile, Reject, WireRecord, make_reject
from wiredesk.transforms import formats
from wiredesk.transforms.outputs import ParDoOutputs

NAMESPACE = "wiredesk.read"
REJECTS = "rejects"
GLOB_CHARS = set("*?[")


def is_glob(path: str) -> bool:
    return any(c in GLOB_CHARS for c in path)


def is_hidden_below(path: str, root: str) -> bool:
    """True when a path component below ``root`` starts with '.' or '_'."""
    rel = path[len(root):].lstrip("/\\")
    return any(part.startswith((".", "_")) for part in rel.replace("\\", "/").split("/") if part)


DOCUMENT_NAMES = frozenset({"README", "LICENSE", "LICENCE", "NOTICE", "CHANGELOG", "COPYING"})


def is_document(path: str) -> bool:
    """True for a data set's own documentation (README.md, LICENSE.txt, ...)."""
    name = path.replace("\\", "/").rsplit("/", 1)[-1]
    stem, _, ext = name.partition(".")
    return stem.upper() in DOCUMENT_NAMES or name.lower().endswith(".md")


def _folder_of(path: str) -> str:
    """The folder part of ``path``, with its trailing "/" ("a/b/c.txt" -> "a/b/"; "c.txt" -> "")."""
    return path[: path.rfind("/") + 1]


def glob_folder(pattern: str) -> str:
    """The folder of a glob's fixed part ("archive/*/001.txt" -> "archive/")."""
    return _folder_of(pattern[: min(pattern.index(c) for c in GLOB_CHARS if c in pattern)])


def _keep(m, root: str) -> bool:
    return not is_hidden_below(m.path, root) and not is_document(m.path)


def expand_path(path: str):
    """File paths for one PATH, plus its sorted metadata (deterministic order).

    A directory is matched as ``PATH/**``; a plain name that matches nothing as a
    directory is matched as itself.
    """
    if is_glob(path):
        root = glob_folder(path)
        found = FileSystems.match([path])[0].metadata_list
        return sorted((m for m in found if _keep(m, root)), key=lambda m: m.path)
    root = path.rstrip("/")
    below = FileSystems.match([root + "/**"])[0].metadata_list
    if below:
        return sorted((m for m in below if _keep(m, root)), key=lambda m: m.path)
    return FileSystems.match([path])[0].metadata_list


def _clean(path: str) -> str:
    """A path in one spelling for naming: "/" separators, no "./" segments."""
    path = path.replace("\\", "/")
    if "://" in path:
        return path
    cleaned = posixpath.normpath(path)
    return "" if cleaned == "." else cleaned


def _container(path: str) -> str:
    """The directory that holds everything PATH names: a glob's fixed folder, else PATH's parent."""
    path = _clean(path)
    return glob_folder(path) if is_glob(path) else _folder_of(path.rstrip("/"))


def name_root(paths) -> str:
    """The deepest folder that holds every input PATH: the prefix :func:`input_name` strips.

    So ``--input archive`` names its files "archive/business/001.txt", two inputs
    ``feed1/*.jsonl feed2/*.jsonl`` name theirs "feed1/x.jsonl" and "feed2/x.jsonl",
    and a single file is named by its own name: names differ whenever paths do,
    and stay the same wherever the inputs sit, as long as they are given alike.
    """
    containers = [_container(p) for p in paths]
    if not containers:
        return ""
    common = posixpath.commonprefix(containers)
    return _folder_of(common)


def input_name(file_path: str, root: str) -> str:
    """``file_path`` below ``root`` (see :func:`name_root`), with "/" separators."""
    path = _clean(file_path)
    name = path[len(root):] if root and path.startswith(root) else path
    return name.lstrip("/") or posixpath.basename(path)


def mtime_rfc3339(seconds) -> str | None:
    if not seconds:
        return None
    t = _dt.datetime.fromtimestamp(float(seconds), tz=_dt.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class ExpandPathsFn(beam.DoFn):
    """PATH -> an InputFile for every file it names.

    A path naming nothing is not a record, so it is counted, not rejected: the
    CLI refuses a missing file or directory before the run starts, while a
    scheduled glob that finds no new files is a legitimate empty run.
    """

    def __init__(self, root: str = ""):
        #: The prefix stripped from file paths to name them (:func:`name_root` of all inputs).
        self.root = root
        #: Input paths that named no file.
        self.unmatched = Metrics.counter(NAMESPACE, "unmatched_paths")
        #: Files found under the input paths.
        self.files = Metrics.counter(NAMESPACE, "files")

    def process(self, path):
        found = expand_path(path)
        if not found:
            self.unmatched.inc()
        for meta in found:
            self.files.inc()
            yield InputFile(meta.path, input_name(meta.path, self.root), mtime_rfc3339(meta.last_updated_in_seconds))


class ParseFileFn(beam.DoFn):
    """InputFile -> one WireRecord or one Reject per record in the file."""

    def __init__(self, raw_max_chars: int = RAW_MAX_CHARS):
        self.raw_max_chars = raw_max_chars
        #: Records found in the input, parsed or not: the left side of
        #: records read = articles + rejects + superseded.
        self.records_read = Metrics.counter(NAMESPACE, "records_read")
        #: Records that could not be parsed (see the rejects table for why).
        self.rejected = Metrics.counter(NAMESPACE, "rejected")

    def process(self, element: InputFile):
        path, name, ingested_at = element
        count = 0
        try:
            with FileSystems.open(path, compression_type=CompressionTypes.AUTO) as fh:
                for item in formats.iter_file(path, fh, ingested_at, name=name):
                    count += 1
                    yield from self._emit(item, ingested_at, name)
        except Exception as exc:
            # The reader itself broke (I/O error, corrupt compression): what was
            # read so far stands, the rest of the file is one reject.
            count += 1
            yield from self._emit(make_reject(
                "read", f"{type(exc).__name__}: {exc}", path,
                f"after record {count - 1}", f"{posixpath.basename(path)}: unreadable from here",
                ingested_at=ingested_at), ingested_at, name)

    def _emit(self, item, ingested_at, name):
        self.records_read.inc()
        if isinstance(item, WireRecord):
            yield item._replace(input_name=name)
        else:
            self.rejected.inc()
            if item.ingested_at is None and ingested_at is not None:
                item = item._replace(ingested_at=ingested_at)
            if len(item.raw) > self.raw_max_chars:
                item = item._replace(raw=item.raw[: self.raw_max_chars], raw_truncated=True)
            yield beam.pvalue.TaggedOutput(REJECTS, item)


class ReadWire(beam.PTransform):
    """Paths -> ``records`` (WireRecord) and ``rejects`` (Reject, stage "read")."""

    def __init__(self, paths, raw_max_chars: int = RAW_MAX_CHARS):
        super().__init__()
        self.paths = list(paths)
        self.raw_max_chars = raw_max_chars

    def expand(self, pbegin):
        parsed = (
            pbegin
            | "Paths" >> beam.Create(self.paths)
            | "ExpandPaths" >> beam.ParDo(ExpandPathsFn(name_root(self.paths))).with_output_types(InputFile)
            | "SpreadFiles" >> beam.Reshuffle()
            | "ParseFiles" >> ParDoOutputs(ParseFileFn(self.raw_max_chars), {"records": WireRecord, REJECTS: Reject})
        )
        return {"records": parsed["records"], "rejects": parsed[REJECTS]}
