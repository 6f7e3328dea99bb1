"""Service-level objectives and the burn-rate windows that alert on them.

The windows and budget shares are the SRE workbook's (and sloth's) table for a
30-day period; the burn-rate factors (14.4, 6, 3, 1) are derived from them in
``aivitals.codegen.rules.slo``, never typed in.
"""

from __future__ import annotations

from .metrics import DURATION_BUCKETS
from .schema import Area, BurnWindow, Severity, Slo

#: The p95 latency objective and its hard ceiling. Both are bucket edges of
#: aivitals_request_duration_seconds, so the latency SLO can count calls under them.
LATENCY_SLO_SECONDS = DURATION_BUCKETS[8]  # 2.56 s
LATENCY_CRITICAL_SECONDS = DURATION_BUCKETS[9]  # 5.12 s

#: Page when 2% of the month's budget burns in an hour or 5% in six; open a
#: ticket when 10% burns in a day or in three.
BURN_WINDOWS: tuple[BurnWindow, ...] = (
    BurnWindow("1h", "5m", 0.02, Severity.CRITICAL),
    BurnWindow("6h", "30m", 0.05, Severity.CRITICAL),
    BurnWindow("1d", "2h", 0.10, Severity.WARNING),
    BurnWindow("3d", "6h", 0.10, Severity.WARNING),
)

#: Every window an SLI ratio is recorded at: the burn-rate windows, short ones first.
SLO_WINDOWS: tuple[str, ...] = ("5m", "30m", "1h", "2h", "6h", "1d", "3d")

#: What to do first when an SLO burns its budget fast.
_FIRST_STEP = ("Find the service and model on the Engineering dashboard; check recent deploys and the provider's "
               "status page. Roll back or fail over first, investigate after.")

SLOS: tuple[Slo, ...] = (
    Slo("availability", "Availability",
        "Share of model calls that neither failed nor timed out. 99.5% leaves about 3.6 hours of full outage "
        "a month: most hosted model APIs promise no more.",
        0.995, "service_model:aivitals_request_errors:ratio_rateWINDOW", Area.ENGINEERING, first_step=_FIRST_STEP),
    Slo("latency", "Latency",
        f"Share of model calls faster than {LATENCY_SLO_SECONDS:g} s, the p95 latency threshold: 95% of "
        "calls under it is what a p95 objective means.",
        0.95, "service_model:aivitals_slo_latency_errors:ratio_rateWINDOW", Area.ENGINEERING, first_step=_FIRST_STEP),
)
