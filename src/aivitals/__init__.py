"""aivitals: the vitals of AI systems in production, as Prometheus metrics.

The convenience layer: ``aivitals.track`` and friends record into a default
Tracker registered on prometheus_client's global registry, created on first
use. Build your own ``Tracker(registry=...)`` to keep it out of the global one.
"""

from __future__ import annotations

from typing import Any

from ._version import __version__
from .call import Call
from .default import configure, default_tracker
from .exposition import generate_latest, make_asgi_app, make_wsgi_app, start_http_server
from .pricing import PriceTable, PriceTableError
from .track import Track
from .tracker import Tracker
from .usage import Usage

__all__ = [
    "Call",
    "PriceTable",
    "PriceTableError",
    "Track",
    "Tracker",
    "Usage",
    "__version__",
    "configure",
    "default_tracker",
    "generate_latest",
    "instrument",
    "make_asgi_app",
    "make_wsgi_app",
    "record_cache",
    "record_evaluation",
    "record_outcome",
    "record_override",
    "record_pii",
    "record_quality",
    "register_collectors",
    "start_http_server",
    "track",
    "uninstrument",
]


def track(model: str | None = None, operation: str = "chat", provider: str | None = None, **kwargs: Any) -> Track:
    """Record a model call: ``@aivitals.track(model="gpt-4o-mini")`` or ``with aivitals.track(...) as call:``."""
    return default_tracker().track(model, operation, provider, **kwargs)


def instrument(target: Any = None) -> list[str]:
    """Measure the installed OpenAI, Anthropic and LiteLLM clients (or one client object) without a decorator."""
    return default_tracker().instrument(target)


def uninstrument() -> None:
    """Restore every method ``instrument`` patched, as the original objects."""
    from .instrument import uninstrument as restore

    restore()


def record_cache(cache: str, hit: bool, *, model: str | None = None) -> None:
    default_tracker().record_cache(cache, hit, model=model)


def record_quality(evaluator: str, score: float, *, model: str | None = None) -> None:
    default_tracker().record_quality(evaluator, score, model=model)


def record_evaluation(evaluator: str, passed: bool, *, model: str | None = None) -> None:
    default_tracker().record_evaluation(evaluator, passed, model=model)


def record_override(action: str, *, model: str | None = None) -> None:
    default_tracker().record_override(action, model=model)


def record_outcome(kind: str, *, value_usd: float = 0.0, cohort: str = "treatment") -> None:
    default_tracker().record_outcome(kind, value_usd=value_usd, cohort=cohort)


def register_collectors(registry: Any = None, gpu: bool = True, host: bool = True) -> list[Any]:
    """Register the NVML GPU and psutil host collectors (default: prometheus_client's global registry)."""
    import prometheus_client

    from .collectors import register_collectors as register

    return register(registry if registry is not None else prometheus_client.REGISTRY, gpu=gpu, host=host)


def record_pii(kind: str, *, model: str | None = None) -> None:
    default_tracker().record_pii(kind, model=model)
