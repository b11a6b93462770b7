"""Comparing institutions: funnel limits, overdispersion, funnel outliers and homogeneity.

Funnel plots with exact binomial limits and an overdispersion factor (Spiegelhalter 2005,
Stat Med 24:1185); chi-square homogeneity via ``scipy.stats.chi2_contingency``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from cchc_analysis.stats.inputs import ArrayLike, as_counts

#: Funnel bands from worst-above to worst-below, as returned by :func:`funnel_outliers`.
BANDS: tuple[str, ...] = ("above_998", "above_95", "within", "below_95", "below_998")


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
    clipped: np.ndarray = np.clip(limit, 0.0, 1.0)
    return clipped


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
        z: np.ndarray = (k / n - target) / np.sqrt(target * (1 - target) / n)
    return z


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
    k = as_counts(successes, "successes").ravel()
    n = as_counts(trials, "trials").ravel()
    pooled = target_rate is None
    target = _pooled(k, n) if target_rate is None else float(target_rate)
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
    k = as_counts(k_s.to_numpy(), "successes")
    n = as_counts(n_s.to_numpy(), "trials")
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
    k = as_counts(successes, "successes").ravel()
    n = as_counts(trials, "trials").ravel()
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
