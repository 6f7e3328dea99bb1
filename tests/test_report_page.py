"""The review page: golden files for what is deterministic, real Chromium for the page, poppler for the PDF.

The review is built in memory from fixed figures (no Prometheus: the query
side is tested against a real one in test_report_prometheus.py). Set
AIVITALS_UPDATE_GOLDEN=1 to rewrite the golden files after a deliberate change.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from aivitals.report.coverage import Coverage
from aivitals.report.error_analysis import ErrorAnalysis, GroupErrors, matrices
from aivitals.report.figures import PeriodFigures, derive, review_figures
from aivitals.report.forecast import forecast
from aivitals.report.model import Review
from aivitals.report.period import Month
from aivitals.report.render_html import render

GOLDEN = Path(__file__).parent / "fixtures" / "report"
MONTH = Month(2025, 3)
CURRENT = {"requests": 8_000_000.0, "tokens": 4.1e9, "cost_inference_usd": 1260.0, "cost_compute_usd": 1588.86,
           "cost_storage_usd": 9.42, "cost_maintenance_usd": 2215.24, "business_value_usd": 64000.0,
           "outcomes": 3100.0, "latency_p95_seconds": 1.84, "error_rate": 0.004, "accuracy": 0.91,
           "hallucination_rate": 0.031, "adoption_rate": 0.46, "kpi_delta": 0.021, "nps": 0.32,
           "time_to_detect_seconds": 2700.0, "throughput_peak_rps": 7.9, "incidents": 3.0}
PREVIOUS = {"requests": 7_100_000.0, "tokens": 3.6e9, "cost_inference_usd": 1080.0, "cost_compute_usd": 1435.09,
            "cost_storage_usd": 8.51, "cost_maintenance_usd": 2000.86, "business_value_usd": 61000.0,
            "outcomes": 2900.0, "latency_p95_seconds": 1.62, "error_rate": 0.006, "accuracy": 0.93,
            "hallucination_rate": 0.018, "adoption_rate": 0.41, "kpi_delta": 0.025, "nps": 0.35,
            "time_to_detect_seconds": 3900.0, "throughput_peak_rps": 6.8, "incidents": 5.0}


#: A month of the sidecar's error analysis: a triage model's matrix (undeclared classes as other), a churn model's
#: false positives and negatives by region.
CELLS = [({"model": "triage", "predicted_class": p, "actual_class": a}, n) for p, a, n in (
    ("billing", "billing", 410.0), ("tech", "billing", 22.0), ("billing", "tech", 35.0), ("tech", "tech", 512.0),
    ("other", "tech", 9.0), ("tech", "other", 14.0))]
ERRORS = ErrorAnalysis(matrices(CELLS), (GroupErrors("churn", "region", "eu", 12.0, 30.0, 10.0, 41.0),
                                         GroupErrors("churn", "region", "us", 25.0, 18.0, None, None)))


def review() -> Review:
    figures = review_figures()
    daily_cost = [36.0 + 0.8 * d for d in range(31)]
    daily_peak = [6.5 + 0.05 * d for d in range(31)]
    current = PeriodFigures(MONTH, derive(figures, dict(CURRENT)),
                            {"cost_inference_usd": daily_cost, "throughput_peak_rps": daily_peak,
                             "requests": [250_000.0 + 1000 * d for d in range(31)],
                             "latency_p95_seconds": [1.8 + (d % 5) / 50 for d in range(31)]})
    previous = PeriodFigures(MONTH.previous(), derive(figures, dict(PREVIOUS)),
                             {"requests": [None] * 9 + [250_000.0] * 19})
    fixed = sum(CURRENT[k] for k in ("cost_compute_usd", "cost_storage_usd", "cost_maintenance_usd"))
    return Review(MONTH, "support-assistant", figures, current, previous, Coverage(31, 31, 744, ()),
                  Coverage(28, 19, 456, tuple(range(1, 10))), forecast(MONTH, daily_cost, daily_peak, fixed),
                  ERRORS)


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("page") / "aivitals-mbr-2025-03.html"
    path.write_text(render(review()), encoding="utf-8")
    return path


def _golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("AIVITALS_UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"{name} changed: rerun with AIVITALS_UPDATE_GOLDEN=1 if meant"


def test_the_json_matches_its_golden_file() -> None:
    _golden("aivitals-mbr-2025-03.json", json.dumps(review().as_json(), indent=2, sort_keys=True) + "\n")


def test_the_page_matches_its_golden_file(page: Path) -> None:
    _golden("aivitals-mbr-2025-03.html", page.read_text(encoding="utf-8"))


def test_the_page_is_self_contained_and_in_the_seed_articles_order(page: Path) -> None:
    html = page.read_text(encoding="utf-8")
    for banned in ("<script", "http://", "https://", "url(", "@import", "<link", "@font-face", "src="):
        assert banned not in html.lower()
    order = [html.index(f'id="{s}"') for s in ("performance", "operational", "cost", "human")]
    assert html.index('class="headline"') < order[0] and order == sorted(order)
    assert "$64,000" in html and "$1,260" in html and "1.8 s" in html and "+21" not in html
    assert "+32" in html  # NPS in points
    assert "Forecast for 2025-04" in html and "covers 19 of 28 days" in html
    assert "If costs rose while value stayed flat" in html  # ROI fell: its questions are asked
    errors = html.index("<h3>Error analysis</h3>")
    assert order[0] < errors < order[1]  # in the performance section
    assert "triage: actual \\ predicted" in html and "<td>region: eu</td>" in html


def _browse(page: Path, tmp_path: Path) -> tuple[Path, set[str]]:
    """Open ``page`` in headless Chromium: its screenshot, and the URLs the page (not the browser) requested."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if not browser:
        pytest.skip("no chromium: scripts/test.sh installs it")
    shot, netlog = tmp_path / f"{page.stem}.png", tmp_path / f"{page.stem}.netlog.json"
    done = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
         f"--log-net-log={netlog}", "--window-size=1000,2400", f"--screenshot={shot}", page.as_uri()],
        capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    log = netlog.read_text()
    events = json.loads(log if log.rstrip().endswith("}") else log.rstrip().rstrip(",") + "]}")["events"]
    # the browser's own calls (update checks, clock) carry no origin; a page's carry the page's
    requested = {e["params"]["url"] for e in events if isinstance(e.get("params"), dict)
                 and "url" in e["params"] and e["params"].get("initiator", "not an origin") != "not an origin"}
    return shot, requested


def test_the_page_opens_in_headless_chromium_without_requests_or_errors(page: Path, tmp_path: Path) -> None:
    shot, requested = _browse(page, tmp_path)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    from PIL import Image

    with Image.open(shot) as image:
        colours = image.convert("RGB").getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 20, "the screenshot is blank"
    assert not [url for url in requested if not url.startswith(("file:", "data:"))], requested


def test_the_request_check_sees_a_page_that_fetches_something(tmp_path: Path) -> None:
    control = tmp_path / "control.html"
    control.write_text('<!DOCTYPE html><html><body><img src="http://127.0.0.1:9/pixel.png"></body></html>')
    _, requested = _browse(control, tmp_path)
    assert "http://127.0.0.1:9/pixel.png" in requested


def test_the_pdf_has_the_pages_text(tmp_path: Path) -> None:
    if not (shutil.which("pdftoppm") and shutil.which("pdftotext")):
        pytest.skip("no poppler-utils: scripts/test.sh installs them")
    pytest.importorskip("weasyprint")
    from aivitals.report.render_pdf import write_pdf

    pdf = tmp_path / "review.pdf"
    write_pdf(render(review()), pdf)
    assert pdf.read_bytes()[:5] == b"%PDF-"
    subprocess.run(["pdftoppm", "-png", "-r", "40", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "p")], check=True,
                   timeout=60)
    assert list(tmp_path.glob("p*.png"))
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True,
                          timeout=60).stdout
    for words in ("AI monthly business review: 2025-03", "Cost per outcome", "$64,000", "Forecast for 2025-04",
                  "Questions to ask"):
        assert words in text, words
