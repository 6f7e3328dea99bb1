"""Sidecar ingest: durable events/s and latency next to a bare endpoint that only validates the same body.

Both servers run under uvicorn (one worker) on loopback in their own process;
the load comes from a third process with several keep-alive connections. The
bare endpoint parses and validates exactly what the sidecar does, then answers:
the ratio between the two is the price of a durable, exactly-once acknowledgement
(SQLite WAL, synchronous=FULL, group commit). A last phase sends 1 million
events of new user keys and predictions with retention bounds and reports the
server's RSS. The last line printed is one JSON object.

A store phase runs the writer's path in this process (the applier and a SQLite
store, one transaction per 1,000 events, as the writer commits a group) twice over
the same predictions and activities: with ids and user keys under the keyed hashes
(keys.py), and with them unhashed, as they were before ids were hashed (the
baseline). ``store_hashed_over_raw_cpu`` is the CPU the hashes cost per event:
hashed ids land at random in the unique indexes where the client's time-ordered
ids were appended.

    PYTHONPATH=src python benchmarks/ingest.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request, Response

SRC = Path(__file__).resolve().parents[1] / "src"
_LENGTH = re.compile(rb"content-length:\s*(\d+)", re.IGNORECASE)


# --- the bare endpoint ------------------------------------------------------------------------
def bare_app() -> FastAPI:
    """POST /v1/predictions that validates like the sidecar and stores nothing."""
    from aivitals.sidecar.settings import Settings
    from aivitals.sidecar.validate import Parser, RequestError

    parser = Parser(Settings(), "prediction")
    app = FastAPI()

    @app.post("/v1/predictions")
    async def predictions(request: Request) -> Response:
        try:
            events = parser.parse(await request.body(), request.headers.get("content-type"), time.time())
        except RequestError as exc:
            return Response(json.dumps({"detail": exc.detail}), exc.status, media_type="application/json")
        return Response(f'{{"accepted":{len(events)},"duplicate":0}}', media_type="application/json")

    return app


def serve_bare(port: int) -> None:
    import uvicorn

    uvicorn.run(bare_app(), host="127.0.0.1", port=port, workers=1, access_log=False, log_level="warning")


# --- the load generator (its own process) -------------------------------------------------------
def _bodies(kind: str, batch: int, worker: int, tag: str = "") -> Iterator[bytes]:
    """Request bodies with ids never sent before (new predictions, new user keys); ``tag`` tells runs apart."""
    n = 0
    while True:
        events = []
        for _ in range(batch):
            n += 1
            key = f"{tag}w{worker}-{n}"
            if kind == "activity":
                events.append(f'{{"event_id":"a{key}","user":"user-{key}"}}')
            else:
                events.append(f'{{"event_id":"e{key}","id":"{key}","model":"m","score":0.{n % 10}}}')
        yield ("[" + ",".join(events) + "]").encode() if batch > 1 else events[0].encode()


async def _worker(port: int, kinds: list[str], batch: int, worker: int, until: Callable[[int], bool],
                  latencies: list[float], warmup_until: float) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    tag = f"{os.getpid():x}-"
    streams = [(f"/v1/{'activity' if k == 'activity' else 'predictions'}".encode(), _bodies(k, batch, worker, tag))
               for k in kinds]
    sent = 0
    try:
        while not until(sent):
            path, bodies = streams[sent % len(streams)]
            body = next(bodies)
            start = time.perf_counter()
            writer.write(b"POST %s HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
                         b"Content-Length: %d\r\n\r\n%s" % (path, len(body), body))
            head = await reader.readuntil(b"\r\n\r\n")
            match = _LENGTH.search(head)
            await reader.readexactly(int(match.group(1)) if match else 0)
            if not head.startswith(b"HTTP/1.1 200"):
                raise RuntimeError(f"unexpected answer: {head[:80]!r}")
            if start >= warmup_until:
                latencies.append(time.perf_counter() - start)
            sent += 1
    finally:
        writer.close()
    return sent


async def _load(port: int, kinds: list[str], batch: int, conns: int, seconds: float, warmup: float,
                total_requests: int) -> dict[str, Any]:
    latencies: list[float] = []
    t0 = time.perf_counter()
    warm_end = t0 + warmup
    end = warm_end + seconds
    per_conn = -(-total_requests // conns) if total_requests else 0

    def until(sent: int) -> bool:
        return sent >= per_conn if total_requests else time.perf_counter() >= end

    sent = await asyncio.gather(*(_worker(port, kinds, batch, i, until, latencies, warm_end)
                                  for i in range(conns)))
    elapsed = time.perf_counter() - (t0 if total_requests else warm_end)
    requests = len(latencies) if not total_requests else sum(sent)
    latencies.sort()

    def pct(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000 if latencies else float("nan")

    return {"requests": requests, "events": requests * batch, "all_events": sum(sent) * batch, "seconds": elapsed,
            "events_per_second": requests * batch / elapsed, "p50_ms": pct(0.50), "p99_ms": pct(0.99)}


def run_load(args: argparse.Namespace) -> None:
    result = asyncio.run(_load(args.port, args.kinds.split(","), args.batch, args.conns, args.seconds,
                               args.warmup, args.requests))
    print(json.dumps(result))


# --- orchestration ------------------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(port: int, path: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(SRC) + os.pathsep + os.environ.get("PYTHONPATH", "")}


@contextlib.contextmanager
def _server(args: list[str], port: int, ready_path: str) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen([sys.executable, *args], env=_env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(OSError):
                if _get(port, ready_path)[0] in (200, 405):
                    break
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError(f"server {args} did not start")
            time.sleep(0.05)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _sidecar(store: Path, port: int, config: dict[str, Any]) -> contextlib.AbstractContextManager[Any]:
    path = store.with_suffix(".json")
    path.write_text(json.dumps(config))
    return _server(["-m", "aivitals.sidecar", "--store", str(store), "--port", str(port), "--config", str(path)],
                   port, "/readyz")


def _generate(port: int, kinds: str, batch: int, conns: int, seconds: float = 0, warmup: float = 0,
              requests: int = 0) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "load", "--port", str(port), "--kinds", kinds, "--batch", str(batch),
         "--conns", str(conns), "--seconds", str(seconds), "--warmup", str(warmup), "--requests", str(requests)],
        env=_env(), capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"load generator failed: {out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _cpu_seconds(pid: int) -> float:
    import psutil

    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


def _rss_mb(pid: int) -> float:
    import psutil

    return float(psutil.Process(pid).memory_info().rss) / 2**20


def _metric(text: str, name: str, labels: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + "{" + labels + "}") or (not labels and line.startswith(name + " ")):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


# --- the store phase (in this process) --------------------------------------------------------------
def _store_batches(batches: int, size: int) -> list[tuple[str, bytes]]:
    """Bodies of predictions and activities with time-ordered ids, as the client makes them (client.py)."""
    bodies: list[tuple[str, bytes]] = []
    base = time.time_ns()
    for b in range(batches):
        ids = [f"{base + b * size + i:016x}{i:016x}" for i in range(size)]
        bodies.append(("prediction", ("[" + ",".join(f'{{"id":"{k}","model":"m","score":0.{i % 10}}}'
                                                    for i, k in enumerate(ids)) + "]").encode()))
        bodies.append(("activity", ("[" + ",".join(f'{{"event_id":"a{k}","user":"user-{k[-8:]}{b}"}}'
                                                  for k in ids) + "]").encode()))
    return bodies


def _store_cpu(tmp: Path, name: str, bodies: list[tuple[str, bytes]], bound: int, hashed: bool) -> float:
    """CPU seconds of applying and committing ``bodies`` into a new store, one transaction each."""
    from aivitals.sidecar.app import retention_from
    from aivitals.sidecar.apply import Applier
    from aivitals.sidecar.keys import id_hasher, user_hasher
    from aivitals.sidecar.ledger import Ledger
    from aivitals.sidecar.settings import Settings
    from aivitals.sidecar.store import SQLiteStore
    from aivitals.sidecar.validate import Parser

    settings = Settings(store=tmp / f"{name}.db", prediction_max_count=bound, user_max_count=bound,
                        dedup_max_count=bound)
    store, ledger, key = SQLiteStore(settings.store, retention_from(settings)), Ledger(), os.urandom(32)
    ids, users = (id_hasher(key), user_hasher(key)) if hashed else (str.encode, str.encode)
    applier = Applier(store, ledger, settings, users, ids)
    parsers = {kind: Parser(settings, kind) for kind in ("prediction", "activity")}
    events = [parsers[kind].parse(body, "application/json", time.time()) for kind, body in bodies]
    start = time.process_time()
    for batch in events:
        now = time.time()
        store.begin()
        store.evict(now)
        with store.isolated():
            applier.apply(batch, now)
        store.evict(now)
        store.save_series(ledger.take_dirty())
        store.commit()
    cpu = time.process_time() - start
    store.close()
    return cpu


def store_phase(tmp: Path, events: int) -> dict[str, float]:
    """Hashed against raw ids over the same events, alternated twice so drifting load hits both alike."""
    size = 1000
    bodies = _store_batches(max(1, events // (2 * size)), size)
    cpu = {"raw": 0.0, "hashed": 0.0}
    for round_ in range(2):
        for mode in ("raw", "hashed"):
            cpu[mode] += _store_cpu(tmp, f"store-{mode}-{round_}", bodies, events // 10, mode == "hashed")
    n = 2 * len(bodies) * size
    return {"store_events": n // 2, "store_raw_events_per_cpu_second": round(n / cpu["raw"]),
            "store_hashed_events_per_cpu_second": round(n / cpu["hashed"]),
            "store_hashed_over_raw_cpu": round(cpu["hashed"] / cpu["raw"], 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command")
    bare = sub.add_parser("bare")
    bare.add_argument("--port", type=int, required=True)
    load = sub.add_parser("load")
    for name, kind in (("port", int), ("batch", int), ("conns", int), ("seconds", float), ("warmup", float),
                       ("requests", int)):
        load.add_argument(f"--{name}", type=kind, default=0)
    load.add_argument("--kinds", default="prediction")
    parser.add_argument("--quick", action="store_true", help="shorter phases and 100,000 events for RSS")
    args = parser.parse_args()
    if args.command == "bare":
        serve_bare(args.port)
        return
    if args.command == "load":
        run_load(args)
        return

    seconds, warmup = (3.0, 0.5) if args.quick else (8.0, 1.0)
    fill_events = 100_000 if args.quick else 1_000_000
    results: dict[str, Any] = {"benchmark": "sidecar_ingest", "cpus": os.cpu_count(),
                               "load_average_at_start": round(os.getloadavg()[0], 2)}
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start (other processes share them)")
    with tempfile.TemporaryDirectory(prefix="aivitals-bench-") as tmp:
        bare_port, durable_port = _free_port(), _free_port()
        with _server([__file__, "bare", "--port", str(bare_port)], bare_port, "/v1/predictions") as bare, \
                _sidecar(Path(tmp) / "throughput.db", durable_port, {}) as durable:
            for label, batch, conns in (("single", 1, 32), ("batch1000", 1000, 4)):
                for name, port, pid in (("bare", bare_port, bare.pid), ("durable", durable_port, durable.pid)):
                    cpu = _cpu_seconds(pid)
                    r = _generate(port, "prediction", batch, conns, seconds, warmup)
                    per_cpu = r["all_events"] / max(_cpu_seconds(pid) - cpu, 1e-9)
                    print(f"{label:9} {name:7} {r['events_per_second']:>10,.0f} events/s  "
                          f"p50 {r['p50_ms']:7.2f} ms  p99 {r['p99_ms']:7.2f} ms  "
                          f"{per_cpu:>10,.0f} events per server CPU-second  ({conns} connections)")
                    for key in ("events_per_second", "p50_ms", "p99_ms"):
                        results[f"{label}_{name}_{key}"] = round(r[key], 3)
                    results[f"{label}_{name}_events_per_cpu_second"] = round(per_cpu)
        results["single_durable_over_bare"] = round(
            results["single_durable_events_per_second"] / results["single_bare_events_per_second"], 3)
        results["batch1000_durable_cpu_over_bare"] = round(  # CPU per durable event, bare endpoint's = 1
            results["batch1000_bare_events_per_cpu_second"] / results["batch1000_durable_events_per_cpu_second"], 3)
        store = store_phase(Path(tmp), fill_events // 2)
        results.update(store)
        print(f"store     {store['store_events']:,} events through the writer's path: "
              f"{store['store_hashed_events_per_cpu_second']:,} per CPU-second with hashed ids, "
              f"{store['store_raw_events_per_cpu_second']:,} unhashed ({store['store_hashed_over_raw_cpu']}x the CPU)")

        bound = fill_events // 10
        config = {"prediction_max_count": bound, "user_max_count": bound, "dedup_max_count": bound}
        fill_port = _free_port()
        with _sidecar(Path(tmp) / "fill.db", fill_port, config) as proc:
            _generate(fill_port, "prediction,activity", 1000, 2, requests=20)
            rss_start = _rss_mb(proc.pid)
            r = _generate(fill_port, "prediction,activity", 1000, 4, requests=fill_events // 1000)
            rss_end = _rss_mb(proc.pid)
            text = _get(fill_port, "/metrics")[1].decode()
            store_mb = sum(p.stat().st_size for p in Path(tmp).glob("fill.db*")) / 2**20
        accepted = sum(_metric(text, "aivitals_events_total", f'event_kind="{k}",result="accepted"')
                       for k in ("prediction", "activity"))
        results.update({
            "fill_events": int(r["events"]), "fill_events_per_second": round(r["events_per_second"]),
            "fill_accepted": int(accepted), "retention_bound": bound,
            "evicted_predictions": int(_metric(text, "aivitals_store_evictions_total", 'event_kind="prediction"')),
            "evicted_users": int(_metric(text, "aivitals_store_evictions_total", 'event_kind="activity"')),
            "rss_mb_start": round(rss_start, 1), "rss_mb_after_fill": round(rss_end, 1),
            "store_mb_after_fill": round(store_mb, 1),
        })
        print(f"fill: {r['events']:,} events (new user keys and predictions) at {r['events_per_second']:,.0f}/s; "
              f"RSS {rss_start:.0f} -> {rss_end:.0f} MiB; evicted {results['evicted_predictions']:,} predictions, "
              f"{results['evicted_users']:,} user keys (bound {bound:,} each)")
    results["targets"] = {
        "single_durable_at_least_half_of_bare": results["single_durable_over_bare"] >= 0.5,
        "batch1000_durable_at_least_50000_per_second": results["batch1000_durable_events_per_second"] >= 50_000,
    }
    print(json.dumps(results))


if __name__ == "__main__":
    main()
