"""Engineering: the system itself (model quality vitals sit on the Quality dashboard)."""

from __future__ import annotations

from ..drift import DEFAULT_THRESHOLD
from ..schema import Area, Comparison, Dashboard, Threshold, Tile, Unit, Vital
from ..slos import LATENCY_CRITICAL_SECONDS, LATENCY_SLO_SECONDS, SLO_WINDOWS
from ..values import PREDICTION
from .queries import FEATURE_PSI, MONTH_SECONDS, SM, M, quantile, rate_ratio

ENGINEERING: tuple[Vital, ...] = (
    Vital(
        id="accuracy", number=1, title="Task quality (accuracy)", area=Area.ENGINEERING,
        description="Share of labelled predictions that were right; precision, recall and F1 come from the same "
                    "counters.",
        unit=Unit.RATIO, metrics=("aivitals_confusion_total",),
        query=rate_ratio('aivitals_confusion_total{SEL, class_outcome=~"tp|tn"}', "aivitals_confusion_total{SEL}", M),
        record="model:aivitals_accuracy:ratio_rateWINDOW", windows=("1h", "1d"),
        dashboard=Dashboard.QUALITY, row="Task quality", order=1, grafana_unit="percentunit",
        tile=Tile(position=3, title="Accuracy", question="How often is it wrong? (classical models)"),
        thresholds=(
            Threshold(comparison=Comparison.BELOW, warning=0.90, critical=0.80, config_key="accuracy_floor", for_="1h",
                      maximum=1.0,
                      reason="A per-model floor: below it the model is wrong more often than the use case was "
                             "signed off for. Set each model's own floor in config."),
        ),
        first_step="Compare with the last release and the label delay panel: a late or skewed label feed looks like "
                   "a drop. If it is real, roll back the model version.",
    ),
    Vital(
        id="calibration_error", number=2, title="Calibration (ECE)", area=Area.ENGINEERING,
        description="Expected calibration error: the confidence-weighted gap between stated confidence and accuracy.",
        unit=Unit.RATIO,
        metrics=("aivitals_calibration_predictions_total", "aivitals_calibration_correct_total",
                 "aivitals_calibration_confidence_sum_total"),
        query=f"sum by ({M}) (abs("
              f"sum by ({M}, bin) (increase(aivitals_calibration_confidence_sum_total{{SEL}}[WINDOW]))"
              f" - sum by ({M}, bin) (increase(aivitals_calibration_correct_total{{SEL}}[WINDOW]))))"
              f" / sum by ({M}) (increase(aivitals_calibration_predictions_total{{SEL}}[WINDOW]))",
        record="model:aivitals_calibration_error:ece_increaseWINDOW", windows=("1d", "7d"),
        dashboard=Dashboard.QUALITY, row="Task quality", order=5, grafana_unit="percentunit",
        thresholds=(
            Threshold(comparison=Comparison.ABOVE, warning=0.05, critical=0.10, config_key="ece_max", for_="1h",
                      maximum=1.0,
                      reason="Above 0.05 a model that says 80% is right noticeably less often: confident wrong "
                             "answers."),
        ),
        first_step="Check which confidence bins are off on the Quality dashboard; recalibrate (temperature or "
                   "isotonic) before trusting thresholds that read the confidence.",
    ),
    Vital(
        id="distribution_shift", number=3, title="Distribution shift score", area=Area.ENGINEERING,
        description="The largest per-feature PSI of a model's inputs vs the reference profile.",
        unit=Unit.NONE, metrics=("aivitals_feature_bin_observations_total", "aivitals_feature_reference_bin_ratio"),
        query=f'max by ({M}) ({FEATURE_PSI}{{SEL, feature!="{PREDICTION}"}})',
        record="model:aivitals_feature_psi:max1d",
        dashboard=Dashboard.ENGINEERING, row="Drift", order=1,
        thresholds=(
            Threshold(comparison=Comparison.ABOVE, warning=0.15, critical=0.25, config_key="drift_max", for_="1h",
                      reason="The seed article's bar: over 0.15 the model no longer runs in its training "
                             "distribution."),
        ),
        first_step="Open the per-feature drift panel: find the feature that moved and the upstream change that "
                   "moved it (a new client, a schema change, a holiday).",
    ),
    Vital(
        id="feature_drift", number=4, title="Feature drift, per feature", area=Area.ENGINEERING,
        description="PSI of each input feature's production distribution vs the reference profile.",
        unit=Unit.NONE, metrics=("aivitals_feature_bin_observations_total", "aivitals_feature_reference_bin_ratio"),
        query=f'{FEATURE_PSI}{{SEL, feature!="{PREDICTION}"}}',
        dashboard=Dashboard.ENGINEERING, row="Drift", order=2,
        thresholds=(
            Threshold(comparison=Comparison.ABOVE, warning=DEFAULT_THRESHOLD, critical=0.25,
                      config_key="feature_drift_max", for_="1h",
                      reason="Most outages start with one feature drifting silently; 0.15 is the conventional "
                             "'significant shift' PSI."),
        ),
        first_step="Check the feature's pipeline for a broken join or unit change before blaming the world; if the "
                   "shift is real, schedule retraining.",
    ),
    Vital(
        id="prediction_drift", number=5, title="Prediction drift", area=Area.ENGINEERING,
        description="PSI of the model's output distribution vs the reference profile.",
        unit=Unit.NONE, metrics=("aivitals_feature_bin_observations_total", "aivitals_feature_reference_bin_ratio"),
        query=f'{FEATURE_PSI}{{SEL, feature="{PREDICTION}"}}',
        dashboard=Dashboard.ENGINEERING, row="Drift", order=3,
        thresholds=(
            Threshold(comparison=Comparison.ABOVE, warning=0.15, critical=0.25, config_key="prediction_drift_max",
                      for_="1h",
                      reason="A moving output distribution signals an upstream change even while test accuracy "
                             "holds."),
        ),
        first_step="Look for an input feature drifting at the same time; if none, check the model version and any "
                   "change to the post-processing.",
    ),
    Vital(
        id="latency_p95", number=6, title="Latency p95", area=Area.ENGINEERING,
        description="95th percentile of the model call's duration; p50 and p99 and the p99/p50 gap are recorded "
                    "beside it.",
        unit=Unit.SECONDS, metrics=("aivitals_request_duration_seconds",),
        query=quantile(0.95, "aivitals_request_duration_seconds", SM),
        record="service_model:aivitals_request_duration_seconds:p95_rateWINDOW", windows=("5m", "1h"),
        dashboard=Dashboard.ENGINEERING, row="Latency", order=1, grafana_unit="s",
        tile=Tile(position=5, title="p95 latency", question="Is the experience acceptable?"),
        thresholds=(
            Threshold(comparison=Comparison.ABOVE, warning=LATENCY_SLO_SECONDS, critical=LATENCY_CRITICAL_SECONDS,
                      config_key="latency_p95_seconds", for_="10m",
                      reason="The p95 SLO: beyond about 2.5 s an interactive assistant feels slow; set your own per "
                             "service."),
        ),
        first_step="Check the p99/p50 gap and the throughput: a wide gap points at the tail (long prompts, "
                   "retries), a high load at capacity. Fail over or shed load first.",
    ),
    Vital(
        id="error_rate", number=None, title="Error rate", area=Area.ENGINEERING,
        description="Share of model calls that failed or timed out: the availability SLI.",
        unit=Unit.RATIO, metrics=("aivitals_requests_total",),
        query=rate_ratio('aivitals_requests_total{SEL, outcome=~"error|timeout"}', "aivitals_requests_total{SEL}", SM),
        record="service_model:aivitals_request_errors:ratio_rateWINDOW", windows=SLO_WINDOWS,
        dashboard=Dashboard.ENGINEERING, row="Errors and SLOs", order=1, grafana_unit="percentunit",
    ),
    Vital(
        id="throughput_peak", number=7, title="Throughput at peak", area=Area.ENGINEERING,
        description="Calls per second at the 99th-percentile minute of the last day.",
        unit=Unit.NONE, metrics=("aivitals_requests_total",),
        query="quantile_over_time(0.99, service_model:aivitals_requests:rate1m{SEL}[1d:1m])",
        record="service_model:aivitals_requests:rate1m_p99_1d",
        dashboard=Dashboard.ENGINEERING, row="Traffic", order=3, grafana_unit="reqps",
        thresholds=(
            Threshold(comparison=Comparison.ABOVE, warning=0.8, critical=0.95, config_key="capacity_utilization_max",
                      for_="30m", maximum=1.0, subject="service_model:aivitals_capacity:utilization_peak1d",
                      reason="Peak load as a share of configured capacity: plan before the peak minute hits the "
                             "ceiling."),
        ),
        first_step="Add capacity or a rate limit before the next peak; check which service drives the peak.",
    ),
    Vital(
        id="cost_per_inference", number=8, title="Cost per inference", area=Area.ENGINEERING,
        description="Spend from the price table divided by calls.",
        unit=Unit.USD, metrics=("aivitals_cost_usd_total", "aivitals_requests_total"),
        query=f"sum by ({SM}) (rate(aivitals_cost_usd_total{{SEL}}[WINDOW]))"
              f" / sum by ({SM}) (rate(aivitals_requests_total{{SEL}}[WINDOW]))",
        record="service_model:aivitals_cost_per_inference_usd:rateWINDOW", windows=("1h", "1d"),
        dashboard=Dashboard.ENGINEERING, row="Cost and cache", order=1, grafana_unit="currencyUSD",
        thresholds=(
            Threshold(comparison=Comparison.ABOVE, warning=0.05, critical=0.20, config_key="cost_per_inference_usd",
                      for_="1h",
                      reason="A budget per call: token-heavy prompts drive most cost incidents. Set your own per "
                             "model."),
        ),
        first_step="Find the model and token kind that grew on the Engineering dashboard; look for longer prompts, "
                   "lost cache hits or a price-table change.",
    ),
    Vital(
        id="unmetered_share", number=None, title="Unmetered calls", area=Area.ENGINEERING,
        description="Share of calls to a token-priced model whose tokens are unknown (a stream abandoned before its "
                    "usage, a provider that sends none, an unreadable shape): their cost is not in the spend, which "
                    "reads that much too low.",
        unit=Unit.RATIO, metrics=("aivitals_unmetered_requests_total", "aivitals_requests_total"),
        query=rate_ratio("aivitals_unmetered_requests_total{SEL}", "aivitals_requests_total{SEL}", SM),
        record="service_model:aivitals_unmetered:ratio_rateWINDOW", windows=("1h",),
        dashboard=Dashboard.ENGINEERING, row="Cost and cache", order=4, grafana_unit="percentunit",
        thresholds=(
            Threshold(comparison=Comparison.ABOVE, warning=0.01, critical=None, config_key="unmetered_share_max",
                      for_="1h", maximum=1.0,
                      reason="Above 1% of calls the spend and every cost vital read low: ask for usage on streams "
                             "(stream_options include_usage) or use aivitals.instrument()."),
        ),
        first_step="Read aivitals_unmetered_requests_total by unmetered_reason: usage_not_requested and "
                   "stream_incomplete are fixed by asking for usage on streams; stream_not_consumed by tracking the "
                   "code that reads the stream.",
    ),
    Vital(
        id="cost_per_outcome", number=9, title="Cost per business outcome", area=Area.ENGINEERING,
        description="Model spend (plus fixed monthly costs pro rata) per business outcome.",
        unit=Unit.USD,
        metrics=("aivitals_cost_usd_total", "aivitals_business_outcomes_total",
                 "aivitals_fixed_cost_usd_per_month"),
        query="(sum by (namespace) (increase(aivitals_cost_usd_total{SEL}[WINDOW]))"
              f" + sum by (namespace) (aivitals_fixed_cost_usd_per_month{{SEL}}) * WINDOW_SECONDS / {MONTH_SECONDS})"
              " / sum by (namespace) (increase(aivitals_business_outcomes_total{SEL}[WINDOW]))",
        record="namespace:aivitals_cost_per_outcome_usd:increaseWINDOW", windows=("1d", "7d", "30d"),
        dashboard=Dashboard.BUSINESS, row="Outcomes", order=3, grafana_unit="currencyUSD",
        tile=Tile(position=2, title="Cost per outcome", question="At what unit cost?"),
        thresholds=(
            Threshold(comparison=Comparison.ABOVE, warning=1.0, critical=5.0, config_key="cost_per_outcome_usd",
                      for_="6h", reason="The unit cost the business case assumed; set it from your own."),
        ),
        first_step="Split into spend and outcomes: a spend jump is an engineering issue, an outcome drop a business "
                   "one.",
    ),
    Vital(
        id="cache_hit_rate", number=10, title="Cache hit rate", area=Area.ENGINEERING,
        description="Hits over lookups, by cache kind.",
        unit=Unit.RATIO, metrics=("aivitals_cache_requests_total",),
        query=rate_ratio('aivitals_cache_requests_total{SEL, result="hit"}', "aivitals_cache_requests_total{SEL}",
                          SM + ", cache"),
        record="service_model_cache:aivitals_cache_hit:ratio_rateWINDOW", windows=("1h", "5m"),
        dashboard=Dashboard.ENGINEERING, row="Cost and cache", order=5, grafana_unit="percentunit",
        thresholds=(
            Threshold(comparison=Comparison.BELOW, warning=0.30, critical=None, config_key="cache_hit_rate_min",
                      for_="1h", maximum=1.0,
                      reason="Hit rates above 30% materially cut cost and latency; below it the cache is worth a "
                             "look (info)."),
        ),
        first_step="Check the cache's eviction and key design (a version string in the key resets it).",
    ),
)
