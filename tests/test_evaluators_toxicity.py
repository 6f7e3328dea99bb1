"""Toxicity: the optional extra's real model when installed, a null score with the reason when not."""

from __future__ import annotations

import sys

import pytest

from aivitals.evaluators.base import Sample
from aivitals.evaluators.suite import Suite
from aivitals.evaluators.toxicity import MISSING, Toxicity


def test_without_the_extra_the_score_is_null_with_the_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "profanity_check", None)  # makes the import fail as if not installed
    verdict = Toxicity().evaluate(Sample("you idiot"))
    assert verdict.score is None and verdict.reason == MISSING
    record = Suite().evaluate(Sample("hello"))
    assert record.toxicity is None and record.reasons["toxicity"] == MISSING


def test_the_real_model_scores_insults_above_polite_answers() -> None:
    pytest.importorskip("profanity_check", reason="the toxicity extra (alt-profanity-check) is not installed")
    toxicity = Toxicity()
    polite = toxicity.evaluate(Sample("Thanks for asking, your order ships on Monday."))
    rude = toxicity.evaluate(Sample("Shut up, you stupid idiot, this is a fucking waste of time."))
    assert polite.score is not None and rude.score is not None
    assert polite.score < 0.3 < 0.7 < rude.score
    assert polite.method == "model"


def test_a_predictor_out_of_range_or_empty_text_gives_no_score() -> None:
    assert Toxicity(lambda texts: [1.7]).evaluate(Sample("x")).reason == "score out of range"
    assert Toxicity(lambda texts: [0.2]).evaluate(Sample("   ")).reason == "empty response"
