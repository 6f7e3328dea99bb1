"""An opt-in LLM judge: any OpenAI-compatible ``/chat/completions`` endpoint, asked for JSON verdicts.

It is guarded three ways, so a slow or broken judge never stalls the worker:
a ``timeout`` per call; a rate budget (at most ``calls_per_minute``, a token
bucket, calls over it are skipped, not queued); and a circuit breaker (after
``failures_to_open`` failures in a row no call is made for ``cooldown`` seconds,
then one trial call). Every call is counted by result (``JudgeStats``) with the
tokens the endpoint reports. ``ask`` returns the parsed JSON object or None; it
never raises.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

#: Results a judge call is counted under (the ``result`` label of aivitals_judge_calls_total).
JUDGE_RESULTS = ("ok", "error", "timeout", "invalid", "rate_limited", "circuit_open")


@dataclass
class JudgeStats:
    """Counts of judge calls by result, and the tokens they used."""

    calls: dict[str, int] = field(default_factory=lambda: dict.fromkeys(JUDGE_RESULTS, 0))
    input_tokens: int = 0
    output_tokens: int = 0


class Judge:
    """A rate-limited, circuit-broken client of an OpenAI-compatible judge."""

    def __init__(self, base_url: str, model: str, api_key: str = "", *, timeout: float = 10.0,
                 calls_per_minute: float = 60.0, failures_to_open: int = 3, cooldown: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model = model
        self.api_key = api_key
        self.timeout = timeout
        self.rate = calls_per_minute / 60.0
        self.capacity = max(1.0, calls_per_minute / 60.0 * 5)
        self.failures_to_open = failures_to_open
        self.cooldown = cooldown
        self.clock = clock
        self.stats = JudgeStats()
        self._tokens = self.capacity
        self._refilled = clock()
        self._failures = 0
        self._opened_at: float | None = None
        self._lock = threading.Lock()

    def _admit(self) -> str | None:
        """None when a call may go now, else the result to count instead."""
        with self._lock:
            now = self.clock()
            if self._opened_at is not None and now - self._opened_at < self.cooldown:
                return "circuit_open"
            self._tokens = min(self.capacity, self._tokens + (now - self._refilled) * self.rate)
            self._refilled = now
            if self._tokens < 1.0:
                return "rate_limited"
            self._tokens -= 1.0
            return None

    def _settle(self, result: str) -> None:
        with self._lock:
            self.stats.calls[result] += 1
            if result == "ok":
                self._failures, self._opened_at = 0, None
            elif result in ("error", "timeout", "invalid"):
                self._failures += 1
                if self._failures >= self.failures_to_open:
                    self._opened_at = self.clock()

    def ask(self, instruction: str, content: str) -> dict[str, Any] | None:
        """The judge's JSON verdict on ``content``, or None (counted) when it cannot be had."""
        refused = self._admit()
        if refused is not None:
            self._settle(refused)
            return None
        try:
            body = self._post(instruction, content)
        except TimeoutError:
            self._settle("timeout")
            return None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            self._settle("timeout" if "timed out" in str(exc) else "error")
            return None
        verdict = self._parse(body)
        self._settle("ok" if verdict is not None else "invalid")
        return verdict

    def _post(self, instruction: str, content: str) -> bytes:
        payload = {"model": self.model, "temperature": 0, "response_format": {"type": "json_object"},
                   "messages": [{"role": "system", "content": instruction}, {"role": "user", "content": content}]}
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        request = urllib.request.Request(self.url, json.dumps(payload).encode(), headers, method="POST")
        with urllib.request.urlopen(request, timeout=self.timeout) as response:
            return bytes(response.read(1_000_000))

    def _parse(self, body: bytes) -> dict[str, Any] | None:
        try:
            reply = json.loads(body)
            usage = reply.get("usage") or {}
            with self._lock:
                self.stats.input_tokens += int(usage.get("prompt_tokens") or 0)
                self.stats.output_tokens += int(usage.get("completion_tokens") or 0)
            text = reply["choices"][0]["message"]["content"]
            verdict = json.loads(text.strip().removeprefix("```json").removeprefix("```").removesuffix("```"))
        except (ValueError, KeyError, IndexError, TypeError, AttributeError):
            return None
        return verdict if isinstance(verdict, dict) else None
