"""Inline SVG charts of the report: the event timeline and the volume per source.

Hand-drawn: no script, no font or style sheet from outside the page. Every
text from the input goes through ``esc``.
"""
from __future__ import annotations

import math
from datetime import datetime, timezone
from html import escape
from typing import List, Optional, Sequence

from wiredesk.pipeline.report.data import Event

WIDTH = 960
LEFT = 78
RIGHT = 24
MAX_ROWS = 24
MAX_SOURCES = 25
TICK_STEPS = (60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400, 2 * 86400, 7 * 86400,
              14 * 86400, 30 * 86400, 91 * 86400, 182 * 86400, 365 * 86400)


#: Control characters (a reject's raw bytes may hold NULs) become U+FFFD; tab and newlines stay.
CONTROLS = {c: "\ufffd" for c in (*range(32), 127) if c not in (9, 10, 13)}


def esc(value) -> str:
    """Any input text as HTML text or attribute value."""
    return escape(("" if value is None else str(value)).translate(CONTROLS), quote=True)


def radius(count: int) -> float:
    return min(18.0, 3.0 + 2.2 * math.sqrt(max(count, 1)))


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _fmt(value: datetime, step: int) -> str:
    return value.strftime("%Y-%m-%d" if step >= 86400 else "%m-%d %H:%M")


def _clip(text: Optional[str], limit: int) -> str:
    text = text or ""
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _mark(event: Event, cx: float, cy: float, x_end: Optional[float] = None) -> str:
    r = radius(event.article_count)
    span = "" if x_end is None or x_end - cx < 1 else (
        f'<line x1="{_num(cx)}" y1="{_num(cy)}" x2="{_num(x_end)}" y2="{_num(cy)}" class="span"/>')
    tip = f"#{event.number} {event.title or event.event_id} ({event.article_count} stories)"
    return (f'<a href="#ev-{event.number}" class="mark" data-event="{event.number}"><title>{esc(tip)}</title>'
            f'{span}<circle cx="{_num(cx)}" cy="{_num(cy)}" r="{_num(r)}"/></a>')


def _ticks(t0: float, t1: float) -> tuple:
    step = next((s for s in TICK_STEPS if (t1 - t0) / s <= 8), TICK_STEPS[-1])
    first = math.ceil(t0 / step) * step
    return step, [first + i * step for i in range(int((t1 - first) // step) + 1)]


def timeline(events: Sequence[Event]) -> str:
    """One mark per event at its first_seen, sized by story count, a line to its
    last_seen; events without a time in an 'undated' lane below."""
    dated = sorted((e for e in events if e.dated), key=lambda e: (e.first_seen.isoformat(), e.number))
    undated = [e for e in events if not e.dated]
    parts: List[str] = []
    y = 8.0
    plot = WIDTH - LEFT - RIGHT
    if dated:
        t0 = min(e.first_seen.timestamp() for e in dated)
        t1 = max(e.last_seen.timestamp() for e in dated)
        if t1 - t0 < 3600:
            t0, t1 = t0 - 1800, t1 + 1800

        def x(t: float) -> float:
            return LEFT + (t - t0) / (t1 - t0) * plot

        rows: List[List[tuple]] = []
        ends: List[float] = []
        for event in dated:
            r = radius(event.article_count)
            start, end = x(event.first_seen.timestamp()), x(event.last_seen.timestamp())
            free = [i for i, e in enumerate(ends) if e < start - r]
            if free:
                row = free[0]
            elif len(rows) < MAX_ROWS:
                row = len(rows)
                rows.append([])
                ends.append(-math.inf)
            else:
                row = min(range(len(ends)), key=lambda i: (ends[i], i))
            rows[row].append((event, start, end))
            ends[row] = max(ends[row], end + r + 3)
        parts.append(f'<text x="4" y="{_num(y + 12)}" class="lane">dated</text>')
        for members in rows:
            height = 2 * max(radius(e.article_count) for e, _, _ in members) + 4
            cy = y + height / 2
            parts.extend(_mark(e, start, cy, end) for e, start, end in members)
            y += height
        step, ticks = _ticks(t0, t1)
        parts.append(f'<line x1="{LEFT}" y1="{_num(y + 4)}" x2="{WIDTH - RIGHT}" y2="{_num(y + 4)}" class="axis"/>')
        for t in ticks:
            tx = _num(x(t))
            label = _fmt(datetime.fromtimestamp(t, tz=timezone.utc), step)
            anchor = "start" if x(t) < LEFT + 40 else "end" if x(t) > WIDTH - RIGHT - 40 else "middle"
            parts.append(f'<line x1="{tx}" y1="{_num(y + 4)}" x2="{tx}" y2="{_num(y + 9)}" class="axis"/>'
                         f'<text x="{tx}" y="{_num(y + 21)}" text-anchor="{anchor}" class="tick">{label}</text>')
        y += 34
    if undated:
        parts.append(f'<g class="undated"><text x="4" y="{_num(y + 14)}" class="lane">undated</text>')
        cx, row_height = float(LEFT), 0.0
        for event in undated:
            r = radius(event.article_count)
            if cx + 2 * r > WIDTH - RIGHT and cx > LEFT:
                cx, y, row_height = float(LEFT), y + row_height, 0.0
            row_height = max(row_height, 2 * r + 4)
            parts.append(_mark(event, cx + r, y + r + 2))
            cx += 2 * r + 4
        parts.append("</g>")
        y += row_height
    height = _num(y + 8)
    return (f'<svg id="timeline" xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
            f'viewBox="0 0 {WIDTH} {height}" role="img" aria-label="timeline of events">{"".join(parts)}</svg>')


def source_bars(volume: Sequence[tuple]) -> str:
    """Stories per source: canonical stories dark, copies light, the total at the end."""
    shown = list(volume[:MAX_SOURCES])
    rest = volume[MAX_SOURCES:]
    top = max((c + d for _, c, d in shown), default=1) or 1
    label_w, bar_h, gap = 200, 16, 6
    plot = WIDTH - label_w - RIGHT - 50
    parts = []
    y = 4
    for source, canonical, copies in shown:
        name = source if source is not None else "(no source)"
        w1, w2 = canonical / top * plot, copies / top * plot
        parts.append(
            f'<g class="bar"><title>{esc(name)}: {canonical} stories, {copies} copies</title>'
            f'<text x="{label_w - 6}" y="{y + 12}" class="label">{esc(_clip(name, 30))}</text>'
            f'<rect x="{label_w}" y="{y}" width="{_num(w1)}" height="{bar_h}" class="canonical"/>'
            f'<rect x="{_num(label_w + w1)}" y="{y}" width="{_num(w2)}" height="{bar_h}" class="copies"/>'
            f'<text x="{_num(label_w + w1 + w2 + 6)}" y="{y + 12}" class="count">{canonical + copies}</text></g>')
        y += bar_h + gap
    if rest:
        parts.append(f'<text x="{label_w}" y="{y + 12}" class="more">{len(rest)} more sources, '
                     f'{sum(c + d for _, c, d in rest)} stories</text>')
        y += bar_h + gap
    return (f'<svg id="sources" xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{y + 4}" '
            f'viewBox="0 0 {WIDTH} {y + 4}" role="img" aria-label="stories per source">{"".join(parts)}</svg>')
