"""Numbers, dates, periods and labels as leaders read them: Vietnamese by default, English too.

Number formats come from Babel's CLDR data (1.473; 99,46% in Vietnamese; 1,473; 99.46% in
English), so the reports never hand-roll separators.
"""

from __future__ import annotations

import math
from datetime import date

import pandas as pd
from babel.dates import format_date
from babel.numbers import format_decimal, format_percent

from cchc_analysis.core.metrics import RATES
from cchc_analysis.core.periods import Period

LANGS = ("vi", "en")
ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}


def _is_missing(value: object) -> bool:
    """None, NaN or pandas' NA (which refuses to be compared or converted)."""
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def _locale(lang: str) -> str:
    if lang not in LANGS:
        raise ValueError(f"language must be one of {LANGS}, not {lang!r}")
    return lang


def fmt_count(value: float | int | None, lang: str = "vi") -> str:
    """Whole number with the language's grouping: 1.473 (vi), 1,473 (en); '–' when missing."""
    if _is_missing(value):
        return "–"
    return format_decimal(int(round(value)), locale=_locale(lang))


def fmt_number(value: float | None, lang: str = "vi", digits: int = 1) -> str:
    if _is_missing(value):
        return "–"
    pattern = "#,##0." + "0" * digits if digits else "#,##0"
    return format_decimal(value, format=pattern, locale=_locale(lang))


def fmt_p(p: float | None, lang: str = "vi") -> str:
    """A p-value as written in reports: 'p = 0,044', or 'p < 0,001' when tiny."""
    if _is_missing(p):
        return "p = –"
    if p < 0.001:
        return f"p < {fmt_number(0.001, lang, 3)}"
    return f"p = {fmt_number(p, lang, 3)}"


def fmt_rate(value: float | None, lang: str = "vi", digits: int = 2) -> str:
    """A 0–1 rate as a percentage: 99,46% (vi), 99.46% (en); '–' when undefined."""
    if _is_missing(value):
        return "–"
    pattern = "#,##0." + "0" * digits + "%" if digits else "#,##0%"
    return format_percent(value, format=pattern, locale=_locale(lang))


def fmt_points(value: float | None, lang: str = "vi", digits: int = 1) -> str:
    """A change in percentage points with its sign: +0,4 điểm % / +0.4 pp."""
    if _is_missing(value):
        return "–"
    points = round(value * 100, digits)  # a change that rounds to zero shows as ±0,0
    sign = "+" if points > 0 else ("−" if points < 0 else "±")
    body = fmt_number(abs(points), lang, digits)
    return f"{sign}{body} {'điểm %' if lang == 'vi' else 'pp'}"


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
        return f"Quý {ROMAN[q]}/{year}" if lang == "vi" else f"Q{q} {year}"
    if period.kind == "half":
        first = period.end.month <= 6
        if lang == "vi":
            return f"6 tháng {'đầu' if first else 'cuối'} năm {year}"
        return f"{'First' if first else 'Second'} half of {year}"
    if period.kind == "month":
        month = period.end.month
        return f"Tháng {month}/{year}" if lang == "vi" else format_date(period.end, "MMMM yyyy")
    if period.kind == "year":
        return f"Năm {year}" if lang == "vi" else f"Year {year}"
    return f"{fmt_date(period.start, lang)} – {fmt_date(period.end, lang)}"


COUNT_LABELS = {
    "received_total_count": ("Tổng số hồ sơ tiếp nhận", "Dossiers received (total)"),
    "received_new_count": ("Tiếp nhận trong kỳ", "Received in period"),
    "carried_over_count": ("Từ kỳ trước chuyển sang", "Carried over"),
    "received_online_count": ("Trực tuyến", "Online"),
    "received_offline_count": ("Trực tiếp, bưu chính", "In person or by post"),
    "online_full_count": ("Trực tuyến toàn trình", "Fully online"),
    "online_partial_count": ("Trực tuyến một phần", "Partly online"),
    "resolved_total_count": ("Đã giải quyết", "Resolved"),
    "resolved_early_count": ("Trước hạn", "Early"),
    "resolved_on_time_count": ("Đúng hạn", "On the due date"),
    "resolved_late_count": ("Quá hạn", "Late"),
    "resolved_within_deadline_count": ("Trước hạn và đúng hạn", "Within deadline"),
    "pending_total_count": ("Đang giải quyết", "Pending"),
    "pending_in_time_count": ("Đang giải quyết trong hạn", "Pending, in time"),
    "pending_late_count": ("Đang giải quyết quá hạn", "Pending, overdue"),
    "withdrawn_count": ("Rút, từ chối", "Withdrawn or rejected"),
    "digitized_count": ("Hồ sơ được số hóa", "Digitised"),
    "fee_bearing_count": ("Có phí, lệ phí", "Fee-bearing"),
    "paid_online_count": ("Thanh toán trực tuyến", "Paid online"),
    "rated_count": ("Lượt đánh giá", "Ratings"),
    "satisfied_count": ("Hài lòng trở lên", "Satisfied or better"),
}

TEXT = {
    "unit": ("Đơn vị", "Unit"),
    "unit_code": ("Mã", "Code"),
    "district": ("Huyện/quận", "District"),
    "commune": ("Xã/phường", "Commune"),
    "month": ("Tháng", "Month"),
    "period": ("Kỳ báo cáo", "Period"),
    "value": ("Giá trị", "Value"),
    "previous_period": ("So với kỳ trước", "vs previous period"),
    "year_before": ("So với cùng kỳ năm trước", "vs same period last year"),
    "indicator": ("Chỉ tiêu", "Indicator"),
    "rank": ("Thứ hạng", "Rank"),
    "province": ("Toàn tỉnh", "Province"),
    "field": ("Lĩnh vực", "Field"),
    "channel_in_person": ("Trực tiếp", "In person"),
    "channel_online": ("Trực tuyến", "Online"),
    "channel_postal": ("Bưu chính công ích", "Public post"),
    "dossiers": ("Số hồ sơ", "Dossiers"),
    "share": ("Tỷ lệ", "Share"),
    "no_data": ("Không có dữ liệu", "No data"),
    "report_title": (
        "Báo cáo kết quả giải quyết thủ tục hành chính",
        "Administrative procedures report",
    ),
    "overview_title": ("Tổng quan toàn tỉnh", "Province overview"),
    "index_title": ("Báo cáo cải cách hành chính", "Administrative reform reports"),
    "generated": ("Tạo lúc", "Generated"),
    "source": ("Nguồn dữ liệu", "Data source"),
}


def text(key: str, lang: str = "vi") -> str:
    """A fixed phrase of the reports in the chosen language."""
    vi, en = TEXT[key]
    return vi if _locale(lang) == "vi" else en


def label(name: str, lang: str = "vi") -> str:
    """Human label of a catalogue count or rate."""
    if name in RATES:
        rate = RATES[name]
        return rate.label_vi if _locale(lang) == "vi" else rate.label_en
    if name in COUNT_LABELS:
        vi, en = COUNT_LABELS[name]
        return vi if _locale(lang) == "vi" else en
    return name


def format_value(name: str, value: float | int | None, lang: str = "vi") -> str:
    """Format a catalogue value by its unit suffix (_rate/_share as %, _count as integer)."""
    if name.endswith(("_rate", "_share")):
        return fmt_rate(value, lang)
    if name.endswith("_count"):
        return fmt_count(value, lang)
    if name.endswith("_days"):
        return fmt_number(value, lang)
    return "–" if value is None else str(value)


CONSOLE_COLUMNS = (
    "received_total_count",
    "carried_over_count",
    "resolved_late_count",
    "pending_total_count",
    "within_deadline_rate",
    "within_deadline_of_received_rate",
    "online_rate",
)


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
                if col in table
            },
        }
    )
    return shown.to_string(index=False)
