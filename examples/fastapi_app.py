"""A FastAPI service with a tracked model call and /metrics served beside its routes.

One worker::

    uvicorn examples.fastapi_app:app --port 8080
    curl 'http://127.0.0.1:8080/ask?q=hello'      # the question is the query parameter q
    curl http://127.0.0.1:8080/metrics

Several workers (each records into its own process; /metrics, answered by any
worker, sums them all through prometheus_client's multiprocess files)::

    export PROMETHEUS_MULTIPROC_DIR=$(mktemp -d)
    uvicorn examples.fastapi_app:app --port 8080 --workers 4

Clear that directory before each start, as prometheus_client's multiprocess mode requires.
"""

from __future__ import annotations

from fastapi import FastAPI

import aivitals

app = FastAPI(title="assistant")
app.add_route("/metrics", aivitals.make_asgi_app())  # an exact route: /metrics answers 200, not a 307 redirect


@aivitals.track(model="claude-haiku-4-5", provider="anthropic")
async def ask_model(question: str) -> dict:
    """Stands in for ``await anthropic.messages.create(...)``: same response shape."""
    return {"type": "message", "model": "claude-haiku-4-5", "stop_reason": "end_turn",
            "content": [{"type": "text", "text": "Hello"}],
            "usage": {"input_tokens": 20 + len(question), "output_tokens": 5,
                      "cache_read_input_tokens": 0, "cache_creation_input_tokens": 0}}


@app.get("/ask")
async def ask(q: str) -> dict:
    """Answer the question given as the query parameter ``q``."""
    response = await ask_model(q)
    return {"answer": response["content"][0]["text"]}
