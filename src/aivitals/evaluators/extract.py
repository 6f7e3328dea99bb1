"""The answer text of whatever a tracked function returned: a string, bytes, or a provider response object.

OpenAI chat (``choices[0].message.content``), OpenAI responses (``output_text``
or ``output[].content[].text``), Anthropic messages (``content[].text``). Anything
else gives None, and the worker counts it as an error rather than guessing.
"""

from __future__ import annotations

from typing import Any


def _get(obj: Any, key: str) -> Any:
    return obj.get(key) if isinstance(obj, dict) else getattr(obj, key, None)


def _texts(parts: Any) -> list[str]:
    if not isinstance(parts, (list, tuple)):
        return []
    return [t for t in (_get(part, "text") for part in parts) if isinstance(t, str)]


def response_text(response: Any) -> str | None:
    """The text of ``response``; bytes are decoded leniently (binary junk becomes replacement characters)."""
    if isinstance(response, str):
        return response
    if isinstance(response, (bytes, bytearray)):
        return bytes(response).decode("utf-8", errors="replace")
    if response is None or isinstance(response, (int, float, bool)):
        return None
    try:
        choices = _get(response, "choices")
        if isinstance(choices, (list, tuple)) and choices:
            content = _get(_get(choices[0], "message"), "content")
            if isinstance(content, str):
                return content
            if isinstance(content, list):
                return "".join(_texts(content))
        output_text = _get(response, "output_text")
        if isinstance(output_text, str):
            return output_text
        output = _get(response, "output")
        if isinstance(output, (list, tuple)):
            return "".join(t for item in output for t in _texts(_get(item, "content")))
        texts = _texts(_get(response, "content"))
        return "".join(texts) if texts else None
    except Exception:
        return None
