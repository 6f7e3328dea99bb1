"""The HTTP API: event endpoints under /v1, /metrics, /healthz, /readyz and the OpenAPI document.

A handler reads the body under a size limit, validates the whole batch,
evaluates its evaluation events (their verdicts replace their text), hands it to
the group-commit writer and answers only when the commit is on disk.
"""

from __future__ import annotations

import hmac
import importlib
import json
import logging
import re
import time
import traceback
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request, Response
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector
from starlette.requests import ClientDisconnect

from .._version import __version__
from . import probes
from .apply import Applier
from .body import read_body
from .collector import SidecarCollector
from .derived import DerivedGauges
from .evaluations import Closed, Evaluations
from .events import ALERT_KIND, KINDS, UNKNOWN_KIND, AlertmanagerAlert, Committed, Evaluation, Event
from .keys import hashing_key, id_hasher, user_hasher
from .ledger import Ledger
from .openapi import docs_page, event_body, model_schemas, responses
from .replica import ReplicaCollector, open_store, replica_id
from .settings import NAME_PATTERN, Settings, ThresholdsError
from .store import EventStore, Retention, StoreError
from .validate import Parser, RequestError, check_alerts, media_type, parse_alertmanager
from .writer import Overloaded, Writer

if TYPE_CHECKING:
    from .leader import Lease

log = logging.getLogger("aivitals.sidecar")

def retention_from(settings: Settings) -> Retention:
    """The store's retention bounds from the settings."""
    return Retention(
        settings.prediction_max_count, settings.prediction_max_age_seconds, settings.user_max_count,
        settings.user_max_age_seconds, settings.dedup_max_count, settings.dedup_max_age_seconds,
        settings.incident_max_age_seconds)


def _threshold_collector(path: Path) -> Collector:
    """The thresholds file as aivitals_threshold series; ``aivitals.config`` owns its format and checks."""
    try:
        config = importlib.import_module("aivitals.config")
    except ImportError as exc:
        raise ThresholdsError("--thresholds needs aivitals.config, which this installation lacks") from exc
    try:
        collector: Collector = config.ThresholdCollector(config.load(path))
    except ValueError as exc:  # aivitals.config.ConfigError lists every problem of the file
        raise ThresholdsError(str(exc)) from exc
    return collector


class Sidecar:
    """One running sidecar: its store, the ledger mirroring it, the writer and the registry.

    ``start`` after ``close`` opens the store again, so an app survives a lifespan restart.
    """

    def __init__(self, settings: Settings, store: EventStore | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.clock = clock
        self._given_store = store
        self._thresholds = _threshold_collector(settings.thresholds) if settings.thresholds else None
        self._closed = True
        self.start()

    def start(self) -> None:
        if not self._closed:
            return
        settings, clock = self.settings, self.clock
        self.lease: Lease | None = None
        if settings.store_url is not None:  # before the store: a second replica with this id is refused first
            from .leader import Lease  # lazy: psycopg is the ``postgres`` extra

            self.lease = Lease(settings.store_url, replica_id(settings), settings.leader_poll_seconds)
        try:
            self.store: EventStore = self._given_store or open_store(settings, retention_from(settings))
        except BaseException:
            self._release_lease()
            raise
        self._given_store = None  # a store given by the caller is used once; a restart opens the file again
        self.ledger = Ledger()
        try:
            self.ledger.load(self.store.load_series())
            key = hashing_key(settings, self.store)
        except BaseException:
            self.store.close()
            self._release_lease()
            raise
        self.applier = Applier(self.store, self.ledger, settings, user_hasher(key), id_hasher(key))
        self.writer = Writer(self.store, self.ledger, self.applier, clock)
        self.derived = DerivedGauges(self.store, self.ledger, settings, clock)
        self.registry = CollectorRegistry(auto_describe=False)
        if self.lease is None:
            self.registry.register(SidecarCollector(self.ledger, settings, self.derived))
        else:
            lease = self.lease
            self.registry.register(ReplicaCollector(self.ledger, settings, self.derived, self.store, lease.replica,
                                                    lambda: lease.is_leader))
        self.evaluations = Evaluations(settings.evaluation_queue_size, seen=self.committed_ids)
        ProcessCollector(registry=self.registry)
        if self._thresholds is not None:
            self.registry.register(self._thresholds)
        self.writer.start()
        self._closed = False

    def committed_ids(self, event_ids: Sequence[str]) -> set[str]:
        """Which event ids the store holds as claimed (committed), hashed as the writer claims them."""
        keys = {self.applier.event_key(event_id): event_id for event_id in event_ids}
        return {keys[key] for key in self.store.seen(list(keys))}

    def close(self) -> None:
        """Commit what is queued and close the store."""
        if not self._closed:
            self._closed = True
            self.writer.stop()
            self.evaluations.close()  # what is still being evaluated was not acknowledged: its commit gets a 503
            self.derived.close()
            self.store.close()
            self._release_lease()

    def _release_lease(self) -> None:
        if self.lease is not None:
            self.lease.close()
            self.lease = None


def _error(status: int, detail: str, errors: Sequence[tuple[list[str | int], str]] = (),
           headers: dict[str, str] | None = None) -> Response:
    body = {"detail": detail, "errors": [{"loc": loc, "msg": msg} for loc, msg in errors]}
    return Response(json.dumps(body), status, headers=headers, media_type="application/json")


def _log_bug(exc: BaseException) -> None:
    """Log where an unexpected exception came from, never its message: messages can quote the payload."""
    frames = "".join(traceback.format_list(traceback.extract_tb(exc.__traceback__)))
    log.error("request failed on an unexpected %s (a bug; its message is not logged):\n%s", type(exc).__name__,
              frames)


class _Api:
    """The request handling of one sidecar app: auth, the commit, the guard that turns failures into 4xx/503."""

    def __init__(self, app: FastAPI, sidecar: Sidecar, settings: Settings) -> None:
        self.app = app
        self.sidecar = sidecar
        self.settings = settings
        self.token = settings.token.encode("utf-8") if settings.token else None

    def authorized(self, request: Request) -> bool:
        if self.token is None:
            return True
        scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(credentials.strip().encode("utf-8"), self.token)

    async def commit(self, now: float, events: Sequence[Committed] = (),
                     alerts: Sequence[AlertmanagerAlert] = ()) -> Response:
        if not events and not alerts:
            return Response('{"accepted":0,"duplicate":0}', media_type="application/json")
        try:
            result = await self.sidecar.writer.commit(now, events, alerts)
        except Overloaded as exc:
            return _error(503, f"not committed, retry: {exc}", headers={"Retry-After": "1"})
        except StoreError as exc:
            return _error(503, f"not committed, retry with the same event ids: {exc}", headers={"Retry-After": "1"})
        return Response(f'{{"accepted":{result.accepted},"duplicate":{result.duplicate}}}',
                        media_type="application/json")

    async def accept(self, now: float, events: Sequence[Event]) -> Response:
        """Commit the events; evaluation events among them are evaluated first, off the event loop, and
        committed as their verdicts in the same transaction, so the request is all or nothing."""
        evaluations = [e for e in events if isinstance(e, Evaluation)]
        if not evaluations:
            return await self.commit(now, events)
        size = self.settings.evaluation_queue_size
        if len(evaluations) > size:
            raise RequestError(413, f"body: {len(evaluations)} evaluation events, at most {size} a request "
                                    "(evaluation_queue_size)", kind="evaluation", count=len(events))
        pool = self.sidecar.evaluations
        if not pool.reserve(len(evaluations)):
            return _error(503, f"not evaluated, retry: the evaluators have room for {pool.room} more events now",
                          headers={"Retry-After": "1"})
        try:
            verdicts = iter(await pool.verdicts(evaluations))
        except Closed as exc:
            return _error(503, f"not committed, retry: {exc}", headers={"Retry-After": "1"})
        return await self.commit(now, [next(verdicts) if isinstance(e, Evaluation) else e for e in events])

    async def guarded(self, request: Request, kind: str, handle: Callable[[bytes, float], Any]) -> Response:
        if not self.authorized(request):
            return _error(401, "missing or wrong bearer token", headers={"WWW-Authenticate": "Bearer"})
        try:
            body = await read_body(request, self.settings.max_body_bytes)
            return await handle(body, self.sidecar.clock())
        except RequestError as exc:
            self.sidecar.writer.reject(kind if exc.kind == UNKNOWN_KIND else exc.kind, exc.count)
            return _error(exc.status, exc.detail, exc.errors)
        except ClientDisconnect:
            return _error(400, "the client went away before sending the whole body")
        except Exception as exc:  # a bug: answered and logged here, so the server's log never quotes the body
            _log_bug(exc)
            return _error(500, f"internal error ({type(exc).__name__}); nothing of this request was kept")

    # --- routes ---------------------------------------------------------------------------------
    def add_event_route(self, path: str, kind: str | None, schema: str, summary: str) -> None:
        parser = Parser(self.settings, kind)

        async def endpoint(request: Request) -> Response:
            async def handle(body: bytes, now: float) -> Response:
                events = parser.parse(body, request.headers.get("content-type"), now)
                return await self.accept(now, events)

            return await self.guarded(request, kind or UNKNOWN_KIND, handle)

        endpoint.__name__ = f"post_{schema.lower()}"
        self.app.add_api_route(path, endpoint, methods=["POST"], summary=summary, response_model=None,
                               openapi_extra={"requestBody": event_body(schema)}, responses=responses(),
                               tags=["events"])

    def add_alertmanager_route(self) -> None:
        async def alertmanager(request: Request) -> Response:
            async def handle(body: bytes, now: float) -> Response:
                mtype = media_type(request.headers.get("content-type"))
                if mtype != "application/json":
                    raise RequestError(415, f"Content-Type {mtype!r} is not accepted; Alertmanager sends "
                                            "application/json", kind=ALERT_KIND)
                notification = parse_alertmanager(body)
                check_alerts(notification, now, self.settings)
                return await self.commit(now, alerts=notification.alerts)

            return await self.guarded(request, ALERT_KIND, handle)

        self.app.add_api_route(
            "/v1/alertmanager", alertmanager, methods=["POST"], response_model=None, tags=["events"],
            summary="Alertmanager webhook receiver: firing alerts open incidents, resolved ones resolve them.",
            openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/AlertmanagerNotification"}}}}},
            responses=responses("Committed: one incident per alert fingerprint, opened or resolved."))

    def add_probe_results_route(self) -> None:
        error_body = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
        keys = ("suite", "suite_version", "model")

        def probe_results(request: Request) -> Response:
            if not self.authorized(request):
                return _error(401, "missing or wrong bearer token", headers={"WWW-Authenticate": "Bearer"})
            given = {key: request.query_params.get(key, "") for key in keys}
            wrong: list[tuple[list[str | int], str]] = [
                (["query", key], "is required: a name (letters, digits and _.:/+-, at most 64)")
                for key, value in given.items() if not re.fullmatch(NAME_PATTERN, value)]
            if wrong:
                return _error(422, "invalid query parameters", wrong)
            try:
                runs = probes.latest(self.sidecar.store.read_meta, given["suite"], given["suite_version"],
                                     given["model"])
            except StoreError as exc:
                return _error(503, f"the store cannot be read now: {exc}", headers={"Retry-After": "1"})
            return Response(json.dumps({**given, "runs": [run.as_json() for run in runs]}),
                            media_type="application/json")

        self.app.add_api_route(
            "/v1/probe-results", probe_results, methods=["GET"], tags=["events"], response_model=None,
            summary="The kept probe runs of a suite version and model: the current release first, then the "
                    "previous (aivitals probe reads its baseline here).",
            openapi_extra={"parameters": [{"name": key, "in": "query", "required": True,
                                           "schema": {"type": "string", "pattern": NAME_PATTERN}} for key in keys]},
            responses={200: {"content": {"application/json": {"schema": {"type": "object"}}}},
                       401: {"description": "Missing or wrong bearer token.", "content": error_body},
                       422: {"description": "A parameter is missing or not a valid name.", "content": error_body},
                       503: {"description": "The store cannot be read now.", "content": error_body}})

    def add_operations_routes(self) -> None:
        app, sidecar = self.app, self.sidecar

        @app.get("/metrics", tags=["operations"], summary="Prometheus exposition of every sidecar series.",
                 response_class=Response,
                 responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}})
        def metrics() -> Response:
            return Response(generate_latest(sidecar.registry), media_type=CONTENT_TYPE_LATEST)

        @app.get("/healthz", tags=["operations"], summary="Liveness: the process answers.",
                 responses={200: {"content": {"application/json": {"schema": {"type": "object"}}}}})
        def healthz() -> dict[str, str]:
            return {"status": "ok"}

        @app.get("/readyz", tags=["operations"], summary="Readiness: the writer runs and the store commits.",
                 response_model=None, responses={
                     200: {"content": {"application/json": {"schema": {"type": "object"}}}},
                     503: {"description": "Not ready.",
                           "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}}})
        def readyz() -> Response:
            if sidecar.writer.ready:
                return Response('{"status":"ready"}', media_type="application/json")
            return _error(503, "not ready: the store is unavailable or the sidecar is shutting down")

        @app.get("/docs", include_in_schema=False)
        def docs() -> HTMLResponse:  # not FastAPI's Swagger page: that one loads its scripts from a CDN
            return HTMLResponse(docs_page(app.openapi()))

    def openapi(self) -> dict[str, Any]:
        app = self.app
        if app.openapi_schema is None:
            doc = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            components = doc.setdefault("components", {})
            components.setdefault("schemas", {}).update(model_schemas(self.settings))
            if self.token is not None:
                components["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer"}}
                for path, ops in doc["paths"].items():
                    if path.startswith("/v1/"):
                        for op in ops.values():
                            op["security"] = [{"bearer": []}]
            app.openapi_schema = doc
        return app.openapi_schema


def create_app(settings: Settings, *, store: EventStore | None = None,
               clock: Callable[[], float] = time.time) -> FastAPI:
    """The sidecar as an ASGI app; the store opens now and closes at shutdown."""
    sidecar = Sidecar(settings, store, clock)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        sidecar.start()
        yield
        sidecar.close()

    app = FastAPI(title="aivitals sidecar", version=__version__, lifespan=lifespan, redoc_url=None, docs_url=None,
                  description="A durable event API for the vitals an application cannot see at call time: "
                              "delayed labels, business outcomes, users, human feedback, incidents and model "
                              "lifecycle. A 2xx means the events are on disk and counted exactly once.")
    app.state.sidecar = sidecar
    api = _Api(app, sidecar, settings)
    for kind, (model, path) in KINDS.items():
        api.add_event_route(f"/v1/{path}", kind, model.__name__, (model.__doc__ or kind).strip().split("\n")[0])
    api.add_event_route("/v1/events", None, "AnyEvent", "Events of any kind, each with its kind.")
    api.add_alertmanager_route()
    api.add_probe_results_route()
    api.add_operations_routes()
    app.openapi = api.openapi  # type: ignore[method-assign]
    return app
