"""Citizen surveys: Cronbach's alpha, the satisfied share, Kruskal–Wallis and Likert shares."""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from cchc_analysis.stats.inputs import ArrayLike
from cchc_analysis.stats.intervals import wilson_interval


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
