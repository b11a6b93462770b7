"""Time to resolution with pending dossiers censored: Kaplan–Meier curves and their quantiles.

Greenwood-based bands with the formulas of ``scipy.stats.ecdf`` on ``CensoredData``, applied
to counts per distinct time; quantiles with Brookmeyer–Crowley-style intervals.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd
from scipy import special

from cchc_analysis.stats.inputs import ArrayLike

CIMethod = Literal["log-log", "linear"]

# Tolerance for comparing products of fractions (survival curves) with thresholds.
_EPS = 1e-12


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
    table = _km_table(times, events, censored, confidence, ci_method)
    # on the arrays, not the frame: a report estimates a dozen curves (pandas' masked
    # assignment costs more than the whole estimate)
    certain = table["survival"] >= 1 - _EPS
    table["low"][certain] = 1.0
    table["high"][certain] = 1.0
    table["low"][table["survival"] <= _EPS] = 0.0
    return pd.DataFrame(table)


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
