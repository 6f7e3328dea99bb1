"""Groundedness and hallucination on hand-labelled answers: paraphrases pass, changed facts fail."""

from __future__ import annotations

import pytest
from sklearn.metrics import roc_auc_score

from aivitals.evaluators.base import Context, Sample
from aivitals.evaluators.groundedness import Groundedness, claims
from aivitals.evaluators.suite import Suite

POLICY = (
    Context("refunds", "Refunds are available within two years of purchase for all laptops. Gift cards cannot be "
            "refunded. A refund is issued to the original payment method within 5 business days."),
    Context("shipping", "Standard shipping to Canada takes 7 business days and costs $12.50. Express shipping "
            "takes 2 days. Orders over $200 ship free within the United States."),
    Context("support", "Support is open Monday to Friday, 9am to 6pm Eastern. Premium customers can call the "
            "hotline on weekends. Support tickets are answered within 24 hours."),
    Context("company", "Acme Robotics was founded in 2011 by Maria Lopez in Denver. The company employs 340 "
            "people and reported revenue of $48 million in 2023."),
)

GROUNDED = [
    "Laptops can be refunded within 2 years of purchase.",
    "You have two years after purchasing a laptop to get a refund.",
    "Refunds go back to the original payment method within five business days.",
    "Gift cards are not refundable.",
    "Standard shipping to Canada takes seven business days and costs $12.50.",
    "Express shipping takes two days.",
    "Orders over $200 are shipped free within the United States.",
    "Support is open from Monday to Friday, 9am to 6pm Eastern.",
    "Premium customers can call the hotline on weekends. Tickets are answered within 24 hours.",
    "Acme Robotics was founded by Maria Lopez in 2011 in Denver.",
    "The company employs 340 people.",
    "In 2023 the company reported revenue of $48 million.",
    "Sure! Refunds are available within two years of purchase. Hope this helps!",
    "Good question. Express shipping takes 2 days, and standard shipping to Canada takes 7 business days.",
    "Acme Robotics, founded in 2011, employs 340 people.",
    "Refunded amounts are issued to the original payment method.",
]

UNGROUNDED = [
    "Laptops can be refunded within 3 years of purchase.",                      # changed number
    "Standard shipping to Canada takes 5 business days.",                        # changed number
    "Standard shipping to Canada costs $15.",                                    # changed amount
    "Acme Robotics was founded in 2009 by Maria Lopez.",                         # changed date
    "Acme Robotics was founded by John Smith in Denver.",                        # changed name
    "The company is headquartered in Austin.",                                   # changed place
    "Gift cards can be refunded within 30 days.",                               # invented
    "Support is open every day of the week, including holidays.",                # invented
    "All customers get a free extended warranty and lifetime repairs.",          # invented
    "The company employs 340 people and is listed on the Nasdaq stock exchange.",  # half invented
    "Express shipping takes 2 days. Drones deliver packages in under an hour.",  # one of two claims invented
    "Refunds are processed in cryptocurrency through our blockchain partner.",   # invented
    "Tickets are answered within 48 hours.",                                     # changed number
    "Premium customers receive a dedicated account manager and priority parts shipping.",  # invented
    "Acme Robotics reported revenue of $84 million in 2023.",                    # swapped digits
    "Orders over $100 ship free worldwide.",                                     # changed amount and scope
]


def _score(response: str) -> float:
    verdict = Groundedness().evaluate(Sample(response, "question", POLICY))
    assert verdict.score is not None
    return verdict.score


def test_grounded_answers_rank_above_ungrounded_ones_with_auroc_at_least_085() -> None:
    truth = [1] * len(GROUNDED) + [0] * len(UNGROUNDED)
    scores = [_score(r) for r in GROUNDED + UNGROUNDED]
    assert roc_auc_score(truth, scores) >= 0.85


@pytest.mark.parametrize("response", GROUNDED)
def test_paraphrases_and_inflections_are_not_hallucinations(response: str) -> None:
    verdict = Groundedness().evaluate(Sample(response, "q", POLICY))
    assert verdict.flag is False, verdict


@pytest.mark.parametrize("response", UNGROUNDED)
def test_changed_facts_and_inventions_are_hallucinations(response: str) -> None:
    verdict = Groundedness().evaluate(Sample(response, "q", POLICY))
    assert verdict.flag is True, verdict


def test_groundedness_is_the_share_of_supported_claims() -> None:
    verdict = Groundedness().evaluate(Sample(
        "Express shipping takes 2 days. Gift cards cannot be refunded. Drones deliver packages in an hour.",
        "q", POLICY))
    assert verdict.score == pytest.approx(2 / 3)


def test_pleasantries_and_questions_are_not_claims() -> None:
    assert claims("Sorry to hear that! Hope this helps! Anything else I can do? Express shipping takes 2 days.") \
        == ["Express shipping takes 2 days."]


def test_citation_markers_are_neither_numbers_nor_claims() -> None:
    verdict = Groundedness().evaluate(Sample("Express shipping takes 2 days [3].", "q", POLICY))
    assert verdict.flag is False


def test_without_contexts_or_claims_there_is_no_score_and_a_reason() -> None:
    assert Groundedness().evaluate(Sample("Express shipping takes 2 days.")).reason == "no contexts"
    no_claims = Groundedness().evaluate(Sample("Thanks!", "q", POLICY))
    assert no_claims.score is None and no_claims.reason == "no claims"


def test_a_refusal_is_not_scored_for_groundedness() -> None:
    record = Suite().evaluate(Sample("I'm sorry, but I can't help with that.", "q", POLICY))
    assert record.refused is True
    assert record.groundedness is None and record.hallucinated is None
    assert record.reasons["groundedness"] == "refused"
