"""`aivitals report` against a real Prometheus backfilled with two months whose totals are known.

The series are written as OpenMetrics, turned into TSDB blocks by
``promtool tsdb create-blocks-from openmetrics`` and served by a Prometheus
started here on 127.0.0.1 and stopped by its pid. February 2025 is covered
from the 10th only (a partial month, as a short retention leaves it); March
2025 is complete; January is empty.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pytest

from aivitals.catalogue import VITALS_BY_ID
from aivitals.catalogue.promql import render
from aivitals.catalogue.vitals import MONTH_SECONDS
from aivitals.codegen.promserver import free_port
from aivitals.report.cli import main

pytestmark = [pytest.mark.prometheus, pytest.mark.slow,
              pytest.mark.skipif(not (shutil.which("prometheus") and shutil.which("promtool")),
                                 reason="no prometheus or promtool binary")]

DAY, STEP = 86400, 1800  # promtool reads the file once per 2-hour block: few samples keep it quick
FEB, MAR, APR = (datetime(2025, m, 1, tzinfo=timezone.utc).timestamp() for m in (2, 3, 4))
DATA_FROM = FEB + 9 * DAY  # 10 February: the previous month is covered 19 of 28 days
DATA_TO = APR + 6 * 3600
NOW = datetime(2025, 5, 15, tzinfo=timezone.utc)
FIXED = {"compute": 1560.0, "storage": 9.25, "maintenance": 2175.0}
#: bcrypt of "aivitals-test", for the Prometheus that answers 401.
BCRYPT = "$2b$12$Vp/qoU/EXEbSNeOpv57Leu6FXhjKcL0EoR5.hHHmkFnv14waLwJma"


def day_of(t: float) -> int:
    """The day (0 = 1 February) of the sampling interval that ends at ``t``."""
    return int((t - STEP - FEB) // DAY)


#: Per sampling interval, by the interval's day: traffic grows a little every day.
INCREMENTS: dict[str, Callable[[int], float]] = {
    'aivitals_requests_total{service="chat",model="m",provider="openai",outcome="ok"}': lambda d: 100 + d,
    'aivitals_requests_total{service="chat",model="m",provider="openai",outcome="error"}': lambda d: 1,
    'aivitals_requests_total{service="batch",model="m",provider="openai",outcome="ok"}': lambda d: 10,
    'aivitals_tokens_total{service="chat",model="m",provider="openai",token_type="input"}': lambda d: 5000,
    'aivitals_tokens_total{service="chat",model="m",provider="openai",token_type="output"}': lambda d: 800,
    'aivitals_tokens_total{service="chat",model="m",provider="openai",token_type="cached_input"}': lambda d: 700,
    'aivitals_cost_usd_total{service="chat",model="m",provider="openai",cost_kind="input"}': lambda d: 0.4 + d / 100,
    'aivitals_cost_usd_total{service="batch",model="m",provider="openai",cost_kind="input"}': lambda d: 0.1,
    'aivitals_business_value_usd_total{outcome_kind="resolved",cohort="treatment"}': lambda d: 20,
    'aivitals_business_outcomes_total{outcome_kind="resolved",cohort="treatment"}': lambda d: 2,
    'aivitals_request_duration_seconds_bucket{service="chat",model="m",provider="openai",le="0.5"}': lambda d: 90,
    'aivitals_request_duration_seconds_bucket{service="chat",model="m",provider="openai",le="1"}': lambda d: 100,
    'aivitals_request_duration_seconds_bucket{service="chat",model="m",provider="openai",le="+Inf"}': lambda d: 100,
    'aivitals_request_duration_seconds_count{service="chat",model="m",provider="openai"}': lambda d: 100,
    'aivitals_request_duration_seconds_sum{service="chat",model="m",provider="openai"}': lambda d: 40,
    'aivitals_class_predictions_total{model="triage",predicted_class="billing",actual_class="billing"}': lambda d: 3,
    'aivitals_class_predictions_total{model="triage",predicted_class="tech",actual_class="billing"}': lambda d: 1,
    'aivitals_class_predictions_total{model="triage",predicted_class="other",actual_class="tech"}': lambda d: 2,
    'aivitals_group_confusion_total{model="churn",attribute="region",group="eu",class_outcome="fp"}': lambda d: 1,
    'aivitals_group_confusion_total{model="churn",attribute="region",group="eu",class_outcome="fn"}': lambda d: 2,
    'aivitals_group_confusion_total{model="churn",attribute="region",group="us",class_outcome="fp"}': lambda d: 3,
    'aivitals_group_confusion_total{model="churn",attribute="region",group="us",class_outcome="tp"}': lambda d: 5,
}
FAMILIES = {"aivitals_requests": "counter", "aivitals_tokens": "counter", "aivitals_cost_usd": "counter",
            "aivitals_business_value_usd": "counter", "aivitals_business_outcomes": "counter",
            "aivitals_request_duration_seconds": "histogram", "aivitals_fixed_cost_usd_per_month": "gauge",
            "aivitals_class_predictions": "counter", "aivitals_group_confusion": "counter"}


def _times() -> list[float]:
    return [float(t) for t in range(int(DATA_FROM), int(DATA_TO) + 1, STEP)]


def openmetrics() -> str:
    lines: list[str] = []
    times = _times()
    for family, kind in FAMILIES.items():
        lines.append(f"# TYPE {family} {kind}")
        if kind == "gauge":
            for bucket, usd in FIXED.items():
                lines += [f'{family}{{bucket="{bucket}"}} {usd} {t:.0f}' for t in times]
            continue
        for series, step in INCREMENTS.items():
            if not series.startswith(family + ("_total{" if kind == "counter" else "_")):
                continue
            value = 0.0
            for t in times:
                value += step(day_of(t)) if t > DATA_FROM else 0.0
                lines.append(f"{series} {value:.6f} {t:.0f}")
    return "\n".join(lines) + "\n# EOF\n"


def total(series: str, start: float, end: float) -> float:
    """The known increase of ``series`` over (start, end]."""
    return sum(INCREMENTS[series](day_of(t)) for t in _times() if start < t <= end and t > DATA_FROM)


def known(prefix: str, start: float, end: float, **labels: str) -> float:
    want = [f'{k}="{v}"' for k, v in labels.items()]
    return sum(total(s, start, end) for s in INCREMENTS if s.startswith(prefix + "{") and all(w in s for w in want))


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    workdir: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        shutil.rmtree(self.workdir, ignore_errors=True)


def start(data: Path | None, web_config: str = "") -> Server:
    """Prometheus on 127.0.0.1 over ``data`` (long retention: the blocks are in the past), ready or raised."""
    workdir = Path(tempfile.mkdtemp(prefix="aivitals-report-prom-"))
    tsdb = workdir / "data"
    if data is not None:
        shutil.copytree(data, tsdb)
    (workdir / "prometheus.yml").write_text("global:\n  scrape_interval: 1m\n")
    args = [shutil.which("prometheus") or "prometheus", f"--config.file={workdir / 'prometheus.yml'}",
            f"--storage.tsdb.path={tsdb}", f"--web.listen-address=127.0.0.1:{(port := free_port())}",
            "--storage.tsdb.retention.time=100y"]
    if web_config:
        (workdir / "web.yml").write_text(web_config)
        args.append(f"--web.config.file={workdir / 'web.yml'}")
    log = (workdir / "log").open("wb")
    process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
    server = Server(f"http://127.0.0.1:{port}", process, workdir)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            with urllib.request.urlopen(f"{server.url}/-/ready", timeout=1):
                return server
        except urllib.error.HTTPError as exc:
            if exc.code == 401:
                return server
        except OSError:
            pass
        time.sleep(0.2)
    text = (workdir / "log").read_text(errors="replace")[-2000:]
    server.stop()
    raise RuntimeError(f"prometheus did not start:\n{text}")


@pytest.fixture(scope="module")
def blocks(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("backfill")
    (root / "series.om").write_text(openmetrics())
    subprocess.run([shutil.which("promtool") or "promtool", "tsdb", "create-blocks-from", "openmetrics", "-q",
                    str(root / "series.om"), str(root / "data")], check=True, capture_output=True, timeout=300)
    return root / "data"


@pytest.fixture(scope="module")
def prometheus(blocks: Path) -> Iterator[Server]:
    server = start(blocks)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def march(prometheus: Server, tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("march")
    assert main(["--prometheus", prometheus.url, "--month", "2025-03", "--out", str(out), "--format", "json,html"],
                now=NOW) == 0
    return {"json": json.loads((out / "aivitals-mbr-2025-03.json").read_text()),
            "html": (out / "aivitals-mbr-2025-03.html").read_text()}


def close(actual: float | None, expected: float, rel: float = 0.01) -> bool:
    return actual is not None and abs(actual - expected) <= rel * abs(expected)


def test_the_months_totals_equal_the_known_increases(march: dict) -> None:
    figures = march["json"]["figures"]
    assert march["json"]["month"] == "2025-03" and march["json"]["previous_month"] == "2025-02"
    assert close(figures["requests"]["value"], known("aivitals_requests_total", MAR, APR))
    assert close(figures["tokens"]["value"], known("aivitals_tokens_total", MAR, APR, token_type="input")
                 + known("aivitals_tokens_total", MAR, APR, token_type="output"))
    inference = known("aivitals_cost_usd_total", MAR, APR)
    assert close(figures["cost_inference_usd"]["value"], inference)
    assert close(figures["business_value_usd"]["value"], known("aivitals_business_value_usd_total", MAR, APR))
    share = 31 * DAY / MONTH_SECONDS
    for bucket, usd in FIXED.items():
        assert close(figures[f"cost_{bucket}_usd"]["value"], usd * share)
    fixed = sum(FIXED.values()) * share
    assert close(figures["cost_total_usd"]["value"], inference + fixed)
    value = known("aivitals_business_value_usd_total", MAR, APR)
    assert close(figures["roi"]["value"], value / (inference + fixed))
    outcomes = known("aivitals_business_outcomes_total", MAR, APR)
    assert close(figures["cost_per_outcome_usd"]["value"], (inference + fixed) / outcomes)
    errors = known("aivitals_requests_total", MAR, APR, outcome="error")
    assert close(figures["error_rate"]["value"], errors / known("aivitals_requests_total", MAR, APR))
    assert close(figures["latency_p95_seconds"]["value"], 0.75)  # 90% under 0.5 s, all under 1 s


def test_the_previous_month_covers_only_its_days_in_the_store(march: dict) -> None:
    doc = march["json"]
    assert doc["coverage"]["complete"] is True and doc["coverage"]["covered_days"] == 31
    before = doc["coverage"]["previous"]
    assert before["complete"] is False and before["covered_days"] == 19 and before["missing_days"] == list(range(1, 10))
    requests = doc["figures"]["requests"]
    assert close(requests["previous"], known("aivitals_requests_total", FEB, MAR))
    assert close(requests["delta"], requests["value"] - requests["previous"])
    assert "covers 19 of 28 days (no data on days 1-9)" in march["html"]


def test_figures_without_series_are_absent_never_zero(march: dict) -> None:
    figures = march["json"]["figures"]
    for name in ("accuracy", "nps", "adoption_rate", "incidents", "drift_psi_max", "hallucination_rate",
                 "false_positives"):
        assert name not in figures
    assert '<div class="t">Accuracy</div><div class="v">–</div>' in march["html"]  # a dash, not 0%
    # a share whose whole exists but whose part was never recorded is a real 0: calls, none refused
    assert march["json"]["figures"]["refusal_rate"]["value"] == 0.0


def test_roi_and_cost_per_outcome_match_the_catalogue_vitals_over_the_month(prometheus: Server, march: dict) -> None:
    def catalogue(vital: str) -> float:
        expr = render(VITALS_BY_ID[vital].query, "31d")
        with urllib.request.urlopen(f"{prometheus.url}/api/v1/query?"
                                    + urllib.parse.urlencode({"query": expr, "time": APR})) as response:
            return float(json.load(response)["data"]["result"][0]["value"][1])

    assert close(march["json"]["figures"]["roi"]["value"], catalogue("roi"))
    assert close(march["json"]["figures"]["cost_per_outcome_usd"]["value"], catalogue("cost_per_outcome"))


def test_the_error_analysis_holds_the_months_known_cells(march: dict) -> None:
    errors = march["json"]["error_analysis"]
    triage = errors["confusion_matrices"]["triage"]
    assert triage["classes"] == ["billing", "tech", "other"]
    cell = "aivitals_class_predictions_total"
    (bb, bt, bo), (tb, tt, to), (ob, ot, oo) = triage["counts"]  # rows: actual; columns: predicted
    assert close(bb, known(cell, MAR, APR, predicted_class="billing", actual_class="billing"))
    assert close(bt, known(cell, MAR, APR, predicted_class="tech", actual_class="billing"))
    assert close(to, known(cell, MAR, APR, predicted_class="other", actual_class="tech"))
    assert [bo, tb, tt, ob, ot, oo] == [0.0] * 6
    assert close(triage["false_negatives"]["billing"], bt) and close(triage["false_positives"]["other"], to)
    groups = {g["group"]: g for g in errors["by_group"]}
    gc = "aivitals_group_confusion_total"
    assert close(groups["eu"]["false_positives"], known(gc, MAR, APR, group="eu", class_outcome="fp"))
    assert close(groups["eu"]["false_negatives"], known(gc, MAR, APR, group="eu", class_outcome="fn"))
    assert close(groups["us"]["false_positives"], known(gc, MAR, APR, group="us", class_outcome="fp"))
    assert groups["us"]["false_negatives"] == 0.0  # none recorded; the tp cell is not an error
    assert close(groups["eu"]["previous_false_negatives"], known(gc, FEB, MAR, group="eu", class_outcome="fn"))
    assert "<h3>Error analysis</h3>" in march["html"]


def test_the_forecast_extends_the_months_growth(march: dict) -> None:
    forecast = march["json"]["forecast"]
    assert forecast["label"] == "forecast" and forecast["next_month"] == "2025-04"
    # the chat service's cost per day grows by a cent per interval a day, the batch service's is flat
    days, per_day = range(59, 89), DAY // STEP  # April's days counted from 1 February
    expected = sum(per_day * (0.4 + d / 100) + per_day * 0.1 for d in days)
    assert close(forecast["cost_inference_usd"], expected, rel=0.02)
    assert forecast["cost_total_usd"] > forecast["cost_inference_usd"]


def test_a_service_filter_keeps_that_services_calls_and_the_deployments_business(prometheus: Server,
                                                                               tmp_path: Path) -> None:
    assert main(["--prometheus", prometheus.url, "--month", "2025-03", "--out", str(tmp_path), "--format", "json",
                 "--service", "batch"], now=NOW) == 0
    figures = json.loads((tmp_path / "aivitals-mbr-2025-03.json").read_text())["figures"]
    assert close(figures["requests"]["value"], known("aivitals_requests_total", MAR, APR, service="batch"))
    assert close(figures["cost_inference_usd"]["value"], known("aivitals_cost_usd_total", MAR, APR, service="batch"))
    assert close(figures["business_value_usd"]["value"], known("aivitals_business_value_usd_total", MAR, APR))


def _fails(capsys: pytest.CaptureFixture[str], argv: list[str], *words: str) -> None:
    assert main(argv, now=NOW) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("aivitals report: ") and "Traceback" not in err
    for word in words:
        assert word in err, err


def test_an_empty_month_is_refused(prometheus: Server, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _fails(capsys, ["--prometheus", prometheus.url, "--month", "2025-01", "--out", str(tmp_path)],
           "no aivitals series in 2025-01", "retention")
    assert not list(tmp_path.iterdir())


def test_an_incomplete_month_is_refused_when_asked(prometheus: Server, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    _fails(capsys, ["--prometheus", prometheus.url, "--month", "2025-02", "--require-complete", "--out",
                    str(tmp_path)], "covers only 19 of 28 days", "62")


def test_a_wrong_path_is_named(prometheus: Server, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _fails(capsys, ["--prometheus", prometheus.url + "/graph", "--month", "2025-03", "--out", str(tmp_path)],
           "no Prometheus API", "base URL")


def test_an_unreachable_server_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _fails(capsys, ["--prometheus", f"http://127.0.0.1:{free_port()}", "--month", "2025-03", "--out", str(tmp_path)],
           "cannot reach Prometheus", "--prometheus")


def test_a_401_names_the_token(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    server = start(None, f"basic_auth_users:\n  admin: {BCRYPT}\n")
    try:
        _fails(capsys, ["--prometheus", server.url, "--month", "2025-03", "--out", str(tmp_path)],
               "answered 401", "--bearer-token-env")
        os.environ["AIVITALS_TEST_TOKEN"] = "not-this-one"
        _fails(capsys, ["--prometheus", server.url, "--month", "2025-03", "--out", str(tmp_path),
                        "--bearer-token-env", "AIVITALS_TEST_TOKEN"], "answered 401", "token was refused")
    finally:
        os.environ.pop("AIVITALS_TEST_TOKEN", None)
        server.stop()
