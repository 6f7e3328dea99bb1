"""The vitals: the 30 of the seed article, GPU and host, ROI and the cost buckets.

Each vital says how it is derived (PromQL over the recorded metrics, built
from ``queries``), its default thresholds with the reason for each, where it
is shown (dashboard, row, place in the row, executive tile), what to do first
when it alerts, and the recording rule that computes it once (``record``, at
each of ``windows``). Adding a vital is one entry in the module of its area.
"""

from __future__ import annotations

from dataclasses import replace

from ..questions import QUESTIONS
from ..schema import Vital
from .business import BUSINESS
from .engineering import ENGINEERING
from .human import HUMAN
from .infra import INFRA
from .quality import QUALITY
from .queries import MONTH_SECONDS

#: Each vital carries the questions a manager should ask when it moved (``questions.py``).
VITALS: tuple[Vital, ...] = tuple(replace(v, questions=QUESTIONS.get(v.id, v.questions))
                                  for v in (*ENGINEERING, *QUALITY, *BUSINESS, *HUMAN, *INFRA))

VITALS_BY_ID: dict[str, Vital] = {v.id: v for v in VITALS}

__all__ = ["MONTH_SECONDS", "VITALS", "VITALS_BY_ID"]
