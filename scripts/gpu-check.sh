#!/usr/bin/env bash
# The checks that need a real NVIDIA GPU, in one run: nvidia-smi's view, the GPU tests (real NVML against
# nvidia-smi, the stand-in and the stub library beside it) and the scrape benchmark on real NVML.
# For a machine with a driver (the device tool's): it installs nothing and needs only python3 with
# prometheus-client, nvidia-ml-py, psutil, numpy and pytest. The conftest is skipped (its plugins need
# the test extras); results also go to $OUT when it is set.
set -uo pipefail
cd "$(dirname "$0")/.."
out="${OUT:-$(mktemp -d)}"
export PYTHONPATH=src PYTHONUNBUFFERED=1
python="${PYTHON:-python3}"

nvidia-smi --query-gpu=index,uuid,name,driver_version,memory.total,memory.used,power.draw,temperature.gpu,clocks.sm,utilization.gpu,mig.mode.current \
  --format=csv 2>&1 | tee "$out/nvidia-smi.csv"
"$python" -m pytest -q -p no:cacheprovider --noconftest -o addopts="" -rs \
  tests/test_gpu_real.py tests/test_gpu_collector.py tests/test_gpu_stub_library.py 2>&1 | tee "$out/pytest.log"
tests=${PIPESTATUS[0]}
"$python" benchmarks/scrape.py --only collector_scrape 2>&1 | tee "$out/scrape.log"
bench=${PIPESTATUS[0]}
echo "gpu-check: pytest exit $tests, benchmark exit $bench; logs in $out"
[ "$tests" -eq 0 ] && [ "$bench" -eq 0 ]
