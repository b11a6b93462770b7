"""Reporting periods: parse the strings users type and derive comparison periods.

Accepted forms: ``2023-Q3``, ``2023-09``, ``2023-H1``, ``2023`` and an explicit day range
``2023-07-01:2023-09-30``. Periods are closed day ranges [start, end]. Calendar periods are the
default; the cut-off convention some provinces use (from the 15th of the month before the
period to the 14th of its last month) is an option, not the rule (DOMAIN.md: unconfirmed).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from cchc_analysis.core.errors import PeriodError

Convention = Literal["calendar", "cutoff15"]
CONVENTIONS: tuple[Convention, ...] = ("calendar", "cutoff15")


def check_convention(text: str) -> Convention:
    """A convention name as typed (CLI, config, notebook parameter); PeriodError otherwise."""
    value = str(text).strip().lower()
    if value == "calendar":
        return "calendar"
    if value == "cutoff15":
        return "cutoff15"
    raise PeriodError(f"unknown convention {text!r}; use calendar or cutoff15")


@dataclass(frozen=True, order=True)
class Period:
    """A closed range of days with the label users typed (or a derived one)."""

    start: date
    end: date
    label: str
    kind: str = "range"  # year | half | quarter | month | range
    convention: Convention = "calendar"

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise PeriodError(f"period {self.label!r} ends before it starts")

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        """The period of the same kind just before this one (for change-on-previous)."""
        if self.kind == "range":
            length = timedelta(days=self.days)
            return Period(self.start - length, self.start - timedelta(days=1), "", "range")
        months = _KIND_MONTHS[self.kind]
        year, month = self._anchor()
        month -= months
        while month < 1:
            month += 12
            year -= 1
        return _make_period(year, month, self.kind, self.convention)

    def year_before(self) -> Period:
        """The same period one year earlier (for change-on-last-year)."""
        if self.kind == "range":
            return Period(
                _shift_year(self.start, -1), _shift_year(self.end, -1), "", "range", self.convention
            )
        year, month = self._anchor()
        return _make_period(year - 1, month, self.kind, self.convention)

    def months(self) -> list[tuple[int, int]]:
        """(year, month) of every calendar month the period touches."""
        out = []
        y, m = self.start.year, self.start.month
        while (y, m) <= (self.end.year, self.end.month):
            out.append((y, m))
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        return out

    @property
    def is_month_aligned(self) -> bool:
        """True when the period starts on a 1st and ends on a month's last day."""
        return self.start.day == 1 and (self.end + timedelta(days=1)).day == 1

    def _anchor(self) -> tuple[int, int]:
        """Year and first month of the calendar period this one stands for."""
        match = _LABEL.match(self.label)
        if not match:
            raise PeriodError(f"period {self.label!r} has no calendar anchor")
        year = int(match["year"])
        if self.kind == "year":
            return year, 1
        if self.kind == "half":
            return year, 1 if match["half"] == "1" else 7
        if self.kind == "quarter":
            return year, 3 * (int(match["quarter"]) - 1) + 1
        return year, int(match["month"])

    def __str__(self) -> str:
        return self.label or f"{self.start.isoformat()}:{self.end.isoformat()}"


_KIND_MONTHS = {"year": 12, "half": 6, "quarter": 3, "month": 1}
_LABEL = re.compile(
    r"^(?P<year>\d{4})(?:-(?:Q(?P<quarter>[1-4])|H(?P<half>[12])|(?P<month>0[1-9]|1[0-2])))?$",
    re.IGNORECASE,
)
_RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2})\s*(?::|\.\.|/)\s*(\d{4}-\d{2}-\d{2})$")


def _shift_year(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _month_end(year: int, month: int) -> date:
    nxt = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return nxt - timedelta(days=1)


def _make_period(year: int, month: int, kind: str, convention: Convention) -> Period:
    months = _KIND_MONTHS[kind]
    end_year, end_month = year, month + months - 1
    while end_month > 12:
        end_month -= 12
        end_year += 1
    if kind == "year":
        label = f"{year}"
    elif kind == "half":
        label = f"{year}-H{1 if month == 1 else 2}"
    elif kind == "quarter":
        label = f"{year}-Q{(month - 1) // 3 + 1}"
    else:
        label = f"{year}-{month:02d}"
    if convention == "cutoff15":
        prev_year, prev_month = (year - 1, 12) if month == 1 else (year, month - 1)
        start, end = date(prev_year, prev_month, 15), date(end_year, end_month, 14)
    else:
        start, end = date(year, month, 1), _month_end(end_year, end_month)
    return Period(start, end, label, kind, convention)


def parse_period(text: str, convention: Convention = "calendar") -> Period:
    """Parse a period string; raise PeriodError with the accepted forms when it fails."""
    raw = str(text).strip()
    match = _LABEL.match(raw)
    if match:
        year = int(match["year"])
        if match["quarter"]:
            return _make_period(year, 3 * (int(match["quarter"]) - 1) + 1, "quarter", convention)
        if match["half"]:
            return _make_period(year, 1 if match["half"] == "1" else 7, "half", convention)
        if match["month"]:
            return _make_period(year, int(match["month"]), "month", convention)
        return _make_period(year, 1, "year", convention)
    match = _RANGE.match(raw)
    if match:
        try:
            start, end = date.fromisoformat(match[1]), date.fromisoformat(match[2])
        except ValueError as exc:
            raise PeriodError(f"period {raw!r}: {exc}") from None
        return Period(start, end, f"{start.isoformat()}:{end.isoformat()}", "range")
    raise PeriodError(
        f"cannot read period {raw!r}; use 2023-Q3, 2023-09, 2023-H1, 2023 or 2023-07-01:2023-09-30"
    )


def month_periods(start: date, end: date) -> list[Period]:
    """Calendar months from the one containing ``start`` to the one containing ``end``."""
    span = Period(start, end, "", "range")
    return [_make_period(y, m, "month", "calendar") for y, m in span.months()]
