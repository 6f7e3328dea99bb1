"""Context precision (Ragas' average precision, checked against scikit-learn) and context recall."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.metrics import average_precision_score

from aivitals.evaluators.base import Context, Sample
from aivitals.evaluators.context import ContextPrecision, ContextRecall, average_precision, lexical_relevance

CHUNKS = (
    Context("a", "Refunds are available within two years of purchase for laptops."),
    Context("b", "Our offices are closed on public holidays."),
    Context("c", "A refund is issued to the original payment method within five business days."),
    Context("d", "The cafeteria serves lunch from noon."),
)


@given(st.lists(st.booleans(), min_size=1, max_size=20).filter(any))
def test_average_precision_matches_scikit_learn_over_ranks(relevance: list[bool]) -> None:
    ranks_as_scores = [len(relevance) - k for k in range(len(relevance))]
    assert average_precision(relevance) == pytest.approx(average_precision_score(relevance, ranks_as_scores))


def test_no_relevant_chunk_is_precision_zero() -> None:
    assert average_precision([False, False]) == 0.0


def test_reference_ids_decide_relevance_when_given() -> None:
    verdict = ContextPrecision().evaluate(Sample("x", "q", CHUNKS, relevant_context_ids=("c", "a")))
    assert verdict.method == "reference"
    assert verdict.score == pytest.approx((1 / 1 + 2 / 3) / 2)


def test_lexical_relevance_reads_question_and_answer() -> None:
    sample = Sample("You can get a refund within two years; it goes to the original payment method.",
                    "How long do I have to ask for a refund on a laptop?", CHUNKS)
    assert lexical_relevance(sample) == [True, False, True, False]
    verdict = ContextPrecision().evaluate(sample)
    assert verdict.method == "lexical" and verdict.score == pytest.approx((1 + 2 / 3) / 2)


def test_recall_needs_a_reference_and_says_so() -> None:
    verdict = ContextRecall().evaluate(Sample("x", "q", CHUNKS))
    assert verdict.score is None and verdict.reason == "no reference"


def test_recall_is_the_share_of_relevant_ids_retrieved() -> None:
    verdict = ContextRecall().evaluate(Sample("x", "q", CHUNKS, relevant_context_ids=("a", "c", "z")))
    assert verdict.score == pytest.approx(2 / 3)


def test_without_chunks_precision_has_no_score() -> None:
    assert ContextPrecision().evaluate(Sample("x", "q")).score is None
