"""test_gpu_real.py's own logic, run where there is no GPU: real pynvml over the stub libnvidia-ml, against a
stand-in nvidia-smi that prints the stub's table. It proves the test parses nvidia-smi and compares the right
series, and that it fails when they disagree; only a GPU can prove the collector right on hardware."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("pynvml", reason="the stub is called through nvidia-ml-py's bindings")

ROOT = Path(__file__).resolve().parents[1]

#: nvidia-smi for the stub's two GPUs (values from nvml_stub.c's table, in nvidia-smi's units).
NVIDIA_SMI = '''\
#!{python}
import sys
fields = [a for a in sys.argv if a.startswith("--query-gpu=")][0].split("=", 1)[1].split(",")
for i in range(2):
    row = {{"index": i, "uuid": f"GPU-00000000-stub-0000-0000-{{i:012d}}", "name": "NVIDIA Stub GPU",
           "memory.total": 81920, "memory.used": (10 + i) * 1024, "power.draw": 300 + i, "temperature.gpu": 50 + i,
           "clocks.sm": 1980, "utilization.gpu": 40 + i, "utilization.memory": 20 + i,
           "memory.free": 81920 - (10 + i) * 1024 - 512, "ecc.errors.corrected.volatile.total": i + {ecc_offset},
           "ecc.errors.uncorrected.volatile.total": 0}}
    if any(f not in row for f in fields):
        print(f"Field is not a valid field to query."); sys.exit(2)
    print(", ".join(str(row[f]) for f in fields))
'''

RUN = textwrap.dedent("""
    import sys, pytest
    from aivitals.collectors import nvml_stub
    with nvml_stub.bound(sys.argv[1]):
        sys.exit(pytest.main(["-q", "-p", "no:cacheprovider", "-rs", sys.argv[2]]))
""")


def run_real_test(tmp_path: Path, ecc_offset: int) -> subprocess.CompletedProcess[str]:
    from aivitals.collectors import nvml_stub

    if shutil.which("cc") is None and shutil.which("gcc") is None:
        pytest.skip("no C compiler (cc or gcc) on PATH to build the stub libnvidia-ml.so.1")
    library = nvml_stub.build(tmp_path / "lib")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    smi = bin_dir / "nvidia-smi"
    smi.write_text(NVIDIA_SMI.format(python=sys.executable, ecc_offset=ecc_offset))
    smi.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    env.pop(nvml_stub.GPUS_ENV, None)
    return subprocess.run([sys.executable, "-c", RUN, str(library), str(ROOT / "tests" / "test_gpu_real.py")],
                          capture_output=True, text=True, timeout=120, cwd=ROOT, env=env, check=False)


def test_the_real_gpu_test_passes_when_nvidia_smi_agrees(tmp_path: Path) -> None:
    done = run_real_test(tmp_path, ecc_offset=0)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout


def test_the_real_gpu_test_fails_when_nvidia_smi_disagrees(tmp_path: Path) -> None:
    done = run_real_test(tmp_path, ecc_offset=1)  # nvidia-smi counts one corrected ECC error more
    assert done.returncode == 1, done.stdout + done.stderr
    assert "1 failed" in done.stdout
    assert "assert [0.0] == [1.0]" in done.stdout  # the ECC comparison is what failed
