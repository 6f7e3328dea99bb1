"""The OpenAPI document (event schemas from the models, declared values from the settings) and its page.

Enumerating the configured KPIs, cohorts, groups and severities makes the
document exact for this deployment, so a client (or schemathesis) generated
from it sends what this sidecar accepts.
"""

from __future__ import annotations

import html
import json
from typing import Any

from pydantic import TypeAdapter

from .events import KINDS, Ack, AlertmanagerNotification, ErrorBody
from .settings import Settings

_REF = "#/components/schemas/{model}"


def model_schemas(settings: Settings) -> dict[str, Any]:
    """Component schemas of every event model, with declared values as enums."""
    schemas: dict[str, Any] = {}
    for model in [m for m, _ in KINDS.values()] + [AlertmanagerNotification, Ack, ErrorBody]:
        schema = TypeAdapter(model).json_schema(ref_template=_REF)  # type: ignore[arg-type]
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
    _enum(schemas["Exposure"], "kpi", settings.kpis)
    _enum(schemas["Conversion"], "kpi", settings.kpis)
    _enum(schemas["Outcome"], "outcome_kind", settings.outcome_kinds)
    for name in ("Exposure", "Conversion", "Outcome", "WorkUnit"):
        _enum(schemas[name], "cohort", settings.cohorts)
    _enum(schemas["Incident"], "severity", settings.severities)
    schemas["Prediction"]["properties"]["groups"] = {
        "type": "object",
        "description": "Declared fairness attributes and this prediction's group of each.",
        "properties": {a: {"type": "string", "enum": list(g)} for a, g in settings.fairness.items()},
        "additionalProperties": False,
    }
    schemas["Activity"]["properties"]["user"]["description"] = (
        "An opaque user key; stored only as a keyed hash. An email address is rejected.")
    schemas["AnyEvent"] = {
        "oneOf": [{"allOf": [{"$ref": _REF.format(model=m.__name__)}], "required": ["kind"]}
                  for m, _ in KINDS.values()],
    }
    return schemas


def _enum(schema: dict[str, Any], prop: str, values: tuple[str, ...]) -> None:
    target = schema["properties"][prop]
    target.pop("pattern", None)
    target.pop("const", None)
    target["enum"] = list(values)


def event_body(schema_name: str) -> dict[str, Any]:
    """The requestBody of an event endpoint: one event, an array, or NDJSON lines."""
    ref = {"$ref": _REF.format(model=schema_name)}
    return {
        "required": True,
        "content": {
            "application/json": {"schema": {"oneOf": [ref, {"type": "array", "items": ref}]}},
            "application/x-ndjson": {"schema": {"type": "string",
                                                "description": "One event per line, each a JSON object."}},
        },
    }


def responses(ok: str = "Committed to disk: the events are counted, once.") -> dict[int | str, dict[str, Any]]:
    error = {"application/json": {"schema": {"$ref": _REF.format(model="ErrorBody")}}}
    return {
        200: {"description": ok, "content": {"application/json": {"schema": {"$ref": _REF.format(model="Ack")}}}},
        400: {"description": "Malformed JSON.", "content": error},
        401: {"description": "Missing or wrong bearer token.", "content": error},
        413: {"description": "The body or the batch is over the configured limit.", "content": error},
        415: {"description": "Content-Type is not JSON or NDJSON.", "content": error},
        422: {"description": "An event is invalid; errors name each field path.", "content": error},
        503: {"description": "Not committed (store failure or overload); retry with the same event ids.",
              "content": error},
    }


def docs_page(doc: dict[str, Any]) -> str:
    """The API described as one HTML page with nothing to fetch: it reads on an air-gapped machine.

    FastAPI's Swagger page loads its scripts from a CDN and is blank offline; this lists
    every endpoint and event schema from the same OpenAPI document, in plain HTML.
    """
    e = html.escape
    info = doc.get("info", {})
    parts = [f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{e(info.get('title', ''))}</title>"
             f"<style>{_STYLE}</style></head><body><h1>{e(info.get('title', ''))} {e(info.get('version', ''))}</h1>",
             f"<p>{e(info.get('description', ''))}</p>",
             '<p>The machine-readable document: <a href="openapi.json">openapi.json</a>.</p><h2>Endpoints</h2>']
    for path, operations in doc.get("paths", {}).items():
        for method, op in operations.items():
            bodies = op.get("requestBody", {}).get("content", {})
            body = ", ".join(f"{e(mtype)} ({_schema_names(spec.get('schema', {}))})" for mtype, spec in bodies.items())
            codes = "".join(f"<li><b>{e(str(code))}</b> {e(r.get('description', ''))}</li>"
                            for code, r in op.get("responses", {}).items())
            params = ", ".join(f"<code>{e(str(q.get('name')))}</code>" for q in op.get("parameters", []))
            auth = " (bearer token)" if op.get("security") else ""
            parts.append(f"<h3 id='{e(method + path)}'><code>{e(method.upper())} {e(path)}</code>{auth}</h3>"
                         f"<p>{e(op.get('summary', ''))}</p>" + (f"<p>Body: {body}</p>" if body else "")
                         + (f"<p>Query: {params}</p>" if params else "")
                         + f"<ul>{codes}</ul>")
    parts.append("<h2>Schemas</h2>")
    for name, schema in doc.get("components", {}).get("schemas", {}).items():
        required = set(schema.get("required", []))
        rows = "".join(f"<tr><td><code>{e(prop)}</code>{' *' if prop in required else ''}</td>"
                       f"<td>{_schema_names(spec)}</td><td>{e(str(spec.get('description', '')))}</td></tr>"
                       for prop, spec in schema.get("properties", {}).items())
        parts.append(f"<h3 id='{e(name)}'>{e(name)}</h3><p>{e(str(schema.get('description', '')))}</p>"
                     + (f"<table><tr><th>field (* required)</th><th>type</th><th>meaning</th></tr>{rows}</table>"
                        if rows else f"<p>{_schema_names(schema)}</p>"))
    return "".join(parts) + "</body></html>"


_STYLE = ("body{font:14px/1.5 system-ui,sans-serif;max-width:960px;margin:2em auto;padding:0 1em}"
          "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}"
          "h3{margin-top:1.5em}code{background:#f4f4f4}")


def _schema_names(schema: Any) -> str:
    """A schema in a few words: a type, an enum, or links to the named schemas it refers to."""
    if not isinstance(schema, dict):
        return ""
    if "$ref" in schema:
        name = str(schema["$ref"]).rsplit("/", 1)[-1]
        return f"<a href='#{html.escape(name)}'>{html.escape(name)}</a>"
    if "enum" in schema:
        return "one of " + ", ".join(f"<code>{html.escape(json.dumps(v))}</code>" for v in schema["enum"])
    for key in ("oneOf", "anyOf", "allOf"):
        if key in schema:
            return " | ".join(_schema_names(s) for s in schema[key])
    if schema.get("type") == "array":
        return f"array of {_schema_names(schema.get('items', {}))}"
    return html.escape(str(schema.get("type", schema.get("const", "any"))))
