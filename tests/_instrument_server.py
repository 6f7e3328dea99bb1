"""A fake OpenAI/Anthropic-compatible server on 127.0.0.1: the one fake in the instrumentation tests.

It is the narrowest seam there is: the real ``openai``, ``anthropic`` and
``litellm`` clients send real HTTP to it and parse its JSON and SSE streams as
they would a provider's. What it answers is chosen by the prompt's text:
``REFUSE`` (a refusal), ``CACHEWRITE`` (cache reads and writes), ``THINK``
(reasoning tokens), ``FAILMIDWAY`` (the stream breaks after two chunks).
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PROMPT, COMPLETION, CACHED, WRITTEN, REASONING = 812, 96, 512, 200, 40
WORDS = ["Par", "is", "."]


def _prompt_text(body: dict[str, Any]) -> str:
    return json.dumps(body.get("messages") or body.get("input") or "")


def chat_usage(text: str) -> dict[str, Any]:
    details: dict[str, Any] = {"cached_tokens": 0}
    if "CACHEWRITE" in text:
        details = {"cached_tokens": CACHED, "cache_write_tokens": WRITTEN}
    return {"prompt_tokens": PROMPT, "completion_tokens": COMPLETION, "total_tokens": PROMPT + COMPLETION,
            "prompt_tokens_details": details,
            "completion_tokens_details": {"reasoning_tokens": REASONING if "THINK" in text else 0}}


def anthropic_usage(text: str, output: int = COMPLETION) -> dict[str, Any]:
    cache = "CACHEWRITE" in text
    usage: dict[str, Any] = {
        "input_tokens": PROMPT - (CACHED + WRITTEN if cache else 0), "output_tokens": output,
        "cache_read_input_tokens": CACHED if cache else 0, "cache_creation_input_tokens": WRITTEN if cache else 0}
    if "THINK" in text:
        usage["output_tokens_details"] = {"thinking_tokens": REASONING}
    return usage


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body in separate writes would wait on delayed ACKs

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("content-length", "0"))) or b"{}")
        self.server.requests.append((self.path, body))  # type: ignore[attr-defined]
        text = _prompt_text(body)
        path = self.path.split("?")[0]
        if path.endswith("/chat/completions"):
            self._chat(body, text)
        elif path.endswith("/responses"):
            self._responses(body, text)
        elif path.endswith("/embeddings"):
            self._json({"object": "list", "model": body["model"], "data": [
                {"object": "embedding", "index": 0, "embedding": [0.1, 0.2]}],
                "usage": {"prompt_tokens": 8, "total_tokens": 8}})
        elif path.endswith("/messages"):
            self._messages(body, text)
        else:
            self._json({"error": {"message": "not found"}}, 404)

    def _json(self, payload: Any, status: int = 200) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _sse(self, events: list[tuple[str | None, Any]], fail_after: int | None = None) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        for index, (name, data) in enumerate(events):
            if fail_after is not None and index == fail_after:
                self.wfile.flush()
                self.close_connection = True  # the connection drops mid-stream, before the last chunk
                return
            prefix = f"event: {name}\n" if name else ""
            payload = data if isinstance(data, str) else json.dumps(data)
            event = f"{prefix}data: {payload}\n\n".encode()
            self.wfile.write(b"%x\r\n%s\r\n" % (len(event), event))
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")

    def _chat(self, body: dict[str, Any], text: str) -> None:
        model, refuse = body["model"], "REFUSE" in text
        if model == "rejected":
            self._json({"error": {"message": "unknown model", "type": "invalid_request_error"}}, 400)
            return
        if not body.get("stream"):
            message = {"role": "assistant", "content": None if refuse else "Paris.",
                       "refusal": "I can't help with that." if refuse else None}
            self._json({"id": "c1", "object": "chat.completion", "created": 1, "model": model,
                        "choices": [{"index": 0, "finish_reason": "stop", "message": message}],
                        "usage": chat_usage(text)})
            return

        def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
            return {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": model,
                    "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

        key = "refusal" if refuse else "content"
        events: list[tuple[str | None, Any]] = [(None, chunk({"role": "assistant", key: ""}))]
        events += [(None, chunk({key: word})) for word in WORDS]
        events.append((None, chunk({}, "stop")))
        if (body.get("stream_options") or {}).get("include_usage"):
            events.append((None, {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": model,
                                  "choices": [], "usage": chat_usage(text)}))
        events.append((None, "[DONE]"))
        self._sse(events, fail_after=2 if "FAILMIDWAY" in text else None)

    def _responses(self, body: dict[str, Any], text: str) -> None:
        usage = chat_usage(text)
        response = {"id": "r1", "object": "response", "created_at": 1, "model": body["model"], "status": "completed",
                    "output": [{"type": "message", "id": "m1", "role": "assistant", "status": "completed",
                                "content": [{"type": "output_text", "text": "Paris.", "annotations": []}]}],
                    "usage": {"input_tokens": usage["prompt_tokens"], "output_tokens": usage["completion_tokens"],
                              "total_tokens": usage["total_tokens"],
                              "input_tokens_details": {"cached_tokens": usage["prompt_tokens_details"]["cached_tokens"],
                                                       "cache_write_tokens": usage["prompt_tokens_details"].get(
                                                           "cache_write_tokens", 0)},
                              "output_tokens_details": {"reasoning_tokens": 0}},
                    "parallel_tool_calls": True, "tool_choice": "auto", "tools": []}
        if not body.get("stream"):
            self._json(response)
            return
        created = {**response, "status": "in_progress", "usage": None, "output": []}
        self._sse([("response.created", {"type": "response.created", "sequence_number": 0, "response": created}),
                   ("response.output_text.delta", {"type": "response.output_text.delta", "sequence_number": 1,
                                                   "item_id": "m1", "output_index": 0, "content_index": 0,
                                                   "delta": "Paris.", "logprobs": []}),
                   ("response.completed", {"type": "response.completed", "sequence_number": 2,
                                           "response": response})])

    def _messages(self, body: dict[str, Any], text: str) -> None:
        model, refuse = body["model"], "REFUSE" in text
        stop = "refusal" if refuse else "end_turn"
        if not body.get("stream"):
            self._json({"id": "msg1", "type": "message", "role": "assistant", "model": model,
                        "content": [{"type": "text", "text": "Paris."}], "stop_reason": stop,
                        "stop_sequence": None, "usage": anthropic_usage(text)})
            return
        start_usage = {**anthropic_usage(text, output=1)}
        start_usage.pop("output_tokens_details", None)
        events: list[tuple[str | None, Any]] = [
            ("message_start", {"type": "message_start", "message": {
                "id": "msg1", "type": "message", "role": "assistant", "model": model, "content": [],
                "stop_reason": None, "stop_sequence": None, "usage": start_usage}}),
            ("content_block_start", {"type": "content_block_start", "index": 0,
                                     "content_block": {"type": "text", "text": ""}})]
        events += [("content_block_delta", {"type": "content_block_delta", "index": 0,
                                            "delta": {"type": "text_delta", "text": word}}) for word in WORDS]
        final = anthropic_usage(text)
        events += [("content_block_stop", {"type": "content_block_stop", "index": 0}),
                   ("message_delta", {"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": None},
                                      "usage": {k: v for k, v in final.items() if k != "input_tokens"}}),
                   ("message_stop", {"type": "message_stop"})]
        self._sse(events, fail_after=3 if "FAILMIDWAY" in text else None)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that closes a kept-alive connection is not news


class FakeLLMServer:
    """The server, started in a thread on a free port of 127.0.0.1; ``stop()`` shuts it down."""

    def __init__(self) -> None:
        self.httpd = _Server(("127.0.0.1", 0), _Handler)
        self.httpd.requests = []  # type: ignore[attr-defined]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    @property
    def requests(self) -> list[tuple[str, dict[str, Any]]]:
        return self.httpd.requests  # type: ignore[attr-defined, no-any-return]

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
