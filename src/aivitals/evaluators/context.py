"""Context precision (vital #12) and context recall (vital #13) of the retrieved chunks.

Relevance of chunk k, r_k in {0, 1}: with ``relevant_context_ids`` (a golden set or
a later label) r_k = chunk id in those ids (method ``reference``); otherwise
lexically (method ``lexical``): r_k = 1 when the chunk holds at least
``answer_share`` (0.3) of the answer's content stems or ``question_share`` (0.5)
of the question's.

Context precision, Ragas' average precision over ranks:
``CP = sum_k (precision@k * r_k) / sum_k r_k`` with ``precision@k = sum_{i<=k} r_i / k``;
0 when no chunk is relevant, None without chunks.

Context recall needs a reference and is None without one (reason "no reference"):
``CR = |relevant ids ∩ retrieved ids| / |relevant ids|``.
"""

from __future__ import annotations

from .base import LEXICAL, REFERENCE, Sample, Verdict
from .text import terms

ANSWER_SHARE = 0.3
QUESTION_SHARE = 0.5


def average_precision(relevance: list[bool]) -> float:
    """Ragas' context precision over ranked relevance flags (formula in the module doc)."""
    hits = 0
    total = 0.0
    for k, relevant in enumerate(relevance, start=1):
        if relevant:
            hits += 1
            total += hits / k
    return total / hits if hits else 0.0


def lexical_relevance(sample: Sample) -> list[bool]:
    """Each chunk's relevance to the question and the answer, from shared content stems."""
    question = terms(sample.question).words
    answer = terms(sample.response).words
    flags = []
    for context in sample.contexts:
        words = terms(context.text).words
        by_answer = bool(answer) and len(answer & words) / len(answer) >= ANSWER_SHARE
        by_question = bool(question) and len(question & words) / len(question) >= QUESTION_SHARE
        flags.append(by_answer or by_question)
    return flags


class ContextPrecision:
    name = "context_precision"

    def evaluate(self, sample: Sample) -> Verdict:
        if not sample.contexts:
            return Verdict(self.name, LEXICAL, reason="no contexts")
        if sample.relevant_context_ids is not None:
            relevant = set(sample.relevant_context_ids)
            return Verdict(self.name, REFERENCE,
                           score=average_precision([c.id in relevant for c in sample.contexts]))
        return Verdict(self.name, LEXICAL, score=average_precision(lexical_relevance(sample)))


class ContextRecall:
    name = "context_recall"

    def evaluate(self, sample: Sample) -> Verdict:
        if not sample.relevant_context_ids:
            return Verdict(self.name, REFERENCE, reason="no reference")
        relevant = set(sample.relevant_context_ids)
        retrieved = {c.id for c in sample.contexts}
        return Verdict(self.name, REFERENCE, score=len(relevant & retrieved) / len(relevant))
