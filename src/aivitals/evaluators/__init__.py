"""aivitals' own quality and safety evaluators: offline, deterministic, no model download.

One module per evaluator behind one interface (``base.Evaluator``); ``suite``
runs them all over a sample, ``worker`` runs them off the hot path on sampled
calls, ``judge`` adds an opt-in LLM judge. Every score's formula is written in
its module's docstring.
"""

from __future__ import annotations

from .base import Context, Evaluator, Sample, Verdict
from .suite import Evaluation, Suite, default_evaluators

__all__ = ["Context", "Evaluation", "Evaluator", "Sample", "Suite", "Verdict", "default_evaluators"]
