"""Exposes the ledger, the configured constants and the computed gauges to Prometheus.

A custom Collector reads the in-memory state at scrape time: counters come
straight from the store-backed ledger, so they resume exactly after a restart.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from prometheus_client.core import HistogramMetricFamily
from prometheus_client.core import Metric as Family
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

from aivitals.catalogue import Metric, MetricType
from aivitals.families import family as _family

from . import _metrics as M
from .derived import DerivedGauges
from .ledger import Ledger, SeriesKey
from .settings import Settings


class SidecarCollector(Collector):
    """Every sidecar series, from one consistent snapshot of the ledger."""

    def __init__(self, ledger: Ledger, settings: Settings, derived: DerivedGauges) -> None:
        self.ledger = ledger
        self.settings = settings
        self.derived = derived
        self._edges = {m.name: [floatToGoString(b) for b in m.buckets] + ["+Inf"]
                       for m in M.RECORDED if m.type is MetricType.HISTOGRAM}

    def collect(self) -> Iterator[Family]:
        yield from self.recorded(self.ledger.snapshot(), M.RECORDED)
        yield from self._configured()
        yield from self._computed()

    def recorded(self, snapshot: dict[SeriesKey, list[float]], metrics: Sequence[Metric],
                 replica: str | None = None) -> Iterator[Family]:
        """The families of ``metrics`` from ledger values; with ``replica``, each series labelled with it."""
        extra = ["replica"] if replica is not None else []
        families = {m.name: _family(m, extra) for m in metrics}
        for (name, labels), values in sorted(snapshot.items()):
            family = families.get(name)
            if family is None:
                continue
            values_of = [*labels, replica] if replica is not None else list(labels)
            if isinstance(family, HistogramMetricFamily):
                cumulative, buckets = 0.0, []
                for edge, count in zip(self._edges[name], values[:-1], strict=True):
                    cumulative += count
                    buckets.append((edge, cumulative))
                family.add_metric(values_of, buckets, values[-1])
            else:
                family.add_metric(values_of, values[0])
        yield from families.values()

    def _configured(self) -> Iterator[Family]:
        costs = _family(M.FIXED_COST)
        for bucket, usd in sorted(self.settings.fixed_costs_usd_per_month.items()):
            costs.add_metric([bucket], float(usd))
        yield costs
        eligible = _family(M.ELIGIBLE_USERS)
        if self.settings.eligible_users is not None:
            eligible.add_metric([], float(self.settings.eligible_users))
        yield eligible

    def _computed(self) -> Iterator[Family]:
        derived = self.derived.get()
        active = _family(M.ACTIVE_USERS)
        for window, count in derived.active_users.items():
            active.add_metric([window], float(count))
        auc, loss = _family(M.ROC_AUC), _family(M.LOG_LOSS)
        for (model, window), value in sorted(derived.roc_auc.items()):
            auc.add_metric([model, window], value)
        for (model, window), value in sorted(derived.log_loss.items()):
            loss.add_metric([model, window], value)
        attempts, successes = _family(M.PROBE_ATTEMPTS), _family(M.PROBE_SUCCESSES)
        for labels, (tried, succeeded) in sorted(derived.probes.items()):
            attempts.add_metric(list(labels), float(tried))
            successes.add_metric(list(labels), float(succeeded))
        yield from (active, auc, loss, attempts, successes)
