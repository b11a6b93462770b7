"""Reading an export file into a grid of cells, whatever its format and encoding.

Provinces send CSV saved by many tools (UTF-8, UTF-8 with BOM, Excel's "Unicode text" which is
UTF-16 and tab-separated, legacy Windows-1258 with decomposed tone marks) and XLSX workbooks.
This module only turns a file into rows of raw cells with the row numbers a spreadsheet user
sees; finding the header and reading values is left to ``ingest`` and ``bieu06``. Every
failure raises :class:`SourceError` naming the file, for a one-line message and exit code 2.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import unicodedata
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

DELIMITERS = ("\t", ";", ",", "|")
SNIFF_LINES = 60


class SourceError(ValueError):
    """A file that cannot be used at all (unreadable, wrong format, no such sheet...)."""


@dataclass
class SourceGrid:
    """Raw cells of one file or sheet: column positions 0..n-1, one row per source row.

    ``row_numbers`` are 1-based, as the spreadsheet shows them (a CSV record with a line break
    inside quotes is still one row). ``merged`` holds merged ranges as 0-based inclusive
    (first_row, first_col, last_row, last_col) positions in ``cells``.
    """

    path: Path
    cells: pd.DataFrame
    row_numbers: np.ndarray
    format: str  # csv | xlsx
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)

    @property
    def name(self) -> str:
        return str(self.path)

    def describe(self) -> dict:
        """Format details for the ingest report."""
        out: dict = {"format": self.format}
        if self.encoding:
            out["encoding"] = self.encoding
        if self.delimiter:
            out["delimiter"] = {"\t": "tab"}.get(self.delimiter, self.delimiter)
        if self.sheet:
            out["sheet"] = self.sheet
        return out


def read_source(
    path: str | os.PathLike, sheet: str | None = None, with_merged: bool = False
) -> SourceGrid:
    """Read a CSV/text or XLSX file; the format comes from the file's bytes, not its name."""
    path = Path(path)
    if not path.exists():
        raise SourceError(f"{path}: file not found")
    if path.is_dir():
        raise SourceError(f"{path}: is a folder, not a file")
    try:
        with path.open("rb") as handle:
            head = handle.read(8)
    except OSError as exc:
        raise SourceError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if head.startswith(b"PK\x03\x04"):
        return _read_xlsx(path, sheet, with_merged)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise SourceError(
            f"{path}: old Excel 97-2003 (.xls) workbook; open it in Excel and save as .xlsx or CSV"
        )
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        raise SourceError(f"{path}: not a valid .xlsx workbook (the file is not a zip package)")
    if sheet is not None:
        raise SourceError(f"{path}: --sheet {sheet!r} given but the file is a text/CSV file")
    return _read_text(path)


# --- text files --------------------------------------------------------------------------------


def decode_bytes(raw: bytes) -> tuple[str, str]:
    """(text, encoding name): BOMs first, then UTF-16 without BOM, UTF-8, Windows-1258.

    The text is NFC-normalised: Windows-1258 stores tone marks as combining characters, and
    names must compare equal however they were typed.
    """
    if raw.startswith(codecs.BOM_UTF8):
        text, encoding = raw[len(codecs.BOM_UTF8) :].decode("utf-8", errors="strict"), "utf-8-sig"
    elif raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text, encoding = raw.decode("utf-16"), "utf-16"
    elif len(raw) >= 4 and raw[1:200:2].count(0) > 0.4 * len(raw[1:200:2]):
        text, encoding = raw.decode("utf-16-le"), "utf-16-le"
    elif len(raw) >= 4 and raw[0:200:2].count(0) > 0.4 * len(raw[0:200:2]):
        text, encoding = raw.decode("utf-16-be"), "utf-16-be"
    else:
        try:
            text, encoding = raw.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            text, encoding = raw.decode("cp1258"), "windows-1258"
    return unicodedata.normalize("NFC", text.lstrip("\ufeff")), encoding


def sniff_delimiter(text: str) -> str:
    """The delimiter that splits the first lines into the most consistent number of fields."""
    lines = [line for line in text.splitlines()[:SNIFF_LINES] if line.strip()]
    sample = "\n".join(lines)
    best, best_score = ",", -1.0
    for delimiter in DELIMITERS:
        counts = [
            len(row) for row in csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter)
        ]
        counts = [c for c in counts if c > 1]
        if not counts:
            continue
        width, frequency = Counter(counts).most_common(1)[0]
        score = frequency * min(width, 50) + 0.01 * max(counts)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _read_text(path: Path) -> SourceGrid:
    raw = path.read_bytes()
    if not raw.strip():
        raise SourceError(f"{path}: file is empty")
    try:
        text, encoding = decode_bytes(raw)
    except UnicodeDecodeError as exc:
        raise SourceError(f"{path}: cannot decode the text ({exc.reason})") from None
    if "\x00" in text:
        raise SourceError(f"{path}: not a text or XLSX file (binary content)")
    delimiter = sniff_delimiter(text)
    try:
        width = max(
            (len(row) for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)),
            default=0,
        )
        cells = pd.read_csv(
            io.StringIO(text),
            sep=delimiter,
            header=None,
            names=list(range(max(width, 1))),
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=False,
            quoting=csv.QUOTE_MINIMAL,
            engine="c",
        )
    except (csv.Error, pd.errors.ParserError, ValueError) as exc:
        raise SourceError(f"{path}: cannot read as CSV ({str(exc).splitlines()[0]})") from None
    cells = cells.astype(object)
    return SourceGrid(
        path=path,
        cells=cells,
        row_numbers=np.arange(1, len(cells) + 1),
        format="csv",
        encoding=encoding,
        delimiter=delimiter,
    )


# --- workbooks ---------------------------------------------------------------------------------


def _read_xlsx(path: Path, sheet: str | None, with_merged: bool) -> SourceGrid:
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        # Merged ranges exist only in the full (not read-only) mode: used for small forms.
        workbook = openpyxl.load_workbook(path, read_only=not with_merged, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise SourceError(f"{path}: not a readable .xlsx workbook ({exc})") from None
    try:
        names = workbook.sheetnames
        if sheet is None:
            worksheet = workbook.worksheets[0]
        else:
            from .headers import header_key

            found = [n for n in names if n == sheet] or [
                n for n in names if header_key(n) == header_key(sheet)
            ]
            if not found:
                raise SourceError(
                    f"{path}: no sheet named {sheet!r}; sheets: {', '.join(map(repr, names))}"
                )
            worksheet = workbook[found[0]]
        if not with_merged:
            worksheet.reset_dimensions()
        rows = [list(r) for r in worksheet.iter_rows(min_row=1, values_only=True)]
        merged = []
        if with_merged:
            for rng in worksheet.merged_cells.ranges:
                merged.append((rng.min_row - 1, rng.min_col - 1, rng.max_row - 1, rng.max_col - 1))
        title = worksheet.title
    finally:
        workbook.close()
    width = max((len(r) for r in rows), default=0)
    cells = pd.DataFrame([r + [None] * (width - len(r)) for r in rows], dtype=object)
    if cells.empty:
        raise SourceError(f"{path}: sheet {title!r} is empty")
    cells.columns = list(range(width))
    return SourceGrid(
        path=path,
        cells=cells,
        row_numbers=np.arange(1, len(cells) + 1),
        format="xlsx",
        sheet=title,
        merged=merged,
    )


def filled_cells(grid: SourceGrid) -> pd.DataFrame:
    """Cells with every merged range filled with its top-left value (for reading headers)."""
    cells = grid.cells.copy()
    for r0, c0, r1, c1 in grid.merged:
        if r0 >= len(cells) or c0 >= cells.shape[1]:
            continue
        value = cells.iat[r0, c0]
        cells.iloc[r0 : r1 + 1, c0 : c1 + 1] = value
    return cells
