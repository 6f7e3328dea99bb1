"""Every SDK form, called many times in one process, with resident memory read before and after.

Run by tests/test_sdk_soak.py in a fresh interpreter (so pytest's own allocations
do not blur the figure); prints one JSON object: per form, calls made and RSS
growth in bytes between a warmed-up start and the end.
"""

from __future__ import annotations

import asyncio
import gc
import json
import sys
from collections.abc import Callable
from typing import Any

import psutil
from prometheus_client import CollectorRegistry

from aivitals import Tracker

RESPONSE = {"object": "chat.completion", "model": "gpt-4o-mini",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok", "refusal": None}}],
            "usage": {"prompt_tokens": 100, "completion_tokens": 20}}
CHUNKS = [{"choices": [{"delta": {"content": "o"}}]}, {"choices": [], "usage": RESPONSE["usage"]}]


def forms(tracker: Tracker) -> dict[str, Callable[[int], None]]:
    """Each form as a function running ``n`` tracked calls."""
    sync = tracker.track(model="gpt-4o-mini")(lambda: RESPONSE)
    dynamic = tracker.track()(lambda: RESPONSE)

    @tracker.track(model="gpt-4o-mini")
    async def async_call() -> Any:
        return RESPONSE

    @tracker.track(model="gpt-4o-mini")
    def stream() -> Any:
        yield from CHUNKS

    @tracker.track(model="gpt-4o-mini")
    async def async_stream() -> Any:
        for chunk in CHUNKS:
            yield chunk

    def run_sync(n: int) -> None:
        for _ in range(n):
            sync()
            dynamic()

    def run_async(n: int) -> None:
        async def main() -> None:
            for _ in range(n):
                await async_call()
                async for _chunk in async_stream():
                    pass
        asyncio.run(main())

    def run_stream(n: int) -> None:
        for _ in range(n):
            for _chunk in stream():
                pass

    def run_context(n: int) -> None:
        for _ in range(n):
            with tracker.track(model="gpt-4o-mini") as call:
                call.record_response(RESPONSE)
                call.cache("prompt", True)
                call.score("groundedness", 0.9)

    def run_records(n: int) -> None:
        for _ in range(n):
            tracker.record_cache("prompt", False)
            tracker.record_quality("groundedness", 0.5)
            tracker.record_evaluation("hallucination", True)
            tracker.record_override("suggested")
            tracker.record_pii("email")
            tracker.record_outcome("ticket_resolved", value_usd=1.0)

    return {"sync_and_dynamic": run_sync, "async_and_async_generator": run_async, "generator": run_stream,
            "context_manager": run_context, "record_functions": run_records}


def rss() -> int:
    gc.collect()
    return int(psutil.Process().memory_info().rss)


def main(calls: int) -> dict[str, Any]:
    registry = CollectorRegistry()
    tracker = Tracker(registry)
    results: dict[str, Any] = {}
    for name, run in forms(tracker).items():
        run(max(calls // 10, 1000))  # warm up: caches, series, buffers at their steady size
        registry.collect()
        before = rss()
        for _ in range(10):
            run(calls // 10)
            list(registry.collect())  # scrapes fold the buffers, as in production
        results[name] = {"calls": calls, "rss_growth_bytes": rss() - before}
    return {"soak": results, "sdk_errors": sum(tracker.health.errors.values())}


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]))))
