"""`aivitals report --service S` against a real Prometheus holding several services: every figure is S's alone
where its series carry the service label, and says it is every service's where they do not.

The data are drawn with numpy (a count per half hour, the same for both halves of an hour so a 1-hour rate is
that hour's count), written as OpenMetrics, backfilled by promtool and served by a Prometheus started here
(the harness of test_report_prometheus.py). Each figure is checked against numpy's sums over the same arrays.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from html import escape
from pathlib import Path

import numpy as np
import pytest

from aivitals.catalogue import FIGURES_BY_NAME, METRICS_BY_NAME, Format
from aivitals.catalogue.figures import CLASS_MATRIX_QUERY, COVERAGE_QUERY, GROUP_ERRORS_QUERY
from aivitals.catalogue.vitals import MONTH_SECONDS
from aivitals.report.cli import main
from aivitals.report.figures import review_figures
from aivitals.report.humanize import write
from aivitals.report.scope import ALL_SERVICES_NOTE, ServiceScope, promql_string, series_of
from test_report_prometheus import Server, start


def real(test: Callable[..., None]) -> Callable[..., None]:
    """A test against the real Prometheus (the checks of the selector at the end need none)."""
    return pytest.mark.slow(pytest.mark.prometheus(test))


HALF, HOUR, DAY = 1800, 3600, 86400
MAR, APR = (datetime(2025, m, 1, tzinfo=timezone.utc).timestamp() for m in (3, 4))
NOW = datetime(2025, 5, 15, tzinfo=timezone.utc)
#: Samples from six hours before March to six hours after it: the month's windows are whole at both ends.
TIMES = np.arange(MAR - 6 * HOUR, APR + 6 * HOUR + 1, HALF)
IN_MARCH = (TIMES > MAR) & (TIMES <= APR)
QUOTED = 'we"ird\\svc'
LE = ("0.25", "0.5", "1", "2.5", "+Inf")
FIXED = {"compute": 1200.0, "storage": 30.0, "maintenance": 900.0}
SERVICE_LABEL = "service"
CLASSES = {"triage": ("billing", "tech", "other"), "router": ("faq", "human")}


def _hourly(rng: np.random.Generator, low: float, high: float) -> np.ndarray:
    """Per half-hour sample, half an hour's share of a count drawn per hour (both halves alike); tiny before March."""
    # samples alternate on the hour and half past, starting on the hour: pair each with the one before it
    per_hour = rng.uniform(low, high, len(TIMES) // 2 + 2).repeat(2)[1 : len(TIMES) + 1] / 2
    return np.where(TIMES <= MAR, 0.01, per_hour)


@dataclass
class Service:
    """One service's increments per sample, by series (labels after the service's own)."""

    name: str
    series: dict[str, np.ndarray] = field(default_factory=dict)

    def month(self, metric: str, **labels: str) -> float:
        """numpy's total of the service's ``metric`` increments in March, over the series matching ``labels``."""
        return float(sum(v[IN_MARCH].sum() for k, v in self.series.items()
                         if k.split("{")[0] == metric and all(f'{a}="{b}"' in k for a, b in labels.items())))


def _service(name: str, seed: int, scale: float, latency_shift: int, latency: tuple[float, ...]) -> Service:
    rng = np.random.default_rng(seed)
    s = Service(name)
    call = 'model="m",provider="openai"'
    errors = 0.06 * (1 + latency_shift)
    for outcome, share in (("ok", 0.96 - errors), ("error", errors), ("refused", 0.04)):
        s.series[f'aivitals_requests_total{{{call},outcome="{outcome}"}}'] = share * _hourly(rng, 50 * scale,
                                                                                          150 * scale)
    for kind, per_call in (("input", 800.0), ("output", 120.0), ("reasoning", 50.0)):
        s.series[f'aivitals_tokens_total{{{call},token_type="{kind}"}}'] = per_call * _hourly(rng, 50 * scale,
                                                                                              150 * scale)
    s.series[f'aivitals_cost_usd_total{{{call},cost_kind="input"}}'] = _hourly(rng, 0.2 * scale, 0.6 * scale)
    counts = _hourly(rng, 40 * scale, 120 * scale)
    weights = np.array(latency)
    for le, cumulative in zip(LE, np.cumsum(weights), strict=True):
        s.series[f'aivitals_request_duration_seconds_bucket{{{call},le="{le}"}}'] = counts * cumulative
    s.series[f"aivitals_request_duration_seconds_count{{{call}}}"] = counts
    s.series[f"aivitals_request_duration_seconds_sum{{{call}}}"] = counts * 0.4 * (1 + latency_shift)
    judged = _hourly(rng, 5 * scale, 15 * scale)
    fail = 0.03 * (1 + latency_shift)
    s.series['aivitals_evaluations_total{model="m",evaluator="hallucination",method="nli",verdict="fail"}'] = (
        judged * fail)
    s.series['aivitals_evaluations_total{model="m",evaluator="hallucination",method="nli",verdict="pass"}'] = (
        judged * (1 - fail))
    scored = _hourly(rng, 5 * scale, 15 * scale)
    s.series['aivitals_quality_score_bucket{model="m",evaluator="groundedness",method="nli",le="+Inf"}'] = scored
    s.series['aivitals_quality_score_count{model="m",evaluator="groundedness",method="nli"}'] = scored
    s.series['aivitals_quality_score_sum{model="m",evaluator="groundedness",method="nli"}'] = scored * (
        0.9 - 0.1 * latency_shift)
    suggested = _hourly(rng, 10 * scale, 20 * scale)
    s.series['aivitals_overrides_total{model="m",action="suggested"}'] = suggested
    s.series['aivitals_overrides_total{model="m",action="overridden"}'] = suggested * (0.1 + 0.1 * latency_shift)
    return s


#: Share of calls in each latency bucket (LE): the 95th percentile falls in a finite bucket for each.
A = _service("a", 1, 1.0, 0, (0.5, 0.25, 0.15, 0.07, 0.03))
B = _service("b", 2, 9.0, 1, (0.2, 0.3, 0.3, 0.18, 0.02))
Q = _service(QUOTED, 3, 3.0, 2, (0.6, 0.3, 0.06, 0.035, 0.005))
#: Exists for only some figures: calls that all went well, nothing else.
C = Service("c", {'aivitals_requests_total{model="m",provider="openai",outcome="ok"}':
                  _hourly(np.random.default_rng(4), 5, 10)})
SERVICES = (A, B, Q, C)

#: The sidecar's and the configuration's series: no service label (per deployment).
_RNG = np.random.default_rng(5)
SHARED: dict[str, np.ndarray] = {
    'aivitals_business_value_usd_total{outcome_kind="resolved",cohort="treatment"}': _hourly(_RNG, 10, 30),
    'aivitals_business_outcomes_total{outcome_kind="resolved",cohort="treatment"}': _hourly(_RNG, 1, 3),
    **{f'aivitals_confusion_total{{model="clf",class_outcome="{c}"}}': _hourly(_RNG, lo, hi)
       for c, lo, hi in (("tp", 30, 50), ("tn", 40, 60), ("fp", 2, 8), ("fn", 3, 9))},
    **{f'aivitals_class_predictions_total{{model="{m}",predicted_class="{p}",actual_class="{a}"}}':
       _hourly(_RNG, 8 if p == a else 0.5, 12 if p == a else 2)
       for m, classes in CLASSES.items() for p in classes for a in classes},
    **{f'aivitals_group_confusion_total{{model="churn",attribute="region",group="{g}",class_outcome="{c}"}}':
       _hourly(_RNG, 1, 4) for g in ("eu", "us") for c in ("fp", "fn", "tp")},
}


def _label_value(text: str) -> str:
    """An OpenMetrics label value: backslash, quote and newline escaped."""
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _lines(name: str, increments: np.ndarray) -> list[str]:
    totals = np.cumsum(np.concatenate(([0.0], increments[1:])))  # a counter from 0 at the first sample
    return [f"{name} {v:.6f} {t:.0f}" for v, t in zip(totals, TIMES, strict=True)]


def openmetrics() -> str:
    by_family: dict[str, list[str]] = {}
    for service in SERVICES:
        for series, inc in service.series.items():
            metric, labels = series.split("{", 1)
            name = f'{metric}{{service="{_label_value(service.name)}",{labels}'
            by_family.setdefault(_family(metric), []).extend(_lines(name, inc))
    for series, inc in SHARED.items():
        by_family.setdefault(_family(series.split("{")[0]), []).extend(_lines(series, inc))
    for bucket, usd in FIXED.items():
        by_family.setdefault("aivitals_fixed_cost_usd_per_month", []).extend(
            f'aivitals_fixed_cost_usd_per_month{{bucket="{bucket}"}} {usd} {t:.0f}' for t in TIMES)
    lines: list[str] = []
    for family, rows in by_family.items():
        kind = METRICS_BY_NAME.get(family) or METRICS_BY_NAME[family + "_total"]
        lines += [f"# TYPE {family} {kind.type.value}", *rows]
    return "\n".join(lines) + "\n# EOF\n"


def _family(metric: str) -> str:
    for suffix in ("_total", "_bucket", "_count", "_sum"):
        base = metric.removesuffix(suffix)
        if base != metric and (base in METRICS_BY_NAME or metric in METRICS_BY_NAME):
            return base
    return metric


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    if not (shutil.which("prometheus") and shutil.which("promtool")):
        pytest.skip("no prometheus or promtool binary")
    root = tmp_path_factory.mktemp("services")
    (root / "series.om").write_text(openmetrics())
    subprocess.run([shutil.which("promtool") or "promtool", "tsdb", "create-blocks-from", "openmetrics", "-q",
                    str(root / "series.om"), str(root / "data")], check=True, capture_output=True, timeout=300)
    server = start(root / "data")
    yield server
    server.stop()


def _review(prometheus: Server, out: Path, service: str) -> dict:
    assert main(["--prometheus", prometheus.url, "--month", "2025-03", "--out", str(out), "--format", "json,html",
                 "--service", service], now=NOW) == 0
    return {"json": json.loads((out / "aivitals-mbr-2025-03.json").read_text()),
            "html": (out / "aivitals-mbr-2025-03.html").read_text()}


@pytest.fixture(scope="module")
def review_a(prometheus: Server, tmp_path_factory: pytest.TempPathFactory) -> dict:
    return _review(prometheus, tmp_path_factory.mktemp("a"), "a")


def close(actual: float | None, expected: float, rel: float = 0.01) -> bool:
    return actual is not None and abs(actual - expected) <= rel * abs(expected)


def _p95(s: Service) -> float:
    """histogram_quantile's linear interpolation inside the bucket holding the 95th percentile."""
    counts = np.array([s.month("aivitals_request_duration_seconds_bucket", le=le) for le in LE[:-1]])
    bounds = np.array([float(le) for le in LE[:-1]])
    rank = 0.95 * s.month("aivitals_request_duration_seconds_bucket", le="+Inf")
    assert rank <= counts[-1], "the data must keep p95 in a finite bucket"
    return float(np.interp(rank, np.concatenate(([0.0], counts)), np.concatenate(([0.0], bounds))))


def _peak(s: Service) -> float:
    """The busiest hour's calls per second: each hour ends on a sample, its two half hours alike."""
    calls = np.sum([v for k, v in s.series.items() if k.startswith("aivitals_requests_total")], axis=0)
    hourly = calls[1:] + calls[:-1]  # the hour ending at each sample
    ends = TIMES[1:]
    on_the_hour = (ends % HOUR == 0) & (ends > MAR) & (ends <= APR)
    return float(hourly[on_the_hour].max() / HOUR)


def expected_figures(s: Service) -> dict[str, float]:
    """Every figure of ``s`` that its series carry the service label for, from numpy's sums."""
    req = "aivitals_requests_total"
    calls = s.month(req)
    return {
        "requests": calls,
        "tokens": s.month("aivitals_tokens_total", token_type="input") + s.month("aivitals_tokens_total",
                                                                                 token_type="output"),
        "cost_inference_usd": s.month("aivitals_cost_usd_total"),
        "error_rate": s.month(req, outcome="error") / calls,
        "refusal_rate": s.month(req, outcome="refused") / calls,
        "latency_p95_seconds": _p95(s),
        "throughput_peak_rps": _peak(s),
        "hallucination_rate": s.month("aivitals_evaluations_total", verdict="fail")
        / s.month("aivitals_evaluations_total"),
        "groundedness": s.month("aivitals_quality_score_sum") / s.month("aivitals_quality_score_count"),
        "override_rate": s.month("aivitals_overrides_total", action="overridden")
        / s.month("aivitals_overrides_total", action="suggested"),
        "cost_per_inference_usd": s.month("aivitals_cost_usd_total") / calls,
    }


def shared(metric: str, **labels: str) -> float:
    return float(sum(v[IN_MARCH].sum() for k, v in SHARED.items()
                     if k.split("{")[0] == metric and all(f'{a}="{b}"' in k for a, b in labels.items())))


@real
def test_every_service_figure_is_that_services_alone_and_equals_numpy(review_a: dict) -> None:
    figures = review_a["json"]["figures"]
    assert review_a["json"]["service"] == "a"
    for name, want in expected_figures(A).items():
        assert close(figures[name]["value"], want), (name, figures[name]["value"], want)
        assert "all_services" not in figures[name], name
    everyone = sum(s.month("aivitals_requests_total") for s in SERVICES)
    assert not close(figures["requests"]["value"], everyone)  # the control: the services differ a lot


@real
def test_series_without_a_service_label_are_every_services_and_marked_so(review_a: dict) -> None:
    figures = review_a["json"]["figures"]
    share = 31 * DAY / MONTH_SECONDS
    value, outcomes = shared("aivitals_business_value_usd_total"), shared("aivitals_business_outcomes_total")
    fixed = sum(FIXED.values()) * share
    total = A.month("aivitals_cost_usd_total") + fixed
    tp, tn = shared("aivitals_confusion_total", class_outcome="tp"), shared("aivitals_confusion_total",
                                                                            class_outcome="tn")
    unscoped = {"business_value_usd": value, "outcomes": outcomes, "cost_compute_usd": FIXED["compute"] * share,
                "cost_storage_usd": FIXED["storage"] * share, "cost_maintenance_usd": FIXED["maintenance"] * share,
                "cost_total_usd": total, "roi": value / total, "cost_per_outcome_usd": total / outcomes,
                "accuracy": (tp + tn) / shared("aivitals_confusion_total")}
    for name, want in unscoped.items():
        assert close(figures[name]["value"], want), (name, figures[name]["value"], want)
        assert figures[name]["all_services"] is True, name
    html = review_a["html"]
    cost = html[html.index('id="cost"'):html.index('id="human"')]
    assert f"{ALL_SERVICES_NOTE.capitalize()}, so these are every service's, not a's alone" in cost
    assert "Business value, Business outcomes, ROI" in cost and "Inference (model calls)<sup" not in cost
    assert re.search(r">Business value<sup title=\"[^\"]+\">†</sup></td>", cost)


@real
def test_the_error_analysis_is_every_services_and_equals_numpy(review_a: dict) -> None:
    errors = review_a["json"]["error_analysis"]
    assert errors["all_services"] is True  # the sidecar's class and group series carry no service label
    for model, classes in CLASSES.items():
        got = errors["confusion_matrices"][model]
        order = sorted(classes, key=lambda c: (c == "other", c))
        assert got["classes"] == order
        cell = "aivitals_class_predictions_total"
        want = np.array([[shared(cell, model=model, actual_class=a, predicted_class=p) for p in order]
                         for a in order])
        assert np.allclose(got["counts"], want, rtol=0.01), model
        fp = want.sum(axis=0) - np.diag(want)
        assert np.allclose([got["false_positives"][c] for c in order], fp, rtol=0.01)
    groups = {g["group"]: g for g in errors["by_group"]}
    gc = "aivitals_group_confusion_total"
    for group in ("eu", "us"):
        assert close(groups[group]["false_positives"], shared(gc, group=group, class_outcome="fp"))
        assert close(groups[group]["false_negatives"], shared(gc, group=group, class_outcome="fn"))
    html = review_a["html"]
    performance = html[html.index('id="performance"'):html.index('id="operational"')]
    assert re.search(r"<h3>Error analysis<sup title=\"[^\"]+\">†</sup></h3>", performance)
    assert "not a's alone: " in performance and "Error analysis." in performance


def _row(title: str, value: float | None, form: Format) -> str:
    return f'>{escape(title)}</td><td class="n">{escape(write(value, form))}</td>'


@real
def test_the_page_shows_the_services_numbers_not_the_others(review_a: dict, prometheus: Server,
                                                             tmp_path: Path) -> None:
    b = _review(prometheus, tmp_path, "b")
    for name in ("requests", "cost_inference_usd", "latency_p95_seconds", "error_rate"):
        figure = FIGURES_BY_NAME[name]
        mine, theirs = review_a["json"]["figures"][name]["value"], b["json"]["figures"][name]["value"]
        assert write(mine, figure.format) != write(theirs, figure.format), name  # the check could fail
        assert _row(figure.title, mine, figure.format) in review_a["html"], name
        assert _row(figure.title, theirs, figure.format) not in review_a["html"], name
    for name, want in expected_figures(B).items():
        assert close(b["json"]["figures"][name]["value"], want), name


@real
def test_a_service_name_with_a_quote_and_a_backslash_is_escaped(prometheus: Server, tmp_path: Path) -> None:
    review = _review(prometheus, tmp_path, QUOTED)
    assert review["json"]["service"] == QUOTED
    for name, want in expected_figures(Q).items():
        assert close(review["json"]["figures"][name]["value"], want), name
    assert "service we&quot;ird\\svc, compared" in review["html"]


@real
def test_a_service_present_in_only_some_series_has_the_rest_absent_not_zero(prometheus: Server,
                                                                            tmp_path: Path) -> None:
    review = _review(prometheus, tmp_path, "c")
    figures = review["json"]["figures"]
    assert close(figures["requests"]["value"], C.month("aivitals_requests_total"))
    assert figures["error_rate"]["value"] == 0.0  # calls, none failed: a real zero
    for name in ("tokens", "cost_inference_usd", "latency_p95_seconds"):
        assert figures[name]["value"] is None, name  # in the JSON as null: c has none of these series
    for name in ("hallucination_rate", "groundedness", "override_rate", "cost_per_inference_usd"):
        assert name not in figures, name
    assert _row("Inference (model calls)", None, Format.USD) in review["html"]  # a dash, not $0
    assert figures["cost_total_usd"]["all_services"] is True  # only the fixed costs, every service's


@real
def test_an_unknown_service_is_one_line_and_no_page(prometheus: Server, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--prometheus", prometheus.url, "--month", "2025-03", "--out", str(tmp_path),
                 "--service", "nobody"], now=NOW) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no aivitals series in 2025-03 for service 'nobody'" in err
    assert "--service" in err and not list(tmp_path.iterdir())


# --- the one place the selector is built -------------------------------------------------------------------


def _queries() -> dict[str, str]:
    out = {f.name: f.query for f in review_figures() if f.query}
    return {**out, "class matrix": CLASS_MATRIX_QUERY, "group errors": GROUP_ERRORS_QUERY}


def test_each_query_reads_the_series_its_figure_declares() -> None:
    for figure in review_figures():
        if figure.query:
            assert series_of(figure.query) == set(figure.metrics), figure.name


@pytest.mark.parametrize("service", ["a", QUOTED, "line\nbreak", "ünï"])
def test_every_series_selector_of_a_restricted_query_carries_the_escaped_service(service: str) -> None:
    scope = ServiceScope(service)
    matcher = "service=" + promql_string(service)
    for name, query in _queries().items():
        rendered = scope.render(query, "31d")
        selectors = re.findall(r"aivitals_[a-z0-9_]+(\{[^}]*\})?", rendered)
        if scope.restricts(query):
            assert selectors and all(s.startswith("{" + matcher) for s in selectors), name
        else:  # some series it reads has no service label: read over all services, and said so
            assert "service=" not in rendered and scope.mixes(query), name
            assert any(SERVICE_LABEL not in METRICS_BY_NAME[m].labels for m in series_of(query)), name


def test_the_error_analysis_and_coverage_follow_the_catalogue() -> None:
    scope = ServiceScope("a")
    for query in (CLASS_MATRIX_QUERY, GROUP_ERRORS_QUERY):
        carries = all(SERVICE_LABEL in METRICS_BY_NAME[m].labels for m in series_of(query))
        assert scope.restricts(query) is carries and scope.mixes(query) is not carries
    assert series_of(COVERAGE_QUERY) == frozenset()
    assert ServiceScope(None).selector(FIGURES_BY_NAME["requests"].query) == ""


def test_promql_strings_escape_quotes_backslashes_and_newlines() -> None:
    assert promql_string('a"b\\c\nd') == '"a\\"b\\\\c\\nd"'
    with pytest.raises(ValueError, match="not in the catalogue"):
        series_of("sum(aivitals_no_such_series_total{SEL})")


@real
def test_where_the_catalogue_labels_the_error_series_by_service_they_are_restricted(
        prometheus: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The catalogue swapped in memory (the one seam): class and group series said to carry service. The store's
    have no such label, so service a has none of them: the section says so, and the JSON has no zeros."""
    import aivitals.report.scope as scope

    labelled = {name: replace(m, labels=(SERVICE_LABEL, *m.labels)) if name in (
        "aivitals_class_predictions_total", "aivitals_group_confusion_total") else m
        for name, m in METRICS_BY_NAME.items()}
    monkeypatch.setattr(scope, "METRICS_BY_NAME", labelled)
    review = _review(prometheus, tmp_path, "a")
    assert "error_analysis" not in review["json"]
    assert "<h3>Error analysis</h3><p>No confusion-matrix or group series for service a in 2025-03.</p>" in (
        review["html"])
