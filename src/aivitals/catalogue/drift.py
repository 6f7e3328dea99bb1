"""PromQL for per-feature drift over a window, and the distribution shift score built on it.

Why two pairs of series. KS needs cumulative shares, so it reads the
histogram ``aivitals_feature_values_bucket`` against the cumulative
``aivitals_feature_reference_ratio``, matched on ``le`` (its ``bound`` label, relabelled). PSI and JS need the
share of each *bin*, and PromQL cannot subtract a bucket from its neighbour
(adjacent ``le`` values never match). So the recorder also exports each bin
as its own counter, ``aivitals_feature_bin_observations_total``, and the
reference's per-bin share, ``aivitals_feature_reference_bin_ratio``, both
labelled with the bin's index ``feature_bin`` (an index, not an edge or a
category: no data values in labels, and categorical features fit the same
rule). Counters aggregate correctly: ``sum by (namespace, model, feature, feature_bin)
(increase(...[w]))`` is exact across replicas, restarts and any window. The
reference is identical on every replica, so ``max by`` de-duplicates it
(replicas running *different* profiles for one model cannot be compared;
roll profiles out with the model).

Every function returns a complete expression; :func:`recording_rules` gives
the same math as a chain of rules named ``level:metric:window``, e.g.
``model_feature:aivitals_feature_psi:1d``. ``aivitals.stats.histogram`` holds
the numpy oracle each expression is tested against (``tests/test_drift_promql.py``).
A feature with no observation in the window yields no sample (never a 0).

``DRIFT`` is the chain recorded at one day: catalogue data like every other
record, put in its own rule group by ``aivitals build``.
"""

from __future__ import annotations

import math
import re

from .metrics import METRICS_BY_NAME
from .schema import Record
from .values import PREDICTION, PSI_EPSILON

_VALUES = METRICS_BY_NAME["aivitals_feature_values"].name + "_bucket"
_REFERENCE = METRICS_BY_NAME["aivitals_feature_reference_ratio"].name
_BINS = METRICS_BY_NAME["aivitals_feature_bin_observations_total"].name
_BIN_REFERENCE = METRICS_BY_NAME["aivitals_feature_reference_bin_ratio"].name

#: The "drifting" bar: the conventional "significant shift" PSI, the per-feature drift vital's warning level
#: and the bar of the distribution shift share.
DEFAULT_THRESHOLD = 0.15
STATS = ("psi", "ks", "js")
_INF = 'le="+Inf"'
_DURATION = re.compile(r"^(\d+(ms|[smhdwy]))+$")


def _check_window(window: str) -> str:
    if not _DURATION.match(window):
        raise ValueError(f"window must be a Prometheus duration such as 5m, 1h or 1d, got {window!r}")
    return window


def _selector(selector: str, *extra: str) -> str:
    matchers = [m for m in (selector.strip(), *extra) if m]
    return "{" + ", ".join(matchers) + "}" if matchers else ""


def record_name(stat: str, window: str = "1d") -> str:
    """The recording rule name for a per-feature statistic, e.g. ``model_feature:aivitals_feature_psi:1d``."""
    if stat not in STATS:
        raise ValueError(f"stat must be one of {STATS}, got {stat!r}")
    return f"model_feature:aivitals_feature_{stat}:{_check_window(window)}"


def current_shares(window: str = "1d", selector: str = "") -> str:
    """Each bin's share of the window's observations, per model and feature (absent when there were none)."""
    w = _check_window(window)
    rate = f"increase({_BINS}{_selector(selector)}[{w}])"
    return (f"(sum by (namespace, model, feature, feature_bin) ({rate})"
            f" / on (namespace, model, feature) group_left () (sum by (namespace, model, feature) ({rate}) > 0))")


def reference_shares(selector: str = "") -> str:
    """Each bin's share of the reference (the same on every replica, hence ``max``)."""
    return f"max by (namespace, model, feature, feature_bin) ({_BIN_REFERENCE}{_selector(selector)})"


def _psi(current: str, reference: str, eps: float) -> str:
    c = f"clamp_min({current}, {eps!r})"
    r = f"clamp_min({reference}, {eps!r})"
    return f"sum by (namespace, model, feature) (({c} - {r}) * ln({c} / {r}))"


def psi(window: str = "1d", selector: str = "", eps: float = PSI_EPSILON) -> str:
    """Population stability index per feature: ``sum_bins (c - r) ln(c / r)``, shares floored at ``eps``.

    ``eps`` is :data:`aivitals.stats.PSI_EPSILON`, the floor the numpy version
    uses, so an empty bin costs the same here and there.
    """
    return _psi(current_shares(window, selector), reference_shares(selector), eps)


def _js(current: str, reference: str) -> str:
    mean = f"(({current} + {reference}) / 2)"
    left = f"sum by (namespace, model, feature) (({current} > 0) * ln({current} / {mean}))"
    right = f"sum by (namespace, model, feature) (({reference} > 0) * ln({reference} / {mean}))"
    # Terms with a zero share are dropped by the filter (0 ln 0 = 0); rounding below 0 is clamped before sqrt.
    return f"sqrt(clamp_min(({left} + {right}) / {2 * math.log(2)!r}, 0))"


def js(window: str = "1d", selector: str = "") -> str:
    """Jensen-Shannon distance per feature, base 2 (so in [0, 1]), as ``scipy.spatial.distance.jensenshannon``."""
    return _js(current_shares(window, selector), reference_shares(selector))


def current_cdf(window: str = "1d", selector: str = "") -> str:
    """The window's cumulative share at each ``le`` of the histogram, per model and feature."""
    w = _check_window(window)
    buckets = f"sum by (namespace, model, feature, le) (increase({_VALUES}{_selector(selector)}[{w}]))"
    total = f"sum by (namespace, model, feature) (increase({_VALUES}{_selector(selector, _INF)}[{w}]))"
    return f"({buckets} / on (namespace, model, feature) group_left () ({total} > 0))"


def reference_cdf(selector: str = "") -> str:
    """The reference's cumulative share at each edge, relabelled from ``bound`` to ``le`` to match the buckets.

    The series carries the edge as ``bound``: a non-histogram series with an
    ``le`` label is one ``promtool check metrics`` rejects.
    """
    relabelled = f'label_replace({_REFERENCE}{_selector(selector)}, "le", "$1", "bound", "(.*)")'
    return f"max by (namespace, model, feature, le) ({relabelled})"


def _ks(current: str, reference: str) -> str:
    return f"max by (namespace, model, feature) (abs({current} - {reference}))"


def ks(window: str = "1d", selector: str = "") -> str:
    """KS statistic per numeric feature, at the bucket edges: ``max_le |F_cur(le) - F_ref(le)|``.

    Evaluated only at the edges, it is a lower bound of the KS statistic of
    the raw values; categorical features have no ``le`` and no KS.
    """
    return _ks(current_cdf(window, selector), reference_cdf(selector))


def _inputs(source: str) -> str:
    """Restrict a per-feature expression to input features (the prediction has its own vital)."""
    return f'(({source}) unless on (feature) label_replace(vector(0), "feature", "{PREDICTION}", "", ""))'


def shift_share(source: str, threshold: float = DEFAULT_THRESHOLD) -> str:
    """Share of a model's input features whose statistic in ``source`` is over ``threshold`` (0..1)."""
    return f"avg by (namespace, model) ({_inputs(source)} > bool {threshold!r})"


def shift_max(source: str) -> str:
    """The largest per-feature statistic in ``source`` per model, over input features."""
    return f"max by (namespace, model) ({_inputs(source)})"


def recording_rules(window: str = "1d", threshold: float = DEFAULT_THRESHOLD) -> list[dict[str, str]]:
    """The drift rules in evaluation order, each ``{"record": ..., "expr": ...}``.

    Shares are recorded once per window and read by the PSI and JS rules; the
    distribution shift score (share of input features with PSI over the
    threshold, and the largest PSI) reads the PSI rule.
    """
    w = _check_window(window)
    share = f"model_feature_feature_bin:aivitals_feature_share:{w}"
    reference = "model_feature_feature_bin:aivitals_feature_reference_share:max"
    cdf = f"model_feature_le:aivitals_feature_cdf:{w}"
    reference_cdf_name = "model_feature_le:aivitals_feature_reference_cdf:max"
    psi_name = record_name("psi", w)
    return [
        {"record": share, "expr": current_shares(w)},
        {"record": reference, "expr": reference_shares()},
        {"record": cdf, "expr": current_cdf(w)},
        {"record": reference_cdf_name, "expr": reference_cdf()},
        {"record": psi_name, "expr": _psi(share, reference, PSI_EPSILON)},
        {"record": record_name("js", w), "expr": _js(share, reference)},
        {"record": record_name("ks", w), "expr": _ks(cdf, reference_cdf_name)},
        {"record": f"model:aivitals_distribution_shift_share:{w}", "expr": shift_share(psi_name, threshold)},
        {"record": f"model:aivitals_distribution_shift_max:{w}", "expr": shift_max(psi_name)},
    ]


#: The per-feature PSI over a day, which the drift vitals read.
FEATURE_PSI = record_name("psi", "1d")
#: The labels the vitals' queries may filter it on.
FEATURE_KEEPS = ("namespace", "model", "feature")

#: The drift rules ``aivitals build`` writes (group aivitals-drift), in evaluation order.
DRIFT: tuple[Record, ...] = tuple(
    Record(rule["record"], rule["expr"], FEATURE_KEEPS if rule["record"] == FEATURE_PSI else ())
    for rule in recording_rules()
)
