"""Trends in a monthly series: Mann–Kendall test and Theil–Sen slope.

Numbers only; the sentence a leader reads about a trend is written by
:func:`cchc_analysis.reports.trend_sentence.describe_trend`.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from cchc_analysis.stats.inputs import ArrayLike


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
        return _trend(y, np.arange(len(y), dtype=float), alpha, "step")
    t = _month_positions(dates).ravel()
    if len(t) != len(y):
        raise ValueError("values and dates must have the same length")
    return _trend(y, t, alpha, "month")


def trend_tests(
    frame: pd.DataFrame, value_column: str, by: str, alpha: float = 0.05
) -> dict[str, dict[str, Any]]:
    """:func:`trend_test` of each ``by`` group's ``value_column`` against its ``month``s (a
    province's units at once): the months are turned into positions once, not per unit.
    Keys are the groups' values as text."""
    positions = _month_positions(frame["month"]).ravel()
    values = frame[value_column].to_numpy(dtype=float)
    results = {}
    for code, rows in frame.groupby(by, sort=False).indices.items():
        order = rows[np.argsort(positions[rows], kind="stable")]
        results[str(code)] = _trend(values[order], positions[order], alpha, "month")
    return results


def _trend(y: np.ndarray, t: np.ndarray, alpha: float, time_unit: str) -> dict[str, Any]:
    """:func:`trend_test` of values ``y`` at times ``t`` (months, or steps)."""
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
    if time_unit == "month":
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
