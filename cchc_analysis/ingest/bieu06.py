"""Biểu 06 sheets as provinces fill them: find the table, read its columns, write one back.

A real sheet (Biểu 06/VPCP/KSTT, Thông tư 01/2020/TT-VPCP) has title rows, a header of 1–3
rows with merged cells whose labels repeat ("Tổng số" under "nhận giải quyết", "đã giải quyết"
and "đang giải quyết"), often a row of column numbers "(1) (2) (3)…", one row per unit (by name
or code, optionally per field), section rows ("I. Cấp huyện"), a totals row ("Tổng cộng",
"Tổng số", "Cộng") and signature lines. :func:`read_bieu06` finds the header, names each column
from its parent and child labels with keyword rules, and returns the data rows as raw cells
(values are parsed and validated in :mod:`validate_period_reports`); the totals rows are kept
apart so they can be checked against the sum of the rows instead of being counted twice.
:func:`write_bieu06_xlsx` writes the same layout from canonical counts (exports and tests).
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from cchc_analysis.core.errors import SourceError
from cchc_analysis.core.schema import COUNT_COLUMNS
from cchc_analysis.ingest.headers import canonical_for, header_words
from cchc_analysis.ingest.parsing import clean_text, is_blank, parse_number
from cchc_analysis.ingest.privacy import personal_category
from cchc_analysis.ingest.sources import SourceGrid, filled_cells

LABEL_COLUMNS = ("unit_code", "unit_name", "field", "period_start", "period_end", "period_label")
HEADER_SEARCH_ROWS = 40
MAX_HEADER_ROWS = 3

_HEADER_HINTS = (
    "stt",
    "don vi",
    "linh vuc",
    "so ho so",
    "giai quyet",
    "tiep nhan",
    "tong so",
    "trong do",
    "truc tuyen",
    "ky truoc",
)
_TOTAL_LABELS = frozenset({"tong cong", "tong so", "cong", "tong", "toan tinh", "toan huyen"})
_TOTAL_PREFIXES = ("tong cong", "cong cap", "tong so cap", "cong toan")
_FOOTER_PHRASES = (
    "nguoi lap bieu",
    "nguoi lap",
    "thu truong",
    "ky ghi ro ho ten",
    "ky va ghi ro",
    "ky ten",
    "noi nhan",
    "xac nhan",
    "giam doc",
    "chu tich",
    "truong phong",
)
_FOOTER_DATE = re.compile(r"\bngay\b.*\bthang\b.*\bnam\b")
_COLUMN_NUMBER = re.compile(r"^\(?\s*\d{1,2}\s*\)?(\s*=.*)?$")
_COLUMN_LETTER = re.compile(r"^\(?\s*[0-9a-z]{1,3}\s*\)?(\s*=.*)?$", re.IGNORECASE)


# The reporting unit in a title block: "Đơn vị báo cáo: UBND huyện Cần Giuộc" (not "Đơn vị
# nhận báo cáo", the recipient), or the issuing authority's line "UBND XÃ KIẾN THỤY",
# "ỦY BAN NHÂN DÂN PHƯỜNG KIẾN AN".
_REPORTING_UNIT = re.compile(
    r"^\s*(?:đơn\s+vị|cơ\s+quan)\s+báo\s+cáo\s*[:：\-–]?\s*(?P<name>\S.*)$", re.IGNORECASE
)
_AUTHORITY = re.compile(r"^\s*(?:ubnd|[ủu][ỷy]\s+ban\s+nhân\s+dân)\s+\S", re.IGNORECASE)


def title_unit_name(lines: Sequence[str]) -> str | None:
    """The reporting unit's name as the title block gives it, or None.

    "Đơn vị báo cáo: …" wins; else the last authority line ("UBND …"), the most specific when
    a province's line stands above its district's or commune's.
    """
    authority = None
    for line in lines:
        text = unicodedata.normalize("NFC", line).strip()
        named = _REPORTING_UNIT.match(text)
        if named:
            return named["name"].strip()
        if _AUTHORITY.match(text):
            authority = text
    return authority


def _has(words: str, *phrases: str) -> bool:
    padded = f" {words} "
    return any(f" {p} " in padded for p in phrases)


def classify_label(path: Sequence[str]) -> str | None:
    """Canonical column for a header path (parent labels first), ``"_skip"`` for row numbers
    and rates, None when unknown.

    "Số hồ sơ đã giải quyết / Tổng số" -> resolved_total_count; "Số hồ sơ nhận giải quyết /
    Trong kỳ / Trực tuyến" -> received_online_count; "received_new_count" -> itself.
    """
    labels = [p for p in path if p]
    if not labels:
        return None
    joined = " ".join(labels)
    exact = canonical_for(joined, "period-report")
    if exact is not None:
        return exact
    words = " ".join(header_words(p) for p in labels)
    if words in ("stt", "tt", "so tt", "so thu tu") or _has(words, "ty le") or "%" in joined:
        return "_skip"
    if _has(words, "da giai quyet", "da xu ly", "resolved"):
        if _has(words, "truoc han"):
            return "resolved_early_count"
        if _has(words, "dung han", "dung thoi han"):
            return "resolved_on_time_count"
        if _has(words, "qua han", "tre han"):
            return "resolved_late_count"
        if _has(words, "tong", "tong so") or len(labels) == 1:
            return "resolved_total_count"
        return None
    if _has(words, "dang giai quyet", "dang xu ly", "chua giai quyet", "pending"):
        if _has(words, "trong han", "chua den han", "chua qua han"):
            return "pending_in_time_count"
        if _has(words, "qua han", "tre han"):
            return "pending_late_count"
        if _has(words, "tong", "tong so") or len(labels) == 1:
            return "pending_total_count"
        return None
    online = _online_column(words)
    if online is not None:
        return online
    if _has(words, "nhan giai quyet", "tiep nhan", "so ho so nhan", "ho so nhan", "received"):
        if _has(words, "truc tuyen"):
            return "received_online_count"
        if _has(words, "truc tiep", "buu chinh"):
            return "received_offline_count"
        if _has(words, "ky truoc", "chuyen sang", "chuyen qua", "ton"):
            return "carried_over_count"
        if _has(words, "trong ky", "moi tiep nhan", "tiep nhan moi", "so moi", "moi"):
            return "received_new_count"
        if _has(words, "tong", "tong so") or len(labels) == 1:
            return "received_total_count"
        return None
    if _has(words, "ky truoc", "chuyen sang", "ton ky truoc"):
        return "carried_over_count"
    if _has(words, "ma don vi", "ma dv", "ma co quan"):
        return "unit_code"
    if _has(words, "linh vuc"):
        return "field"
    if _has(words, "don vi", "co quan", "dia phuong"):
        return "unit_name"
    return canonical_for(labels[-1], "period-report")


def _online_column(words: str) -> str | None:
    if _has(words, "toan trinh", "muc do 4"):
        return "online_full_count"
    if _has(words, "mot phan", "muc do 3"):
        return "online_partial_count"
    return None


def _cell_words(value: object) -> str:
    text = clean_text(value)
    return header_words(text) if text else ""


def _is_header_cell(value: object) -> bool:
    text = clean_text(value)
    if text is None or isinstance(value, int | float):
        return False
    words = header_words(text)
    if _has(words, "bao cao", "bieu so", "ky bao cao"):
        return False  # "Đơn vị báo cáo: ...", "Biểu số 06": title lines, not the header
    hinted = _has(words, *_HEADER_HINTS) or words in ("stt", "tt")
    return hinted or classify_label([text]) not in (None, "_skip")


def _row_values(cells: pd.DataFrame, row: int) -> list[Any]:
    return list(cells.iloc[row])


def _is_number_row(values: list[Any]) -> bool:
    """The row of column numbers under a header: "(1) (2) (3)…" or "A B 1 2 3"."""
    cleaned = [clean_text(v) for v in values]
    texts = [t for t in cleaned if t]
    if len(texts) < 3:
        return False
    numbered = sum(bool(_COLUMN_NUMBER.match(t)) for t in texts)
    lettered = sum(bool(_COLUMN_LETTER.match(t)) for t in texts)
    return numbered >= 3 and lettered >= 0.8 * len(texts)


def _numeric_cells(values: list[Any]) -> int:
    count = 0
    for value in values:
        if is_blank(value):
            continue
        try:
            if parse_number(value) is not None:
                count += 1
        except ValueError:
            pass
    return count


@dataclass
class Bieu06Table:
    """The data rows of a Biểu 06 sheet as raw cells, and what was found around them."""

    rows: pd.DataFrame  # canonical column -> raw cell, plus "_row" (spreadsheet row number)
    columns: dict[str, str]  # canonical column -> source header path ("A / B")
    totals: list[tuple[int, dict[str, object], list[int]]]  # (row, raw counts, data rows)
    header_rows: tuple[int, int]  # spreadsheet rows of the header (first, last)
    title: str  # text above the header (to find the period)
    title_lines: list[str] = field(default_factory=list)  # its cells, in reading order
    ignored: list[str] = field(default_factory=list)
    personal: list[str] = field(default_factory=list)
    skipped_rows: dict[str, int] = field(default_factory=dict)


def _find_header(filled: pd.DataFrame) -> int:
    for row in range(min(HEADER_SEARCH_ROWS, len(filled))):
        distinct = {clean_text(v) for v in _row_values(filled, row) if _is_header_cell(v)}
        if len(distinct) >= 2:
            return row
    return -1


def read_bieu06(grid: SourceGrid) -> Bieu06Table:
    """Locate the table in a sheet and return its data rows (raw) and its totals rows."""
    cells = grid.cells
    filled = filled_cells(grid)
    if not grid.merged and grid.format == "csv":
        filled = cells.copy()
    first = _find_header(filled)
    if first < 0:
        found = [t for t in (clean_text(v) for v in _row_values(cells, 0)) if t]
        raise SourceError(
            f"{grid.name}: no Biểu 06 header found in the first {HEADER_SEARCH_ROWS} rows "
            f"(expected labels such as 'Đơn vị', 'Số hồ sơ nhận giải quyết', 'Tổng số'); "
            f"its first row has {len(found)} filled cell(s), none of them such a label (cell "
            "contents are not quoted: a file that is not an export may hold personal data)"
        )
    last = first
    data_start = first + 1
    for row in range(first + 1, min(first + MAX_HEADER_ROWS + 1, len(filled))):
        values = _row_values(filled, row)
        if _is_number_row(values):
            data_start = row + 1
            break
        raw_values = _row_values(cells, row)
        if row - first >= MAX_HEADER_ROWS or _numeric_cells(raw_values) >= 2:
            break
        if not any(_is_header_cell(v) for v in values):
            break
        last, data_start = row, row + 1
    header = filled.iloc[first : last + 1]
    if not grid.merged and last > first:
        header = _spread_parent_labels(header)

    columns: dict[str, str] = {}
    positions: dict[str, int] = {}
    skip_positions: list[int] = []
    ignored: list[str] = []
    personal: list[str] = []
    for position in range(cells.shape[1]):
        path: list[str] = []
        for value in header.iloc[:, position]:
            text = clean_text(value)
            if text and (not path or path[-1] != text):
                path.append(text)
        if not path:
            continue
        shown = " / ".join(path)
        if personal_category(path[-1]) is not None:
            personal.append(shown)
            continue
        column = classify_label(path)
        if column is None:
            ignored.append(shown)
            continue
        if column == "_skip":
            skip_positions.append(position)
            if header_words(shown) not in ("stt", "tt", "so tt", "so thu tu"):
                ignored.append(shown)  # rates and the like: recomputed, not read
            continue
        if column in positions:
            raise SourceError(
                f"{grid.name}: columns {columns[column]!r} and {shown!r} both read as "
                f"{column}; give the parent label above each 'Tổng số'"
            )
        columns[column], positions[column] = shown, position

    count_positions = {c: p for c, p in positions.items() if c in COUNT_COLUMNS}
    # Where a totals label may stand: the unit/field columns, the row-number column, column A.
    label_positions = [p for c, p in positions.items() if c not in COUNT_COLUMNS]
    label_positions = sorted({0, *label_positions, *skip_positions})
    records: list[dict[str, Any]] = []
    totals: list[tuple[int, dict[str, object], list[int]]] = []
    segment: list[int] = []
    skipped = {"blank": 0, "section": 0, "totals": 0, "footer": 0}
    in_footer = False
    for row in range(data_start, len(cells)):
        raw = _row_values(cells, row)
        row_number = int(grid.row_numbers[row])
        if all(is_blank(v) for v in raw):
            skipped["blank"] += 1
            continue
        if in_footer or _is_footer(raw):
            in_footer = True
            skipped["footer"] += 1
            continue
        labels = [raw[p] for p in label_positions if p not in count_positions.values()]
        counts = {c: raw[p] for c, p in count_positions.items()}
        if _is_total_label(labels):
            skipped["totals"] += 1
            totals.append((row_number, counts, list(segment)))
            segment = []
            continue
        if all(is_blank(v) for v in counts.values()):
            skipped["section"] += 1
            continue
        record = {c: raw[p] for c, p in positions.items()}
        record["_row"] = row_number
        segment.append(len(records))
        records.append(record)
    # A totals row above the units (or after another totals row) covers all the rows.
    totals = [(r, c, seg if seg else list(range(len(records)))) for r, c, seg in totals]
    title_rows = cells.iloc[:first]
    title_lines = [t for t in (clean_text(v) for v in title_rows.to_numpy().ravel()) if t]
    title = " ".join(title_lines)
    frame = pd.DataFrame.from_records(records, columns=[*positions, "_row"])
    return Bieu06Table(
        rows=frame,
        columns=columns,
        totals=totals,
        header_rows=(int(grid.row_numbers[first]), int(grid.row_numbers[last])),
        title=title,
        title_lines=title_lines,
        ignored=ignored,
        personal=personal,
        skipped_rows={k: v for k, v in skipped.items() if v},
    )


def _spread_parent_labels(header: pd.DataFrame) -> pd.DataFrame:
    """Repeat parent labels across the columns they span, as merged cells would.

    A CSV copy of a merged header keeps each label in its first column only. A blank parent
    cell takes its left neighbour's label when both columns sit under the same labels above
    it, so a label never leaks into a column that has its own parent.
    """
    rows = [[clean_text(v) for v in header.iloc[r]] for r in range(len(header))]
    for r in range(len(rows) - 1):
        for c in range(1, len(rows[r])):
            same_parents = all(rows[above][c] == rows[above][c - 1] for above in range(r))
            if rows[r][c] is None and rows[r][c - 1] is not None and same_parents:
                if all(rows[below][c] is None for below in range(r + 1, len(rows))):
                    continue  # nothing below either: a column without a header
                rows[r][c] = rows[r][c - 1]
    return pd.DataFrame(rows, index=header.index, columns=header.columns, dtype=object)


def _is_total_label(values: list[Any]) -> bool:
    for value in values:
        words = _cell_words(value)
        if not words:
            continue
        if words in _TOTAL_LABELS or words.startswith(_TOTAL_PREFIXES):
            return True
    return False


def _is_footer(values: list[Any]) -> bool:
    for value in values:
        if isinstance(value, int | float):
            continue
        words = _cell_words(value)
        if words and (_has(words, *_FOOTER_PHRASES) or _FOOTER_DATE.search(words)):
            return True
    return False


# --- writing -----------------------------------------------------------------------------------

# (top label, middle label, bottom label) per column; None = merged with the label above.
_ColumnSpec = tuple[str, str | None, str | None, str]  # the three labels and the count column
_LAYOUT: tuple[_ColumnSpec, ...] = (
    ("Số hồ sơ nhận giải quyết", "Tổng số", None, "received_total_count"),
    ("Số hồ sơ nhận giải quyết", "Trong kỳ", "Trực tuyến", "received_online_count"),
    (
        "Số hồ sơ nhận giải quyết",
        "Trong kỳ",
        "Trực tiếp, dịch vụ bưu chính",
        "received_offline_count",
    ),
    ("Số hồ sơ nhận giải quyết", "Từ kỳ trước chuyển sang", None, "carried_over_count"),
    ("Số hồ sơ đã giải quyết", "Tổng số", None, "resolved_total_count"),
    ("Số hồ sơ đã giải quyết", "Trước hạn", None, "resolved_early_count"),
    ("Số hồ sơ đã giải quyết", "Đúng hạn", None, "resolved_on_time_count"),
    ("Số hồ sơ đã giải quyết", "Quá hạn", None, "resolved_late_count"),
    ("Số hồ sơ đang giải quyết", "Tổng số", None, "pending_total_count"),
    ("Số hồ sơ đang giải quyết", "Trong hạn", None, "pending_in_time_count"),
    ("Số hồ sơ đang giải quyết", "Quá hạn", None, "pending_late_count"),
    ("Hồ sơ trực tuyến", "Toàn trình", None, "online_full_count"),
    ("Hồ sơ trực tuyến", "Một phần", None, "online_partial_count"),
    ("Số hồ sơ rút, từ chối", None, None, "withdrawn_count"),
    ("Số hồ sơ số hóa", None, None, "digitized_count"),
    ("Số hồ sơ có phí, lệ phí", None, None, "fee_bearing_count"),
    ("Số hồ sơ thanh toán trực tuyến", None, None, "paid_online_count"),
    ("Số lượt đánh giá", None, None, "rated_count"),
    ("Số lượt hài lòng", None, None, "satisfied_count"),
    ("Số hồ sơ không được tiếp nhận", None, None, "refused_count"),
    ("Số hồ sơ chờ tiếp nhận", None, None, "awaiting_intake_count"),
    ("Số hồ sơ trong hạn (QĐ 766)", None, None, "timely_766_count"),
    ("Số hồ sơ chờ bổ sung quá hạn (QĐ 766)", None, None, "waiting_late_766_count"),
)
BIEU06_TITLE = "TÌNH HÌNH, KẾT QUẢ GIẢI QUYẾT TTHC TẠI CƠ QUAN, ĐƠN VỊ TRỰC TIẾP GIẢI QUYẾT TTHC"


def write_bieu06_xlsx(
    counts: pd.DataFrame,
    path: str | os.PathLike[str],
    period_start: date,
    period_end: date,
    unit_column: str = "unit_name",
    reporter: str = "",
) -> Path:
    """Write counts (one row per unit) as a Biểu 06 sheet: title, a 3-row merged header, the
    column-number row, unit rows, a "Tổng cộng" row and signature lines.

    ``unit_column`` chooses how units are given ("unit_name" or "unit_code"). Only the count
    columns present in ``counts`` are written.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    layout = [spec for spec in _LAYOUT if spec[3] in counts]
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Biểu 06"
    width = 2 + len(layout)
    sheet.cell(1, 1, "Biểu số 06/VPCP/KSTT")
    sheet.cell(2, 1, BIEU06_TITLE).font = Font(bold=True)
    sheet.cell(
        3,
        1,
        f"Kỳ báo cáo: từ ngày {period_start:%d/%m/%Y} đến ngày {period_end:%d/%m/%Y}",
    )
    sheet.cell(4, 1, f"Đơn vị báo cáo: {reporter}" if reporter else "Đơn vị báo cáo:")
    for row in range(1, 5):
        sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=width)
    top = 6
    sheet.cell(top, 1, "STT")
    sheet.cell(top, 2, "Mã đơn vị" if unit_column == "unit_code" else "Tên đơn vị")
    for column in (1, 2):
        sheet.merge_cells(start_row=top, start_column=column, end_row=top + 2, end_column=column)
    _write_header_level(sheet, layout, top, 0)
    for offset, spec in enumerate(layout, start=3):
        if spec[1] is None:
            sheet.merge_cells(
                start_row=top, start_column=offset, end_row=top + 2, end_column=offset
            )
        else:
            if spec[2] is None:
                sheet.merge_cells(
                    start_row=top + 1, start_column=offset, end_row=top + 2, end_column=offset
                )
            else:
                sheet.cell(top + 2, offset, spec[2])
    _write_header_level(sheet, layout, top + 1, 1)
    for column in range(1, width + 1):
        sheet.cell(top + 3, column, f"({column})")
    row = top + 4
    for number, record in enumerate(counts.to_dict(orient="records"), start=1):
        sheet.cell(row, 1, number)
        sheet.cell(row, 2, str(record[unit_column]))
        for offset, spec in enumerate(layout, start=3):
            sheet.cell(row, offset, int(record[spec[3]]))
        row += 1
    sheet.cell(row, 1, "Tổng cộng")
    sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=2)
    for offset, spec in enumerate(layout, start=3):
        sheet.cell(row, offset, int(counts[spec[3]].sum()))
    sheet.cell(row + 2, 2, "Người lập biểu")
    sheet.cell(row + 2, max(3, width - 2), "Thủ trưởng đơn vị")
    sheet.cell(row + 3, max(3, width - 2), "(Ký, ghi rõ họ tên, đóng dấu)")
    for cells in sheet.iter_rows(min_row=top, max_row=top + 2):
        for cell in cells:
            cell.alignment = Alignment(wrap_text=True, horizontal="center", vertical="center")
    target = Path(path)
    workbook.save(target)
    return target


def _write_header_level(sheet: Any, layout: list[_ColumnSpec], row: int, level: int) -> None:
    """Write one header level, merging runs of equal labels across columns (``sheet`` is an
    openpyxl worksheet; openpyxl has no type hints)."""
    start = 0
    while start < len(layout):
        label = layout[start][level]
        end = start
        while (
            end + 1 < len(layout)
            and layout[end + 1][level] == label
            and layout[end + 1][:level] == layout[start][:level]
        ):
            end += 1
        if label is not None:
            sheet.cell(row, 3 + start, label)
            if end > start:
                sheet.merge_cells(
                    start_row=row, start_column=3 + start, end_row=row, end_column=3 + end
                )
        start = end + 1
