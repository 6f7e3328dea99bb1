"""Reference profiles: built from CSV, written as versioned JSON, validated on load."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from aivitals.drift import PREDICTION, ProfileError, build_profile, load_profile, save_profile
from aivitals.drift.data import DataError, read_columns
from aivitals.drift.profile import main, profile_to_dict


def _write_csv(path: Path, columns: dict[str, list[object]]) -> Path:
    names = list(columns)
    rows = zip(*columns.values(), strict=True)
    path.write_text(",".join(names) + "\n" + "".join(",".join("" if v is None else str(v) for v in row) + "\n"
                                                     for row in rows))
    return path


@pytest.fixture
def data(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    n = 1000
    return _write_csv(tmp_path / "train.csv", {
        "age": rng.normal(40, 10, n).round(2).tolist(),
        "plan": rng.choice(["free", "pro", "team", "ent"], n, p=[0.6, 0.25, 0.1, 0.05]).tolist(),
        "const": [7] * n,
        "sparse": [None if i % 2 else float(i) for i in range(n)],
        "score": rng.random(n).round(4).tolist(),
    })


def test_numeric_features_get_edges_at_reference_quantiles(data: Path) -> None:
    profile = build_profile(read_columns(data), bins=4)
    age = profile.feature("age")
    values = np.array(read_columns(data)["age"], dtype=float)
    assert age.kind == "numeric"
    assert list(age.edges) == np.quantile(values, [0.25, 0.5, 0.75]).tolist()
    assert sum(age.reference) == pytest.approx(1.0)
    assert age.reference == pytest.approx([0.25, 0.25, 0.25, 0.25], abs=0.002)


def test_a_constant_feature_gets_one_edge_and_all_its_share_below_it(data: Path) -> None:
    const = build_profile(read_columns(data)).feature("const")
    assert const.edges == (7.0,)
    assert const.reference == (1.0, 0.0)


def test_categorical_features_keep_their_top_k_and_fold_the_rest_into_other(data: Path) -> None:
    plan = build_profile(read_columns(data), top_k=2).feature("plan")
    assert plan.kind == "categorical"
    assert plan.categories == ("free", "pro")
    assert len(plan.reference) == 3 and plan.reference[2] == pytest.approx(0.15, abs=0.03)


def test_missing_cells_are_skipped_and_counted(data: Path) -> None:
    sparse = build_profile(read_columns(data)).feature("sparse")
    assert (sparse.count, sparse.missing) == (500, 500)


def test_the_prediction_column_is_profiled_as_prediction_and_listed_last(data: Path) -> None:
    profile = build_profile(read_columns(data), prediction_column="score")
    assert profile.features[-1].name == PREDICTION
    assert profile.prediction is profile.features[-1]
    assert "score" not in [f.name for f in profile.inputs]


def test_json_round_trips_exactly_with_a_version(data: Path, tmp_path: Path) -> None:
    profile = build_profile(read_columns(data), prediction_column="score")
    save_profile(profile, tmp_path / "p.json")
    document = json.loads((tmp_path / "p.json").read_text())
    assert document["version"] == 1 and document["format"] == "aivitals-reference-profile"
    assert load_profile(tmp_path / "p.json") == profile


def _broken(data: Path, tmp_path: Path, change: object) -> Path:
    document = profile_to_dict(build_profile(read_columns(data), bins=4))
    change(document)  # type: ignore[operator]
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(document))
    return path


def _age(document: dict[str, object]) -> dict[str, object]:
    return document["features"][0]  # type: ignore[index,no-any-return]


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda d: d.update(version=2), "unknown profile version 2"),
        (lambda d: d.update(format="x"), "not a reference profile"),
        (lambda d: _age(d).update(edges=[1.0, 1.0, 2.0]), "feature 'age': duplicate edge 1.0"),
        (lambda d: _age(d).update(edges=[3.0, 2.0, 4.0]), "out of order"),
        (lambda d: _age(d).update(edges=[1.0, 2.0]), "4 reference shares for 2 edges"),
        (lambda d: _age(d).update(reference=[0.5, 0.5, 0.5, 0.5]), "sum to"),
        (lambda d: _age(d).update(edges=[1.0, float("nan"), 3.0]), "not a finite number"),
        (lambda d: _age(d).update(kind="ordinal"), "unknown kind 'ordinal'"),
        (lambda d: d["features"].append(dict(_age(d))), "duplicate feature names: \\['age'\\]"),
        (lambda d: d["features"][1].update(categories=["free", "free", "pro"]), "duplicate categories"),
        (lambda d: d["features"][1].update(categories=["free"]), "shares for 1 categories"),
        (lambda d: _age(d).update(count=-1), "non-negative integer"),
    ],
)
def test_loading_names_the_problem(data: Path, tmp_path: Path, change: object, match: str) -> None:
    with pytest.raises(ProfileError, match=match):
        load_profile(_broken(data, tmp_path, change))


def test_loading_a_file_that_is_not_json_or_not_there_is_a_profile_error(tmp_path: Path) -> None:
    (tmp_path / "x.json").write_text("{")
    with pytest.raises(ProfileError, match="not JSON"):
        load_profile(tmp_path / "x.json")
    with pytest.raises(ProfileError, match="cannot read"):
        load_profile(tmp_path / "missing.json")


def test_nan_or_infinite_reference_values_are_refused(tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "bad.csv", {"x": [1.0, "inf", 2.0]})
    with pytest.raises(DataError, match="column 'x', row 2"):
        build_profile(read_columns(path))


def test_parquet_without_pyarrow_is_a_clear_error(tmp_path: Path) -> None:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        (tmp_path / "x.parquet").write_bytes(b"PAR1")
        with pytest.raises(DataError, match="needs pyarrow"):
            read_columns(tmp_path / "x.parquet")
    else:
        pytest.skip("pyarrow is installed")


def test_bad_parameters_are_refused(data: Path) -> None:
    columns = read_columns(data)
    with pytest.raises(ProfileError, match="bins"):
        build_profile(columns, bins=1)
    with pytest.raises(ProfileError, match="top-k"):
        build_profile(columns, top_k=0)
    with pytest.raises(ProfileError, match="prediction column 'nope'"):
        build_profile(columns, prediction_column="nope")


def test_cli_builds_a_profile(data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "profile.json"
    code = main(["build", str(data), "--out", str(out), "--bins", "5", "--top-k", "3", "--prediction-column",
                 "score"])
    assert code == 0
    profile = load_profile(out)
    assert len(profile.feature("age").edges) == 4 and profile.prediction is not None
    assert "profiled 5 features" in capsys.readouterr().out


def test_cli_exits_2_on_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["build", str(tmp_path / "none.csv"), "--out", str(tmp_path / "p.json")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["build"]) == 2
