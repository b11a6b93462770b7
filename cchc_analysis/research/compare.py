"""Honest comparisons of rates: intervals on a rate column, two units' difference, funnels.

Every rate of the catalogue is a numerator over a denominator (``core.metrics``); these helpers
find both in a :meth:`Workbook.kpis` table, so a researcher never divides by hand and never
compares two rates without their uncertainty. The statistics are :mod:`cchc_analysis.stats`'s.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from cchc_analysis import stats
from cchc_analysis.core.errors import UsageError
from cchc_analysis.core.metrics import RATES, RateDefinition


def _definition(metric: str) -> RateDefinition:
    if metric not in RATES:
        raise UsageError(
            f"{metric!r} is not a rate of the catalogue; use one of {', '.join(RATES)}"
        )
    return RATES[metric]


def rate_parts(table: pd.DataFrame, metric: str) -> tuple[pd.Series, pd.Series]:
    """(numerator, denominator) of a catalogue rate for every row of a counts table."""
    rate = _definition(metric)
    missing = [c for c in (*rate.numerator, rate.denominator) if c not in table]
    if missing:
        raise UsageError(f"{metric} needs the columns {', '.join(missing)}")
    numerator = table[list(rate.numerator)].sum(axis=1, min_count=1)
    return numerator, table[rate.denominator]


def with_intervals(
    table: pd.DataFrame, metric: str | list[str], *, confidence: float = 0.95
) -> pd.DataFrame:
    """``table`` with the Wilson interval of each rate: ``<metric>_low`` and ``<metric>_high``
    placed after the rate column (NaN where the denominator is 0 or missing).

    Examples
    --------
    >>> t = with_intervals(wb.kpis("2023-Q3"), "late_rate")
    >>> bool((t["late_rate_low"] <= t["late_rate"]).all())
    True
    """
    out = table.copy()
    for name in [metric] if isinstance(metric, str) else metric:
        numerator, denominator = rate_parts(out, name)
        k = numerator.astype("float64").to_numpy()
        n = denominator.astype("float64").to_numpy()
        low, high = stats.wilson_interval(np.nan_to_num(k), np.nan_to_num(n), confidence)
        unknown = np.isnan(k) | np.isnan(n)
        low, high = np.where(unknown, np.nan, low), np.where(unknown, np.nan, high)
        if name not in out:
            with np.errstate(divide="ignore", invalid="ignore"):
                out[name] = np.where(n > 0, k / n, np.nan)
        position = list(out.columns).index(name) + 1
        for offset, (suffix, values) in enumerate((("_low", low), ("_high", high))):
            column = f"{name}{suffix}"
            if column in out:
                out = out.drop(columns=column)
            out.insert(position + offset, column, values)
    return out


def compare_rates(rows: pd.DataFrame, metric: str, *, confidence: float = 0.95) -> pd.DataFrame:
    """One row: two units' rates with Wilson intervals, the difference (first minus second)
    with Newcombe's interval, and the test that they are equal (``stats.difference_test``).

    ``rows``: two rows of a counts table (unit_code, unit_name and the rate's columns).
    """
    if len(rows) != 2:
        raise UsageError(f"compare takes two rows, not {len(rows)}")
    numerator, denominator = rate_parts(rows, metric)
    k = [int(v) for v in numerator]
    n = [int(v) for v in denominator]
    record: dict[str, Any] = {"metric": metric}
    for i, side in enumerate(("a", "b")):
        row = rows.iloc[i]
        low, high = stats.wilson_interval(k[i], n[i], confidence)
        record.update(
            {
                f"unit_code_{side}": row.get("unit_code"),
                f"unit_name_{side}": row.get("unit_name"),
                f"numerator_count_{side}": k[i],
                f"denominator_count_{side}": n[i],
                f"rate_{side}": k[i] / n[i] if n[i] else np.nan,
                f"rate_{side}_low": low,
                f"rate_{side}_high": high,
            }
        )
    delta, low, high = stats.difference_interval(k[0], n[0], k[1], n[1], confidence)
    test = stats.difference_test(k[0], n[0], k[1], n[1])
    record.update(
        {
            "difference_rate": delta,
            "difference_rate_low": low,
            "difference_rate_high": high,
            "confidence": confidence,
            "test": test["method"],
            "statistic": test["statistic"],
            "p_value": test["p_value"],
        }
    )
    return pd.DataFrame([record])


def funnel(
    table: pd.DataFrame, metric: str, *, target_rate: float | None = None
) -> tuple[pd.DataFrame, pd.DataFrame, float]:
    """Units placed on a funnel plot of ``metric``: (units, limits, target).

    ``units`` has unit_code, short_name, trials, rate, z and band (``stats.funnel_outliers``,
    target the pooled rate unless given); ``limits`` the control limits over the units'
    sizes (``stats.funnel_limits``). ``reports.plots.funnel_plot(units, limits, target, ...)``
    draws them.
    """
    numerator, denominator = rate_parts(table, metric)
    placed = stats.funnel_outliers(
        numerator.to_numpy(dtype=float), denominator.to_numpy(dtype=float), target_rate
    )
    placed.index = table.index
    names = table["unit_name"] if "unit_name" in table else table["unit_code"]
    units = pd.concat(
        [table[["unit_code"]], names.rename("short_name"), placed], axis=1
    ).reset_index(drop=True)
    k, n = numerator.sum(), denominator.sum()
    target = float(target_rate) if target_rate is not None else float(k / n) if n else np.nan
    top = max(float(denominator.max()), 2.0)
    grid = np.unique(np.geomspace(1, top * 1.1, 80).round())
    limits = stats.funnel_limits(target, grid)
    return units, limits, target
