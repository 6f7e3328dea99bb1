"""KPI delta and NPS: statsmodels' formulas, recomputed here independently with scipy.stats.norm."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import norm

from aivitals import stats
from aivitals.stats import StatsError

CASES = [(120, 1000, 100, 1000), (5, 40, 1, 38), (480, 5000, 530, 5200), (0, 20, 3, 25), (999, 1000, 990, 1000)]


@pytest.mark.parametrize(("ct", "nt", "cc", "nc"), CASES)
@pytest.mark.parametrize("alternative", ["two-sided", "larger", "smaller"])
def test_two_proportion_ztest_matches_the_pooled_z_test(ct: int, nt: int, cc: int, nc: int, alternative: str) -> None:
    pt, pc = ct / nt, cc / nc
    pooled = (ct + cc) / (nt + nc)
    z = (pt - pc) / math.sqrt(pooled * (1 - pooled) * (1 / nt + 1 / nc))
    pvalue = {"two-sided": 2 * norm.sf(abs(z)), "larger": norm.sf(z), "smaller": norm.cdf(z)}[alternative]
    result = stats.two_proportion_ztest(ct, nt, cc, nc, alternative=alternative)
    assert result.delta == pytest.approx(pt - pc, rel=1e-15, abs=1e-15)
    assert result.z == pytest.approx(z, rel=1e-12)
    assert result.pvalue == pytest.approx(pvalue, rel=1e-10)


@pytest.mark.parametrize(("ct", "nt", "cc", "nc"), CASES)
@pytest.mark.parametrize("alpha", [0.05, 0.01, 0.2])
def test_the_delta_interval_is_the_unpooled_wald_interval(ct: int, nt: int, cc: int, nc: int, alpha: float) -> None:
    pt, pc = ct / nt, cc / nc
    half = norm.ppf(1 - alpha / 2) * math.sqrt(pt * (1 - pt) / nt + pc * (1 - pc) / nc)
    result = stats.two_proportion_ztest(ct, nt, cc, nc, alpha=alpha)
    assert result.ci_low == pytest.approx(pt - pc - half, rel=1e-12, abs=1e-15)
    assert result.ci_high == pytest.approx(pt - pc + half, rel=1e-12, abs=1e-15)
    assert result.confidence == pytest.approx(1 - alpha)


@pytest.mark.parametrize(
    ("args", "match"),
    [((0, 100, 0, 100), "no variance"), ((100, 100, 50, 50), "no variance"), ((5, 0, 1, 10), "no exposures"),
     ((11, 10, 1, 10), "between 0"), ((math.nan, 10, 1, 10), "finite"), ((-1, 10, 1, 10), "between 0")],
)
def test_a_ztest_without_an_answer_raises(args: tuple[float, ...], match: str) -> None:
    with pytest.raises(StatsError, match=match):
        stats.two_proportion_ztest(*args)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("n", [1, 10, 400])
def test_nps_is_the_mean_of_the_plus_minus_one_score_and_its_margin_the_normal_half_width(seed: int, n: int) -> None:
    answers = np.random.default_rng(seed).integers(0, 11, n)
    score = np.where(answers >= 9, 1.0, np.where(answers <= 6, -1.0, 0.0))
    margin = norm.ppf(0.975) * score.std(ddof=0) / math.sqrt(n)
    result = stats.nps_from_scores(answers.tolist())
    assert result.score == pytest.approx(score.mean(), abs=1e-15)
    assert result.margin == pytest.approx(margin, rel=1e-12, abs=1e-15)
    assert result.low == pytest.approx(max(score.mean() - margin, -1.0), abs=1e-15)
    assert result.high == pytest.approx(min(score.mean() + margin, 1.0), abs=1e-15)
    assert result.responses == n


def test_nps_from_counts_and_its_edges() -> None:
    assert stats.nps(50, 30, 20).score == pytest.approx(0.3)
    assert stats.nps(10, 0, 0).margin == 0.0  # everyone a promoter: no variance
    with pytest.raises(StatsError, match="at least one answer"):
        stats.nps(0, 0, 0)
    with pytest.raises(StatsError, match="0 to 10"):
        stats.nps_from_scores([3, 11])
    with pytest.raises(StatsError, match="non-negative integers"):
        stats.nps(-1, 2, 3)
