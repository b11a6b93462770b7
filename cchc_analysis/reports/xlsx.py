"""A table as a small XLSX workbook, written directly (a few milliseconds, no spreadsheet
library to import in every report): one sheet, a bold header row, text cells as text, numbers
as numbers.

Reports offer each table for download; text cells keep codes such as "00314" exactly as the
page shows them. A :class:`Percent` cell holds the 0-1 rate and shows as a percentage, a whole
number shows with thousands separators (the format of ``research.to_excel``).
"""

from __future__ import annotations

import io
import math
import re
import zipfile
from collections.abc import Sequence
from xml.sax.saxutils import escape

import pandas as pd

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/styles.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    "{sheets}</Types>"
)
_SHEET_TYPE = (
    '<Override PartName="/xl/worksheets/sheet{n}.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
)
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)


class Percent(float):
    """A rate (0-1) that the workbook shows as a percentage (``0.00%``)."""


_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="1"><fill><patternFill patternType="none"/></fill></fills>'
    '<borders count="1"><border/></borders>'
    '<cellStyleXfs count="1"><xf/></cellStyleXfs>'
    # 0 text, 1 bold header, 2 rate (built-in 0.00%), 3 whole number (built-in #,##0)
    '<cellXfs count="4"><xf fontId="0"/><xf fontId="1" applyFont="1"/>'
    '<xf fontId="0" numFmtId="10" applyNumberFormat="1"/>'
    '<xf fontId="0" numFmtId="3" applyNumberFormat="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)
_SHEET_REFUSED = re.compile(r"[\[\]:*?/\\]")
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _cell(ref: str, value: object, *, is_header: bool = False) -> str:
    style = ' s="1"' if is_header else ""
    if value is None:  # no data: an empty cell, never 0
        return f'<c r="{ref}"{style}/>'
    if isinstance(value, int | float) and not isinstance(value, bool):
        if isinstance(value, float) and not math.isfinite(value):
            return f'<c r="{ref}"{style}/>'
        if not is_header and isinstance(value, Percent):
            style = ' s="2"'
        elif not is_header and isinstance(value, int):
            style = ' s="3"'
        return f'<c r="{ref}"{style}><v>{value}</v></c>'
    text = escape(str(value))
    return f'<c r="{ref}" t="inlineStr"{style}><is><t xml:space="preserve">{text}</t></is></c>'


def _sheet(frame: pd.DataFrame) -> str:
    rows = []
    header = "".join(
        _cell(f"{_column_letter(j)}1", name, is_header=True) for j, name in enumerate(frame.columns)
    )
    rows.append(f'<row r="1">{header}</row>')
    for i, record in enumerate(frame.itertuples(index=False), start=2):
        cells = "".join(_cell(f"{_column_letter(j)}{i}", v) for j, v in enumerate(record))
        rows.append(f'<row r="{i}">{cells}</row>')
    # The header row stays in view; columns as wide as their longest text (12 to 60 characters).
    view = (
        '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" '
        'activePane="bottomLeft" state="frozen"/></sheetView></sheetViews>'
    )
    widths = "".join(
        f'<col min="{j}" max="{j}" width="{_width(frame.iloc[:, j - 1], name)}" customWidth="1"/>'
        for j, name in enumerate(frame.columns, start=1)
    )
    cols = f"<cols>{widths}</cols>" if widths else ""
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="{_MAIN}">'
        f"{view}{cols}<sheetData>{''.join(rows)}</sheetData></worksheet>"
    )


def _width(values: pd.Series, name: object) -> int:
    longest = max([len(str(name)), *(len(str(v)) for v in values)])
    return min(max(12, longest + 2), 60)


def sheet_name(name: str) -> str:
    """``name`` as Excel accepts a sheet name: none of ``[]:*?/\\``, at most 31 characters,
    not blank."""
    return _SHEET_REFUSED.sub("-", name).strip("'")[:31] or "Sheet1"


def xlsx_bytes(frames: Sequence[tuple[str, pd.DataFrame]]) -> bytes:
    """A workbook with one sheet per (name, frame); names are cut to Excel's 31 characters,
    with the characters Excel refuses in a sheet name (``/`` of "Quý III/2023") as "-"."""
    buffer = io.BytesIO()
    sheets = "".join(_SHEET_TYPE.format(n=n) for n in range(1, len(frames) + 1))
    entries = "".join(
        f'<sheet name="{escape(sheet_name(name))}" sheetId="{n}" r:id="rId{n}"/>'
        for n, (name, _) in enumerate(frames, start=1)
    )
    rels = "".join(
        f'<Relationship Id="rId{n}" Type="{_REL}/worksheet" Target="worksheets/sheet{n}.xml"/>'
        for n in range(1, len(frames) + 1)
    )
    style_id = len(frames) + 1
    rels += f'<Relationship Id="rId{style_id}" Type="{_REL}/styles" Target="styles.xml"/>'
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as book:
        book.writestr("[Content_Types].xml", _CONTENT_TYPES.format(sheets=sheets))
        book.writestr("_rels/.rels", _ROOT_RELS)
        book.writestr(
            "xl/workbook.xml",
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><workbook xmlns="{_MAIN}" '
            f'xmlns:r="{_REL}"><sheets>{entries}</sheets></workbook>',
        )
        book.writestr(
            "xl/_rels/workbook.xml.rels",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships '
            f'xmlns="http://schemas.openxmlformats.org/package/2006/relationships">{rels}'
            "</Relationships>",
        )
        book.writestr("xl/styles.xml", _STYLES)
        for n, (_, frame) in enumerate(frames, start=1):
            book.writestr(f"xl/worksheets/sheet{n}.xml", _sheet(frame))
    return buffer.getvalue()
