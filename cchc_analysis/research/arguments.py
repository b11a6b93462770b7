"""What a researcher types, read once: periods, frequencies, units and groupings.

Every method of the front door accepts the same forms, so that ``"2023-Q3"``,
``Period(...)``, ``pd.Period("2023Q3")`` and ``(date(2023, 7, 1), date(2023, 9, 30))`` all
mean the same quarter, and ``"Kiến Thụy"``, ``"314"`` and ``314`` the same district.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any, Literal

import pandas as pd

from cchc_analysis import units
from cchc_analysis.core.errors import AmbiguousUnitError, PeriodError, UnknownUnitError, UsageError
from cchc_analysis.core.periods import Period, month_periods, parse_period
from cchc_analysis.units.registry import code_text

Freq = Literal["month", "quarter", "half", "year"]
FREQS: tuple[str, ...] = ("month", "quarter", "half", "year")
_FREQ_MONTHS = {"month": 1, "quarter": 3, "half": 6, "year": 12}

# ``by=`` names and the dossier columns they group on (procedure: its code; names are added).
BY_COLUMNS: dict[str, str] = {
    "field": "field",
    "procedure": "procedure_code",
    "channel": "channel",
    "online_level": "online_level",
    "unit_level": "unit_level",
}

PeriodLike = str | Period | date | datetime | pd.Timestamp | pd.Period | tuple[Any, Any]
UnitsLike = str | int | Iterable[str | int] | None


def _day(value: Any) -> date:
    if isinstance(value, datetime | pd.Timestamp):
        return value.date() if isinstance(value, datetime) else value.to_pydatetime().date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise PeriodError(f"cannot read {value!r} as a day (YYYY-MM-DD)") from None


def as_period(value: PeriodLike) -> Period:
    """A :class:`Period` from any accepted form.

    * ``Period``: as is;
    * text: ``"2023-Q3"``, ``"2023-09"``, ``"2023-H1"``, ``"2023"``, ``"2023-07-01:2023-09-30"``;
    * ``pd.Period``: its calendar month, quarter or year;
    * a date (or datetime, Timestamp): that one day;
    * a pair (first day, last day).
    """
    if isinstance(value, Period):
        return value
    if isinstance(value, pd.Period):
        name = value.freqstr.upper()
        if name.startswith("Q"):
            return parse_period(f"{value.year}-Q{value.quarter}")
        if name.startswith("M"):
            return parse_period(f"{value.year}-{value.month:02d}")
        if name.startswith(("Y", "A")):
            return parse_period(f"{value.year}")
        return as_period((value.start_time, value.end_time))
    if isinstance(value, tuple):
        if len(value) != 2:
            raise PeriodError(f"a period pair is (first day, last day), not {value!r}")
        first, last = _day(value[0]), _day(value[1])
        return Period(first, last, f"{first.isoformat()}:{last.isoformat()}", "range")
    if isinstance(value, date | datetime | pd.Timestamp):
        day = _day(value)
        return Period(day, day, f"{day.isoformat()}:{day.isoformat()}", "range")
    return parse_period(str(value))


def split_period(period: Period, freq: str) -> list[Period]:
    """The calendar months, quarters, halves or years that make up ``period``, in order; a
    partial one at either end is cut to the period (and labelled as a day range)."""
    if freq not in FREQS:
        raise UsageError(f"freq must be one of {', '.join(FREQS)}, not {freq!r}")
    step = _FREQ_MONTHS[freq]
    pieces: list[Period] = []
    for month in month_periods(period.start, period.end):
        if (month.start.month - 1) % step == 0 or not pieces:
            pieces.append(_calendar(month.start, freq))
    out = []
    for piece in pieces:
        start, end = max(piece.start, period.start), min(piece.end, period.end)
        if (start, end) == (piece.start, piece.end):
            out.append(piece)
        else:
            out.append(Period(start, end, f"{start.isoformat()}:{end.isoformat()}", "range"))
    return out


def _calendar(day: date, freq: str) -> Period:
    """The calendar month, quarter, half or year containing ``day``."""
    if freq == "month":
        return parse_period(f"{day.year}-{day.month:02d}")
    if freq == "quarter":
        return parse_period(f"{day.year}-Q{(day.month - 1) // 3 + 1}")
    if freq == "half":
        return parse_period(f"{day.year}-H{1 if day.month <= 6 else 2}")
    return parse_period(f"{day.year}")


def as_by(by: str | Sequence[str] | None) -> tuple[str, ...]:
    """The ``by=`` names, checked (a single name may be given as text)."""
    if by is None:
        return ()
    names = (by,) if isinstance(by, str) else tuple(by)
    unknown = [name for name in names if name not in BY_COLUMNS]
    if unknown:
        raise UsageError(
            f"cannot group by {', '.join(map(repr, unknown))}; use {', '.join(BY_COLUMNS)}"
        )
    if len(set(names)) != len(names):
        raise UsageError(f"by= names a grouping twice: {names}")
    return names


def registry_level(level: str, era: str) -> tuple[str, str]:
    """(level, era) in which a unit of a query's level is looked up: a former district's area
    (era 2025, level district) is named after its pre-2025 district."""
    if era == units.ERA_2025 and level == "district":
        return "district", units.ERA_PRE_2025
    return level, era


def as_unit_codes(
    value: UnitsLike,
    *,
    level: str,
    era: str,
    provinces: Sequence[str] = (),
) -> list[str] | None:
    """Unit codes, in the order given, from codes or names (None: every unit with data).

    A name is read as :func:`cchc_analysis.units.resolve_unit` reads it, at the query's level
    and era; a name that several units share is looked up again within the data's provinces
    (``provinces``), and is an error only if it is still shared there.
    """
    if value is None:
        return None
    items = [value] if isinstance(value, str | int) else list(value)
    if not items:
        return None
    look_level, look_era = registry_level(level, era)
    codes = []
    for item in items:
        text = code_text(item)
        try:
            unit = units.resolve_unit(text, level=look_level, era=look_era)
        except AmbiguousUnitError:
            unit = _in_provinces(text, look_level, look_era, provinces)
        except UnknownUnitError as exc:
            raise UnknownUnitError(f"{exc} (units are read at level {level}, era {era})") from None
        codes.append(unit.code)
    if len(set(codes)) != len(codes):
        raise UsageError(f"the same unit is asked for twice: {items}")
    return codes


def _in_provinces(text: str, level: str, era: str, provinces: Sequence[str]) -> units.Unit:
    found = []
    for province in provinces:
        try:
            found.append(units.resolve_unit(text, province_code=province, level=level, era=era))
        except (UnknownUnitError, AmbiguousUnitError):
            continue
    if len(found) == 1:
        return found[0]
    # Not resolved within the data's provinces: the registry's own message lists the choices.
    return units.resolve_unit(text, level=level, era=era)
