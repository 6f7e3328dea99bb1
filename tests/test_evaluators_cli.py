"""``aivitals evaluate``: the issue's JSON shape, the table, and exit 2 naming the bad line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from aivitals.cli import main

CONTEXTS = [{"id": "refunds", "text": "Refunds are available within two years of purchase."},
            {"id": "shipping", "text": "Shipping to Canada takes 7 business days."}]
RECORDS = [
    {"id": "ok", "question": "How long for refunds?", "response": "Refunds are available within 2 years [refunds].",
     "contexts": CONTEXTS, "relevant_context_ids": ["refunds"]},
    {"id": "wrong-number", "question": "Shipping?", "response": "Shipping to Canada takes 5 business days [9].",
     "contexts": CONTEXTS},
    {"id": "leak", "question": "Who do I call?", "response": "Email boss@acme.io, key AKIAZ7Q3PLM4XWERT9YH.",
     "contexts": []},
    {"id": "echo", "question": "I am ann@x.org, any refunds?", "response": "Yes ann@x.org, within two years.",
     "contexts": CONTEXTS},
    {"id": "refusal", "question": "Tell me a secret", "response": "I'm sorry, but I can't help with that.",
     "contexts": CONTEXTS},
]


def _write(tmp_path: Path, lines: list[str]) -> str:
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def test_json_output_has_exactly_the_issues_shape(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, [json.dumps(r) for r in RECORDS])
    assert main(["evaluate", path, "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"records", "summary"}
    by_id = {r["id"]: r for r in out["records"]}
    assert list(by_id["ok"]) == ["id", "groundedness", "hallucinated", "context_precision", "context_recall",
                                 "refused", "cited", "citations_valid", "pii", "secrets", "toxicity", "method"]
    assert by_id["ok"]["groundedness"] == 1.0 and by_id["ok"]["hallucinated"] is False
    assert by_id["ok"]["context_recall"] == 1.0 and by_id["ok"]["citations_valid"] is True
    assert by_id["ok"]["method"]["context_recall"] == "reference"
    assert by_id["wrong-number"]["hallucinated"] is True and by_id["wrong-number"]["citations_valid"] is False
    assert by_id["wrong-number"]["context_recall"] is None
    assert by_id["leak"]["pii"] == ["email"] and by_id["leak"]["secrets"] == ["aws_access_key"]
    assert by_id["leak"]["groundedness"] is None and by_id["leak"]["hallucinated"] is None
    assert by_id["echo"]["pii"] == []
    assert by_id["refusal"]["refused"] is True and by_id["refusal"]["cited"] is False
    assert "boss@acme.io" not in json.dumps(out) and "AKIA" not in json.dumps(out)
    summary = out["summary"]
    assert summary["records"] == 5
    assert summary["refusal_rate"] == pytest.approx(0.2)
    assert summary["pii_leak_rate"] == pytest.approx(0.2)
    assert summary["hallucination_rate"] == pytest.approx(1 / 3)  # ok, wrong-number, echo; refusal not scored
    assert summary["leaked_kinds"] == {"aws_access_key": 1, "email": 1}


def test_table_output_has_one_row_per_record(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, [json.dumps(r) for r in RECORDS])
    assert main(["evaluate", path]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:3] == ["id", "groundedness", "hallucinated"]
    assert len(lines) == 1 + len(RECORDS) + 1
    assert lines[-1].startswith("5 record(s)")


@pytest.mark.parametrize(("lines", "message"), [
    ([json.dumps(RECORDS[0]), "{not json"], "in.jsonl:2: not JSON"),
    (["[1, 2]"], "in.jsonl:1: each line must be a JSON object"),
    ([json.dumps({"id": "x", "question": "q"})], "in.jsonl:1: 'response' is missing"),
    ([json.dumps({"response": "r", "contexts": "not a list"})], "in.jsonl:1: 'contexts' must be a list"),
    ([json.dumps({"response": 3})], "in.jsonl:1: 'response' must be a string"),
])
def test_unreadable_input_exits_2_naming_the_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                  lines: list[str], message: str) -> None:
    assert main(["evaluate", _write(tmp_path, lines), "--format", "json"]) == 2
    captured = capsys.readouterr()
    assert message in captured.err and captured.out == ""
    assert len(captured.err.strip().splitlines()) == 1


def test_a_missing_file_and_a_half_given_judge_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["evaluate", str(tmp_path / "nope.jsonl")]) == 2
    assert "cannot read" in capsys.readouterr().err
    assert main(["evaluate", _write(tmp_path, []), "--judge-url", "http://127.0.0.1:9"]) == 2
    assert "--judge-model" in capsys.readouterr().err


def test_the_installed_command_runs_without_a_traceback(tmp_path: Path) -> None:
    path = _write(tmp_path, ["garbage"])
    done = subprocess.run([sys.executable, "-m", "aivitals", "evaluate", path], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and "in.jsonl:1" in done.stderr
