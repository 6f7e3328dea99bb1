"""An OpenAI-compatible chat-completions endpoint, asked one question at a time, never trusted.

Standard library only (``urllib``): the probe runs in CI jobs and on release
machines where installing an HTTP client is one more thing to go wrong. Every
way an endpoint can misbehave becomes an ``EndpointError`` with a short reason
(never the answer's text): refused connection, timeout (a deadline for the whole
answer, not per read), HTTP error status, a body over ``max_bytes``, a stream
when none was asked for, HTML or malformed JSON, no choices.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

#: A chat answer is a few kilobytes; a megabyte is a broken or hostile endpoint.
MAX_BYTES = 1024 * 1024


class EndpointError(Exception):
    """One attempt that got no usable answer; ``kind`` is a short closed word for counting."""

    def __init__(self, kind: str, reason: str, retryable: bool = True) -> None:
        super().__init__(reason)
        self.kind = kind
        self.retryable = retryable


@dataclass(frozen=True)
class Answer:
    text: str
    response: dict[str, Any]


@dataclass(frozen=True)
class Endpoint:
    base_url: str
    model: str
    api_key: str | None = None
    timeout: float = 60.0
    max_tokens: int = 512
    max_bytes: int = MAX_BYTES

    @property
    def url(self) -> str:
        return self.base_url.rstrip("/") + "/chat/completions"

    def ask(self, system: str, user: str) -> Answer:
        body = json.dumps({"model": self.model, "temperature": 0, "max_tokens": self.max_tokens, "stream": False,
                           "messages": [{"role": "system", "content": system},
                                        {"role": "user", "content": user}]}).encode("utf-8")
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        deadline = time.monotonic() + self.timeout
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as reply:
                content_type = reply.headers.get("Content-Type", "")
                raw = self._read(reply, deadline)
        except urllib.error.HTTPError as exc:
            retry = exc.code >= 500 or exc.code == 429
            raise EndpointError(f"http_{exc.code // 100}xx", f"HTTP {exc.code} from {self.url}", retry) from None
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, TimeoutError):
                raise EndpointError("timeout", f"no answer within {self.timeout:g} s") from None
            raise EndpointError("unreachable", f"cannot reach {self.url}: {exc.reason}") from None
        except TimeoutError:
            raise EndpointError("timeout", f"no answer within {self.timeout:g} s") from None
        except (OSError, ValueError) as exc:  # reset connection, malformed URL or HTTP
            raise EndpointError("connection", f"{type(exc).__name__} talking to {self.url}") from None
        return _parse(raw, content_type)

    def _read(self, reply: Any, deadline: float) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            chunk = reply.read1(65536)
            if not chunk:
                return b"".join(chunks)
            size += len(chunk)
            if size > self.max_bytes:
                raise EndpointError("too_large", f"answer larger than {self.max_bytes} bytes", retryable=False)
            if time.monotonic() > deadline:
                raise EndpointError("timeout", f"answer not complete within {self.timeout:g} s")
            chunks.append(chunk)


def _parse(raw: bytes, content_type: str) -> Answer:
    if "text/event-stream" in content_type or raw.lstrip().startswith(b"data:"):
        raise EndpointError("stream", "the endpoint streamed although stream=false was asked", retryable=False)
    try:
        response = json.loads(raw)
    except (ValueError, RecursionError):
        kind = "html" if raw.lstrip()[:1] == b"<" else "malformed_json"
        raise EndpointError(kind, "the answer is not JSON" if kind == "html" else "the answer is malformed JSON") \
            from None
    if not isinstance(response, dict):
        raise EndpointError("malformed_json", "the answer is not a JSON object")
    choices = response.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise EndpointError("no_choices", "the answer has no choices")
    message = choices[0].get("message")
    content = message.get("content") if isinstance(message, dict) else None
    refusal = message.get("refusal") if isinstance(message, dict) else None
    if content is None and refusal is None:
        if choices[0].get("finish_reason") == "content_filter":
            content = ""
        else:
            raise EndpointError("no_content", "the first choice has no message content")
    if isinstance(content, list):  # content parts
        content = " ".join(part.get("text", "") for part in content if isinstance(part, dict))
    if not isinstance(content, str):
        raise EndpointError("no_content", "the message content is not text")
    return Answer(content, response)
