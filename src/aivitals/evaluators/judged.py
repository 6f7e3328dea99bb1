"""Evaluators that ask the opt-in judge, and fall back to the lexical evaluator when it gives no verdict.

The verdict's ``method`` says which answered (``judge`` or ``lexical``), so a
panel never mixes them silently. Formulas:

- groundedness: the judge lists each claim with ``supported`` true/false;
  groundedness = supported / claims, hallucinated = any unsupported (as the lexical one).
- context precision: the judge marks each chunk relevant or not; Ragas' average
  precision over those flags (``context.average_precision``).
- refusal: the judge says ``refused`` true/false; a provider signal still wins.
"""

from __future__ import annotations

import json
from typing import Any

from .base import JUDGE, Evaluator, Sample, Verdict
from .context import ContextPrecision, average_precision
from .groundedness import Groundedness
from .judge import Judge
from .refusal import Refusal, provider_signal

_GROUNDED = ("You check whether an answer is supported by the given contexts. Split the answer into its factual "
             'claims and reply with JSON only: {"claims": [{"claim": "...", "supported": true|false}]}. A claim is '
             "supported only if the contexts state it; numbers, dates and names must match exactly.")
_RELEVANT = ("You judge whether each retrieved context is relevant to the question and answer. Reply with JSON "
             'only: {"relevant": [true|false, ...]}, one flag per context, in order.')
_REFUSED = ("You judge whether an assistant declined to answer (a refusal, or saying its sources do not contain "
            'the answer). Reply with JSON only: {"refused": true|false}.')
_MAX = 8000


def _contexts(sample: Sample) -> str:
    return "\n".join(f"[{i}] {c.text[:_MAX]}" for i, c in enumerate(sample.contexts, start=1))


class _Judged:
    name = ""

    def __init__(self, judge: Judge, fallback: Evaluator) -> None:
        self.judge = judge
        self.fallback = fallback


class JudgedGroundedness(_Judged):
    name = "groundedness"

    def __init__(self, judge: Judge) -> None:
        super().__init__(judge, Groundedness())

    def evaluate(self, sample: Sample) -> Verdict:
        if not sample.contexts:
            return self.fallback.evaluate(sample)
        answer = self.judge.ask(_GROUNDED, f"Contexts:\n{_contexts(sample)}\n\nAnswer:\n{sample.response[:_MAX]}")
        flags = _flags(answer, "claims", lambda c: c.get("supported") if isinstance(c, dict) else None)
        if not flags:
            return self.fallback.evaluate(sample)
        supported = sum(flags)
        return Verdict(self.name, JUDGE, score=supported / len(flags), flag=supported < len(flags))


class JudgedContextPrecision(_Judged):
    name = "context_precision"

    def __init__(self, judge: Judge) -> None:
        super().__init__(judge, ContextPrecision())

    def evaluate(self, sample: Sample) -> Verdict:
        if not sample.contexts or sample.relevant_context_ids is not None:
            return self.fallback.evaluate(sample)
        answer = self.judge.ask(_RELEVANT, json.dumps({"question": sample.question[:_MAX],
                                                       "answer": sample.response[:_MAX],
                                                       "contexts": _contexts(sample)}))
        flags = _flags(answer, "relevant", lambda v: v)
        if len(flags) != len(sample.contexts):
            return self.fallback.evaluate(sample)
        return Verdict(self.name, JUDGE, score=average_precision(flags))


class JudgedRefusal(_Judged):
    name = "refusal"

    def __init__(self, judge: Judge) -> None:
        super().__init__(judge, Refusal())

    def evaluate(self, sample: Sample) -> Verdict:
        if provider_signal(sample.provider_response):
            return self.fallback.evaluate(sample)
        answer = self.judge.ask(_REFUSED, sample.response[:_MAX])
        refused = answer.get("refused") if answer else None
        if not isinstance(refused, bool):
            return self.fallback.evaluate(sample)
        return Verdict(self.name, JUDGE, flag=refused)


def _flags(answer: dict[str, Any] | None, key: str, read: Any) -> list[bool]:
    """The booleans under ``answer[key]``; empty when any is missing or not a boolean (a garbage answer)."""
    items = answer.get(key) if answer else None
    if not isinstance(items, list):
        return []
    flags = [read(item) for item in items]
    return flags if flags and all(isinstance(f, bool) for f in flags) else []
