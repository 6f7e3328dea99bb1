"""A stand-in OpenAI and Anthropic API on 127.0.0.1 that answers with the question's own text.

The one fake of the getting-started and example tests, at the narrowest seam: the
real ``openai`` and ``anthropic`` clients send real HTTP to it and parse its JSON
as they would a provider's. Echoing the question lets a test choose the answer
(an e-mail address for the PII alert). Only non-streaming calls are answered.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

INPUT_TOKENS, OUTPUT_TOKENS = 30, 12
_ids = itertools.count(1)


def _question(body: dict[str, Any]) -> str:
    content = body["messages"][-1]["content"]
    return content if isinstance(content, str) else " ".join(part.get("text", "") for part in content)


def _openai(body: dict[str, Any]) -> dict[str, Any]:
    return {"id": f"chatcmpl-{next(_ids)}", "object": "chat.completion", "created": 0, "model": body["model"],
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": _question(body), "refusal": None}}],
            "usage": {"prompt_tokens": INPUT_TOKENS, "completion_tokens": OUTPUT_TOKENS,
                      "total_tokens": INPUT_TOKENS + OUTPUT_TOKENS}}


def _anthropic(body: dict[str, Any]) -> dict[str, Any]:
    return {"id": f"msg_{next(_ids)}", "type": "message", "role": "assistant", "model": body["model"],
            "content": [{"type": "text", "text": _question(body)}], "stop_reason": "end_turn",
            "stop_sequence": None, "usage": {"input_tokens": INPUT_TOKENS, "output_tokens": OUTPUT_TOKENS}}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("content-length", "0"))) or b"{}")
        path = self.path.split("?")[0]
        if path.endswith("/chat/completions"):
            self._send(200, _openai(body))
        elif path.endswith("/messages"):
            self._send(200, _anthropic(body))
        else:
            self._send(404, {"error": {"message": f"no {path} here"}})
        self.server.calls += 1  # type: ignore[attr-defined]

    def _send(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@contextlib.contextmanager
def echo_provider() -> Iterator[str]:
    """Serve on a free 127.0.0.1 port; yields its base URL (``http://127.0.0.1:PORT``)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.calls = 0  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def provider_env(base_url: str) -> dict[str, str]:
    """What points the real clients at the stand-in: their own base-URL and key variables."""
    return {"OPENAI_BASE_URL": f"{base_url}/v1", "OPENAI_API_KEY": "sk-test",
            "ANTHROPIC_BASE_URL": base_url, "ANTHROPIC_API_KEY": "sk-ant-test"}
