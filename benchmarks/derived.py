"""What the sidecar's computed gauges cost a scrape: computed in the request against served while refreshed.

A SQLite store holds ``--predictions`` labelled binary predictions (the default
is the retention cap, a million) and as many active users, written straight into
the tables the sidecar reads. Each round moves a manual clock past
``derived_refresh_seconds`` and times ``DerivedGauges.get()``, what a scrape of
``/metrics`` calls: once with ``derived_refresh_seconds: 0`` (the computation in
the request: how every scrape worked before, and the baseline) and once with the
default 10 s (a stale set served, the next computed in the background). Between
background rounds the benchmark waits for the refresh to finish, so each round
is a scrape that finds the figures stale. The ratio is the slowest background
scrape over the fastest in-request one. The last line is one JSON object.

    PYTHONPATH=src python benchmarks/derived.py [--predictions 1000000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import tempfile
import time
from pathlib import Path

import numpy as np

from aivitals.sidecar.app import retention_from
from aivitals.sidecar.derived import DerivedGauges
from aivitals.sidecar.ledger import Ledger
from aivitals.sidecar.settings import Settings
from aivitals.sidecar.store import SQLiteStore

DAY = 86400.0
NOW = 1_790_000_000.0


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


def fill(path: Path, settings: Settings, n: int) -> None:
    """``n`` labelled predictions of three models and ``n`` users over 29 days, in the sidecar's own tables."""
    SQLiteStore(path, retention_from(settings)).close()  # the schema, as the sidecar creates it
    rng = np.random.default_rng(7)
    labelled = NOW - rng.uniform(0, 29 * DAY, n)
    scores = rng.uniform(0, 1, n)
    actual = rng.uniform(0, 1, n) < scores
    db = sqlite3.connect(path)
    columns = [r[1] for r in db.execute("PRAGMA table_info(predictions)")]
    row = {"model": "", "time": 0.0, "received": 0.0, "predicted": "yes", "positive": 1, "score": 0.0,
           "confidence": None, "positive_class": None, "groups": None, "labelled_at": 0.0, "actual_positive": 0}

    def prediction(i: int) -> tuple[object, ...]:
        values = dict(row, id=os.urandom(16).hex(), model=f"m{i % 3}", time=float(labelled[i]),
                      received=float(labelled[i]), score=float(scores[i]), labelled_at=float(labelled[i]),
                      actual_positive=int(actual[i]))
        return tuple(values[c] for c in columns)

    db.executemany(f"INSERT INTO predictions VALUES ({','.join('?' * len(columns))})",
                   (prediction(i) for i in range(n)))
    db.executemany("INSERT INTO users VALUES (?, ?, ?, NULL)",
                   ((os.urandom(16), NOW - 29 * DAY, float(t)) for t in labelled))
    db.commit()
    db.close()


def scrapes(path: Path, refresh: float, rounds: int) -> list[float]:
    """Seconds each of ``rounds`` scrapes waited, each finding the figures stale (the first one, which
    computes in the request whatever the setting, is not counted)."""
    settings = Settings(store=path, derived_refresh_seconds=refresh)
    store, clock = SQLiteStore(path, retention_from(settings)), Clock()
    gauges = DerivedGauges(store, Ledger(), settings, clock)
    gauges.get()
    waits = []
    for _ in range(rounds):
        clock.now += max(refresh, 1.0) * 1000  # stale, and past any spacing after a slow computation
        started = time.perf_counter()
        gauges.get()
        waits.append(time.perf_counter() - started)
        running = gauges._refreshing
        if running is not None:
            running.join()
    gauges.close()
    store.close()
    return waits


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--predictions", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="aivitals-bench-derived-") as tmp:
        path = Path(tmp) / "sidecar.db"
        fill(path, Settings(store=path), args.predictions)
        in_request = scrapes(path, 0.0, args.rounds)
        background = scrapes(path, 10.0, args.rounds)
    figures = {
        "benchmark": "derived", "predictions": args.predictions, "rounds": args.rounds,
        "in_request_scrape_s_min": round(min(in_request), 6),
        "background_scrape_s_max": round(max(background), 6),
        "ratio_background_over_in_request": round(max(background) / min(in_request), 6),
    }
    print(f"scrape with the gauges computed in the request: {min(in_request):.3f} s at best; "
          f"served while refreshed: {max(background) * 1e3:.3f} ms at worst")
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
