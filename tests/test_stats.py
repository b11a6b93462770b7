"""cchc_analysis.stats against textbook values, against scipy directly, and on edge cases."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from cchc_analysis import stats

# Freireich et al. (1963) 6-MP arm: remission weeks, 0 = censored (Klein & Moeschberger).
SIX_MP_TIMES = np.array(
    [6, 6, 6, 6, 7, 9, 10, 10, 11, 13, 16, 17, 19, 20, 22, 23, 25, 32, 32, 34, 35]
)
SIX_MP_EVENT = np.array([1, 1, 1, 0, 1, 0, 1, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0], dtype=bool)


# --------------------------------------------------------------------------------------------
# Wilson
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("k", "n", "low", "high"),
    [  # Newcombe (1998) Table I, method 3 (score interval without continuity correction)
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0000, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ],
)
def test_wilson_newcombe_table_i(k, n, low, high):
    got = stats.wilson_interval(k, n)
    assert isinstance(got[0], float)
    assert got == pytest.approx((low, high), abs=5e-5)


def test_wilson_vectorised_matches_scipy_and_nan_for_zero_trials():
    rng = np.random.default_rng(1)
    n = rng.integers(0, 400, size=300)
    k = rng.binomial(n, 0.85)
    low, high = stats.wilson_interval(k, n, confidence=0.9)
    assert low.shape == high.shape == (300,)
    for ki, ni, lo, hi in zip(k, n, low, high, strict=True):
        if ni == 0:
            assert math.isnan(lo) and math.isnan(hi)
            continue
        ci = sps.binomtest(int(ki), int(ni)).proportion_ci(confidence_level=0.9, method="wilson")
        assert (lo, hi) == pytest.approx((ci.low, ci.high), abs=1e-12)
    assert stats.wilson_interval(0, 0) == pytest.approx((math.nan, math.nan), nan_ok=True)


def test_wilson_rejects_impossible_counts():
    with pytest.raises(ValueError):
        stats.wilson_interval(5, 4)
    with pytest.raises(ValueError):
        stats.wilson_interval(-1, 4)
    with pytest.raises(ValueError):
        stats.wilson_interval(1.5, 4)


# --------------------------------------------------------------------------------------------
# Funnel plots, overdispersion, homogeneity
# --------------------------------------------------------------------------------------------


def _spiegelhalter_limit(p: float, n: int, theta: float) -> float:
    """Brute-force Appendix A.1.1 of Spiegelhalter (2005), scanning r upwards."""
    cdf = sps.binom.cdf(np.arange(n + 1), n, theta)
    r = int(np.flatnonzero(cdf >= p)[0])
    below = cdf[r - 1] if r > 0 else 0.0
    alpha = (cdf[r] - p) / (cdf[r] - below)
    return min(max((r - alpha) / n, 0.0), 1.0)


def test_funnel_limits_exact_interpolation_and_normal_for_large_n():
    grid = [5, 20, 73, 250, 1000]
    table = stats.funnel_limits(0.9, grid)
    assert list(table.columns) == [
        "trials",
        "target",
        "lower_95",
        "upper_95",
        "lower_998",
        "upper_998",
    ]
    for row in table.itertuples():
        assert row.lower_95 == pytest.approx(_spiegelhalter_limit(0.025, row.trials, 0.9))
        assert row.upper_95 == pytest.approx(_spiegelhalter_limit(0.975, row.trials, 0.9))
        assert row.lower_998 == pytest.approx(_spiegelhalter_limit(0.001, row.trials, 0.9))
        assert row.upper_998 == pytest.approx(_spiegelhalter_limit(0.999, row.trials, 0.9))
        assert row.lower_998 <= row.lower_95 <= 0.9 <= row.upper_95 <= row.upper_998
    # Funnel narrows as units grow.
    assert table["upper_95"].is_monotonic_decreasing
    # Exact limits approach target ± z·SE for large units.
    big = stats.funnel_limits(0.5, [100_000])
    normal = stats.funnel_limits(0.5, [100_000], method="normal")
    assert big["upper_998"].iloc[0] == pytest.approx(normal["upper_998"].iloc[0], abs=1e-4)
    assert normal["upper_95"].iloc[0] == pytest.approx(0.5 + 1.959964 * math.sqrt(0.25 / 1e5))


def test_funnel_outliers_flags_extreme_unit_and_keeps_typical_within():
    units = pd.Index(["typical", "tiny", "bad", "good", "empty"], name="unit_code")
    k = pd.Series([900, 9, 700, 995, 0], index=units)
    n = pd.Series([1000, 10, 1000, 1000, 0], index=units)
    out = stats.funnel_outliers(k, n, target_rate=0.9)
    assert out.index.equals(units)
    assert out.loc["typical", "band"] == "within"
    assert out.loc["tiny", "band"] == "within"
    assert out.loc["bad", "band"] == "below_998"
    assert out.loc["good", "band"] == "above_998"
    assert pd.isna(out.loc["empty", "band"]) and math.isnan(out.loc["empty", "rate"])
    assert out.loc["bad", "z"] == pytest.approx((0.7 - 0.9) / math.sqrt(0.09 / 1000))
    assert set(out["band"].dropna()) <= set(stats.BANDS)
    # Table agrees with the plotted limits at each unit's size.
    limits = stats.funnel_limits(0.9, [1000]).iloc[0]
    assert out.loc["typical", "upper_95"] == pytest.approx(limits["upper_95"])
    # Target defaults to the pooled rate over units with trials.
    pooled = stats.funnel_outliers(k, n)
    assert pooled["target"].iloc[0] == pytest.approx(k.sum() / n.sum())


def test_funnel_outliers_95_band():
    # 940/1000 against 0.9: z = 4.2 -> beyond 3 SD; 920/1000: z = 2.1 -> between 2 and 3 SD.
    out = stats.funnel_outliers([920, 880, 900], [1000, 1000, 1000], target_rate=0.9)
    assert list(out["band"]) == ["above_95", "below_95", "within"]


def test_overdispersion_matches_homogeneity_and_detects_extra_variation():
    rng = np.random.default_rng(7)
    n = rng.integers(50, 2000, size=150)
    k_binomial = rng.binomial(n, 0.9)
    od = stats.overdispersion(k_binomial, n)
    hom = stats.homogeneity_test(k_binomial, n)
    assert od["chi2"] == pytest.approx(hom["statistic"])
    assert od["dof"] == hom["dof"] == 149
    assert 0.7 < od["phi"] < 1.4
    # Beta-binomial units (true rates vary between units): phi far above 1.
    k_spread = rng.binomial(n, rng.beta(45, 5, size=150))
    spread = stats.overdispersion(k_spread, n)
    assert spread["phi"] > 3 and spread["overdispersed"]
    assert spread["phi_winsorized"] <= spread["phi"]
    # With a given target the dof is the number of units; the result rides on the funnel table.
    given = stats.overdispersion(k_binomial, n, target_rate=0.9)
    assert given["dof"] == 150
    attrs = stats.funnel_outliers(k_binomial, n).attrs["overdispersion"]
    assert attrs["phi"] == pytest.approx(od["phi"])


def test_homogeneity_matches_scipy_and_flags_sparse_tables():
    k = np.array([40, 55, 30, 0])
    n = np.array([50, 60, 45, 0])  # the empty unit is dropped
    res = stats.homogeneity_test(k, n)
    ref = sps.chi2_contingency(np.vstack([k[:3], n[:3] - k[:3]]), correction=False)
    assert res["statistic"] == pytest.approx(ref.statistic)
    assert res["p_value"] == pytest.approx(ref.pvalue)
    assert res["dof"] == 2 and res["n_units"] == 3
    assert res["sparse"] is False
    sparse = stats.homogeneity_test([1, 2, 0, 1], [5, 6, 4, 3])
    assert sparse["sparse"] is True and sparse["share_expected_below_5"] > 0.2
    one = stats.homogeneity_test([3], [10])
    assert math.isnan(one["p_value"])
    none = stats.homogeneity_test([0, 0], [10, 20])  # no successes anywhere
    assert math.isnan(none["statistic"])


# --------------------------------------------------------------------------------------------
# Trends
# --------------------------------------------------------------------------------------------

MONTHS = pd.date_range("2022-01-01", periods=24, freq="MS")


def test_rising_series_is_significant_up_and_agrees_with_scipy():
    rng = np.random.default_rng(3)
    y = 0.85 + 0.004 * np.arange(24) + rng.normal(0, 0.004, 24)
    res = stats.trend_test(y, MONTHS)
    assert res["n"] == 24 and res["is_significant"] and res["direction"] == "up"
    assert res["slope_low"] < 0.004 < res["slope_high"]
    assert res["time_unit"] == "month"
    kt = sps.kendalltau(np.arange(24), y)
    ts = sps.theilslopes(y, np.arange(24), alpha=0.95)
    assert res["tau"] == pytest.approx(kt.statistic)
    assert res["p_value"] == pytest.approx(kt.pvalue)
    assert res["slope"] == pytest.approx(ts.slope)
    assert (res["slope_low"], res["slope_high"]) == pytest.approx((ts.low_slope, ts.high_slope))
    down = stats.trend_test(y[::-1])
    assert down["direction"] == "down" and down["time_unit"] == "step"


def test_flat_noisy_series_is_not_significant():
    rng = np.random.default_rng(11)
    res = stats.trend_test(rng.normal(0.9, 0.02, 36))
    assert not res["is_significant"]
    assert res["direction"] == "flat"
    assert res["slope_low"] < 0 < res["slope_high"]


def test_trend_ignores_nans_and_respects_gaps_in_dates():
    y = np.array([0.80, np.nan, 0.82, 0.83, np.nan, 0.85, 0.86, 0.87])
    res = stats.trend_test(y, MONTHS[:8])
    assert res["n"] == 6
    assert res["slope"] == pytest.approx(0.01)
    # Month-end or mid-month dates give the same monthly steps; Periods work too.
    ends = stats.trend_test(y, MONTHS[:8] + pd.offsets.MonthEnd(0))
    assert ends["slope"] == pytest.approx(0.01, rel=0.05)
    periods = stats.trend_test(y, pd.period_range("2022-01", periods=8, freq="M"))
    assert periods["slope"] == pytest.approx(0.01)
    # Dropping months from the series keeps their place in time.
    gap = stats.trend_test([1.0, 2.0, 3.0, 6.0], pd.to_datetime(MONTHS[[0, 1, 2, 5]]))
    assert gap["slope"] == pytest.approx(1.0)


def test_trend_needs_four_points_and_handles_constant_series():
    few = stats.trend_test([0.9, np.nan, 0.91, 0.95])
    assert few["n"] == 3 and math.isnan(few["tau"]) and math.isnan(few["slope"])
    assert few["is_significant"] is False and few["direction"] == "flat"
    const = stats.trend_test([0.9] * 6)
    assert const["n"] == 6 and const["direction"] == "flat" and const["slope"] == 0
    with pytest.raises(ValueError):
        stats.trend_test([1, 2, 3, 4], MONTHS[:3])


def test_trend_tests_of_many_units_are_each_units_trend_test():
    """The overview tests every unit at once: each result must be trend_test's on the unit's
    months alone, whatever the row order, gaps and missing values."""
    rng = np.random.default_rng(5)
    frames = []
    for code, slope in (("a", -0.004), ("b", 0.0), ("c", 0.003)):
        y = 0.9 + slope * np.arange(18) + rng.normal(0, 0.004, 18)
        y[[3, 11]] = np.nan
        frames.append(pd.DataFrame({"unit": code, "month": MONTHS[:18], "rate": y}))
    frames.append(pd.DataFrame({"unit": "d", "month": MONTHS[[0, 2, 7]], "rate": [0.9, 0.8, 1.0]}))
    frame = pd.concat(frames).sample(frac=1, random_state=3)  # shuffled rows
    results = stats.trend_tests(frame, "rate", "unit")
    assert set(results) == {"a", "b", "c", "d"}
    for code, result in results.items():
        part = frame[frame["unit"] == code].sort_values("month")
        alone = stats.trend_test(part["rate"].to_numpy(), part["month"])
        assert repr(result) == repr(alone), code
    assert results["a"]["direction"] == "down" and results["d"]["n"] == 3


# --------------------------------------------------------------------------------------------
# Survival
# --------------------------------------------------------------------------------------------


def test_kaplan_meier_freireich_6mp():
    km = stats.kaplan_meier(SIX_MP_TIMES, SIX_MP_EVENT)
    at_events = km[km["events"] > 0].set_index("time")
    expected = {6: 0.857, 7: 0.807, 10: 0.753, 13: 0.690, 16: 0.627, 22: 0.538, 23: 0.448}
    assert list(at_events.index) == list(expected)
    assert at_events["survival"].to_numpy() == pytest.approx(list(expected.values()), abs=5e-4)
    assert at_events.loc[6, "at_risk"] == 21 and at_events.loc[6, "events"] == 3
    assert at_events.loc[6, "censored"] == 1
    assert at_events.loc[23, "at_risk"] == 6
    assert km["censored"].sum() + km["events"].sum() == len(SIX_MP_TIMES)
    # Log-log (exponential Greenwood) band as printed by R survfit(conf.type="log-log").
    assert at_events.loc[6, ["low", "high"]].to_numpy() == pytest.approx([0.620, 0.952], abs=1e-3)
    assert at_events.loc[23, ["low", "high"]].to_numpy() == pytest.approx([0.188, 0.680], abs=1e-3)


def test_kaplan_meier_linear_band_is_greenwood():
    km = stats.kaplan_meier(SIX_MP_TIMES, SIX_MP_EVENT, ci_method="linear")
    rows = km[km["events"] > 0]
    d, n = rows["events"].to_numpy(), rows["at_risk"].to_numpy()
    s = np.cumprod(1 - d / n)
    se = s * np.sqrt(np.cumsum(d / (n * (n - d))))
    z = sps.norm.ppf(0.975)
    assert rows["survival"].to_numpy() == pytest.approx(s)
    assert rows["low"].to_numpy() == pytest.approx(np.clip(s - z * se, 0, 1))
    assert rows["high"].to_numpy() == pytest.approx(np.clip(s + z * se, 0, 1))
    # Textbook Greenwood standard errors at 6 and 23 weeks.
    assert se[[0, -1]] == pytest.approx([0.0764, 0.1346], abs=5e-4)


def test_km_quantiles_freireich_median():
    q = stats.km_quantiles(SIX_MP_TIMES, SIX_MP_EVENT).set_index("probability")
    assert q.loc[0.5, "time"] == 23
    assert q.loc[0.5, "low"] == 13  # first time the lower band is <= 0.5
    assert math.isnan(q.loc[0.5, "high"])  # the upper band never reaches 0.5
    assert q.loc[0.9, ["time", "low", "high"]].isna().all()  # 90% never finished


def test_km_quantiles_without_censoring_equal_sample_quantiles():
    rng = np.random.default_rng(5)
    days = rng.integers(1, 30, size=400).astype(float)
    q = stats.km_quantiles(days, np.ones(400, bool), probabilities=(0.25, 0.5, 0.9))
    expected = np.quantile(days, [0.25, 0.5, 0.9], method="inverted_cdf")
    assert q["time"].to_numpy() == pytest.approx(expected)
    assert (q["low"] <= q["time"]).all() and (q["time"] <= q["high"]).all()
    assert q[["low", "high"]].notna().all().all()


def _scipy_sf(times, events, method):
    """The estimate and clipped band of scipy.stats.ecdf on one value per dossier."""
    sf = sps.ecdf(sps.CensoredData(uncensored=times[events], right=times[~events])).sf
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # undefined band at the ends
        ci = sf.confidence_interval(method=method)
    return sf.quantiles, sf.probabilities, ci.low.probabilities, ci.high.probabilities


@pytest.mark.parametrize("method", ["log-log", "linear"])
@pytest.mark.parametrize("finished_share", [0.0, 0.4, 0.9, 1.0])
def test_kaplan_meier_from_counts_equals_scipy_ecdf_on_expanded_rows(method, finished_share):
    rng = np.random.default_rng(11)
    days = rng.integers(0, 40, size=3_000).astype(float)
    done = rng.random(3_000) < finished_share
    grouped = pd.DataFrame({"days": days, "done": done}).value_counts().reset_index()
    km = stats.kaplan_meier(
        grouped["days"], grouped["done"], ci_method=method, counts=grouped["count"]
    )
    pd.testing.assert_frame_equal(km, stats.kaplan_meier(days, done, ci_method=method))
    times, survival, low, high = _scipy_sf(days, done, method)
    np.testing.assert_array_equal(km["time"], times)
    np.testing.assert_array_equal(km["survival"], survival)
    defined = (survival < 1) & (survival > 0)  # elsewhere the band is set by rule (docstring)
    np.testing.assert_array_equal(km["low"][defined], low[defined])
    np.testing.assert_array_equal(km["high"][defined], high[defined])
    assert km["at_risk"].iloc[0] == 3_000 and km[["events", "censored"]].sum().sum() == 3_000


def test_curve_quantiles_read_the_same_curve_as_km_quantiles():
    curve = stats.kaplan_meier(SIX_MP_TIMES, SIX_MP_EVENT)
    pd.testing.assert_frame_equal(
        stats.curve_quantiles(curve, (0.25, 0.5, 0.9)),
        stats.km_quantiles(SIX_MP_TIMES, SIX_MP_EVENT, (0.25, 0.5, 0.9)),
    )
    weighted = stats.km_quantiles([6, 7, 30], [True, False, True], counts=[3, 1, 0])
    assert weighted.set_index("probability").loc[0.5, "time"] == 6  # a zero count is no row


def test_kaplan_meier_rejects_bad_counts():
    for counts in ([1, -1], [1, 0.5], [1, np.nan], [1]):
        with pytest.raises(ValueError):
            stats.kaplan_meier([1, 2], [True, True], counts=counts)
    with pytest.raises(ValueError):
        stats.kaplan_meier([1, 2], [True, False], ci_method="plain")


def test_kaplan_meier_edge_cases():
    censored = stats.kaplan_meier([3, 5, 8], [False, False, False])
    assert (censored[["survival", "low", "high"]] == 1).all().all()
    assert stats.km_quantiles([3, 5, 8], [False, False, False])["time"].isna().all()
    empty = stats.kaplan_meier([], [])
    assert empty.empty and list(empty.columns)[:2] == ["time", "at_risk"]
    dropped = stats.kaplan_meier([1, np.nan, 2], [True, True, True])
    assert dropped["at_risk"].iloc[0] == 2
    assert dropped["survival"].iloc[-1] == 0 and dropped["low"].iloc[-1] == 0
    with pytest.raises(ValueError):
        stats.kaplan_meier([-1, 2], [True, True])
    with pytest.raises(ValueError):
        stats.kaplan_meier([1, 2], [True])


# --------------------------------------------------------------------------------------------
# Surveys
# --------------------------------------------------------------------------------------------


def test_cronbach_alpha_by_formula_and_listwise_deletion():
    items = pd.DataFrame(
        {
            "q1": [4, 5, 3, 4, 2, 5, np.nan],
            "q2": [4, 4, 3, 5, 2, 4, 1],
            "q3": [3, 5, 2, 4, 3, 5, 5],
            "q4": [5, 5, 3, 4, 1, 4, 2],
        }
    )
    complete = items.dropna()
    k = complete.shape[1]
    by_formula = k / (k - 1) * (1 - complete.var(ddof=1).sum() / complete.sum(axis=1).var(ddof=1))
    assert stats.cronbach_alpha(items) == pytest.approx(by_formula)
    # By hand on the 6 complete rows: item variances 41/30, 16/15, 22/15, 34/15 (sum 37/6);
    # totals 16, 19, 11, 17, 8, 18 have variance 569/30; alpha = 4/3 (1 - 185/569) = 512/569.
    assert stats.cronbach_alpha(items) == pytest.approx(512 / 569)
    identical = pd.DataFrame({"a": [1, 2, 3, 4], "b": [1, 2, 3, 4]})
    assert stats.cronbach_alpha(identical) == pytest.approx(1.0)
    assert math.isnan(stats.cronbach_alpha(items[["q1"]]))
    assert math.isnan(stats.cronbach_alpha(pd.DataFrame({"a": [3, 3], "b": [3, 3]})))


def test_satisfied_share():
    share, low, high, n = stats.satisfied_share([5, 4, 4, 3, 1, np.nan, 5, 2])
    assert n == 7 and share == pytest.approx(4 / 7)
    assert (low, high) == pytest.approx(stats.wilson_interval(4, 7))
    none = stats.satisfied_share([np.nan])
    assert none[3] == 0 and math.isnan(none[0])


def test_kruskal_matches_scipy_and_edge_cases():
    rng = np.random.default_rng(2)
    groups = {
        "online": rng.integers(3, 6, 40),
        "in_person": rng.integers(1, 6, 35),
        "post": np.array([4, 5, np.nan, 3]),
    }
    res = stats.kruskal_test(groups)
    ref = sps.kruskal(groups["online"], groups["in_person"], [4, 5, 3])
    assert res["statistic"] == pytest.approx(ref.statistic)
    assert res["p_value"] == pytest.approx(ref.pvalue)
    assert res["n"] == {"online": 40, "in_person": 35, "post": 3}
    assert res["epsilon_squared"] == pytest.approx(ref.statistic / 77)
    same = stats.kruskal_test({"a": [4, 4], "b": [4, 4, 4]})
    assert math.isnan(same["p_value"])
    lonely = stats.kruskal_test({"a": [1, 2], "b": []})
    assert math.isnan(lonely["statistic"]) and lonely["n"] == {"a": 2, "b": 0}


def test_likert_distribution():
    dist = stats.likert_distribution([5, 4, 4, np.nan, 1, 5, 5])
    assert list(dist.index) == [1, 2, 3, 4, 5]
    assert list(dist["count"]) == [1, 0, 0, 2, 3]
    assert dist["share"].sum() == pytest.approx(1.0)
    assert dist.loc[5, "share"] == pytest.approx(0.5)
    with pytest.raises(ValueError, match="outside the scale"):
        stats.likert_distribution([1, 6])
    assert stats.likert_distribution([])["share"].isna().all()
