"""Honest statistics for the reports: intervals, funnel plots, trends, survival, surveys.

Every function is pure (numpy/pandas in, plain numbers or DataFrames out) and delegates the
method itself to scipy wherever scipy has it, so the numbers can be checked against the
literature and against scipy's own tests:

* proportions: Wilson score intervals (Wilson 1927; Newcombe 1998) via ``scipy.stats.binomtest``;
* institutional comparison: funnel plots with exact binomial limits and an overdispersion
  factor (Spiegelhalter 2005), chi-square homogeneity via ``scipy.stats.chi2_contingency``;
* trends: Mann–Kendall as Kendall's tau of value against time (``scipy.stats.kendalltau``) and
  the Theil–Sen slope with Sen's confidence interval (``scipy.stats.theilslopes``);
* durations: Kaplan–Meier with Greenwood-based bands (the formulas of ``scipy.stats.ecdf`` on
  ``CensoredData``, applied to counts per distinct time, and tested equal to it) and quantiles
  with Brookmeyer–Crowley-style intervals read off the band;
* surveys: Cronbach's alpha, Wilson interval of the satisfied share, Kruskal–Wallis
  (``scipy.stats.kruskal``) and Likert distributions.

Rates are fractions in [0, 1] as in :mod:`cchc_analysis.core.metrics`.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
from babel.numbers import format_decimal
from scipy import special, stats

__all__ = [
    "BANDS",
    "cronbach_alpha",
    "curve_quantiles",
    "describe_trend",
    "funnel_limits",
    "funnel_outliers",
    "homogeneity_test",
    "kaplan_meier",
    "km_quantiles",
    "kruskal_test",
    "likert_distribution",
    "overdispersion",
    "satisfied_share",
    "trend_test",
    "wilson_interval",
]

ArrayLike = float | int | Sequence[float] | np.ndarray | pd.Series
CIMethod = Literal["log-log", "linear"]

#: Funnel bands from worst-above to worst-below, as returned by :func:`funnel_outliers`.
BANDS: tuple[str, ...] = ("above_998", "above_95", "within", "below_95", "below_998")

# Tolerance for comparing products of fractions (survival curves) with thresholds.
_EPS = 1e-12


# --------------------------------------------------------------------------------------------
# Proportions
# --------------------------------------------------------------------------------------------


def _counts(values: ArrayLike, name: str) -> np.ndarray:
    """Counts as a float array (NaN kept for missing), refusing negative or fractional ones."""
    arr = np.asarray(values, dtype=float)
    finite = arr[np.isfinite(arr)]
    if (finite < 0).any():
        raise ValueError(f"{name} must be non-negative")
    if (finite != np.round(finite)).any():
        raise ValueError(f"{name} must be whole numbers")
    return arr


def wilson_interval(
    successes: ArrayLike, trials: ArrayLike, confidence: float = 0.95
) -> tuple[Any, Any]:
    """Wilson score interval for a proportion (Wilson 1927; Newcombe 1998, method 3).

    Chosen over the Wald interval because it keeps its coverage for small units and rates
    near 0 or 1 (Brown, Cai & DasGupta 2001). Computed by
    ``scipy.stats.binomtest(k, n).proportion_ci(method="wilson")`` once per distinct (k, n)
    pair (about 0.06 ms each, see bench/bench_stats.py). Scalars in give floats out; arrays
    give arrays. NaN where trials == 0 or a count is missing.
    """
    k = _counts(successes, "successes")
    n = _counts(trials, "trials")
    k, n = np.broadcast_arrays(k, n)
    if (k > n).any():
        raise ValueError("successes cannot exceed trials")
    low = np.full(k.shape, np.nan)
    high = np.full(k.shape, np.nan)
    ok = np.isfinite(k) & np.isfinite(n) & (n > 0)
    if ok.any():
        pairs, inverse = np.unique(np.column_stack([k[ok], n[ok]]), axis=0, return_inverse=True)
        bounds = np.empty((len(pairs), 2))
        for i, (ki, ni) in enumerate(pairs):
            # The interval does not depend on the null p; p = k/n makes scipy's p-value cheap.
            ci = stats.binomtest(int(ki), int(ni), p=ki / ni).proportion_ci(
                confidence_level=confidence, method="wilson"
            )
            bounds[i] = ci.low, ci.high
        low[ok] = bounds[inverse.ravel(), 0]
        high[ok] = bounds[inverse.ravel(), 1]
    if low.ndim == 0:
        return float(low), float(high)
    return low, high


# --------------------------------------------------------------------------------------------
# Funnel plots and homogeneity
# --------------------------------------------------------------------------------------------


def _level_tag(level: float) -> str:
    """0.95 -> '95', 0.998 -> '998': the suffix of limit columns and band names."""
    if not 0 < level < 1:
        raise ValueError(f"funnel levels must lie in (0, 1), not {level!r}")
    return f"{level * 100:g}".replace(".", "")


def _binomial_limit(p: float, trials: np.ndarray, target: float) -> np.ndarray:
    """Exact binomial p-quantile of the rate with Spiegelhalter's (2005, App. A.1.1) interpolation.

    r_p = smallest r with F(r) >= p; alpha = (F(r_p) - p) / (F(r_p) - F(r_p - 1));
    limit = (r_p - alpha) / n. The interpolation turns the step function into a smooth curve.
    """
    r_p = stats.binom.ppf(p, trials, target)
    f_r = stats.binom.cdf(r_p, trials, target)
    f_below = stats.binom.cdf(r_p - 1, trials, target)
    with np.errstate(divide="ignore", invalid="ignore"):
        alpha = np.where(f_r > f_below, (f_r - p) / (f_r - f_below), 0.0)
        limit = (r_p - alpha) / trials
    return np.clip(limit, 0.0, 1.0)


def funnel_limits(
    target_rate: float,
    trials_grid: ArrayLike,
    levels: Sequence[float] = (0.95, 0.998),
    method: Literal["exact", "normal"] = "exact",
) -> pd.DataFrame:
    """Control limits of a funnel plot for proportions (Spiegelhalter 2005, Stat Med 24:1185).

    For each number of trials n in ``trials_grid`` and each two-sided level (0.95 ~ 2 SD,
    0.998 ~ 3 SD), the limits within which a unit whose true rate equals ``target_rate`` falls
    with that probability. ``method="exact"`` (default) uses binomial quantiles
    (``scipy.stats.binom.ppf``) with Spiegelhalter's interpolation; ``"normal"`` uses
    target ± z·sqrt(target(1-target)/n), which is too narrow for small n or extreme targets.
    Columns: trials, target, lower_95, upper_95, lower_998, upper_998 (clipped to [0, 1]).
    """
    if not 0 <= target_rate <= 1:
        raise ValueError("target_rate must lie in [0, 1]")
    grid = np.asarray(trials_grid, dtype=float).ravel()
    if (grid <= 0).any() or not np.isfinite(grid).all():
        raise ValueError("trials_grid must be positive")
    grid = np.unique(np.round(grid))
    table = pd.DataFrame({"trials": grid.astype(np.int64), "target": float(target_rate)})
    for level in levels:
        tag = _level_tag(level)
        tail = (1 - level) / 2
        if method == "exact":
            lower = _binomial_limit(tail, grid, target_rate)
            upper = _binomial_limit(1 - tail, grid, target_rate)
        elif method == "normal":
            z = stats.norm.ppf(1 - tail)
            half = z * np.sqrt(target_rate * (1 - target_rate) / grid)
            lower = np.clip(target_rate - half, 0, 1)
            upper = np.clip(target_rate + half, 0, 1)
        else:
            raise ValueError("method must be 'exact' or 'normal'")
        table[f"lower_{tag}"] = lower
        table[f"upper_{tag}"] = upper
    return table


def _as_series(values: ArrayLike, index: pd.Index | None = None) -> pd.Series:
    if isinstance(values, pd.Series):
        return values.astype(float)
    return pd.Series(np.asarray(values, dtype=float).ravel(), index=index)


def _pooled(k: np.ndarray, n: np.ndarray) -> float:
    ok = np.isfinite(k) & np.isfinite(n) & (n > 0)
    total = n[ok].sum()
    return float(k[ok].sum() / total) if total > 0 else math.nan


def _z_scores(k: np.ndarray, n: np.ndarray, target: float) -> np.ndarray:
    """Spiegelhalter's z: (rate - target) / sqrt(target(1-target)/n); NaN when n == 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return (k / n - target) / np.sqrt(target * (1 - target) / n)


def overdispersion(
    successes: ArrayLike,
    trials: ArrayLike,
    target_rate: float | None = None,
    winsorize: float = 0.1,
    alpha: float = 0.05,
) -> dict[str, Any]:
    """Overdispersion factor phi of unit rates around the target (Spiegelhalter 2005, §6).

    phi = sum z_i^2 / dof, with dof = units - 1 when the target is the pooled rate (then the
    sum is Pearson's homogeneity chi-square) and units when the target is given. phi well
    above 1 means between-unit variation exceeds chance, so binomial funnel limits are too
    narrow and flag too many units: reports should say so rather than inflate silently.
    ``phi_winsorized`` first pulls the most extreme ``winsorize`` share of z-scores on each
    side in (``scipy.stats.mstats.winsorize``), as Spiegelhalter recommends, so a few outliers
    do not masquerade as overdispersion. ``overdispersed`` is the chi-square test at ``alpha``.
    """
    k = _counts(successes, "successes").ravel()
    n = _counts(trials, "trials").ravel()
    pooled = target_rate is None
    target = _pooled(k, n) if pooled else float(target_rate)
    ok = np.isfinite(k) & np.isfinite(n) & (n > 0)
    z = _z_scores(k[ok], n[ok], target)
    units = int(ok.sum())
    dof = units - 1 if pooled else units
    nan = {"phi": math.nan, "phi_winsorized": math.nan, "chi2": math.nan, "p_value": math.nan}
    if dof < 1 or not np.isfinite(z).all():
        return {**nan, "dof": dof, "n_units": units, "target": target, "overdispersed": False}
    chi2 = float(np.sum(z**2))
    z_w = np.asarray(stats.mstats.winsorize(z, limits=(winsorize, winsorize)))
    p_value = float(stats.chi2.sf(chi2, dof))
    return {
        "phi": chi2 / dof,
        "phi_winsorized": float(np.sum(z_w**2)) / dof,
        "chi2": chi2,
        "dof": dof,
        "p_value": p_value,
        "n_units": units,
        "target": target,
        "overdispersed": bool(p_value < alpha),
    }


def funnel_outliers(
    successes: ArrayLike,
    trials: ArrayLike,
    target_rate: float | None = None,
    levels: tuple[float, float] = (0.95, 0.998),
    method: Literal["exact", "normal"] = "exact",
) -> pd.DataFrame:
    """Place each unit on the funnel plot: rate, z-score, limits at its size and its band.

    The target defaults to the pooled rate (sum successes / sum trials). ``band`` is one of
    ``above_998``, ``above_95``, ``within``, ``below_95``, ``below_998`` (names follow the
    levels), comparing the unit's rate with the :func:`funnel_limits` at its own number of
    trials, so the table agrees with the plot. Units with 0 trials get NaN and band <NA>.
    The index of a Series ``successes`` is kept. ``.attrs["overdispersion"]`` holds
    :func:`overdispersion`; when ``phi`` is well above 1, say the limits are too narrow.
    """
    inner, outer = sorted(levels)
    k_s = _as_series(successes)
    n_s = _as_series(trials, index=k_s.index)
    if len(k_s) != len(n_s):
        raise ValueError("successes and trials must have the same length")
    k = _counts(k_s.to_numpy(), "successes")
    n = _counts(n_s.to_numpy(), "trials")
    if (k > n).any():
        raise ValueError("successes cannot exceed trials")
    target = _pooled(k, n) if target_rate is None else float(target_rate)
    ok = np.isfinite(k) & np.isfinite(n) & (n > 0)
    out = pd.DataFrame(
        {"successes": k, "trials": n, "rate": np.nan, "target": target, "z": np.nan},
        index=k_s.index,
    )
    tags = [_level_tag(inner), _level_tag(outer)]
    for tag in tags:
        out[f"lower_{tag}"] = np.nan
        out[f"upper_{tag}"] = np.nan
    band = pd.Series(pd.NA, index=out.index, dtype="object")
    if ok.any() and np.isfinite(target):
        limits = funnel_limits(target, n[ok], levels=(inner, outer), method=method)
        limits = limits.set_index("trials").loc[np.round(n[ok]).astype(np.int64)]
        rate = k[ok] / n[ok]
        out.loc[ok, "rate"] = rate
        out.loc[ok, "z"] = _z_scores(k[ok], n[ok], target)
        for tag in tags:
            out.loc[ok, f"lower_{tag}"] = limits[f"lower_{tag}"].to_numpy()
            out.loc[ok, f"upper_{tag}"] = limits[f"upper_{tag}"].to_numpy()
        t_in, t_out = tags
        choices = np.select(
            [
                rate > limits[f"upper_{t_out}"].to_numpy(),
                rate > limits[f"upper_{t_in}"].to_numpy(),
                rate < limits[f"lower_{t_out}"].to_numpy(),
                rate < limits[f"lower_{t_in}"].to_numpy(),
            ],
            [f"above_{t_out}", f"above_{t_in}", f"below_{t_out}", f"below_{t_in}"],
            default="within",
        )
        band[ok] = choices
    out["band"] = band
    out.attrs["overdispersion"] = overdispersion(k, n, target_rate=target_rate)
    return out


def homogeneity_test(successes: ArrayLike, trials: ArrayLike) -> dict[str, Any]:
    """Pearson chi-square test that all units share one rate (2 x units contingency table).

    Uses ``scipy.stats.chi2_contingency(..., correction=False)`` on successes and failures
    per unit (units with 0 trials dropped), so the statistic equals the overdispersion chi2
    at the pooled rate. ``sparse`` flags Cochran's rule being broken (expected counts < 5 in
    more than 20% of cells, or any below 1): the chi-square p-value is then unreliable.
    """
    k = _counts(successes, "successes").ravel()
    n = _counts(trials, "trials").ravel()
    if (k > n).any():
        raise ValueError("successes cannot exceed trials")
    ok = np.isfinite(k) & np.isfinite(n) & (n > 0)
    table = np.vstack([k[ok], n[ok] - k[ok]])
    units = int(ok.sum())
    result: dict[str, Any] = {
        "statistic": math.nan,
        "dof": max(units - 1, 0),
        "p_value": math.nan,
        "n_units": units,
        "min_expected": math.nan,
        "share_expected_below_5": math.nan,
        "sparse": True,
    }
    if units < 2 or (table.sum(axis=1) == 0).any():
        return result  # one unit, or no successes/failures anywhere: nothing to compare
    res = stats.chi2_contingency(table, correction=False)
    expected = np.asarray(res.expected_freq)
    share_low = float((expected < 5).mean())
    result.update(
        statistic=float(res.statistic),
        dof=int(res.dof),
        p_value=float(res.pvalue),
        min_expected=float(expected.min()),
        share_expected_below_5=share_low,
        sparse=bool(share_low > 0.2 or expected.min() < 1),
    )
    return result


# --------------------------------------------------------------------------------------------
# Trends
# --------------------------------------------------------------------------------------------


def _month_positions(dates: Any) -> np.ndarray:
    """Dates as months since year 0 (month starts are whole numbers), NaN for missing."""
    if isinstance(dates, pd.PeriodIndex) or (
        isinstance(dates, pd.Series) and isinstance(dates.dtype, pd.PeriodDtype)
    ):
        dates = pd.PeriodIndex(dates).to_timestamp()
    stamps = pd.DatetimeIndex(pd.to_datetime(dates))
    months = stamps.year * 12 + stamps.month - 1 + (stamps.day - 1) / stamps.days_in_month
    return np.asarray(months, dtype=float)


def trend_test(values: ArrayLike, dates: Any = None, alpha: float = 0.05) -> dict[str, Any]:
    """Mann–Kendall trend test and Theil–Sen slope of a (monthly) series.

    Mann–Kendall is Kendall's tau between value and time (``scipy.stats.kendalltau``: tau-b,
    exact p for small tie-free series, otherwise the normal approximation with the tie-corrected
    variance, no continuity correction). The slope is the Theil–Sen median of pairwise slopes
    with Sen's (1968) confidence interval at 1 - alpha (``scipy.stats.theilslopes``); it is per
    month when ``dates`` are given (month starts are one apart; gaps are respected) and per
    position otherwise. NaN values (and NaT dates) are ignored but keep their place in time.
    ``direction`` is "up"/"down" only when the trend is significant (p < alpha), else "flat".
    With fewer than 4 points only ``n`` is filled and the rest is NaN.
    """
    y = np.asarray(values, dtype=float).ravel()
    if dates is None:
        t = np.arange(len(y), dtype=float)
        time_unit = "step"
    else:
        t = _month_positions(dates).ravel()
        if len(t) != len(y):
            raise ValueError("values and dates must have the same length")
        time_unit = "month"
    ok = np.isfinite(y) & np.isfinite(t)
    y, t = y[ok], t[ok]
    n = len(y)
    result: dict[str, Any] = {
        "n": n,
        "tau": math.nan,
        "p_value": math.nan,
        "slope": math.nan,
        "slope_low": math.nan,
        "slope_high": math.nan,
        "intercept": math.nan,
        "alpha": alpha,
        "is_significant": False,
        "direction": "flat",
        "time_unit": time_unit,
    }
    if n < 4:
        return result
    if dates is not None:
        t = t - t.min()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # constant series: tau is NaN
        try:
            kt = stats.kendalltau(t, y)
            tau, p_value = float(kt.statistic), float(kt.pvalue)
        except ValueError:
            tau, p_value = math.nan, math.nan
        ts = stats.theilslopes(y, t, alpha=1 - alpha)
    significant = bool(np.isfinite(p_value) and p_value < alpha)
    direction = "flat"
    if significant:
        direction = "up" if tau > 0 else "down"
    result.update(
        tau=tau,
        p_value=p_value,
        slope=float(ts.slope),
        slope_low=float(ts.low_slope),
        slope_high=float(ts.high_slope),
        intercept=float(ts.intercept),
        is_significant=significant,
        direction=direction,
    )
    return result


_PER = {
    "month": ("mỗi tháng", "a month"),
    "quarter": ("mỗi quý", "a quarter"),
    "year": ("mỗi năm", "a year"),
    "step": ("mỗi kỳ", "a period"),
}
_UNITS = {
    "points": ("điểm %", "points", 100.0),
    "days": ("ngày", "days", 1.0),
    "dossiers": ("hồ sơ", "dossiers", 1.0),
}


def _fmt(value: float, lang: str, pattern: str = "#,##0.0") -> str:
    """Number with the language's decimal mark and a true minus sign (−0,05)."""
    body = format_decimal(abs(value), format=pattern, locale=lang)
    negative = value < 0 and body.strip("0.,") != ""
    return ("−" if negative else "") + body


def _fmt_p(p: float, lang: str) -> str:
    if p < 0.001:
        return "p < " + _fmt(0.001, lang, "0.000")
    return "p = " + _fmt(p, lang, "0.00" if p >= 0.01 else "0.000")


def describe_trend(
    result: Mapping[str, Any],
    metric_label: str,
    lang: Literal["vi", "en"] = "vi",
    unit: str = "points",
    per: str = "month",
) -> str:
    """One sentence on a :func:`trend_test` result for leaders, in Vietnamese or English.

    ``metric_label`` is the subject as it should read ("Tỷ lệ giải quyết đúng hạn", "the
    within-deadline rate"); its first letter is capitalised. ``unit="points"`` reads the slope
    of a 0–1 rate as percentage points (×100: "điểm %" / "points"); "days" and "dossiers"
    are translated; any other unit is printed as given, unscaled. ``per`` names the time step
    ("month", "quarter", "year", "step"). The slope is only quoted when the trend is
    significant; otherwise the sentence gives Kendall's tau and p, so nobody reads a direction
    into noise. Numbers use Babel's CLDR formats (0,4 in Vietnamese).
    """
    if lang not in ("vi", "en"):
        raise ValueError("lang must be 'vi' or 'en'")
    vi = lang == "vi"
    subject = metric_label[:1].upper() + metric_label[1:]
    n = int(result.get("n", 0))
    p_value = result.get("p_value", math.nan)
    if n < 4 or not np.isfinite(p_value):
        if vi:
            return f"{subject} chưa đủ số liệu để kiểm định xu hướng (n = {n})."
        return f"{subject} has too few data points to test for a trend (n = {n})."
    if not result.get("is_significant", False):
        tau = _fmt(result["tau"], lang, "0.00")
        if vi:
            return (
                f"{subject} không có xu hướng có ý nghĩa thống kê "
                f"(tau Kendall {tau}; {_fmt_p(p_value, lang)})."
            )
        return (
            f"{subject} showed no significant trend (Kendall's tau {tau}, {_fmt_p(p_value, lang)})."
        )
    unit_vi, unit_en, scale = _UNITS.get(unit, (unit, unit, 1.0))
    per_vi, per_en = _PER.get(per, (per, per))
    slope = abs(float(result["slope"])) * scale
    pattern = "#,##0.0" if round(slope, 1) > 0 else "#,##0.00"
    amount = _fmt(slope, lang, pattern)
    if round(slope, 2) == 0:  # significant yet tiny: never print "0,00"
        amount = ("dưới " if vi else "less than ") + _fmt(0.01, lang, "#,##0.00")
    level = _fmt(float(result.get("alpha", 0.05)) * 100, lang, "#,##0.#") + "%"
    up = result["direction"] == "up"
    if vi:
        verb = "tăng" if up else "giảm"
        return f"{subject} {verb} {amount} {unit_vi} {per_vi} (có ý nghĩa thống kê ở mức {level})."
    verb = "rose" if up else "fell"
    return f"{subject} {verb} by {amount} {unit_en} {per_en} (significant at {level})."


# --------------------------------------------------------------------------------------------
# Survival: time to resolution with pending dossiers censored
# --------------------------------------------------------------------------------------------


def _survival_input(
    durations: ArrayLike, is_event: ArrayLike, counts: ArrayLike | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    d = np.asarray(durations, dtype=float).ravel()
    e = np.asarray(is_event).ravel()
    w = np.ones(len(d), dtype=np.int64) if counts is None else np.asarray(counts).ravel()
    if len(d) != len(e) or len(d) != len(w):
        raise ValueError("durations_days, is_event and counts must have the same length")
    if pd.isna(e).any():
        raise ValueError("is_event must be True/False for every dossier")
    if pd.isna(w).any() or (w < 0).any() or (w != np.round(w)).any():
        raise ValueError("counts must be whole numbers >= 0")
    e, w = e.astype(bool), w.astype(np.int64)
    keep = np.isfinite(d) & (w > 0)
    d, e, w = d[keep], e[keep], w[keep]
    if (d < 0).any():
        raise ValueError("durations_days must be non-negative")
    return d, e, w


def _km_table(
    times: np.ndarray, events: np.ndarray, censored: np.ndarray, confidence: float, ci_method: str
) -> dict[str, np.ndarray]:
    """Kaplan–Meier and its Greenwood band from counts per distinct time.

    Why not ``scipy.stats.ecdf``: it takes one value per dossier (no weights) and builds a
    Python list per dossier, so a report's cost would grow with its dossiers. The estimate
    depends only on the number at risk and finished at each distinct time, so this computes
    it from those counts with scipy's own formulas, in scipy's order of operations (its
    uncensored and right-censored branches, ``_linear_ci``/``_loglog_ci``, clipping to
    [0, 1]), which gives the same numbers; tests check it against ``stats.ecdf`` on the
    expanded data.
    """
    if not 0 <= confidence <= 1:
        raise ValueError("confidence must lie in [0, 1]")
    total = int(events.sum() + censored.sum())
    if censored.sum() == 0:  # scipy's ``_ecdf_uncensored``: every time is an event time
        finished = np.cumsum(events)
        at_risk = np.concatenate(([total], total - finished[:-1]))
        survival = 1 - finished / total
    else:  # scipy's ``_ecdf_right_censored``
        at_risk = total - np.concatenate(([0], np.cumsum(events + censored)[:-1]))
        survival = np.cumprod((at_risk - events) / at_risk)
    with np.errstate(divide="ignore", invalid="ignore"):
        greenwood = np.cumsum(events / (at_risk * (at_risk - events)))
        z = special.ndtri(1 / 2 + confidence / 2)
        if ci_method == "linear":
            z_se = z * np.sqrt(survival**2 * greenwood)
            low, high = survival - z_se, survival + z_se
        elif ci_method == "log-log":
            z_se = z * np.sqrt(1 / np.log(survival) ** 2 * greenwood)
            log_log = np.log(-np.log(survival))
            low, high = np.exp(-np.exp(log_log + z_se)), np.exp(-np.exp(log_log - z_se))
        else:
            raise ValueError(f"ci_method must be 'log-log' or 'linear', not {ci_method!r}")
    return {
        "time": times,
        "at_risk": at_risk,
        "events": events,
        "censored": censored,
        "survival": survival,
        "low": np.clip(low, 0, 1),
        "high": np.clip(high, 0, 1),
    }


def kaplan_meier(
    durations_days: ArrayLike,
    is_event: ArrayLike,
    confidence: float = 0.95,
    ci_method: CIMethod = "log-log",
    *,
    counts: ArrayLike | None = None,
) -> pd.DataFrame:
    """Kaplan–Meier share of dossiers still unfinished after t days, pending ones censored.

    Why: pending dossiers have no end date; dropping them would make processing look faster
    than it is. The estimate and its pointwise Greenwood-based band are those of
    ``scipy.stats.ecdf(CensoredData(...)).sf`` (``ci_method="log-log"``, the exponential
    Greenwood band, by default: it stays inside [0, 1]; ``"linear"`` is plain Greenwood),
    computed from counts per distinct time (see :func:`_km_table`), so ``counts`` (how many
    dossiers each row stands for) lets a caller pass one row per distinct (duration, event)
    instead of one per dossier. One row per distinct observed time: time, at_risk, events,
    censored, survival, low, high. Where the band is undefined it is set to [1, 1] while
    survival is still 1 and the lower bound to 0 once survival reaches 0 (the upper bound
    stays NaN there). Missing durations are dropped.
    """
    d, e, w = _survival_input(durations_days, is_event, counts)
    columns = ["time", "at_risk", "events", "censored", "survival", "low", "high"]
    if len(d) == 0:
        return pd.DataFrame({c: pd.Series(dtype=float) for c in columns})
    times, where = np.unique(d, return_inverse=True)
    events = np.bincount(where[e], weights=w[e], minlength=len(times)).astype(np.int64)
    censored = np.bincount(where[~e], weights=w[~e], minlength=len(times)).astype(np.int64)
    table = pd.DataFrame(_km_table(times, events, censored, confidence, ci_method))
    certain = table["survival"] >= 1 - _EPS
    table.loc[certain, ["low", "high"]] = 1.0
    table.loc[table["survival"] <= _EPS, "low"] = 0.0
    return table


def _first_time_at_or_below(times: np.ndarray, curve: np.ndarray, level: float) -> float:
    hit = np.flatnonzero(curve <= level + _EPS)
    return float(times[hit[0]]) if len(hit) else math.nan


def km_quantiles(
    durations_days: ArrayLike,
    is_event: ArrayLike,
    probabilities: Sequence[float] = (0.5, 0.9),
    confidence: float = 0.95,
    ci_method: CIMethod = "log-log",
    *,
    counts: ArrayLike | None = None,
) -> pd.DataFrame:
    """Days by which a share p of dossiers is finished (p = 0.5: median), with a CI.

    See :func:`curve_quantiles`; ``counts`` as in :func:`kaplan_meier`.
    Columns: probability, time, low, high.
    """
    table = kaplan_meier(durations_days, is_event, confidence, ci_method, counts=counts)
    return curve_quantiles(table, probabilities)


def curve_quantiles(
    curve: pd.DataFrame, probabilities: Sequence[float] = (0.5, 0.9)
) -> pd.DataFrame:
    """Quantiles of a :func:`kaplan_meier` table, so a caller that has the curve need not
    estimate it again.

    The estimate is the first time the Kaplan–Meier curve falls to 1 - p or below (no
    midpoint rule for flat stretches). The interval follows Brookmeyer & Crowley (1982) as
    implemented in R's ``quantile.survfit``: the times at which the lower and the upper
    pointwise bands of :func:`kaplan_meier` first fall to 1 - p. NaN where not reached — an
    upper limit of NaN means the data cannot rule out "later than the last follow-up".
    Columns: probability, time, low, high.
    """
    times = curve["time"].to_numpy()
    rows = []
    for p in probabilities:
        if not 0 < p < 1:
            raise ValueError("probabilities must lie in (0, 1)")
        level = 1 - p
        rows.append(
            {
                "probability": float(p),
                "time": _first_time_at_or_below(times, curve["survival"].to_numpy(), level),
                "low": _first_time_at_or_below(times, curve["low"].to_numpy(), level),
                "high": _first_time_at_or_below(times, curve["high"].to_numpy(), level),
            }
        )
    return pd.DataFrame(rows, columns=["probability", "time", "low", "high"])


# --------------------------------------------------------------------------------------------
# Surveys
# --------------------------------------------------------------------------------------------


def cronbach_alpha(items: pd.DataFrame) -> float:
    """Cronbach's (1951) alpha: internal consistency of a multi-item scale.

    alpha = k/(k-1) * (1 - sum of item variances / variance of the total score), sample
    variances (ddof=1), respondents with any missing item dropped (listwise deletion).
    NaN with fewer than 2 items or 2 complete respondents, or a constant total score.
    """
    data = items.apply(pd.to_numeric, errors="coerce").dropna()
    k = data.shape[1]
    if k < 2 or len(data) < 2:
        return math.nan
    total_var = data.sum(axis=1).var(ddof=1)
    if not total_var > 0:
        return math.nan
    return float(k / (k - 1) * (1 - data.var(ddof=1).sum() / total_var))


def satisfied_share(
    scores: ArrayLike, threshold: float = 4, confidence: float = 0.95
) -> tuple[float, float, float, int]:
    """Share of answers at or above ``threshold`` (4 = "satisfied" on 1–5) with Wilson CI.

    Returns (share, low, high, n) over non-missing answers; NaNs and n = 0 when none.
    """
    values = np.asarray(scores, dtype=float).ravel()
    values = values[np.isfinite(values)]
    n = len(values)
    if n == 0:
        return math.nan, math.nan, math.nan, 0
    hits = int((values >= threshold).sum())
    low, high = wilson_interval(hits, n, confidence)
    return hits / n, low, high, n


def kruskal_test(groups: Mapping[str, ArrayLike]) -> dict[str, Any]:
    """Kruskal–Wallis H test that groups' scores come from one distribution.

    Rank-based, so suited to ordinal Likert scores (``scipy.stats.kruskal``, tie-corrected).
    NaNs are dropped; groups left empty are reported with n = 0 and left out of the test.
    Also returns epsilon² = H / (N - 1) (Tomczak & Tomczak 2014) as an effect size.
    NaN statistic and p-value with fewer than two non-empty groups or all scores equal.
    """
    clean = {}
    for name, values in groups.items():
        arr = np.asarray(values, dtype=float).ravel()
        clean[name] = arr[np.isfinite(arr)]
    sizes = {name: len(arr) for name, arr in clean.items()}
    used = [arr for arr in clean.values() if len(arr) > 0]
    total = sum(len(arr) for arr in used)
    result: dict[str, Any] = {
        "statistic": math.nan,
        "p_value": math.nan,
        "dof": max(len(used) - 1, 0),
        "epsilon_squared": math.nan,
        "n": sizes,
        "n_total": total,
    }
    if len(used) < 2:
        return result
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            res = stats.kruskal(*used)
        except ValueError:  # all numbers identical
            return result
    h = float(res.statistic)
    result.update(
        statistic=h,
        p_value=float(res.pvalue),
        epsilon_squared=h / (total - 1) if np.isfinite(h) and total > 1 else math.nan,
    )
    return result


def likert_distribution(scores: ArrayLike, levels: Sequence[int] = (1, 2, 3, 4, 5)) -> pd.DataFrame:
    """Counts and shares per Likert level, in level order, for diverging bar charts.

    Missing answers are ignored; an answer outside ``levels`` raises ValueError rather than
    being silently dropped. Index: level; columns: count, share (of non-missing answers,
    NaN when there are none).
    """
    values = pd.Series(np.asarray(scores, dtype=float).ravel()).dropna()
    unexpected = sorted(set(values.unique()) - {float(level) for level in levels})
    if unexpected:
        raise ValueError(f"answers outside the scale {tuple(levels)}: {unexpected}")
    counts = values.value_counts().reindex([float(lv) for lv in levels], fill_value=0)
    total = int(counts.sum())
    shares = counts / total if total else counts * math.nan
    out = pd.DataFrame(
        {"count": counts.to_numpy().astype(np.int64), "share": shares.to_numpy(dtype=float)},
        index=pd.Index(list(levels), name="level"),
    )
    return out
