"""The background evaluation worker: bounded under a flood, never blocking or raising, recording into a Tracker."""

from __future__ import annotations

import threading

from prometheus_client import CollectorRegistry

from aivitals import Tracker
from aivitals.evaluators.base import LEXICAL, Sample, Verdict
from aivitals.evaluators.exporter import EvaluatorCollector
from aivitals.evaluators.suite import Suite, default_evaluators
from aivitals.evaluators.worker import EvaluateConfig, Worker

CONTEXTS = [{"id": "a", "text": "Express shipping takes 2 days."}]


class Blocking:
    """An evaluator that holds the worker until released: the queue fills behind it."""

    name = "refusal"

    def __init__(self) -> None:
        self.release = threading.Event()

    def evaluate(self, sample: Sample) -> Verdict:
        self.release.wait()  # no timeout: a submit that waited for space would hang the flood thread
        return Verdict(self.name, LEXICAL, flag=False)


class Broken:
    name = "citation"

    def evaluate(self, sample: Sample) -> Verdict:
        raise RuntimeError("bug in an evaluator")


def _tracker() -> tuple[Tracker, CollectorRegistry]:
    registry = CollectorRegistry()
    return Tracker(registry, service="svc"), registry


def test_a_flood_keeps_the_queue_bounded_counts_drops_and_never_blocks() -> None:
    tracker, _ = _tracker()
    blocking = Blocking()
    worker = Worker(tracker, EvaluateConfig(sample_rate=1.0, queue_size=50, suite=Suite([blocking])))
    accepted: list[bool] = []
    flood = threading.Thread(target=lambda: accepted.extend(worker.submit("m", f"answer {i}") for i in range(20_000)))
    flood.start()
    flood.join(60)  # a liveness bound, not a speed one: the worker is held until after this
    assert not flood.is_alive(), "submit waited for the worker"
    assert worker.queued <= 50
    assert 50 <= sum(accepted) <= 51  # the one the worker is holding left the queue
    assert worker.counts[("m", "dropped")] == 20_000 - sum(accepted)
    blocking.release.set()
    assert worker.drain()
    assert worker.counts[("m", "evaluated")] == sum(accepted)


def test_verdicts_are_recorded_with_their_method_and_never_the_text() -> None:
    tracker, registry = _tracker()
    worker = Worker(tracker, EvaluateConfig(sample_rate=1.0))
    worker.submit("m", "Express shipping takes 5 days [a]. Mail ann@x.org.", "how fast?", CONTEXTS)
    worker.submit("m", "I'm sorry, but I can't help with that.", "q", CONTEXTS)
    assert worker.drain()
    tracker.flush()

    def value(name: str, **labels: str) -> float | None:
        return registry.get_sample_value(name, {"service": "svc", "model": "m", **labels})

    assert value("aivitals_pii_detections_total", pii_kind="email", method="lexical") == 1
    assert value("aivitals_evaluations_total", evaluator="hallucination", method="lexical", verdict="fail") == 1
    assert value("aivitals_evaluations_total", evaluator="citation", method="lexical", verdict="pass") == 1
    assert value("aivitals_evaluations_total", evaluator="citation_valid", method="lexical", verdict="pass") == 1
    assert value("aivitals_evaluations_total", evaluator="refusal", method="lexical", verdict="fail") == 1
    assert value("aivitals_evaluations_total", evaluator="refusal", method="lexical", verdict="pass") == 1
    assert value("aivitals_quality_score_count", evaluator="groundedness", method="lexical") == 1
    exposition = "".join(str(s) for f in registry.collect() for s in f.samples)
    assert "ann@x.org" not in exposition and "shipping" not in exposition


def test_a_10_mb_response_is_truncated_counted_and_does_not_stall_the_worker() -> None:
    tracker, _ = _tracker()
    worker = Worker(tracker, EvaluateConfig(sample_rate=1.0))
    worker.submit("m", "Express shipping takes 2 days. " * 350_000, "q", CONTEXTS)
    worker.submit("m", "Express shipping takes 2 days.", "q", CONTEXTS)
    assert worker.drain(timeout=60)
    assert worker.counts[("m", "truncated")] == 1
    assert worker.counts[("m", "evaluated")] == 2


def test_bad_input_is_a_counted_error_never_an_exception() -> None:
    tracker, _ = _tracker()
    worker = Worker(tracker, EvaluateConfig(sample_rate=1.0))
    assert worker.submit("m", bytes(range(256)) * 40, "q", CONTEXTS)      # binary junk: decoded, evaluated
    assert worker.submit("m", "fine", "q", contexts="not a list")        # contexts of the wrong shape
    assert worker.submit("m", None)                                       # no text at all
    assert worker.submit("m", {"choices": [{"message": {"content": "Express shipping takes 2 days."}}]}, "q",
                         CONTEXTS)                                        # a provider response object
    assert worker.submit("m", "", "q", CONTEXTS)                          # empty
    assert worker.drain()
    assert worker.counts[("m", "error")] == 2
    assert worker.counts[("m", "evaluated")] == 3


def test_an_evaluator_that_raises_is_counted_and_the_others_still_record() -> None:
    tracker, registry = _tracker()
    worker = Worker(tracker, EvaluateConfig(sample_rate=1.0, suite=Suite([Broken(), *default_evaluators()])))
    worker.submit("m", "Mail ann@x.org.", "q", CONTEXTS)
    assert worker.drain()
    tracker.flush()
    assert worker.counts[("m", "error")] == 1
    assert registry.get_sample_value("aivitals_pii_detections_total", {
        "service": "svc", "model": "m", "pii_kind": "email", "method": "lexical"}) == 1


def test_sampling_follows_the_models_rate_then_the_default() -> None:
    tracker, _ = _tracker()
    draws = iter([0.01, 0.5, 0.01, 0.5])
    worker = Worker(tracker, EvaluateConfig(sample_rate=0.1, per_model={"all": 1.0, "none": 0.0},
                                            rng=lambda: next(draws)))
    assert worker.sampled("all") and not worker.sampled("none")
    assert [worker.sampled("other") for _ in range(2)] == [True, False]
    assert [worker.sampled(None) for _ in range(2)] == [True, False]


def test_the_collector_exports_counts_under_folded_model_names() -> None:
    tracker, registry = _tracker()
    blocking = Blocking()
    worker = Worker(tracker, EvaluateConfig(sample_rate=1.0, queue_size=1, suite=Suite([blocking])))
    registry.register(EvaluatorCollector(worker, tracker.service, lambda m: tracker.labels.value("model", m)
                                         if m is not None else "unknown"))
    for _ in range(5):
        worker.submit("m", "x")
    blocking.release.set()
    assert worker.drain()
    labels = {"service": "svc", "model": "m"}
    dropped = registry.get_sample_value("aivitals_evaluator_responses_total",
                                        {**labels, "evaluation_status": "dropped"})
    evaluated = registry.get_sample_value("aivitals_evaluator_responses_total",
                                          {**labels, "evaluation_status": "evaluated"})
    assert dropped is not None and evaluated is not None
    assert dropped + evaluated == 5 and dropped >= 3
    assert registry.get_sample_value("aivitals_evaluator_responses_total",
                                     {**labels, "evaluation_status": "truncated"}) == 0


def test_the_judges_spend_is_priced_from_its_tokens_like_any_call() -> None:
    from aivitals.evaluators.judge import Judge
    from aivitals.usage import Usage

    tracker, registry = _tracker()
    judge = Judge("http://127.0.0.1:9/v1", "gpt-4o-mini")
    judge.stats.input_tokens, judge.stats.output_tokens = 12_000, 3_000
    worker = Worker(tracker, EvaluateConfig(sample_rate=1.0, suite=Suite([]), judge=judge))
    registry.register(EvaluatorCollector(worker, tracker.service, lambda m: m or "unknown", tracker.prices))
    expected = sum(tracker.prices.get("gpt-4o-mini").token_cost(Usage(12_000, 3_000)))
    assert expected > 0
    assert registry.get_sample_value("aivitals_judge_cost_usd_total",
                                     {"service": "svc", "model": "gpt-4o-mini"}) == expected
    unpriced = Worker(tracker, EvaluateConfig(sample_rate=1.0, suite=Suite([]),
                                              judge=Judge("http://127.0.0.1:9/v1", "my-local-judge")))
    collected = EvaluatorCollector(unpriced, tracker.service, lambda m: m or "unknown", tracker.prices).collect()
    assert "aivitals_judge_cost_usd" not in {f.name for f in collected}, "an unpriced judge costs no made-up $0"
