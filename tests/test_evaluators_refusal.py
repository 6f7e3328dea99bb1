"""Refusal detection: provider signals first, then text, on hand-labelled answers."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sklearn.metrics import f1_score

from aivitals.evaluators.base import Sample
from aivitals.evaluators.refusal import Refusal, provider_signal, refused_in_text

REFUSALS = [
    "I'm sorry, but I can't help with that request.",
    "I cannot provide instructions for making weapons.",
    "I won't be able to assist with that.",
    "I am unable to share personal information about other customers.",
    "Sorry, I can't do that.",
    "I must decline to answer questions about other patients.",
    "As an AI developed to help with billing, I cannot give legal advice.",
    "That's not something I can help with. Is there anything else?",
    "I'm not able to access your bank account.",
    "The provided documents do not mention a warranty period for this product.",
    "The context doesn't say how long shipping to Peru takes.",
    "I couldn't find any information about the 2019 pricing in the documents.",
    "There is no information about parental leave in the provided sources.",
    "I don't have enough information to answer that.",
    "Unfortunately, the retrieved passages don't contain details about refunds for gift cards.",
    "I'm afraid I can't recommend specific stocks.",
    "I do not know.",
    "I’m sorry, but I can’t assist with creating that content.",
    "I'm not allowed to discuss internal pricing.",
    "These documents never mention the CEO's salary, so I can't answer.",
]

ANSWERS = [
    "Sorry to hear that! You can reset your password from the login page.",
    "I'm sorry for the delay. Your refund was issued on March 3.",
    "Our privacy policy says we keep logs for 30 days.",
    "Under the content policy, images are reviewed within 24 hours.",
    "I can't stress enough how important backups are: run them daily.",
    "You cannot return opened software, but you can exchange it within 14 days.",
    "The documents mention a two-year warranty on all laptops.",
    "Yes, I can help with that. First, open Settings.",
    "I can't wait for the new release either! It ships in May.",
    "Refunds are not available for gift cards, per section 4.",
    "Apologies for the confusion earlier: the fee is $5, not $10.",
    "The API cannot be called without a key; create one under Account.",
    "To decline a meeting, click the invitation and choose Decline.",
    "Here is the summary you asked for. The report covers Q3 sales.",
    "The model was unable to converge, so we lowered the learning rate and it worked.",
    "Users who refuse cookies can still use the site.",
    "Shipping to Canada takes five business days.",
    "Sure! The office is open 9 to 5 on weekdays.",
    "I checked the documents: the deadline is June 30.",
    "I'm not sure it matters, but the form is on page 2 and takes a minute to fill in.",
]


def test_refusal_f1_meets_the_target_on_the_labelled_set() -> None:
    truth = [True] * len(REFUSALS) + [False] * len(ANSWERS)
    predicted = [refused_in_text(text) for text in REFUSALS + ANSWERS]
    assert f1_score(truth, predicted) >= 0.90


@pytest.mark.parametrize("text", REFUSALS)
def test_each_refusal_is_found(text: str) -> None:
    assert refused_in_text(text)


@pytest.mark.parametrize("text", ANSWERS)
def test_answers_that_mention_policy_or_apologise_are_not_refusals(text: str) -> None:
    assert not refused_in_text(text)


def test_a_refusal_later_in_a_long_answer_does_not_count() -> None:
    text = "The deadline is June 30. Forms are on page 2. Of course, I cannot help with that part at the bank."
    assert not refused_in_text(text)


@pytest.mark.parametrize("response", [
    {"choices": [{"message": {"content": None, "refusal": "I can't help"}, "finish_reason": "stop"}]},
    {"choices": [{"message": {"content": ""}, "finish_reason": "content_filter"}]},
    {"choices": [{"delta": {"refusal": "I can't"}, "finish_reason": None}]},
    {"stop_reason": "refusal", "content": []},
    SimpleNamespace(stop_reason="refusal"),
])
def test_provider_signals_win_over_the_text(response: object) -> None:
    verdict = Refusal().evaluate(Sample("Here is a perfectly normal answer.", provider_response=response))
    assert verdict.flag is True and verdict.method == "provider"


def test_without_a_provider_signal_the_text_decides() -> None:
    normal_end = {"choices": [{"message": {"content": "x"}, "finish_reason": "stop"}]}
    assert provider_signal(normal_end) is False
    assert provider_signal("just a string") is None
    verdict = Refusal().evaluate(Sample("I cannot help with that.", provider_response=normal_end))
    assert verdict.flag is True and verdict.method == "lexical"


def test_odd_provider_objects_are_no_signal() -> None:
    class Hostile:
        def __getattr__(self, name: str) -> object:
            raise RuntimeError("boom")

    assert provider_signal(Hostile()) is None
    assert provider_signal({"choices": "not a list"}) is None
