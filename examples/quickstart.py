"""Quickstart: one decorator on a model call, /metrics on 127.0.0.1.

    python examples/quickstart.py --port 9464 --calls 20

Stands in for an OpenAI client with a function returning the same shape, so
it runs without an API key.
"""

from __future__ import annotations

import argparse
import random
import time
import urllib.request

import aivitals


@aivitals.track(model="gpt-4o-mini", operation="chat", provider="openai")
def answer(question: str) -> dict:
    """Your model call: here a stand-in that returns what the OpenAI API returns."""
    time.sleep(random.uniform(0.001, 0.005))
    return {"model": "gpt-4o-mini",
            "choices": [{"message": {"role": "assistant", "content": "42", "refusal": None}}],
            "usage": {"prompt_tokens": 120 + len(question), "completion_tokens": 12,
                      "prompt_tokens_details": {"cached_tokens": 0}}}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=9464)
    parser.add_argument("--calls", type=int, default=20)
    args = parser.parse_args()
    server, _ = aivitals.start_http_server(args.port)
    for index in range(args.calls):
        answer(f"question {index}")
        aivitals.record_cache("prompt", hit=index % 3 == 0, model="gpt-4o-mini")
    with urllib.request.urlopen(f"http://127.0.0.1:{args.port}/metrics") as response:
        for line in response.read().decode().splitlines():
            if line.startswith(("aivitals_requests_total", "aivitals_cost_usd_total", "aivitals_tokens_total")):
                print(line)
    server.shutdown()


if __name__ == "__main__":
    main()
