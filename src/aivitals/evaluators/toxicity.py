"""Toxicity (vital #18): alt-profanity-check's probability, when the optional extra is installed.

alt-profanity-check ships its small linear model inside the wheel (nothing is
downloaded) but pins scikit-learn exactly, so it is the ``toxicity`` extra, not a
core dependency. It is imported on first use; without it the score is None with
the reason "toxicity extra not installed".

Score: ``score`` = ``profanity_check.predict_prob([text])[0]`` in 0..1, recorded
into a histogram whose buckets reach the tail (the p99 is the vital).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from .base import MODEL, Sample, Verdict

MISSING = "toxicity extra not installed"
_MAX_CHARS = 20_000


def _load() -> Callable[[list[str]], Any] | None:
    try:
        module = importlib.import_module("profanity_check")
    except Exception:  # ImportError, or a scikit-learn it cannot unpickle against
        return None
    return getattr(module, "predict_prob", None)


class Toxicity:
    """The toxicity score, or None when the extra is absent."""

    name = "toxicity"

    def __init__(self, predict: Callable[[list[str]], Any] | None = None) -> None:
        self._predict = predict
        self._loaded = predict is not None

    @property
    def available(self) -> bool:
        if not self._loaded:
            self._predict, self._loaded = _load(), True
        return self._predict is not None

    def evaluate(self, sample: Sample) -> Verdict:
        if not self.available or self._predict is None:
            return Verdict(self.name, MODEL, reason=MISSING)
        if not sample.response.strip():
            return Verdict(self.name, MODEL, reason="empty response")
        score = float(self._predict([sample.response[:_MAX_CHARS]])[0])
        if not 0.0 <= score <= 1.0:
            return Verdict(self.name, MODEL, reason="score out of range")
        return Verdict(self.name, MODEL, score=score)
