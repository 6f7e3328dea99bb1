"""Streaming drift recording against a reference profile, cheap enough for wide models.

``record()`` only appends the row to a bounded buffer (a list append, plus an
``itemgetter`` for a mapping); the buffer is folded into per-bin counts with
numpy when it fills and at every scrape. Memory is O(features x bins +
buffer), never O(samples); the per-prediction cost is a small fraction of one
Histogram.observe per feature (``benchmarks/drift.py``).

As a prometheus_client Collector it exposes, per feature of the profile:

- ``aivitals_feature_values``: a histogram with ``le`` at the profile's edges
  (numeric features), for quantiles and the KS rule (prometheus_client omits
  ``_count`` and ``_sum`` when an edge is negative: the rules read ``le="+Inf"``);
- ``aivitals_feature_reference_ratio``: the reference's cumulative share at each edge (label ``bound``,
  not ``le``, which belongs to histograms);
- ``aivitals_feature_bin_observations_total`` and
  ``aivitals_feature_reference_bin_ratio``: the same bins, not cumulated and
  labelled by bin index, for the PSI and JS rules (see :mod:`.promql`);
- ``aivitals_drift_rejected_values_total``: values that could not be scored.

Bad input (a missing feature, a string where a number belongs, NaN, a row of
the wrong length, features the profile does not know) is dropped value by
value, counted by feature and reason, and logged once per reason without the
value. Nothing raises into the caller; no bad value reaches a bin.
"""

from __future__ import annotations

import logging
import operator
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry
from prometheus_client.utils import floatToGoString

from aivitals.catalogue import METRICS_BY_NAME
from aivitals.stats import cumulative_shares

from .profile import CATEGORICAL, PREDICTION, FeatureProfile, Profile

_log = logging.getLogger("aivitals.drift")

_VALUES = METRICS_BY_NAME["aivitals_feature_values"]
_REFERENCE = METRICS_BY_NAME["aivitals_feature_reference_ratio"]
_BIN_VALUES = METRICS_BY_NAME["aivitals_feature_bin_observations_total"]
_BIN_REFERENCE = METRICS_BY_NAME["aivitals_feature_reference_bin_ratio"]
_REJECTED = METRICS_BY_NAME["aivitals_drift_rejected_values_total"]

#: ``feature`` label for problems with a whole row, and for names the profile does not know.
ROW, UNKNOWN = "__row__", "__unknown__"
MISSING, WRONG_TYPE, NOT_FINITE = "missing", "wrong_type", "not_finite"
WRONG_SHAPE, UNKNOWN_FEATURE, INTERNAL = "wrong_shape", "unknown_feature", "internal"

_NUMERIC_KINDS = "fiub"
_NUMBER_TYPES = (int, float, np.integer, np.floating)


class _Absent:
    """Marks a feature a mapping did not contain."""


_ABSENT = _Absent()
FloatArray = NDArray[np.float64]


class _NumericGroup:
    """Numeric features folded together: edges padded with +Inf into one matrix."""

    def __init__(self, features: Sequence[tuple[int, FeatureProfile, int]]) -> None:
        self.slots = [slot for slot, _, _ in features]
        self.columns = [column for _, _, column in features]
        self.identity = self.columns == list(range(len(self.columns)))
        width = max((len(f.edges) for _, f, _ in features), default=0)
        self.edges = np.full((len(features), width), np.inf)
        for row, (_, feature, _) in enumerate(features):
            self.edges[row, : len(feature.edges)] = feature.edges


class DriftRecorder(Collector):
    """Per-feature drift histograms for one model against its reference profile.

    ``feature_names`` is the order of a sequence row (default: the profile's
    input features in profile order); a mapping row is read by name. Profile
    features the model does not provide count as ``missing``, model
    features the profile does not know as ``unknown_feature``, every row.
    ``registry=None`` leaves registering to the caller.
    """

    def __init__(self, profile: Profile, model: str, *, registry: CollectorRegistry | None = None,
                 feature_names: Sequence[str] | None = None, buffer_size: int = 4096) -> None:
        if not isinstance(profile, Profile):
            raise TypeError(f"profile must be an aivitals.drift.profile.Profile, got {type(profile).__name__}")
        if not isinstance(model, str) or not model:
            raise ValueError("model must be a non-empty string")
        if buffer_size < 1:
            raise ValueError("buffer_size must be positive")
        self._model = model
        self._capacity = buffer_size
        inputs = profile.inputs
        layout = tuple(feature_names) if feature_names is not None else tuple(f.name for f in inputs)
        if len(set(layout)) != len(layout):
            raise ValueError("feature_names has duplicates")
        self._width = len(layout)
        self._layout = layout
        self._layout_set = frozenset(layout)
        position = {name: i for i, name in enumerate(layout)}
        self._absent = [f.name for f in inputs if f.name not in position]
        self._unknown = sum(1 for name in layout if name not in {f.name for f in inputs})
        self._getter = self._make_getter(layout)
        self._features = profile.features
        self._offsets = np.cumsum([0] + [f.bins for f in self._features])
        self._counts = np.zeros(int(self._offsets[-1]), dtype=np.int64)
        self._sums = np.zeros(len(self._features))
        numeric_inputs: list[tuple[int, FeatureProfile, int]] = []
        self._categorical: list[tuple[int, FeatureProfile, int]] = []
        for slot, feature in enumerate(self._features):
            if feature.name == PREDICTION or feature.name not in position:
                continue
            entry = (slot, feature, position[feature.name])
            (self._categorical if feature.kind == CATEGORICAL else numeric_inputs).append(entry)
        self._numeric = _NumericGroup(numeric_inputs)
        prediction = profile.prediction
        self._prediction_slot = next((i for i, f in enumerate(self._features) if f.name == PREDICTION), None)
        self._prediction_group = (_NumericGroup([(self._prediction_slot, prediction, 0)])
                                  if prediction is not None and self._prediction_slot is not None
                                  and prediction.kind != CATEGORICAL else None)
        self._category_index = {slot: {c: i for i, c in enumerate(f.categories)} for slot, f in enumerate(
            self._features) if f.kind == CATEGORICAL}
        self._rows: list[Sequence[Any]] = []
        self._predictions: list[Any] = []
        self._lock = threading.Lock()
        self._rejected: Counter[tuple[str, str]] = Counter()
        self._logged: set[str] = set()
        if self._absent or self._unknown:
            _log.warning("drift recorder for model %r: %d profile feature(s) not provided by the model, %d model "
                         "feature(s) not in the profile; counted in %s on every row", model, len(self._absent),
                         self._unknown, _REJECTED.name)
        if registry is not None:
            registry.register(self)

    @staticmethod
    def _make_getter(layout: tuple[str, ...]) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
        if len(layout) == 1:
            name = layout[0]
            return lambda mapping: (mapping[name],)
        if not layout:
            return lambda mapping: ()
        return operator.itemgetter(*layout)

    # -- the hot path -----------------------------------------------------------------
    def record(self, features: Mapping[str, Any] | Sequence[Any], prediction: Any = None) -> None:
        """Remember one prediction's feature values (and its output) for the next fold. Never raises."""
        try:
            kind = type(features)
            if kind is tuple:
                if len(features) == self._width:
                    self._rows.append(features)  # type: ignore[arg-type]
                else:
                    self._reject(ROW, WRONG_SHAPE)
            elif kind is dict:
                if len(features) == self._width:
                    try:
                        self._rows.append(self._getter(features))  # type: ignore[arg-type]
                    except KeyError:
                        self._rows.append(self._from_mapping(features))  # type: ignore[arg-type]
                else:
                    self._rows.append(self._from_mapping(features))  # type: ignore[arg-type]
            elif kind is list:
                if len(features) == self._width:
                    self._rows.append(tuple(features))  # a copy: the caller may reuse its list
                else:
                    self._reject(ROW, WRONG_SHAPE)
            else:
                self._record_other(features)
            if prediction is not None:
                if self._prediction_slot is None:
                    self._reject(PREDICTION, UNKNOWN_FEATURE)
                else:
                    self._predictions.append(prediction)
            if len(self._rows) >= self._capacity or len(self._predictions) >= self._capacity:
                self._fold()
        except Exception as exc:  # never into the caller
            self._reject(ROW, INTERNAL, detail=type(exc).__name__)

    def _from_mapping(self, features: Mapping[str, Any]) -> tuple[Any, ...]:
        check = len(features) != self._width
        try:
            row = self._getter(features)
        except KeyError:  # absent values are counted as missing when folded
            row = tuple(features.get(name, _ABSENT) for name in self._layout)
            check = True
        if check:
            extra = sum(1 for key in features if key not in self._layout_set)
            if extra:
                self._reject(UNKNOWN, UNKNOWN_FEATURE, extra)
        return row

    def _record_other(self, features: object) -> None:
        if isinstance(features, Mapping):
            self._rows.append(self._from_mapping(features))
            return
        if isinstance(features, np.ndarray) and features.ndim == 1:
            features = features.tolist()
        if (isinstance(features, Sequence) and not isinstance(features, (str, bytes))
                and len(features) == self._width):
            self._rows.append(tuple(features))  # a copy: the caller may reuse its list
            return
        self._reject(ROW, WRONG_SHAPE)

    # -- bad input ----------------------------------------------------------------------
    def _reject(self, feature: str, reason: str, n: int = 1, detail: str = "") -> None:
        with self._lock:
            self._tally(feature, reason, n, detail)

    def _tally(self, feature: str, reason: str, n: int, detail: str = "") -> None:
        """Count rejected values (caller holds the lock); log the first of each reason, without values."""
        self._rejected[(feature, reason)] += n
        if reason not in self._logged:
            self._logged.add(reason)
            _log.warning("drift recorder for model %r: dropped %s value(s) of feature %r%s; counted in %s, "
                         "logged once per reason", self._model, reason, feature, f" ({detail})" if detail else "",
                         _REJECTED.name)

    # -- folding the buffer into bins ----------------------------------------------------
    def _fold(self) -> None:
        with self._lock:
            n = len(self._rows)
            rows = self._rows[:n]
            del self._rows[:n]  # appends racing with this land after index n and stay
            m = len(self._predictions)
            predictions = self._predictions[:m]
            del self._predictions[:m]
            try:
                if rows:
                    self._fold_rows(rows)
                if predictions:
                    self._fold_predictions(predictions)
            except Exception as exc:  # a bug here must not take the caller down; the rows are lost, counted
                self._tally(ROW, INTERNAL, len(rows) + len(predictions), type(exc).__name__)

    def _fold_rows(self, rows: list[Sequence[Any]]) -> None:
        n = len(rows)
        for name in self._absent:
            self._tally(name, MISSING, n)
        if self._unknown:
            self._tally(UNKNOWN, UNKNOWN_FEATURE, n * self._unknown)
        group = self._numeric
        columns: list[tuple[Any, ...]] | None = None
        if group.slots:
            block: FloatArray | None = None
            placeholders = np.zeros(len(group.slots))
            if not self._categorical:  # fast path: one C-level conversion of the whole buffer
                try:
                    array = np.array(rows)
                except (ValueError, TypeError):
                    array = None
                if array is not None and array.ndim == 2 and array.dtype.kind in _NUMERIC_KINDS:
                    block = array if group.identity else array[:, group.columns]
                    block = block.astype(np.float64, copy=False)
            if block is None:
                columns = list(zip(*rows, strict=True))
                block = np.empty((n, len(group.slots)))
                for i, (slot, column) in enumerate(zip(group.slots, group.columns, strict=True)):
                    block[:, i], placeholders[i] = self._floats(slot, columns[column])
            self._fold_numeric(group, block, placeholders)
        if self._categorical:
            columns = columns if columns is not None else list(zip(*rows, strict=True))
            for slot, _, column in self._categorical:
                self._fold_categories(slot, columns[column])

    def _fold_predictions(self, predictions: list[Any]) -> None:
        slot = self._prediction_slot
        assert slot is not None
        if self._prediction_group is None:
            self._fold_categories(slot, predictions)
            return
        values, placeholders = self._floats(slot, predictions)
        self._fold_numeric(self._prediction_group, values.reshape(-1, 1), np.array([placeholders]))

    def _floats(self, slot: int, column: Sequence[Any]) -> tuple[FloatArray, int]:
        """A column as floats; missing and non-numbers become NaN placeholders, counted here."""
        try:
            array = np.array(column)
        except (ValueError, TypeError):
            array = None
        if array is not None and array.ndim == 1 and array.dtype.kind in _NUMERIC_KINDS:
            return array.astype(np.float64), 0
        out = np.full(len(column), np.nan)
        missing = wrong = 0
        for i, value in enumerate(column):
            if value is None or value is _ABSENT:
                missing += 1
            elif isinstance(value, _NUMBER_TYPES):
                out[i] = float(value)
            else:
                wrong += 1
        name = self._features[slot].name
        if missing:
            self._tally(name, MISSING, missing)
        if wrong:
            self._tally(name, WRONG_TYPE, wrong)
        return out, missing + wrong

    def _fold_numeric(self, group: _NumericGroup, block: FloatArray, placeholders: FloatArray) -> None:
        values = np.ascontiguousarray(block.T)  # one feature per row: the edge compares broadcast cheaply
        finite = np.isfinite(values)
        all_finite = bool(finite.all())
        if not all_finite:
            not_finite = values.shape[1] - finite.sum(axis=1) - placeholders
            for i in np.flatnonzero(not_finite):
                self._tally(self._features[group.slots[i]].name, NOT_FINITE, int(not_finite[i]))
        index = np.zeros(values.shape, dtype=np.uint8)  # bins <= 64
        above = np.empty(values.shape, dtype=bool)
        with np.errstate(invalid="ignore"):
            for e in range(group.edges.shape[1]):  # bin = number of edges strictly below the value (le)
                np.greater(values, group.edges[:, e, None], out=above)
                index += above.view(np.uint8)
        flat = index + self._offsets[group.slots][:, None]
        if all_finite:
            self._counts += np.bincount(flat.ravel(), minlength=self._counts.size)
            self._sums[group.slots] += values.sum(axis=1)
        else:
            self._counts += np.bincount(flat[finite], minlength=self._counts.size)
            self._sums[group.slots] += np.where(finite, values, 0.0).sum(axis=1)

    def _fold_categories(self, slot: int, column: Sequence[Any]) -> None:
        feature = self._features[slot]
        index = self._category_index[slot]
        other = feature.bins - 1
        bins: list[int] = []
        missing = wrong = 0
        for value in column:
            if type(value) is str:
                bins.append(index.get(value, other))
            elif value is None or value is _ABSENT:
                missing += 1
            elif isinstance(value, (bool, int, np.integer)):
                bins.append(index.get(str(value), other))
            else:
                wrong += 1
        if missing:
            self._tally(feature.name, MISSING, missing)
        if wrong:
            self._tally(feature.name, WRONG_TYPE, wrong)
        if bins:
            start = int(self._offsets[slot])
            self._counts[start : start + feature.bins] += np.bincount(bins, minlength=feature.bins)

    # -- the scrape -------------------------------------------------------------------------
    def describe(self) -> Iterable[Metric]:
        return self._families(None, None, {})

    def collect(self) -> Iterable[Metric]:
        self._fold()
        with self._lock:
            counts, sums, rejected = self._counts.copy(), self._sums.copy(), dict(self._rejected)
        return self._families(counts, sums, rejected)

    def _families(self, counts: NDArray[np.int64] | None, sums: FloatArray | None,
                  rejected: Mapping[tuple[str, str], int]) -> list[Metric]:
        values = HistogramMetricFamily(_VALUES.name, _VALUES.help, labels=_VALUES.labels)
        reference = GaugeMetricFamily(_REFERENCE.name, _REFERENCE.help, labels=_REFERENCE.labels)
        bin_values = CounterMetricFamily(_BIN_VALUES.name, _BIN_VALUES.help, labels=_BIN_VALUES.labels)
        bin_reference = GaugeMetricFamily(_BIN_REFERENCE.name, _BIN_REFERENCE.help, labels=_BIN_REFERENCE.labels)
        errors = CounterMetricFamily(_REJECTED.name, _REJECTED.help, labels=_REJECTED.labels)
        if counts is not None and sums is not None:
            model = self._model
            for slot, feature in enumerate(self._features):
                per_bin = counts[self._offsets[slot] : self._offsets[slot + 1]]
                for i, (n, share) in enumerate(zip(per_bin.tolist(), feature.reference, strict=True)):
                    bin_values.add_metric([model, feature.name, str(i)], n)
                    bin_reference.add_metric([model, feature.name, str(i)], share)
                if feature.kind == CATEGORICAL:
                    continue
                les = [floatToGoString(edge) for edge in feature.edges] + ["+Inf"]
                cumulative = np.cumsum(per_bin).tolist()
                values.add_metric([model, feature.name], list(zip(les, cumulative, strict=True)),
                                  float(sums[slot]))
                for le, share in zip(les, cumulative_shares(feature.reference).tolist(), strict=True):
                    reference.add_metric([model, feature.name, le], share)
            for (feature_name, reason), n in sorted(rejected.items()):
                errors.add_metric([model, feature_name, reason], n)
        return [values, reference, bin_values, bin_reference, errors]
