"""Calibrating the lexical groundedness evaluator against the LLM judge (a fake judge on 127.0.0.1: the only fake)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sklearn.metrics import roc_auc_score

from aivitals.evaluators.calibrate import best_threshold
from aivitals.evaluators.cli import main

PASSAGE = "Express shipping takes 2 days and costs 9 dollars. Standard shipping takes 5 days."


@pytest.fixture
def judge_url() -> Iterator[str]:
    """A judge that calls a claim unsupported exactly when it mentions something the passage does not."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            answer = body["messages"][-1]["content"].split("Answer:\n", 1)[-1]
            claims = [{"claim": c, "supported": not any(w in c for w in ("free", "1 day", "weekends"))}
                      for c in answer.split(". ") if c.strip()]
            reply = {"choices": [{"message": {"role": "assistant", "content": json.dumps({"claims": claims})}}],
                     "usage": {"prompt_tokens": 50, "completion_tokens": 10}}
            data = json.dumps(reply).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


ANSWERS = ["Express shipping takes 2 days.", "Standard shipping takes 5 days.",
           "Express shipping takes 2 days. It costs 9 dollars.", "Express shipping is free.",
           "Standard shipping takes 1 day.", "Express shipping takes 2 days. It ships on weekends.",
           "Standard shipping takes 5 days and express 2 days.", "Express shipping costs 9 dollars."]


def test_calibration_reports_the_lexical_scores_auroc_against_the_judge_and_a_threshold(tmp_path: Path, capsys,
                                                                                      judge_url: str) -> None:
    path = tmp_path / "records.jsonl"
    path.write_text("".join(json.dumps({"id": str(i), "question": "How fast is shipping?", "response": a,
                                        "contexts": [{"id": "doc-1", "text": PASSAGE}]}) + "\n"
                            for i, a in enumerate(ANSWERS)))
    code = main([str(path), "--format", "json", "--judge-url", judge_url, "--judge-model", "judge",
                 "--calibrate"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    calibration = out["calibration"]
    assert calibration["samples"] == len(ANSWERS) and calibration["skipped"] == 0
    from aivitals.evaluators.groundedness import Groundedness
    from aivitals.evaluators.records import sample_from

    samples = [sample_from(json.loads(line))[1] for line in path.read_text().splitlines()]
    scores = [Groundedness().evaluate(s).score for s in samples]
    judged_grounded = [not any(w in a for w in ("free", "1 day", "weekends")) for a in ANSWERS]
    assert calibration["auroc"] == pytest.approx(roc_auc_score(judged_grounded, scores), abs=1e-12)
    assert calibration["agreement"] >= calibration["default_agreement"] - 1e-12


def test_calibrate_needs_a_judge(tmp_path: Path, capsys) -> None:
    path = tmp_path / "r.jsonl"
    path.write_text(json.dumps({"id": "1", "question": "q", "response": "r", "contexts": []}) + "\n")
    assert main([str(path), "--calibrate"]) == 2
    assert "--judge-url" in capsys.readouterr().err


@pytest.mark.parametrize("scores, hallucinated, expected", [
    ([0.2, 0.4, 0.9, 1.0], [True, True, False, False], 0.9),
    ([1.0, 1.0, 0.5], [False, False, True], 1.0),
    ([0.3, 0.3], [True, True], None),
])
def test_the_best_threshold_separates_the_judges_verdicts(scores, hallucinated, expected) -> None:
    assert best_threshold(scores, hallucinated) == expected
