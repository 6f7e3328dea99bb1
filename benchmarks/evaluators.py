"""Cost of each evaluator per response, short (35 words) and long (250 words, 9 contexts), and the PII part
against presidio-analyzer's regex-only engine (no_op NLP engine) on the same texts, in the same run.

Targets (issue 13): all default evaluators together under 2 ms for the long answer; the PII and secrets part
at least 5x faster than presidio's regex-only engine, with recall at least as high on the labelled cases of
tests/test_evaluators_pii.py; the decorator's own cost rising by at most 100 ns a call with evaluation on at
a 5% sample, against the same decorator with it off, measured in the same run. presidio-analyzer is
optional: without it the JSON says so. Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aivitals.evaluators.base import Context, Sample
from aivitals.evaluators.citations import Citations
from aivitals.evaluators.context import ContextPrecision, ContextRecall
from aivitals.evaluators.groundedness import Groundedness
from aivitals.evaluators.pii_secrets import PII_KINDS, PiiSecrets, leaked_kinds
from aivitals.evaluators.refusal import Refusal
from aivitals.evaluators.suite import Suite
from aivitals.evaluators.toxicity import Toxicity

ROOT = Path(__file__).resolve().parents[1]
PRESIDIO_KINDS = {"EMAIL_ADDRESS": "email", "PHONE_NUMBER": "phone_number", "CREDIT_CARD": "credit_card",
                  "IBAN_CODE": "iban", "US_SSN": "us_ssn", "IP_ADDRESS": "ip_address"}

_FACTS = [
    "Refunds are available within two years of purchase for all laptops and tablets.",
    "Standard shipping to Canada takes 7 business days and costs $12.50 per order.",
    "Support is open Monday to Friday from 9am to 6pm Eastern, and tickets are answered within 24 hours.",
    "Acme Robotics was founded in 2011 by Maria Lopez in Denver and employs 340 people.",
    "Express shipping takes 2 days and is free for orders over $200 within the United States.",
    "Gift cards cannot be refunded, but they can be exchanged at any store within 90 days.",
    "The warranty covers manufacturing defects for 36 months from the delivery date.",
    "Premium customers can call the hotline on weekends and get a replacement part within 48 hours.",
    "Returns must include the original receipt and the serial number printed on the box.",
]


def texts() -> tuple[Sample, Sample]:
    """A 35-word answer with 2 contexts, and a 250-word answer with 9 contexts."""
    contexts = tuple(Context(f"doc-{i + 1}", f"{fact} {fact.lower()}") for i, fact in enumerate(_FACTS))
    short = Sample("You can get a refund within two years of purchase for laptops and tablets [doc-1]. Standard "
                   "shipping to Canada takes 7 business days and costs $12.50 per order [doc-2]. Write to "
                   "help@acme.io.", "How long do refunds take and what does shipping cost?", contexts[:2])
    sentences = [f"{fact[:-1]} [doc-{i % 9 + 1}]." for i, fact in enumerate(_FACTS * 3)]
    body = " ".join(sentences)
    words = body.split()
    long = Sample(" ".join(words[:245]) + " Contact dana@acme.io or +1 415 555 0134.",
                  "Tell me everything about refunds, shipping, support and the warranty.", contexts)
    return short, long


def per_call(fn: Callable[[], object], seconds: float) -> float:
    """Fastest mean seconds per call over 5 rounds of about ``seconds`` each."""
    loops = 1
    while True:
        start = time.perf_counter()
        for _ in range(loops):
            fn()
        if time.perf_counter() - start >= seconds / 5 or loops >= 1 << 20:
            break
        loops *= 2
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(loops):
            fn()
        best = min(best, (time.perf_counter() - start) / loops)
    return best


def presidio_engine() -> Any:
    """presidio-analyzer with only its regex recognizers and the no_op NLP engine; None when not installed."""
    try:
        from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
        from presidio_analyzer.nlp_engine import NoOpNlpEngine
    except ImportError:
        return None
    registry = RecognizerRegistry()
    registry.load_predefined_recognizers()
    registry.remove_recognizer("SpacyRecognizer")
    engine = AnalyzerEngine(registry=registry, supported_languages=["en"],
                            nlp_engine=NoOpNlpEngine(models=[{"lang_code": "en", "model_name": "no_op"}]))
    engine.analyze("warm up a@b.co", language="en")
    return engine


def labelled_pii() -> list[tuple[str, set[str]]]:
    """The PII-kind leaks of the labelled test cases (presidio has no secrets), where the user wrote nothing."""
    sys.path.insert(0, str(ROOT / "tests"))
    from test_evaluators_pii import LEAKS

    return [(text, kinds & set(PII_KINDS)) for text, user, kinds in LEAKS if not user and kinds & set(PII_KINDS)]


def recall(find: Callable[[str], set[str]], cases: list[tuple[str, set[str]]]) -> float:
    return sum(bool(find(text) & kinds) for text, kinds in cases) / len(cases)


def decorator_overhead(seconds: float) -> dict[str, float]:
    """ns per decorated call with evaluation off, and on at a 5% sample (the worker's evaluators emptied, so
    the figure is the calling thread's cost: the draw and, on the sampled share, one queue append)."""
    from aivitals import Tracker
    from aivitals.evaluators.worker import EvaluateConfig

    def answer() -> str:
        return "Express shipping takes 2 days."

    off = Tracker(None, service="bench").track(model="m")(answer)
    on_tracker = Tracker(None, service="bench", evaluate=EvaluateConfig(sample_rate=0.05, suite=Suite([])))
    on = on_tracker.track(model="m")(answer)
    figures = {"bare_ns": per_call(answer, seconds) * 1e9, "off_ns": per_call(off, seconds) * 1e9,
               "on_5pct_ns": per_call(on, seconds) * 1e9}
    figures["added_by_evaluation_ns"] = figures["on_5pct_ns"] - figures["off_ns"]
    return {k: round(v, 1) for k, v in figures.items()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=0.5, help="timing budget per figure")
    args = parser.parse_args(argv)
    short, long = texts()
    toxicity = Toxicity()
    evaluators: list[Any] = [PiiSecrets(), Refusal(), Citations(), Groundedness(), ContextPrecision(),
                             ContextRecall()]
    results: dict[str, Any] = {"words": {"short": len(short.response.split()), "long": len(long.response.split())},
                               "contexts": {"short": len(short.contexts), "long": len(long.contexts)}}
    for label, sample in (("short", short), ("long", long)):
        figures = {e.name: per_call(lambda e=e, s=sample: e.evaluate(s), args.seconds) * 1e6 for e in evaluators}
        defaults = Suite([*evaluators])
        figures["all_default_us"] = per_call(lambda s=sample, d=defaults: d.evaluate(s), args.seconds) * 1e6
        if toxicity.available:
            figures["toxicity"] = per_call(lambda s=sample: toxicity.evaluate(s), args.seconds) * 1e6
            with_tox = Suite([*evaluators, toxicity])
            figures["all_with_toxicity_us"] = per_call(lambda s=sample, w=with_tox: w.evaluate(s), args.seconds) * 1e6
        results[label] = {k: round(v, 2) for k, v in figures.items()}
    results["toxicity"] = "measured" if toxicity.available else "toxicity extra not installed"
    results["all_default_long_under_2ms"] = results["long"]["all_default_us"] < 2000

    cases = labelled_pii()
    ours = recall(lambda t: set(leaked_kinds(t)), cases)
    pii = {"ours_us": {label: round(per_call(lambda s=s: leaked_kinds(s.response), args.seconds) * 1e6, 2)
                       for label, s in (("short", short), ("long", long))},
           "ours_recall": round(ours, 4), "cases": len(cases)}
    engine = presidio_engine()
    if engine is None:
        pii["presidio"] = "presidio-analyzer not installed: no baseline measured in this run"
    else:
        def theirs(text: str) -> set[str]:
            return {PRESIDIO_KINDS[r.entity_type] for r in engine.analyze(text, language="en")
                    if r.entity_type in PRESIDIO_KINDS}

        pii["presidio_us"] = {label: round(per_call(lambda s=s: engine.analyze(s.response, language="en"),
                                                    args.seconds) * 1e6, 2)
                              for label, s in (("short", short), ("long", long))}
        pii["presidio_recall"] = round(recall(theirs, cases), 4)
        pii["speedup"] = {label: round(pii["presidio_us"][label] / pii["ours_us"][label], 1)
                          for label in ("short", "long")}
        pii["speedup_at_least_5x"] = min(pii["speedup"].values()) >= 5
        pii["recall_at_least_presidio"] = ours >= pii["presidio_recall"]
    results["pii"] = pii
    results["decorator"] = decorator_overhead(args.seconds)
    results["decorator"]["under_100ns_added"] = results["decorator"]["added_by_evaluation_ns"] <= 100
    for label in ("short", "long"):
        print(f"{label}: " + ", ".join(f"{k} {v:.1f} us" for k, v in results[label].items()))
    print(json.dumps({"benchmark": "evaluators", "results": results}, sort_keys=True))


if __name__ == "__main__":
    main()
