"""Overhead of aivitals.instrument() on a real OpenAI client call, next to the bare call, in one run.

Both go to the same fake OpenAI-compatible server on 127.0.0.1 (tests/_instrument_server.py), so the
difference is what the instrumentation adds: plain completions and default streams (where it also asks
for usage and hides the extra chunk). Interleaved rounds, fastest kept. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

MESSAGES = [{"role": "user", "content": "Capital of France?"}]


def us_per_call(fn: Callable[[], Any], calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=300, help="calls per round")
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds; the fastest is kept")
    args = parser.parse_args(argv)

    import openai
    from prometheus_client import CollectorRegistry

    import aivitals
    from _instrument_server import FakeLLMServer

    server = FakeLLMServer()
    client = openai.OpenAI(base_url=server.url + "/v1", api_key="bench", max_retries=0)
    tracker = aivitals.Tracker(CollectorRegistry())

    def plain() -> Any:
        return client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)

    def streamed() -> Any:
        return [c for c in client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)]

    best: dict[str, float] = {}
    try:
        for _ in range(args.rounds):
            for name, fn in (("plain", plain), ("stream", streamed)):
                bare = us_per_call(fn, args.calls)
                tracker.instrument(openai)
                try:
                    measured = us_per_call(fn, args.calls)
                finally:
                    aivitals.uninstrument()
                best[f"bare_{name}_us"] = min(best.get(f"bare_{name}_us", float("inf")), bare)
                best[f"instrumented_{name}_us"] = min(best.get(f"instrumented_{name}_us", float("inf")), measured)
    finally:
        server.stop()
    tracker.flush()
    counted = sum(sum(s.outcomes) for s in tracker.call_series())
    assert counted == 2 * args.calls * args.rounds, "every instrumented call was counted"
    for name in ("plain", "stream"):
        best[f"overhead_{name}_us"] = best[f"instrumented_{name}_us"] - best[f"bare_{name}_us"]
        best[f"ratio_{name}"] = best[f"instrumented_{name}_us"] / best[f"bare_{name}_us"]
    for key, value in best.items():
        print(f"{key:28s} {value:10.3f}")
    print(json.dumps({k: round(v, 4) for k, v in best.items()}, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
