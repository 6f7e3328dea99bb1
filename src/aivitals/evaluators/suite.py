"""Every evaluator over one sample: the record ``aivitals evaluate`` prints and the worker records.

An evaluator that raises does not stop the others: its fields are None and the
failure is listed in ``errors`` (by evaluator name, never with the text).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .base import Evaluator, Sample, Verdict
from .citations import Citations
from .context import ContextPrecision, ContextRecall
from .groundedness import Groundedness
from .judge import Judge
from .pii_secrets import PII_KINDS, SECRET_KINDS, PiiSecrets
from .refusal import Refusal
from .toxicity import Toxicity

#: Longest response evaluated, in characters; the rest is cut off and the cut counted.
MAX_CHARS = 100_000


@dataclass
class Evaluation:
    """What the evaluators found in one response (the JSON record of ``aivitals evaluate``)."""

    id: str = ""
    groundedness: float | None = None
    hallucinated: bool | None = None
    context_precision: float | None = None
    context_recall: float | None = None
    refused: bool = False
    cited: bool = False
    citations_valid: bool | None = None
    pii: list[str] = field(default_factory=list)
    secrets: list[str] = field(default_factory=list)
    toxicity: float | None = None
    method: dict[str, str] = field(default_factory=dict)
    reasons: dict[str, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    truncated: bool = False
    verdicts: list[Verdict] = field(default_factory=list, repr=False)

    def as_json(self) -> dict[str, Any]:
        out = {key: value for key, value in self.__dict__.items() if key != "verdicts"}
        return out


def default_evaluators(judge: Judge | None = None, toxicity: Toxicity | None = None) -> list[Evaluator]:
    """The evaluators that run by default; with a judge, the judged ones replace their lexical twins."""
    if judge is not None:
        from .judged import JudgedContextPrecision, JudgedGroundedness, JudgedRefusal

        return [PiiSecrets(), JudgedRefusal(judge), Citations(), JudgedGroundedness(judge),
                JudgedContextPrecision(judge), ContextRecall(), toxicity or Toxicity()]
    return [PiiSecrets(), Refusal(), Citations(), Groundedness(), ContextPrecision(), ContextRecall(),
            toxicity or Toxicity()]


class Suite:
    """Runs a list of evaluators over samples and folds their verdicts into an ``Evaluation``."""

    def __init__(self, evaluators: list[Evaluator] | None = None, *, max_chars: int = MAX_CHARS) -> None:
        self.evaluators = evaluators if evaluators is not None else default_evaluators()
        self.max_chars = max_chars

    def evaluate(self, sample: Sample, id: str = "") -> Evaluation:
        result = Evaluation(id=id)
        if len(sample.response) > self.max_chars:
            sample = Sample(sample.response[: self.max_chars], sample.question, sample.contexts, sample.user_input,
                            sample.relevant_context_ids, sample.provider_response)
            result.truncated = True
        for evaluator in self.evaluators:
            if evaluator.name == "groundedness" and result.refused:
                result.reasons["groundedness"] = "refused"  # a refusal asserts nothing to ground
                continue
            try:
                verdict = evaluator.evaluate(sample)
            except Exception:
                result.errors.append(evaluator.name)
                result.reasons[evaluator.name] = "evaluator error"
                continue
            _fold(result, verdict)
        return result


def _fold(result: Evaluation, verdict: Verdict) -> None:
    name = verdict.evaluator
    result.verdicts.append(verdict)
    result.method[name] = verdict.method
    if verdict.reason:
        result.reasons[name] = verdict.reason
    if name == "pii":
        result.pii = [k for k in verdict.kinds if k in PII_KINDS]
        result.secrets = [k for k in verdict.kinds if k in SECRET_KINDS]
    elif name == "refusal":
        result.refused = bool(verdict.flag)
    elif name == "citation":
        result.cited = bool(verdict.flag)
        result.citations_valid = None if verdict.score is None else verdict.score == 1.0
    elif name == "groundedness":
        result.groundedness, result.hallucinated = verdict.score, verdict.flag
    elif name == "context_precision":
        result.context_precision = verdict.score
    elif name == "context_recall":
        result.context_recall = verdict.score
    elif name == "toxicity":
        result.toxicity = verdict.score
