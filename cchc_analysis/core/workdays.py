"""Vietnamese working days: statutory deadlines and processing times are counted in them.

Public holidays (Tết and their observed/substituted days) come from the maintained ``holidays``
package; Saturdays and Sundays are days off for the civil service, except the make-up working
Saturdays declared in exchange for a bridge holiday (04/05/2024 for 29/04/2024, 26/04/2025 for
02/05/2025), which the package lists as ``weekend_workdays``.

numpy's business-day calendar has no working-weekend exception, so the functions below count on
the weekday calendar and correct the few spans that contain a make-up Saturday.
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
def weekend_workdays(first_year: int = FIRST_YEAR, last_year: int = LAST_YEAR) -> np.ndarray:
    """Make-up working Saturdays (and Sundays) in the years given, sorted, as datetime64[D]."""
    calendar = holidays.country_holidays("VN", years=range(first_year, last_year + 1))
    return np.array(sorted(calendar.weekend_workdays), dtype="datetime64[D]")


@cache
def business_calendar() -> np.busdaycalendar:
    """numpy calendar of Vietnamese weekdays that are not public holidays, built once.

    It does not know make-up working Saturdays (:func:`weekend_workdays`): count with
    :func:`add_working_days`, :func:`working_days_between` and :func:`is_working_day`.
    """
    return np.busdaycalendar(weekmask="1111100", holidays=list(holiday_dates()))


@cache
def _exact_calendar() -> np.busdaycalendar:
    """Every day a working day unless a weekend (outside the make-up days) or a holiday:
    exact, but slower than :func:`business_calendar`; used only for spans with a make-up day."""
    first = np.datetime64(f"{FIRST_YEAR - 1}-01-01")
    days = np.arange(first, np.datetime64(f"{LAST_YEAR + 2}-01-01"))
    is_weekend = (days.astype(np.int64) + 3) % 7 >= 5  # 1970-01-01 was a Thursday
    off = set(days[is_weekend].tolist()) - set(weekend_workdays().tolist())
    off |= set(holiday_dates())
    return np.busdaycalendar(weekmask="1111111", holidays=sorted(off))


def _as_days(values: DateLike) -> np.ndarray:
    return np.asarray(pd.to_datetime(pd.Series(values)).to_numpy(), dtype="datetime64[D]")


def add_working_days(start: DateLike, days: Iterable[int] | int) -> np.ndarray:
    """Date that is ``days`` working days after ``start`` (a deadline counted in working days).

    A dossier received on a day off starts counting on the next working day.
    """
    start_days = _as_days(start)
    offsets = np.broadcast_to(np.asarray(days, dtype=np.int64), start_days.shape)
    out = np.busday_offset(start_days, offsets, roll="forward", busdaycal=business_calendar())
    # A span holding a make-up Saturday ends earlier: count those few again, exactly.
    extra = weekend_workdays()
    valid = ~np.isnat(start_days) & ~np.isnat(out)
    low = np.where(valid, np.minimum(start_days, out), np.datetime64(0, "D"))
    high = np.where(valid, np.maximum(start_days, out), np.datetime64(0, "D"))
    touched = valid & (
        np.searchsorted(extra, high, side="right") > np.searchsorted(extra, low, side="left")
    )
    if touched.any():
        out[touched] = np.busday_offset(
            start_days[touched], offsets[touched], roll="forward", busdaycal=_exact_calendar()
        )
    return out


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
        extra = weekend_workdays()  # make-up days in (start, end]
        counts += np.searchsorted(extra, e - 1, side="right") - np.searchsorted(
            extra, s - 1, side="right"
        )
        out[valid.to_numpy()] = counts
    return out


def is_working_day(days: DateLike) -> np.ndarray:
    """True for each date that is a Vietnamese working day."""
    values = _as_days(days)
    working: np.ndarray = np.is_busday(values, busdaycal=business_calendar()) | np.isin(
        values, weekend_workdays()
    )
    return working
