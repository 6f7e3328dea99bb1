"""The demo assistant's answers, built from its simulated retrieved passages, scored by aivitals' own evaluators.

Most answers restate the passages they cite. A few go wrong the ways real ones
do: a changed number, a citation to a passage that was not retrieved, an e-mail
address from the knowledge base, a refusal, no citation at all. The
hallucination tile, the PII panel and the rest come from the evaluators' verdicts
on these texts, not from simulated flags.
"""

from __future__ import annotations

import random
import re
from typing import Any

from ..evaluators.base import Context, Sample
from ..evaluators.suite import Suite, default_evaluators
from ..evaluators.worker import record

PASSAGES = (
    "Refunds are available within 30 days of purchase for unused items.",
    "Standard shipping takes 5 business days and costs $4.99 per order.",
    "Express shipping takes 2 business days and costs $14.99.",
    "Password resets are sent by e-mail and the link expires after 24 hours.",
    "Premium support is available on weekends from 10am to 4pm.",
    "Invoices can be downloaded from the Billing page for the last 12 months.",
    "Accounts are locked after 5 failed login attempts for 15 minutes.",
    "Gift cards cannot be refunded but never expire.",
    "Orders over $50 ship free within the country.",
    "Two-factor authentication can be turned on under Security settings.",
)
QUESTIONS = ("How do refunds and shipping work?", "How do I get back into my account?",
             "What do I pay for delivery?", "Where are my invoices?")
#: How often each fault happens, per answer.
FAULTS = (("changed_number", 0.01), ("dangling_citation", 0.02), ("leaked_email", 0.004), ("refusal", 0.03),
          ("uncited", 0.02))


def simulated(rnd: random.Random) -> Sample:
    """One question, four retrieved passages, and an answer drawn from the first two of them."""
    ids = rnd.sample(range(len(PASSAGES)), 4)
    contexts = tuple(Context(f"kb-{i + 1}", PASSAGES[i]) for i in ids)
    fault = next((name for name, share in FAULTS if rnd.random() < share), None)
    question = rnd.choice(QUESTIONS)
    relevant = tuple(c.id for c in contexts[:2]) + ((f"kb-{rnd.randint(11, 20)}",) if rnd.random() < 0.2 else ())
    if fault == "refusal":
        return Sample("I'm sorry, but the documents don't mention that.", question, contexts,
                      relevant_context_ids=relevant)
    sentences = []
    for index, context in enumerate(contexts[:2]):
        text = context.text
        if fault == "changed_number" and index == 0:
            text = re.sub(r"\d+", lambda m: str(int(m.group()) + 3), text, count=1)
        cited = "kb-99" if fault == "dangling_citation" and index == 1 else context.id
        sentences.append(text if fault == "uncited" else f"{text[:-1]} [{cited}].")
    if fault == "leaked_email":
        sentences.append("For anything else, write to dana.whitfield@acme-support.example.")
    return Sample(" ".join(sentences), question, contexts, relevant_context_ids=relevant)


class AnswerEvaluator:
    """Hands each simulated answer to the tracker's evaluation worker (in process when it has none)."""

    def __init__(self, tracker: Any) -> None:
        self.tracker = tracker
        self.suite = Suite(default_evaluators())

    def evaluate(self, rnd: random.Random, model: str) -> None:
        sample = simulated(rnd)
        worker = self.tracker.evaluator
        if worker is not None:
            worker.submit(model, sample)
        else:
            record(self.tracker, model, self.suite.evaluate(sample))
