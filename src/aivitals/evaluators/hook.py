"""How the SDK hands calls to the evaluation worker: ``Tracker(evaluate=...)``, the decorator and ``call.context``.

Loaded only when evaluation is on, so a Tracker without it pays nothing: the
decorator is not wrapped and ``Call`` gains no state. With it on, a decorated
call adds one random draw and, on the sampled share, one queue append.
"""

from __future__ import annotations

import functools
import inspect
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

    worker.collector = EvaluatorCollector(worker, tracker.service, fold)
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


def evaluating(wrapper: Callable[..., Any], model: str | None, worker: Worker,
               extract: Extract | None) -> Callable[..., Any]:
    """``wrapper`` (the tracked function) with the sampled share of its results handed to ``worker``.

    Generators are returned as they are: a stream's text is not collected for evaluation.
    """
    if inspect.isgeneratorfunction(wrapper) or inspect.isasyncgenfunction(wrapper):
        return wrapper
    config = worker.config
    rate = config.per_model.get(model, config.sample_rate) if model is not None else config.sample_rate
    draw = config.rng
    if rate <= 0.0:
        return wrapper
    if inspect.iscoroutinefunction(wrapper):
        async def evaluated_async(*args: Any, **kwargs: Any) -> Any:
            result = await wrapper(*args, **kwargs)
            if draw() < rate:
                _submit(worker, model, result, args, kwargs, extract)
            return result

        return functools.wraps(wrapper)(evaluated_async)

    def evaluated(*args: Any, **kwargs: Any) -> Any:
        result = wrapper(*args, **kwargs)
        if draw() < rate:
            _submit(worker, model, result, args, kwargs, extract)
        return result

    return functools.wraps(wrapper)(evaluated)


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
