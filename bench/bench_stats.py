"""Timing of cchc_analysis.stats on report-sized inputs: `python bench/bench_stats.py`.

wilson_interval calls scipy once per distinct (successes, trials) pair, so its cost grows
with the number of distinct pairs, not rows; the rest is vectorised or one scipy call.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from cchc_analysis import stats


def timed(label: str, func, *args, **kwargs) -> None:
    start = time.perf_counter()
    func(*args, **kwargs)
    print(f"{label:<55} {time.perf_counter() - start:8.3f} s")


def main() -> None:
    rng = np.random.default_rng(0)
    for units in (200, 2_000, 20_000):
        n = rng.integers(1, 5_000, size=units)
        k = rng.binomial(n, 0.93)
        timed(f"wilson_interval, {units} units", stats.wilson_interval, k, n)
        timed(f"funnel_outliers, {units} units", stats.funnel_outliers, k, n)
    grid = np.unique(np.geomspace(1, 100_000, 400).round())
    timed("funnel_limits, 400-point grid", stats.funnel_limits, 0.93, grid)
    days = rng.exponential(12, size=200_000).round()
    done = rng.random(200_000) < 0.9
    timed("kaplan_meier, 200k dossiers", stats.kaplan_meier, days, done)
    timed("km_quantiles, 200k dossiers", stats.km_quantiles, days, done)
    months = pd.date_range("2020-01-01", periods=60, freq="MS")
    timed("trend_test, 60 months", stats.trend_test, rng.normal(0.9, 0.02, 60), months)


if __name__ == "__main__":
    main()
