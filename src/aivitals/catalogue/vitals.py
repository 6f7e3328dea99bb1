"""The vitals: the 30 of the seed article, GPU and host, ROI and the cost buckets.

Each vital says how it is derived (PromQL over the recorded metrics), its
default thresholds with the reason for each, where it is shown, and the
recording rule that computes it once (``record``, at each of ``windows``).
Queries use three tokens: ``SEL`` inside a selector's braces is replaced by
the dashboard's label filters (``{SEL}`` or ``{SEL, extra="x"}``; empty in
recording rules), ``WINDOW`` by a range such as ``5m`` and ``WINDOW_SECONDS``
by that range in seconds.

Every aggregation keeps ``namespace`` (added by Prometheus's service
discovery) so that the namespace filter works on recorded series too; level
names leave it out, as kubernetes-mixin leaves out ``cluster``.
"""

from __future__ import annotations

from dataclasses import replace

from .questions import QUESTIONS
from .schema import Area, Comparison, Dashboard, Threshold, Tile, Unit, Vital
from .slos import LATENCY_CRITICAL_SECONDS, LATENCY_SLO_SECONDS, SLO_WINDOWS

E, Q, B, HU, IN = Area.ENGINEERING, Area.QUALITY, Area.BUSINESS, Area.HUMAN, Area.INFRA
ABOVE, BELOW, EQUAL = Comparison.ABOVE, Comparison.BELOW, Comparison.EQUAL
D = Dashboard

SM = "namespace, service, model"
M = "namespace, model"
#: A probe suite's results compare only within one suite version, for one model.
PROBE = "namespace, suite, suite_version, model"

#: Seconds in an average month (365.2425 / 12 days): fixed monthly costs pro rata.
MONTH_SECONDS = 2629746

def _rate_ratio(num: str, den: str, by: str) -> str:
    """num/den by ``by``; a missing numerator counts as 0, so "never refused" reads 0, not no data."""
    total = f"sum by ({by}) (rate({den}[WINDOW]))"
    return f"(sum by ({by}) (rate({num}[WINDOW])) or 0 * {total}) / {total}"


def _quantile(q: float, metric: str, by: str) -> str:
    return f"histogram_quantile({q}, sum by (le, {by}) (rate({metric}_bucket{{SEL}}[WINDOW])))"


#: Evaluator scores and verdicts stay apart by ``method`` (lexical, judge, ...), so a panel never mixes them.
SMM = f"{SM}, method"


def _score_mean(evaluator: str) -> str:
    sel = f'{{SEL, evaluator="{evaluator}"}}'
    return (f"sum by ({SMM}) (rate(aivitals_quality_score_sum{sel}[WINDOW]))"
            f" / sum by ({SMM}) (rate(aivitals_quality_score_count{sel}[WINDOW]))")


def _verdict_share(evaluator: str, verdict: str) -> str:
    return _rate_ratio(
        f'aivitals_evaluations_total{{SEL, evaluator="{evaluator}", verdict="{verdict}"}}',
        f'aivitals_evaluations_total{{SEL, evaluator="{evaluator}"}}',
        SMM,
    )


def _mean(metric: str, by: str) -> str:
    return (f"sum by ({by}) (increase({metric}_sum{{SEL}}[WINDOW]))"
            f" / sum by ({by}) (increase({metric}_count{{SEL}}[WINDOW]))")


#: One-sided 95% normal quantile (1.645), computed, for "with confidence".
def _z95() -> float:
    from statistics import NormalDist

    return round(NormalDist().inv_cdf(0.95), 4)


def _z_bonferroni(tests: int = 5, alpha: float = 0.05) -> float:
    """One-sided normal quantile at ``alpha / tests`` (2.3263 for five tests at 5%), as ``aivitals probe`` uses."""
    from statistics import NormalDist

    return round(NormalDist().inv_cdf(1 - alpha / tests), 4)


VITALS: tuple[Vital, ...] = (
    # --- Engineering ---------------------------------------------------------------
    Vital("accuracy", 1, "Task quality (accuracy)", E,
          "Share of labelled predictions that were right; precision, recall and F1 come from the same counters.",
          Unit.RATIO, ("aivitals_confusion_total",),
          _rate_ratio('aivitals_confusion_total{SEL, class_outcome=~"tp|tn"}', "aivitals_confusion_total{SEL}", M),
          D.QUALITY,
          thresholds=(Threshold(BELOW, 0.90, 0.80, "A per-model floor: below it the model is wrong more often than "
                                "the use case was signed off for. Set each model's own floor in config.",
                                "accuracy_floor", for_="1h", maximum=1.0),),
          tile=Tile(3, "Accuracy", "How often is it wrong? (classical models)"), grafana_unit="percentunit",
          record="model:aivitals_accuracy:ratio_rateWINDOW", windows=("1h", "1d")),
    Vital("calibration_error", 2, "Calibration (ECE)", E,
          "Expected calibration error: the confidence-weighted gap between stated confidence and accuracy.",
          Unit.RATIO,
          ("aivitals_calibration_predictions_total", "aivitals_calibration_correct_total",
           "aivitals_calibration_confidence_sum_total"),
          f"sum by ({M}) (abs("
          f"sum by ({M}, bin) (increase(aivitals_calibration_confidence_sum_total{{SEL}}[WINDOW]))"
          f" - sum by ({M}, bin) (increase(aivitals_calibration_correct_total{{SEL}}[WINDOW]))))"
          f" / sum by ({M}) (increase(aivitals_calibration_predictions_total{{SEL}}[WINDOW]))",
          D.QUALITY,
          thresholds=(Threshold(ABOVE, 0.05, 0.10, "Above 0.05 a model that says 80% is right noticeably less often: "
                                "confident wrong answers.", "ece_max", for_="1h", maximum=1.0),),
          grafana_unit="percentunit", record="model:aivitals_calibration_error:ece_increaseWINDOW",
          windows=("1d", "7d")),
    Vital("distribution_shift", 3, "Distribution shift score", E,
          "The largest per-feature PSI of a model's inputs vs the reference profile.",
          Unit.NONE, ("aivitals_feature_bin_observations_total", "aivitals_feature_reference_bin_ratio"),
          f'max by ({M}) (model_feature:aivitals_feature_psi:1d{{SEL, feature!="__prediction__"}})',
          D.ENGINEERING,
          thresholds=(Threshold(ABOVE, 0.15, 0.25, "The seed article's bar: over 0.15 the model no longer runs in "
                                "its training distribution.", "drift_max", for_="1h"),),
          record="model:aivitals_feature_psi:max1d"),
    Vital("feature_drift", 4, "Feature drift, per feature", E,
          "PSI of each input feature's production distribution vs the reference profile.",
          Unit.NONE, ("aivitals_feature_bin_observations_total", "aivitals_feature_reference_bin_ratio"),
          'model_feature:aivitals_feature_psi:1d{SEL, feature!="__prediction__"}', D.ENGINEERING,
          thresholds=(Threshold(ABOVE, 0.15, 0.25, "Most outages start with one feature drifting silently; 0.15 is "
                                "the conventional 'significant shift' PSI.", "feature_drift_max", for_="1h"),),
          ),
    Vital("prediction_drift", 5, "Prediction drift", E,
          "PSI of the model's output distribution vs the reference profile.",
          Unit.NONE, ("aivitals_feature_bin_observations_total", "aivitals_feature_reference_bin_ratio"),
          'model_feature:aivitals_feature_psi:1d{SEL, feature="__prediction__"}', D.ENGINEERING,
          thresholds=(Threshold(ABOVE, 0.15, 0.25, "A moving output distribution signals an upstream change even "
                                "while test accuracy holds.", "prediction_drift_max", for_="1h"),),
          ),
    Vital("latency_p95", 6, "Latency p95", E,
          "95th percentile of the model call's duration; p50 and p99 and the p99/p50 gap are recorded beside it.",
          Unit.SECONDS, ("aivitals_request_duration_seconds",),
          _quantile(0.95, "aivitals_request_duration_seconds", SM), D.ENGINEERING,
          thresholds=(Threshold(ABOVE, LATENCY_SLO_SECONDS, LATENCY_CRITICAL_SECONDS,
                                "The p95 SLO: beyond about 2.5 s an interactive assistant feels slow; set your own "
                                "per service.", "latency_p95_seconds", for_="10m"),),
          tile=Tile(5, "p95 latency", "Is the experience acceptable?"), grafana_unit="s",
          record="service_model:aivitals_request_duration_seconds:p95_rateWINDOW", windows=("5m", "1h")),
    Vital("error_rate", None, "Error rate", E,
          "Share of model calls that failed or timed out: the availability SLI.",
          Unit.RATIO, ("aivitals_requests_total",),
          _rate_ratio('aivitals_requests_total{SEL, outcome=~"error|timeout"}', "aivitals_requests_total{SEL}", SM),
          D.ENGINEERING, grafana_unit="percentunit",
          record="service_model:aivitals_request_errors:ratio_rateWINDOW", windows=SLO_WINDOWS),
    Vital("throughput_peak", 7, "Throughput at peak", E,
          "Calls per second at the 99th-percentile minute of the last day.",
          Unit.NONE, ("aivitals_requests_total",),
          "quantile_over_time(0.99, service_model:aivitals_requests:rate1m{SEL}[1d:1m])", D.ENGINEERING,
          thresholds=(Threshold(ABOVE, 0.8, 0.95, "Peak load as a share of configured capacity: plan before the "
                                "peak minute hits the ceiling.", "capacity_utilization_max", for_="30m",
                                maximum=1.0, subject="service_model:aivitals_capacity:utilization_peak1d"),),
          grafana_unit="reqps", record="service_model:aivitals_requests:rate1m_p99_1d"),
    Vital("cost_per_inference", 8, "Cost per inference", E,
          "Spend from the price table divided by calls.",
          Unit.USD, ("aivitals_cost_usd_total", "aivitals_requests_total"),
          f"sum by ({SM}) (rate(aivitals_cost_usd_total{{SEL}}[WINDOW]))"
          f" / sum by ({SM}) (rate(aivitals_requests_total{{SEL}}[WINDOW]))",
          D.ENGINEERING,
          thresholds=(Threshold(ABOVE, 0.05, 0.20, "A budget per call: token-heavy prompts drive most cost "
                                "incidents. Set your own per model.", "cost_per_inference_usd", for_="1h"),),
          grafana_unit="currencyUSD", record="service_model:aivitals_cost_per_inference_usd:rateWINDOW",
          windows=("1h", "1d")),
    Vital("unmetered_share", None, "Unmetered calls", E,
          "Share of calls to a token-priced model whose tokens are unknown (a stream abandoned before its usage, "
          "a provider that sends none, an unreadable shape): their cost is not in the spend, which reads that "
          "much too low.",
          Unit.RATIO, ("aivitals_unmetered_requests_total", "aivitals_requests_total"),
          _rate_ratio("aivitals_unmetered_requests_total{SEL}", "aivitals_requests_total{SEL}", SM),
          D.ENGINEERING,
          thresholds=(Threshold(ABOVE, 0.01, None, "Above 1% of calls the spend and every cost vital read low: "
                                "ask for usage on streams (stream_options include_usage) or use "
                                "aivitals.instrument().", "unmetered_share_max", for_="1h", maximum=1.0),),
          grafana_unit="percentunit", record="service_model:aivitals_unmetered:ratio_rateWINDOW",
          windows=("1h",)),
    Vital("cost_per_outcome", 9, "Cost per business outcome", E,
          "Model spend (plus fixed monthly costs pro rata) per business outcome.",
          Unit.USD, ("aivitals_cost_usd_total", "aivitals_business_outcomes_total",
                     "aivitals_fixed_cost_usd_per_month"),
          "(sum by (namespace) (increase(aivitals_cost_usd_total{SEL}[WINDOW]))"
          f" + sum by (namespace) (aivitals_fixed_cost_usd_per_month{{SEL}}) * WINDOW_SECONDS / {MONTH_SECONDS})"
          " / sum by (namespace) (increase(aivitals_business_outcomes_total{SEL}[WINDOW]))",
          D.BUSINESS,
          thresholds=(Threshold(ABOVE, 1.0, 5.0, "The unit cost the business case assumed; set it from your own.",
                                "cost_per_outcome_usd", for_="6h"),),
          tile=Tile(2, "Cost per outcome", "At what unit cost?"), grafana_unit="currencyUSD",
          record="namespace:aivitals_cost_per_outcome_usd:increaseWINDOW", windows=("1d", "7d", "30d")),
    Vital("cache_hit_rate", 10, "Cache hit rate", E,
          "Hits over lookups, by cache kind.",
          Unit.RATIO, ("aivitals_cache_requests_total",),
          _rate_ratio('aivitals_cache_requests_total{SEL, result="hit"}', "aivitals_cache_requests_total{SEL}",
                      SM + ", cache"),
          D.ENGINEERING,
          thresholds=(Threshold(BELOW, 0.30, None, "Hit rates above 30% materially cut cost and latency; below it "
                                "the cache is worth a look (info).", "cache_hit_rate_min", for_="1h",
                                maximum=1.0),),
          grafana_unit="percentunit", record="service_model_cache:aivitals_cache_hit:ratio_rateWINDOW",
          windows=("1h", "5m")),
    # --- Quality and safety --------------------------------------------------------------
    Vital("groundedness", 11, "Groundedness", Q, "Mean groundedness score of evaluated responses.",
          Unit.RATIO, ("aivitals_quality_score",), _score_mean("groundedness"), D.QUALITY,
          thresholds=(Threshold(BELOW, 0.90, 0.80, "Target 0.90: every claim should trace back to retrieved "
                                "context.", "groundedness_min", for_="1h", maximum=1.0),),
          grafana_unit="percentunit", record="service_model:aivitals_groundedness:mean_rateWINDOW",
          windows=("1h", "1d")),
    Vital("context_precision", 12, "Context precision", Q, "Mean share of retrieved chunks that were relevant.",
          Unit.RATIO, ("aivitals_quality_score",), _score_mean("context_precision"), D.QUALITY,
          thresholds=(Threshold(BELOW, 0.70, 0.50, "Below 0.7 the retrieval pipeline returns noise.",
                                "context_precision_min", for_="1h", maximum=1.0),),
          grafana_unit="percentunit", record="service_model:aivitals_context_precision:mean_rateWINDOW",
          windows=("1h", "1d")),
    Vital("context_recall", 13, "Context recall", Q, "Mean share of needed chunks that were retrieved.",
          Unit.RATIO, ("aivitals_quality_score",), _score_mean("context_recall"), D.QUALITY,
          thresholds=(Threshold(BELOW, 0.70, 0.50, "Below 0.7 chunking or coverage misses what answers need.",
                                "context_recall_min", for_="1h", maximum=1.0),),
          grafana_unit="percentunit", record="service_model:aivitals_context_recall:mean_rateWINDOW",
          windows=("1h", "1d")),
    Vital("hallucination_rate", 14, "Hallucination rate", Q,
          "Share of evaluated responses with an unsupported claim.",
          Unit.RATIO, ("aivitals_evaluations_total",), _verdict_share("hallucination", "fail"), D.QUALITY,
          thresholds=(Threshold(ABOVE, 0.02, 0.05, "Target under 2% of sampled responses.",
                                "hallucination_rate_max", for_="30m", maximum=1.0),),
          tile=Tile(3, "Hallucination rate", "How often is it wrong?"), grafana_unit="percentunit",
          record="service_model:aivitals_hallucination:ratio_rateWINDOW", windows=("1h", "1d")),
    Vital("refusal_rate", 15, "Refusal rate", Q,
          "Share of calls the model declined to answer: the refusal evaluator's share (provider signal or text) "
          "on evaluated calls where it runs, else the provider-signalled share of all calls.",
          Unit.RATIO, ("aivitals_evaluations_total", "aivitals_requests_total"),
          f"({_verdict_share('refusal', 'fail')}) or ("
          + _rate_ratio('aivitals_requests_total{SEL, outcome="refused"}', "aivitals_requests_total{SEL}", SM)
          + ")",
          D.QUALITY,
          thresholds=(Threshold(ABOVE, 0.15, 0.30, "Over 15% of users are turned away: the experience degrades.",
                                "refusal_rate_max", for_="30m", maximum=1.0),
                      Threshold(EQUAL, 0.0, None, "Exactly 0 with traffic: a model that never refuses is "
                                "bluffing. (With no traffic the ratio is 0/0, no value, and nothing fires.) Only "
                                "for models serving operations that can refuse (chat, completions, agents); an "
                                "embedding model or a classifier cannot.",
                                "refusal_rate_zero", for_="6h", maximum=1.0,
                                condition="service_model:aivitals_refusable_requests:rate1h > 0",
                                condition_on=("namespace", "service", "model"))),
          grafana_unit="percentunit", record="service_model:aivitals_refusal:ratio_rateWINDOW",
          windows=("1h", "5m")),
    Vital("jailbreak_resistance", 16, "Jailbreak resistance", Q,
          "Share of the versioned probe suite's attacks the model's current release resisted (aivitals probe "
          "--sidecar); one minus the attack success ratio.",
          Unit.RATIO, ("aivitals_probe_attempts", "aivitals_probe_successes"),
          f"1 - sum by ({PROBE}) (aivitals_probe_successes{{SEL, release=\"current\"}})"
          f" / sum by ({PROBE}) (aivitals_probe_attempts{{SEL, release=\"current\"}})", D.QUALITY,
          thresholds=(Threshold(BELOW, 0.95, 0.90, "A floor for the current release; a drop between releases "
                                "is the jailbreak regression alert's.", "jailbreak_resistance_min", for_="0m",
                                maximum=1.0),),
          grafana_unit="percentunit", record="suite_model:aivitals_jailbreak_resistance:ratio"),
    Vital("jailbreak_regression", None, "Jailbreak regression", Q,
          "How far the current release's attack success ratio lies above the previous release's, in standard "
          "errors of a one-sided two-proportion z-test (pooled), for the worst of the suite's categories and "
          "the suite as a whole. Results compare only within one suite version.",
          Unit.NONE, ("aivitals_probe_attempts", "aivitals_probe_successes"),
          f"max by ({PROBE}) (suite_model_category:aivitals_probe_attack_success:zscore{{SEL}}"
          f" or suite_model:aivitals_probe_attack_success:zscore{{SEL}})", D.QUALITY,
          thresholds=(Threshold(ABOVE, None, _z_bonferroni(), "Above the one-sided normal quantile at 5% "
                                "shared by five tests (Bonferroni: four categories and the whole suite), the "
                                "release resists worse than the one before beyond binomial noise, as aivitals "
                                "probe's exit code 1 says.", "jailbreak_regression_zscore_max", for_="0m",
                                minimum=None),),
          grafana_unit="none", record="suite_model:aivitals_jailbreak_regression:zscore"),
    Vital("pii_leakage", 17, "PII and secrets leakage", Q,
          "Responses in which personal data or a secret was detected, per second, by kind (aivitals' own "
          "detector on evaluated calls, or the app's record_pii).",
          Unit.NONE, ("aivitals_pii_detections_total",),
          f"sum by ({SM}, pii_kind) (rate(aivitals_pii_detections_total{{SEL}}[WINDOW]))", D.QUALITY,
          thresholds=(Threshold(ABOVE, None, 0.0, "Target zero: any leak pages.", "pii_leak_rate_max",
                                for_="0m"),),
          grafana_unit="short",
          record="service_model_pii_kind:aivitals_pii_detections:rateWINDOW", windows=("5m",)),
    Vital("toxicity_p99", 18, "Toxicity (p99)", Q, "99th percentile of the toxicity score; the tail matters.",
          Unit.RATIO, ("aivitals_quality_score",),
          f"histogram_quantile(0.99, sum by (le, {SMM}) "
          '(rate(aivitals_quality_score_bucket{SEL, evaluator="toxicity"}[WINDOW])))', D.QUALITY,
          thresholds=(Threshold(ABOVE, 0.5, 0.8, "The tail of harmful content is what users screenshot.",
                                "toxicity_p99_max", for_="1h", maximum=1.0),),
          grafana_unit="percentunit", record="service_model:aivitals_toxicity:p99_rateWINDOW", windows=("1h", "1d")),
    Vital("fairness_gap", 19, "Fairness gap", Q,
          "Largest minus smallest accuracy across the groups of a declared attribute.",
          Unit.RATIO, ("aivitals_group_predictions_total",),
          f"max by ({M}, attribute) (group:aivitals_group_accuracy:ratio{{SEL}})"
          f" - min by ({M}, attribute) (group:aivitals_group_accuracy:ratio{{SEL}})", D.QUALITY,
          thresholds=(Threshold(ABOVE, 0.05, 0.10, "A 5-point accuracy gap between groups is often worth more "
                                "than overall accuracy.", "fairness_gap_max", for_="6h", maximum=1.0),),
          grafana_unit="percentunit", record="model_attribute:aivitals_fairness_gap:ratio"),
    Vital("citation_rate", 20, "Citation rate", Q, "Share of responses citing at least one source.",
          Unit.RATIO, ("aivitals_evaluations_total",), _verdict_share("citation", "pass"), D.QUALITY,
          thresholds=(Threshold(BELOW, 0.95, 0.85, "Knowledge-grounded answers should cite: at least 95%.",
                                "citation_rate_min", for_="1h", maximum=1.0),),
          grafana_unit="percentunit", record="service_model:aivitals_citation:ratio_rateWINDOW",
          windows=("1h", "1d")),
    # --- Business -------------------------------------------------------------------------
    Vital("kpi_delta", 21, "Primary KPI delta vs control", B,
          "Treatment conversion rate minus control conversion rate, with a two-proportion z-score beside it.",
          Unit.RATIO, ("aivitals_kpi_exposures_total", "aivitals_kpi_conversions_total"),
          'sum by (namespace, kpi) (increase(aivitals_kpi_conversions_total{SEL, cohort="treatment"}[WINDOW]))'
          ' / sum by (namespace, kpi) (increase(aivitals_kpi_exposures_total{SEL, cohort="treatment"}[WINDOW]))'
          ' - sum by (namespace, kpi) (increase(aivitals_kpi_conversions_total{SEL, cohort="control"}[WINDOW]))'
          ' / sum by (namespace, kpi) (increase(aivitals_kpi_exposures_total{SEL, cohort="control"}[WINDOW]))',
          D.BUSINESS,
          thresholds=(Threshold(BELOW, 0.0, None, "Below zero with confidence (the two-proportion z-score under "
                                "the one-sided 95% quantile), the model is a successful demo, not a successful "
                                "model.", "kpi_delta_min", for_="1d", minimum=-1.0, maximum=1.0,
                                condition=f"kpi:aivitals_kpi_delta:zscore_increase7d < -{_z95()}"),),
          tile=Tile(1, "KPI delta vs control", "Is it doing what it was bought for?"), grafana_unit="percentunit",
          record="kpi:aivitals_kpi_delta:ratio_increaseWINDOW", windows=("7d", "1d")),
    Vital("cycle_time", 22, "Cycle time", B, "Median time per unit of work, by cohort.",
          Unit.SECONDS, ("aivitals_work_unit_duration_seconds",),
          "histogram_quantile(0.5, sum by (le, namespace, cohort) "
          "(rate(aivitals_work_unit_duration_seconds_bucket{SEL}[WINDOW])))",
          D.BUSINESS, grafana_unit="s", record="cohort:aivitals_work_unit_duration_seconds:p50_rateWINDOW",
          windows=("7d",)),
    Vital("cost_per_unit", 23, "Cost per unit of work", B,
          "Human cost per unit of work, by cohort (the AI's spend is on the cost-per-outcome tile).",
          Unit.USD, ("aivitals_human_cost_usd_total", "aivitals_work_unit_duration_seconds"),
          "sum by (namespace, cohort) (increase(aivitals_human_cost_usd_total{SEL}[WINDOW]))"
          " / sum by (namespace, cohort) (increase(aivitals_work_unit_duration_seconds_count{SEL}[WINDOW]))",
          D.BUSINESS, grafana_unit="currencyUSD", record="cohort:aivitals_cost_per_unit_usd:increaseWINDOW",
          windows=("7d",)),
    Vital("adoption_rate", 24, "Adoption rate", B, "Distinct weekly active users over eligible users.",
          Unit.RATIO, ("aivitals_active_users", "aivitals_eligible_users"),
          'max by (namespace) (aivitals_active_users{SEL, window="7d"})'
          " / max by (namespace) (aivitals_eligible_users{SEL})", D.BUSINESS,
          thresholds=(Threshold(BELOW, 0.40, 0.20, "Below 40% weekly adoption the model fails operationally "
                                "whatever its accuracy.", "adoption_rate_min", for_="1d", maximum=1.0),),
          tile=Tile(4, "Adoption rate", "Are users actually using it?"),
          computed_in_process="distinct users cannot be summed from counters; the sidecar counts them",
          grafana_unit="percentunit", record="namespace:aivitals_adoption:ratio"),
    Vital("override_rate", 25, "Override rate", B,
          "Share of suggestions a person overrode; reversals of overrides are shown beside it.",
          Unit.RATIO, ("aivitals_overrides_total",),
          _rate_ratio('aivitals_overrides_total{SEL, action="overridden"}',
                      'aivitals_overrides_total{SEL, action="suggested"}', SM),
          D.BUSINESS, grafana_unit="percentunit", record="service_model:aivitals_override:ratio_rateWINDOW",
          windows=("1d",)),
    Vital("time_to_value", 26, "Time to value", B, "Median time from a user's first use to first productive outcome.",
          Unit.SECONDS, ("aivitals_time_to_value_seconds",),
          "histogram_quantile(0.5, sum by (le, namespace) (rate(aivitals_time_to_value_seconds_bucket{SEL}[WINDOW])))",
          D.BUSINESS, grafana_unit="s", record="namespace:aivitals_time_to_value_seconds:p50_rateWINDOW",
          windows=("7d",)),
    Vital("nps", 27, "NPS of the AI feature", B, "Promoters minus detractors, as a share of answers (-1..1).",
          Unit.RATIO, ("aivitals_survey_responses_total",),
          '((sum by (namespace) (increase(aivitals_survey_responses_total{SEL, category="promoter"}[WINDOW]))'
          ' or 0 * sum by (namespace) (increase(aivitals_survey_responses_total{SEL}[WINDOW])))'
          ' - (sum by (namespace) (increase(aivitals_survey_responses_total{SEL, category="detractor"}[WINDOW]))'
          ' or 0 * sum by (namespace) (increase(aivitals_survey_responses_total{SEL}[WINDOW]))))'
          " / sum by (namespace) (increase(aivitals_survey_responses_total{SEL}[WINDOW]))",
          D.BUSINESS,
          thresholds=(Threshold(BELOW, 0.0, -0.3, "Great metrics with a falling NPS hide something the metrics miss.",
                                "nps_min", for_="1d", minimum=-1.0, maximum=1.0),),
          grafana_unit="percentunit", record="namespace:aivitals_nps:ratio_increaseWINDOW", windows=("7d", "30d")),
    Vital("roi", None, "ROI", B, "Business value over total cost (model spend plus fixed monthly costs).",
          Unit.NONE, ("aivitals_business_value_usd_total", "aivitals_cost_usd_total",
                       "aivitals_fixed_cost_usd_per_month"),
          "sum by (namespace) (increase(aivitals_business_value_usd_total{SEL}[WINDOW]))"
          " / (sum by (namespace) (increase(aivitals_cost_usd_total{SEL}[WINDOW]))"
          f" + sum by (namespace) (aivitals_fixed_cost_usd_per_month{{SEL}}) * WINDOW_SECONDS / {MONTH_SECONDS})",
          D.BUSINESS,
          thresholds=(Threshold(BELOW, 1.0, 0.5, "Under 1 the AI costs more than the value it brings.", "roi_min",
                                for_="1d"),),
          grafana_unit="none", record="namespace:aivitals_roi:ratio_increaseWINDOW", windows=("30d", "7d")),
    Vital("fixed_costs", None, "Fixed monthly costs", B, "Compute, storage and maintenance costs from config.",
          Unit.USD, ("aivitals_fixed_cost_usd_per_month",),
          "sum by (namespace, bucket) (aivitals_fixed_cost_usd_per_month{SEL})",
          D.BUSINESS, grafana_unit="currencyUSD", record="bucket:aivitals_fixed_cost_usd:per_month"),
    # --- Human and process ----------------------------------------------------------------
    Vital("time_to_detect", 28, "Time to detect", HU, "Mean time from an incident occurring to its detection.",
          Unit.SECONDS, ("aivitals_incident_time_to_detect_seconds",),
          _mean("aivitals_incident_time_to_detect_seconds", "namespace, severity"),
          D.OPERATIONS,
          thresholds=(Threshold(ABOVE, 3600.0, 14400.0, "Below 1 hour for high-severity incidents is the bar.",
                                "time_to_detect_seconds", for_="0m"),),
          tile=Tile(6, "Time to detect", "When it breaks, how fast do we know?"), grafana_unit="s",
          record="severity:aivitals_incident_time_to_detect_seconds:mean_increaseWINDOW", windows=("7d", "30d")),
    Vital("time_to_resolve", 29, "Time to resolve", HU, "Mean time from detection to resolution.",
          Unit.SECONDS, ("aivitals_incident_time_to_resolve_seconds",),
          _mean("aivitals_incident_time_to_resolve_seconds", "namespace, severity"),
          D.OPERATIONS,
          thresholds=(Threshold(ABOVE, 14400.0, 86400.0, "Roll back first, debug after: most failures should "
                                "resolve within hours.", "time_to_resolve_seconds", for_="0m"),),
          grafana_unit="s", record="severity:aivitals_incident_time_to_resolve_seconds:mean_increaseWINDOW",
          windows=("7d", "30d")),
    Vital("retraining_gap", 30, "Retraining freshness gap", HU,
          "How much newer the newest ground truth is than the last training run.",
          Unit.SECONDS,
          ("aivitals_model_last_trained_timestamp_seconds", "aivitals_ground_truth_last_timestamp_seconds"),
          f"max by ({M}) (aivitals_ground_truth_last_timestamp_seconds{{SEL}})"
          f" - max by ({M}) (aivitals_model_last_trained_timestamp_seconds{{SEL}})",
          D.OPERATIONS,
          thresholds=(Threshold(ABOVE, 2592000.0, 7776000.0, "Unused ground truth older than a month is a drift "
                                "incident waiting to happen.", "retraining_gap_seconds", for_="1h"),),
          grafana_unit="s", record="model:aivitals_retraining_gap_seconds:max"),
    # --- GPU and host ------------------------------------------------------------------------
    Vital("gpu_utilization", None, "GPU utilization", IN, "Share of time a kernel ran, per GPU.",
          Unit.RATIO, ("aivitals_gpu_utilization_ratio",),
          "avg by (namespace, instance, gpu) (aivitals_gpu_utilization_ratio{SEL})",
          D.GPU_HOST,
          thresholds=(Threshold(ABOVE, 0.90, 0.98, "Saturated GPUs queue requests: add capacity before p95 moves.",
                                "gpu_utilization_max", for_="30m", maximum=1.0),),
          grafana_unit="percentunit", record="instance_gpu:aivitals_gpu_utilization:avg"),
    Vital("gpu_memory_utilization", None, "GPU memory in use", IN, "Device memory used over installed.",
          Unit.RATIO, ("aivitals_gpu_memory_used_bytes", "aivitals_gpu_memory_total_bytes"),
          "sum by (namespace, instance, gpu) (aivitals_gpu_memory_used_bytes{SEL})"
          " / sum by (namespace, instance, gpu) (aivitals_gpu_memory_total_bytes{SEL})",
          D.GPU_HOST,
          thresholds=(Threshold(ABOVE, 0.90, 0.97, "Near-full device memory ends in out-of-memory errors and "
                                "evicted KV caches.", "gpu_memory_utilization_max", for_="15m", maximum=1.0),),
          grafana_unit="percentunit", record="instance_gpu:aivitals_gpu_memory_utilization:ratio"),
    Vital("gpu_power", None, "GPU power", IN, "Power draw per GPU.", Unit.WATTS, ("aivitals_gpu_power_watts",),
          "sum by (namespace, instance, gpu) (aivitals_gpu_power_watts{SEL})", D.GPU_HOST, grafana_unit="watt",
          record="instance_gpu:aivitals_gpu_power_watts:sum"),
    Vital("host_cpu_utilization", None, "Host CPU", IN, "Host CPU busy share.", Unit.RATIO,
          ("aivitals_host_cpu_utilization_ratio",),
          "max by (namespace, instance) (aivitals_host_cpu_utilization_ratio{SEL})",
          D.GPU_HOST, grafana_unit="percentunit", record="instance:aivitals_host_cpu_utilization:max"),
    Vital("host_memory_utilization", None, "Host memory", IN, "Host memory in use.", Unit.RATIO,
          ("aivitals_host_memory_utilization_ratio",),
          "max by (namespace, instance) (aivitals_host_memory_utilization_ratio{SEL})", D.GPU_HOST,
          grafana_unit="percentunit", record="instance:aivitals_host_memory_utilization:max"),
    # --- the SDK's own health -------------------------------------------------------------------
    Vital("sdk_errors", None, "SDK internal errors", Area.SDK,
          "Failures inside aivitals itself, per second. User calls are unaffected, but vitals may be missing.",
          Unit.NONE, ("aivitals_sdk_errors_total",),
          "sum by (namespace, stage) (rate(aivitals_sdk_errors_total{SEL}[WINDOW]))",
          D.OPERATIONS,
          thresholds=(Threshold(ABOVE, 0.0, None, "Any internal error means some vitals are missing.",
                                "sdk_error_rate_max", for_="15m"),),
          grafana_unit="short", record="stage:aivitals_sdk_errors:rateWINDOW", windows=("5m",)),
    Vital("collector_errors", None, "GPU and host reads failing", Area.SDK,
          "NVML and psutil reads that failed, per second, by field. A count that stops growing after start-up is "
          "fields a device does not support; one that keeps growing is reads failing now (a lost GPU, a driver "
          "gone or hung: field gpu_nvml or gpu_busy).",
          Unit.NONE, ("aivitals_collector_errors_total",),
          "sum by (namespace, instance, field) (rate(aivitals_collector_errors_total{SEL}[WINDOW]))",
          D.OPERATIONS,
          thresholds=(Threshold(ABOVE, 0.0, None, "Reads failing for 15 minutes leave GPU and host panels blank "
                                "or stale; a count at start-up alone does not last that long.",
                                "collector_error_rate_max", for_="15m"),),
          grafana_unit="short", record="instance_field:aivitals_collector_errors:rateWINDOW", windows=("5m",)),
)

#: Each vital carries the questions a manager should ask when it moved (``questions.py``).
VITALS = tuple(replace(v, questions=QUESTIONS.get(v.id, v.questions)) for v in VITALS)

VITALS_BY_ID: dict[str, Vital] = {v.id: v for v in VITALS}
