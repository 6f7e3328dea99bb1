"""A FastAPI service with a tracked model call and /metrics mounted beside its routes.

    uvicorn examples.fastapi_app:app --port 8080
"""

from __future__ import annotations

from fastapi import FastAPI

import aivitals

app = FastAPI(title="assistant")
app.mount("/metrics", aivitals.make_asgi_app())


@aivitals.track(model="claude-haiku-4-5", provider="anthropic")
async def ask_model(question: str) -> dict:
    """Stands in for ``await anthropic.messages.create(...)``: same response shape."""
    return {"type": "message", "model": "claude-haiku-4-5", "stop_reason": "end_turn",
            "content": [{"type": "text", "text": "Hello"}],
            "usage": {"input_tokens": 20 + len(question), "output_tokens": 5,
                      "cache_read_input_tokens": 0, "cache_creation_input_tokens": 0}}


@app.get("/ask")
async def ask(q: str) -> dict:
    response = await ask_model(q)
    return {"answer": response["content"][0]["text"]}
