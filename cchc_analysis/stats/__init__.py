"""Honest statistics for the reports: intervals, funnel plots, trends, survival, surveys.

In: counts, rates, durations and scores as numpy arrays, pandas Series or plain numbers.
Out: plain numbers, dicts of numbers or DataFrames — never text. Every function is pure and
delegates the method itself to scipy wherever scipy has it, so the numbers can be checked
against the literature and against scipy's own tests:

* :mod:`~cchc_analysis.stats.intervals` — Wilson score intervals (Wilson 1927; Newcombe 1998);
* :mod:`~cchc_analysis.stats.difference` — the difference of two proportions: Newcombe's
  hybrid score interval and a chi-square (or Fisher exact) test;
* :mod:`~cchc_analysis.stats.funnel` — funnel limits with exact binomial quantiles, the
  overdispersion factor (Spiegelhalter 2005), funnel outliers and chi-square homogeneity;
* :mod:`~cchc_analysis.stats.trends` — Mann–Kendall (Kendall's tau against time) and the
  Theil–Sen slope with Sen's confidence interval;
* :mod:`~cchc_analysis.stats.survival` — Kaplan–Meier with Greenwood-based bands, pending
  dossiers censored, and quantiles with Brookmeyer–Crowley-style intervals;
* :mod:`~cchc_analysis.stats.survey` — Cronbach's alpha, the satisfied share with its Wilson
  interval, Kruskal–Wallis and Likert distributions.

Rates are fractions in [0, 1] as in :mod:`cchc_analysis.core.metrics`. This stage never
formats for readers (no sentences, no number formats: that is :mod:`cchc_analysis.reports`),
never reads files and never counts dossiers. Researchers call the functions re-exported here,
e.g. ``stats.wilson_interval``.
"""

from cchc_analysis.stats.difference import difference_interval, difference_test
from cchc_analysis.stats.funnel import (
    BANDS,
    funnel_limits,
    funnel_outliers,
    homogeneity_test,
    overdispersion,
)
from cchc_analysis.stats.inputs import ArrayLike
from cchc_analysis.stats.intervals import wilson_interval
from cchc_analysis.stats.survey import (
    cronbach_alpha,
    kruskal_test,
    likert_distribution,
    satisfied_share,
)
from cchc_analysis.stats.survival import CIMethod, curve_quantiles, kaplan_meier, km_quantiles
from cchc_analysis.stats.trends import trend_test, trend_tests

__all__ = [
    "ArrayLike",
    "CIMethod",
    "BANDS",
    "wilson_interval",
    "difference_interval",
    "difference_test",
    "funnel_limits",
    "overdispersion",
    "funnel_outliers",
    "homogeneity_test",
    "trend_test",
    "trend_tests",
    "kaplan_meier",
    "km_quantiles",
    "curve_quantiles",
    "cronbach_alpha",
    "satisfied_share",
    "kruskal_test",
    "likert_distribution",
]
