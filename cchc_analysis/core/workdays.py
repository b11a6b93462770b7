"""Vietnamese working days: statutory deadlines and processing times are counted in them.

Public holidays (Tết and their observed/substituted days) come from the maintained ``holidays``
package; Saturdays and Sundays are days off for the civil service. A Saturday declared a
working day in exchange for a bridge holiday is not modelled (numpy's business-day calendar
has no such exception), which can shift a deadline by one day in those weeks.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from functools import cache

import holidays
import numpy as np
import pandas as pd

# Dates as callers hold them: a Series or array of dates/timestamps, or any iterable of them.
DateLike = pd.Series | np.ndarray | Iterable[date | pd.Timestamp | str]

FIRST_YEAR = 2015
LAST_YEAR = 2035


@cache
def holiday_dates(first_year: int = FIRST_YEAR, last_year: int = LAST_YEAR) -> tuple[date, ...]:
    """Every Vietnamese public holiday (including Tết and observed days) in the years given."""
    calendar = holidays.country_holidays("VN", years=range(first_year, last_year + 1))
    return tuple(sorted(calendar))


@cache
def business_calendar() -> np.busdaycalendar:
    """numpy calendar of Vietnamese working days, built once."""
    return np.busdaycalendar(weekmask="1111100", holidays=list(holiday_dates()))


def _as_days(values: DateLike) -> np.ndarray:
    return np.asarray(pd.to_datetime(pd.Series(values)).to_numpy(), dtype="datetime64[D]")


def add_working_days(start: DateLike, days: Iterable[int] | int) -> np.ndarray:
    """Date that is ``days`` working days after ``start`` (a deadline counted in working days).

    A dossier received on a day off starts counting on the next working day.
    """
    start_days = _as_days(start)
    offsets = np.broadcast_to(np.asarray(days, dtype=np.int64), start_days.shape)
    return np.busday_offset(start_days, offsets, roll="forward", busdaycal=business_calendar())


def working_days_between(start: DateLike, end: DateLike) -> np.ndarray:
    """Working days from ``start`` (exclusive) to ``end`` (inclusive); NaT in gives NaN out.

    A dossier received on Monday and resolved on Tuesday took one working day; resolved the
    same day, zero.
    """
    start_series = pd.to_datetime(pd.Series(start)).reset_index(drop=True)
    end_series = pd.to_datetime(pd.Series(end)).reset_index(drop=True)
    valid = start_series.notna() & end_series.notna()
    out = np.full(len(start_series), np.nan)
    if valid.any():
        s = np.asarray(start_series[valid].to_numpy(), dtype="datetime64[D]") + 1
        e = np.asarray(end_series[valid].to_numpy(), dtype="datetime64[D]") + 1
        counts = np.busday_count(s, e, busdaycal=business_calendar())
        out[valid.to_numpy()] = counts
    return out


def is_working_day(days: DateLike) -> np.ndarray:
    """True for each date that is a Vietnamese working day."""
    return np.is_busday(_as_days(days), busdaycal=business_calendar())
