"""Alerts on the scrape targets themselves: a target that exported aivitals answers no more, or exports none.

Without them a dead target freezes its vitals and no alert on them can fire.
"""

from __future__ import annotations

from .derived import SERIES_COUNT
from .schema import TargetAlert

#: How long a job that stopped exporting stays reported as missing.
TARGET_MEMORY = "1h"

_SEEN = f"max_over_time({SERIES_COUNT}[{TARGET_MEMORY}])"
_FIRST_STEP = ("Check the pod or process is running and its /metrics answers; check the scrape config and "
               "network policy. Until it is back, no alert on its vitals can fire.")

TARGET_ALERTS: tuple[TargetAlert, ...] = (
    TargetAlert(
        name="AivitalsInfraTargetDown", expr=f"up == 0 and on (namespace, job) {_SEEN}", for_="5m",
        summary="A target that exports aivitals is down: {{ $labels.job }} {{ $labels.instance }}.",
        description=("Prometheus cannot scrape {{ $labels.instance }} of job {{ $labels.job }}, which exported "
                     f"aivitals series in the last {TARGET_MEMORY}. Its vitals are frozen: alerts on them cannot "
                     "fire."),
        meaning="A scrape target that exported aivitals series answers no more.",
        confirm=("up == 0", _SEEN), first_step=_FIRST_STEP,
    ),
    TargetAlert(
        name="AivitalsInfraVitalsAbsent", expr=f"{_SEEN} unless {SERIES_COUNT}", for_="10m",
        summary="Job {{ $labels.job }} stopped exporting aivitals series.",
        description=(f"Job {{{{ $labels.job }}}} exported {{{{ $value }}}} aivitals series in the last "
                     f"{TARGET_MEMORY} and exports none now: the target is gone from discovery or no longer "
                     "instrumented. Every alert on its vitals is blind."),
        meaning="A job that exported aivitals series exports none now.",
        confirm=(SERIES_COUNT, _SEEN), first_step=_FIRST_STEP,
    ),
)
