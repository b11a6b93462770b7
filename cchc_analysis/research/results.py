"""Results as a reader sees them: labelled columns, rates as %, and the catalogue they use.

Every table of the front door is a plain pandas DataFrame, so pandas works on it as usual.
For a table to hand on, :func:`to_excel` and :func:`to_csv` write it with Vietnamese (or
English) column labels, counts as whole numbers and rates as percentages; the same functions
hang on every DataFrame as ``table.cchc.to_excel(path)`` once ``cchc_analysis.research`` is
imported (``import cchc_analysis as cchc; cchc.open(...)`` does).

Labels come from one place each: counts and rates from the reports' catalogue
(``reports.formatting.label``, ``core.metrics``), the other columns from :data:`LABELS`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl.utils import get_column_letter

from cchc_analysis.core.metrics import RATE_DEFINITIONS
from cchc_analysis.reports.formatting import fmt_rate, label
from cchc_analysis.reports.wording import check_lang
from cchc_analysis.research.compare import with_intervals

# Column labels of the research tables that are not counts or rates: (Vietnamese, English).
LABELS: dict[str, tuple[str, str]] = {
    "unit_code": ("Mã đơn vị", "Unit code"),
    "unit_name": ("Đơn vị", "Unit"),
    "period": ("Kỳ", "Period"),
    "period_start": ("Từ ngày", "From"),
    "period_end": ("Đến ngày", "To"),
    "field": ("Lĩnh vực", "Field"),
    "procedure_code": ("Mã TTHC", "Procedure code"),
    "procedure_name": ("Tên TTHC", "Procedure"),
    "channel": ("Kênh nộp", "Channel"),
    "online_level": ("Mức độ trực tuyến", "Online level"),
    "unit_level": ("Cấp tiếp nhận", "Receiving tier"),
    "approximate": ("Ước tính qua bảng chuyển đổi", "Approximate (crosswalk)"),
    "metric": ("Chỉ tiêu", "Metric"),
    "rate": ("Tỷ lệ", "Rate"),
    "numerator_count": ("Tử số", "Numerator"),
    "denominator_count": ("Mẫu số", "Denominator"),
    "difference_rate": ("Chênh lệch", "Difference"),
    "p_value": ("Giá trị p", "p-value"),
    "test": ("Kiểm định", "Test"),
    "statistic": ("Thống kê kiểm định", "Test statistic"),
    "confidence": ("Độ tin cậy", "Confidence"),
    "_low": ("cận dưới", "lower bound"),
    "_high": ("cận trên", "upper bound"),
    "_a": ("đơn vị 1", "unit 1"),
    "_b": ("đơn vị 2", "unit 2"),
    "sheet.data": ("Số liệu", "Data"),
    "sheet.definitions": ("Định nghĩa", "Definitions"),
    "definition.name": ("Chỉ tiêu", "Metric"),
    "definition.formula": ("Công thức", "Formula"),
    "definition.note": ("Ghi chú", "Note"),
}


def _word(key: str, lang: str) -> str:
    vi, en = LABELS[key]
    return vi if check_lang(lang) == "vi" else en


def is_rate(column: str) -> bool:
    """A fraction stored 0-1 (DESIGN.md §3: ``_rate``/``_share``), bounds included."""
    base = column.removesuffix("_low").removesuffix("_high")
    base = base.removesuffix("_a").removesuffix("_b")
    return base.endswith(("_rate", "_share")) or base == "rate"


def column_label(column: str, lang: str = "vi") -> str:
    """The reader's label of a column: ``online_rate`` -> "Tỷ lệ hồ sơ trực tuyến"."""
    if column in LABELS:
        return _word(column, lang)
    for suffix in ("_low", "_high", "_a", "_b"):
        if column.endswith(suffix) and len(column) > len(suffix):
            return f"{column_label(column[: -len(suffix)], lang)} ({_word(suffix, lang)})"
    shown = label(column, lang)
    return shown


def definitions(lang: str | None = None) -> pd.DataFrame:
    """The metric catalogue, one row per rate (index: its name): numerator, denominator, the
    Vietnamese and English labels and a note. With ``lang``, one label column in that
    language."""
    frame = pd.DataFrame(
        [
            {
                "name": rate.name,
                "numerator": " + ".join(rate.numerator),
                "denominator": rate.denominator,
                "label_vi": rate.label_vi,
                "label_en": rate.label_en,
                "note": rate.note,
            }
            for rate in RATE_DEFINITIONS
        ]
    ).set_index("name")
    if lang is None:
        return frame
    chosen = "label_vi" if check_lang(lang) == "vi" else "label_en"
    return frame.drop(columns=[c for c in ("label_vi", "label_en") if c != chosen]).rename(
        columns={chosen: "label"}
    )


def labelled(frame: pd.DataFrame, lang: str = "vi") -> pd.DataFrame:
    """The frame with reader labels for columns (data unchanged)."""
    shown = frame.copy()
    shown.columns = [column_label(str(c), lang) for c in frame.columns]
    return shown


def _used_rates(frame: pd.DataFrame) -> list[str]:
    """The catalogue rates a table shows: its rate columns, or those it names (``metric``)."""
    names = [d.name for d in RATE_DEFINITIONS]
    shown = set(frame.columns)
    if "metric" in frame:
        shown |= set(frame["metric"].dropna().astype(str))
    return [name for name in names if name in shown]


def to_excel(
    frame: pd.DataFrame,
    path: str | os.PathLike[str],
    *,
    lang: str = "vi",
    sheet_name: str | None = None,
) -> Path:
    """Write ``frame`` as an Excel workbook a reader can use as is.

    Column labels in ``lang``; counts as whole numbers with thousands separators; rates as
    percentages (the cells hold the 0-1 value, formatted ``0.00%``); days as dates; a second
    sheet defines every rate the table shows. Returns the path.

    Examples
    --------
    >>> to_excel(wb.kpis("2023-Q3"), tmp / "kpis.xlsx")  # doctest: +ELLIPSIS
    PosixPath('.../kpis.xlsx')
    """
    target = Path(path)
    sheet = sheet_name or _word("sheet.data", lang)
    data = frame.copy()
    for column in data.columns:  # Excel has no time zones and no pandas NA
        if isinstance(data[column].dtype, pd.DatetimeTZDtype):
            data[column] = data[column].dt.tz_localize(None)
    rates = _used_rates(frame)
    with pd.ExcelWriter(target, engine="openpyxl") as writer:
        labelled(data, lang).to_excel(writer, sheet_name=sheet, index=False)
        worksheet = writer.sheets[sheet]
        for position, column in enumerate(frame.columns, start=1):
            name = str(column)
            number_format = _number_format(name, frame[column])
            letter = get_column_letter(position)
            worksheet.column_dimensions[letter].width = min(
                max(12, len(column_label(name, lang)) + 2), 48
            )
            if number_format is None:
                continue
            for (cell,) in worksheet.iter_rows(
                min_row=2, min_col=position, max_col=position, max_row=len(frame) + 1
            ):
                cell.number_format = number_format
        worksheet.freeze_panes = "A2"
        if rates:
            table = definitions(lang).loc[rates].reset_index()
            table = table.assign(formula=table["numerator"] + " / " + table["denominator"])[
                ["name", "label", "formula", "note"]
            ]
            table.columns = [
                _word("definition.name", lang),
                column_label("metric", lang),
                _word("definition.formula", lang),
                _word("definition.note", lang),
            ]
            table.to_excel(writer, sheet_name=_word("sheet.definitions", lang), index=False)
    return target


def _number_format(column: str, values: pd.Series) -> str | None:
    if is_rate(column) or column == "difference_rate" or column.startswith("difference_rate"):
        return "0.00%"
    if column.endswith("_count"):
        return "#,##0"
    if pd.api.types.is_datetime64_any_dtype(values):
        return "dd/mm/yyyy"
    return None


def to_csv(
    frame: pd.DataFrame,
    path: str | os.PathLike[str],
    *,
    lang: str = "vi",
    percent: bool = True,
) -> Path:
    """Write ``frame`` as CSV (UTF-8 with BOM, so Excel reads Vietnamese) with labels in
    ``lang``; rates as percentages in the language's number format ("99,46%") unless
    ``percent`` is False (then the 0-1 values). Returns the path."""
    target = Path(path)
    data = frame.copy()
    if percent:
        for column in data.columns:
            if is_rate(str(column)) and pd.api.types.is_numeric_dtype(data[column]):
                data[column] = [fmt_rate(v, lang) if pd.notna(v) else "" for v in data[column]]
    labelled(data, lang).to_csv(target, index=False, encoding="utf-8-sig")
    return target


@pd.api.extensions.register_dataframe_accessor("cchc")
class ResultAccessor:
    """``table.cchc``: the front door's helpers on any DataFrame (``to_excel``, ``to_csv``,
    ``labelled``, ``with_intervals``)."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self._frame = frame

    def to_excel(self, path: str | os.PathLike[str], **options: Any) -> Path:
        return to_excel(self._frame, path, **options)

    def to_csv(self, path: str | os.PathLike[str], **options: Any) -> Path:
        return to_csv(self._frame, path, **options)

    def labelled(self, lang: str = "vi") -> pd.DataFrame:
        return labelled(self._frame, lang)

    def with_intervals(self, metric: str | list[str], **options: Any) -> pd.DataFrame:
        return with_intervals(self._frame, metric, **options)
