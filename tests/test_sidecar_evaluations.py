"""Evaluation events: the sidecar evaluates a non-Python app's responses and keeps nothing but counts."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from _sidecar import samples, settings
from aivitals.evaluators.base import Sample, Verdict
from aivitals.evaluators.suite import Suite, default_evaluators
from aivitals.sidecar import create_app

EMAIL = "jane.doe.secret@example.org"
QUESTION = "How long is the warranty on the X100 kettle?"
CONTEXTS = [{"id": "doc-1", "text": "The X100 kettle comes with a warranty of two years from the date of purchase."},
            {"id": "doc-2", "text": "Returns are accepted within 30 days with the original receipt."}]
#: Says the warranty is 7 years (the context says two), and leaks an address the user never wrote.
LEAKY = f"The X100 kettle has a warranty of 7 years. Write to {EMAIL} for a replacement."
GROUNDED = "The X100 kettle comes with a warranty of two years from the date of purchase."


def event(response: str = LEAKY, **overrides: object) -> dict[str, object]:
    body: dict[str, object] = {"service": "shop-chat", "model": "gpt-x", "question": QUESTION,
                               "response": response, "contexts": CONTEXTS}
    body.update(overrides)
    return body


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(settings(tmp_path))
    with TestClient(app) as c:
        yield c


def drained(client: TestClient) -> str:
    assert client.app.state.sidecar.evaluations.worker.drain(10.0)  # type: ignore[attr-defined]
    return client.get("/metrics").text


def value(text: str, name: str, **labels: str) -> float:
    """The sum of the samples of ``name`` whose labels include ``labels``."""
    return sum(v for key, v in samples(text, name).items() if set(labels.items()) <= set(key))


def test_a_leaked_email_and_an_unsupported_number_become_a_pii_detection_and_a_hallucination(
        client: TestClient) -> None:
    answer = client.post("/v1/evaluations", json=event())
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"accepted": 1, "duplicate": 0}
    text = drained(client)
    who = {"service": "shop-chat", "model": "gpt-x"}
    assert value(text, "aivitals_pii_detections_total", pii_kind="email", method="lexical", **who) == 1
    assert value(text, "aivitals_evaluations_total", evaluator="hallucination", verdict="fail", method="lexical",
                 **who) == 1
    assert value(text, "aivitals_quality_score_count", evaluator="groundedness", **who) == 1
    assert value(text, "aivitals_quality_score_sum", evaluator="groundedness", **who) < 1.0
    assert value(text, "aivitals_evaluator_responses_total", evaluation_status="evaluated", **who) == 1
    assert value(text, "aivitals_evaluator_responses_total", evaluation_status="error", **who) == 0


def test_a_grounded_answer_on_the_any_kind_endpoint_passes_and_leaks_nothing(client: TestClient) -> None:
    answer = client.post("/v1/events", json=[{"kind": "evaluation", **event(GROUNDED)}])
    assert answer.status_code == 200, answer.text
    text = drained(client)
    assert value(text, "aivitals_evaluations_total", evaluator="hallucination", verdict="pass") == 1
    assert value(text, "aivitals_evaluations_total", evaluator="hallucination", verdict="fail") == 0
    assert value(text, "aivitals_pii_detections_total") == 0


def test_an_email_the_user_wrote_first_is_not_a_leak(client: TestClient) -> None:
    client.post("/v1/evaluations", json=event(f"We will reply to {EMAIL}.", contexts=[],
                                              user_input=f"Reply to {EMAIL} please"))
    assert value(drained(client), "aivitals_pii_detections_total") == 0


def test_the_text_is_in_neither_the_store_nor_the_logs(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    app = create_app(settings(tmp_path))
    with TestClient(app) as client:
        assert client.post("/v1/evaluations", json=event()).status_code == 200
        assert client.post("/v1/evaluations", json=event(contexts="not a list")).status_code == 422
        client.post("/v1/predictions", json={"id": "p1", "model": "gpt-x", "predicted": True})  # a commit too
        drained(client)
    stored = b"".join(path.read_bytes() for path in tmp_path.iterdir() if path.is_file())
    assert stored, "the store was written"
    for secret in (EMAIL, "7 years", "X100", "warranty"):
        assert secret.encode() not in stored
        assert secret not in caplog.text


@pytest.mark.parametrize(("body", "field"), [
    (event(response=5), "response"),
    (event(contexts="doc-1: the warranty is two years"), "contexts"),
    (event(contexts=[{"id": "doc-1"}]), "text"),
    (event(contexts=[{"id": "d", "text": "x" * 20_001}]), "text"),
    (event(contexts=[{"id": str(i), "text": "t"} for i in range(33)]), "contexts"),
    (event(question="q" * 20_001), "question"),
    (event(relevant_context_ids="doc-1"), "relevant_context_ids"),
    (event(model="gpt x with spaces"), "model"),
    (event(prompt="an unknown field"), "prompt"),
    ({"service": "shop-chat", "model": "gpt-x"}, "response"),
])
def test_a_bad_evaluation_event_is_a_422_naming_the_field(client: TestClient, body: dict[str, object],
                                                          field: str) -> None:
    answer = client.post("/v1/evaluations", json=body)
    assert answer.status_code == 422, answer.text
    assert any(field in [str(part) for part in error["loc"]] for error in answer.json()["errors"]), answer.text
    assert EMAIL not in answer.text
    client.post("/v1/surveys", json={"score": 9})  # committed after the rejection's count, which waits for none
    text = drained(client)
    assert value(text, "aivitals_events_total", event_kind="evaluation", result="rejected") == 1
    assert value(text, "aivitals_evaluator_responses_total") == 0


def test_a_response_over_the_limit_is_cut_and_counted(client: TestClient) -> None:
    worker = client.app.state.sidecar.evaluations.worker  # type: ignore[attr-defined]
    huge = GROUNDED + " " + "word " * (worker.config.max_chars // 5 + 10)
    assert client.post("/v1/evaluations", json=event(huge)).status_code == 200
    text = drained(client)
    assert value(text, "aivitals_evaluator_responses_total", evaluation_status="truncated") == 1
    assert value(text, "aivitals_evaluator_responses_total", evaluation_status="evaluated") == 1


def test_evaluation_events_mixed_with_other_kinds_are_queued_and_committed_together(client: TestClient) -> None:
    answer = client.post("/v1/events", json=[{"kind": "evaluation", **event()}, {"kind": "survey", "score": 9}])
    assert answer.json() == {"accepted": 2, "duplicate": 0}
    text = drained(client)
    assert value(text, "aivitals_survey_responses_total") == 1
    assert value(text, "aivitals_evaluator_responses_total", evaluation_status="evaluated") == 1


def test_a_mixed_batch_refused_by_its_commit_queues_no_evaluation(client: TestClient) -> None:
    incident = {"kind": "incident", "id": "i1", "severity": "high", "occurred_at": 1_700_000_000.0}
    assert client.post("/v1/events", json=[incident]).status_code == 200
    earlier = {"kind": "incident", "id": "i1", "severity": "high", "resolved_at": 1_600_000_000.0}
    answer = client.post("/v1/events", json=[{"kind": "evaluation", **event()}, earlier])
    assert answer.status_code == 422, answer.text
    assert value(drained(client), "aivitals_evaluator_responses_total") == 0
    assert client.app.state.sidecar.evaluations.room == 500  # type: ignore[attr-defined]


def test_a_batch_larger_than_the_queue_is_a_413_not_an_endless_503(tmp_path: Path) -> None:
    with TestClient(create_app(settings(tmp_path, evaluation_queue_size=3))) as client:
        answer = client.post("/v1/evaluations", json=[event(GROUNDED)] * 4)
        assert answer.status_code == 413
        assert "evaluation_queue_size" in answer.json()["detail"]


class Gate:
    """An evaluator that waits for the test to open it: the queue fills while the worker waits here."""

    name = "gate"

    def __init__(self) -> None:
        self.open = threading.Event()

    def evaluate(self, sample: Sample) -> Verdict:
        self.open.wait(30.0)
        return Verdict("gate", "lexical")


def test_a_flood_beyond_the_queue_gets_503s_and_every_acknowledged_event_is_evaluated(tmp_path: Path) -> None:
    """The worker is held by a gate evaluator (the one fake here: it only makes the worker slow on cue)."""
    size = 5
    with TestClient(create_app(settings(tmp_path, evaluation_queue_size=size))) as client:
        worker = client.app.state.sidecar.evaluations.worker  # type: ignore[attr-defined]
        gate = Gate()
        worker.suite = Suite([gate, *default_evaluators()])
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda _: client.post("/v1/evaluations", json=event()), range(40)))
        statuses = [a.status_code for a in answers]
        assert set(statuses) == {200, 503}, statuses
        accepted = statuses.count(200)
        assert size <= accepted <= size + 1  # the queue, and at most the one the worker took before waiting
        refused = [a for a in answers if a.status_code == 503]
        assert all(a.headers["Retry-After"] == "1" for a in refused)
        assert all("retry" in a.json()["detail"] for a in refused)
        gate.open.set()
        text = drained(client)
        assert value(text, "aivitals_evaluator_responses_total", evaluation_status="evaluated") == accepted
        assert value(text, "aivitals_evaluator_responses_total", evaluation_status="dropped") == 0
        assert value(text, "aivitals_pii_detections_total", pii_kind="email") == accepted
        assert client.post("/v1/evaluations", json=event()).status_code == 200  # room again once drained


def test_service_and_model_names_beyond_the_caps_fold_into_other(client: TestClient) -> None:
    for i in range(60):
        client.post("/v1/evaluations", json=event(GROUNDED, model=f"model-{i}"))
    text = drained(client)
    models = {dict(key)["model"] for key in samples(text, "aivitals_evaluator_responses_total")}
    assert "other" in models and len(models) <= 51
    assert value(text, "aivitals_evaluator_responses_total", evaluation_status="evaluated") == 60


def test_acknowledged_evaluations_are_evaluated_before_the_sidecar_closes(tmp_path: Path) -> None:
    app = create_app(settings(tmp_path))
    with TestClient(app) as client:
        for _ in range(20):
            assert client.post("/v1/evaluations", json=event()).status_code == 200
        evaluations = app.state.sidecar.evaluations
    assert evaluations.worker.queued == 0
    assert sum(n for (_, status), n in evaluations.worker.counts.items() if status == "evaluated") == 20
