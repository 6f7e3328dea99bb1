"""What a manager should ask when a vital moved: the monthly business review prints these.

After the second seed article: a leader asks why a metric was chosen, what
moved it, and whether spend still follows impact. Kept apart from
``vitals.py`` so the vitals stay readable; attached to each vital as its
``questions`` when the catalogue loads, and checked there (each vital that a
tile or a review figure shows has at least one).
"""

from __future__ import annotations

QUESTIONS: dict[str, tuple[str, ...]] = {
    "accuracy": (
        "Is accuracy still the metric that matters here, or should precision or recall be the north star?",
        "Did the class balance change, so that accuracy looks better than the model is?",
        "Which classes and which groups carry the errors?",
    ),
    "calibration_error": ("Can the business still act on the model's stated confidence?",),
    "distribution_shift": (
        "Which inputs moved, and do we know why (a new market, a product change, an upstream bug)?",
        "Is a retraining scheduled, and how will we know the new model is better before we ship it?",
    ),
    "prediction_drift": ("What changed upstream that moved the model's outputs while accuracy looks steady?",),
    "latency_p95": (
        "Where is the time spent: the model, retrieval, or the network around them?",
        "Do we still meet the latency the product promised, and at what cost would we?",
    ),
    "error_rate": (
        "Which errors are ours and which the provider's, and is there a fallback?",
        "Did the error budget for the month run out, and what did we stop shipping because of it?",
    ),
    "throughput_peak": (
        "How close did the peak come to capacity, and when will growth reach it?",
        "What does the next step of capacity cost, and does ROI hold after it?",
    ),
    "cost_per_inference": ("Which prompts, models or features drive the cost per call, and can a cheaper model do?",),
    "cost_per_outcome": (
        "Did the cost per outcome fall as volume grew, or does each outcome cost more than the business case assumed?",
    ),
    "groundedness": ("Are answers still traced to the retrieved sources, and what changed in the corpus?",),
    "hallucination_rate": (
        "Which topics produce unsupported claims, and did a model or prompt change precede the rise?",
        "Who reviews the sampled failures, and what did they change because of them?",
    ),
    "refusal_rate": ("Are refusals protecting users or turning away questions the product should answer?",),
    "kpi_delta": (
        "Is the KPI delta against control significant, and is the KPI still the outcome we bought the model for?",
    ),
    "adoption_rate": (
        "Who is not using it, and what do they do instead?",
        "Did adoption move after a release, a training session or a workflow change?",
    ),
    "override_rate": (
        "When people override the model, who was right: how many overrides were later reversed?",
        "Does the override rate point to a goal or a metric that no longer fits the work?",
    ),
    "nps": ("What do detractors say, and does it match what the quality figures show?",),
    "roi": (
        "If costs rose while value stayed flat, should we pivot, simplify or stop?",
        "Which lever moves ROI most: model size, hosting tier, retraining cadence or adoption?",
    ),
    "fixed_costs": (
        "Which bucket grew fastest, compute, storage or maintenance, and is it growing faster than impact?",
        "Are there idle endpoints, test instances or unused storage still billed?",
    ),
    "time_to_detect": ("Did we learn of incidents from our alerts or from our users?",),
    "time_to_resolve": ("Could we roll back first and debug after, and what slowed the slowest resolution?",),
    "retraining_gap": (
        "Is there ground truth the model has not been trained on yet, and what keeps the retraining from running?",
    ),
}
