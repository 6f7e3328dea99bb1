"""The opt-in LLM judge against a fake OpenAI-compatible server on 127.0.0.1.

The fake stands in for the judge model only (the narrowest seam): the client's
real HTTP, JSON, timeout, rate budget and circuit breaker run against it.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from aivitals.evaluators.base import Context, Sample
from aivitals.evaluators.judge import Judge
from aivitals.evaluators.judged import JudgedContextPrecision, JudgedGroundedness, JudgedRefusal
from aivitals.evaluators.suite import Suite, default_evaluators

#: How long the fake judge takes to answer in ``slow`` mode: far past the client's timeout.
SLOW_ANSWER_S = 3.0


class FakeJudge:
    """What the fake server answers next: ``mode`` is ok, slow, garbage, 500 or not_json_verdict."""

    def __init__(self) -> None:
        self.mode = "ok"
        self.verdict: dict[str, Any] = {"claims": [{"claim": "a", "supported": True}]}
        self.requests: list[dict[str, Any]] = []


@pytest.fixture
def fake() -> Iterator[tuple[FakeJudge, str]]:
    state = FakeJudge()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            state.requests.append(body)
            if state.mode == "slow":
                time.sleep(SLOW_ANSWER_S)
            if state.mode == "500":
                self.send_response(500)
                self.end_headers()
                self.wfile.write(b"internal error")
                return
            content = "this is not json {" if state.mode == "garbage" else json.dumps(state.verdict)
            reply = {"choices": [{"message": {"role": "assistant", "content": content}}],
                     "usage": {"prompt_tokens": 100, "completion_tokens": 7}}
            data = json.dumps(reply).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            with contextlib.suppress(OSError):  # the client gave up (timeout test)
                self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


CONTEXTS = (Context("a", "Express shipping takes 2 days."), Context("b", "Lunch is at noon."))


def test_a_verdict_is_asked_at_temperature_zero_for_json_and_its_tokens_counted(fake: tuple[FakeJudge, str]) -> None:
    state, url = fake
    judge = Judge(url, "judge-1", "secret-key")
    state.verdict = {"claims": [{"claim": "x", "supported": True}, {"claim": "y", "supported": False}]}
    verdict = JudgedGroundedness(judge).evaluate(Sample("Express takes 2 days. It is free.", "q", CONTEXTS))
    assert verdict.method == "judge" and verdict.score == pytest.approx(0.5) and verdict.flag is True
    sent = state.requests[-1]
    assert sent["temperature"] == 0 and sent["model"] == "judge-1"
    assert sent["response_format"] == {"type": "json_object"}
    assert judge.stats.calls["ok"] == 1
    assert (judge.stats.input_tokens, judge.stats.output_tokens) == (100, 7)


def test_context_relevance_and_refusal_use_the_judge(fake: tuple[FakeJudge, str]) -> None:
    state, url = fake
    judge = Judge(url, "m")
    state.verdict = {"relevant": [False, True]}
    precision = JudgedContextPrecision(judge).evaluate(Sample("x", "q", CONTEXTS))
    assert precision.method == "judge" and precision.score == pytest.approx(0.5)
    state.verdict = {"refused": True}
    refusal = JudgedRefusal(judge).evaluate(Sample("Well, hmm, let's not go there."))
    assert refusal.method == "judge" and refusal.flag is True


def test_garbage_answers_fall_back_to_the_lexical_evaluator_and_are_counted(fake: tuple[FakeJudge, str]) -> None:
    state, url = fake
    judge = Judge(url, "m")
    state.mode = "garbage"
    verdict = JudgedGroundedness(judge).evaluate(Sample("Express shipping takes 2 days.", "q", CONTEXTS))
    assert verdict.method == "lexical" and verdict.score == 1.0
    state.mode, state.verdict = "ok", {"claims": [{"claim": "x", "supported": "maybe"}]}
    assert JudgedGroundedness(judge).evaluate(Sample("Express shipping takes 2 days.", "q", CONTEXTS)).method \
        == "lexical"
    assert judge.stats.calls["invalid"] == 1  # the second answer was valid JSON, just not a verdict
    assert judge.stats.calls["ok"] == 1


def test_a_500_and_a_timeout_are_counted_and_never_raise(fake: tuple[FakeJudge, str]) -> None:
    state, url = fake
    judge = Judge(url, "m", timeout=0.1, failures_to_open=10)
    state.mode = "500"
    assert judge.ask("i", "c") is None
    state.mode = "slow"
    started = time.monotonic()
    assert judge.ask("i", "c") is None
    # gave up at its 0.1 s timeout, not when the server answered (a wide margin: CI machines are loaded)
    assert time.monotonic() - started < SLOW_ANSWER_S - 1.0
    assert judge.stats.calls["error"] == 1 and judge.stats.calls["timeout"] == 1


def test_the_circuit_opens_after_failures_and_closes_after_the_cooldown(fake: tuple[FakeJudge, str]) -> None:
    state, url = fake
    now = [0.0]
    judge = Judge(url, "m", failures_to_open=2, cooldown=30.0, clock=lambda: now[0])
    state.mode = "500"
    judge.ask("i", "c")
    judge.ask("i", "c")
    sent = len(state.requests)
    assert judge.ask("i", "c") is None
    assert len(state.requests) == sent and judge.stats.calls["circuit_open"] == 1
    now[0] = 31.0
    state.mode = "ok"
    assert judge.ask("i", "c") == state.verdict
    assert len(state.requests) == sent + 1


def test_the_rate_budget_skips_calls_over_it(fake: tuple[FakeJudge, str]) -> None:
    _state, url = fake
    now = [0.0]
    judge = Judge(url, "m", calls_per_minute=12, clock=lambda: now[0])  # bucket of 1 call, one per 5 s
    assert judge.ask("i", "c") is not None
    assert judge.ask("i", "c") is None and judge.stats.calls["rate_limited"] == 1
    now[0] = 5.0
    assert judge.ask("i", "c") is not None


def test_an_unreachable_judge_leaves_every_score_to_the_lexical_evaluators() -> None:
    judge = Judge("http://127.0.0.1:9/v1", "m", timeout=0.2)
    record = Suite(default_evaluators(judge)).evaluate(Sample("Express shipping takes 2 days.", "q", CONTEXTS))
    assert record.groundedness == 1.0 and record.method["groundedness"] == "lexical"
    assert record.errors == []
