"""Durable evaluation events: events/s and latency of ``POST /v1/evaluations`` next to the same evaluators in-process.

The sidecar runs under uvicorn (one worker, SQLite WAL, synchronous=FULL) on
loopback in its own process; keep-alive connections from this process send
batches of evaluation events (answers of 27 to 46 words with the two contexts
they cite, some leaking an address, built from the evaluators benchmark's
corpus), every event id new. The baseline, measured in the same run, is the
default evaluator suite (``aivitals.evaluators``) called in this process on the
same samples, one after another: ``durable_over_inprocess`` is the share of that
rate the sidecar keeps, and ``server_cpu_over_inprocess`` the CPU per event it
spends (evaluating, parsing, HTTP, the group commit) against the evaluators'
alone. A last phase resends an acknowledged phase unchanged: those events are
answered ``duplicate`` without being evaluated again (the ids are looked up in
the store first), ``resent_over_new`` says how much faster that is.

    PYTHONPATH=src python benchmarks/evaluations_ingest.py [--events N]

The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from evaluators import _FACTS  # the evaluators benchmark's corpus
from ingest import _LENGTH, _cpu_seconds, _free_port, _sidecar  # its sidecar server and helpers

from aivitals.evaluators.base import Context, Sample
from aivitals.evaluators.suite import Suite, default_evaluators

QUESTION = "What do refunds, shipping and support look like?"
#: (label, events a request, connections): batches x connections stay under the pool's 500 events in flight.
PHASES = (("single", 1, 16), ("batch50", 50, 4))


def corpus(n: int) -> list[dict[str, Any]]:
    """``n`` distinct evaluation events without ids: two facts cited from their two contexts, a third of them
    with a number the contexts do not hold, a fifth leaking an email address."""
    events = []
    for i in range(n):
        a, b = _FACTS[i % len(_FACTS)], _FACTS[(i + 1 + i // len(_FACTS)) % len(_FACTS)]
        if a == b:
            b = _FACTS[(i + 2) % len(_FACTS)]
        response = f"{a[:-1]} [doc-1]. {b[:-1]} [doc-2]."
        if i % 3 == 0:
            response += f" Orders ship within {i % 7 + 3} hours of payment."
        if i % 5 == 0:
            response += f" Write to agent{i}@acme.io for anything else."
        events.append({"service": "bench-chat", "model": "m", "question": QUESTION, "response": response,
                       "contexts": [{"id": "doc-1", "text": a}, {"id": "doc-2", "text": b}]})
    return events


def samples(events: list[dict[str, Any]]) -> list[Sample]:
    """What the sidecar's pool hands the suite for each event (sidecar/evaluations.py ``sample``)."""
    return [Sample(e["response"], e["question"], tuple(Context(c["id"], c["text"]) for c in e["contexts"]))
            for e in events]


def in_process(events: list[dict[str, Any]], rounds: int = 3) -> dict[str, float]:
    """The baseline: the default suite over the same samples in this process, the fastest of ``rounds``."""
    suite, todo = Suite(default_evaluators()), samples(events)
    for s in todo[:20]:
        suite.evaluate(s)  # warm the evaluators' lazily built tables
    wall = cpu = float("inf")
    for _ in range(rounds):
        start, start_cpu = time.perf_counter(), time.process_time()
        for s in todo:
            suite.evaluate(s)
        wall = min(wall, time.perf_counter() - start)
        cpu = min(cpu, time.process_time() - start_cpu)
    return {"events_per_second": len(todo) / wall, "us_per_event": wall / len(todo) * 1e6,
            "cpu_us_per_event": cpu / len(todo) * 1e6}


def bodies(events: list[dict[str, Any]], batch: int, tag: str) -> list[bytes]:
    """Request bodies of ``batch`` events each, every event id new (``tag`` tells phases apart)."""
    out = []
    for start in range(0, len(events) - batch + 1, batch):
        chunk = [{**e, "event_id": f"{tag}-{start + i}"} for i, e in enumerate(events[start:start + batch])]
        out.append(json.dumps(chunk if batch > 1 else chunk[0]).encode())
    return out


async def _connection(port: int, todo: list[bytes], latencies: list[float], answers: list[dict[str, int]]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while todo:
            body = todo.pop()
            start = time.perf_counter()
            writer.write(b"POST /v1/evaluations HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
                         b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
            head = await reader.readuntil(b"\r\n\r\n")
            match = _LENGTH.search(head)
            answer = await reader.readexactly(int(match.group(1)) if match else 0)
            if not head.startswith(b"HTTP/1.1 200"):
                raise RuntimeError(f"unexpected answer: {head[:80]!r} {answer[:200]!r}")
            latencies.append(time.perf_counter() - start)
            answers.append(json.loads(answer))
    finally:
        writer.close()


def send(port: int, requests: list[bytes], conns: int) -> dict[str, Any]:
    """Send every body over ``conns`` keep-alive connections; rate, latency percentiles and the answers' sums."""
    latencies: list[float] = []
    answers: list[dict[str, int]] = []
    todo = list(reversed(requests))

    async def run() -> float:
        start = time.perf_counter()
        await asyncio.gather(*(_connection(port, todo, latencies, answers) for _ in range(conns)))
        return time.perf_counter() - start

    elapsed = asyncio.run(run())
    latencies.sort()
    events = sum(a["accepted"] + a["duplicate"] for a in answers)

    def pct(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000

    return {"requests": len(answers), "events": events, "events_per_second": events / elapsed,
            "p50_ms": pct(0.50), "p99_ms": pct(0.99), "accepted": sum(a["accepted"] for a in answers),
            "duplicate": sum(a["duplicate"] for a in answers)}


def durable(tmp: Path, events: list[dict[str, Any]]) -> dict[str, Any]:
    """Each phase's events through one sidecar, then the batched phase resent as it was."""
    results: dict[str, Any] = {}
    port = _free_port()
    with _sidecar(tmp / "evaluations.db", port, {}) as server:
        send(port, bodies(events[:40], 1, "warm"), 4)  # imports, the evaluators' tables, the store's pages
        for label, batch, conns in PHASES:
            requests = bodies(events, batch, label)
            cpu = _cpu_seconds(server.pid)
            r = send(port, requests, conns)
            r["server_cpu_us_per_event"] = (_cpu_seconds(server.pid) - cpu) / r["events"] * 1e6
            if r["accepted"] != r["events"]:
                raise RuntimeError(f"{label}: {r['accepted']} of {r['events']} new events accepted")
            results[label] = r
            last = (label, requests, conns)
        label, requests, conns = last
        cpu = _cpu_seconds(server.pid)
        r = send(port, requests, conns)
        r["server_cpu_us_per_event"] = (_cpu_seconds(server.pid) - cpu) / r["events"] * 1e6
        if r["duplicate"] != r["events"]:
            raise RuntimeError(f"resent: {r['duplicate']} of {r['events']} resent events answered duplicate")
        results[f"{label}_resent"] = r
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=4000, help="evaluation events a phase (default 4,000)")
    args = parser.parse_args(argv)
    events = corpus(max(args.events, max(batch for _, batch, _ in PHASES)))
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start (other processes share them)")
    baseline = in_process(events)
    print(f"in-process  {baseline['events_per_second']:>9,.0f} events/s  "
          f"{baseline['cpu_us_per_event']:8.0f} CPU-us/event  (default suite, one thread)")
    with tempfile.TemporaryDirectory(prefix="aivitals-bench-") as tmp:
        phases = durable(Path(tmp), events)
    results: dict[str, Any] = {
        "benchmark": "sidecar_evaluations", "cpus": os.cpu_count(), "events_per_phase": len(events),
        "words_per_response": round(sum(len(e["response"].split()) for e in events) / len(events), 1),
        "inprocess_events_per_second": round(baseline["events_per_second"], 1),
        "inprocess_cpu_us_per_event": round(baseline["cpu_us_per_event"], 1)}
    for label, r in phases.items():
        print(f"{label:14} {r['events_per_second']:>9,.0f} events/s  {r['server_cpu_us_per_event']:8.0f} "
              f"server CPU-us/event  p50 {r['p50_ms']:7.2f} ms  p99 {r['p99_ms']:7.2f} ms a request  "
              f"({r['accepted']} accepted, {r['duplicate']} duplicate)")
        for key in ("events_per_second", "p50_ms", "p99_ms", "server_cpu_us_per_event"):
            results[f"{label}_{key}"] = round(r[key], 3)
        if not label.endswith("_resent"):
            results[f"{label}_durable_over_inprocess"] = round(
                r["events_per_second"] / baseline["events_per_second"], 3)
            results[f"{label}_server_cpu_over_inprocess"] = round(
                r["server_cpu_us_per_event"] / baseline["cpu_us_per_event"], 3)
    batched = PHASES[-1][0]
    results["resent_over_new"] = round(
        results[f"{batched}_resent_events_per_second"] / results[f"{batched}_events_per_second"], 2)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
