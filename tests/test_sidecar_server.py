"""The sidecar under a real uvicorn: body limits on the wire, the command line and its config file."""

from __future__ import annotations

import json
import socket
import sqlite3
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from _sidecar import get, running_sidecar, sample
from aivitals.sidecar import create_app
from aivitals.sidecar.client import SidecarClient, SidecarError
from aivitals.sidecar.server import BackgroundSidecar, main
from aivitals.sidecar.settings import Settings, SettingsError, load_settings

MB = 1024 * 1024


def _response_status(sock: socket.socket) -> tuple[int, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return int(data.split(b" ", 2)[1]), data


def _send_until_answered(sock: socket.socket, total: int, chunked: bool) -> int:
    """Offer ``total`` bytes; returns how many went out before the server answered or closed."""
    sent, piece = 0, b"x" * 65536
    sock.settimeout(0.05)
    while sent < total:
        try:
            if sock.recv(1, socket.MSG_PEEK):
                break  # the answer is already there
        except (TimeoutError, BlockingIOError):
            pass
        except OSError:
            break
        try:
            sock.sendall(b"10000\r\n" + piece + b"\r\n" if chunked else piece)
        except OSError:  # the server closed the connection: it will not read more
            break
        sent += len(piece)
    sock.settimeout(10)
    return sent


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_100_mb_body_gets_413_without_being_read_whole(tmp_path: Path, chunked: bool) -> None:
    with running_sidecar(tmp_path / "s.db", {"max_body_bytes": MB}) as port:
        sock = socket.create_connection(("127.0.0.1", port))
        framing = b"Transfer-Encoding: chunked" if chunked else f"Content-Length: {100 * MB}".encode()
        sock.sendall(b"POST /v1/surveys HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" + framing
                     + b"\r\n\r\n")
        sent = _send_until_answered(sock, 100 * MB, chunked)
        status, head = _response_status(sock)
        sock.close()
        assert status == 413, head
        assert sent < 20 * MB, sent  # answered long before the 100 MB were through
        assert get(port, "/healthz")[0] == 200  # and still serving


def test_serve_reads_its_config_file_and_token_from_the_environment(tmp_path: Path) -> None:
    config = {"kpis": ["signup"], "eligible_users": 250, "fixed_costs_usd_per_month": {"storage": 12.5}}
    token = "a-long-enough-token"
    with running_sidecar(tmp_path / "s.db", config, env={"AIVITALS_API_TOKEN": token}) as port:
        url = f"http://127.0.0.1:{port}"
        with pytest.raises(SidecarError) as refused:
            SidecarClient(url, retry_for=1).send("exposure", {"kpi": "signup", "cohort": "control"})
        assert refused.value.status == 401
        client = SidecarClient(url, token=token)
        assert client.send("exposure", {"kpi": "signup", "cohort": "control"}) == {"accepted": 1, "duplicate": 0}
        text = client.metrics()
    assert sample(text, "aivitals_eligible_users") == 250
    assert sample(text, "aivitals_fixed_cost_usd_per_month", {"bucket": "storage"}) == 12.5
    assert sample(text, "aivitals_kpi_exposures_total", {"kpi": "signup", "cohort": "control"}) == 1


def test_an_unknown_config_key_is_rejected_by_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "sidecar.yaml"
    path.write_text("kpis: [signup]\ncohrots: [treatment]\n")
    assert main(["--config", str(path)]) == 2
    assert "unknown setting 'cohrots'" in capsys.readouterr().err


@pytest.mark.parametrize(("text", "message"), [
    ('{"cohorts": ["holdout"]}', "cohorts"),
    ('{"kpis": ["has space"]}', "kpis"),
    ('{"fixed_costs_usd_per_month": {"marketing": 3}}', "fixed_costs_usd_per_month"),
    ('{"prediction_max_count": 0}', "prediction_max_count"),
    ('{"severities": ["sev1"]}', "severities"),
    ('{"kpis": "signup"}', "kpis: a list"),
    ('[1, 2]', "mapping"),
    ("{not json", "not valid JSON"),
])
def test_invalid_settings_name_the_setting(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "sidecar.json"
    path.write_text(text)
    with pytest.raises(SettingsError, match=message):
        load_settings(path)


def test_yaml_and_json_config_files_give_the_same_settings(tmp_path: Path) -> None:
    data = {"kpis": ["a", "b"], "fairness": {"region": ["eu", "us"]}, "user_max_count": 5, "port": 9999,
            "alert_severities": {"sev1": "critical"}}
    (tmp_path / "c.json").write_text(json.dumps(data))
    (tmp_path / "c.yml").write_text("kpis: [a, b]\nfairness:\n  region: [eu, us]\nuser_max_count: 5\nport: 9999\n"
                                    "alert_severities: {sev1: critical}\n")
    from_json, from_yaml = load_settings(tmp_path / "c.json"), load_settings(tmp_path / "c.yml")
    assert from_json == from_yaml
    assert from_json.kpis == ("a", "b") and from_json.fairness == {"region": ("eu", "us")}
    assert from_json.host == Settings().host == "127.0.0.1"


def test_the_store_and_its_key_file_are_readable_by_their_owner_only(tmp_path: Path) -> None:
    with running_sidecar(tmp_path / "s.db") as port:
        SidecarClient(f"http://127.0.0.1:{port}").send("activity", {"user": "u1"})
    assert (tmp_path / "s.db").stat().st_mode & 0o077 == 0
    assert (tmp_path / "s.db.key").stat().st_mode & 0o077 == 0
    with sqlite3.connect(tmp_path / "s.db") as db:
        assert db.execute("SELECT value FROM meta WHERE key = 'user_key_secret'").fetchone() is None


def test_a_store_that_cannot_be_opened_is_reported_not_raised(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "not-a-db").write_text("this is not SQLite" * 100)
    assert main(["--store", str(tmp_path / "not-a-db"), "--port", "0"]) == 1
    assert "cannot open the store" in capsys.readouterr().err


def test_the_thresholds_file_is_exported_as_threshold_series(tmp_path: Path) -> None:
    pytest.importorskip("aivitals.config", reason="aivitals.config (the thresholds file) is not on this branch")
    path = tmp_path / "thresholds.yaml"
    path.write_text("thresholds:\n  latency_p95_seconds:\n    warning: 1.5\n    per:\n"
                    "      - {service: chat, model: gpt-4o, critical: 4}\n")
    with TestClient(create_app(Settings(store=tmp_path / "s.db", thresholds=path))) as client:
        text = client.get("/metrics").text
    everywhere = {"threshold": "latency_p95_seconds", "level": "warning", "service": "", "model": ""}
    assert sample(text, "aivitals_threshold", everywhere) == 1.5
    assert sample(text, "aivitals_threshold", {**everywhere, "level": "critical", "service": "chat",
                                               "model": "gpt-4o"}) == 4


def test_a_wrong_thresholds_file_stops_serve_with_its_problems(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "thresholds.yaml"
    path.write_text("thresholds:\n  latency_p95_secs: {warning: 1}\n")
    assert main(["--store", str(tmp_path / "s.db"), "--thresholds", str(path)]) == 2
    assert "aivitals serve:" in capsys.readouterr().err


def test_a_background_sidecar_serves_on_a_free_port_and_keeps_what_it_acknowledged(tmp_path: Path) -> None:
    conf = Settings(store=tmp_path / "s.db", port=0, kpis=("signup",))
    with BackgroundSidecar(conf) as url:
        client = SidecarClient(url)
        assert client.send("conversion", {"kpi": "signup", "cohort": "treatment"})["accepted"] == 1
        assert client.ready()
    with BackgroundSidecar(conf) as url:
        text = SidecarClient(url).metrics()
    assert sample(text, "aivitals_kpi_conversions_total", {"kpi": "signup", "cohort": "treatment"}) == 1


def test_the_documented_python_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    text = (Path(__file__).resolve().parents[1] / "docs" / "sidecar.md").read_text()
    example = text.split("```python\n", 1)[1].split("```", 1)[0]
    monkeypatch.chdir(tmp_path)
    exec(compile(example, "docs/sidecar.md", "exec"), {})
    out = capsys.readouterr().out
    assert sample(out, "aivitals_confusion_total", {"model": "churn", "class_outcome": "tp"}) == 1
    assert sample(out, "aivitals_kpi_conversions_total", {"kpi": "signup", "cohort": "treatment"}) == 1
    assert (tmp_path / "demo.db").exists()
