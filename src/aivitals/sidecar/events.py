"""The event shapes the sidecar accepts, one pydantic model per kind.

Models are strict (no string-to-number coercion) and forbid unknown fields, so a
typo is a 422 that names the field rather than a silently missing vital. Values
that depend on the configuration (declared KPIs, cohorts, groups) are checked
afterwards in ``validate.py``, which knows the settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, ClassVar, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import PydanticCustomError

from .settings import NAME_PATTERN

#: Alertmanager's zero time (0001-01-01T00:00:00Z) in Unix seconds: it means "not set".
ZERO_TIME = -62135596800.0
_AWARE: TypeAdapter[datetime] = TypeAdapter(AwareDatetime)


def _seconds(value: object) -> object:
    """An RFC 3339 string as Unix seconds; anything else goes on to the strict float check."""
    if not isinstance(value, str):
        return value
    try:
        return _AWARE.validate_strings(value).timestamp()
    except ValidationError as exc:
        if any(e["type"] == "timezone_aware" for e in exc.errors(include_input=False)):
            raise PydanticCustomError("time_naive", "has no timezone: add Z or an offset such as +02:00 "
                                                    "(RFC 3339), or send Unix seconds") from None
        raise PydanticCustomError("time_format", "is not an RFC 3339 date-time (2026-09-21T10:00:00Z) "
                                                 "nor Unix seconds") from None
    except (OverflowError, ValueError):
        raise PydanticCustomError("time_format", "is not a representable date-time") from None


def _unset_if_zero(value: float) -> float | None:
    return None if value == ZERO_TIME else value


#: The one time type of every time that enters the sidecar (events, incidents, Alertmanager): Unix
#: seconds, or an RFC 3339 date-time with an offset, arriving as float Unix seconds. A date-time
#: without an offset is refused: its instant would depend on the server's zone (and year 1 in local
#: time cannot even be converted).
Time = Annotated[float, BeforeValidator(_seconds), WithJsonSchema({
    "anyOf": [{"type": "string", "format": "date-time"}, {"type": "number"}],
    "description": "Unix seconds, or an RFC 3339 date-time with Z or an offset"})]
#: An Alertmanager time where the zero time means unset (a firing alert's endsAt).
OptionalTime = Annotated[Time, AfterValidator(_unset_if_zero)]
Name = Annotated[str, StringConstraints(pattern=NAME_PATTERN)]
EventId = Annotated[str, StringConstraints(min_length=1, max_length=128)]
ClassValue = bool | int | Annotated[str, StringConstraints(min_length=1, max_length=128)]
Cohort = Literal["treatment", "control"]
ProbeCategory = Literal["goal_hijacking", "prompt_leaking", "persona_jailbreak", "harmful_request"]


class _Event(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, frozen=True)

    #: Makes delivery idempotent: an event whose id was seen is counted once.
    event_id: EventId | None = None
    #: When it happened; the time of receipt when absent.
    time: Time | None = None


class Prediction(_Event):
    """A model's prediction, stored by id until its label arrives."""

    kind: Literal["prediction"] = "prediction"
    id: EventId
    model: Name
    #: The predicted class: a boolean for binary models, else a class name or index.
    predicted: ClassValue | None = None
    #: Probability of the positive class (binary models); gives ROC-AUC and log loss.
    score: Annotated[float, Field(ge=0.0, le=1.0)] | None = None
    #: Probability the model gave its predicted class; gives calibration.
    confidence: Annotated[float, Field(ge=0.0, le=1.0)] | None = None
    #: For non-boolean classes, the class that counts as positive in the confusion matrix.
    positive_class: ClassValue | None = None
    #: Declared fairness attributes and the group this prediction belongs to.
    groups: Annotated[dict[Name, Name], Field(max_length=10)] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _needs_a_prediction(self) -> Prediction:
        if self.predicted is None and self.score is None:
            raise ValueError("give predicted, score or both")
        return self


class Label(_Event):
    """The true class of a stored prediction, minutes to weeks later."""

    kind: Literal["label"] = "label"
    prediction_id: EventId
    actual: ClassValue
    #: Only used to label the count when the prediction is unknown.
    model: Name | None = None


class Exposure(_Event):
    """Units exposed to a KPI (visitors, sessions, tickets), by cohort."""

    kind: Literal["exposure"] = "exposure"
    kpi: Name
    cohort: Cohort
    count: Annotated[int, Field(ge=1, le=1_000_000)] = 1


class Conversion(_Event):
    """Units that converted on a KPI, by cohort."""

    kind: Literal["conversion"] = "conversion"
    kpi: Name
    cohort: Cohort
    count: Annotated[int, Field(ge=1, le=1_000_000)] = 1


class Outcome(_Event):
    """A business outcome the AI contributed to, and its value."""

    kind: Literal["outcome"] = "outcome"
    outcome_kind: Name
    cohort: Cohort = "treatment"
    value_usd: Annotated[float, Field(ge=0.0, le=1e12)] = 0.0
    count: Annotated[int, Field(ge=1, le=1_000_000)] = 1


class WorkUnit(_Event):
    """One unit of work (a ticket, a claim): its cycle time and human cost."""

    kind: Literal["work_unit"] = "work_unit"
    cohort: Cohort
    duration_seconds: Annotated[float, Field(ge=0.0, le=1e9)]
    human_cost_usd: Annotated[float, Field(ge=0.0, le=1e9)] = 0.0


class Activity(_Event):
    """A user used the AI feature; ``productive`` when it produced value for them."""

    kind: Literal["activity"] = "activity"
    #: An opaque user key (a hash or pseudonym, never an email); stored only as a keyed hash.
    user: Annotated[str, StringConstraints(min_length=1, max_length=256)]
    productive: bool = False


class Override(_Event):
    """A person saw a suggestion, overrode it, or reversed an earlier override."""

    kind: Literal["override"] = "override"
    service: Name
    model: Name
    action: Literal["suggested", "overridden", "reversed"]


class Survey(_Event):
    """An answer to 'how likely are you to recommend ...', 0..10."""

    kind: Literal["survey"] = "survey"
    score: Annotated[int, Field(ge=0, le=10)]


class Incident(_Event):
    """Opens, updates or resolves an incident; times default to receipt when opening."""

    kind: Literal["incident"] = "incident"
    id: EventId
    severity: Name
    occurred_at: Time | None = None
    detected_at: Time | None = None
    resolved_at: Time | None = None


class TrainingRun(_Event):
    """A training run of the model finished (at ``time``)."""

    kind: Literal["training_run"] = "training_run"
    model: Name


class GroundTruth(_Event):
    """New ground truth for the model arrived (at ``time``)."""

    kind: Literal["ground_truth"] = "ground_truth"
    model: Name


class ProbeCounts(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    #: Attempts that got an answer (errored attempts are not counted).
    attempts: Annotated[int, Field(ge=1, le=1_000_000)]
    #: Attempts in which the attack succeeded.
    successes: Annotated[int, Field(ge=0, le=1_000_000)]

    @model_validator(mode="after")
    def _at_most_attempts(self) -> ProbeCounts:
        if self.successes > self.attempts:
            raise ValueError("successes cannot exceed attempts")
        return self


class ProbeResult(_Event):
    """One run of the jailbreak and prompt-injection suite against a model release (``aivitals probe``)."""

    kind: Literal["probe_result"] = "probe_result"
    suite: Name
    suite_version: Name
    model: Name
    #: The release tested: a tag or image digest; the previous release is the one probed before it.
    model_version: Name
    categories: Annotated[dict[ProbeCategory, ProbeCounts], Field(min_length=1)]


#: Bounds of an evaluation event: contexts a response may cite, and characters of each text field. A
#: response is not bounded here: the worker cuts it at its ``max_chars`` and counts the cut.
MAX_EVALUATION_CONTEXTS = 32
MAX_CONTEXT_CHARS = 20_000
MAX_QUESTION_CHARS = 20_000
Text = Annotated[str, StringConstraints(max_length=MAX_QUESTION_CHARS)]


class EvaluationContext(BaseModel):
    """One retrieved chunk the response was given: the retriever's id and its text."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    id: EventId
    text: Annotated[str, StringConstraints(max_length=MAX_CONTEXT_CHARS)]


class Evaluation(_Event):
    """A response to evaluate for groundedness, leaks, refusals and citations; only the verdicts' counts are kept.

    Evaluated before it is acknowledged (too many in flight answers 503 with Retry-After); its
    ``Verdicts`` are then committed in its place like any event, so its ``event_id`` makes a resend a
    duplicate. The text is never stored or logged.
    """

    kind: Literal["evaluation"] = "evaluation"
    service: Name
    model: Name
    question: Text = ""
    response: str
    contexts: Annotated[list[EvaluationContext], Field(max_length=MAX_EVALUATION_CONTEXTS)] = Field(
        default_factory=list)
    #: What the user wrote, when it is not the question: personal data the user wrote first is not a leak.
    user_input: Text | None = None
    #: Ids of the contexts known to be relevant (a golden set or a later label): gives context recall.
    relevant_context_ids: Annotated[list[EventId], Field(max_length=MAX_EVALUATION_CONTEXTS)] | None = None


@dataclass(frozen=True)
class Verdicts:
    """What the evaluators found in one ``Evaluation``: numbers and closed-set names only, never its text.

    The request handler builds it (``evaluations.py``) and the writer commits it in the evaluation's
    place, with its ``event_id`` claimed as every event's is. ``service`` and ``model`` are names as sent
    (folded under their caps when applied); evaluator, method and kind values are already closed.
    """

    kind: ClassVar[str] = "evaluation"
    event_id: str | None
    service: str
    model: str
    #: (evaluator, method, score in 0..1) for aivitals_quality_score.
    scores: tuple[tuple[str, str, float], ...] = ()
    #: (evaluator, method, passed) for aivitals_evaluations_total.
    judged: tuple[tuple[str, str, bool], ...] = ()
    #: (pii_kind, method) for aivitals_pii_detections_total.
    pii: tuple[tuple[str, str], ...] = ()
    #: What became of the response (evaluated, truncated, error) for aivitals_evaluator_responses_total.
    statuses: tuple[str, ...] = ()


Event = (Prediction | Label | Exposure | Conversion | Outcome | WorkUnit | Activity | Override | Survey | Incident
         | TrainingRun | GroundTruth | ProbeResult | Evaluation)

#: What the writer commits: the events as sent, except evaluations, which arrive as their ``Verdicts``.
Committed = Event | Verdicts

#: Event kind -> (model, endpoint path under /v1).
KINDS: dict[str, tuple[type[_Event], str]] = {
    "prediction": (Prediction, "predictions"),
    "label": (Label, "labels"),
    "exposure": (Exposure, "exposures"),
    "conversion": (Conversion, "conversions"),
    "outcome": (Outcome, "outcomes"),
    "work_unit": (WorkUnit, "work-units"),
    "activity": (Activity, "activity"),
    "override": (Override, "overrides"),
    "survey": (Survey, "surveys"),
    "incident": (Incident, "incidents"),
    "training_run": (TrainingRun, "training-runs"),
    "ground_truth": (GroundTruth, "ground-truth"),
    "probe_result": (ProbeResult, "probe-results"),
    "evaluation": (Evaluation, "evaluations"),
}
#: The kind counted for Alertmanager notifications.
ALERT_KIND = "alert"
#: The kind counted when a mixed batch fails before any event's kind is known.
UNKNOWN_KIND = "other"
ALL_KINDS: tuple[str, ...] = (*KINDS, ALERT_KIND, UNKNOWN_KIND)

AnyEvent = Annotated[Event, Field(discriminator="kind")]


class AlertmanagerAlert(BaseModel):
    """One alert of an Alertmanager webhook notification (payload version 4)."""

    model_config = ConfigDict(extra="ignore", strict=True, allow_inf_nan=False)

    status: Literal["firing", "resolved"]
    labels: dict[str, str] = Field(default_factory=dict)
    startsAt: Time  # Alertmanager's spelling
    #: When it resolved; Alertmanager's zero time (a firing alert) reads as None.
    endsAt: OptionalTime | None = None
    fingerprint: Annotated[str, StringConstraints(min_length=1, max_length=128)]


class AlertmanagerNotification(BaseModel):
    """Alertmanager's webhook body; keys this sidecar does not use are ignored."""

    model_config = ConfigDict(extra="ignore", strict=True)

    version: Literal["4"]
    status: str = ""
    alerts: Annotated[list[AlertmanagerAlert], Field(max_length=10_000)]


class Ack(BaseModel):
    """What a 200 says: how many events were counted and how many were already known."""

    accepted: int
    duplicate: int


class ErrorItem(BaseModel):
    loc: list[str | int]
    msg: str


class ErrorBody(BaseModel):
    """What a 4xx or 503 says: the problem, and the field path of each wrong value."""

    detail: str
    errors: list[ErrorItem] = Field(default_factory=list)


def epoch(value: float | None, default: float) -> float:
    """A validated time field (Unix seconds), or ``default`` when it was not given."""
    return default if value is None else value
