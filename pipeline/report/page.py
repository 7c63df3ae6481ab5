"""The report page: one self-contained HTML file (inline CSS, a few lines of
inline JS, inline SVG; nothing fetched), every input text escaped."""
from __future__ import annotations

import base64
import hashlib
import os
from datetime import datetime
from typing import List, Optional

from wiredesk.pipeline.report.charts import esc, source_bars, timeline
from wiredesk.pipeline.report.data import Event, Report, Story, load_report

MAX_REASONS = 30
MAX_INPUTS = 10

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;margin:0 auto;max-width:1000px;
padding:16px 20px 40px;color:#1d2430;background:#fff}
h1{font-size:22px;margin:4px 0}h2{font-size:17px;margin:26px 0 8px;border-bottom:1px solid #dde2ea;padding-bottom:4px}
.muted,.meta{color:#5d6878;font-size:12px}code{font-size:12px;background:#f2f4f7;padding:0 3px;border-radius:3px}
table{border-collapse:collapse;margin:6px 0}td,th{padding:2px 10px 2px 0;text-align:left;vertical-align:top}
td.n{text-align:right;font-variant-numeric:tabular-nums}.bad{color:#b3261e;font-weight:600}.ok{color:#1e7b34}
pre{white-space:pre-wrap;word-break:break-all;background:#f6f7f9;padding:4px 6px;margin:2px 0 6px;font-size:12px}
svg{display:block;max-width:100%;height:auto;margin:6px 0}svg text{font:11px system-ui,Arial,sans-serif;fill:#3b4555}
svg .lane{font-weight:600}svg .label{text-anchor:end}svg .axis{stroke:#8a94a3}
svg .mark circle{fill:#2f6fdf;fill-opacity:.55;stroke:#1d4ea8}svg .mark .span{stroke:#2f6fdf;stroke-width:3;
stroke-opacity:.35}svg .undated .mark circle{fill:#9aa3af;stroke:#5d6878}svg .mark:hover circle{fill-opacity:.9}
svg .canonical{fill:#2f6fdf}svg .copies{fill:#a9c4f2}
.controls{margin:6px 0}.controls button,.controls input{font:inherit;font-size:13px;margin-right:6px}
ol.events{list-style:none;padding:0;margin:0}li.event{border:1px solid #dde2ea;border-radius:6px;margin:6px 0}
li.event>details>summary{cursor:pointer;padding:6px 10px;list-style-position:inside}
li.event>details[open]>summary{background:#f2f5fa;border-bottom:1px solid #dde2ea}
.num{color:#5d6878;font-variant-numeric:tabular-nums}.title{font-weight:600}.count{float:right;color:#3b4555}
.sub{margin:2px 0 0 0;font-size:12px;color:#5d6878}.body{padding:6px 12px 10px}
.chip{display:inline-block;background:#eef1f6;border-radius:10px;padding:0 7px;margin:1px 2px;font-size:12px}
ol.stories{padding-left:20px;margin:4px 0}li.story{margin:6px 0}.excerpt{margin:2px 0;color:#333c4a}
.time{font-variant-numeric:tabular-nums;color:#3b4555}.undated-tag{background:#fff1c2;color:#6b5300;
border-radius:3px;padding:0 4px;font-size:12px}.src{font-weight:600;color:#1d4ea8}
.status{background:#fde2e0;color:#8c1d18;border-radius:3px;padding:0 4px;font-size:12px}
ul.copies{list-style:none;margin:4px 0 2px 6px;padding-left:10px;border-left:3px solid #a9c4f2}
li.copy{margin:3px 0;font-size:13px}.kind{border-radius:3px;padding:0 5px;font-size:11px;font-weight:600;
text-transform:uppercase}.kind-exact{background:#d9f2df;color:#135c26}.kind-near{background:#e3ecfb;color:#1d4ea8}
.kind-contained{background:#f4e6fb;color:#6b2393}.kind-unknown{background:#eceff3;color:#3b4555}
"""

SCRIPT = """
(function () {
  var d = document;
  function each(sel, f) { Array.prototype.forEach.call(d.querySelectorAll(sel), f); }
  function openAll(open) { each("#events details", function (e) { e.open = open; }); }
  d.getElementById("expand").addEventListener("click", function () { openAll(true); });
  d.getElementById("collapse").addEventListener("click", function () { openAll(false); });
  var f = d.getElementById("filter");
  f.addEventListener("input", function () {
    var q = f.value.toLowerCase();
    each("#events li.event", function (li) { li.hidden = q !== "" && li.textContent.toLowerCase().indexOf(q) < 0; });
  });
  function openHash() {
    var el = location.hash.length > 1 && d.getElementById(location.hash.slice(1));
    var det = el && el.querySelector("details");
    if (det) { det.open = true; }
  }
  window.addEventListener("hashchange", openHash);
  openHash();
})();
"""


def _hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def fmt_time(value: Optional[datetime]) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "undated"


def fmt_span(event: Event) -> str:
    if not event.dated:
        seen = f' <span class="muted">(ingested {fmt_time(event.first_seen)})</span>' if event.first_seen else ""
        return f'<span class="undated-tag">undated</span>{seen}'
    first, last = event.first_seen, event.last_seen
    if first == last:
        return esc(fmt_time(first))
    if first.date() == last.date():
        return esc(f"{first:%Y-%m-%d %H:%M}–{last:%H:%M} UTC")
    return esc(f"{first:%Y-%m-%d %H:%M} – {last:%Y-%m-%d %H:%M} UTC")


def _plural(n: int, word: str, many: Optional[str] = None) -> str:
    return f"{n} {word if n == 1 else (many or word + 's')}"


def _story_line(story: Story) -> str:
    when = (f'<span class="time">{esc(fmt_time(story.published_at))}</span>' if story.published_at
            else '<span class="undated-tag">undated</span>')
    status = f' <span class="status">{esc(story.status)}</span>' if story.status not in (None, "usable") else ""
    source = f' <span class="src">{esc(story.source)}</span>' if story.source else ""
    headline = esc(story.headline) if story.headline else '<span class="muted">(no headline)</span>'
    return f"{when}{source} <span class=\"headline\">{headline}</span>{status}"


def _story_meta(story: Story) -> str:
    bits = [f"<code>{esc(story.article_id)}</code>"]
    if story.word_count is not None:
        bits.append(_plural(story.word_count, "word"))
    if story.url and story.url.lower().startswith(("http://", "https://")):
        bits.append(f'<a href="{esc(story.url)}" rel="noopener noreferrer">{esc(story.url)}</a>')
    elif story.url:
        bits.append(esc(story.url))
    return " · ".join(bits)


def _score(name: str, value: Optional[float]) -> str:
    return "" if value is None else f" {name} {value:.3f}"


def story_item(story: Story) -> str:
    parts = [f'<li class="story" data-article="{esc(story.article_id)}"><div>{_story_line(story)}</div>']
    if story.duplicate_of:  # a copy whose canonical story is not in this event
        parts.append(f'<div class="meta">copy of <code>{esc(story.duplicate_of)}</code> (not in this event)</div>')
    if story.excerpt:
        parts.append(f'<p class="excerpt">{esc(story.excerpt)}</p>')
    parts.append(f'<div class="meta">{_story_meta(story)}</div>')
    if story.copies:
        parts.append('<ul class="copies" aria-label="copies">')
        for copy in story.copies:
            kind = copy.kind if copy.kind in ("exact", "near", "contained") else "unknown"
            parts.append(
                f'<li class="copy" data-article="{esc(copy.story.article_id)}">'
                f'<span class="kind kind-{kind}">{esc(copy.kind or "copy")}</span>'
                f'<span class="muted">{_score("Jaccard", copy.jaccard)}{_score("containment", copy.containment)}'
                f'</span> {_story_line(copy.story)}<div class="meta">{_story_meta(copy.story)}</div></li>')
        parts.append("</ul>")
    parts.append("</li>")
    return "".join(parts)


def event_item(event: Event) -> str:
    copies = event.article_count - event.canonical_count
    count = _plural(event.article_count, "story", "stories") + (f" ({_plural(copies, 'copy', 'copies')})"
                                                                  if copies else "")
    title = esc(event.title) if event.title else f'<span class="muted">(untitled) {esc(event.event_id)}</span>'
    entities = "".join(
        f'<span class="chip" title="{esc(e.get("label"))}">{esc(e.get("text"))} '
        f'<span class="muted">{esc(e.get("label"))} ×{esc(e.get("count"))}</span></span>'
        for e in event.top_entities[:8])
    sources = ", ".join(esc(s) for s in event.sources) or '<span class="muted">no source named</span>'
    undated = (f' · <span class="undated-tag">{_plural(event.undated_stories, "undated story", "undated stories")}'
               f'</span>' if event.undated_stories and event.dated else "")
    return (
        f'<li class="event" id="ev-{event.number}" data-event-id="{esc(event.event_id)}"><details>'
        f'<summary><span class="num">#{event.number}</span> <span class="title">{title}</span>'
        f'<span class="count">{count}</span><div class="sub">{fmt_span(event)} · '
        f'{_plural(len(event.sources), "source")}{undated}</div></summary>'
        f'<div class="body"><div><b>Sources:</b> {sources}</div>'
        + (f"<div><b>Top entities:</b> {entities}</div>" if entities else "")
        + f'<div class="muted">event <code>{esc(event.event_id)}</code></div>'
        f'<ol class="stories">{"".join(story_item(s) for s in event.stories)}</ol></div></details></li>')


def summary(report: Report) -> str:
    m = report.manifest
    if m is None:
        return (f'<p class="bad">No readable _manifest.json: counts below are from the tables.</p>'
                f"<table><tr><td>articles</td><td class=\"n\">{report.article_count}</td></tr>"
                f"<tr><td>rejects</td><td class=\"n\">{report.reject_count}</td></tr>"
                f"<tr><td>events</td><td class=\"n\">{len(report.events)}</td></tr></table>")
    c = m.get("counts") or {}
    stages = c.get("rejects_by_stage") or {}
    stage_text = ", ".join(f"{esc(k)} {esc(v)}" for k, v in sorted(stages.items()))
    rows = [("records read", c.get("records_read"), ""), ("articles", c.get("articles"), ""),
            ("rejects", c.get("rejects"), stage_text and f"by stage: {stage_text}"),
            ("superseded versions", c.get("superseded"), ""),
            ("duplicates", c.get("duplicates"), "copies pointing to a canonical story"),
            ("events", c.get("events"), "")]
    balanced = m.get("balanced")
    inputs = [str(i) for i in (m.get("inputs") or [])]
    more = f" and {len(inputs) - MAX_INPUTS} more" if len(inputs) > MAX_INPUTS else ""
    parts = [
        f'<p>Run <code>{esc(m.get("run_id"))}</code>, {esc(m.get("started_at"))} to {esc(m.get("finished_at"))}; '
        f'input {", ".join(f"<code>{esc(i)}</code>" for i in inputs[:MAX_INPUTS])}{more}</p><table>',
        *(f'<tr><td>{name}</td><td class="n">{esc(value)}</td><td class="muted">{note}</td></tr>'
          for name, value, note in rows),
        '<tr><td>balanced</td><td class="n">'
        + ('<span class="ok">yes</span>' if balanced else '<span class="bad">NO</span>')
        + '</td><td class="muted">records read = articles + rejects + superseded</td></tr></table>']
    return "".join(parts)


def rejects(report: Report) -> str:
    if not report.rejects:
        return "<p class=\"muted\">No rejects.</p>"
    parts = ["<table><tr><th>stage</th><th>reason</th><th>count</th></tr>"]
    for r in report.rejects[:MAX_REASONS]:
        examples = "".join(
            f'<div class="meta"><code>{esc(x["origin"])}</code> {esc(x["position"])}'
            f' ({_plural(x["raw_length"] or 0, "char")})</div><pre>{esc((x["raw"] or "")[:300])}</pre>'
            for x in r.examples)
        parts.append(f'<tr class="reject"><td>{esc(r.stage)}</td><td><details><summary>{esc(r.reason[:300])}'
                     f'</summary>{examples}</details></td><td class="n">{r.count}</td></tr>')
    parts.append("</table>")
    if len(report.rejects) > MAX_REASONS:
        rest = report.rejects[MAX_REASONS:]
        parts.append(f'<p class="muted">{len(rest)} more reasons, {sum(r.count for r in rest)} rejects.</p>')
    return "".join(parts)


def render(report: Report) -> str:
    dated = sum(1 for e in report.events if e.dated)
    loose = ""
    if report.loose_stories:
        loose = (f'<section id="loose"><h2>Stories without an event ({len(report.loose_stories)})</h2>'
                 f'<ol class="stories">{"".join(story_item(s) for s in report.loose_stories)}</ol></section>')
    run_id = (report.manifest or {}).get("run_id")
    csp = (f"default-src 'none'; style-src {_hash(CSS)}; script-src {_hash(SCRIPT)}; img-src 'none'; "
           "base-uri 'none'; form-action 'none'")
    body: List[str] = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>wiredesk events{esc(' · ' + run_id) if run_id else ''}</title>",
        f"<style>{CSS}</style></head><body>",
        "<header><h1>wiredesk event report</h1>"
        f'<p class="muted">{_plural(len(report.events), "event")} from '
        f'{_plural(report.article_count, "story", "stories")}'
        f"; {_plural(report.undated_story_count, 'story', 'stories')} without a publication time</p></header>",
        f'<section id="summary"><h2>Run summary</h2>{summary(report)}<h3>Rejects by reason</h3>{rejects(report)}'
        "</section>",
        f'<section id="timeline-section"><h2>Timeline</h2><p class="muted">One mark per event at its first story, '
        f"a line to its last, sized by story count; {dated} dated, {len(report.events) - dated} undated "
        "(none of their stories has a publication time). Click a mark to open its event.</p>"
        f"{timeline(report.events)}</section>",
        '<section id="sources-section"><h2>Stories per source</h2><p class="muted">Dark: canonical stories; '
        f"light: copies.</p>{source_bars(report.source_volume)}</section>",
        f'<section id="events"><h2>Events ({len(report.events)})</h2><p class="muted">Largest first, then the most '
        "recent. Open an event to see its stories, copies under the story they copy.</p>"
        '<div class="controls"><button type="button" id="expand">Expand all</button>'
        '<button type="button" id="collapse">Collapse all</button>'
        '<input id="filter" type="search" placeholder="Filter events" aria-label="filter events"></div>'
        f'<ol class="events">{"".join(event_item(e) for e in report.events)}</ol></section>',
        loose,
        f"<script>{SCRIPT}</script></body></html>",
    ]
    return "\n".join(body) + "\n"


def write_report(output: str, html: Optional[str] = None) -> str:
    """Write the report of the run in ``output`` to ``html`` (default
    ``output/report.html``); returns its path."""
    path = html or os.path.join(output, "report.html")
    text = render(load_report(output))
    parent = os.path.dirname(os.path.abspath(path))
    os.makedirs(parent, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)
    return path
