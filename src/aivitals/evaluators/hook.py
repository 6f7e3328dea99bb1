"""How the SDK hands calls to the evaluation worker: ``Tracker(evaluate=...)``, the decorator and ``call.context``.

Loaded only when evaluation is on, so a Tracker without it pays nothing: the
decorator is not wrapped and ``Call`` gains no state. With it on, a decorated
call adds one random draw and, on the sampled share, one queue append.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .exporter import EvaluatorCollector
from .worker import EvaluateConfig, Worker

#: ``extract(args, kwargs) -> {"question": ..., "contexts": [...], "user_input": ...}``: what the
#: decorated function was asked and given, for the evaluators (keys are optional).
Extract = Callable[[tuple[Any, ...], dict[str, Any]], dict[str, Any]]


def config_of(evaluate: Any) -> EvaluateConfig:
    """``True`` (defaults), a float (the sample rate) or an EvaluateConfig."""
    if isinstance(evaluate, EvaluateConfig):
        return evaluate
    if isinstance(evaluate, bool):
        return EvaluateConfig()
    if isinstance(evaluate, (int, float)) and 0.0 <= float(evaluate) <= 1.0:
        return EvaluateConfig(sample_rate=float(evaluate))
    raise ValueError(f"evaluate= takes True, a sample rate in 0..1 or an EvaluateConfig, got {evaluate!r}")


def start(tracker: Any, evaluate: Any, registry: Any) -> Worker:
    """The tracker's worker; its counts are registered on ``registry`` beside the tracker's series."""
    worker = Worker(tracker, config_of(evaluate))
    labels = tracker.labels

    def fold(model: str | None) -> str:
        return labels.value("model", model) if model is not None else "unknown"

    worker.collector = EvaluatorCollector(worker, tracker.service, fold, tracker.prices)
    if registry is not None:
        registry.register(worker.collector)
    return worker


def _submit(worker: Worker, model: str | None, result: Any, args: tuple[Any, ...], kwargs: dict[str, Any],
            extract: Extract | None) -> None:
    try:
        found = extract(args, kwargs) if extract is not None else {}
        if not isinstance(found, dict):
            found = {}
        if model is None:
            from ..usage import model_of

            model = model_of(result)
        worker.submit(model, result, found.get("question") or "", found.get("contexts"), found.get("user_input"))
    except Exception:
        worker._count(model, "error")


Sample = tuple[Callable[[], float], float, Callable[[Any, tuple[Any, ...], dict[str, Any]], None]]


def sampler(worker: Worker, model: str | None, extract: Extract | None) -> Sample | None:
    """(draw, rate, submit) for a decorated function of ``model``, or None when its rate is 0.

    The decorator draws after recording the call and, when ``draw() < rate``, calls
    ``submit(result, args, kwargs)``, which never raises: the whole cost on the calling
    thread is one draw, and one queue append on the sampled share.
    """
    config = worker.config
    rate = config.per_model.get(model, config.sample_rate) if model is not None else config.sample_rate
    if rate <= 0.0:
        return None

    def submit(result: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        _submit(worker, model, result, args, kwargs, extract)

    return config.rng, rate, submit



def submit_handle(worker: Worker, model: str | None, response: Any, context: tuple[str, Any, str | None] | None
                  ) -> None:
    """A ``with track(...) as call`` block that ended: its response and ``call.context(...)``, if sampled."""
    try:
        if response is None or not worker.sampled(model):
            return
        question, contexts, user_input = context or ("", None, None)
        worker.submit(model, response, question, contexts, user_input)
    except Exception:
        worker._count(model, "error")
