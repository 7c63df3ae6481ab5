"""Progress lines and quiet logs: the line format, the counting channel, the log filter, and real runs' stderr."""
import io
import logging
import os
import re
import subprocess
import sys
from types import SimpleNamespace

import pytest

from wiredesk.pipeline import logs, progress
from wiredesk.pipeline.cli import run_flags

PROGRESS_LINE = re.compile(r"^wiredesk [\d:]+  read [\d,]+ \([\d,]+/s\)  stories [\d,]+  (superseded [\d,]+  )?"
                           r"rejects [\d,]+  copies [\d,]+  events [\d,]+"
                           r"(  articles \[[#.]{20}\] +\d+% [\d,]+/[\d,]+)?$")
#: What Beam, its workers and the libraries print through logging or straight to stderr.
BEAM_NOISE = re.compile(r"apache_beam|apitools|sdk_worker|semi_persistent|Discarding unparseable|"
                        r"^(INFO|WARNING|DEBUG):|BatchElements|Resource module", re.M)


def test_line_format():
    counts = {"records": 4200, "read_rejects": 10, "normalize_rejects": 20, "stories": 4180, "superseded": 0,
              "copies": 112, "events": 0, "articles": 0}
    assert progress.format_line(counts, 12.4) == \
        "wiredesk 0:12  read 4,210 (340/s)  stories 4,180  rejects 30  copies 112  events 0"
    counts.update(superseded=3, events=83, articles=2090)
    line = progress.format_line(counts, 3725, read_seconds=10)
    assert line == ("wiredesk 1:02:05  read 4,210 (421/s)  stories 4,180  superseded 3  rejects 30  copies 112  "
                    "events 83  articles [##########..........]  50% 2,090/4,180")
    assert PROGRESS_LINE.match(line)
    assert progress.format_line({}, 0) == "wiredesk 0:00  read 0 (0/s)  stories 0  rejects 0  copies 0  events 0"


def test_bar_and_clock():
    assert progress.bar(0, 10) == "[....................]   0% 0/10"
    assert progress.bar(15, 10) == "[####################] 100% 15/10"
    assert progress.bar(1, 0) == "[....................]   0% 1/0"
    assert [progress.clock(s) for s in (0, 59.9, 61, 3600)] == ["0:00", "0:59", "1:01", "1:00:00"]


def test_interval(monkeypatch):
    monkeypatch.delenv(progress.INTERVAL_ENV, raising=False)
    assert progress.interval_from() == progress.DEFAULT_INTERVAL == 5.0
    monkeypatch.setenv(progress.INTERVAL_ENV, "0.5")
    assert progress.interval_from() == 0.5
    assert progress.interval_from("2") == 2.0
    with pytest.raises(ValueError):
        progress.interval_from("0")
    assert [progress.write_every(s) for s in (0.05, 1, 5, 60)] == [0.1, 0.5, 2.0, 2.0]


def test_run_flags_are_taken_out_before_beam():
    assert run_flags(["--output", "o", "--quiet", "--progress_interval", "0.2", "--runner=DirectRunner"]) == \
        (logs.QUIET, "0.2", ["--output", "o", "--runner=DirectRunner"])
    assert run_flags(["-v", "--progress_interval=3"]) == (logs.VERBOSE, "3", [])
    assert run_flags([]) == (logs.NORMAL, None, [])


def test_count_files_are_written_and_summed(tmp_path):
    directory = str(tmp_path / "_progress")
    fns = [progress.CountFn(directory, "records", every=60) for _ in range(2)]
    for fn, n in zip(fns, (3, 4)):
        fn.setup()
        for i in range(n):
            fn.process(i)
    assert progress.read_counts(directory)["records"] == 0  # nothing written within the interval
    for fn in fns:
        fn.finish_bundle()
    (tmp_path / "_progress" / "stories.1.x.count").write_text("not a number")
    (tmp_path / "_progress" / "events.1.y.count.tmp").write_text("9")
    counts = progress.read_counts(directory)
    assert counts == {**dict.fromkeys(progress.NAMES, 0), "records": 7}
    fns[0].process("one more")
    fns[0].teardown()
    assert progress.read_counts(directory)["records"] == 8
    assert progress.read_counts(str(tmp_path / "missing")) == dict.fromkeys(progress.NAMES, 0)


def test_count_fn_ignores_an_unwritable_directory(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    fn = progress.CountFn(str(blocker / "_progress"), "records", every=0)
    fn.setup()
    fn.process(1)  # the write fails: no exception, and no more tries
    fn.finish_bundle()
    assert fn._broken


def test_counts_from_live_metrics():
    def counter(namespace, name, value):
        return SimpleNamespace(key=SimpleNamespace(metric=SimpleNamespace(namespace=namespace, name=name)),
                               attempted=value, committed=None)
    found = [counter("wiredesk.read", "records_read", 12), counter("wiredesk.read", "rejected", 2),
             counter("wiredesk.normalize", "rejected", 1), counter("wiredesk.normalize", "articles", 9),
             counter("wiredesk.versions", "superseded", 1), counter("wiredesk.near_duplicates", "exact_copies", 2),
             counter("wiredesk.near_duplicates", "near_copies", 1), counter("wiredesk.events", "events", 4),
             counter("wiredesk.write", "articles_rows", 5), counter("other", "records_read", 100)]
    result = SimpleNamespace(metrics=lambda: SimpleNamespace(query=lambda: {"counters": found}))
    assert progress.counts_from_metrics(result) == {
        "records": 10, "read_rejects": 2, "normalize_rejects": 1, "stories": 8, "superseded": 1, "copies": 3,
        "events": 4, "articles": 5}


def test_reporter_prints_lines_from_its_source(tmp_path):
    now = [100.0]
    out = io.StringIO()
    reporter = progress.Progress(out, interval=60, clock=lambda: now[0])
    reporter.start(str(tmp_path))
    (tmp_path / "records.1.a.count").write_text("50")
    now[0] += 10
    reporter.report()
    now[0] += 10
    reporter.report()  # reading stopped: the rate stays the reading rate
    reporter.stop()
    assert out.getvalue().splitlines() == [
        "wiredesk 0:10  read 50 (5/s)  stories 0  rejects 0  copies 0  events 0",
        "wiredesk 0:20  read 50 (5/s)  stories 0  rejects 0  copies 0  events 0"]
    silent = progress.Progress(io.StringIO(), interval=60)
    silent.report()  # no source yet: nothing
    assert silent.lines == 0


def records(name, level):
    return logging.LogRecord(name, level, __file__, 1, "message", None, None)


@pytest.mark.parametrize("verbosity, shown", [
    (logs.QUIET, {"apache_beam.runners": {logging.ERROR}, "wiredesk.run": {logging.ERROR}}),
    (logs.NORMAL, {"apache_beam.runners": {logging.ERROR}, "wiredesk.run": {logging.WARNING, logging.ERROR}}),
    (logs.VERBOSE, {"apache_beam.runners": {logging.INFO, logging.WARNING, logging.ERROR},
                    "wiredesk.run": {logging.INFO, logging.WARNING, logging.ERROR}}),
])
def test_level_filter(verbosity, shown):
    f = logs.LevelFilter(verbosity)
    for name in ("apache_beam.runners", "wiredesk.run", "root", "absl", "py.warnings"):
        expected = shown.get(name, shown["apache_beam.runners"])
        assert {lv for lv in (logging.INFO, logging.WARNING, logging.ERROR) if f.filter(records(name, lv))} \
            == expected, name


def test_configure_replaces_its_handler_and_routes_warnings():
    root = logging.getLogger()
    before = list(root.handlers)
    stream = io.StringIO()
    try:
        logs.configure(logs.NORMAL, stream)
        handler = logs.configure(logs.NORMAL, stream)
        assert sum(1 for h in root.handlers if isinstance(h.filters[0] if h.filters else None, logs.LevelFilter)) == 1
        logging.getLogger("apache_beam.io").warning("apitools not found")
        logging.getLogger("wiredesk.test").warning("a wiredesk warning")
        logging.getLogger("apache_beam.io").error("a Beam error")
        import warnings
        warnings.warn("a library warning", UserWarning, stacklevel=1)
        assert stream.getvalue().splitlines() == ["WARNING wiredesk.test: a wiredesk warning",
                                                  "ERROR apache_beam.io: a Beam error"]
    finally:
        root.removeHandler(handler)
        logging.captureWarnings(False)
        for h in before:
            if h not in root.handlers:
                root.addHandler(h)


def wiredesk_run(tmp_path, *args):
    env = {k: v for k, v in os.environ.items() if k != progress.INTERVAL_ENV}
    done = subprocess.run([sys.executable, "-m", "wiredesk.pipeline.cli", "run", "--output", str(tmp_path / "out"),
                           *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "balanced      yes" in done.stdout
    return done.stderr


def test_run_reports_progress_without_beam_lines(tmp_path):
    err = wiredesk_run(tmp_path, "--progress_interval", "0.2")
    lines = err.splitlines()
    assert lines and all(PROGRESS_LINE.match(line) for line in lines), err
    assert not BEAM_NOISE.search(err)
    assert not (tmp_path / "out" / progress.DIRECTORY).exists()
    assert any(re.search(r"read 5 ", line) for line in lines), err  # counts arrive while the run goes on


def test_multi_processing_run_reports_progress_without_worker_lines(tmp_path):
    err = wiredesk_run(tmp_path, "--progress_interval", "0.2", "--direct_num_workers", "2",
                       "--direct_running_mode", "multi_processing")
    lines = err.splitlines()
    assert lines and all(PROGRESS_LINE.match(line) for line in lines), err
    assert not BEAM_NOISE.search(err)
    assert any(re.search(r"read 5 ", line) for line in lines), err


def test_quiet_run_prints_nothing_on_stderr(tmp_path):
    assert wiredesk_run(tmp_path, "--quiet", "--progress_interval", "0.2") == ""


def test_verbose_run_shows_beams_lines(tmp_path):
    err = wiredesk_run(tmp_path, "--verbose", "--progress_interval", "0.2")
    assert BEAM_NOISE.search(err), err
    assert any(PROGRESS_LINE.match(line) for line in err.splitlines())
