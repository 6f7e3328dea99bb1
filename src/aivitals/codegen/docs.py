"""Render docs/vitals.md from the catalogue."""

from __future__ import annotations

from ..catalogue.derived import DERIVED
from ..catalogue.labels import LABELS
from ..catalogue.metrics import METRICS
from ..catalogue.schema import Area, Threshold, Vital
from ..catalogue.slos import SLOS
from ..catalogue.vitals import VITALS
from .header import header

HEADER = header("markdown")

_AREA_TITLES = {
    Area.ENGINEERING: "Engineering: the system itself",
    Area.QUALITY: "Quality and safety",
    Area.BUSINESS: "Business: what changed in the world",
    Area.HUMAN: "Human and process",
    Area.INFRA: "GPU and host",
    Area.SDK: "The SDK's own health",
}


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:g}"


def _threshold(t: Threshold) -> str:
    return (f"`{t.config_key}`: {t.comparison.value} {_fmt(t.warning)} warning, {_fmt(t.critical)} critical "
            f"(for {t.for_}). {t.reason}")


def _vital(v: Vital) -> list[str]:
    number = f"#{v.number} " if v.number else ""
    lines = [f"### {number}{v.title} (`{v.id}`)", "", v.description, ""]
    lines.append(f"- unit: {v.unit.value or 'none'}; dashboard: {v.dashboard.value}"
                 + (f"; executive tile {v.tile.position} ({v.tile.title})" if v.tile else ""))
    lines.append("- reads: " + ", ".join(f"`{m}`" for m in v.metrics))
    if v.computed_in_process:
        lines.append(f"- computed in-process: {v.computed_in_process}")
    if v.planned:
        lines.append(f"- fed by: {v.planned}")
    if v.record:
        windows = f" at {', '.join(v.windows)}" if v.windows else ""
        lines.append(f"- recorded as `{v.record}`{windows}")
    for t in v.thresholds:
        lines.append(f"- threshold {_threshold(t)}")
    if v.questions:
        lines.append("- a manager asks, when it moved: " + " ".join(v.questions))
    lines += ["", "```promql", v.query, "```", ""]
    return lines


def render() -> str:
    """The whole of docs/vitals.md."""
    out = [HEADER, "# The vitals", "",
           "Every series aivitals records and every vital derived from them. `SEL` in a query stands for the "
           "label filters of the dashboard or rule, `WINDOW` for its range.", ""]
    for area, title in _AREA_TITLES.items():
        vitals = [v for v in VITALS if v.area is area]
        if not vitals:
            continue
        out += [f"## {title}", ""]
        for v in vitals:
            out += _vital(v)
    out += ["## Recorded beside the vitals", "", "| record | windows | description |", "|---|---|---|"]
    for d in DERIVED:
        out.append(f"| `{d.record}` | {', '.join(d.windows) or '-'} | {d.description} |")
    out += ["", "## Service-level objectives", "",
            "Alerted on with multi-window multi-burn-rate rules (page: 1h/5m and 6h/30m; ticket: 1d/2h and 3d/6h).",
            "", "| SLO | objective | period | bad-event ratio | why |", "|---|---|---|---|---|"]
    for slo in SLOS:
        out.append(f"| {slo.title} | {slo.objective:g} | {slo.period} | `{slo.errors}` | {slo.description} |")
    out += ["", "## Recorded metrics", "",
            "Sidecar replicas: with several sidecar replicas on PostgreSQL, *each replica* series carry a `replica` "
            "label and are summed by the rules; *leader* series are exported by one replica at a time.", "",
            "| name | type | labels | source | sidecar replicas | help |", "|---|---|---|---|---|---|"]
    for m in METRICS:
        replicas = m.replicas.value if m.replicas is not None else "-"
        out.append(f"| `{m.name}` | {m.type.value} | {', '.join(m.labels) or '-'} | {m.source.value} | {replicas} "
                   f"| {m.help} |")
    out += ["", "## Labels", "", "| label | values | description |", "|---|---|---|"]
    for label in LABELS.values():
        values = ", ".join(f"`{v}`" for v in label.values) if label.closed else f"open, at most {label.max_values}"
        out.append(f"| `{label.name}` | {values} | {label.description} |")
    return "\n".join(out) + "\n"
