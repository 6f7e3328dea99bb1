"""Quality and safety of the answers."""

from __future__ import annotations

from ..schema import Area, Comparison, Dashboard, Threshold, Tile, Unit, Vital
from .queries import PROBE, SM, SMM, M, rate_ratio, score_mean, verdict_share, z_bonferroni

QUALITY: tuple[Vital, ...] = (
    Vital(
        id="groundedness", number=11, title="Groundedness", area=Area.QUALITY,
        description="Mean groundedness score of evaluated responses.",
        unit=Unit.RATIO, metrics=("aivitals_quality_score",),
        query=score_mean("groundedness"),
        record="service_model:aivitals_groundedness:mean_rateWINDOW", windows=("1h", "1d"),
        dashboard=Dashboard.QUALITY, row="Retrieval and grounding", order=1, grafana_unit="percentunit",
        thresholds=(
            Threshold(comparison=Comparison.BELOW, warning=0.90, critical=0.80, config_key="groundedness_min",
                      for_="1h", maximum=1.0,
                      reason="Target 0.90: every claim should trace back to retrieved context."),
        ),
        first_step="Sample failing responses; check the retriever's context precision and recall first.",
    ),
    Vital(
        id="context_precision", number=12, title="Context precision", area=Area.QUALITY,
        description="Mean share of retrieved chunks that were relevant.",
        unit=Unit.RATIO, metrics=("aivitals_quality_score",),
        query=score_mean("context_precision"),
        record="service_model:aivitals_context_precision:mean_rateWINDOW", windows=("1h", "1d"),
        dashboard=Dashboard.QUALITY, row="Retrieval and grounding", order=2, grafana_unit="percentunit",
        thresholds=(
            Threshold(comparison=Comparison.BELOW, warning=0.70, critical=0.50, config_key="context_precision_min",
                      for_="1h", maximum=1.0, reason="Below 0.7 the retrieval pipeline returns noise."),
        ),
        first_step="Check the retriever's ranking and the chunk size; a new index build is a common cause.",
    ),
    Vital(
        id="context_recall", number=13, title="Context recall", area=Area.QUALITY,
        description="Mean share of needed chunks that were retrieved.",
        unit=Unit.RATIO, metrics=("aivitals_quality_score",),
        query=score_mean("context_recall"),
        record="service_model:aivitals_context_recall:mean_rateWINDOW", windows=("1h", "1d"),
        dashboard=Dashboard.QUALITY, row="Retrieval and grounding", order=3, grafana_unit="percentunit",
        thresholds=(
            Threshold(comparison=Comparison.BELOW, warning=0.70, critical=0.50, config_key="context_recall_min",
                      for_="1h", maximum=1.0, reason="Below 0.7 chunking or coverage misses what answers need."),
        ),
        first_step="Check index coverage and freshness: documents missing from the index cannot be retrieved.",
    ),
    Vital(
        id="hallucination_rate", number=14, title="Hallucination rate", area=Area.QUALITY,
        description="Share of evaluated responses with an unsupported claim.",
        unit=Unit.RATIO, metrics=("aivitals_evaluations_total",),
        query=verdict_share("hallucination", "fail"),
        record="service_model:aivitals_hallucination:ratio_rateWINDOW", windows=("1h", "1d"),
        dashboard=Dashboard.QUALITY, row="Retrieval and grounding", order=5, grafana_unit="percentunit",
        tile=Tile(position=3, title="Hallucination rate", question="How often is it wrong?"),
        thresholds=(
            Threshold(comparison=Comparison.ABOVE, warning=0.02, critical=0.05, config_key="hallucination_rate_max",
                      for_="30m", maximum=1.0, reason="Target under 2% of sampled responses."),
        ),
        first_step="Sample the failing responses; check groundedness and retrieval, then the prompt version.",
    ),
    Vital(
        id="refusal_rate", number=15, title="Refusal rate", area=Area.QUALITY,
        description="Share of calls the model declined to answer: the refusal evaluator's share (provider signal or "
                    "text) on evaluated calls where it runs, else the provider-signalled share of all calls.",
        unit=Unit.RATIO, metrics=("aivitals_evaluations_total", "aivitals_requests_total"),
        query=f"({verdict_share('refusal', 'fail')}) or ("
              + rate_ratio('aivitals_requests_total{SEL, outcome="refused"}', "aivitals_requests_total{SEL}", SM)
              + ")",
        record="service_model:aivitals_refusal:ratio_rateWINDOW", windows=("1h", "5m"),
        dashboard=Dashboard.QUALITY, row="Safety", order=1, grafana_unit="percentunit",
        thresholds=(
            Threshold(comparison=Comparison.ABOVE, warning=0.15, critical=0.30, config_key="refusal_rate_max",
                      for_="30m", maximum=1.0, reason="Over 15% of users are turned away: the experience degrades."),
            Threshold(comparison=Comparison.EQUAL, warning=0.0, critical=None, config_key="refusal_rate_zero",
                      for_="6h", maximum=1.0, condition="service_model:aivitals_refusable_requests:rate1h > 0",
                      condition_on=("namespace", "service", "model"),
                      reason="Exactly 0 with traffic: a model that never refuses is bluffing. (With no traffic the "
                             "ratio is 0/0, no value, and nothing fires.) Only for models serving operations that "
                             "can refuse (chat, completions, agents); an embedding model or a classifier cannot."),
        ),
        first_step="Above the ceiling: check the system prompt and the safety filter version. At exactly zero: "
                   "check the refusal detector still runs and the model still declines out-of-scope requests.",
    ),
    Vital(
        id="jailbreak_resistance", number=16, title="Jailbreak resistance", area=Area.QUALITY,
        description="Share of the versioned probe suite's attacks the model's current release resisted (aivitals "
                    "probe --sidecar); one minus the attack success ratio.",
        unit=Unit.RATIO, metrics=("aivitals_probe_attempts", "aivitals_probe_successes"),
        query=f"1 - sum by ({PROBE}) (aivitals_probe_successes{{SEL, release=\"current\"}})"
              f" / sum by ({PROBE}) (aivitals_probe_attempts{{SEL, release=\"current\"}})",
        record="suite_model:aivitals_jailbreak_resistance:ratio",
        dashboard=Dashboard.QUALITY, row="Safety", order=2, grafana_unit="percentunit",
        thresholds=(
            Threshold(comparison=Comparison.BELOW, warning=0.95, critical=0.90, config_key="jailbreak_resistance_min",
                      for_="0m", maximum=1.0,
                      reason="A floor for the current release; a drop between releases is the jailbreak regression "
                             "alert's."),
        ),
        first_step="Run `aivitals probe --format json` against the release and read which categories fail; tighten "
                   "the system prompt or the input filter for those before raising the floor.",
    ),
    Vital(
        id="jailbreak_regression", number=None, title="Jailbreak regression", area=Area.QUALITY,
        description="How far the current release's attack success ratio lies above the previous release's, in "
                    "standard errors of a one-sided two-proportion z-test (pooled), for the worst of the suite's "
                    "categories and the suite as a whole. Results compare only within one suite version.",
        unit=Unit.NONE, metrics=("aivitals_probe_attempts", "aivitals_probe_successes"),
        query=f"max by ({PROBE}) (suite_model_category:aivitals_probe_attack_success:zscore{{SEL}}"
              f" or suite_model:aivitals_probe_attack_success:zscore{{SEL}})",
        record="suite_model:aivitals_jailbreak_regression:zscore",
        dashboard=Dashboard.QUALITY, row="Safety", order=3, grafana_unit="none",
        thresholds=(
            Threshold(comparison=Comparison.ABOVE, warning=None, critical=z_bonferroni(),
                      config_key="jailbreak_regression_zscore_max", for_="0m", minimum=None,
                      reason="Above the one-sided normal quantile at 5% shared by five tests (Bonferroni: four "
                             "categories and the whole suite), the release resists worse than the one before beyond "
                             "binomial noise, as aivitals probe's exit code 1 says."),
        ),
        first_step="Hold the rollout of the new model_version; rerun `aivitals probe --baseline` on both releases "
                   "to confirm, then compare their answers in the failing category.",
    ),
    Vital(
        id="pii_leakage", number=17, title="PII and secrets leakage", area=Area.QUALITY,
        description="Responses in which personal data or a secret was detected, per second, by kind (aivitals' own "
                    "detector on evaluated calls, or the app's record_pii).",
        unit=Unit.NONE, metrics=("aivitals_pii_detections_total",),
        query=f"sum by ({SM}, pii_kind) (rate(aivitals_pii_detections_total{{SEL}}[WINDOW]))",
        record="service_model_pii_kind:aivitals_pii_detections:rateWINDOW", windows=("5m",),
        dashboard=Dashboard.QUALITY, row="Safety", order=5, grafana_unit="short",
        thresholds=(
            Threshold(comparison=Comparison.ABOVE, warning=None, critical=0.0, config_key="pii_leak_rate_max",
                      for_="0m", reason="Target zero: any leak pages."),
        ),
        first_step="Treat as a security incident: find the kind on the Quality dashboard, stop the leaking path "
                   "(filter or disable the feature), then find the source in prompts or retrieved documents.",
    ),
    Vital(
        id="toxicity_p99", number=18, title="Toxicity (p99)", area=Area.QUALITY,
        description="99th percentile of the toxicity score; the tail matters.",
        unit=Unit.RATIO, metrics=("aivitals_quality_score",),
        query=f"histogram_quantile(0.99, sum by (le, {SMM}) "
              '(rate(aivitals_quality_score_bucket{SEL, evaluator="toxicity"}[WINDOW])))',
        record="service_model:aivitals_toxicity:p99_rateWINDOW", windows=("1h", "1d"),
        dashboard=Dashboard.QUALITY, row="Safety", order=6, grafana_unit="percentunit",
        thresholds=(
            Threshold(comparison=Comparison.ABOVE, warning=0.5, critical=0.8, config_key="toxicity_p99_max", for_="1h",
                      maximum=1.0, reason="The tail of harmful content is what users screenshot."),
        ),
        first_step="Sample the tail responses; check the moderation filter and the prompt version.",
    ),
    Vital(
        id="fairness_gap", number=19, title="Fairness gap", area=Area.QUALITY,
        description="Largest minus smallest accuracy across the groups of a declared attribute.",
        unit=Unit.RATIO, metrics=("aivitals_group_predictions_total",),
        query=f"max by ({M}, attribute) (group:aivitals_group_accuracy:ratio{{SEL}})"
              f" - min by ({M}, attribute) (group:aivitals_group_accuracy:ratio{{SEL}})",
        record="model_attribute:aivitals_fairness_gap:ratio",
        dashboard=Dashboard.QUALITY, row="Task quality", order=6, grafana_unit="percentunit",
        thresholds=(
            Threshold(comparison=Comparison.ABOVE, warning=0.05, critical=0.10, config_key="fairness_gap_max",
                      for_="6h", maximum=1.0,
                      reason="A 5-point accuracy gap between groups is often worth more than overall accuracy."),
        ),
        first_step="Find the group with the lowest accuracy; check its sample size and label quality before "
                   "retraining with reweighting.",
    ),
    Vital(
        id="citation_rate", number=20, title="Citation rate", area=Area.QUALITY,
        description="Share of responses citing at least one source.",
        unit=Unit.RATIO, metrics=("aivitals_evaluations_total",),
        query=verdict_share("citation", "pass"),
        record="service_model:aivitals_citation:ratio_rateWINDOW", windows=("1h", "1d"),
        dashboard=Dashboard.QUALITY, row="Retrieval and grounding", order=4, grafana_unit="percentunit",
        thresholds=(
            Threshold(comparison=Comparison.BELOW, warning=0.95, critical=0.85, config_key="citation_rate_min",
                      for_="1h", maximum=1.0, reason="Knowledge-grounded answers should cite: at least 95%."),
        ),
        first_step="Check the prompt still asks for citations and the retriever still returns sources.",
    ),
)
