"""``wiredesk report``: one self-contained HTML page of a finished run's events,
stories, copies and rejects (``page.write_report``)."""
from wiredesk.pipeline.report.page import write_report

__all__ = ["write_report"]
