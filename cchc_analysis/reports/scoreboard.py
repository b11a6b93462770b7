"""The scorecard columns of the index and the overview: per unit, its standing against the
target in words and symbol, its change on the previous period and on the same period a year
earlier, and its rank.

One place for these words, so the index and the overview say them the same way.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from cchc_analysis.core import targets as target_rules
from cchc_analysis.core.errors import CchcError
from cchc_analysis.core.periods import Period
from cchc_analysis.reports.formatting import fmt_change, is_missing
from cchc_analysis.reports.wording import phrase

# The symbol beside each status word (never colour alone).
STATUS_SYMBOLS = {"met": "✓", "near": "≈", "missed": "✗", "none": ""}
SCORED = "within_deadline_rate"  # the indicator the scorecards rank and judge units on


def status_label(name: str, value: object, lang: str) -> str:
    """'✓ Đạt mục tiêu' / '✗ Chưa đạt' for ``value`` of indicator ``name``; '—' without one."""
    if is_missing(value) or value is pd.NA:
        return "—"
    check = target_rules.check(name, float(value))  # type: ignore[arg-type]
    if check.status == "none":
        return "—"
    return f"{STATUS_SYMBOLS[check.status]} {check.text(lang)}"


def ranks(table: pd.DataFrame, name: str = SCORED) -> list[str]:
    """Each row's rank on ``name``, highest first (ties share a rank; '—' when missing)."""
    ranked = table[name].rank(ascending=False, method="min")
    return ["—" if is_missing(r) else str(int(r)) for r in ranked]


def changes(table: pd.DataFrame, other: pd.DataFrame | None, name: str, lang: str) -> list[str]:
    """Each row's change on ``name`` against the same unit's row of ``other`` (another period)."""
    by_code = (
        {}
        if other is None or other.empty
        else {str(code): row for code, row in other.set_index("unit_code").iterrows()}
    )
    return [
        fmt_change(name, value, by_code.get(str(code)), lang)
        for code, value in zip(table["unit_code"], table[name], strict=True)
    ]


def comparison_tables(
    read: Callable[[Period], pd.DataFrame], period: Period
) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """``read`` (a period's KPI table) for the previous period and the same period a year
    earlier; None for a period the data do not cover."""
    out: list[pd.DataFrame | None] = []
    for other in (period.previous(), period.year_before()):
        try:
            out.append(read(other))
        except (CchcError, LookupError, ValueError, OSError):  # outside the data: not compared
            out.append(None)
    return out[0], out[1]


def scorecard_headers(lang: str) -> tuple[str, str, str, str]:
    """The headings of the rank, status and two change columns."""
    return (
        phrase("rank", lang),
        phrase("scoreboard.status", lang),
        phrase("previous_period", lang),
        phrase("year_before", lang),
    )
