"""Evaluation events: the sidecar evaluates a non-Python app's responses before its 2xx and commits only the
verdicts' counts, deduplicated by event id and persisted like every other event (never the text)."""

from __future__ import annotations

import logging
import signal
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry, generate_latest

from _sidecar import free_port, get, samples, send_to_both_at_once, settings, start_sidecar, stop
from aivitals import Tracker
from aivitals.evaluators.base import Context, Sample, Verdict
from aivitals.evaluators.suite import Suite, default_evaluators
from aivitals.evaluators.worker import EvaluateConfig
from aivitals.sidecar import create_app
from aivitals.sidecar.client import SidecarClient

EMAIL = "jane.doe.secret@example.org"
QUESTION = "How long is the warranty on the X100 kettle?"
CONTEXTS = [{"id": "doc-1", "text": "The X100 kettle comes with a warranty of two years from the date of purchase."},
            {"id": "doc-2", "text": "Returns are accepted within 30 days with the original receipt."}]
#: Says the warranty is 7 years (the context says two), and leaks an address the user never wrote.
LEAKY = f"The X100 kettle has a warranty of 7 years. Write to {EMAIL} for a replacement."
GROUNDED = "The X100 kettle comes with a warranty of two years from the date of purchase."
#: The series an evaluation event moves.
SERIES = ("aivitals_quality_score", "aivitals_evaluations_total", "aivitals_pii_detections_total",
          "aivitals_evaluator_responses_total")
#: The hashing key replicas on PostgreSQL share.
KEY = "a hashing key shared by every replica"


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


def scraped(client: TestClient) -> str:
    """/metrics right after the 2xx, waiting for nothing: the verdicts were committed before it."""
    return client.get("/metrics").text


def value(text: str, name: str, **labels: str) -> float:
    """The sum of the samples of ``name`` whose labels include ``labels``."""
    return sum(v for key, v in samples(text, name).items() if set(labels.items()) <= set(key))


def test_a_leaked_email_and_an_unsupported_number_become_a_pii_detection_and_a_hallucination(
        client: TestClient) -> None:
    answer = client.post("/v1/evaluations", json=event())
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"accepted": 1, "duplicate": 0}
    text = scraped(client)
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
    text = scraped(client)
    assert value(text, "aivitals_evaluations_total", evaluator="hallucination", verdict="pass") == 1
    assert value(text, "aivitals_evaluations_total", evaluator="hallucination", verdict="fail") == 0
    assert value(text, "aivitals_pii_detections_total") == 0


def test_an_email_the_user_wrote_first_is_not_a_leak(client: TestClient) -> None:
    client.post("/v1/evaluations", json=event(f"We will reply to {EMAIL}.", contexts=[],
                                              user_input=f"Reply to {EMAIL} please"))
    assert value(scraped(client), "aivitals_pii_detections_total") == 0


def marked(marker: str) -> dict[str, object]:
    """An evaluation event carrying ``marker`` in every text field, a leak and a secret among them."""
    return event(f"{LEAKY} {marker} key AKIAIOSFODNN7EXAMPLE", event_id=f"id-{marker}", question=f"{QUESTION} {marker}",
                 contexts=[{"id": f"doc-{marker}", "text": f"{CONTEXTS[0]['text']} {marker}"}],
                 user_input=f"{marker} says hello", relevant_context_ids=[f"doc-{marker}"])


def test_the_text_is_in_neither_the_store_nor_the_logs(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    marker = uuid.uuid4().hex
    app = create_app(settings(tmp_path))
    with TestClient(app) as client:
        assert client.post("/v1/evaluations", json=marked(marker)).status_code == 200
        assert client.post("/v1/evaluations", json=marked(marker)).json() == {"accepted": 0, "duplicate": 1}
        assert client.post("/v1/evaluations", json=event(contexts="not a list")).status_code == 422
        assert value(scraped(client), "aivitals_pii_detections_total") >= 2  # the email and the key were found
    stored = b"".join(path.read_bytes() for path in tmp_path.iterdir() if path.is_file())
    assert stored, "the store was written"
    for secret in (marker, EMAIL, "AKIAIOSFODNN7EXAMPLE", "7 years", "X100", "warranty"):
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
    text = scraped(client)
    assert value(text, "aivitals_events_total", event_kind="evaluation", result="rejected") == 1
    assert value(text, "aivitals_evaluator_responses_total") == 0


def test_a_response_over_the_limit_is_cut_and_counted(client: TestClient) -> None:
    max_chars = client.app.state.sidecar.evaluations.max_chars  # type: ignore[attr-defined]
    huge = GROUNDED + " " + "word " * (max_chars // 5 + 10)
    assert client.post("/v1/evaluations", json=event(huge)).status_code == 200
    text = scraped(client)
    assert value(text, "aivitals_evaluator_responses_total", evaluation_status="truncated") == 1
    assert value(text, "aivitals_evaluator_responses_total", evaluation_status="evaluated") == 1


def test_evaluation_events_mixed_with_other_kinds_are_committed_together(client: TestClient) -> None:
    answer = client.post("/v1/events", json=[{"kind": "evaluation", **event()}, {"kind": "survey", "score": 9}])
    assert answer.json() == {"accepted": 2, "duplicate": 0}
    text = scraped(client)
    assert value(text, "aivitals_survey_responses_total") == 1
    assert value(text, "aivitals_evaluator_responses_total", evaluation_status="evaluated") == 1


def test_a_mixed_batch_refused_by_its_commit_keeps_none_of_its_verdicts(client: TestClient) -> None:
    incident = {"kind": "incident", "id": "i1", "severity": "high", "occurred_at": 1_700_000_000.0}
    assert client.post("/v1/events", json=[incident]).status_code == 200
    earlier = {"kind": "incident", "id": "i1", "severity": "high", "resolved_at": 1_600_000_000.0}
    answer = client.post("/v1/events", json=[{"kind": "evaluation", **event()}, earlier])
    assert answer.status_code == 422, answer.text
    assert value(scraped(client), "aivitals_evaluator_responses_total") == 0
    assert client.app.state.sidecar.evaluations.room == 500  # type: ignore[attr-defined]


def test_a_batch_larger_than_the_queue_is_a_413_not_an_endless_503(tmp_path: Path) -> None:
    with TestClient(create_app(settings(tmp_path, evaluation_queue_size=3))) as client:
        answer = client.post("/v1/evaluations", json=[event(GROUNDED)] * 4)
        assert answer.status_code == 413
        assert "evaluation_queue_size" in answer.json()["detail"]


class Gate:
    """An evaluator that waits for the test to open it: the evaluation threads are held here."""

    name = "gate"

    def __init__(self) -> None:
        self.open = threading.Event()

    def evaluate(self, sample: Sample) -> Verdict:
        self.open.wait(30.0)
        return Verdict("gate", "lexical")


def test_a_flood_beyond_the_bound_gets_503s_and_every_acknowledged_event_is_counted(tmp_path: Path) -> None:
    """The evaluation threads are held by a gate evaluator (the one fake here: it only makes them slow on cue)."""
    size, sent = 5, 40
    with TestClient(create_app(settings(tmp_path, evaluation_queue_size=size))) as client:
        gate = Gate()
        client.app.state.sidecar.evaluations.suite = Suite([gate, *default_evaluators()])  # type: ignore[attr-defined]
        with ThreadPoolExecutor(8) as pool:
            futures = [pool.submit(client.post, "/v1/evaluations", json=event()) for _ in range(sent)]
            deadline = time.monotonic() + 60
            while sum(f.done() for f in futures) < sent - size and time.monotonic() < deadline:
                time.sleep(0.01)
            refused = [f.result() for f in futures if f.done()]
            gate.open.set()
            answers = [f.result() for f in futures]
        assert len(refused) == sent - size
        assert {a.status_code for a in refused} == {503}
        assert all(a.headers["Retry-After"] == "1" and "retry" in a.json()["detail"] for a in refused)
        assert [a.status_code for a in answers].count(200) == size
        text = scraped(client)
        assert value(text, "aivitals_evaluator_responses_total", evaluation_status="evaluated") == size
        assert value(text, "aivitals_evaluator_responses_total", evaluation_status="dropped") == 0
        assert value(text, "aivitals_pii_detections_total", pii_kind="email") == size
        assert value(text, "aivitals_events_total", event_kind="evaluation", result="accepted") == size
        assert client.post("/v1/evaluations", json=event()).status_code == 200  # room again once evaluated


def test_service_and_model_names_beyond_the_caps_fold_into_other(client: TestClient) -> None:
    for i in range(60):
        client.post("/v1/evaluations", json=event(GROUNDED, model=f"model-{i}"))
    text = scraped(client)
    models = {dict(key)["model"] for key in samples(text, "aivitals_evaluator_responses_total")}
    assert "other" in models and len(models) <= 51
    assert value(text, "aivitals_evaluator_responses_total", evaluation_status="evaluated") == 60


# --- idempotent and durable -----------------------------------------------------------------------------------
def test_a_retried_evaluation_event_is_counted_once(client: TestClient) -> None:
    first = client.post("/v1/evaluations", json=event(event_id="ev-1"))
    retried = client.post("/v1/evaluations", json=event(event_id="ev-1"))
    batch = client.post("/v1/events", json=[{"kind": "evaluation", **event(event_id="ev-2")},
                                            {"kind": "evaluation", **event(event_id="ev-2")},
                                            {"kind": "evaluation", **event(event_id="ev-1")}])
    assert first.json() == {"accepted": 1, "duplicate": 0}
    assert retried.json() == {"accepted": 0, "duplicate": 1}
    assert batch.json() == {"accepted": 1, "duplicate": 2}
    text = scraped(client)
    assert value(text, "aivitals_evaluator_responses_total", evaluation_status="evaluated") == 2
    assert value(text, "aivitals_pii_detections_total", pii_kind="email") == 2
    assert value(text, "aivitals_evaluations_total", evaluator="hallucination", verdict="fail") == 2
    assert value(text, "aivitals_quality_score_count", evaluator="groundedness") == 2
    assert value(text, "aivitals_events_total", event_kind="evaluation", result="duplicate") == 3


def counting_evaluations(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The responses the sidecar's evaluators are run on, in order. The narrowest seam: the pool's suite's
    ``evaluate`` is wrapped (it still evaluates), so a test counts runs without changing any verdict."""
    suite = client.app.state.sidecar.evaluations.suite  # type: ignore[attr-defined]
    evaluate = suite.evaluate
    evaluated: list[str] = []

    def counted(sample: Sample) -> Any:
        evaluated.append(sample.response)
        return evaluate(sample)

    monkeypatch.setattr(suite, "evaluate", counted)
    return evaluated


def storing(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> TestClient:
    """An app on SQLite, or a replica on a fresh PostgreSQL database."""
    if kind == "sqlite":
        return TestClient(create_app(settings(tmp_path)))
    conf = settings(tmp_path, store_url=request.getfixturevalue("pg_url"), user_key_secret=KEY, replica_id="r0")
    return TestClient(create_app(conf))


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_a_resent_batch_is_not_evaluated_again_and_is_all_duplicate(
        tmp_path: Path, kind: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    batch = [event(f"{GROUNDED} Answer {i}.", event_id=f"ev-{i}") for i in range(4)]
    with storing(kind, tmp_path, request) as client:
        evaluated = counting_evaluations(client, monkeypatch)
        first = client.post("/v1/evaluations", json=batch)
        assert first.json() == {"accepted": 4, "duplicate": 0}, first.text
        assert len(evaluated) == 4
        before = evaluation_series(scraped(client))
        resent = client.post("/v1/evaluations", json=batch)
        assert resent.status_code == 200, resent.text
        assert resent.json() == {"accepted": 0, "duplicate": 4}
        assert len(evaluated) == 4  # the resend ran no evaluator
        text = scraped(client)
    assert evaluation_series(text) == before
    assert value(text, "aivitals_events_total", event_kind="evaluation", result="duplicate") == 4


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_a_batch_mixing_new_and_seen_ids_evaluates_only_the_new_ones(
        tmp_path: Path, kind: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    with storing(kind, tmp_path, request) as client:
        evaluated = counting_evaluations(client, monkeypatch)
        old = client.post("/v1/evaluations", json=[event(event_id="old-1"), event(event_id="old-2")])
        assert old.json() == {"accepted": 2, "duplicate": 0}, old.text
        evaluated.clear()
        mixed = client.post("/v1/events", json=[
            {"kind": "evaluation", **event(f"{GROUNDED} New one.", event_id="new-1")},
            {"kind": "evaluation", **event(event_id="old-1")},
            {"kind": "evaluation", **event(f"{GROUNDED} Without an id.")},
            {"kind": "evaluation", **event(event_id="old-2")},
            {"kind": "evaluation", **event(f"{GROUNDED} New two.", event_id="new-2")}])
        assert mixed.json() == {"accepted": 3, "duplicate": 2}, mixed.text
        # only the new ones (an event without an id cannot have been seen), in their order
        assert evaluated == [f"{GROUNDED} New one.", f"{GROUNDED} Without an id.", f"{GROUNDED} New two."]
        text = scraped(client)
    assert value(text, "aivitals_evaluator_responses_total", evaluation_status="evaluated") == 5
    assert value(text, "aivitals_pii_detections_total", pii_kind="email") == 2  # the two LEAKY ones, counted once
    assert value(text, "aivitals_events_total", event_kind="evaluation", result="duplicate") == 2


def test_an_unreadable_store_at_lookup_still_evaluates_and_counts_once(
        client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    """The lookup only saves work: when it fails, the events are evaluated and the commit's claim still dedups."""
    from aivitals.sidecar.store import StoreError

    assert client.post("/v1/evaluations", json=event(event_id="ev-1")).json() == {"accepted": 1, "duplicate": 0}
    evaluated = counting_evaluations(client, monkeypatch)

    def unreadable(keys: object) -> set[bytes]:
        raise StoreError("read failed: the disk is gone")

    monkeypatch.setattr(client.app.state.sidecar.store, "seen", unreadable)  # type: ignore[attr-defined]
    resent = client.post("/v1/evaluations", json=event(event_id="ev-1"))
    assert resent.json() == {"accepted": 0, "duplicate": 1}, resent.text
    assert len(evaluated) == 1  # evaluated again, as before the lookup existed
    assert value(scraped(client), "aivitals_pii_detections_total", pii_kind="email") == 1


def evaluation_series(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of the evaluation series, zeros left out (the SDK and the sidecar differ in which they show)."""
    names = [name + suffix for name in SERIES for suffix in ("", "_bucket", "_count", "_sum")]
    return {(name, labels): v for name in names for labels, v in samples(text, name).items() if v != 0.0}


def test_evaluation_counts_resume_exactly_after_a_restart(tmp_path: Path) -> None:
    with TestClient(create_app(settings(tmp_path))) as client:
        for i in range(3):
            client.post("/v1/evaluations", json=event(event_id=f"e{i}"))
        before = evaluation_series(scraped(client))
    with TestClient(create_app(settings(tmp_path))) as client:
        after = evaluation_series(scraped(client))
        assert client.post("/v1/evaluations", json=event(event_id="e0")).json() == {"accepted": 0, "duplicate": 1}
        assert client.post("/v1/evaluations", json=event(event_id="e3")).json() == {"accepted": 1, "duplicate": 0}
        later = scraped(client)
    assert len(before) > 10
    assert after == before
    assert value(later, "aivitals_pii_detections_total", pii_kind="email") == 4


#: Inputs the evaluators read differently: a leak and an unsupported claim, a grounded answer citing its source
#: with a golden set, a refusal, a citation of a chunk never retrieved, a secret, and no contexts at all.
VARIED = [
    event(),
    event(GROUNDED + " [doc-1]", relevant_context_ids=["doc-1"]),
    event("I'm sorry, but I can't help with that."),
    event("Returns are accepted within 30 days [doc-9]."),
    event("Use the key AKIAIOSFODNN7EXAMPLE to reach the warranty API.", model="gpt-y"),
    event("Call +1 415 555 0134 about the X100.", contexts=[], service="other-app"),
]


def test_the_verdicts_equal_what_the_sdks_evaluators_give_on_the_same_inputs(client: TestClient) -> None:
    assert client.post("/v1/evaluations", json=VARIED).json() == {"accepted": len(VARIED), "duplicate": 0}
    sidecar = evaluation_series(scraped(client))
    sdk: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for service in ("shop-chat", "other-app"):
        registry = CollectorRegistry()
        tracker = Tracker(registry, service=service, evaluate=EvaluateConfig(sample_rate=1.0))
        for e in VARIED:
            if e["service"] == service:
                contexts: Any = e["contexts"]
                relevant: Any = e.get("relevant_context_ids")
                tracker.evaluator.submit(e["model"], Sample(
                    str(e["response"]), str(e["question"]), tuple(Context(c["id"], c["text"]) for c in contexts),
                    None, None if relevant is None else tuple(relevant)))
        assert tracker.evaluator.drain(10.0)
        tracker.flush()
        sdk |= evaluation_series(generate_latest(registry).decode())
    assert len(sidecar) > 20
    assert sidecar.keys() == sdk.keys()
    assert sidecar == pytest.approx(sdk)


# --- real processes: SIGKILL, and replicas on PostgreSQL ----------------------------------------------------
def store_config(kind: str, request: pytest.FixtureRequest) -> tuple[dict[str, Any], dict[str, str]]:
    """A sidecar process's config and environment: SQLite at --store, or a replica on a fresh PostgreSQL database."""
    if kind == "sqlite":
        return {}, {}
    return {"store_url": request.getfixturevalue("pg_url"), "replica_id": "r0"}, {"AIVITALS_USER_KEY_SECRET": KEY}


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_acknowledged_evaluations_survive_sigkill_right_after_the_2xx(tmp_path: Path, kind: str,
                                                                     request: pytest.FixtureRequest) -> None:
    config, env = store_config(kind, request)
    store, port, count = tmp_path / "kill.db", free_port(), 30
    bodies = [event(LEAKY if i % 3 else GROUNDED, event_id=f"kill-{i}") for i in range(count)]
    proc = start_sidecar(store, port, config, env)
    client = SidecarClient(f"http://127.0.0.1:{port}", retry_for=30.0)
    try:
        for body in bodies:
            assert client.send("evaluation", body) == {"accepted": 1, "duplicate": 0}
        stop(proc, signal.SIGKILL)  # no drain, no shutdown: only what was committed before each 2xx is left
        proc = start_sidecar(store, port, config, env)
        text = get(port, "/metrics")[1].decode()
        resent = client.send("evaluation", bodies)
        again = get(port, "/metrics")[1].decode()
    finally:
        client.close()
        stop(proc)
    leaky = sum(1 for i in range(count) if i % 3)
    assert value(text, "aivitals_evaluator_responses_total", evaluation_status="evaluated") == count
    assert value(text, "aivitals_pii_detections_total", pii_kind="email") == leaky
    assert value(text, "aivitals_evaluations_total", evaluator="hallucination", verdict="fail") == leaky
    assert value(text, "aivitals_quality_score_count", evaluator="groundedness") == count
    assert resent == {"accepted": 0, "duplicate": count}
    assert evaluation_series(again) == evaluation_series(text)


def test_the_same_evaluation_ids_sent_to_two_replicas_at_once_are_counted_once(tmp_path: Path, pg_url: str) -> None:
    apps = [TestClient(create_app(settings(tmp_path, store_url=pg_url, user_key_secret=KEY, replica_id=f"r{i}")))
            for i in range(2)]
    batches = [[event(event_id=f"e{n}-{i}") for i in range(5)] for n in range(8)]
    with apps[0] as a, apps[1] as b:
        accepted = send_to_both_at_once((a, b), "/v1/evaluations", batches)
        texts = [scraped(a), scraped(b)]
    total = sum(len(batch) for batch in batches)
    assert sum(accepted) == total  # each id accepted by exactly one of the two answers
    per_replica = [value(text, "aivitals_pii_detections_total", pii_kind="email") for text in texts]
    assert sum(per_replica) == total
    assert all(dict(key)["replica"] == f"r{i}" for i, text in enumerate(texts)
               for key in samples(text, "aivitals_evaluator_responses_total"))


def test_a_postgresql_store_holds_none_of_the_text(tmp_path: Path, pg_url: str) -> None:
    import psycopg

    marker = uuid.uuid4().hex
    conf = settings(tmp_path, store_url=pg_url, user_key_secret=KEY, replica_id="r0")
    with TestClient(create_app(conf)) as client:
        assert client.post("/v1/evaluations", json=marked(marker)).status_code == 200
        assert value(scraped(client), "aivitals_pii_detections_total") >= 2
    with psycopg.connect(pg_url) as conn:
        tables = conn.execute("SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema "
                              "NOT IN ('pg_catalog', 'information_schema')").fetchall()
        dump = "\n".join(str(row) for schema, table in tables
                         for row in conn.execute(f'SELECT t::text FROM "{schema}"."{table}" t').fetchall())
    assert any(table == "series" for _, table in tables) and "aivitals_pii_detections_total" in dump
    for secret in (marker, EMAIL, "AKIAIOSFODNN7EXAMPLE", "X100", "warranty"):
        assert secret not in dump
        assert secret.encode().hex() not in dump  # nor as bytea
