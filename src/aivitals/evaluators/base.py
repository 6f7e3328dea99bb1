"""The one small interface every evaluator implements, and the records it reads and returns.

An evaluator is an object with a ``name`` (its ``evaluator`` label value) and
``evaluate(sample) -> Verdict``. It never raises for bad text: a score it
cannot give is ``None`` with the ``reason``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

#: How a verdict was reached; the closed ``method`` label values (see catalogue.values.EVALUATION_METHODS).
LEXICAL, PROVIDER, JUDGE, MODEL, REFERENCE = "lexical", "provider", "judge", "model", "reference"


@dataclass(frozen=True)
class Context:
    """One retrieved chunk: the id the retriever gave it and its text."""

    id: str
    text: str


@dataclass(frozen=True)
class Sample:
    """One response to evaluate, with what it was asked and what it was given.

    ``user_input`` is what the user wrote (PII the user wrote first is not a leak);
    it defaults to the question. ``relevant_context_ids`` come from a golden set or
    a later label; without them context recall has no reference. ``provider_response``
    is the raw provider object, read for refusal signals.
    """

    response: str
    question: str = ""
    contexts: tuple[Context, ...] = ()
    user_input: str | None = None
    relevant_context_ids: tuple[str, ...] | None = None
    provider_response: Any = None

    @property
    def user_text(self) -> str:
        return self.question if self.user_input is None else self.user_input


@dataclass(frozen=True)
class Verdict:
    """What one evaluator found in one response.

    ``score`` is in 0..1 (None: no score, see ``reason``); ``flag`` is the
    evaluator's yes/no finding (refused, hallucinated, cited, leaked); ``kinds``
    the closed-set kinds found (PII and secrets), never the values.
    """

    evaluator: str
    method: str
    score: float | None = None
    flag: bool | None = None
    kinds: tuple[str, ...] = ()
    reason: str = ""


class Evaluator(Protocol):
    name: str

    def evaluate(self, sample: Sample) -> Verdict: ...
