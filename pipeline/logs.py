"""What the ``wiredesk`` command shows on stderr: its own warnings and errors, not Beam's or the libraries' log lines.

Three levels, set by ``wiredesk run --quiet`` / (default) / ``--verbose``:

- ``QUIET``: errors only (and no progress lines); the summary still goes to stdout.
- ``NORMAL``: wiredesk's own warnings, everyone's errors, and the progress lines.
  The log lines of Apache Beam, absl, spaCy and other libraries below ERROR are
  hidden, and so are Python warnings (``logging.captureWarnings``).
- ``VERBOSE``: everything at INFO and above, Beam's own lines included, and the
  worker processes' stderr as it comes.

All of it goes through the ``logging`` module: one handler on the root logger
with a filter per level; nothing is printed around it. Beam's
``multi_processing`` workers are separate processes that set up their own
logging and inherit the CLI's stderr, so :class:`CaptureStderr` points file
descriptor 2 at a pipe for the length of the run and re-logs what arrives
(``wiredesk.stderr``: INFO, or ERROR for lines that say so), while the handler
and the progress lines write to the original stderr.
"""
from __future__ import annotations

import logging
import os
import sys
import threading
from typing import Optional, TextIO

QUIET, NORMAL, VERBOSE = 0, 1, 2
#: Logger of the lines that arrived on file descriptor 2 during a run (worker processes, C libraries).
STDERR_LOGGER = "wiredesk.stderr"
_ERROR_PREFIXES = ("ERROR", "CRITICAL", "FATAL", "Traceback")


class LevelFilter(logging.Filter):
    """NORMAL: wiredesk's records from WARNING, everyone's from ERROR. QUIET: ERROR. VERBOSE: everything."""

    def __init__(self, verbosity: int):
        super().__init__()
        self.verbosity = verbosity

    def filter(self, record: logging.LogRecord) -> bool:
        if self.verbosity >= VERBOSE:
            return True
        if record.levelno >= logging.ERROR:
            return True
        own = record.name == "wiredesk" or record.name.startswith("wiredesk.")
        return self.verbosity == NORMAL and own and record.levelno >= logging.WARNING


class Formatter(logging.Formatter):
    """``LEVEL logger: message``; lines re-logged from stderr as they came."""

    def __init__(self):
        super().__init__("%(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        if record.name == STDERR_LOGGER:
            return record.getMessage()
        return super().format(record)


_handler: Optional[logging.StreamHandler] = None


def configure(verbosity: int = NORMAL, stream: Optional[TextIO] = None) -> logging.Handler:
    """Install (or re-configure) wiredesk's one root handler for ``verbosity``; returns it."""
    global _handler
    root = logging.getLogger()
    if _handler is not None:
        root.removeHandler(_handler)
    # A library that logged before this (Beam warns at import) may have made logging add its default handler.
    for h in list(root.handlers):
        if type(h) is logging.StreamHandler and getattr(h, "stream", None) in (sys.stderr, sys.__stderr__):
            root.removeHandler(h)
    _handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    _handler.addFilter(LevelFilter(verbosity))
    _handler.setFormatter(Formatter())
    root.addHandler(_handler)
    root.setLevel(logging.INFO if verbosity >= VERBOSE else logging.WARNING)
    logging.captureWarnings(True)
    return _handler


def set_stream(stream: TextIO) -> None:
    """Point wiredesk's handler at ``stream`` (the original stderr while :class:`CaptureStderr` runs)."""
    if _handler is not None:
        _handler.setStream(stream)


def _real_stderr() -> bool:
    try:
        return sys.stderr.fileno() == 2
    except (AttributeError, ValueError, OSError):
        return False


class CaptureStderr:
    """``with CaptureStderr() as console:`` fd 2 goes to a pipe whose lines are re-logged; ``console`` is the
    original stderr. Does nothing (``console`` is ``sys.stderr``) when ``enabled`` is false or when
    ``sys.stderr`` is not file descriptor 2 (a caller that captures it, such as pytest)."""

    def __init__(self, enabled: bool = True):
        self.enabled = enabled and _real_stderr()
        self.console: TextIO = sys.stderr
        self._saved: Optional[int] = None
        self._thread: Optional[threading.Thread] = None

    def __enter__(self) -> TextIO:
        if not self.enabled:
            return self.console
        try:
            sys.stderr.flush()
            self._saved = os.dup(2)
            self.console = os.fdopen(os.dup(self._saved), "w", buffering=1, encoding="utf-8",
                                     errors="backslashreplace")
            read_end, write_end = os.pipe()
            os.dup2(write_end, 2)
            os.close(write_end)
        except OSError:
            self._restore()
            self.enabled = False
            self.console = sys.stderr
            return self.console
        set_stream(self.console)
        self._thread = threading.Thread(target=self._forward, args=(read_end,), name="wiredesk-stderr", daemon=True)
        self._thread.start()
        return self.console

    def __exit__(self, *exc) -> None:
        if not self.enabled:
            return
        try:
            sys.stderr.flush()
        except (OSError, ValueError):
            pass
        self._restore()
        if self._thread is not None:
            # Worker processes still holding the pipe keep it open; what they write later is still re-logged.
            self._thread.join(timeout=2)
        set_stream(sys.stderr)
        try:
            self.console.flush()
            self.console.close()
        except (OSError, ValueError):
            pass

    def _restore(self) -> None:
        if self._saved is not None:
            os.dup2(self._saved, 2)
            os.close(self._saved)
            self._saved = None

    @staticmethod
    def _forward(read_end: int) -> None:
        log = logging.getLogger(STDERR_LOGGER)
        pending = b""
        try:
            while True:
                chunk = os.read(read_end, 65536)
                if not chunk:
                    break
                pending += chunk
                *lines, pending = pending.split(b"\n")
                for raw in lines:
                    _relog(log, raw)
            if pending:
                _relog(log, pending)
        except OSError:
            pass
        finally:
            try:
                os.close(read_end)
            except OSError:
                pass


def _relog(log: logging.Logger, raw: bytes) -> None:
    """Straight to wiredesk's handler: another handler writing to stderr would feed the pipe it reads."""
    line = raw.decode("utf-8", errors="replace").rstrip("\r")
    handler = _handler
    if line and handler is not None:
        level = logging.ERROR if line.startswith(_ERROR_PREFIXES) else logging.INFO
        handler.handle(log.makeRecord(log.name, level, "(stderr)", 0, line, None, None))
