"""Business: what changed in the world, and what it cost."""

from __future__ import annotations

from ..schema import Area, Comparison, Dashboard, Threshold, Tile, Unit, Vital
from .queries import MONTH_SECONDS, SM, rate_ratio, z95

BUSINESS: tuple[Vital, ...] = (
    Vital(
        id="kpi_delta", number=21, title="Primary KPI delta vs control", area=Area.BUSINESS,
        description="Treatment conversion rate minus control conversion rate, with a two-proportion z-score beside "
                    "it.",
        unit=Unit.RATIO, metrics=("aivitals_kpi_exposures_total", "aivitals_kpi_conversions_total"),
        query='sum by (namespace, kpi) (increase(aivitals_kpi_conversions_total{SEL, cohort="treatment"}[WINDOW])) '
              '/ sum by (namespace, kpi) (increase(aivitals_kpi_exposures_total{SEL, cohort="treatment"}[WINDOW])) '
              '- sum by (namespace, kpi) (increase(aivitals_kpi_conversions_total{SEL, cohort="control"}[WINDOW])) '
              '/ sum by (namespace, kpi) (increase(aivitals_kpi_exposures_total{SEL, cohort="control"}[WINDOW]))',
        record="kpi:aivitals_kpi_delta:ratio_increaseWINDOW", windows=("7d", "1d"),
        dashboard=Dashboard.BUSINESS, row="Outcomes", order=1, grafana_unit="percentunit",
        tile=Tile(position=1, title="KPI delta vs control", question="Is it doing what it was bought for?"),
        thresholds=(
            Threshold(comparison=Comparison.BELOW, warning=0.0, critical=None, config_key="kpi_delta_min", for_="1d",
                      minimum=-1.0, maximum=1.0, condition=f"kpi:aivitals_kpi_delta:zscore_increase7d < -{z95()}",
                      reason="Below zero with confidence (the two-proportion z-score under the one-sided 95% "
                             "quantile), the model is a successful demo, not a successful model."),
        ),
        first_step="Confirm the experiment's assignment is still random and both cohorts are counted; then review "
                   "whether the model should stay on for the treatment cohort.",
    ),
    Vital(
        id="cycle_time", number=22, title="Cycle time", area=Area.BUSINESS,
        description="Median time per unit of work, by cohort.",
        unit=Unit.SECONDS, metrics=("aivitals_work_unit_duration_seconds",),
        query="histogram_quantile(0.5, sum by (le, namespace, cohort) "
              "(rate(aivitals_work_unit_duration_seconds_bucket{SEL}[WINDOW])))",
        record="cohort:aivitals_work_unit_duration_seconds:p50_rateWINDOW", windows=("7d",),
        dashboard=Dashboard.BUSINESS, row="Units of work", order=1, grafana_unit="s",
    ),
    Vital(
        id="cost_per_unit", number=23, title="Cost per unit of work", area=Area.BUSINESS,
        description="Human cost per unit of work, by cohort (the AI's spend is on the cost-per-outcome tile).",
        unit=Unit.USD, metrics=("aivitals_human_cost_usd_total", "aivitals_work_unit_duration_seconds"),
        query="sum by (namespace, cohort) (increase(aivitals_human_cost_usd_total{SEL}[WINDOW])) / sum by "
              "(namespace, cohort) (increase(aivitals_work_unit_duration_seconds_count{SEL}[WINDOW]))",
        record="cohort:aivitals_cost_per_unit_usd:increaseWINDOW", windows=("7d",),
        dashboard=Dashboard.BUSINESS, row="Units of work", order=2, grafana_unit="currencyUSD",
    ),
    Vital(
        id="adoption_rate", number=24, title="Adoption rate", area=Area.BUSINESS,
        description="Distinct weekly active users over eligible users.",
        unit=Unit.RATIO, metrics=("aivitals_active_users", "aivitals_eligible_users"),
        query='max by (namespace) (aivitals_active_users{SEL, window="7d"}) / max by (namespace) '
              "(aivitals_eligible_users{SEL})",
        record="namespace:aivitals_adoption:ratio",
        computed_in_process="distinct users cannot be summed from counters; the sidecar counts them",
        dashboard=Dashboard.BUSINESS, row="Adoption", order=1, grafana_unit="percentunit",
        tile=Tile(position=4, title="Adoption rate", question="Are users actually using it?"),
        thresholds=(
            Threshold(comparison=Comparison.BELOW, warning=0.40, critical=0.20, config_key="adoption_rate_min",
                      for_="1d", maximum=1.0,
                      reason="Below 40% weekly adoption the model fails operationally whatever its accuracy."),
        ),
        first_step="Ask why users are not using it: check the override rate and NPS, and the eligible-users figure "
                   "in config.",
    ),
    Vital(
        id="override_rate", number=25, title="Override rate", area=Area.BUSINESS,
        description="Share of suggestions a person overrode; reversals of overrides are shown beside it.",
        unit=Unit.RATIO, metrics=("aivitals_overrides_total",),
        query=rate_ratio('aivitals_overrides_total{SEL, action="overridden"}',
                          'aivitals_overrides_total{SEL, action="suggested"}', SM),
        record="service_model:aivitals_override:ratio_rateWINDOW", windows=("1d",),
        dashboard=Dashboard.BUSINESS, row="Adoption", order=3, grafana_unit="percentunit",
    ),
    Vital(
        id="time_to_value", number=26, title="Time to value", area=Area.BUSINESS,
        description="Median time from a user's first use to first productive outcome.",
        unit=Unit.SECONDS, metrics=("aivitals_time_to_value_seconds",),
        query="histogram_quantile(0.5, sum by (le, namespace) "
              "(rate(aivitals_time_to_value_seconds_bucket{SEL}[WINDOW])))",
        record="namespace:aivitals_time_to_value_seconds:p50_rateWINDOW", windows=("7d",),
        dashboard=Dashboard.BUSINESS, row="Adoption", order=5, grafana_unit="s",
    ),
    Vital(
        id="nps", number=27, title="NPS of the AI feature", area=Area.BUSINESS,
        description="Promoters minus detractors, as a share of answers (-1..1).",
        unit=Unit.RATIO, metrics=("aivitals_survey_responses_total",),
        query='((sum by (namespace) (increase(aivitals_survey_responses_total{SEL, category="promoter"}[WINDOW])) '
              "or 0 * sum by (namespace) (increase(aivitals_survey_responses_total{SEL}[WINDOW]))) - (sum by "
              '(namespace) (increase(aivitals_survey_responses_total{SEL, category="detractor"}[WINDOW])) or 0 * '
              "sum by (namespace) (increase(aivitals_survey_responses_total{SEL}[WINDOW])))) / sum by (namespace) "
              "(increase(aivitals_survey_responses_total{SEL}[WINDOW]))",
        record="namespace:aivitals_nps:ratio_increaseWINDOW", windows=("7d", "30d"),
        dashboard=Dashboard.BUSINESS, row="Adoption", order=2, grafana_unit="percentunit",
        thresholds=(
            Threshold(comparison=Comparison.BELOW, warning=0.0, critical=-0.3, config_key="nps_min", for_="1d",
                      minimum=-1.0, maximum=1.0,
                      reason="Great metrics with a falling NPS hide something the metrics miss."),
        ),
        first_step="Read the latest survey comments; compare with override and refusal rates.",
    ),
    Vital(
        id="roi", number=None, title="ROI", area=Area.BUSINESS,
        description="Business value over total cost (model spend plus fixed monthly costs).",
        unit=Unit.NONE,
        metrics=("aivitals_business_value_usd_total", "aivitals_cost_usd_total",
                  "aivitals_fixed_cost_usd_per_month"),
        query="sum by (namespace) (increase(aivitals_business_value_usd_total{SEL}[WINDOW]))"
              " / (sum by (namespace) (increase(aivitals_cost_usd_total{SEL}[WINDOW]))"
              f" + sum by (namespace) (aivitals_fixed_cost_usd_per_month{{SEL}}) * WINDOW_SECONDS / {MONTH_SECONDS})",
        record="namespace:aivitals_roi:ratio_increaseWINDOW", windows=("30d", "7d"),
        dashboard=Dashboard.BUSINESS, row="Outcomes", order=4, grafana_unit="none",
        thresholds=(
            Threshold(comparison=Comparison.BELOW, warning=1.0, critical=0.5, config_key="roi_min", for_="1d",
                      reason="Under 1 the AI costs more than the value it brings."),
        ),
        first_step="Split into value and cost on the Business dashboard; check the fixed costs in config are "
                   "current.",
    ),
    Vital(
        id="fixed_costs", number=None, title="Fixed monthly costs", area=Area.BUSINESS,
        description="Compute, storage and maintenance costs from config.",
        unit=Unit.USD, metrics=("aivitals_fixed_cost_usd_per_month",),
        query="sum by (namespace, bucket) (aivitals_fixed_cost_usd_per_month{SEL})",
        record="bucket:aivitals_fixed_cost_usd:per_month",
        dashboard=Dashboard.BUSINESS, row="Outcomes", order=5, grafana_unit="currencyUSD",
    ),
)
