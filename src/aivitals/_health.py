"""The SDK's own health: internal errors and folded label values, counted, logged once."""

from __future__ import annotations

import logging
import threading

log = logging.getLogger("aivitals")


class Health:
    """Counts what went wrong inside aivitals so it never has to raise into user code.

    Log lines name the stage and the exception class only: never a value, which
    could be a prompt, a user id or a secret.
    """

    def __init__(self) -> None:
        self.errors: dict[str, int] = {}
        self.folded: dict[str, int] = {}
        self._logged: set[str] = set()
        self._lock = threading.Lock()

    def error(self, stage: str, exc: BaseException | None = None) -> None:
        with self._lock:
            self.errors[stage] = self.errors.get(stage, 0) + 1
            first = stage not in self._logged
            self._logged.add(stage)
        if first:
            kind = type(exc).__name__ if exc is not None else "invalid input"
            log.warning("aivitals: internal error at stage %r (%s); counted in aivitals_sdk_errors_total, "
                        "further ones are counted silently", stage, kind)

    def fold(self, label: str) -> None:
        with self._lock:
            self.folded[label] = self.folded.get(label, 0) + 1
