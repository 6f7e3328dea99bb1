"""``aivitals drift REFERENCE CURRENT``: the report, and exit codes 0 (no drift), 1 (drift), 2 (bad input)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from aivitals.drift import build_profile, save_profile
from aivitals.drift.cli import main
from aivitals.drift.data import read_columns
from aivitals.drift.offline import current_counts
from aivitals.stats import js_from_counts, ks_from_counts, psi_from_counts


def _csv(path: Path, seed: int, shift: float, n: int = 800) -> Path:
    rng = np.random.default_rng(seed)
    age = rng.normal(40 + shift, 10, n).round(2)
    plan = rng.choice(["free", "pro", "team"], n, p=[0.6, 0.3, 0.1] if shift == 0 else [0.2, 0.3, 0.5])
    score = rng.random(n).round(4)
    path.write_text("age,plan,y_hat\n" + "".join(f"{a},{p},{s}\n" for a, p, s in zip(age, plan, score, strict=True)))
    return path


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    reference = _csv(tmp_path / "reference.csv", 0, 0)
    profile = tmp_path / "profile.json"
    save_profile(build_profile(read_columns(reference), prediction_column="y_hat"), profile)
    return {"reference": reference, "profile": profile, "same": _csv(tmp_path / "same.csv", 1, 0),
            "drifted": _csv(tmp_path / "drifted.csv", 2, 15)}


def test_no_drift_exits_0_with_a_table(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(files["profile"]), str(files["same"]), "--prediction-column", "y_hat"]) == 0
    out = capsys.readouterr().out
    assert "age" in out and "__prediction__" in out and "0 of 3 feature(s) drifted" in out


def test_drift_exits_1_and_json_carries_the_live_rules_numbers(files: dict[str, Path],
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    code = main([str(files["profile"]), str(files["drifted"]), "--format", "json", "--prediction-column", "y_hat"])
    assert code == 1
    report = json.loads(capsys.readouterr().out)
    by_name = {f["feature"]: f for f in report["features"]}
    assert by_name["age"]["drifted"] and by_name["plan"]["drifted"] and not by_name["__prediction__"]["drifted"]
    assert by_name["plan"]["ks"] is None and by_name["age"]["chi2_pvalue"] is None
    assert by_name["plan"]["chi2_pvalue"] < 1e-10
    from aivitals.drift import load_profile

    age = load_profile(files["profile"]).feature("age")
    counts = current_counts(age, read_columns(files["drifted"])["age"])
    assert by_name["age"]["psi"] == pytest.approx(psi_from_counts(age.reference, counts), rel=1e-12)
    assert by_name["age"]["ks"] == pytest.approx(ks_from_counts(age.reference, counts), rel=1e-12)
    assert by_name["age"]["js"] == pytest.approx(js_from_counts(age.reference, counts), rel=1e-12)


def test_categorical_chi_square_matches_scipy_on_the_same_counts(files: dict[str, Path],
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    from scipy.stats import chi2_contingency

    from aivitals.drift import load_profile

    main([str(files["profile"]), str(files["same"]), "--format", "json", "--prediction-column", "y_hat"])
    report = {f["feature"]: f for f in json.loads(capsys.readouterr().out)["features"]}
    plan = load_profile(files["profile"]).feature("plan")
    counts = current_counts(plan, read_columns(files["same"])["plan"])
    table = np.vstack([np.round(np.asarray(plan.reference) * plan.count), counts])
    table = table[:, table.sum(axis=0) > 0]
    assert report["plan"]["chi2_pvalue"] == pytest.approx(chi2_contingency(table).pvalue, rel=1e-10)
    assert report["plan"]["chi2_pvalue"] > 0.001


def test_a_data_file_can_be_the_reference(files: dict[str, Path]) -> None:
    assert main([str(files["reference"]), str(files["same"]), "--prediction-column", "y_hat"]) == 0
    assert main([str(files["reference"]), str(files["drifted"]), "--prediction-column", "y_hat"]) == 1


def test_the_threshold_decides(files: dict[str, Path]) -> None:
    assert main([str(files["profile"]), str(files["drifted"]), "--prediction-column", "y_hat",
                 "--threshold", "1000"]) == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["{profile}", "{missing}"], "no such file"),
        (["{missing}", "{same}"], "no such file"),
        (["{profile}", "{same}"], "--prediction-column"),
        (["{profile}", "{same}", "--prediction-column", "nope"], "'nope' is not in"),
        (["{profile}", "{bad}", "--prediction-column", "y_hat"], "not numbers"),
        (["{profile}", "{noage}", "--prediction-column", "y_hat"], "'age' is in the reference but not"),
        (["{broken}", "{same}"], "unknown profile version"),
        (["{profile}", "{same}", "--threshold", "-1"], "non-negative"),
        (["{profile}"], ""),
        (["{profile}", "{same}", "--format", "xml"], ""),
    ],
)
def test_bad_input_exits_2(files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str],
                           args: list[str], message: str) -> None:
    (tmp_path / "bad.csv").write_text("age,plan,y_hat\nold,free,0.5\n")
    (tmp_path / "noage.csv").write_text("plan,y_hat\nfree,0.5\n")
    document = json.loads(files["profile"].read_text())
    document["version"] = 99
    (tmp_path / "broken.json").write_text(json.dumps(document))
    paths = {**{k: str(v) for k, v in files.items()}, "missing": str(tmp_path / "nope.csv"),
             "bad": str(tmp_path / "bad.csv"), "noage": str(tmp_path / "noage.csv"),
             "broken": str(tmp_path / "broken.json")}
    assert main([a.format(**paths) for a in args]) == 2
    assert message in capsys.readouterr().err


def test_raw_data_on_both_sides_gives_scipys_exact_two_sample_ks(files: dict[str, Path],
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    from scipy.stats import ks_2samp

    main([str(files["reference"]), str(files["drifted"]), "--format", "json", "--prediction-column", "y_hat"])
    report = {f["feature"]: f for f in json.loads(capsys.readouterr().out)["features"]}
    before = read_columns(files["reference"])
    after = read_columns(files["drifted"])
    for column, name in (("age", "age"), ("y_hat", "__prediction__")):
        expected = ks_2samp(np.asarray(before[column], dtype=float), np.asarray(after[column], dtype=float))
        assert report[name]["ks_method"] == "exact"
        assert report[name]["ks"] == pytest.approx(expected.statistic, rel=1e-12)
        assert report[name]["ks_pvalue"] == pytest.approx(expected.pvalue, rel=1e-6, abs=1e-300)
    assert report["plan"]["ks"] is None and report["plan"]["ks_method"] is None


def test_a_profile_reference_says_its_ks_is_the_binned_one(files: dict[str, Path],
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    main([str(files["profile"]), str(files["same"]), "--prediction-column", "y_hat"])
    out = capsys.readouterr().out
    assert "*" in out and "bin edges" in out
    main([str(files["profile"]), str(files["same"]), "--prediction-column", "y_hat", "--format", "json"])
    report = {f["feature"]: f for f in json.loads(capsys.readouterr().out)["features"]}
    assert report["age"]["ks_method"] == "binned" and report["age"]["ks_pvalue"] is None
