"""Schemathesis against the sidecar's own OpenAPI document: no 5xx, no response that breaks the schema,
and no request that breaks the schema accepted."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from _sidecar import settings
from aivitals.sidecar import create_app

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance, negative_data_rejection]


@schemathesis.serializer("application/x-ndjson")
def _ndjson(ctx: object, value: object) -> bytes:
    """Send generated NDJSON strings as they are; the sidecar validates each line."""
    return value.encode("utf-8", "surrogatepass") if isinstance(value, str) else str(value).encode()


# schemathesis needs the schema when tests are collected, so the app is built at import;
# the fixture below closes its store and removes the directory when the module is done.
_STORE = tempfile.TemporaryDirectory(prefix="aivitals-schemathesis-")
app = create_app(settings(Path(_STORE.name), derived_refresh_seconds=1.0))
schema = schemathesis.openapi.from_asgi("/openapi.json", app)


@pytest.fixture(scope="module", autouse=True)
def _close_store() -> Iterator[None]:
    yield
    app.state.sidecar.close()
    _STORE.cleanup()


@schema.parametrize()
@hypothesis_settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_api_conforms_to_its_own_openapi_document(case: schemathesis.Case) -> None:
    case.call_and_validate(checks=CHECKS)
