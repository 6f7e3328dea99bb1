"""The review's parts that need no server: months, bad arguments, the forecast, derived figures, formats, catalogue."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import pytest
from scipy import stats

from aivitals.catalogue import FIGURES, METRICS, VITALS, CatalogueError, Format, validate
from aivitals.report.cli import main
from aivitals.report.coverage import Coverage
from aivitals.report.figures import derive, review_figures, selector
from aivitals.report.forecast import MIN_DAYS, fit, forecast
from aivitals.report.humanize import change, write
from aivitals.report.period import Month

NOW = datetime(2025, 5, 15, 12, tzinfo=timezone.utc)


def test_months_know_their_length_and_neighbours() -> None:
    assert Month.parse("2024-02").days == 29 and Month.parse("2025-02").window == "28d"
    assert Month(2025, 1).previous() == Month(2024, 12) and Month(2024, 12).next() == Month(2025, 1)
    assert Month.last_complete(NOW) == Month(2025, 4)
    assert Month(2025, 3).end - Month(2025, 3).start == 31 * 86400


@pytest.mark.parametrize(("month", "words"), [
    ("2025-13", "is not a month"), ("March", "is not a month"), ("25-03", "is not a month"),
    ("2031-01", "in the future"), ("2025-05", "has not ended yet")])
def test_a_bad_month_exits_2_with_one_line_before_any_query(month: str, words: str, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    # port 9 (discard) is never asked: the month is checked first
    assert main(["--prometheus", "http://127.0.0.1:9", "--month", month, "--out", str(tmp_path)], now=NOW) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and words in err
    assert "YYYY-MM" in err if "not a month" in words else "the last complete one is 2025-04" in err


@pytest.mark.parametrize(("argv", "words"), [
    (["--prometheus", "prometheus:9090"], "not an http(s) URL"),
    (["--prometheus", "http://127.0.0.1:9", "--format", "docx"], "choose from html, pdf, json"),
    (["--prometheus", "http://127.0.0.1:9", "--bearer-token-env", "AIVITALS_NO_SUCH_VARIABLE"], "export"),
    (["--month", "2025-03"], "--prometheus"),
])
def test_bad_arguments_exit_2_with_one_line(argv: list[str], words: str, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    if "--prometheus" in argv:
        assert main([*argv, "--out", str(tmp_path)], now=NOW) == 2
    else:
        with pytest.raises(SystemExit) as exited:
            main([*argv, "--out", str(tmp_path)], now=NOW)
        assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and words in err and "Traceback" not in err


def test_the_line_is_scipys_least_squares_line() -> None:
    daily: list[float | None] = [10.0 + 0.7 * d + (3.0 if d % 3 else -2.0) for d in range(30)]
    daily[4] = None
    line = fit(daily)
    xs = [d for d, v in enumerate(daily) if v is not None]
    ref = stats.linregress(xs, [daily[d] for d in xs])
    assert line is not None and line.days == 29
    assert line.slope == pytest.approx(ref.slope, rel=1e-9) and line.intercept == pytest.approx(ref.intercept)
    assert fit([1.0] * (MIN_DAYS - 1)) is None


def test_the_forecast_sums_the_line_over_next_month_and_carries_fixed_costs() -> None:
    march = Month(2025, 3)
    daily: list[float | None] = [100.0 + 2 * d for d in range(31)]
    result = forecast(march, daily, daily, 3100.0)
    assert result is not None and result.next_month == Month(2025, 4)
    assert result.cost_inference_usd == pytest.approx(sum(100.0 + 2 * d for d in range(31, 61)))
    assert result.cost_fixed_usd == pytest.approx(3100.0 * 30 / 31)
    assert result.throughput_peak_rps == pytest.approx(100.0 + 2 * 60)
    assert forecast(march, [None] * 31, [], None) is None


def test_derived_figures_are_absent_when_what_they_need_is() -> None:
    figures = review_figures()
    values = derive(figures, {"cost_inference_usd": 100.0, "cost_compute_usd": 50.0, "business_value_usd": 600.0})
    assert values["cost_total_usd"] == 150.0 and values["roi"] == 4.0
    assert values["cost_per_outcome_usd"] is None  # no outcomes recorded: no unit cost, never $0
    empty = derive(figures, {"outcomes": 0.0})
    assert empty["cost_total_usd"] is None and empty["roi"] is None and empty["cost_per_outcome_usd"] is None


def test_the_service_filter_reaches_only_series_that_carry_the_service_label() -> None:
    by_name = {f.name: f for f in review_figures()}
    assert selector(by_name["requests"], 'a"b') == 'service="a\\"b"'
    assert selector(by_name["business_value_usd"], "chat") == ""
    assert selector(by_name["requests"], None) == ""


def test_numbers_are_written_for_people() -> None:
    assert write(3745.0, Format.USD) == "$3,745" and write(0.0042, Format.USD) == "$0.0042"
    assert write(0.123, Format.RATIO) == "12.3%" and write(8_000_000, Format.COUNT) == "8.00 million"
    assert write(0.35, Format.SECONDS) == "350 ms" and write(5400, Format.SECONDS) == "1.5 h"
    assert write(0.32, Format.POINTS) == "+32" and write(None, Format.USD) == "–"
    assert change(0.12, 0.10, Format.RATIO) == "+2.0 pts" and change(110.0, 100.0, Format.USD) == "+10.0%"


def test_coverage_names_the_missing_days() -> None:
    assert Coverage(31, 31, 744, ()).describe() == "all 31 days"
    assert Coverage(28, 24, 570, (1, 2, 3, 7)).describe() == "24 of 28 days (no data on days 1-3, 7)"


def test_the_catalogue_refuses_a_shown_vital_without_questions_and_a_bad_question() -> None:
    tiled = [replace(v, questions=()) if v.id == "roi" else v for v in VITALS]
    with pytest.raises(CatalogueError, match="roi: shown on a tile or in the monthly review"):
        validate(METRICS, tuple(tiled), (), FIGURES)
    asked = [replace(v, questions=("costs rose",)) if v.id == "nps" else v for v in VITALS]
    with pytest.raises(CatalogueError, match="must start with a capital and end in"):
        validate(METRICS, tuple(asked), (), FIGURES)


def test_the_catalogue_refuses_a_figure_derived_from_an_unknown_one() -> None:
    broken = [replace(f, ratio_of=("business_value_usd", "no_such_figure")) if f.name == "roi" else f
              for f in FIGURES]
    with pytest.raises(CatalogueError, match="derived from 'no_such_figure'"):
        validate(METRICS, VITALS, (), tuple(broken))


def test_the_bearer_token_is_sent_on_every_query(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """A fake at the narrowest seam: Prometheus has no bearer auth of its own (a gateway in front adds it),
    so a stand-in answers as an empty Prometheus only to requests carrying the token."""
    import http.server
    import json
    import threading

    seen: list[str] = []

    class Gateway(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            seen.append(self.headers.get("Authorization", ""))
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            ok = self.headers.get("Authorization") == "Bearer s3cret"
            body = json.dumps({"status": "success", "data": {"resultType": "matrix", "result": []}}).encode()
            self.send_response(200 if ok else 401)
            self.end_headers()
            self.wfile.write(body if ok else b"unauthorized")

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Gateway)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("MY_PROM_TOKEN", "s3cret")
    try:
        code = main(["--prometheus", f"http://127.0.0.1:{server.server_port}", "--month", "2025-03", "--out",
                     str(tmp_path), "--bearer-token-env", "MY_PROM_TOKEN"], now=NOW)
    finally:
        server.shutdown()
        server.server_close()
    err = capsys.readouterr().err
    assert code == 2 and "holds no aivitals series in 2025-03" in err and "s3cret" not in err
    assert seen and all(header == "Bearer s3cret" for header in seen)
