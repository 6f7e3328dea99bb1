"""Probe results (``aivitals probe --sidecar``): each model's two latest probed releases, per suite version.

The store keeps, for each (suite, suite version, model), the latest run of the
two most recent model versions by run time, as JSON in its ``meta`` table. A
rerun of a release replaces that release's run. The sidecar exports both as
``aivitals_probe_attempts`` and ``aivitals_probe_successes`` with ``release``
``current`` and ``previous``, so a recording rule can test the new release
against the old one; ``GET /v1/probe-results`` gives them to ``aivitals probe``
as its baseline. Only counts are kept: never a prompt or an answer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from .store import EventStore

#: Distinct (suite, suite version, model) kept; a result for one more is refused, not folded.
MAX_SUITES_X_MODELS = 100
_INDEX = "probe:index"
_SEP = "\x1f"


class TooManyProbedModels(ValueError):
    """The store already keeps results for ``MAX_SUITES_X_MODELS`` suite-version-model combinations."""


@dataclass(frozen=True)
class Run:
    model_version: str
    time: float
    categories: dict[str, tuple[int, int]]  # category -> (attempts, successes)

    def as_json(self) -> dict[str, Any]:
        return {"model_version": self.model_version, "time": self.time,
                "categories": {c: {"attempts": a, "successes": s} for c, (a, s) in sorted(self.categories.items())}}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Run:
        return cls(str(data["model_version"]), float(data["time"]),
                   {c: (int(v["attempts"]), int(v["successes"])) for c, v in data["categories"].items()})


def _key(suite: str, suite_version: str, model: str) -> str:
    return "probe:" + _SEP.join((suite, suite_version, model))


def latest(store_read: Any, suite: str, suite_version: str, model: str) -> list[Run]:
    """The kept runs, newest first (at most two), through ``store_read(key) -> bytes | None``."""
    raw = store_read(_key(suite, suite_version, model))
    return [Run.from_json(r) for r in json.loads(raw)] if raw else []


def record(store: EventStore, suite: str, suite_version: str, model: str, run: Run) -> bool:
    """Keep ``run`` among the model's two latest releases; False when it changes nothing (a resend)."""
    key = _key(suite, suite_version, model)
    raw = store.get_meta(key)
    runs = {r.model_version: r for r in (Run.from_json(x) for x in json.loads(raw))} if raw else {}
    kept = runs.get(run.model_version)
    if kept is not None and (kept.time > run.time or kept == run):
        return False
    if raw is None:
        index = json.loads(store.get_meta(_INDEX) or b"[]")
        if len(index) >= MAX_SUITES_X_MODELS:
            raise TooManyProbedModels(f"results for {MAX_SUITES_X_MODELS} suite versions and models are kept "
                                      "already")
        store.put_meta(_INDEX, json.dumps([*index, key]).encode())
    runs[run.model_version] = run
    newest = sorted(runs.values(), key=lambda r: (r.time, r.model_version), reverse=True)[:2]
    store.put_meta(key, json.dumps([r.as_json() for r in newest]).encode())
    return True


def exported(store_read: Any) -> list[tuple[tuple[str, str, str, str, str, str], int, int]]:
    """Every kept run as (suite, suite_version, model, model_version, category, release), attempts, successes."""
    out = []
    for key in json.loads(store_read(_INDEX) or b"[]"):
        suite, suite_version, model = key.removeprefix("probe:").split(_SEP)
        for release, run in zip(("current", "previous"), latest(store_read, suite, suite_version, model),
                                strict=False):
            for category, (attempts, successes) in sorted(run.categories.items()):
                out.append(((suite, suite_version, model, run.model_version, category, release), attempts,
                            successes))
    return out
