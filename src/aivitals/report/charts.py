"""Inline SVG charts: daily trends and the cost buckets stacked by month. No script, no external reference.

Coordinates are rounded to one decimal so the same figures give the same
bytes (the golden-file tests rely on it).
"""

from __future__ import annotations

from html import escape

from ..catalogue import Format
from .humanize import money, write

W, H, PAD = 360, 140, 28
CURRENT, PREVIOUS = "#1f4e79", "#9aa5b1"
BUCKET_COLOURS = {"cost_inference_usd": "#1f4e79", "cost_compute_usd": "#4f81bd",
                  "cost_storage_usd": "#9bbb59", "cost_maintenance_usd": "#f79646"}


def _svg(width: int, height: int, title: str, body: list[str]) -> str:
    return (f'<svg width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img"><title>{escape(title)}</title>' + "".join(body) + "</svg>")


def _path(values: list[float | None], days: int, low: float, high: float) -> str:
    """An SVG path through the days that have a value; a missing day breaks the line."""
    span = (high - low) or 1.0
    step = (W - 2 * PAD) / max(days - 1, 1)
    parts: list[str] = []
    pen_down = False
    for day, value in enumerate(values):
        if value is None:
            pen_down = False
            continue
        x = PAD + day * step
        y = H - PAD - (value - low) / span * (H - 2 * PAD)
        parts.append(f"{'L' if pen_down else 'M'}{x:.1f},{y:.1f}")
        pen_down = True
    return " ".join(parts)


def trend(title: str, current: list[float | None], previous: list[float | None], form: Format) -> str:
    """This month's daily values (solid) over last month's (dashed), day 1 at the left."""
    present = [v for v in (*current, *previous) if v is not None]
    if not present:
        return ""
    low, high = min(0.0, *present), max(present)
    days = max(len(current), len(previous), 2)
    body = [f'<line x1="{PAD}" y1="{H - PAD}" x2="{W - PAD}" y2="{H - PAD}" stroke="#ccc"/>',
            f'<text x="{PAD}" y="14" font-size="11" fill="#333">{escape(write(high, form))}</text>',
            f'<text x="{PAD}" y="{H - 8}" font-size="10" fill="#666">day 1</text>',
            f'<text x="{W - PAD}" y="{H - 8}" font-size="10" fill="#666" text-anchor="end">day {len(current)}</text>']
    if previous and any(v is not None for v in previous):
        body.append(f'<path d="{_path(previous, days, low, high)}" fill="none" stroke="{PREVIOUS}" '
                    'stroke-width="1.5" stroke-dasharray="4 3"/>')
    body.append(f'<path d="{_path(current, days, low, high)}" fill="none" stroke="{CURRENT}" stroke-width="2"/>')
    return _svg(W, H, f"{title}, per day: this month solid, last month dashed", body)


def cost_stack(months: list[tuple[str, dict[str, float | None]]], titles: dict[str, str]) -> str:
    """One bar per month, the cost buckets stacked, the total above; absent buckets are left out."""
    totals = [sum(v for v in parts.values() if v is not None) for _, parts in months]
    top = max(totals, default=0.0) or 1.0
    bar, gap, left, height = 70, 50, 40, 200
    body: list[str] = []
    for i, (label, parts) in enumerate(months):
        x = left + i * (bar + gap)
        y = float(height - 20)
        for name, value in parts.items():
            if not value:
                continue
            h = value / top * (height - 50)
            y -= h
            body.append(f'<rect x="{x}" y="{y:.1f}" width="{bar}" height="{h:.1f}" fill="{BUCKET_COLOURS[name]}"/>')
        body.append(f'<text x="{x + bar / 2:.1f}" y="{y - 4:.1f}" font-size="11" text-anchor="middle" '
                    f'fill="#333">{escape(money(totals[i]))}</text>')
        body.append(f'<text x="{x + bar / 2:.1f}" y="{height - 4}" font-size="11" text-anchor="middle" '
                    f'fill="#333">{escape(label)}</text>')
    legend_x = left + len(months) * (bar + gap)
    for j, name in enumerate(BUCKET_COLOURS):
        y = 30 + j * 20
        body.append(f'<rect x="{legend_x}" y="{y - 10}" width="12" height="12" fill="{BUCKET_COLOURS[name]}"/>')
        body.append(f'<text x="{legend_x + 18}" y="{y}" font-size="11" fill="#333">{escape(titles[name])}</text>')
    return _svg(legend_x + 170, height, "Cost by bucket, stacked, by month", body)
