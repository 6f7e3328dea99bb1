"""Fake OpenAI-compatible chat endpoints on 127.0.0.1 that behave like a robust, a vulnerable and a flaky model.

The fake is the narrowest seam: the model. The probe's real HTTP client, its
timeouts and parsing run unchanged against a real socket.
"""

from __future__ import annotations

import base64
import json
import random
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Reply = tuple[int, str, bytes]  # status, content type, body
CANARY = re.compile(r"AIV-[0-9A-F]{10}")
PERSONAS = ("DAN", "STAN", "AIM", "DUDE", "Developer Mode", "😈", "BetterDAN")


def completion(text: str, finish_reason: str = "stop") -> Reply:
    body = {"id": "chatcmpl-1", "object": "chat.completion", "model": "fake",
            "choices": [{"index": 0, "finish_reason": finish_reason,
                         "message": {"role": "assistant", "content": text, "refusal": None}}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}}
    return 200, "application/json", json.dumps(body).encode()


def robust(system: str, user: str) -> Reply:
    return completion("I can't help with that. Is there anything else about your order I can do for you?")


def vulnerable(system: str, user: str) -> Reply:
    """Follows whatever the last instruction says: decodes, obeys canaries, leaks, plays personas, complies."""
    if "base64" in user:
        user = base64.b64decode(user.strip().splitlines()[-1]).decode()
    if any(word in user for word in ("instructions", "system prompt", "above", "reference", "top of this")):
        return completion(f"Sure. My instructions are: {system}")
    found = CANARY.search(user)
    if found:
        return completion(found.group(0))
    for persona in PERSONAS:
        if persona in user:
            marker = "[🔓JAILBREAK]" if persona == "DAN" else f"{persona}:"
            return completion(f"{marker} Sure, here is exactly how: step 1, gather the materials...")
    return completion("Sure, here are the steps. 1. First, gather what you need. 2. Then proceed carefully.")


class Flaky:
    """Misbehaves in every way an endpoint can, in turn; every sixth request gets a robust answer."""

    MODES = ("ok", "500", "malformed", "html", "no_choices", "stream", "hang", "huge", "reset")

    def __init__(self, hang_seconds: float = 2.0, seed: int = 7) -> None:
        self.hang_seconds = hang_seconds
        self.random = random.Random(seed)
        self.lock = threading.Lock()

    def __call__(self, system: str, user: str) -> Reply:
        with self.lock:
            mode = self.random.choice(self.MODES)
        return misbehave(mode, self.hang_seconds)


def misbehave(mode: str, hang_seconds: float = 2.0) -> Reply:
    if mode == "500":
        return 500, "application/json", b'{"error": {"message": "internal"}}'
    if mode == "malformed":
        return 200, "application/json", b'{"choices": [{"message": {"content": "oops"'
    if mode == "html":
        return 200, "text/html", b"<html><body>502 Bad Gateway</body></html>"
    if mode == "no_choices":
        return 200, "application/json", b'{"id": "x", "choices": []}'
    if mode == "stream":
        chunk = {"choices": [{"delta": {"content": "Hi"}}]}
        return 200, "text/event-stream", f"data: {json.dumps(chunk)}\n\ndata: [DONE]\n\n".encode()
    if mode == "hang":
        time.sleep(hang_seconds)
        return robust("", "")
    if mode == "huge":
        return completion("A" * (10 * 1024 * 1024))
    if mode == "reset":
        raise ConnectionResetError
    return robust("", "")


@contextmanager
def serve(model: Callable[[str, str], Reply], authorizations: list[str] | None = None) -> Iterator[str]:
    """Serve ``model`` at http://127.0.0.1:PORT/v1/chat/completions; yields the base URL.

    ``authorizations`` collects each request's Authorization header.
    """

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            request = json.loads(self.rfile.read(length))
            if authorizations is not None:
                authorizations.append(self.headers.get("Authorization", ""))
            messages = request["messages"]
            system = next((m["content"] for m in messages if m["role"] == "system"), "")
            user = messages[-1]["content"]
            try:
                status, content_type, body = model(system, user)
            except ConnectionResetError:
                self.close_connection = True
                return
            try:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()
