"""The OpenAPI document: event schemas from the models, declared values from the settings.

Enumerating the configured KPIs, cohorts, groups and severities makes the
document exact for this deployment, so a client (or schemathesis) generated
from it sends what this sidecar accepts.
"""

from __future__ import annotations

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
