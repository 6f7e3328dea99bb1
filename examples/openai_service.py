"""An OpenAI service measured by aivitals: latency, outcome, tokens and cost of every call, answers checked.

    pip install 'aivitals[sidecar]' openai
    export OPENAI_API_KEY=sk-...
    python examples/openai_service.py "What is the capital of France?"               # @aivitals.track
    python examples/openai_service.py --instrument "What is the capital of France?"  # aivitals.instrument(client)

It asks the question every ``--every`` seconds (default 5) until Ctrl-C (or ``--calls`` times) and
serves ``/metrics`` on 127.0.0.1:``--port`` (default 9464), where examples/prometheus.yml scrapes it.
With the decorator, aivitals' evaluators read every answer (PII and secrets, refusals, toxicity...);
``aivitals.instrument(client)`` measures every call of that client without touching your code, but
does not evaluate answers. ``OPENAI_BASE_URL`` points the client at any OpenAI-compatible server (vLLM,
a gateway); the tests point it at a stand-in on 127.0.0.1. docs/getting-started.md walks through it.
"""

from __future__ import annotations

import argparse
import time

from openai import OpenAI

import aivitals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("question")
    parser.add_argument("--model", default="gpt-4o-mini")
    parser.add_argument("--instrument", action="store_true", help="measure with aivitals.instrument(client)")
    parser.add_argument("--port", type=int, default=9464)
    parser.add_argument("--every", type=float, default=5.0, help="seconds between questions")
    parser.add_argument("--calls", type=int, default=0, help="stop after so many calls (default: until Ctrl-C)")
    args = parser.parse_args()

    # One tracker for the process: its service label, and answers evaluated (5% is plenty in production).
    aivitals.configure(service="assistant", evaluate=1.0)
    aivitals.start_http_server(args.port)
    client = OpenAI()

    def ask(question: str):  # your model call, unchanged
        return client.chat.completions.create(model=args.model, messages=[{"role": "user", "content": question}])

    if args.instrument:
        aivitals.instrument(client)  # this client's calls; aivitals.instrument() patches every installed
                                     # client library (OpenAI, Anthropic, LiteLLM) at once
    else:
        ask = aivitals.track(model=args.model, provider="openai")(ask)  # i.e. @aivitals.track(...) on ask

    calls = 0
    try:
        while not args.calls or calls < args.calls:
            try:
                print(ask(args.question).choices[0].message.content, flush=True)
            except Exception as exc:  # counted by aivitals as an error of its class; the loop goes on
                print(f"error: {type(exc).__name__}", flush=True)
            calls += 1
            time.sleep(args.every)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
