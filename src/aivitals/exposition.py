"""Serving /metrics: a fast text writer, a standalone HTTP server, and ASGI and WSGI apps to mount.

``generate_latest(registry)`` writes the Prometheus text format 0.0.4, the same
text prometheus_client's ``generate_latest`` writes for the same registry, but
aivitals' own families (``RenderedFamily``: the tracker's series, the GPU and
host collectors) are written from label text rendered once per series rather
than formatted per sample at every scrape. Any other family on the registry
(your own metrics, ``ProcessCollector``) is formatted by prometheus_client.

The servers and apps honour prometheus_client's ``name[]`` query filter and
gzip the body when the client accepts it. They serve only that text format, never OpenMetrics:
Prometheus asks for OpenMetrics first and falls back to the text format, which
carries the same samples (no exemplars; aivitals records none). Everything
registered on a registry still works through prometheus_client's own
``generate_latest``, ``make_asgi_app`` and registry API, unchanged.
"""

from __future__ import annotations

import gzip
import os
import threading
from collections.abc import Awaitable, Callable, Iterable
from typing import Any
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, make_server

import prometheus_client
from prometheus_client.exposition import ThreadingWSGIServer
from prometheus_client.exposition import generate_latest as _prometheus_generate_latest

from .rendered import RenderedFamily

CONTENT_TYPE_LATEST = "text/plain; version=0.0.4; charset=utf-8"

StartResponse = Callable[[str, list[tuple[str, str]]], Any]


def _registry(registry: Any) -> Any:
    """The registry to serve: the one given, else the global one with the default tracker on it.

    In multiprocess mode (``PROMETHEUS_MULTIPROC_DIR`` set, several workers) the
    global registry holds only this worker's process series: every worker's
    aivitals series are in the mmap files, so a registry reading those is served.
    """
    if registry is not None:
        return registry
    from .default import default_tracker

    default_tracker()  # the default tracker's collector registered, or its multiprocess mirror running
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import CollectorRegistry
        from prometheus_client.multiprocess import MultiProcessCollector

        merged = CollectorRegistry()
        MultiProcessCollector(merged)
        return merged
    return prometheus_client.REGISTRY


class _One:
    """A collector of one family, so prometheus_client formats families that are not aivitals' own."""

    __slots__ = ("metric",)

    def __init__(self, metric: Any) -> None:
        self.metric = metric

    def collect(self) -> list[Any]:
        return [self.metric]


def generate_latest(registry: Any = None) -> bytes:
    """The text format 0.0.4 for every family ``registry.collect()`` yields, UTF-8 encoded.

    ``registry`` defaults to prometheus_client's global registry with the
    default tracker on it. Families are written in the order collected, so the
    text is the one prometheus_client's ``generate_latest`` writes.
    """
    out: list[str] = []
    for metric in _registry(registry).collect():
        if type(metric) is RenderedFamily and metric._samples is None:  # not read or replaced by anyone
            metric.render(out)
        else:
            out.append(_prometheus_generate_latest(_One(metric)).decode("utf-8"))
    return "".join(out).encode("utf-8")


def _gzip_accepted(accept_encoding: str | None) -> bool:
    return any(part.split(";")[0].strip().lower() == "gzip" for part in (accept_encoding or "").split(","))


def _bake(registry: Any, query: str, accept_encoding: str | None,
          disable_compression: bool = False) -> tuple[list[tuple[str, str]], bytes]:
    """The headers and body of one scrape; ``name[]`` in the query restricts it, as in prometheus_client."""
    names = parse_qs(query).get("name[]")
    source = registry.restricted_registry(names) if names else registry
    body = generate_latest(source)
    headers = [("Content-Type", CONTENT_TYPE_LATEST)]
    if not disable_compression and _gzip_accepted(accept_encoding):
        body = gzip.compress(body)
        headers.append(("Content-Encoding", "gzip"))
    return headers, body


def make_wsgi_app(registry: Any = None, disable_compression: bool = False) -> Callable[..., Iterable[bytes]]:
    """A WSGI app serving the metrics, e.g. with werkzeug's DispatcherMiddleware in Flask.

    Answers GET on any path (as prometheus_client does), OPTIONS, and 405 otherwise.
    """
    source = _registry(registry)

    def metrics_app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        if method == "OPTIONS":
            start_response("200 OK", [("Allow", "OPTIONS,GET")])
            return [b""]
        if method != "GET":
            start_response("405 Method Not Allowed", [("Allow", "OPTIONS,GET")])
            return [f"# HTTP 405 Method Not Allowed: {method}; use OPTIONS or GET\n".encode()]
        if environ.get("PATH_INFO") == "/favicon.ico":
            start_response("200 OK", [])
            return [b""]
        headers, body = _bake(source, environ.get("QUERY_STRING", ""), environ.get("HTTP_ACCEPT_ENCODING"),
                              disable_compression)
        start_response("200 OK", headers)
        return [body]

    return metrics_app


class MetricsASGIApp:
    """The ASGI app ``make_asgi_app`` returns.

    A callable object rather than a function, so that Starlette and FastAPI
    route to it as an ASGI app at an exact path: ``app.add_route("/metrics",
    make_asgi_app())`` answers ``/metrics`` itself, where ``app.mount`` answers
    it with a 307 redirect to ``/metrics/``.
    """

    def __init__(self, registry: Any, disable_compression: bool) -> None:
        self._registry = registry
        self._disable_compression = disable_compression

    async def __call__(self, scope: dict[str, Any], receive: Callable[[], Awaitable[dict[str, Any]]],
                       send: Callable[[dict[str, Any]], Awaitable[None]]) -> None:
        if scope.get("type") != "http":
            return
        accept_encoding = ",".join(value.decode("latin-1") for name, value in scope.get("headers", [])
                                   if name.decode("latin-1").lower() == "accept-encoding")
        headers, body = _bake(self._registry, scope.get("query_string", b"").decode("utf-8", "replace"),
                              accept_encoding, self._disable_compression)
        message = await receive()
        if message.get("type") == "http.request":
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(k.lower().encode(), v.encode()) for k, v in headers]})
            await send({"type": "http.response.body", "body": body})


def make_asgi_app(registry: Any = None, disable_compression: bool = False) -> MetricsASGIApp:
    """An ASGI app serving the metrics: ``app.add_route("/metrics", make_asgi_app())`` in FastAPI or Starlette.

    ``app.mount("/metrics", ...)`` works too, at ``/metrics/``. The scrape runs on
    the event loop, as prometheus_client's app does; it is short.
    """
    return MetricsASGIApp(_registry(registry), disable_compression)


class _QuietHandler(WSGIRequestHandler):
    """Logs no request lines: a scrape every 15 s is not news."""

    def log_message(self, format: str, *args: Any) -> None:
        pass


def start_http_server(port: int, addr: str = "127.0.0.1", registry: Any = None) -> tuple[Any, Any]:
    """Serve /metrics on ``addr:port`` in a daemon thread; returns (server, thread).

    Binds to loopback by default: expose it deliberately (``addr="0.0.0.0"``) when
    Prometheus scrapes from another host. Stop it with ``server.shutdown()``.
    """
    server_class: type[ThreadingWSGIServer] = ThreadingWSGIServer
    if ":" in addr:  # an IPv6 address: the server class must use that family
        import socket

        server_class = type("ThreadingWSGIServerV6", (ThreadingWSGIServer,), {"address_family": socket.AF_INET6})
    httpd = make_server(addr, port, make_wsgi_app(registry), server_class, handler_class=_QuietHandler)
    thread = threading.Thread(target=httpd.serve_forever, name="aivitals-metrics", daemon=True)
    thread.start()
    return httpd, thread
