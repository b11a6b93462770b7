"""The difference of two proportions: its interval (Newcombe 1998) and a test that it is zero.

Used to compare two units' rates (``cchc.compare``). Newcombe's hybrid score interval is built
from the two Wilson intervals (:mod:`.intervals`), so it keeps its coverage for small units and
rates near 0 or 1, where the Wald interval p1 - p2 ± z·se does not (Newcombe 1998, method 10).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import stats

from cchc_analysis.stats.intervals import wilson_interval


def difference_interval(
    successes_a: int, trials_a: int, successes_b: int, trials_b: int, confidence: float = 0.95
) -> tuple[float, float, float]:
    """(difference, low, high) of p_a - p_b with Newcombe's hybrid score interval.

    delta = p_a - p_b; low = delta - sqrt((p_a - l_a)^2 + (u_b - p_b)^2),
    high = delta + sqrt((u_a - p_a)^2 + (p_b - l_b)^2), where (l, u) are the Wilson limits
    at the same confidence (Newcombe 1998, Stat Med 17:873, method 10). NaN when a unit has
    no trials.
    """
    if trials_a <= 0 or trials_b <= 0:
        return math.nan, math.nan, math.nan
    p_a, p_b = successes_a / trials_a, successes_b / trials_b
    low_a, high_a = wilson_interval(successes_a, trials_a, confidence)
    low_b, high_b = wilson_interval(successes_b, trials_b, confidence)
    delta = p_a - p_b
    low = delta - math.sqrt((p_a - low_a) ** 2 + (high_b - p_b) ** 2)
    high = delta + math.sqrt((high_a - p_a) ** 2 + (p_b - low_b) ** 2)
    return delta, max(low, -1.0), min(high, 1.0)


def difference_test(
    successes_a: int, trials_a: int, successes_b: int, trials_b: int
) -> dict[str, Any]:
    """Test that two proportions are equal, on the 2 x 2 table of successes and failures.

    Pearson's chi-square without continuity correction (the pooled two-proportion z-test,
    ``scipy.stats.chi2_contingency(correction=False)``); when an expected count is below 5
    it is unreliable, and Fisher's exact test (``scipy.stats.fisher_exact``) is used instead.
    Returns ``{"method", "statistic", "p_value"}`` (NaN when a unit has no trials).
    """
    if trials_a <= 0 or trials_b <= 0:
        return {"method": "none", "statistic": math.nan, "p_value": math.nan}
    table = np.array([[successes_a, trials_a - successes_a], [successes_b, trials_b - successes_b]])
    if (table.sum(axis=0) == 0).any():  # everyone, or no one, in both units: no difference
        return {"method": "chi-square", "statistic": 0.0, "p_value": 1.0}
    expected = stats.contingency.expected_freq(table)
    if (expected < 5).any():
        result = stats.fisher_exact(table)
        return {"method": "fisher", "statistic": float(result[0]), "p_value": float(result[1])}
    chi2, p_value, _, _ = stats.chi2_contingency(table, correction=False)
    return {"method": "chi-square", "statistic": float(chi2), "p_value": float(p_value)}
