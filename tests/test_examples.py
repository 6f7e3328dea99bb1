"""Every example in examples/ runs as its docstring says, and each has a test that runs it."""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from _echo_provider import echo_provider, provider_env
from aivitals.codegen.promserver import free_port

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"

#: Every file in examples/ and the test that runs or checks it.
COVERED = {
    "quickstart.py": "test_examples.py::test_quickstart_prints_the_requests_it_made",
    "fastapi_app.py": "test_examples.py::test_the_fastapi_example_runs_as_its_docstring_says",
    "drift_quickstart.py": "test_examples.py::test_the_drift_quickstart_runs_as_its_docstring_says",
    "openai_service.py": "test_examples.py::test_the_service_examples_measure_their_calls",
    "anthropic_service.py": "test_examples.py::test_the_service_examples_measure_their_calls",
    "thresholds.yaml": "test_rules_config.py::test_the_example_thresholds_file_is_valid",
    "sidecar.yaml": "test_getting_started.py::test_the_sidecar_example_loads_and_sets_every_setting_with_a_comment",
    "prometheus.yml": "test_getting_started_live.py::"
                      "test_a_leaked_email_fires_the_first_alert_through_prometheus_and_alertmanager_into_the_sidecar",
    "alertmanager.yml": "test_getting_started.py::test_amtool_accepts_the_alertmanager_config",
    "grafana/datasources/aivitals.yaml": "test_getting_started.py::"
                                         "test_grafana_reads_one_file_per_kind_in_the_directories_it_scans",
    "grafana/dashboards/aivitals.yaml": "test_getting_started.py::"
                                        "test_grafana_reads_one_file_per_kind_in_the_directories_it_scans",
}


def _docstring_commands(example: str) -> list[str]:
    """The shell lines of an example's docstring (indented by four spaces), comments cut."""
    doc = ast.get_docstring(ast.parse((EXAMPLES / example).read_text())) or ""
    return [line.strip().split("  #")[0].strip() for line in doc.splitlines() if line.startswith("    ")]


def test_every_example_has_a_test_that_runs_it() -> None:
    shipped = {p.relative_to(EXAMPLES).as_posix() for p in EXAMPLES.rglob("*") if p.is_file()
               and "__pycache__" not in p.parts}
    assert shipped == set(COVERED)
    for target in COVERED.values():
        module, _, name = target.partition("::")
        assert f"def {name}(" in (ROOT / "tests" / module).read_text(), target


def test_the_readme_lists_every_runnable_example() -> None:
    readme = (ROOT / "README.md").read_text()
    for example in sorted(EXAMPLES.glob("*.py")):
        assert f"examples/{example.name}" in readme, example.name


def test_quickstart_prints_the_requests_it_made():
    (command,) = _docstring_commands("quickstart.py")
    assert command == "python examples/quickstart.py --port 9464 --calls 20"
    args = [sys.executable, "examples/quickstart.py", "--port", str(free_port()), "--calls", "7"]
    result = subprocess.run(args, capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert 'outcome="ok",provider="openai",service="default"} 7.0' in result.stdout


def test_the_drift_quickstart_runs_as_its_docstring_says(tmp_path: Path) -> None:
    """The docstring's command, from the repository root, with no PYTHONPATH: exit 1 (drift), said so."""
    (command,) = _docstring_commands("drift_quickstart.py")
    assert command == ".venv/bin/python examples/drift_quickstart.py"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run([sys.executable, "examples/drift_quickstart.py"], capture_output=True, text=True,
                            timeout=120, cwd=ROOT, env=env)
    assert result.returncode == 1, result.stderr
    assert result.stdout.splitlines()[-1] == "exit status 1: drift found, as staged (a CI job would stop here)"


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl not installed")
def test_the_fastapi_example_runs_as_its_docstring_says() -> None:
    """uvicorn from the repository root, then the docstring's curl lines: the answer, and /metrics (no 307)."""
    commands = _docstring_commands("fastapi_app.py")
    assert commands[:3] == ["uvicorn examples.fastapi_app:app --port 8080",
                            "curl 'http://127.0.0.1:8080/ask?q=hello'", "curl http://127.0.0.1:8080/metrics"]
    port = free_port()
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    server = subprocess.Popen([*commands[0].replace("8080", str(port)).split()], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_until(lambda: httpx.get(f"http://127.0.0.1:{port}/metrics").status_code == 200)
        ask = subprocess.run(["curl", "-sS", f"http://127.0.0.1:{port}/ask?q=hello"], capture_output=True,
                             text=True, timeout=30)
        assert ask.stdout == '{"answer":"Hello"}'
        metrics = subprocess.run(["curl", "-sS", "-w", "%{http_code}", f"http://127.0.0.1:{port}/metrics"],
                                 capture_output=True, text=True, timeout=30).stdout
        assert metrics.endswith("200") and 'aivitals_requests_total{model="claude-haiku-4-5"' in metrics
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.mark.parametrize("example, provider, model", [("openai_service.py", "openai", "gpt-4o-mini"),
                                                      ("anthropic_service.py", "anthropic", "claude-haiku-4-5")])
def test_the_service_examples_measure_their_calls(example: str, provider: str, model: str) -> None:
    """Both docstring commands (decorator, --instrument) with the real client against a stand-in provider.

    The decorator also evaluates answers: an e-mail in the answer is counted as PII; instrument() measures
    the calls only.
    """
    commands = _docstring_commands(example)
    question = "What is the capital of France?"
    runs = [c for c in commands if c.startswith("python ")]
    assert runs == [f'python examples/{example} "{question}"', f'python examples/{example} --instrument "{question}"']
    with echo_provider() as base_url:
        for instrumented in (False, True):
            _run_service(example, instrumented, provider_env(base_url), provider, model)


def _run_service(example: str, instrumented: bool, env: dict[str, str], provider: str, model: str) -> None:
    port = free_port()
    args = [sys.executable, f"examples/{example}", *(["--instrument"] if instrumented else []),
            "--port", str(port), "--every", "0.2", "Write to jane.doe@example.com"]
    labels = f'model="{model}",operation="chat",outcome="ok",provider="{provider}",service="assistant"'
    pii = f'aivitals_pii_detections_total{{method="lexical",model="{model}",pii_kind="email"'

    def seen() -> bool:
        text = httpx.get(f"http://127.0.0.1:{port}/metrics").text
        return f"aivitals_requests_total{{{labels}}}" in text and (instrumented or pii in text)

    proc = subprocess.Popen(args, cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    try:
        _wait_until(seen)
        text = httpx.get(f"http://127.0.0.1:{port}/metrics").text
        assert f'aivitals_tokens_total{{model="{model}",operation="chat",provider="{provider}",' in text
        assert (pii in text) is not instrumented, "the decorator evaluates answers; instrument() does not"
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    assert out.splitlines()[0] == "Write to jane.doe@example.com"


def test_the_fastapi_example_serves_its_route_and_metrics():
    sys.path.insert(0, str(EXAMPLES))
    try:
        import fastapi_app
        from fastapi.testclient import TestClient
    finally:
        sys.path.remove(str(EXAMPLES))
    client = TestClient(fastapi_app.app)
    assert client.get("/ask", params={"q": "hi"}).json() == {"answer": "Hello"}
    answer = client.get("/metrics", follow_redirects=False)
    assert answer.status_code == 200, "an exact route: no 307 redirect to /metrics/"
    assert 'aivitals_requests_total{model="claude-haiku-4-5"' in answer.text


@pytest.mark.slow
def test_the_fastapi_example_under_several_workers_serves_every_workers_calls(tmp_path):
    """Multiprocess mode: any worker's /metrics sums the calls all workers answered."""
    multiproc = tmp_path / "multiproc"
    multiproc.mkdir()
    port = free_port()
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(multiproc)}
    server = subprocess.Popen([sys.executable, "-m", "uvicorn", "fastapi_app:app", "--port", str(port),
                               "--host", "127.0.0.1", "--workers", "2", "--app-dir", str(EXAMPLES)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_until(lambda: httpx.get(f"{base}/ask", params={"q": "hi"}).status_code == 200)
        for _ in range(19):
            assert httpx.get(f"{base}/ask", params={"q": "hi"}).json() == {"answer": "Hello"}
        pattern = re.compile(r'^aivitals_requests_total\{[^}]*model="claude-haiku-4-5"[^}]*\} (\S+)$', re.M)

        def total() -> float:
            return sum(float(v) for v in pattern.findall(httpx.get(f"{base}/metrics").text))

        _wait_until(lambda: total() == 20)
        assert len(list(multiproc.glob("counter_*.db"))) >= 1
    finally:
        server.terminate()
        server.wait(timeout=30)


def _wait_until(check, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if check():
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.2)
