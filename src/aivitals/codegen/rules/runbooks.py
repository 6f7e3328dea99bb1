"""docs/runbooks.md: one section per alert, what it means, how to confirm it, what to do first."""

from __future__ import annotations

from ...catalogue import Dashboard, Vital
from ..header import header
from .alerts import Alert, all_alerts

HEADER = header("markdown")

#: What the runbook says for an alert whose source gives no first step.
_DEFAULT_FIRST = "Open the dashboard and find which service or model moved."


def _dashboard(vital: Vital | None) -> str:
    board = vital.dashboard if vital else Dashboard.OPERATIONS
    return f"aivitals-{board.value}"


def _section(name: str, alerts: list[Alert]) -> list[str]:
    first = alerts[0]
    lines = [f"## {name}", ""]
    levels = ", ".join(f"`{a.severity}`" + (f" at {a.default:g}" if a.default is not None else "") for a in alerts)
    lines += ["**What it means.** " + first.meaning, "", f"Severities: {levels}; fires after `for: "
              f"{first.for_}`." + (f" Override with `{first.threshold.config_key}` in the thresholds config."
                                  if first.threshold else ""), ""]
    lines += [f"**How to confirm.** Open the `{_dashboard(first.vital)}` dashboard, or query:", "", "```promql"]
    lines += first.confirm
    lines += ["```", ""]
    lines += ["**What to do first.** " + (first.first_step or _DEFAULT_FIRST), ""]
    return lines


def render(alerts: list[Alert] | None = None) -> str:
    alerts = alerts if alerts is not None else all_alerts()
    by_name: dict[str, list[Alert]] = {}
    for alert in alerts:
        by_name.setdefault(alert.name, []).append(alert)
    out = [HEADER, "# Runbooks", "",
           "One section per alert that `aivitals build` generates. Thresholds come from the catalogue unless the "
           "thresholds config overrides them per service or model.", ""]
    out += [f"- [{name}](#{name.lower()})" for name in by_name]
    out.append("")
    for name, group in by_name.items():
        out += _section(name, group)
    return "\n".join(out).rstrip("\n") + "\n"
