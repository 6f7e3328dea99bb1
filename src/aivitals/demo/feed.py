"""What a real service sends the sidecar after the model call, simulated.

Delayed labels for the classifier's predictions, KPI exposures and
conversions for a treatment cohort and a 10% control holdout, units of work
with their cycle time and human cost, user activity, surveys, incidents
with their detection and resolution times, a training run and fresh ground
truth. Events are queued by the ticket threads and sent in batches by one
thread through the public client, with its retries.
"""

from __future__ import annotations

import math
import random
import secrets
import threading
import time
from pathlib import Path
from typing import Any

from ..sidecar.client import SidecarClient
from ..sidecar.settings import Settings
from .probes import probe_events

KPI = "first_contact_resolution"
MODEL = "ticket-router-v3"
USERS = 400  # agents eligible to use the assistant
USER_POOL = 260  # of whom this many ever try it


#: The demo's thresholds file: its service's own latency objective and the capacity peak load is judged by.
THRESHOLDS = """\
thresholds:
  latency_p95_seconds:
    per:
      - service: support-assistant
        warning: 2.56
        critical: 5.12
capacity:
  - service: support-assistant
    model: gpt-4o-mini
    requests_per_second: 40
  - service: support-assistant
    model: gpt-4o
    requests_per_second: 10
"""


def sidecar_settings(store: Path, port: int) -> Settings:
    """The demo's declared KPI, cohorts, fairness groups, fixed costs, eligible users and thresholds."""
    thresholds = store.parent / "thresholds.yaml"
    thresholds.write_text(THRESHOLDS, encoding="utf-8")
    return Settings(store=store, host="127.0.0.1", port=port, eligible_users=USERS, kpis=(KPI,),
                    fixed_costs_usd_per_month={"compute": 1800.0, "storage": 150.0, "maintenance": 2500.0},
                    fairness={"channel": ("email", "chat", "phone", "web")}, derived_refresh_seconds=1.0,
                    thresholds=thresholds,
                    user_key_secret=secrets.token_hex(16),  # a throwaway store: a throwaway key, no warning
                    classes={MODEL: ("true", "false")})  # the router's two classes: a confusion matrix per class


class SidecarFeed:
    """Queues the demo's events and sends them every ``interval`` seconds."""

    def __init__(self, client: SidecarClient, seed: int, interval: float = 0.5) -> None:
        self.client = client
        self.interval = interval
        self.sent = 0
        self.failed = 0
        self._seed = seed
        self._queue: list[dict[str, Any]] = []
        self._pending_labels: list[tuple[float, dict[str, Any]]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="aivitals-demo-feed", daemon=True)
        self._incidents = 0

    def start(self) -> None:
        now = time.time()
        self._put({"kind": "training_run", "model": MODEL, "time": now - 19 * 86400},
                  {"kind": "ground_truth", "model": MODEL, "time": now - 3600},
                  *probe_events(self._seed, now))
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(30)
        self._flush(final=True)

    def _put(self, *events: dict[str, Any]) -> None:
        with self._lock:
            self._queue.extend(events)

    def ticket(self, index: int, rnd: random.Random, channel: str, confidence: float, resolved: bool) -> None:
        """The events one ticket produces, drawn from the ticket's own generator."""
        cohort = "control" if rnd.random() < 0.10 else "treatment"
        converted = rnd.random() < (0.48 if cohort == "control" else 0.62)
        minutes = rnd.lognormvariate(math.log(14 if cohort == "control" else 6), 0.5)
        predicted = confidence > 0.5
        correct = rnd.random() < (confidence if channel != "phone" else confidence - 0.06)
        prediction: dict[str, Any] = {"kind": "prediction", "id": f"demo-{self._seed}-{index}", "model": MODEL,
                      "predicted": predicted, "confidence": confidence, "groups": {"channel": channel}}
        events: list[dict[str, Any]] = [prediction,
                  {"kind": "exposure", "kpi": KPI, "cohort": cohort},
                  {"kind": "work_unit", "cohort": cohort, "duration_seconds": minutes * 60,
                   "human_cost_usd": minutes * 0.55}]
        if converted:
            events.append({"kind": "conversion", "kpi": KPI, "cohort": cohort})
        user = f"agent-{int(rnd.triangular(0, USER_POOL, 0)):04d}"
        events.append({"kind": "activity", "user": user, "productive": resolved})
        if rnd.random() < 0.05:
            events.append({"kind": "survey", "score": min(10, max(0, round(rnd.gauss(8.0, 1.8))))})
        if index % 400 == 25:  # an incident early on, then now and again
            events.extend(self._incident(rnd))
        label = {"kind": "label", "prediction_id": prediction["id"],
                 "actual": predicted if correct else not predicted}
        with self._lock:
            self._queue.extend(events)
            self._pending_labels.append((time.monotonic() + rnd.uniform(1.0, 4.0), label))

    def _incident(self, rnd: random.Random) -> list[dict[str, Any]]:
        """An incident in the past: occurred, detected after a while, resolved later."""
        self._incidents += 1
        now = time.time()
        detect = rnd.lognormvariate(math.log(25 * 60), 0.6)
        resolve = rnd.lognormvariate(math.log(90 * 60), 0.5)
        occurred = now - detect - resolve
        return [{"kind": "incident", "id": f"demo-{self._seed}-inc-{self._incidents}",
                 "severity": rnd.choice(("high", "medium", "medium", "low")), "occurred_at": occurred,
                 "detected_at": occurred + detect, "resolved_at": occurred + detect + resolve}]

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self._flush()

    def _flush(self, final: bool = False) -> None:
        now = time.monotonic()
        with self._lock:
            due = [label for at, label in self._pending_labels if final or at <= now]
            self._pending_labels = [(at, label) for at, label in self._pending_labels if not final and at > now]
            batch, self._queue = self._queue + due, []
        for start in range(0, len(batch), 5000):
            chunk = batch[start:start + 5000]
            try:
                self.client.send_events(chunk)
                self.sent += len(chunk)
            except Exception:  # the sidecar is down or refused: the demo goes on, the count says so
                self.failed += len(chunk)
