"""Samples from JSON objects (``aivitals evaluate``'s input lines), with errors that say what is wrong.

A line is ``{"id", "question", "response", "contexts": [{"id", "text"}], "user_input"?,
"relevant_context_ids"?}``; ``user_input`` defaults to the question.
"""

from __future__ import annotations

from typing import Any

from .base import Context, Sample


class RecordError(ValueError):
    """A record that cannot be evaluated; the message names the field and the fix."""


def _text(obj: dict[str, Any], key: str, default: str | None = "") -> str | None:
    value = obj.get(key, default)
    if value is None or isinstance(value, str):
        return value
    raise RecordError(f"'{key}' must be a string, got {type(value).__name__}")


def _contexts(raw: Any) -> tuple[Context, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise RecordError(f"'contexts' must be a list of {{\"id\", \"text\"}} objects, got {type(raw).__name__}")
    out = []
    for index, item in enumerate(raw):
        if isinstance(item, str):
            out.append(Context(str(index + 1), item))
        elif isinstance(item, dict) and isinstance(item.get("text"), str):
            out.append(Context(str(item.get("id", index + 1)), item["text"]))
        else:
            raise RecordError(f"contexts[{index}] must be an object with a string 'text'")
    return tuple(out)


def sample_from(obj: Any) -> tuple[str, Sample]:
    """The record's id and its Sample; RecordError when a field has the wrong shape."""
    if not isinstance(obj, dict):
        raise RecordError(f"each line must be a JSON object, got {type(obj).__name__}")
    response = _text(obj, "response", None)
    if response is None:
        raise RecordError("'response' is missing")
    relevant = obj.get("relevant_context_ids")
    if relevant is not None and not (isinstance(relevant, list) and all(isinstance(i, (str, int)) for i in relevant)):
        raise RecordError("'relevant_context_ids' must be a list of ids")
    record_id = obj.get("id", "")
    sample = Sample(
        response=response,
        question=_text(obj, "question") or "",
        contexts=_contexts(obj.get("contexts")),
        user_input=_text(obj, "user_input", None),
        relevant_context_ids=None if relevant is None else tuple(str(i) for i in relevant),
    )
    return str(record_id), sample
