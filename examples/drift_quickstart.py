"""Drift in five steps: profile the training data, record production, read the drift.

    .venv/bin/python examples/drift_quickstart.py     # or python, wherever aivitals is installed

It stages a drifted production on purpose, so it exits 1, as `aivitals drift` does when
something drifted (0: nothing did, 2: bad input); its last line says so.
"""

from __future__ import annotations

import random
import tempfile
from pathlib import Path

from prometheus_client import CollectorRegistry, generate_latest

from aivitals.drift import DriftRecorder, build_profile, save_profile
from aivitals.drift.cli import main as drift_cli
from aivitals.drift.data import read_columns


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="aivitals-drift-") as tmp:
        return run(Path(tmp))


def run(workdir: Path) -> int:
    rng = random.Random(0)

    # 1. Training data, as a CSV (Parquet works too with pyarrow installed).
    train = workdir / "train.csv"
    train.write_text("amount,country,score\n" + "".join(
        f"{rng.lognormvariate(3, 1):.2f},{rng.choice(['us', 'de', 'fr'])},{rng.random():.3f}\n" for _ in range(2000)))

    # 2. The reference profile: quantile bins, top categories, the prediction as __prediction__.
    profile = build_profile(read_columns(train), bins=10, prediction_column="score")
    save_profile(profile, workdir / "profile.json")

    # 3. In the service: one recorder per model, registered where /metrics is served.
    registry = CollectorRegistry()
    recorder = DriftRecorder(profile, "fraud-v3", registry=registry)
    live = workdir / "live.csv"
    with live.open("w") as out:
        out.write("amount,country,score\n")
        for _ in range(1000):  # production has drifted: bigger amounts, a new market
            amount, country, score = rng.lognormvariate(3.5, 1), rng.choice(["us", "br"]), rng.random()
            recorder.record({"amount": amount, "country": country}, prediction=score)
            out.write(f"{amount:.2f},{country},{score:.3f}\n")

    # 4. What Prometheus scrapes (the recording rules in aivitals.catalogue.drift turn it into PSI, KS, JS).
    exposition = generate_latest(registry).decode()
    print("\n".join(line for line in exposition.splitlines() if 'feature="country"' in line and "bin_obs" in line))

    # 5. The same numbers offline, e.g. in CI before a release: exit 1 means something drifted.
    status = drift_cli([str(workdir / "profile.json"), str(live), "--prediction-column", "score"])
    if status == 1:
        print("exit status 1: drift found, as staged (a CI job would stop here)")
    return status


if __name__ == "__main__":
    raise SystemExit(main())
