"""A simulated AI service, instrumented through the public SDK exactly as a user would.

An LLM support assistant (retrieval, streaming answers, prompt and retrieval
caches, refusals, provider errors) and a self-hosted ticket classifier, on a
daily traffic shape with spikes. Responses have the shapes the OpenAI and
Anthropic APIs return, so the SDK reads usage from them as it would in
production. Time is simulated: ``speed`` simulated seconds pass per real one.
"""

from __future__ import annotations

import contextlib
import math
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ..pricing import Price, PriceTable
from ..tracker import Tracker
from .answers import AnswerEvaluator

#: The classifier is ours, so its price is our own GPU-hour price: a user's price file, merged.
DEMO_PRICES = PriceTable({"ticket-router-v3": Price(provider="self_hosted", gpu_hour=1.20, gpus=1)})

CHAT_MODELS = (("gpt-4o-mini", 0.70), ("gpt-4o", 0.12), ("claude-haiku-4-5", 0.18))
SECONDS_PER_DAY = 86400.0


class RateLimitError(Exception):
    """Stands in for a provider's 429."""


class APITimeoutError(Exception):
    """Stands in for a provider's request timeout."""


@dataclass
class Shape:
    """Simulated calls per second over the day: office hours, a lunch dip, random spikes."""

    base_per_second: float = 1.5
    seed: int = 0

    def rate(self, sim_seconds: float) -> float:
        hour = (sim_seconds % SECONDS_PER_DAY) / 3600.0
        office = math.exp(-((hour - 11.0) ** 2) / 8.0) + 0.8 * math.exp(-((hour - 15.5) ** 2) / 6.0)
        spike = 3.0 if int(sim_seconds // 900 + self.seed) % 23 == 0 else 1.0
        return self.base_per_second * (0.15 + office) * spike


class SimClock:
    """Simulated seconds: real elapsed time times ``speed``, from a start hour of the day."""

    def __init__(self, speed: float, start_hour: float = 8.0) -> None:
        self.speed = speed
        self._origin = time.perf_counter()
        self._offset = start_hour * 3600.0

    def __call__(self) -> float:
        return self._offset + (time.perf_counter() - self._origin) * self.speed

    def sleep(self, sim_seconds: float) -> None:
        time.sleep(max(sim_seconds, 0.0) / self.speed)


def _openai_chat(model: str, prompt: int, completion: int, cached: int, refusal: bool) -> dict[str, Any]:
    message = {"role": "assistant", "content": None if refusal else "...", "refusal": "I can't help with that."
               if refusal else None}
    return {"id": "chatcmpl-demo", "object": "chat.completion", "model": model,
            "choices": [{"index": 0, "finish_reason": "stop", "message": message}],
            "usage": {"prompt_tokens": prompt, "completion_tokens": completion,
                      "total_tokens": prompt + completion, "prompt_tokens_details": {"cached_tokens": cached},
                      "completion_tokens_details": {"reasoning_tokens": 0}}}


CHANNELS = ("email", "chat", "phone", "web")


def ticket_features(rnd: random.Random, sim_seconds: float) -> tuple[float, float, str]:
    """The classifier's inputs: ticket length, customer tenure in days, channel.

    From the afternoon of day 1 a product launch brings longer tickets from
    new customers: the drift the Engineering dashboard shows.
    """
    launched = sim_seconds > 14 * 3600
    length = rnd.lognormvariate(math.log(420 if launched else 300), 0.5)
    tenure = rnd.expovariate(1 / (120 if launched else 400))
    channel = rnd.choices(CHANNELS, weights=(4, 3, 1, 2))[0]
    return length, tenure, channel


def reference_profile(seed: int, rows: int = 5000) -> Any:
    """The classifier's training data, profiled: what drift is measured against."""
    from ..drift import build_profile

    rnd = random.Random(seed + 99)
    data = [ticket_features(rnd, 0.0) for _ in range(rows)]
    confidence = [min(0.999, rnd.betavariate(9, 1.5)) for _ in range(rows)]
    columns: dict[str, list[Any]] = {
        "ticket_length": [d[0] for d in data], "customer_tenure_days": [d[1] for d in data],
        "channel": [d[2] for d in data], "confidence": confidence}
    return build_profile(columns, bins=10, prediction_column="confidence")


class DemoService:
    """The simulated service. Each ticket draws from its own seeded generator, so a seed
    gives the same tickets whatever the thread scheduling."""

    def __init__(self, tracker: Tracker, clock: SimClock, seed: int = 0, drift: Any = None,
                 feed: Any = None, gpu: Any = None) -> None:
        self.tracker = tracker
        self.clock = clock
        self.seed = seed
        self.drift = drift  # a DriftRecorder for the classifier, or None
        self.feed = feed  # a SidecarFeed, or None without the sidecar
        self.gpu = gpu  # a SimulatedGpu the classifier runs on, or None
        self.answers = AnswerEvaluator(tracker)  # aivitals' own evaluators score each simulated answer
        track = tracker.track
        self.chat = {model: track(model=model)(self._chat_fn(model)) for model in ("gpt-4o-mini", "gpt-4o")}
        self.stream = track(model="claude-haiku-4-5", provider="anthropic")(self._stream_fn)
        self.embed = track(model="text-embedding-3-small", operation="embeddings")(self._embed_fn)
        self.classify = track(model="ticket-router-v3", operation="classify", provider="self_hosted")(
            self._classify_fn)

    def _latency(self, rnd: random.Random, median: float, spread: float = 0.45) -> float:
        return rnd.lognormvariate(math.log(median), spread)

    @staticmethod
    def _fail_maybe(rnd: random.Random, error_rate: float) -> None:
        roll = rnd.random()
        if roll < error_rate * 0.7:
            raise RateLimitError()
        if roll < error_rate:
            raise APITimeoutError()

    def _chat_fn(self, model: str) -> Any:
        median = {"gpt-4o-mini": 0.9, "gpt-4o": 1.6}[model]

        def chat(rnd: random.Random, question_tokens: int, context_tokens: int) -> dict[str, Any]:
            """Answer a support question with retrieved context (simulated)."""
            self.clock.sleep(self._latency(rnd, median))
            self._fail_maybe(rnd, 0.012)
            prompt = question_tokens + context_tokens + 350
            cached = 256 * (prompt // 256) if rnd.random() < 0.38 else 0
            refusal = rnd.random() < 0.03
            completion = 0 if refusal else max(int(rnd.gauss(220, 60)) + 20, 1)
            return _openai_chat(model, prompt, completion, cached, refusal)

        chat.__name__ = f"chat_{model.replace('-', '_')}"
        return chat

    def _stream_fn(self, rnd: random.Random, question_tokens: int, context_tokens: int) -> Iterator[dict[str, Any]]:
        """Stream an answer as Anthropic's Messages API does (simulated)."""
        self.clock.sleep(self._latency(rnd, 0.45, 0.3))
        self._fail_maybe(rnd, 0.008)
        cache_read = 1024 if rnd.random() < 0.4 else 0
        yield {"type": "message_start", "message": {"model": "claude-haiku-4-5", "usage": {
            "input_tokens": question_tokens + context_tokens, "output_tokens": 1,
            "cache_read_input_tokens": cache_read, "cache_creation_input_tokens": 0}}}
        chunks = rnd.randint(8, 30)
        for _ in range(chunks):
            self.clock.sleep(self._latency(rnd, 0.035, 0.3))
            yield {"type": "content_block_delta", "delta": {"type": "text_delta", "text": "..."}}
        yield {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": chunks * 9}}

    def _embed_fn(self, rnd: random.Random, tokens: int) -> dict[str, Any]:
        """Embed a query (simulated)."""
        self.clock.sleep(self._latency(rnd, 0.06, 0.3))
        return {"object": "list", "model": "text-embedding-3-small",
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}

    def _classify_fn(self, rnd: random.Random) -> dict[str, Any]:
        """Route a ticket to a queue with the self-hosted classifier (simulated)."""
        with self.gpu.busy() if self.gpu is not None else contextlib.nullcontext():
            self.clock.sleep(self._latency(rnd, 0.025, 0.25))
        features = ticket_features(rnd, self.clock())
        confidence = min(0.999, rnd.betavariate(9, 1.5) * (0.93 if features[0] > 600 else 1.0))
        if self.drift is not None:
            self.drift.record(features, prediction=confidence)
        return {"label": "billing", "confidence": confidence, "channel": features[2]}

    def handle_ticket(self, index: int) -> None:
        """What one support ticket costs: classify, embed, retrieve, answer, evaluate."""
        tracker = self.tracker
        rnd = random.Random(self.seed * 1_000_003 + index)
        resolved = False
        routed = None
        try:
            routed = self.classify(rnd)
            tracker.record_override("suggested", model="ticket-router-v3")
            if rnd.random() < 0.08:
                tracker.record_override("overridden", model="ticket-router-v3")
                if rnd.random() < 0.25:
                    tracker.record_override("reversed", model="ticket-router-v3")
            hit = rnd.random() < 0.45
            tracker.record_cache("embedding", hit, model="text-embedding-3-small")
            if not hit:
                self.embed(rnd, rnd.randint(12, 80))
            tracker.record_cache("retrieval", rnd.random() < 0.5)
            question, context = rnd.randint(20, 200), rnd.randint(600, 2400)
            model = _pick(rnd)
            if model == "claude-haiku-4-5":
                for _ in self.stream(rnd, question, context):
                    pass
            else:
                self.chat[model](rnd, question, context)
            self.answers.evaluate(rnd, model)
            if rnd.random() < 0.62:
                resolved = True
                tracker.record_outcome("ticket_resolved", value_usd=6.50)
        except (RateLimitError, APITimeoutError):
            pass  # recorded by the decorator as error or timeout; the ticket goes to a person
        if self.feed is not None and routed is not None:
            self.feed.ticket(index, rnd, routed["channel"], routed["confidence"], resolved)


def _pick(rnd: random.Random) -> str:
    roll = rnd.random()
    for model, share in CHAT_MODELS:
        if roll < share:
            return model
        roll -= share
    return CHAT_MODELS[0][0]
