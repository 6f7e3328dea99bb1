"""The sidecar's /docs page works offline: it references no external URL and lists the whole API.

FastAPI's default Swagger page loads its scripts and styles from a CDN, so it is
blank on an air-gapped machine; the same checker flags it, so it can fail.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.testclient import TestClient

from _sidecar import settings
from aivitals.sidecar.app import create_app


class _References(HTMLParser):
    """Every URL the page would load or link to: attributes, CSS url()/@import, and any script."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.scripts += tag == "script"
        for name, value in attrs:
            if name in ("href", "src", "action", "srcset", "poster", "data", "formaction") and value is not None:
                self.urls.append(value)

    def handle_data(self, data: str) -> None:
        self.urls += re.findall(r"url\(\s*['\"]?([^'\")]+)", data) + re.findall(r"@import\s+['\"]([^'\"]+)", data)


def external(page: str) -> list[str]:
    parser = _References()
    parser.feed(page)
    urls = [u for u in parser.urls if re.match(r"^([a-z][a-z0-9+.-]*:|//)", u.strip(), re.I)]
    return urls + ["<script>"] * parser.scripts


@pytest.fixture
def client(tmp_path: Path) -> Iterator[Any]:
    with TestClient(create_app(settings(tmp_path, token="s3cret-token"))) as test_client:
        yield test_client


def test_docs_references_nothing_outside_the_page(client: Any) -> None:
    answer = client.get("/docs")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/html")
    assert external(answer.text) == []


def test_the_checker_flags_fastapis_cdn_page() -> None:
    swagger = get_swagger_ui_html(openapi_url="/openapi.json", title="x").body.decode()
    assert any(u.startswith("https://cdn.jsdelivr.net/") for u in external(swagger))


def test_docs_lists_every_endpoint_and_schema_of_the_openapi_document(client: Any) -> None:
    page = client.get("/docs").text
    doc = client.get("/openapi.json").json()
    for path, operations in doc["paths"].items():
        for method in operations:
            assert f"<code>{method.upper()} {path}</code>" in page, (method, path)
    for name in doc["components"]["schemas"]:
        assert f"<h3 id='{name}'>{name}</h3>" in page, name
    assert 'href="openapi.json"' in page
    assert "(bearer token)" in page  # a token is set: /v1 says so
    anchors = set(re.findall(r"href='#([^']+)'", page))
    assert anchors and anchors <= set(doc["components"]["schemas"]), "every schema link has its target"


def test_the_declared_values_reach_the_page(tmp_path: Path) -> None:
    """The page is this deployment's API: declared KPIs appear as the only values allowed."""
    with TestClient(create_app(settings(tmp_path, kpis=("ticket_deflection",)))) as test_client:
        page = test_client.get("/docs").text
    assert "one of <code>&quot;ticket_deflection&quot;</code>" in page
    assert "<script" not in page.lower()
