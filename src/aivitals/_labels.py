"""Bounded label values: unknown, malformed or excess values fold into ``other``."""

from __future__ import annotations

import re
import threading

from ._health import Health
from .catalogue.values import OTHER

#: What an open label value may look like: short, no spaces, no quotes. A prompt fails this.
_SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,63}")
_MAX_LEN = 64


class LabelGuard:
    """Folds label values per the catalogue's allow-list, with per-label caps on open labels.

    Thread-safe; meant to be called when a series is first created, not per call.
    """

    def __init__(self, health: Health, caps: dict[str, int] | None = None) -> None:
        from .catalogue import LABELS  # loaded with the first Tracker, not at import

        self._labels = LABELS
        self._health = health
        self._caps = {name: label.max_values for name, label in LABELS.items() if not label.closed}
        self._caps.update(caps or {})
        self._seen: dict[str, set[str]] = {}
        self._lock = threading.Lock()

    def value(self, label: str, raw: object) -> str:
        """The value to export for ``raw`` on ``label``."""
        spec = self._labels[label]
        if not isinstance(raw, str) or len(raw) > _MAX_LEN:
            return self._folded(label)
        raw = str.__str__(raw)  # a str subclass (an enum member) as plain text: its own __eq__ never runs
        if spec.closed:
            return raw if raw in spec.values else self._folded(label)
        if not _SAFE.fullmatch(raw):
            return self._folded(label)
        with self._lock:
            seen = self._seen.setdefault(label, set())
            if raw in seen:
                return raw
            if len(seen) >= self._caps[label]:
                fold = True
            else:
                seen.add(raw)
                fold = False
        return self._folded(label) if fold else raw

    def _folded(self, label: str) -> str:
        self._health.fold(label)
        return OTHER
