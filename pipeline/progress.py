"""Live progress of a run: a line on stderr every few seconds while the pipeline runs.

    wiredesk 0:12  read 4,210 (351/s)  stories 4,180  rejects 30  copies 112  events 83
        articles [##########..........]  50% 2,090/4,180   (one line)

Where the counts come from depends on the runner:

- **DirectRunner** (``FnApiRunner``, in ``in_memory`` and ``multi_processing``
  mode, and other runners whose workers share this machine's filesystem):
  ``p.run()`` runs the whole pipeline before it returns and Beam's metrics are
  only reported at the end, so :func:`attach` adds a counting step beside each
  collection of interest (:data:`COLLECTIONS`). Each counting DoFn instance
  keeps its count in memory and writes it, at most every ``every`` seconds
  within a bundle and once when a bundle ends (the DirectRunner gives each
  worker one large bundle per stage), to its own small file
  ``NAME.PID.RANDOM.count`` in a directory under the run's staging directory,
  replacing it atomically. A thread in the CLI process reads and sums those
  files. Worker processes of ``multi_processing`` write to the same directory.
- **Runners that report live metrics** (Dataflow, a portable job service):
  ``p.run()`` returns while the job runs, and the thread polls
  ``PipelineResult.metrics()`` for wiredesk's own counters instead
  (:func:`counts_from_metrics`).

Progress is never a correctness dependency: any failure to write, read or
print is ignored, and the summary comes from the run's final counts.
"""
from __future__ import annotations

import os
import threading
import time
import uuid
from typing import Dict, Mapping, Optional, TextIO

import apache_beam as beam

#: Seconds between two progress lines, unless --progress_interval or this environment variable says otherwise.
DEFAULT_INTERVAL = 5.0
INTERVAL_ENV = "WIREDESK_PROGRESS_INTERVAL"
#: Where the counting steps write, below the run's staging directory ('_' hides it from readers).
DIRECTORY = "_progress"
SUFFIX = ".count"

#: Progress name -> the collection of ``build_pipeline``'s outputs it counts.
COLLECTIONS = {
    "records": "records",                  # parsed records (records read = records + read rejects)
    "read_rejects": "read_rejects",
    "normalize_rejects": "normalize_rejects",
    "stories": "versions",                 # current versions: one per story, copies included
    "superseded": "superseded",
    "copies": "duplicates",
    "events": "events",
    "articles": "articles",                # stories with their event assigned, on their way to the writer
}
NAMES = tuple(COLLECTIONS)


def interval_from(value: Optional[str] = None) -> float:
    """Seconds between progress lines: ``value`` (a flag), else $WIREDESK_PROGRESS_INTERVAL, else 5."""
    for candidate in (value, os.environ.get(INTERVAL_ENV)):
        if candidate not in (None, ""):
            seconds = float(candidate)
            if not seconds > 0:
                raise ValueError(f"progress interval {candidate}: expected a positive number of seconds")
            return seconds
    return DEFAULT_INTERVAL


def write_every(interval: float) -> float:
    """How often a counting DoFn writes its count: twice per progress line, between 0.1 and 2 seconds."""
    return min(2.0, max(0.1, interval / 2))


class CountFn(beam.DoFn):
    """Counts the elements it sees into ``DIRECTORY/NAME.PID.RANDOM.count``; outputs nothing."""

    def __init__(self, directory: str, name: str, every: float):
        self.directory = directory
        self.name = name
        self.every = every

    def setup(self):
        self._path = os.path.join(self.directory, f"{self.name}.{os.getpid()}.{uuid.uuid4().hex[:12]}{SUFFIX}")
        self._count = self._written = 0
        self._last = time.monotonic()
        self._broken = False

    def process(self, element):
        self._count += 1
        if time.monotonic() - self._last >= self.every:
            self._flush()

    def finish_bundle(self):
        if self._count != self._written:
            self._flush()

    def teardown(self):
        if getattr(self, "_count", 0) != getattr(self, "_written", 0):
            self._flush()

    def _flush(self):
        self._last = time.monotonic()
        if self._broken:
            return
        try:
            os.makedirs(self.directory, exist_ok=True)
            temporary = self._path + ".tmp"
            with open(temporary, "w", encoding="ascii") as fh:
                fh.write(str(self._count))
            os.replace(temporary, self._path)
            self._written = self._count
        except OSError:  # progress is best effort: stop trying, never fail the bundle
            self._broken = True


def attach(outputs: Mapping[str, beam.PCollection], directory: str, every: float) -> None:
    """Add a counting step beside each of :data:`COLLECTIONS` in ``build_pipeline``'s outputs."""
    for name, collection in COLLECTIONS.items():
        if collection in outputs:
            _ = outputs[collection] | f"Progress[{name}]" >> beam.ParDo(CountFn(directory, name, every))


def read_counts(directory: str) -> Dict[str, int]:
    """The counts the counting steps wrote so far, summed per name; unreadable files are skipped."""
    counts = dict.fromkeys(NAMES, 0)
    try:
        names = os.listdir(directory)
    except OSError:
        return counts
    for file_name in names:
        if not file_name.endswith(SUFFIX):
            continue
        name = file_name.split(".", 1)[0]
        try:
            with open(os.path.join(directory, file_name), encoding="ascii") as fh:
                counts[name] = counts.get(name, 0) + int(fh.read() or 0)
        except (OSError, ValueError):
            continue
    return counts


def counts_from_metrics(result) -> Dict[str, int]:
    """The same counts from a running job's metrics (wiredesk's own counters, attempted values)."""
    found: Dict[str, int] = {}
    for c in result.metrics().query()["counters"]:
        key = f"{c.key.metric.namespace}.{c.key.metric.name}"
        found[key] = found.get(key, 0) + (c.attempted or c.committed or 0)
    read = found.get("wiredesk.read.records_read", 0)
    read_rejects = found.get("wiredesk.read.rejected", 0)
    superseded = found.get("wiredesk.versions.superseded", 0)
    return {
        "records": read - read_rejects,
        "read_rejects": read_rejects,
        "normalize_rejects": found.get("wiredesk.normalize.rejected", 0),
        "stories": max(0, found.get("wiredesk.normalize.articles", 0) - superseded),
        "superseded": superseded,
        "copies": sum(v for k, v in found.items()
                      if k.startswith("wiredesk.near_duplicates.") and k.endswith("_copies")),
        "events": found.get("wiredesk.events.events", 0),
        "articles": found.get("wiredesk.write.articles_rows", 0),
    }


def clock(seconds: float) -> str:
    """Elapsed time as M:SS or H:MM:SS."""
    seconds = int(seconds)
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def bar(done: int, total: int, width: int = 20) -> str:
    """``[########............]  40% 400/1,000``."""
    fraction = min(1.0, done / total) if total > 0 else 0.0
    filled = int(fraction * width)
    return f"[{'#' * filled}{'.' * (width - filled)}] {int(fraction * 100):3d}% {done:,}/{total:,}"


def format_line(counts: Mapping[str, int], elapsed: float, read_seconds: Optional[float] = None) -> str:
    """One progress line from the counts so far, ``elapsed`` seconds into the run.

    Records read (parsed + unparseable) with their average rate over ``read_seconds`` (the time until the count
    last grew; default ``elapsed``), stories, superseded versions (when any), rejects,
    copies and events so far; once stories reach the last step (their event assigned), a bar of how many of the
    stories did: that total is known by then, since the events need every story.
    """
    def get(name):
        return int(counts.get(name, 0) or 0)

    read = get("records") + get("read_rejects")
    seconds = elapsed if read_seconds is None else read_seconds
    rate = read / seconds if seconds > 0 else 0.0
    parts = [f"wiredesk {clock(elapsed)}", f"read {read:,} ({rate:,.0f}/s)", f"stories {get('stories'):,}"]
    if get("superseded"):
        parts.append(f"superseded {get('superseded'):,}")
    parts += [f"rejects {get('read_rejects') + get('normalize_rejects'):,}", f"copies {get('copies'):,}",
              f"events {get('events'):,}"]
    if get("articles") and get("stories"):
        parts.append("articles " + bar(get("articles"), get("stories")))
    return "  ".join(parts)


class Progress:
    """Prints :func:`format_line` to ``stream`` every ``interval`` seconds from a daemon thread.

    ``start(directory)`` reads the counting files under ``directory`` (None: none);
    ``watch(result)`` adds a running job's metrics as the source (runners whose
    ``run()`` returns before the job ends); ``stop()`` ends the thread. On a
    terminal the line is redrawn in place, otherwise one line per report.
    """

    def __init__(self, stream: TextIO, interval: float = DEFAULT_INTERVAL, clock=time.monotonic):
        self.stream = stream
        self.interval = interval
        self.clock = clock
        self.lines = 0
        self._directory: Optional[str] = None
        self._result = None
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._started = clock()
        self._read = 0
        self._read_seconds: Optional[float] = None
        try:
            self._tty = stream.isatty()
        except (AttributeError, ValueError, OSError):
            self._tty = False

    @property
    def every(self) -> float:
        return write_every(self.interval)

    def start(self, directory: Optional[str] = None) -> None:
        self._directory = directory
        self._started = self.clock()
        self._thread = threading.Thread(target=self._loop, name="wiredesk-progress", daemon=True)
        self._thread.start()

    def watch(self, result) -> None:
        self._result = result

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._tty and self.lines:
            self._write("\n")

    def snapshot(self) -> Optional[Dict[str, int]]:
        """The counts so far, or None when there is no source yet."""
        result = self._result
        if result is not None and not _finished(result):
            try:
                return counts_from_metrics(result)
            except Exception:  # a runner without live metrics: fall back to the files, if any
                pass
        if self._directory is not None:
            return read_counts(self._directory)
        return None

    def report(self) -> None:
        counts = self.snapshot()
        if counts is None:
            return
        elapsed = self.clock() - self._started
        read = counts.get("records", 0) + counts.get("read_rejects", 0)
        if read != self._read:  # the rate is the reading rate: it stops moving when reading is done
            self._read, self._read_seconds = read, elapsed
        line = format_line(counts, elapsed, self._read_seconds if self._read_seconds is not None else elapsed)
        self._write(f"\r{line}\x1b[K" if self._tty else line + "\n")
        self.lines += 1

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.report()
            except Exception:  # never let progress break a run
                pass

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):
            pass


def _finished(result) -> bool:
    try:
        from apache_beam.runners.runner import PipelineState

        return PipelineState.is_terminal(result.state)
    except Exception:
        return False
