"""What each event does to the store and the ledger; runs on the writer thread only.

Every method returns whether the event was new (``accepted``) or already known
(``duplicate``). The request was checked before it was queued; what only the
stored state can contradict (an incident resolved before it occurred) raises
``Contradiction``, which the writer answers with a 422 for that request alone.
The store's own failures become a 503 for the group.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from aivitals.catalogue import OTHER
from aivitals.catalogue.values import EVALUATION_STATUSES

from . import _metrics as M
from . import probes
from .events import (
    Activity,
    AlertmanagerAlert,
    Committed,
    Conversion,
    Exposure,
    GroundTruth,
    Incident,
    Label,
    Outcome,
    Override,
    Prediction,
    ProbeResult,
    Survey,
    TrainingRun,
    Verdicts,
    WorkUnit,
    epoch,
)
from .ledger import Ledger
from .settings import Settings, class_name
from .store import EventStore, IncidentRow, PredictionRow, UserRow

ALERTMANAGER_SOURCE = "alertmanager"
API_SOURCE = "api"
#: Kinds whose own id makes them idempotent (a stored prediction id is a duplicate).
_SELF_KEYED = frozenset({"prediction"})
_BINS = tuple(f"{i / 10:.1f}" for i in range(1, 11))


class Contradiction(ValueError):
    """An event that contradicts what the store holds; ``field`` names the event's field."""

    def __init__(self, field: str, why: str) -> None:
        super().__init__(f"{field}: {why}")
        self.field = field
        self.why = why


def calibration_bin(confidence: float) -> str:
    """The bin's upper edge: (0, 0.1] -> "0.1", ..., (0.9, 1.0] -> "1.0"; 0 falls in the first."""
    index = math.ceil(round(confidence * 10, 9)) - 1
    return _BINS[min(max(index, 0), 9)]


def nps_category(score: int) -> str:
    return "promoter" if score >= 9 else ("passive" if score >= 7 else "detractor")


def declared_class(value: bool | int | str, declared: tuple[str, ...]) -> str:
    """The class as a bounded label value: one of the model's declared classes, else ``other``."""
    name = class_name(value)
    return name if name in declared else OTHER


def _confusion(predicted_positive: bool, actual_positive: bool) -> str:
    if predicted_positive:
        return "tp" if actual_positive else "fp"
    return "fn" if actual_positive else "tn"


class Applier:
    """Applies validated events; the writer wraps calls in one transaction per group."""

    def __init__(self, store: EventStore, ledger: Ledger, settings: Settings, hasher: Callable[[str], bytes],
                 ids: Callable[[str], bytes]) -> None:
        self.store = store
        self.ledger = ledger
        self.settings = settings
        #: Keyed hashes (keys.py): user keys and every id reach the store only through these.
        self.hasher = hasher
        self.ids = ids
        self._severity_map = {k.lower(): v for k, v in settings.alert_severities.items()}
        self._handlers: dict[str, Callable[[Committed, float], bool]] = {
            "label": self._label,  # type: ignore[dict-item]
            "exposure": self._exposure,  # type: ignore[dict-item]
            "conversion": self._conversion,  # type: ignore[dict-item]
            "outcome": self._outcome,  # type: ignore[dict-item]
            "work_unit": self._work_unit,  # type: ignore[dict-item]
            "override": self._override,  # type: ignore[dict-item]
            "survey": self._survey,  # type: ignore[dict-item]
            "incident": self._incident_event,  # type: ignore[dict-item]
            "training_run": self._training_run,  # type: ignore[dict-item]
            "ground_truth": self._ground_truth,  # type: ignore[dict-item]
            "probe_result": self._probe_result,  # type: ignore[dict-item]
            "evaluation": self._evaluation,  # type: ignore[dict-item]
        }
        self._bulk: dict[str, Callable[[Sequence[Committed], float], list[bool]]] = {
            "prediction": self._predictions,  # type: ignore[dict-item]
            "activity": self._activities,  # type: ignore[dict-item]
        }

    def apply(self, events: Sequence[Committed], received: float) -> int:
        """Apply one request's events in order; returns how many were new.

        Duplicates (an event id seen before, a prediction id stored, a label
        already joined) are counted in aivitals_events_total, not applied.
        A prediction's own id is its idempotency key, so its event id is not
        stored as well. Consecutive predictions and activities go to the store
        in bulk.
        """
        keys = {id(e): self.event_key(e.event_id) for e in events
                if e.event_id is not None and e.kind not in _SELF_KEYED}
        unclaimed = self.store.claim(list(keys.values()), received) if keys else set()
        accepted, i, n = 0, 0, len(events)
        while i < n:
            kind = events[i].kind
            bulk = self._bulk.get(kind)
            j = i + 1
            if bulk is not None:
                while j < n and events[j].kind == kind:
                    j += 1
            todo, repeats = [], 0
            for e in events[i:j]:
                key = keys.get(id(e))
                if key is not None:
                    if key not in unclaimed:
                        repeats += 1
                        continue
                    unclaimed.discard(key)  # the same id later in this request is a duplicate
                todo.append(e)
            if bulk is not None:
                fresh = sum(bulk(todo, received))
            else:
                fresh = sum(self._handlers[kind](e, received) for e in todo)
            if fresh:
                self.count(kind, "accepted", fresh)
            if len(todo) - fresh + repeats:
                self.count(kind, "duplicate", len(todo) - fresh + repeats)
            accepted += fresh
            i = j
        return accepted

    def event_key(self, event_id: str) -> bytes:
        """An event id as the store's seen table holds it (claimed here, looked up before evaluating)."""
        return b"e:" + self.ids(event_id)

    def count(self, kind: str, result: str, n: float = 1.0) -> None:
        self.ledger.inc(M.EVENTS, (kind, result), n)

    # --- predictions and labels -----------------------------------------------------------
    def _predictions(self, events: Sequence[Prediction], received: float) -> list[bool]:
        return self.store.add_predictions([self._prediction_row(e, received) for e in events])

    def _prediction_row(self, e: Prediction, received: float) -> PredictionRow:
        predicted = e.predicted if e.predicted is not None else bool(e.score is not None and e.score >= 0.5)
        if e.positive_class is not None:
            positive: bool | None = predicted == e.positive_class
        elif isinstance(predicted, bool):
            positive = predicted
        else:
            positive = None  # multi-class without a positive class: correctness only
        confidence = e.confidence
        if confidence is None and e.score is not None and positive is not None:
            confidence = e.score if positive else 1.0 - e.score
        return PredictionRow(self.ids(e.id), e.model, epoch(e.time, received), received, predicted, positive, e.score,
                             confidence, e.positive_class, dict(e.groups))

    def _label(self, e: Label, received: float) -> bool:
        t = epoch(e.time, received)
        prediction_id = self.ids(e.prediction_id)
        p = self.store.get_prediction(prediction_id)
        if p is None:
            model = self.store.evicted_model(prediction_id)
            result = "unknown" if model is None else "expired"
            self.ledger.inc(M.LABELS, (self.ledger.fold("model", model or e.model or OTHER), result))
            return True
        if p.labelled:
            return False
        model = self.ledger.fold("model", p.model)
        correct = p.predicted == e.actual  # True == 1: a boolean prediction takes a 0/1 label
        if p.positive_class is not None:
            actual_positive: bool | None = e.actual == p.positive_class
        elif p.positive is not None and (isinstance(e.actual, bool) or e.actual in (0, 1)):
            actual_positive = bool(e.actual)
        else:
            actual_positive = None
        self.store.label_prediction(prediction_id, t, actual_positive)
        led = self.ledger
        led.inc(M.LABELS, (model, "joined"))
        binary = p.positive is not None and actual_positive is not None
        cell = _confusion(p.positive, actual_positive) if binary else None  # type: ignore[arg-type]
        if cell is not None:
            led.inc(M.CONFUSION, (model, cell))
        if p.confidence is not None:
            b = calibration_bin(p.confidence)
            led.inc(M.CALIBRATION_PREDICTIONS, (model, b))
            led.inc(M.CALIBRATION_CORRECT, (model, b), 1.0 if correct else 0.0)
            led.inc(M.CALIBRATION_CONFIDENCE, (model, b), p.confidence)
        flag = "true" if correct else "false"
        for attribute, group in p.groups.items():
            led.inc(M.GROUP_PREDICTIONS, (model, attribute, group, flag))
            if cell is not None:  # false positives and negatives by declared group
                led.inc(M.GROUP_CONFUSION, (model, attribute, group, cell))
        declared = self.settings.classes.get(p.model)
        if declared is not None:  # the confusion matrix over the declared class set
            led.inc(M.CLASS_PREDICTIONS, (model, declared_class(p.predicted, declared),
                                          declared_class(e.actual, declared)))
        led.observe(M.LABEL_DELAY, (model,), max(0.0, t - p.time))
        led.set_max(M.GROUND_TRUTH_LAST, (model,), t)
        return True

    # --- business ----------------------------------------------------------------------------
    def _exposure(self, e: Exposure, received: float) -> bool:
        self.ledger.inc(M.KPI_EXPOSURES, (e.kpi, e.cohort), e.count)
        return True

    def _conversion(self, e: Conversion, received: float) -> bool:
        self.ledger.inc(M.KPI_CONVERSIONS, (e.kpi, e.cohort), e.count)
        return True

    def _outcome(self, e: Outcome, received: float) -> bool:
        self.ledger.inc(M.OUTCOMES, (e.outcome_kind, e.cohort), e.count)
        self.ledger.inc(M.OUTCOME_VALUE, (e.outcome_kind, e.cohort), e.value_usd)
        return True

    def _work_unit(self, e: WorkUnit, received: float) -> bool:
        self.ledger.observe(M.WORK_UNIT_DURATION, (e.cohort,), e.duration_seconds)
        self.ledger.inc(M.HUMAN_COST, (e.cohort,), e.human_cost_usd)
        return True

    # --- users and people ---------------------------------------------------------------------
    def _activities(self, events: Sequence[Activity], received: float) -> list[bool]:
        keys = [self.hasher(e.user) for e in events]
        users = self.store.get_users(list(set(keys)))
        new = 0
        for e, key in zip(events, keys, strict=True):
            t = epoch(e.time, received)
            user = users.get(key)
            if user is None:
                users[key] = UserRow(key, t, t, t if e.productive else None)
                new += 1
                if e.productive:
                    self.ledger.observe(M.TIME_TO_VALUE, (), 0.0)
                continue
            user.first_seen = min(user.first_seen, t)
            user.last_seen = max(user.last_seen, t)
            if e.productive and user.valued_at is None:
                user.valued_at = t
                self.ledger.observe(M.TIME_TO_VALUE, (), max(0.0, t - user.first_seen))
        self.store.put_users([users[key] for key in dict.fromkeys(keys)], new)
        return [True] * len(events)

    def _override(self, e: Override, received: float) -> bool:
        labels = (self.ledger.fold("service", e.service), self.ledger.fold("model", e.model), e.action)
        self.ledger.inc(M.OVERRIDES, labels)
        return True

    def _survey(self, e: Survey, received: float) -> bool:
        self.ledger.inc(M.SURVEYS, (nps_category(e.score),))
        return True

    # --- incidents -------------------------------------------------------------------------------
    def _incident_event(self, e: Incident, received: float) -> bool:
        t = epoch(e.time, received)
        detected = epoch(e.detected_at, t) if e.detected_at is not None else None
        return self.incident(b"api:" + self.ids(e.id), e.severity, API_SOURCE,
                             epoch(e.occurred_at, t) if e.occurred_at is not None else None,
                             detected, epoch(e.resolved_at, t) if e.resolved_at is not None else None, t)

    def incident(self, key: bytes, severity: str, source: str, occurred: float | None, detected: float | None,
                 resolved: float | None, now: float) -> bool:
        """Open, update or resolve one incident; False when nothing changed."""
        led, row, changed = self.ledger, self.store.get_incident(key), False
        if row is not None:
            _check_order(row, occurred, resolved)
        if row is None:
            row = IncidentRow(key, severity, source, occurred, detected if detected is not None else now, None, now)
            led.inc(M.INCIDENTS, (severity, source))
            led.add(M.INCIDENTS_OPEN, (severity,), 1.0)
            if occurred is not None:
                led.observe(M.TIME_TO_DETECT, (severity,), max(0.0, row.detected - occurred))  # type: ignore[operator]
            changed = True
        elif row.occurred is None and occurred is not None and row.detected is not None:
            row.occurred = occurred
            led.observe(M.TIME_TO_DETECT, (row.severity,), max(0.0, row.detected - occurred))
            changed = True
        if resolved is not None and row.resolved is None:
            row.resolved = resolved
            led.add(M.INCIDENTS_OPEN, (row.severity,), -1.0)
            led.observe(M.TIME_TO_RESOLVE, (row.severity,), max(0.0, resolved - (row.detected or resolved)))
            changed = True
        if changed:
            row.updated = now
            self.store.put_incident(row)
        return changed

    def alert(self, alert: AlertmanagerAlert, received: float) -> bool:
        """One alert of an Alertmanager notification: firing opens, resolved resolves, by fingerprint."""
        key = b"am:" + self.ids(alert.fingerprint)
        starts = alert.startsAt
        label = alert.labels.get("severity", "").lower()
        severity = self._severity_map.get(label, self.settings.default_alert_severity)
        row = self.store.get_incident(key)
        if alert.status == "firing":
            if row is not None and (row.resolved is None or row.occurred == starts):
                fresh = False  # a repeat notification of the same firing
            else:
                if row is not None:  # it fired again after being resolved: a new incident
                    self.store.delete_incident(key)
                fresh = self.incident(key, severity, ALERTMANAGER_SOURCE, starts, received, None, received)
        else:
            ends = alert.endsAt if alert.endsAt is not None else received  # None: Alertmanager's zero time
            resolved = min(ends, received)
            if row is None:
                fresh = self.incident(key, severity, ALERTMANAGER_SOURCE, starts, received, received, received)
            else:
                # Alertmanager's endsAt may precede our receipt of the firing (group_wait): clamp, do not refuse
                floor = max(row.detected or 0.0, row.occurred or 0.0)
                fresh = self.incident(key, row.severity, row.source, None, None, max(resolved, floor), received)
        self.count("alert", "accepted" if fresh else "duplicate")
        return fresh

    # --- model lifecycle ----------------------------------------------------------------------------
    def _training_run(self, e: TrainingRun, received: float) -> bool:
        model = self.ledger.fold("model", e.model)
        self.ledger.inc(M.TRAINING_RUNS, (model,))
        self.ledger.set_max(M.LAST_TRAINED, (model,), epoch(e.time, received))
        return True

    def _ground_truth(self, e: GroundTruth, received: float) -> bool:
        self.ledger.set_max(M.GROUND_TRUTH_LAST, (self.ledger.fold("model", e.model),), epoch(e.time, received))
        return True

    # --- safety ------------------------------------------------------------------------------------
    def _probe_result(self, e: ProbeResult, received: float) -> bool:
        run = probes.Run(e.model_version, epoch(e.time, received),
                         {c: (n.attempts, n.successes) for c, n in e.categories.items()})
        try:
            return probes.record(self.store, e.suite, e.suite_version, self.ledger.fold("model", e.model), run)
        except probes.TooManyProbedModels as exc:
            raise Contradiction("suite", str(exc)) from None

    def _evaluation(self, e: Verdicts, received: float) -> bool:
        """An evaluation's verdicts (evaluated before the request was queued); every status is written, zeros
        included, so ``rate()`` sees a service's first error."""
        led = self.ledger
        who = (led.fold("service", e.service), led.fold("model", e.model))
        for evaluator, method, score in e.scores:
            led.observe(M.QUALITY, (*who, evaluator, method), score)
        for evaluator, method, passed in e.judged:
            led.inc(M.EVALUATIONS, (*who, evaluator, method, "pass" if passed else "fail"))
        for kind, method in e.pii:
            led.inc(M.PII, (*who, kind, method))
        for status in EVALUATION_STATUSES:
            led.inc(M.EVALUATOR_RESPONSES, (*who, status), float(e.statuses.count(status)))
        return True


def _check_order(row: IncidentRow, occurred: float | None, resolved: float | None) -> None:
    """A later event may not make a stored incident resolve before it occurred, or occur after detection."""
    first = occurred if row.occurred is None else row.occurred
    if resolved is not None and row.resolved is None and first is not None and resolved < first:
        raise Contradiction("resolved_at", "is before the incident occurred (as stored from an earlier event)")
    if occurred is not None and row.occurred is None and row.detected is not None and occurred > row.detected:
        raise Contradiction("occurred_at", "is after the incident was detected (as stored from an earlier event)")
