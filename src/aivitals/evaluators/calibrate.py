"""Calibrating the lexical groundedness evaluator against the opt-in LLM judge, on a sample.

For each record with contexts, the lexical evaluator gives a groundedness score
in 0..1 and the judge a verdict (hallucinated or not). Reported:

- ``auroc``: how well the lexical score ranks the judge's grounded answers above its
  hallucinated ones (ROC-AUC of the score against "the judge found it grounded";
  ``aivitals.stats.roc_auc``, equal to scikit-learn's);
- ``threshold``: the lexical score below which an answer is best called hallucinated,
  the cut that maximises Youden's J = TPR - FPR over the observed scores (ties to the
  lower cut);
- ``agreement``: the share of records on which that cut agrees with the judge, next to
  ``default_agreement``, the lexical evaluator's own rule (any unsupported claim).

A judge that gives no verdict on a record leaves it out (counted in ``skipped``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..stats import StatsError, roc_auc
from .base import JUDGE, Sample
from .groundedness import Groundedness
from .judge import Judge
from .judged import JudgedGroundedness


@dataclass(frozen=True)
class Calibration:
    samples: int
    skipped: int
    auroc: float | None
    threshold: float | None
    agreement: float | None
    default_agreement: float | None

    def as_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def best_threshold(scores: list[float], hallucinated: list[bool]) -> float | None:
    """The cut ``t`` maximising TPR - FPR of "score < t means hallucinated" (None without both kinds)."""
    positives = sum(hallucinated)
    negatives = len(hallucinated) - positives
    if not positives or not negatives:
        return None
    best, best_j = None, -2.0
    for cut in [*sorted(set(scores)), 1.0 + 1e-9]:
        tpr = sum(1 for s, h in zip(scores, hallucinated, strict=True) if h and s < cut) / positives
        fpr = sum(1 for s, h in zip(scores, hallucinated, strict=True) if not h and s < cut) / negatives
        if tpr - fpr > best_j:
            best, best_j = cut, tpr - fpr
    return best


def calibrate(samples: list[Sample], judge: Judge) -> Calibration:
    lexical, judged = Groundedness(), JudgedGroundedness(judge)
    scores: list[float] = []
    own: list[bool] = []
    truth: list[bool] = []
    skipped = 0
    for sample in samples:
        if not sample.contexts:
            continue
        mine, theirs = lexical.evaluate(sample), judged.evaluate(sample)
        if theirs.method != JUDGE or theirs.flag is None or mine.score is None:
            skipped += 1  # the judge gave no verdict: its fallback is the lexical evaluator itself
            continue
        scores.append(mine.score)
        own.append(bool(mine.flag))
        truth.append(theirs.flag)
    if not scores:
        return Calibration(0, skipped, None, None, None, None)
    try:
        auroc: float | None = roc_auc([not h for h in truth], scores)
    except StatsError:  # the judge found only one kind: nothing to rank
        auroc = None
    cut = best_threshold(scores, truth)
    agreement = None if cut is None else sum((s < cut) == h for s, h in zip(scores, truth, strict=True)) / len(truth)
    default = sum(o == h for o, h in zip(own, truth, strict=True)) / len(truth)
    return Calibration(len(scores), skipped, auroc, cut, agreement, default)
