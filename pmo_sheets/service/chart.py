"""The sync history as a small SVG bar chart, drawn on the server (no JavaScript, no CDN).

One bar per sync (the most recent ``LAST``), stacked by the sources that were ok, stale (last good
data kept) and failed (never valid, or unreadable with nothing kept); each bar's tooltip gives the
time and the counts. It scales with the page (``viewBox``), so it reads on a phone too.
"""

from __future__ import annotations

from html import escape
from typing import Any

LAST = 40
WIDTH, HEIGHT, LEFT, BOTTOM, TOP = 640, 160, 34, 22, 8
SERIES = (("sources_ok", "ok", "#2e7d32"), ("sources_stale", "stale", "#f9a825"), ("sources_failed", "failed", "#c62828"))


def history_svg(history: list[tuple[str, dict[str, Any]]]) -> str:
    """An ``<svg>`` element (a string of markup) for the last syncs in ``history``."""
    rows = history[-LAST:]
    if not rows:
        return ('<svg class="chart" viewBox="0 0 640 40" role="img" aria-label="No sync yet">'
                '<text x="4" y="24">No sync yet</text></svg>')
    totals = [sum(int(figures.get(key, 0) or 0) for key, _, _ in SERIES) for _, figures in rows]
    top = max(max(totals), 1)
    plot_w, plot_h = WIDTH - LEFT - 4, HEIGHT - BOTTOM - TOP
    slot = plot_w / LAST
    bar = max(slot * 0.7, 2)
    parts = [f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
             f'aria-label="Sources by status over the last {len(rows)} syncs">']
    for fraction in (0, 0.5, 1):
        y = TOP + plot_h * (1 - fraction)
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - 4}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>')
        parts.append(f'<text x="{LEFT - 4}" y="{y + 4:.1f}" text-anchor="end" class="axis">{round(top * fraction)}</text>')
    for index, ((synced_at, figures), total) in enumerate(zip(rows, totals, strict=True)):
        x = LEFT + index * slot + (slot - bar) / 2
        y = TOP + plot_h
        counts = [(label, int(figures.get(key, 0) or 0), colour) for key, label, colour in SERIES]
        tip = f"{synced_at}: " + ", ".join(f"{n} {label}" for label, n, _ in counts)
        parts.append(f'<g><title>{escape(tip)}</title>')
        for _label, count, colour in counts:
            height = plot_h * count / top
            y -= height
            if count:
                parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{height:.1f}" fill="{colour}"/>')
        if total == 0:
            parts.append(f'<rect x="{x:.1f}" y="{TOP + plot_h - 1:.1f}" width="{bar:.1f}" height="1" fill="#999"/>')
        parts.append("</g>")
    first, last = rows[0][0], rows[-1][0]
    parts.append(f'<text x="{LEFT}" y="{HEIGHT - 6}" class="axis">{escape(first[:16].replace("T", " "))}</text>')
    parts.append(f'<text x="{WIDTH - 4}" y="{HEIGHT - 6}" text-anchor="end" class="axis">'
                 f'{escape(last[:16].replace("T", " "))}</text>')
    parts.append("</svg>")
    return "".join(parts)
