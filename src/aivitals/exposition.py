"""Serving /metrics: a standalone HTTP server, or ASGI and WSGI apps to mount in your service."""

from __future__ import annotations

from typing import Any

import prometheus_client


def _registry(registry: Any) -> Any:
    if registry is not None:
        return registry
    from . import default_tracker

    default_tracker()  # make sure the default tracker's collector is registered
    return prometheus_client.REGISTRY


def start_http_server(port: int, addr: str = "127.0.0.1", registry: Any = None) -> tuple[Any, Any]:
    """Serve /metrics on ``addr:port`` in a daemon thread; returns (server, thread).

    Binds to loopback by default: expose it deliberately (``addr="0.0.0.0"``) when
    Prometheus scrapes from another host.
    """
    return prometheus_client.start_http_server(port, addr=addr, registry=_registry(registry))


def make_asgi_app(registry: Any = None) -> Any:
    """An ASGI app serving the metrics, e.g. ``app.mount("/metrics", make_asgi_app())`` in FastAPI."""
    return prometheus_client.make_asgi_app(registry=_registry(registry))


def make_wsgi_app(registry: Any = None) -> Any:
    """A WSGI app serving the metrics, e.g. with werkzeug's DispatcherMiddleware in Flask."""
    return prometheus_client.make_wsgi_app(registry=_registry(registry))
