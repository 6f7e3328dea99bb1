"""``aivitals report``: a month of Prometheus series turned into the monthly business review.

One job per module, imports pointing down to the catalogue: ``period`` (which
month), ``query`` (the HTTP API), ``coverage`` (what the store holds),
``figures`` (the month's numbers), ``forecast`` (scalability cost), ``model``
(the review as data and JSON), ``humanize`` and ``charts`` and
``render_html`` and ``render_pdf`` (the page), ``cli`` (the command).
"""

from __future__ import annotations

from .errors import ReportError

__all__ = ["ReportError"]
