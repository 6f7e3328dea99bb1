"""``import aivitals`` imports no client library; instrumenting one that is missing is a no-op with one log line."""

from __future__ import annotations

import json
import subprocess
import sys


def run(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          timeout=120).stdout


def test_importing_aivitals_imports_none_of_the_clients():
    out = run("import sys, json, aivitals; aivitals.Tracker(None); "
              "print(json.dumps([m for m in ('openai', 'anthropic', 'litellm') if m in sys.modules]))")
    assert json.loads(out) == []


def test_instrumenting_a_missing_library_patches_nothing_and_says_so_once():
    code = ("import sys, logging; logging.basicConfig(level=logging.INFO, stream=sys.stdout, format='%(message)s')\n"
            "sys.modules['litellm'] = None; sys.modules['anthropic'] = None\n"  # as if not installed
            "import importlib.util; real = importlib.util.find_spec\n"
            "importlib.util.find_spec = lambda n, *a: None if n in ('litellm', 'anthropic') else real(n, *a)\n"
            "import aivitals; print(aivitals.Tracker(None).instrument())")
    out = run(code)
    assert out.count("litellm is not installed") == 1 and out.count("anthropic is not installed") == 1
    assert "openai:Completions.create" in out and "litellm:" not in out.splitlines()[-1]


def test_instrument_without_a_target_never_imports_litellm_itself():
    """Importing LiteLLM fetches its price map from the network: aivitals must not be the one to cause it."""
    code = ("import sys, logging; logging.basicConfig(level=logging.INFO, stream=sys.stdout, format='%(message)s')\n"
            "import aivitals; print(aivitals.Tracker(None).instrument()); print('litellm' in sys.modules)")
    lines = run(code).splitlines()
    assert lines[-1] == "False"
    assert any("litellm is installed but not imported" in line for line in lines)
