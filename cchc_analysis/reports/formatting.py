"""Numbers, dates, periods and labels as leaders read them: Vietnamese by default, English too.

Number formats come from Babel's CLDR data (1.473; 99,46% in Vietnamese; 1,473; 99.46% in
English), so the reports never hand-roll separators. This is the one place that turns numbers
(rates, counts, p-values, intervals, changes) into text; the words around them come from
:mod:`cchc_analysis.reports.wording`.

A missing number is "—" (:data:`MISSING_MARK`) in a table cell or chart label; an indicator a
section names on its own is "không có dữ liệu" with the reason (:func:`no_data_text`: the export
lacked its column, nobody rated, …), and where only part of its rows had the data, a coverage
note says over how many it was taken.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from datetime import date
from typing import Any

import pandas as pd
from babel import Locale
from babel.dates import format_date
from babel.numbers import NumberPattern, format_decimal, format_percent, parse_pattern

from cchc_analysis.core.metrics import RATES, missing_columns, rate_coverage
from cchc_analysis.core.periods import Period
from cchc_analysis.reports.wording import check_lang, has_phrase, phrase

ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}

MISSING_MARK = "—"  # one mark for "no data" in every table, card, chart label and download


def _is_missing(value: object) -> bool:
    """None, NaN or pandas' NA (which refuses to be compared or converted)."""
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def _locale(lang: str) -> str:
    return check_lang(lang)


@functools.cache
def _babel_locale(lang: str) -> Locale:
    """The language's CLDR locale, parsed once (Babel parses a locale name on every call: most
    of a chart tick's cost)."""
    return Locale.parse(_locale(lang))


@functools.cache
def _number_pattern(pattern: str) -> NumberPattern:
    """A CLDR number pattern, parsed once (the same few patterns format every number)."""
    return parse_pattern(pattern)


def is_missing(value: object) -> bool:
    """None, a float NaN or pandas' NA (a count a KPI table left without data): a number the
    report sections leave out, show as '—' or say has no data."""
    return _is_missing(value)


def fmt_count(value: float | int | None, lang: str = "vi") -> str:
    """Whole number with the language's grouping: 1.473 (vi), 1,473 (en); '—' when missing."""
    if value is None or _is_missing(value):
        return MISSING_MARK
    return format_decimal(int(round(value)), locale=_babel_locale(lang))


def fmt_number(value: float | None, lang: str = "vi", digits: int = 1) -> str:
    if value is None or _is_missing(value):
        return MISSING_MARK
    pattern = "#,##0." + "0" * digits if digits else "#,##0"
    return format_decimal(value, format=_number_pattern(pattern), locale=_babel_locale(lang))


def fmt_pattern(value: float, lang: str, pattern: str = "#,##0.0") -> str:
    """A number in a CLDR ``pattern`` with the language's decimal mark and a true minus sign
    (−0,05): the trend sentences' numbers (Kendall's tau, slopes, the significance level)."""
    body = format_decimal(abs(value), format=pattern, locale=lang)
    negative = value < 0 and body.strip("0.,") != ""
    return ("−" if negative else "") + body


def fmt_p(p: float | None, lang: str = "vi", *, is_two_decimals_from_001: bool = False) -> str:
    """A p-value as written in reports: 'p = 0,044', or 'p < 0,001' when tiny.

    Three decimals by default (funnel and survey sections). The trend sentences write p with
    two decimals from 0.01 up ('p = 0,71') and three below: ``is_two_decimals_from_001=True``.
    The two styles are kept apart so the reports stay byte-identical; a later issue may pick one.
    """
    if p is None or _is_missing(p):
        return f"p = {MISSING_MARK}"
    if p < 0.001:
        return f"p < {fmt_number(0.001, lang, 3)}"
    digits = 2 if is_two_decimals_from_001 and p >= 0.01 else 3
    return f"p = {fmt_number(p, lang, digits)}"


def fmt_interval(low: float, high: float, lang: str) -> str:
    """A rate interval '97,1%–99,2%' (one decimal), '—' when a bound is missing."""
    if is_missing(low) or is_missing(high):
        return MISSING_MARK
    return f"{fmt_rate(low, lang, 1)}–{fmt_rate(high, lang, 1)}"


def fmt_rate(value: float | None, lang: str = "vi", digits: int = 2) -> str:
    """A 0–1 rate as a percentage: 99,46% (vi), 99.46% (en); '—' when undefined."""
    if value is None or _is_missing(value):
        return MISSING_MARK
    pattern = "#,##0." + "0" * digits + "%" if digits else "#,##0%"
    return format_percent(value, format=_number_pattern(pattern), locale=_babel_locale(lang))


def fmt_points(value: float | None, lang: str = "vi", digits: int = 1) -> str:
    """A change in percentage points with its sign: +0,4 điểm % / +0.4 pp."""
    if value is None or _is_missing(value):
        return MISSING_MARK
    points = round(value * 100, digits)  # a change that rounds to zero shows as ±0,0
    sign = "+" if points > 0 else ("−" if points < 0 else "±")
    body = fmt_number(abs(points), lang, digits)
    return f"{sign}{body} {phrase('points_suffix', lang)}"


def fmt_date(value: date | pd.Timestamp, lang: str = "vi") -> str:
    """dd/mm/yyyy in Vietnamese, ISO-like long form in English."""
    day = value.date() if isinstance(value, pd.Timestamp) else value
    if lang == "vi":
        return day.strftime("%d/%m/%Y")
    return format_date(day, format="d MMM yyyy", locale="en")


def fmt_month(value: date | pd.Timestamp, lang: str = "vi") -> str:
    day = value.date() if isinstance(value, pd.Timestamp) else value
    return day.strftime("%m/%Y") if lang == "vi" else format_date(day, "MMM yyyy", locale="en")


def period_label(period: Period, lang: str = "vi") -> str:
    """'Quý III/2023' / 'Q3 2023' — the way the period is named in reports."""
    year = period.start.year if period.convention == "calendar" else period.end.year
    if period.kind == "quarter":
        q = (period.end.month - 1) // 3 + 1
        return phrase("period.quarter", lang, roman=ROMAN[q], quarter=q, year=year)
    if period.kind == "half":
        key = "period.first_half" if period.end.month <= 6 else "period.second_half"
        return phrase(key, lang, year=year)
    if period.kind == "month":
        month_name = format_date(period.end, "MMMM yyyy") if lang == "en" else ""
        return phrase(
            "period.month", lang, month=period.end.month, year=year, month_name=month_name
        )
    if period.kind == "year":
        return phrase("period.year", lang, year=year)
    return fmt_date_range(period, lang)


def fmt_date_range(period: Period, lang: str = "vi") -> str:
    """The period's first and last day: '01/04/2025 – 30/06/2025'."""
    return f"{fmt_date(period.start, lang)} – {fmt_date(period.end, lang)}"


def period_dates(period: Period, lang: str = "vi") -> str:
    """The period's exact days, and its convention when it is not the calendar's:
    '15/06/2025 – 14/09/2025, quy ước chốt số liệu ngày 14'."""
    dates = fmt_date_range(period, lang)
    if period.convention == "calendar":
        return dates
    return f"{dates}, {phrase(f'period.convention.{period.convention}', lang)}"


def text(key: str, lang: str = "vi") -> str:
    """A fixed phrase of the reports (a key of the wording catalogue) in the chosen language."""
    return phrase(key, lang)


def label(name: str, lang: str = "vi") -> str:
    """Human label of a catalogue count or rate."""
    if name in RATES:
        rate = RATES[name]
        return rate.label_vi if _locale(lang) == "vi" else rate.label_en
    if has_phrase(f"count.{name}"):
        return phrase(f"count.{name}", lang)
    return name


def format_value(name: str, value: float | int | None, lang: str = "vi") -> str:
    """Format a catalogue value by its unit suffix (_rate/_share as %, _count as integer)."""
    if name.endswith(("_rate", "_share")):
        return fmt_rate(value, lang)
    if name.endswith("_count"):
        return fmt_count(value, lang)
    if name.endswith("_days"):
        return fmt_number(value, lang)
    return MISSING_MARK if value is None else str(value)


CONSOLE_COLUMNS = (
    "received_total_count",
    "carried_over_count",
    "resolved_late_count",
    "pending_total_count",
    "within_deadline_rate",
    "within_deadline_of_received_rate",
    "online_rate",
    # Dossiers filed regardless of administrative boundaries: shown when the data names homes.
    "out_of_area_count",
    "out_of_area_share",
)
# Shown only when some row has data: most exports name no applicant's home unit.
CONSOLE_IF_ANY = ("out_of_area_count", "out_of_area_share")


def kpi_console_table(table: pd.DataFrame, lang: str = "vi") -> str:
    """A compact fixed-width table for the terminal."""
    if table.empty:
        return text("no_data", lang)
    shown = pd.DataFrame(
        {
            text("unit_code", lang): table["unit_code"],
            text("unit", lang): table["unit_name"],
            **{
                label(col, lang): [format_value(col, v, lang) for v in table[col]]
                for col in CONSOLE_COLUMNS
                if col in table and (col not in CONSOLE_IF_ANY or table[col].notna().any())
            },
        }
    )
    return shown.to_string(index=False)


def fmt_change(name: str, value: float, other: pd.Series | None, lang: str) -> str:
    """Change against a comparison period, worded by the metric's unit: points for rates and
    shares, a relative change for counts; '—' when there is nothing to compare with."""
    if other is None or name not in other:
        return MISSING_MARK
    before = other[name]
    if is_missing(before):
        return MISSING_MARK
    if name.endswith(("_rate", "_share")):
        return fmt_points(float(value) - float(before), lang)
    if before == 0:
        return MISSING_MARK
    change = float(value) / float(before) - 1
    sign = "+" if change > 0 else ("−" if change < 0 else "±")
    return f"{sign}{fmt_rate(abs(change), lang, 1)}"


def fmt_days_interval(row: pd.Series, lang: str) -> str:
    """Days with their interval from a quantile row (time, low, high): '5 (4–6)'; the days
    alone when a bound is unknown (never '5 (4–—)'), '—' when the days are."""
    if is_missing(row["time"]):
        return MISSING_MARK
    days = fmt_number(row["time"], lang, 0)
    if is_missing(row["low"]) or is_missing(row["high"]):
        return days
    return f"{days} ({fmt_number(row['low'], lang, 0)}–{fmt_number(row['high'], lang, 0)})"


def _column_names(columns: tuple[str, ...], lang: str) -> str:
    names = [
        phrase(
            "no_data.column_name",
            lang,
            name=phrase(f"export_column.{c}", lang) if has_phrase(f"export_column.{c}") else c,
        )
        for c in columns
    ]
    return phrase("no_data.and", lang).join(names)


def no_data_reason(row: Mapping[str, Any] | pd.Series, name: str, lang: str = "vi") -> str:
    """Why the indicator ``name`` has no value in ``row``: the export columns it lacked, no
    ratings, no fee-bearing dossiers, or nothing to count."""
    columns = missing_columns(row, name)
    if columns:
        key = "no_data.reason.column" if len(columns) == 1 else "no_data.reason.columns"
        return phrase(key, lang, columns=_column_names(columns, lang))
    if name == "satisfaction_rate":
        return phrase("no_data.reason.no_ratings", lang)
    fee_bearing = row.get("fee_bearing_count")
    if name == "online_payment_rate" and not is_missing(fee_bearing) and fee_bearing == 0:
        return phrase("no_data.reason.no_fee_bearing", lang)
    return phrase("no_data.reason.empty", lang)


def no_data_text(row: Mapping[str, Any] | pd.Series, name: str, lang: str = "vi") -> str:
    """'không có dữ liệu (tệp xuất không có cột “Số hóa”)': a missing indicator in a sentence."""
    return phrase("no_data.with_reason", lang, reason=no_data_reason(row, name, lang))


def fmt_indicator(row: Mapping[str, Any] | pd.Series, name: str, lang: str = "vi") -> str:
    """The indicator ``name`` of ``row`` as a sentence shows it: its value, or 'không có dữ
    liệu' with the reason."""
    value = row.get(name)
    if is_missing(value):
        return no_data_text(row, name, lang)
    return format_value(name, value, lang)


def coverage_note(row: Mapping[str, Any] | pd.Series, name: str, lang: str = "vi") -> str | None:
    """'tính trên 1.234/5.678 hồ sơ có thông tin (21,7%)' when the rate ``name`` was taken over
    only part of its rows (some exports lacked its column); None otherwise."""
    if name not in RATES or is_missing(row.get(name)):
        return None
    parts = rate_coverage(row, name)
    if parts is None:
        return None
    known, total = parts
    return phrase(
        "no_data.coverage",
        lang,
        known=fmt_count(known, lang),
        total=fmt_count(total, lang),
        share=fmt_rate(known / total if total else math.nan, lang, 1),
    )
