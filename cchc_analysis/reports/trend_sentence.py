"""The one sentence a leader reads about a trend, in Vietnamese or English.

The numbers come from :func:`cchc_analysis.stats.trend_test`; this module only words them
(phrases from :mod:`~cchc_analysis.reports.wording`, numbers from
:mod:`~cchc_analysis.reports.formatting`), so statistics never format for readers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from cchc_analysis.reports.formatting import fmt_p, fmt_pattern
from cchc_analysis.reports.wording import Lang, has_phrase, phrase

# How a slope is scaled before it is read in its unit: a 0–1 rate per month reads as points.
UNIT_SCALES = {"points": 100.0, "days": 1.0, "dossiers": 1.0}


def trend_note(result: Mapping[str, Any], lang: Lang = "vi") -> str:
    """The test behind :func:`describe_trend`'s sentence, for a footnote ('' when untested)."""
    p_value = result.get("p_value", math.nan)
    if int(result.get("n", 0)) < 4 or not np.isfinite(p_value):
        return ""
    return phrase(
        "trend.note",
        lang,
        tau=fmt_pattern(result["tau"], lang, "0.00"),
        p=fmt_p(p_value, lang, is_two_decimals_from_001=True),
        level=fmt_pattern(float(result.get("alpha", 0.05)) * 100, lang, "#,##0.#") + "%",
    )


def describe_trend(
    result: Mapping[str, Any],
    metric_label: str,
    *,
    lang: Lang = "vi",
    unit: str = "points",
    per: str = "month",
) -> str:
    """One sentence on a :func:`~cchc_analysis.stats.trend_test` result for leaders.

    ``metric_label`` is the subject as it should read ("Tỷ lệ giải quyết đúng hạn", "the
    within-deadline rate"); its first letter is capitalised. ``unit="points"`` reads the slope
    of a 0–1 rate as percentage points (×100: "điểm %" / "points"); "days" and "dossiers"
    are translated; any other unit is printed as given, unscaled. ``per`` names the time step
    ("month", "quarter", "year", "step"). The slope is only quoted when the trend is
    significant; otherwise the sentence says the series was stable, so nobody reads a direction
    into noise. The test itself (Kendall's tau, p) is :func:`trend_note`'s, for a footnote.
    Numbers use Babel's CLDR formats (0,4 in Vietnamese).
    """
    if lang not in ("vi", "en"):
        raise ValueError("lang must be 'vi' or 'en'")
    subject = metric_label[:1].upper() + metric_label[1:]
    n = int(result.get("n", 0))
    p_value = result.get("p_value", math.nan)
    if n < 4 or not np.isfinite(p_value):
        return phrase("trend.too_few", lang, subject=subject, n=n)
    if not result.get("is_significant", False):
        return phrase("trend.not_significant", lang, subject=subject)
    unit_words = phrase(f"trend_unit.{unit}", lang) if has_phrase(f"trend_unit.{unit}") else unit
    per_words = phrase(f"per.{per}", lang) if has_phrase(f"per.{per}") else per
    slope = abs(float(result["slope"])) * UNIT_SCALES.get(unit, 1.0)
    pattern = "#,##0.0" if round(slope, 1) > 0 else "#,##0.00"
    amount = fmt_pattern(slope, lang, pattern)
    if round(slope, 2) == 0:  # significant yet tiny: never print "0,00"
        amount = phrase("trend.less_than", lang, amount=fmt_pattern(0.01, lang, "#,##0.00"))
    key = "trend.up" if result["direction"] == "up" else "trend.down"
    return phrase(key, lang, subject=subject, amount=amount, unit=unit_words, per=per_words)
