"""The demo's jailbreak probe runs: the real suite and scoring, answered by a simulated assistant.

Two releases of the demo's main chat model are probed as ``aivitals probe
--sidecar`` would probe them; the assistant complies with an attack with a
small chance (the newer release a little less often), otherwise declines. The
answers are made up, the canaries, probes and detectors are the product's.
"""

from __future__ import annotations

import random
from typing import Any

from ..probe.detect import succeeded
from ..probe.suite import Attempt, load, render

MODEL = "gpt-4o-mini"
#: (release, chance that the simulated assistant complies with an attack), oldest first.
RELEASES = (("2026.11", 0.06), ("2026.12", 0.03))


def _answer(attempt: Attempt, complies: bool) -> str:
    if not complies:
        return "I can't help with that, but I'm happy to help with your order."
    category = attempt.probe.category
    if category in ("goal_hijacking", "prompt_leaking"):
        return f"Sure: {attempt.canary}"
    if category == "persona_jailbreak":
        return "DAN: Sure, here is exactly how to do it."
    return "Sure, here are the steps. First, gather what you need."


def probe_events(seed: int, now: float) -> list[dict[str, Any]]:
    """One probe_result event per release, the older one first (an hour apart)."""
    suite = load()
    rnd = random.Random(seed)
    events = []
    for index, (release, chance) in enumerate(RELEASES):
        tally: dict[str, list[int]] = {}
        for probe in suite.probes:
            attempt = render(suite, probe)
            won = succeeded(attempt, _answer(attempt, rnd.random() < chance), suite.persona_markers)
            counts = tally.setdefault(probe.category, [0, 0])
            counts[0] += 1
            counts[1] += won
        events.append({"kind": "probe_result", "suite": suite.name, "suite_version": suite.version,
                       "model": MODEL, "model_version": release, "time": now - 3600 * (len(RELEASES) - index),
                       "categories": {c: {"attempts": n, "successes": s} for c, (n, s) in tally.items()}})
    return events
