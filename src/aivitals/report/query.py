"""A small client of the Prometheus HTTP API: instant and range queries, errors a person can act on.

Works with any store that speaks the Prometheus query API (Prometheus,
Thanos, Mimir, VictoriaMetrics). Queries are POSTed, so long expressions fit;
a bearer token, when given, is sent on every request and never printed.
"""

from __future__ import annotations

import json
import math
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from .errors import ReportError

DEFAULT_TIMEOUT_S = 60.0
_TOKEN_FIX = "put a token Prometheus accepts in the variable named by --bearer-token-env"


@dataclass(frozen=True)
class Point:
    time: float
    value: float | None


def _number(text: str) -> float | None:
    """A sample value; NaN and infinities (0/0, x/0) are no value."""
    value = float(text)
    return value if math.isfinite(value) else None


class Prometheus:
    """The query API at ``url`` (the server's base URL, as Grafana's data source has it)."""

    def __init__(self, url: str, token: str | None = None, timeout: float = DEFAULT_TIMEOUT_S) -> None:
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ReportError(f"--prometheus {url!r} is not an http(s) URL",
                              "give the server's base URL, e.g. --prometheus http://prometheus:9090")
        self.url = url.rstrip("/")
        self._token = token
        self._timeout = timeout

    def _post(self, path: str, params: dict[str, str]) -> Any:
        request = urllib.request.Request(f"{self.url}{path}", data=urllib.parse.urlencode(params).encode(),
                                         method="POST")
        request.add_header("Content-Type", "application/x-www-form-urlencoded")
        request.add_header("Accept", "application/json")
        if self._token:
            request.add_header("Authorization", f"Bearer {self._token}")
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:
                body = response.read()
        except urllib.error.HTTPError as exc:
            raise self._http_error(exc) from None
        except TimeoutError:
            raise ReportError(f"Prometheus at {self.url} did not answer within {self._timeout:g}s",
                              "retry when it is less busy, or give more time with --timeout") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ReportError(f"cannot reach Prometheus at {self.url} ({reason})",
                              "check --prometheus: the address and port Grafana's data source uses") from None
        try:
            answer = json.loads(body)
        except ValueError:
            raise ReportError(f"{self.url} did not answer as a Prometheus API (not JSON)",
                              "give the server's base URL, without /api/v1 or /graph") from None
        if not isinstance(answer, dict) or answer.get("status") != "success":
            raise ReportError(f"Prometheus at {self.url} refused a query ({_error_of(answer)})",
                              "check that it is Prometheus 2.26 or newer, or a compatible store")
        return answer.get("data")

    def _http_error(self, exc: urllib.error.HTTPError) -> ReportError:
        code = exc.code
        if code in (401, 403):
            fix = (f"the token was refused: {_TOKEN_FIX}" if self._token
                   else f"it needs credentials: {_TOKEN_FIX} (default AIVITALS_PROMETHEUS_TOKEN)")
            return ReportError(f"Prometheus at {self.url} answered {code} {exc.reason}", fix)
        if code == 404:
            return ReportError(f"no Prometheus API at {self.url}/api/v1 (404)",
                               "give the server's base URL, without /api/v1 or /graph")
        try:
            detail = _error_of(json.loads(exc.read()))
        except (ValueError, OSError):
            detail = f"{code} {exc.reason}"
        if code in (400, 422):
            return ReportError(f"Prometheus at {self.url} rejected a query ({detail})",
                               "check that it is Prometheus 2.26 or newer, or a compatible store")
        return ReportError(f"Prometheus at {self.url} failed ({detail})", "retry, and check its logs if it persists")

    def check(self) -> None:
        """One cheap query: the server is there, speaks the API and lets us in."""
        self._post("/api/v1/query", {"query": "vector(1)"})

    def instant(self, expr: str, at: float) -> float | None:
        """The value of ``expr`` at ``at`` (one series expected), or None when it has none."""
        data = self._post("/api/v1/query", {"query": expr, "time": _time(at)})
        result = data.get("result", []) if isinstance(data, dict) else []
        if data.get("resultType") == "scalar":
            return _number(result[1])
        values = [_number(series["value"][1]) for series in result]
        present = [v for v in values if v is not None]
        return sum(present) if present else None

    def vector(self, expr: str, at: float) -> list[tuple[dict[str, str], float]]:
        """Each series of ``expr`` at ``at``: its labels and value (series without a finite value left out)."""
        data = self._post("/api/v1/query", {"query": expr, "time": _time(at)})
        out = []
        for series in data.get("result", []) if isinstance(data, dict) else []:
            value = _number(series["value"][1])
            if value is not None:
                out.append((dict(series.get("metric", {})), value))
        return out

    def range(self, expr: str, start: float, end: float, step: float) -> list[Point]:
        """``expr`` at every ``step`` from ``start`` to ``end``; times without a value are left out."""
        data = self._post("/api/v1/query_range",
                          {"query": expr, "start": _time(start), "end": _time(end), "step": f"{step:g}"})
        totals: dict[float, float] = {}
        for series in data.get("result", []) if isinstance(data, dict) else []:
            for stamp, text in series["values"]:
                value = _number(text)
                if value is not None:
                    totals[float(stamp)] = totals.get(float(stamp), 0.0) + value
        return [Point(t, v) for t, v in sorted(totals.items())]


def _time(moment: float) -> str:
    return f"{moment:.3f}"


def _error_of(answer: Any) -> str:
    if isinstance(answer, dict):
        return f"{answer.get('errorType', 'error')}: {answer.get('error', 'no reason given')}"[:300]
    return "an answer that is not a Prometheus API response"
