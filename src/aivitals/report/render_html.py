"""The review as one self-contained HTML page: inline CSS and SVG, no script, no external URL or font.

In the seed article's order: the six executive vitals, then performance,
operational, cost (the three buckets and inference stacked by month, the
total, ROI, the scalability forecast) and human and process; each section
ends with the questions a manager should ask about the vitals that moved.
Readable in a mail client and printable (print CSS).
"""

from __future__ import annotations

from html import escape

from ..catalogue import VITALS, VITALS_BY_ID, Comparison, Figure, Format, Section, Threshold
from . import charts
from .error_analysis import Matrix, restricted
from .humanize import change, relative_change, write
from .model import FIXED_BUCKETS, Review
from .scope import ALL_SERVICES_NOTE

#: A figure "moved" when it changed by this share (or by this many points, for shares and scores).
MOVED = 0.05
SECTION_TITLES = {
    Section.PERFORMANCE: "Performance: is the model right?",
    Section.OPERATIONAL: "Operational: does it hold up in production?",
    Section.COST: "Cost: what does it cost, and is it worth it?",
    Section.HUMAN: "Human and process: do people use it, and how do we respond?",
}
STYLE = """
body{font-family:-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;color:#1b1b1b;max-width:980px;margin:24px auto;
padding:0 16px;line-height:1.4}
h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;border-bottom:2px solid #1f4e79;padding-bottom:4px;margin-top:32px}
h3{font-size:14px;margin:16px 0 6px}.sub{color:#555;margin:0 0 16px}
.banner{background:#fff4e5;border-left:4px solid #f0a020;padding:8px 12px;margin:12px 0}
.tiles{display:flex;flex-wrap:wrap;gap:10px}
.tile{flex:1 1 140px;border:1px solid #ddd;border-top:6px solid #bbb;padding:8px 10px;border-radius:4px}
.tile .q{font-size:11px;color:#555}.tile .t{font-size:13px;font-weight:600}.tile .v{font-size:22px;font-weight:700}
.tile .d{font-size:12px;color:#333}
.ok{border-top-color:#2e7d32}.warning{border-top-color:#f0a020}.critical{border-top-color:#c62828}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{text-align:left;padding:4px 8px;
border-bottom:1px solid #eee}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.status{font-size:11px;padding:1px 6px;border-radius:8px;color:#fff}
.status.ok{background:#2e7d32}.status.warning{background:#b26a00}.status.critical{background:#c62828}
.charts{display:flex;flex-wrap:wrap;gap:12px;margin-top:10px}.chart{font-size:12px;color:#333}
.matrix{width:auto;margin-bottom:10px}
.forecast{border:1px dashed #1f4e79;padding:8px 12px;margin-top:12px;font-size:13px}
.questions li{margin-bottom:4px;font-size:13px}.reason{color:#555}
.note{font-size:12px;color:#555}
footer{margin-top:32px;font-size:11px;color:#666}
@media print{body{margin:0;max-width:none}section,.tile,.chart,table{break-inside:avoid}
h2{break-after:avoid}@page{size:A4;margin:14mm}}
"""


def _usable(vital_id: str) -> Threshold | None:
    vital = VITALS_BY_ID.get(vital_id)
    if vital is None:
        return None
    return next((t for t in vital.thresholds if t.comparison is not Comparison.EQUAL), None)


def status(figure: Figure, value: float | None) -> str:
    """ok, warning or critical against the vital's default threshold; '' when it is not judged."""
    threshold = _usable(figure.vital) if figure.judged else None
    if threshold is None or value is None:
        return ""
    worse = (lambda v, t: v > t) if threshold.comparison is Comparison.ABOVE else (lambda v, t: v < t)
    if threshold.critical is not None and worse(value, threshold.critical):
        return "critical"
    if threshold.warning is not None and worse(value, threshold.warning):
        return "warning"
    return "ok"


def _arrow(delta: float | None) -> str:
    if delta is None:
        return ""
    return "▲" if delta > 0 else "▼" if delta < 0 else "="


#: Marks a figure read over all services although a service was chosen; the section's footnote says why.
MARK = "†"
SUP = f'<sup title="{ALL_SERVICES_NOTE}">{MARK}</sup>'


def _mark(review: Review, figure: Figure) -> str:
    return SUP if review.all_services(figure) else ""


def _footnote(review: Review, figures: list[Figure], errors: bool = False) -> str:
    """Under a section that shows figures (or error analysis) of every service: which, and why."""
    names = [f.title for f in figures if review.all_services(f)] + (["Error analysis"] if errors else [])
    if not names:
        return ""
    return (f'<p class="note">{MARK} {escape(ALL_SERVICES_NOTE.capitalize())}, so these are every service\'s, '
            f"not {escape(str(review.service))}'s alone: {escape(', '.join(names))}.</p>")


def _tiles(review: Review) -> str:
    by_vital = {f.vital: f for f in review.figures if f.vital and f.judged}
    tiles: list[str] = []
    on_tiles: list[Figure] = []
    for position in range(1, 7):
        vitals = [v for v in VITALS if v.tile and v.tile.position == position and v.id in by_vital]
        shown = [v for v in vitals if review.get(by_vital[v.id].name).value is not None] or vitals[:1]
        for vital in shown:
            figure, tile = by_vital[vital.id], vital.tile
            assert tile is not None
            on_tiles.append(figure)
            c = review.get(figure.name)
            tiles.append(
                f'<div class="tile {status(figure, c.value)}"><div class="q">{escape(tile.question)}</div>'
                f'<div class="t">{escape(tile.title)}{_mark(review, figure)}</div>'
                f'<div class="v">{escape(write(c.value, figure.format))}</div>'
                f'<div class="d">{_arrow(c.delta)} {escape(change(c.value, c.previous, figure.format))} '
                f"vs last month</div></div>")
    return ('<section class="headline"><h2>Headline</h2><div class="tiles">' + "".join(tiles) + "</div>"
            + _footnote(review, on_tiles) + "</section>")


def _table(review: Review, figures: list[Figure]) -> str:
    rows = ['<table><tr><th>Figure</th><th class="n">This month</th><th class="n">Last month</th>'
            '<th class="n">Change</th><th>Against threshold</th></tr>']
    for f in figures:
        c = review.get(f.name)
        state = status(f, c.value)
        badge = f'<span class="status {state}">{state}</span>' if state else ""
        rows.append(f'<tr><td title="{escape(f.description)}">{escape(f.title)}{_mark(review, f)}</td>'
                    f'<td class="n">{escape(write(c.value, f.format))}</td>'
                    f'<td class="n">{escape(write(c.previous, f.format))}</td>'
                    f'<td class="n">{_arrow(c.delta)} {escape(change(c.value, c.previous, f.format))}</td>'
                    f"<td>{badge}</td></tr>")
    return "".join(rows) + "</table>"


def _charts(review: Review, figures: list[Figure]) -> str:
    out = []
    for f in figures:
        current = review.current.daily.get(f.name)
        previous = review.previous.daily.get(f.name, []) if review.previous else []
        svg = charts.trend(f.title, current or [], previous, f.format) if current else ""
        if svg:
            out.append(f'<div class="chart"><div>{escape(f.title)}, per day</div>{svg}</div>')
    return '<div class="charts">' + "".join(out) + "</div>" if out else ""


def _moved(review: Review, figure: Figure) -> bool:
    c = review.get(figure.name)
    moved = relative_change(c.value, c.previous, figure.format)
    return (moved is not None and abs(moved) >= MOVED) or status(figure, c.value) in ("warning", "critical")


def _questions(review: Review, figures: list[Figure]) -> str:
    asked: list[str] = []
    seen: set[str] = set()
    for f in figures:
        vital = VITALS_BY_ID.get(f.vital)
        if vital is None or vital.id in seen or not vital.questions or not _moved(review, f):
            continue
        seen.add(vital.id)
        threshold = _usable(vital.id)
        reason = f' <span class="reason">Threshold: {escape(threshold.reason)}</span>' if threshold else ""
        items = "".join(f"<li>{escape(q)}</li>" for q in vital.questions)
        asked.append(f"<li><b>{escape(vital.title)}</b> moved.{reason}<ul>{items}</ul></li>")
    if not asked:
        return ('<h3>Questions to ask</h3><p class="reason">No figure here moved by 5% (or 5 points) or crossed '
                "a threshold since last month.</p>")
    return '<h3>Questions to ask</h3><ul class="questions">' + "".join(asked) + "</ul>"


def _cost_extras(review: Review, figures: list[Figure]) -> str:
    buckets = [f for f in figures if f.name in charts.BUCKET_COLOURS]
    titles = {f.name: f.title for f in buckets}
    months = []
    if review.previous:
        months.append((str(review.month.previous()), {f.name: review.previous.values.get(f.name) for f in buckets}))
    months.append((str(review.month), {f.name: review.current.values.get(f.name) for f in buckets}))
    stack = f'<div class="chart"><div>Cost by bucket</div>{charts.cost_stack(months, titles)}</div>'
    fc = review.forecast
    if fc is None:
        note = "<p>Forecast: too few days with data to fit a line.</p>"
    else:
        note = (f"<p><b>Forecast for {fc.next_month}</b> (a straight line fitted to {fc.days_fitted} days of this "
                f"month, extended; not a budget): total cost {escape(write(fc.cost_total_usd, Format.USD))}, of "
                f"which inference {escape(write(fc.cost_inference_usd, Format.USD))}; peak throughput "
                f"{escape(write(fc.throughput_peak_rps, Format.PER_SECOND))}. Step changes (a new customer, a "
                "price change) are not in it.</p>")
        fixed = [f for f in figures if f.name in FIXED_BUCKETS and review.all_services(f)]
        if fixed and fc.cost_fixed_usd is not None:
            note = note.replace("</p>", f" Its fixed costs are every service's{SUP}.</p>")
    return f'<div class="charts">{stack}</div><div class="forecast">{note}</div>'


def _count(value: float | None) -> str:
    return escape(write(value, Format.COUNT))


def _matrix(model: str, m: Matrix) -> str:
    """Rows: the actual class; columns: the predicted class; its misses (FN) at the end, wrong calls (FP) below."""
    head = "".join(f'<th class="n">{escape(c)}</th>' for c in m.classes)
    rows = [f'<table class="matrix"><tr><th>{escape(model)}: actual \\ predicted</th>{head}'
            '<th class="n">False negatives</th></tr>']
    for i, actual in enumerate(m.classes):
        cells = "".join(f'<td class="n">{"<b>" if i == j else ""}{_count(v)}{"</b>" if i == j else ""}</td>'
                        for j, v in enumerate(m.counts[i]))
        rows.append(f"<tr><td>{escape(actual)}</td>{cells}<td class=\"n\">{_count(m.false_negatives(i))}</td></tr>")
    fps = "".join(f'<td class="n">{_count(m.false_positives(i))}</td>' for i in range(len(m.classes)))
    rows.append(f"<tr><td>False positives</td>{fps}<td></td></tr></table>")
    return "".join(rows)


def _error_analysis(review: Review) -> str:
    errors = review.errors
    if errors is None:
        if review.service and restricted(review.scope):  # asked for the service alone: say it has none
            return (f"<h3>Error analysis</h3><p>No confusion-matrix or group series for service "
                    f"{escape(review.service)} in {review.month}.</p>")
        return ""
    parts = [f"<h3>Error analysis{SUP if errors.all_services else ''}</h3>"]
    for model, m in errors.matrices.items():
        parts.append(_matrix(model, m))
    if errors.groups:
        parts.append('<table><tr><th>Model</th><th>Group</th><th class="n">False positives</th>'
                     '<th class="n">False negatives</th><th class="n">Last month FP</th>'
                     '<th class="n">Last month FN</th></tr>')
        parts += [f"<tr><td>{escape(g.model)}</td><td>{escape(g.attribute)}: {escape(g.group)}</td>"
                  f'<td class="n">{_count(g.false_positives)}</td><td class="n">{_count(g.false_negatives)}</td>'
                  f'<td class="n">{_count(g.previous_false_positives)}</td>'
                  f'<td class="n">{_count(g.previous_false_negatives)}</td></tr>' for g in errors.groups]
        parts.append("</table>")
    return "".join(parts)


def _section(review: Review, section: Section) -> str:
    figures = [f for f in review.figures if f.section is section and review.shown(f)]
    errors = _error_analysis(review) if section is Section.PERFORMANCE else ""
    if not figures and not errors:
        scope = f" for service {escape(review.service)}" if review.service else ""
        return (f'<section id="{section.value}"><h2>{escape(SECTION_TITLES[section])}</h2>'
                f"<p>No series{scope} for this section in either month.</p></section>")
    extras = _cost_extras(review, figures) if section is Section.COST else errors
    table = _table(review, figures) if figures else ""
    mixed_errors = bool(errors) and review.errors is not None and review.errors.all_services
    return (f'<section id="{section.value}"><h2>{escape(SECTION_TITLES[section])}</h2>'
            + table + extras + _charts(review, figures) + _questions(review, figures)
            + _footnote(review, figures, mixed_errors) + "</section>")


def _banners(review: Review) -> str:
    notes = []
    if not review.coverage.complete:
        notes.append(f"This month is incomplete in the store: it covers {review.coverage.describe()}. "
                     "Counts and costs are for the covered days only.")
    if review.previous is None:
        notes.append(f"{review.month.previous()} is not in the store, so nothing is compared. Keep 62 days of "
                     "data (see docs/report.md).")
    elif not review.previous_coverage.complete:
        notes.append(f"{review.month.previous()} is incomplete in the store: it covers "
                     f"{review.previous_coverage.describe()}; compare with care.")
    return "".join(f'<p class="banner">{escape(n)}</p>' for n in notes)


def render(review: Review) -> str:
    """The whole page, deterministic for a given review."""
    scope = f"service {review.service}" if review.service else "all services"
    head = (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>AI monthly business review {review.month}</title><style>{STYLE}</style></head><body>")
    intro = (f"<header><h1>AI monthly business review: {review.month}</h1><p class=\"sub\">{escape(scope)}, compared "
             f"with {review.month.previous()}. Data: {escape(review.coverage.describe())} of the month.</p></header>")
    body = "".join(_section(review, s) for s in Section)
    foot = ("<footer>Made by aivitals from Prometheus series (raw, not recording rules). Thresholds are the "
            "catalogue's defaults; how each figure is computed is in docs/report.md.</footer>")
    return head + intro + _banners(review) + _tiles(review) + body + foot + "</body></html>\n"
