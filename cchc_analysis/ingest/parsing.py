"""Cell values as Vietnamese exports write them: numbers, dates, national codes and labels.

Every parser takes one raw cell (a string from a CSV, or whatever openpyxl returns: str, int,
float, datetime) and returns the canonical value, ``None`` for a blank cell, or raises
:class:`ParseError` whose ``code`` names the rejection reason. :func:`parse_column` applies a
parser to each distinct value of a column once, which keeps ingest fast on monthly exports
whose dates and labels repeat.

Conventions (DOMAIN.md): numbers use ``.`` for thousands and ``,`` for decimals (``33.653``,
``1.234,5``, ``99,46%``); dates are day first (``dd/mm/yyyy``), or ISO, or Excel serial
numbers; channel and status come as national codes (KenhThucHien 1/2/3, TrangThai 1–10) or as
Vietnamese labels; the online level as mức độ 2/3/4 or "Toàn trình"/"Một phần".
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
import unicodedata
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Final, cast

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from babel.numbers import NumberFormatError, parse_decimal

from cchc_analysis.core.errors import ParseError, PeriodError
from cchc_analysis.core.periods import Period, parse_period
from cchc_analysis.core.text import fold
from cchc_analysis.ingest.headers import header_key

# --- blanks and text ---------------------------------------------------------------------------


def is_blank(value: Any) -> bool:
    """None, NaN, NaT and whitespace-only strings are blank cells."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def clean_text(value: Any) -> str | None:
    """A cell as trimmed NFC text; integral floats lose their ".0" (Excel stores codes as
    numbers: 314.0 -> "314"); blank -> None."""
    if is_blank(value):
        return None
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    text = unicodedata.normalize("NFC", str(value)).replace("\u00a0", " ").strip()
    return " ".join(text.split()) or None


def show(value: Any) -> str:
    """A raw value for a message: quoted text, at most 60 characters."""
    text = clean_text(value)
    if text is None:
        return "(blank)"
    return repr(text if len(text) <= 60 else text[:57] + "...")


# --- numbers -----------------------------------------------------------------------------------

_INT = re.compile(r"^[+-]?\d+$")
_VI_NUMBER = re.compile(r"^[+-]?(?:\d{1,3}(?:\.\d{3})+(?:,\d+)?|\d+,\d+)$")
_EN_GROUPED = re.compile(r"^[+-]?\d{1,3}(?:,\d{3})+$")
_EN_DECIMAL = re.compile(r"^[+-]?\d*\.\d+$")
_DIGIT_SPACE = re.compile(r"(?<=\d)[\s\u00a0\u202f](?=\d{3}\b)")
# Forms often show a dash for zero.
_ZERO_DASHES: Final = frozenset({"-", "–", "—", "−"})


def parse_number(value: Any) -> int | float | None:
    """A number from a cell: Python numbers as they are, text in Vietnamese format.

    ``33.653`` -> 33653, ``1.234,5`` -> 1234.5, ``1,234`` -> 1.234 (Babel, locale vi);
    ``12.5`` (English decimal, not a thousands group) -> 12.5; a lone dash -> 0 (forms show
    zeros as dashes). Blank -> None. See :func:`parse_count` for English thousands.
    """
    if is_blank(value):
        return None
    if isinstance(value, bool):
        raise ParseError("non_numeric", f"{show(value)} is not a number")
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating | Decimal):
        return float(value)
    text = clean_text(value)
    assert text is not None
    text = _DIGIT_SPACE.sub("", text)
    if text in _ZERO_DASHES:
        return 0
    if _INT.match(text):
        return int(text)
    if _VI_NUMBER.match(text):
        try:
            number = parse_decimal(text, locale="vi", strict=True)
        except NumberFormatError:
            raise ParseError("non_numeric", f"{show(value)} is not a number") from None
        return int(number) if number == number.to_integral_value() else float(number)
    if _EN_DECIMAL.match(text):
        return float(text)
    raise ParseError("non_numeric", f"{show(value)} is not a number")


def parse_count(value: Any) -> int | None:
    """A whole, non-negative count; blank -> None.

    ``1,234`` is 1234 here: a count cannot be 1.234 dossiers, so the comma can only be an
    English thousands separator (a sheet saved under an English locale).
    """
    text = clean_text(value) if isinstance(value, str) else None
    if text is not None and _EN_GROUPED.match(text):
        grouped = int(text.replace(",", ""))
        if grouped < 0:
            raise ParseError("negative_count", f"count {show(value)} is negative")
        return grouped
    try:
        number = parse_number(value)
    except ParseError:
        raise ParseError("non_numeric_count", f"count {show(value)} is not a number") from None
    if number is None:
        return None
    if isinstance(number, float) and not number.is_integer():
        raise ParseError("non_numeric_count", f"count {show(value)} is not a whole number")
    if number < 0:
        raise ParseError("negative_count", f"count {show(value)} is negative")
    return int(number)


def parse_rate(value: Any) -> float | None:
    """A rate as a 0–1 fraction: ``99,46%`` -> 0.9946, ``0,9946`` -> 0.9946."""
    if is_blank(value):
        return None
    text = clean_text(value) or ""
    percent = text.endswith("%")
    number = parse_number(text.rstrip("%").strip() if percent else value)
    if number is None:
        return None
    return float(number) / 100 if percent else float(number)


# --- dates -------------------------------------------------------------------------------------

_TIME = r"(?:[ T,]+(\d{1,2})[:hH](\d{2})(?::(\d{2})(?:[.,]\d+)?)?\s*(am|pm|sa|ch)?)?"
_DMY = re.compile(r"^(\d{1,2})[/\-.](\d{1,2})[/\-.](\d{4})" + _TIME + r"$", re.IGNORECASE)
_YMD = re.compile(
    r"^(\d{4})[/\-.](\d{1,2})[/\-.](\d{1,2})" + _TIME + r"\s*(?:z|[+-]\d{2}:?\d{2})?$",
    re.IGNORECASE,
)
_TIME_FIRST = re.compile(
    r"^(\d{1,2})[:hH](\d{2})(?::(\d{2}))?\s*[-,]?\s*(\d{1,2})[/\-.](\d{1,2})[/\-.](\d{4})$"
)
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_SERIAL = re.compile(r"^\d{1,7}(?:[.,]\d+)?$")
EXCEL_EPOCH: Final = dt.datetime(1899, 12, 30)
EARLIEST_YEAR: Final = 1990  # earlier dates in these exports are typos or Excel zero dates


def _build(y: int, m: int, d: int, hh: int, mm: int, ss: int, raw: Any) -> pd.Timestamp:
    try:
        stamp = dt.datetime(y, m, d, hh, mm, ss)
    except ValueError:
        raise ParseError("impossible_date", f"impossible date {show(raw)}") from None
    if y < EARLIEST_YEAR:
        raise ParseError("impossible_date", f"date {show(raw)} is before {EARLIEST_YEAR}")
    return pd.Timestamp(stamp)


def _clock(groups: tuple[str | None, ...], raw: Any) -> tuple[int, int, int]:
    hh, mm, ss, ampm = groups
    hour, minute, second = int(hh or 0), int(mm or 0), int(ss or 0)
    if ampm:
        if hour > 12:
            raise ParseError("bad_date", f"cannot read date {show(raw)}")
        if ampm.lower() in ("pm", "ch") and hour < 12:
            hour += 12
        elif ampm.lower() in ("am", "sa") and hour == 12:
            hour = 0
    if hour > 23 or minute > 59 or second > 59:
        raise ParseError("impossible_date", f"impossible time in {show(raw)}")
    return hour, minute, second


def _from_serial(serial: float, raw: Any) -> pd.Timestamp:
    if not 1 <= serial < 2_958_466:
        raise ParseError("bad_date", f"cannot read date {show(raw)}")
    stamp = EXCEL_EPOCH + dt.timedelta(days=float(serial))
    stamp = stamp.replace(microsecond=0) if stamp.microsecond < 500_000 else stamp
    return _build(stamp.year, stamp.month, stamp.day, stamp.hour, stamp.minute, stamp.second, raw)


def parse_datetime(value: Any) -> pd.Timestamp | None:
    """A date (and time) from a cell: dd/mm/yyyy, dd-mm-yyyy, yyyy-mm-dd, with or without a
    time, an Excel serial number, or a date object. Day first, always."""
    if is_blank(value):
        return None
    if isinstance(value, pd.Timestamp | dt.datetime):
        stamp = pd.Timestamp(value)
        stamp = stamp.tz_localize(None) if stamp.tzinfo else stamp
        if stamp.year < EARLIEST_YEAR:
            raise ParseError("impossible_date", f"date {show(value)} is before {EARLIEST_YEAR}")
        return stamp
    if isinstance(value, dt.date):
        return _build(value.year, value.month, value.day, 0, 0, 0, value)
    if isinstance(value, np.datetime64):
        return parse_datetime(pd.Timestamp(value))
    if isinstance(value, bool):
        raise ParseError("bad_date", f"cannot read date {show(value)}")
    if isinstance(value, int | float | np.integer | np.floating):
        return _from_serial(float(value), value)
    text = clean_text(value) or ""
    if match := _DMY.match(text):
        d, m, y = (int(g) for g in match.groups()[:3])
        return _build(y, m, d, *_clock(match.groups()[3:], value), value)
    if match := _YMD.match(text):
        y, m, d = (int(g) for g in match.groups()[:3])
        return _build(y, m, d, *_clock(match.groups()[3:], value), value)
    if match := _TIME_FIRST.match(text):
        hh, mm, ss, day, month, year = match.groups()
        clock = _clock((hh, mm, ss, None), value)
        return _build(int(year), int(month), int(day), *clock, value)
    if match := _COMPACT.match(text):
        y, m, d = (int(g) for g in match.groups())
        return _build(y, m, d, 0, 0, 0, value)
    if _SERIAL.match(text):
        return _from_serial(float(text.replace(",", ".")), value)
    raise ParseError("bad_date", f"cannot read date {show(value)}")


_DATE_LIST_SEPARATORS = re.compile(r"\s*[;|\n]\s*|\s*,\s+")


def _date_list(value: Any) -> list[pd.Timestamp]:
    """Every date of a cell that may list several ("01/07/2024; 15/07/2024"), as some
    backends export the supplement requests of a dossier."""
    if is_blank(value):
        return []
    if not isinstance(value, str):
        stamp = parse_datetime(value)
        return [] if stamp is None else [stamp]
    stamps = [parse_datetime(part) for part in _DATE_LIST_SEPARATORS.split(value.strip())]
    return [stamp for stamp in stamps if stamp is not None]


def parse_first_datetime(value: Any) -> pd.Timestamp | None:
    """The earliest date of a cell listing one or several (the first supplement request)."""
    stamps = _date_list(value)
    return min(stamps) if stamps else None


def count_dates(value: Any) -> int:
    """How many dates a cell lists (0 when blank): supplement requests when no count is given."""
    return len(_date_list(value))


# --- codes and labels --------------------------------------------------------------------------


def _label_map(labels: dict[str, tuple[str, ...]], codes: dict[str, str]) -> dict[str, str]:
    table = {header_key(code): value for code, value in codes.items()}
    for value, names in labels.items():
        for name in (value, *names):
            table.setdefault(header_key(name), value)
    return table


STATUS_CODES: Final = {  # TrangThai of the national one-stop data standard (DOMAIN.md)
    "1": "awaiting_intake",  # mới đăng ký: registered online, not yet received
    "2": "received",  # được tiếp nhận
    "3": "refused",  # không được tiếp nhận
    "4": "processing",
    "5": "supplement_requested",
    "6": "processing",  # thực hiện nghĩa vụ tài chính
    "7": "withdrawn",
    "8": "stopped",  # dừng xử lý
    "9": "resolved",
    "10": "returned",
}
STATUS_LABELS: Final = {
    "received": (
        "Đã tiếp nhận",
        "Được tiếp nhận",
        "Tiếp nhận",
        "Mới tiếp nhận",
        "Mới",
        "Hồ sơ mới",
    ),
    "processing": (
        "Đang xử lý",
        "Đang giải quyết",
        "Đang thụ lý",
        "Chờ xử lý",
        "Thực hiện nghĩa vụ tài chính",
        "Chờ thực hiện nghĩa vụ tài chính",
        "Chờ nghĩa vụ tài chính",
        "Chờ phê duyệt",
        "Chờ ký duyệt",
    ),
    "supplement_requested": (
        "Yêu cầu bổ sung",
        "Yêu cầu bổ sung hồ sơ",
        "Chờ bổ sung",
        "Bổ sung hồ sơ",
        "Đang bổ sung",
    ),
    "resolved": (
        "Đã xử lý xong",
        "Đã giải quyết",
        "Đã có kết quả",
        "Có kết quả",
        "Hoàn thành",
        "Đã hoàn thành",
        "Xử lý xong",
        "Chờ trả kết quả",
    ),
    "returned": ("Đã trả kết quả", "Đã trả", "Trả kết quả"),
    "rejected": ("Từ chối", "Từ chối giải quyết", "Không giải quyết"),
    "withdrawn": ("Rút hồ sơ", "Đã rút", "Công dân rút hồ sơ", "Rút", "Đã hủy", "Hủy"),
    "awaiting_intake": ("Mới đăng ký", "Đăng ký mới", "Chờ tiếp nhận", "Chưa tiếp nhận"),
    "refused": ("Không được tiếp nhận", "Không tiếp nhận", "Từ chối tiếp nhận"),
    "stopped": ("Dừng xử lý", "Dừng giải quyết"),
}
CHANNEL_CODES: Final = {"1": "in_person", "2": "online", "3": "postal"}  # KenhThucHien
CHANNEL_LABELS: Final = {
    "in_person": (
        "Trực tiếp",
        "Nộp trực tiếp",
        "Tại quầy",
        "Tại bộ phận một cửa",
        "Trực tiếp tại bộ phận một cửa",
    ),
    "online": (
        "Trực tuyến",
        "Nộp trực tuyến",
        "Qua mạng",
        "Dịch vụ công trực tuyến",
        "DVC trực tuyến",
        "DVCTT",
        "Cổng dịch vụ công",
    ),
    "postal": (
        "Dịch vụ bưu chính công ích",
        "Bưu chính công ích",
        "Bưu chính",
        "Qua bưu điện",
        "Bưu điện",
        "BCCI",
        "DV BCCI",
    ),
}
ONLINE_LEVEL_CODES: Final = {"1": "none", "2": "none", "3": "partial", "4": "full"}
ONLINE_LEVEL_LABELS: Final = {
    "full": ("Mức độ 4", "Mức 4", "MĐ4", "Toàn trình", "Trực tuyến toàn trình", "DVC toàn trình"),
    "partial": ("Mức độ 3", "Mức 3", "MĐ3", "Một phần", "Trực tuyến một phần", "DVC một phần"),
    "none": (
        "Mức độ 2",
        "Mức độ 1",
        "Mức 2",
        "Mức 1",
        "MĐ2",
        "MĐ1",
        "Không",
        "Cung cấp thông tin",
        "DVC cung cấp thông tin",
        "Không trực tuyến",
    ),
}
RATING_LABELS: Final = {
    "very_satisfied": ("Rất hài lòng",),
    "satisfied": ("Hài lòng",),
    "dissatisfied": ("Không hài lòng", "Chưa hài lòng", "Rất không hài lòng"),
}
_NO_RATING: Final = frozenset(header_key(t) for t in ("Chưa đánh giá", "Không đánh giá"))
_TRUE: Final = frozenset(
    header_key(t) for t in ("Có", "x", "1", "true", "yes", "y", "Đúng", "Rồi", "v", "Đạt")
)
_FALSE: Final = frozenset(
    header_key(t) for t in ("Không", "0", "false", "no", "n", "Sai", "Chưa", "Không có")
)
_CHECKMARKS: Final = frozenset("✓✔☑✅")

_STATUS_MAP: Final = _label_map(STATUS_LABELS, STATUS_CODES)
_CHANNEL_MAP: Final = _label_map(CHANNEL_LABELS, CHANNEL_CODES)
_ONLINE_LEVEL_MAP: Final = _label_map(ONLINE_LEVEL_LABELS, ONLINE_LEVEL_CODES)
_RATING_MAP: Final = _label_map(RATING_LABELS, {})


def _lookup(value: Any, table: dict[str, str], what: str) -> str | None:
    text = clean_text(value)
    if text is None:
        return None
    found = table.get(header_key(text))
    if found is None and _WHOLE_NUMBER.fullmatch(text):
        # A code column a spreadsheet or pandas wrote as numbers: "10.0" is code 10.
        found = table.get(text.split(".", 1)[0])
    if found is None:
        raise ParseError(f"unknown_{what}", f"unknown {what} {show(value)}")
    return found


_WHOLE_NUMBER = re.compile(r"\d+\.0+")


def parse_status(value: Any) -> str | None:
    """TrangThai 1–10 or a Vietnamese label -> one of schema.STATUSES."""
    return _lookup(value, _STATUS_MAP, "status")


def parse_channel(value: Any) -> str | None:
    """KenhThucHien 1/2/3 or "Trực tiếp"/"Trực tuyến"/"Dịch vụ bưu chính công ích"."""
    return _lookup(value, _CHANNEL_MAP, "channel")


def parse_online_level(value: Any) -> str | None:
    """Mức độ 4 -> full, 3 -> partial, 1–2 -> none; "Toàn trình"/"Một phần" likewise."""
    return _lookup(value, _ONLINE_LEVEL_MAP, "online_level")


def parse_rating(value: Any) -> str | None:
    """ "Rất hài lòng"/"Hài lòng"/"Không hài lòng"; "Chưa đánh giá" is no rating."""
    text = clean_text(value)
    if text is None or header_key(text) in _NO_RATING:
        return None
    return _lookup(text, _RATING_MAP, "rating")


def parse_bool(value: Any) -> bool | None:
    """Có/Không, x, 1/0, True/False, and "Đã …"/"Chưa …" phrases ("Đã số hóa")."""
    if isinstance(value, bool | np.bool_):
        return bool(value)
    text = clean_text(value)
    if text is None:
        return None
    if text in _CHECKMARKS:
        return True
    key = header_key(text)
    if key in _TRUE:
        return True
    if key in _FALSE or key.startswith(("chua", "khong")):
        return False
    if key.startswith("co") or (key.startswith("da") and not key.startswith("dang")):
        return True
    raise ParseError("unknown_flag", f"cannot read yes/no value {show(value)}")


# --- periods -----------------------------------------------------------------------------------

_ROMAN: Final = {"i": 1, "ii": 2, "iii": 3, "iv": 4}
_FROM_TO = re.compile(
    r"(?:tu\s*(?:ngay)?\s*)?(\d{1,2}[/\-.]\d{1,2}[/\-.]\d{4}|\d{4}-\d{2}-\d{2})"
    r"\s*(?:den\s*(?:ngay)?|-|–|:)\s*(\d{1,2}[/\-.]\d{1,2}[/\-.]\d{4}|\d{4}-\d{2}-\d{2})"
)
_QUARTER = re.compile(r"quy\s*(iv|iii|ii|i|[1-4])\b\s*(?:/|-|nam)?\s*(\d{4})")
_MONTH = re.compile(r"thang\s*(\d{1,2})\s*(?:/|-|nam)\s*(\d{4})")
_HALF = re.compile(r"6\s*thang\s*(dau|cuoi)\s*nam\s*(\d{4})")
_YEAR = re.compile(r"nam\s*(\d{4})")


def find_period(text: Any) -> Period | None:
    """A reporting period written in a cell or a title, or None.

    Understands the CLI forms (``2023-Q3``, ``2023-07-01:2023-09-30``), "từ ngày 01/7/2023 đến
    ngày 30/9/2023", "Quý III năm 2023", "Quý 3/2023", "Tháng 9/2023", "6 tháng đầu năm 2023",
    "Năm 2023".
    """
    raw = clean_text(text)
    if raw is None:
        return None
    try:
        return parse_period(raw)
    except PeriodError:
        pass
    folded = fold(raw)
    if match := _FROM_TO.search(folded):
        try:
            start, end = parse_datetime(match[1]), parse_datetime(match[2])
        except ParseError:
            return None
        if start is None or end is None:
            return None
        try:
            return parse_period(f"{start.date().isoformat()}:{end.date().isoformat()}")
        except PeriodError:
            return None
    if match := _QUARTER.search(folded):
        quarter = _ROMAN.get(match[1], None) or int(match[1])
        return parse_period(f"{match[2]}-Q{quarter}")
    if match := _HALF.search(folded):
        return parse_period(f"{match[2]}-H{1 if match[1] == 'dau' else 2}")
    if (match := _MONTH.search(folded)) and 1 <= int(match[1]) <= 12:
        return parse_period(f"{match[2]}-{int(match[1]):02d}")
    if match := _YEAR.search(folded):
        return parse_period(match[1])
    return None


# --- whole columns -----------------------------------------------------------------------------


# Date cells as exports write them most often, read column-wise (the same values as
# :func:`parse_datetime`: day first): dd/mm/yyyy and yyyy-mm-dd, each alone or with hh:mm:ss,
# every digit and separator in place. A cell of another form, or a date or clock that does not
# exist (31/04, 29/02 of a common year, 24:00:00, a leap second), or a year before
# :data:`EARLIEST_YEAR`, is left to the parser, cell by cell, which reads or refuses it.
_PLAIN_FORMS: Final = ("%d/%m/%Y %H:%M:%S", "%d/%m/%Y", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d")
# False: every cell through its parser (the row path), to check the column-wise reading
# against (tests/test_ingest_fast.py), or to rule it out: CCHC_INGEST_ROW_PATH=1.
COLUMN_WISE = os.environ.get("CCHC_INGEST_ROW_PATH", "") != "1"
_DATE_PARSERS: Final = (parse_datetime, parse_first_datetime)


def _form_layout(form: str) -> tuple[bytes, dict[str, int]]:
    """A strftime form as a byte pattern (``0`` where a digit goes) and where each field
    starts: ``"%d/%m/%Y"`` -> ``(b"00/00/0000", {"d": 0, "m": 3, "Y": 6})``."""
    pattern, starts = b"", {}
    widths = {"d": 2, "m": 2, "Y": 4, "H": 2, "M": 2, "S": 2}
    parts = iter(form.split("%"))
    pattern += next(parts).encode()
    for part in parts:
        starts[part[0]] = len(pattern)
        pattern += b"0" * widths[part[0]] + part[1:].encode()
    return pattern, starts


_LAYOUTS: Final = tuple(_form_layout(form) for form in _PLAIN_FORMS)


def arrow_text(values: pd.Series) -> pa.Array | None:
    """The Arrow string array behind a column of Arrow text (the CSV reader's cells, or a
    ``string`` column), else None (a column of Python objects)."""
    if not isinstance(values.array, pd.arrays.ArrowStringArray):
        return None
    text = pa.array(values.array)
    if isinstance(text, pa.ChunkedArray):
        text = text.combine_chunks()
    return text.cast(pa.string()) if text.type != pa.string() else text


def factorize_cells(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(codes, distinct cells) as ``pd.factorize(values.astype(object))`` gives them: each
    distinct cell once, in order of first appearance; code -1 for a missing cell. Arrow text is
    dictionary-encoded by Arrow, without a Python object per row (only per distinct cell)."""
    text = arrow_text(values)
    if text is None:
        codes, uniques = pd.factorize(values.astype(object), use_na_sentinel=True)
        return np.asarray(codes, dtype=np.intp), np.asarray(uniques, dtype=object)
    return _encoded_cells(pc.dictionary_encode(text))


def _encoded_cells(encoded: pa.DictionaryArray) -> tuple[np.ndarray, np.ndarray]:
    """(codes, distinct cells) of dictionary-encoded Arrow text (see :func:`factorize_cells`)."""
    indices = pc.fill_null(encoded.indices.cast(pa.int64()), -1)
    codes = np.asarray(indices.to_numpy(zero_copy_only=False), dtype=np.intp)
    return codes, np.asarray(encoded.dictionary.to_numpy(zero_copy_only=False), dtype=object)


_MONTH_DAYS: Final = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)
_DAY_MS: Final = 86_400_000


def _days_in_month(year: np.ndarray, month: np.ndarray) -> np.ndarray:
    """Days of each (year, month), month in 1..12: February has 29 in a Gregorian leap year."""
    is_leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    return np.asarray(_MONTH_DAYS[month] + (is_leap & (month == 2)))


def _epoch_days(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of each date (proleptic Gregorian, years >= 0), in integer
    arithmetic (H. Hinnant's days_from_civil): numpy's calendar casts cost far more."""
    year = year - (month <= 2)
    era = year // 400
    year_of_era = year - era * 400
    day_of_year = (153 * np.where(month > 2, month - 3, month + 9) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    return np.asarray(era * 146_097 + day_of_era - 719_468)


def _day_first_stamps(text: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(read, stamps) of each cell of an Arrow string array: True and the ``datetime64[ms]``
    :func:`parse_datetime` gives where the cell is a date of a plain form (:data:`_PLAIN_FORMS`)
    that exists, from 1990 on; False and NaT elsewhere (the parser's to read or refuse).

    Read from the cells' bytes with numpy: the cells of one length as a matrix of bytes, each
    digit and separator checked in place, the fields as numbers."""
    count = len(text)
    read = np.zeros(count, dtype=bool)
    stamps = np.full(count, np.datetime64("NaT"), dtype="datetime64[ms]")
    if not count:
        return read, stamps
    if text.type != pa.string():  # 32-bit offsets below
        text = text.cast(pa.string())
    offsets = np.frombuffer(text.buffers()[1], dtype=np.int32)[
        text.offset : text.offset + count + 1
    ].astype(np.int64)
    data_buffer = text.buffers()[2]
    if data_buffer is None:
        return read, stamps
    data = np.frombuffer(data_buffer, dtype=np.uint8)
    lengths = np.diff(offsets)
    valid = np.ones(count, dtype=bool)
    if text.null_count:
        valid = np.asarray(text.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    for pattern, starts in _LAYOUTS:
        width = len(pattern)
        rows = np.flatnonzero(valid & (lengths == width) & ~read)
        if not len(rows):
            continue
        if offsets[-1] - offsets[0] == width * len(rows):
            # One form, the other cells empty (a blank date is ""): the cells' bytes follow
            # one another, a matrix as they lie.
            grid = data[offsets[0] : offsets[-1]].reshape(len(rows), width)
        else:
            grid = data[offsets[rows][:, None] + np.arange(width)]
        good, found = _form_stamps(grid, pattern, starts)
        read[rows[good]] = True
        stamps[rows[good]] = found[good]
    return read, stamps


def _form_stamps(
    grid: np.ndarray, pattern: bytes, starts: dict[str, int]
) -> tuple[np.ndarray, np.ndarray]:
    """(is a date of the form that exists from 1990 on, its datetime64[ms]) for each row of
    a matrix of cell bytes as long as ``pattern`` (see :func:`_form_layout`)."""
    expected = np.frombuffer(pattern, dtype=np.uint8)
    is_digit_place = expected == ord("0")
    digits = grid[:, is_digit_place] - np.uint8(ord("0"))  # a byte below "0" wraps past 9
    good = np.all(digits <= 9, axis=1)
    good &= np.all(grid[:, ~is_digit_place] == expected[~is_digit_place], axis=1)
    column_of = np.cumsum(is_digit_place) - 1  # a digit's column in ``digits``

    def field(name: str, width: int = 2) -> np.ndarray:
        value = np.zeros(len(grid), dtype=np.int64)
        at = starts.get(name)
        for place in [] if at is None else range(at, at + width):
            value = value * 10 + digits[:, column_of[place]]
        return value

    year, month, day = field("Y", 4), field("m"), field("d")
    hour, minute, second = field("H"), field("M"), field("S")
    good &= (year >= EARLIEST_YEAR) & (month >= 1) & (month <= 12) & (day >= 1)
    good &= (hour <= 23) & (minute <= 59) & (second <= 59)
    month = np.where(good, month, 1)  # a month out of range has no length
    good &= day <= _days_in_month(year, month)
    clock = ((hour * 60 + minute) * 60 + second) * 1000
    millis = np.where(good, _epoch_days(year, month, day) * _DAY_MS + clock, 0)
    return good, millis.astype("datetime64[ms]")


def _plain_dates(uniques: Any) -> tuple[np.ndarray, np.ndarray]:
    """Distinct cells that are dates in a plain form, read column-wise: (read, stamps)."""
    read = np.zeros(len(uniques), dtype=bool)
    stamps = np.full(len(uniques), np.datetime64("NaT"), dtype="datetime64[ms]")
    if pd.api.types.infer_dtype(uniques, skipna=False) == "string":  # a CSV: text throughout
        is_text = np.ones(len(uniques), dtype=bool)
    else:
        is_text = np.fromiter((isinstance(v, str) for v in uniques), bool, len(uniques))
    if not is_text.any():
        return read, stamps
    where = np.flatnonzero(is_text)
    text = pa.array(np.asarray(uniques, dtype=object)[where], type=pa.string())
    read[where], stamps[where] = _day_first_stamps(text)
    return read, stamps


def parse_column(
    values: pd.Series,
    parser: Callable[[Any], Any],
    as_datetime: bool = False,
    *,
    dtype: str | pd.CategoricalDtype | None = None,
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Apply ``parser`` to each distinct value once (:func:`factorize_cells`), blanks once.

    Returns (parsed values, error code or None, error message or None), aligned with
    ``values``. Parsed values are objects, or ``datetime64[ms]`` with ``as_datetime``, or of
    ``dtype`` (an extension dtype: "boolean", a categorical) when given: the values
    ``pd.array(objects, dtype=dtype)`` gives, cast once per distinct value, not per row.
    Dates in a plain form (:data:`_PLAIN_FORMS`) are read column-wise first: every cell of
    Arrow text (most are distinct: a clock to the second), else each distinct cell.
    """
    index = values.index
    is_dates = COLUMN_WISE and as_datetime and parser in _DATE_PARSERS
    text = arrow_text(values) if is_dates else None
    if text is not None:
        done, row_stamps = _day_first_stamps(text)
        if done.all():
            nothing = pd.Series(np.full(len(values), None, dtype=object), index=index)
            return pd.Series(row_stamps, index=index), nothing, nothing.copy()
        rest = np.flatnonzero(~done)
        codes, uniques = factorize_cells(values.iloc[rest])
    else:
        codes, uniques = factorize_cells(values)
    count = len(uniques) + 1  # the last entry serves the blanks (code -1)
    read = np.zeros(count, dtype=bool)
    stamps = np.full(count, np.datetime64("NaT"), dtype="datetime64[ms]")
    if is_dates and text is None:
        read[:-1], stamps[:-1] = _plain_dates(uniques)
    table = np.full(count, None, dtype=object)
    error_table = np.full(count, None, dtype=object)
    message_table = np.full(count, None, dtype=object)
    values_list = [*uniques.tolist(), None]
    for number in np.flatnonzero(~read).tolist():
        try:
            value = parser(values_list[number])
        except ParseError as exc:
            error_table[number] = exc.code
            message_table[number] = str(exc)
            continue
        if as_datetime:
            if value is not None:
                stamps[number] = pd.Timestamp(value).to_datetime64()
        else:
            table[number] = value
    errors, messages = error_table[codes], message_table[codes]
    if text is not None:  # the rest's values into the rows read column-wise
        errors = np.full(len(values), None, dtype=object)
        messages = np.full(len(values), None, dtype=object)
        errors[rest], messages[rest] = error_table[codes], message_table[codes]
        row_stamps[rest] = stamps[codes]
        result = pd.Series(row_stamps, index=index)
    elif as_datetime:
        result = pd.Series(stamps[codes], index=index)
    elif dtype is not None:
        result = pd.Series(_typed_take(table, codes, dtype), index=index)
    else:
        result = pd.Series(table[codes], index=index, dtype=object)
    return (
        result,
        pd.Series(errors, index=index, dtype=object),
        pd.Series(messages, index=index, dtype=object),
    )


def _typed_take(
    table: np.ndarray, codes: np.ndarray, dtype: str | pd.CategoricalDtype
) -> pd.api.extensions.ExtensionArray:
    """``pd.array(table[codes], dtype=dtype)``, cast per entry of ``table`` (the distinct
    values, the blank last, where code -1 points) rather than per row."""
    # pandas-stubs type pd.array's dtype by the kind of data; any extension dtype is valid here.
    typed: pd.api.extensions.ExtensionArray = pd.array(table, dtype=cast(Any, dtype))
    return typed.take(np.where(codes < 0, len(table) - 1, codes))


def text_column(values: pd.Series, *, as_string: bool = False) -> pd.Series:
    """:func:`clean_text` over a column: per distinct value when values repeat, vectorised
    (Arrow string kernels) for columns of distinct strings such as dossier ids.

    Python objects (None for a blank), or with ``as_string`` the same values as the canonical
    ``string`` dtype (what ``.astype("string")`` gives), without a Python object per row."""
    text = arrow_text(values)
    encoded = None if text is None else pc.dictionary_encode(text)
    # Arrow text whose cells are mostly distinct (ids) goes to the vectorised branch at once:
    # its distinct cells are all text, so they need not become Python objects to be told so.
    if encoded is None or len(encoded.dictionary) < 0.2 * len(values):
        codes, uniques = factorize_cells(values) if encoded is None else _encoded_cells(encoded)
        all_text = pd.api.types.infer_dtype(uniques, skipna=True) in ("string", "empty")
        if len(uniques) < 0.2 * len(values) or not all_text:
            table = np.empty(len(uniques) + 1, dtype=object)
            table[:] = [*(clean_text(v) for v in uniques), None]
            if as_string:
                return pd.Series(_typed_take(table, codes, "string"), index=values.index)
            return pd.Series(table[codes], index=values.index, dtype=object)
    ascii_text = _ascii_text_column(values, as_string=as_string)
    if ascii_text is not None:
        return ascii_text
    text = values.astype(pd.StringDtype("pyarrow")).str.normalize("NFC")
    text = text.str.replace("\u00a0", " ", regex=False).str.strip()
    spaced = text.str.contains(r"\s\s", regex=True).fillna(False)
    if spaced.any():
        text = text.where(~spaced, text.str.replace(r"\s+", " ", regex=True))
    text = text.mask(text.eq(""))
    out = text.astype(object).where(text.notna(), None)
    return out.astype("string") if as_string else out


# Python's ``\s`` on ASCII text (str.isspace): RE2's ``\s`` leaves out \x0b and \x1c-\x1f.
_ASCII_SPACE_RUN: Final = r"[\t\n\x0b\x0c\r\x1c-\x1f ]{2}"


def _ascii_text_column(values: pd.Series, *, as_string: bool = False) -> pd.Series | None:
    """:func:`text_column`'s distinct-strings branch in Arrow kernels alone, for a column of
    ASCII text with no run of spaces inside a cell (dossier ids): NFC and the no-break space
    have nothing to change there. None for any other column (the general branch reads it)."""
    text = arrow_text(values)
    if text is None:
        text = pa.array(values.to_numpy(dtype=object), type=pa.string(), from_pandas=True)
    if not pc.all(pc.string_is_ascii(text)).as_py():
        return None
    text = pc.utf8_trim_whitespace(text)
    if pc.any(pc.match_substring_regex(text, _ASCII_SPACE_RUN)).as_py():
        return None
    text = pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)
    if as_string:
        return pd.Series(pd.array(text, dtype="string"), index=values.index)
    return pd.Series(text.to_numpy(zero_copy_only=False), index=values.index, dtype=object)
