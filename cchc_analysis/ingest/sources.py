"""Reading an export file into a grid of cells, whatever its format and encoding.

Provinces send CSV saved by many tools (UTF-8, UTF-8 with BOM, Excel's "Unicode text" which is
UTF-16 and tab-separated, legacy Windows-1258 with decomposed tone marks) and XLSX workbooks.
This module only turns a file into rows of raw cells with the row numbers a spreadsheet user
sees; finding the header and reading values is left to ``ingest`` and ``bieu06``. Every
failure raises :class:`SourceError` naming the file, for a one-line message and exit code 2.

Exports of millions of rows are read as a stream (:func:`stream_source`): chunks of rows, so
memory depends on the chunk, not the file. Small forms (Biểu 06 sheets with merged headers)
are read whole (:func:`read_source`). A workbook's sheet is read from its XML as a stream of
the cells it holds, never padded to its declared dimension, within :data:`MAX_COLUMNS` columns
(and :data:`MAX_FORM_ROWS` rows for a form): a 20 KB file cannot claim gigabytes.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import os
import re
import unicodedata
import warnings
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from cchc_analysis.core.errors import SourceError
from cchc_analysis.core.text import key as text_key

DELIMITERS = ("\t", ";", ",", "|")
SNIFF_LINES = 60
CHUNK_ROWS = 200_000  # rows per chunk when streaming a large export
HEAD_BYTES = 1 << 20  # bytes read up front to recognise the encoding and the delimiter
# Bounds of a workbook sheet, whatever its declared dimension (a stray cell at XFD1048576 must
# not cost memory): exports have tens of columns; a form (Biểu 06) has a few hundred rows.
MAX_COLUMNS = 1_000
MAX_FORM_ROWS = 20_000
# The csv module refuses fields over 131,072 characters by default; an export's free text may
# be longer, and a file under the size limits cannot hold a field larger than itself.
csv.field_size_limit(2**31 - 1)
# UTF-8 text is read with Arrow's CSV reader (:func:`_arrow_chunks`), several blocks at once;
# False (CCHC_INGEST_ROW_PATH=1, as parsing.COLUMN_WISE) reads every file with pandas.
ARROW_READER = os.environ.get("CCHC_INGEST_ROW_PATH", "") != "1"
# Bytes per block of the Arrow reader. Its stream reads blocks ahead, so memory grows with the
# block: on a 1M-row national CSV, 8 MB blocks took 655 MB RSS to read it and 2 MB 460 MB, and
# 2 MB read faster (bench/bench_ingest.py --rows). A record longer than a block (a cell of
# megabytes) makes Arrow refuse the file; it is then read with pandas (ReadAgain).
ARROW_BLOCK_BYTES = 2 << 20
_FIELDS_ERROR = re.compile(r"Expected \d+ fields in line (\d+), saw (\d+)")


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

    def describe(self) -> dict[str, str]:
        """Format details for the ingest report."""
        return _describe(self.format, self.encoding, self.delimiter, self.sheet)


def _describe(
    format: str, encoding: str | None, delimiter: str | None, sheet: str | None
) -> dict[str, str]:
    out = {"format": format}
    if encoding:
        out["encoding"] = encoding
    if delimiter:
        out["delimiter"] = {"\t": "tab"}.get(delimiter, delimiter)
    if sheet:
        out["sheet"] = sheet
    return out


Chunk = tuple[pd.DataFrame, np.ndarray]  # raw cells (columns 0..n-1), 1-based row numbers


class ReadAgain(Exception):  # noqa: N818 (a signal to start over, not an error)
    """A stream's first guess was wrong: a UTF-8 file with a Windows-1258 byte past the first
    megabyte, a row wider than the first rows, or a file the Arrow reader cannot take as it is
    (``plain`` False: read it with pandas). Nothing read so far counts; the reader starts the
    file again with these hints (:func:`stream_source`)."""

    def __init__(
        self, encoding: str | None = None, width: int | None = None, plain: bool = True
    ) -> None:
        super().__init__(f"read again (encoding {encoding}, width {width}, plain {plain})")
        self.hints: dict[str, Any] = {"encoding": encoding, "width": width, "plain": plain}


@dataclass
class SourceStream:
    """A file read chunk by chunk: ``chunks()`` yields (cells, row_numbers) in file order, each
    call from the start of the file. May raise :class:`ReadAgain` (see there)."""

    path: Path
    format: str
    chunks: Callable[[], Iterator[Chunk]]
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None

    @property
    def name(self) -> str:
        return str(self.path)

    def describe(self) -> dict[str, str]:
        """Format details for the ingest report."""
        return _describe(self.format, self.encoding, self.delimiter, self.sheet)


def check_input_path(path: str | os.PathLike[str]) -> None:
    """Refuse an input that is a symbolic link: the archive would keep only the link, and a
    link may lead anywhere on the machine. SourceError naming the file."""
    if os.path.islink(path):
        raise SourceError(
            f"{path}: is a symbolic link, not a file; copy the real export in its place"
        )


def _kind_of(path: Path, sheet: str | None) -> str:
    """ "xlsx" or "text" from the file's first bytes (not its name); SourceError otherwise."""
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
        return "xlsx"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise SourceError(
            f"{path}: old Excel 97-2003 (.xls) workbook; open it in Excel and save as .xlsx or CSV"
        )
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        raise SourceError(f"{path}: not a valid .xlsx workbook (the file is not a zip package)")
    if sheet is not None:
        raise SourceError(f"{path}: --sheet {sheet!r} given but the file is a text/CSV file")
    return "text"


def read_source(
    path: str | os.PathLike[str], sheet: str | None = None, with_merged: bool = False
) -> SourceGrid:
    """Read a whole CSV/text or XLSX file (small forms; exports go through
    :func:`stream_source`); the format comes from the file's bytes, not its name."""
    path = Path(path)
    if _kind_of(path, sheet) == "xlsx":
        return _read_xlsx(path, sheet, with_merged)
    return _read_text(path)


def stream_source(
    path: str | os.PathLike[str],
    sheet: str | None = None,
    chunk_rows: int = CHUNK_ROWS,
    encoding: str | None = None,
    width: int | None = None,
    plain: bool = True,
) -> SourceStream:
    """A CSV/text or XLSX file as a stream of chunks of ``chunk_rows`` rows.

    The cells and row numbers are those :func:`read_source` gives, a chunk at a time. For text
    the encoding and delimiter come from the first megabyte; ``encoding``, ``width`` (the
    widest row) and ``plain`` (False: not with Arrow) are the hints of a :class:`ReadAgain`.
    """
    path = Path(path)
    if _kind_of(path, sheet) == "xlsx":
        return _stream_xlsx(path, sheet, chunk_rows)
    return _stream_text(path, chunk_rows, encoding, width, plain)


# --- text files --------------------------------------------------------------------------------


def detect_encoding(head: bytes, complete: bool = True) -> str:
    """The encoding of a text file from its first bytes: BOMs first, then UTF-16 without BOM,
    UTF-8, Windows-1258. ``complete`` is False when ``head`` is only the start of the file (a
    character may be cut at its end)."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if len(head) >= 4 and head[1:200:2].count(0) > 0.4 * len(head[1:200:2]):
        return "utf-16-le"
    if len(head) >= 4 and head[0:200:2].count(0) > 0.4 * len(head[0:200:2]):
        return "utf-16-be"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=complete)
    except UnicodeDecodeError:
        return "windows-1258"
    return "utf-8"


_CODEC = {"windows-1258": "cp1258"}


def decode_bytes(raw: bytes) -> tuple[str, str]:
    """(text, encoding name), the encoding as :func:`detect_encoding` finds it.

    The text is NFC-normalised: Windows-1258 stores tone marks as combining characters, and
    names must compare equal however they were typed.
    """
    encoding = detect_encoding(raw)
    text = raw.decode(_CODEC.get(encoding, encoding))
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
    """A whole text file: the chunks of :func:`_stream_text` put together."""
    hints: dict[str, Any] = {}
    while True:
        stream = _stream_text(
            path, CHUNK_ROWS, hints.get("encoding"), hints.get("width"), hints.get("plain", True)
        )
        try:
            parts = list(stream.chunks())
        except ReadAgain as again:
            hints = again.hints
            continue
        cells = pd.concat([c for c, _ in parts], ignore_index=True) if parts else pd.DataFrame()
        return SourceGrid(
            path=path,
            cells=cells,
            row_numbers=np.arange(1, len(cells) + 1),
            format="csv",
            encoding=stream.encoding,
            delimiter=stream.delimiter,
        )


class _NfcText(io.TextIOBase):
    """A text stream, NFC-normalised block by block (see :func:`decode_bytes`); a block ends
    before its last base character, so no tone mark is cut from its letter."""

    def __init__(self, handle: io.TextIOBase, path: Path) -> None:
        self._handle, self._path = handle, path
        self._held, self._first = "", True

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> str:
        while True:
            block = self._handle.read(-1 if size is None or size < 0 else max(size, 1))
            if self._first:
                block, self._first = block.lstrip("\ufeff"), False
            if "\x00" in block:
                raise SourceError(f"{self._path}: not a text or XLSX file (binary content)")
            text = self._held + block
            if not block:
                self._held = ""
                return unicodedata.normalize("NFC", text)
            cut = len(text) - 1
            while cut > 0 and unicodedata.combining(text[cut]):
                cut -= 1
            self._held, out = text[cut:], text[:cut]
            if out:
                return (
                    out
                    if unicodedata.is_normalized("NFC", out)
                    else (unicodedata.normalize("NFC", out))
                )


class _Utf8Bytes(io.RawIOBase):
    """The NFC text as UTF-8 bytes, for pandas' C parser. Given a text stream, pandas wraps it
    in an encoder whose leftover bytes grow with every read when characters take more than
    one byte (Vietnamese does), so reading a large export slowed down chunk after chunk. Here
    the leftover stays below one block."""

    def __init__(self, text: _NfcText) -> None:
        self._text = text
        self._buffer = bytearray()
        self._eof = False

    def readable(self) -> bool:
        return True

    def readinto(self, target: bytearray | memoryview) -> int:  # type: ignore[override]
        size = len(target)
        while len(self._buffer) < size and not self._eof:
            block = self._text.read(max(size, 1 << 16))
            if block:
                self._buffer += block.encode("utf-8")
            else:
                self._eof = True
        count = min(size, len(self._buffer))
        target[:count] = self._buffer[:count]
        del self._buffer[:count]
        return count

    def close(self) -> None:
        self._text.close()
        super().close()


def _strict(reader: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    """Chunks of a CSV reader, with pandas' "names do not match the data" warning raised: it
    means rows wider than the names, whose cells pandas would drop."""
    while True:
        with warnings.catch_warnings():
            warnings.simplefilter("error", pd.errors.ParserWarning)
            try:
                cells = next(reader)
            except StopIteration:
                return
        yield cells


def _open_text(path: Path, encoding: str) -> _NfcText:
    handle = open(path, encoding=_CODEC.get(encoding, encoding), newline="")  # noqa: SIM115
    return _NfcText(handle, path)


def _widest_row(path: Path, encoding: str, delimiter: str) -> int:
    """The most cells in any record of the file (one pass, a block at a time)."""

    def lines(text: _NfcText) -> Iterator[str]:
        rest = ""
        while block := text.read(1 << 20):
            *whole, rest = (rest + block).split("\n")
            yield from (line + "\n" for line in whole)
        if rest:
            yield rest

    with _open_text(path, encoding) as text:
        records = csv.reader(lines(text), delimiter=delimiter)
        return max((len(row) for row in records), default=0)


def _decode_error(path: Path, encoding: str) -> SourceError:
    """The error for text that is not all in one encoding: the first line that does not decode
    (a file pasted together from several tools), or binary content. Never quotes the line."""
    codec = _CODEC.get(encoding, encoding)
    decoder = codecs.getincrementaldecoder(codec)()
    try:
        with path.open("rb") as handle:
            for number, line in enumerate(handle, start=1):
                if b"\x00" in line and not encoding.startswith("utf-16"):
                    return SourceError(f"{path}: not a text or XLSX file (binary content)")
                try:
                    decoder.decode(line)
                except UnicodeDecodeError:
                    return SourceError(
                        f"{path}: line {number:,} is not {encoding} text, unlike the lines "
                        "before it (mixed encodings, or binary content); save the whole file "
                        "again in one encoding (UTF-8)"
                    )
    except OSError as exc:
        return SourceError(f"{path}: cannot read ({exc.strerror or exc})")
    return SourceError(f"{path}: cannot decode the text as {encoding}")


def _stream_text(
    path: Path, chunk_rows: int, encoding: str | None, width: int | None, plain: bool = True
) -> SourceStream:
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            head = handle.read(HEAD_BYTES)
            # Enough whole lines to sniff the delimiter and the width of the first rows.
            while len(head) < size and head.count(b"\n") <= SNIFF_LINES:
                more = handle.read(HEAD_BYTES)
                if not more:
                    break
                head += more
    except OSError as exc:
        raise SourceError(f"{path}: cannot read ({exc.strerror or exc})") from None
    complete = len(head) >= size
    if not head.strip() and complete:
        raise SourceError(f"{path}: file is empty")
    guessed = encoding is None
    encoding = encoding or detect_encoding(head, complete)
    codec = _CODEC.get(encoding, encoding)
    try:
        sample = codecs.getincrementaldecoder(codec)().decode(head, final=complete)
    except UnicodeDecodeError:
        raise _decode_error(path, encoding) from None
    sample = unicodedata.normalize("NFC", sample.lstrip("\ufeff"))
    if "\x00" in sample:
        raise SourceError(f"{path}: not a text or XLSX file (binary content)")
    if not complete:  # the last line of the sample may be cut
        sample = sample[: sample.rfind("\n") + 1] or sample
    delimiter = sniff_delimiter(sample)
    measured = width is not None  # the widest row of the whole file, from a ReadAgain
    if width is None:
        rows = csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter)
        width = max((len(row) for row in rows), default=0)
        if complete:
            width = max(width, 1)

    def chunks() -> Iterator[Chunk]:
        if plain and ARROW_READER and encoding in ("utf-8", "utf-8-sig"):
            try:
                yield from _arrow_chunks(path, delimiter, max(width, 1), chunk_rows)
            except (pa.ArrowInvalid, _NotPlain):
                raise ReadAgain(encoding, width if measured else None, plain=False) from None
            return
        first_row = 1
        try:
            with io.BufferedReader(_Utf8Bytes(_open_text(path, encoding)), 1 << 20) as raw:
                reader = pd.read_csv(
                    raw,
                    encoding="utf-8",
                    sep=delimiter,
                    header=None,
                    names=list(range(max(width, 1))),
                    dtype=object,  # str cells as they are (faster than a string dtype)
                    keep_default_na=False,
                    na_filter=False,
                    skip_blank_lines=False,
                    quoting=csv.QUOTE_MINIMAL,
                    engine="c",
                    index_col=False,
                    chunksize=chunk_rows,
                )
                for cells in _strict(reader):
                    rows = np.arange(first_row, first_row + len(cells))
                    first_row += len(cells)
                    yield cells.astype(object), rows
        except UnicodeDecodeError:
            # An ASCII start proves nothing: the file may be Windows-1258 throughout. A start
            # with Vietnamese letters in UTF-8 proves the file mixes encodings: name the line.
            if guessed and encoding == "utf-8" and head.isascii():
                raise ReadAgain(encoding="windows-1258", width=None, plain=False) from None
            raise _decode_error(path, encoding) from None
        except (csv.Error, pd.errors.ParserError, pd.errors.ParserWarning, ValueError) as exc:
            wider = _FIELDS_ERROR.search(str(exc)) or isinstance(exc, pd.errors.ParserWarning)
            if wider and not measured:
                widest = _widest_row(path, encoding, delimiter)
                raise ReadAgain(encoding, widest, plain=False) from None
            message = str(exc).splitlines()[0]
            raise SourceError(f"{path}: cannot read as CSV ({message})") from None

    return SourceStream(
        path=path, format="csv", chunks=chunks, encoding=encoding, delimiter=delimiter
    )


class _NotPlain(Exception):  # noqa: N818 (a signal to read with pandas, not an error)
    """A text file the Arrow reader must leave to pandas (a NUL character)."""


def _arrow_chunks(path: Path, delimiter: str, width: int, chunk_rows: int) -> Iterator[Chunk]:
    """The chunks of a UTF-8 file whose every record has ``width`` cells, read with Arrow's
    multithreaded CSV reader: the cells pandas' reader gives (text as it is, a blank cell
    ""), each column NFC-normalised where it is not all ASCII. Anything else (a shorter or
    longer record, a blank line, bytes that are not UTF-8, a NUL) raises ``pa.ArrowInvalid``
    or :class:`_NotPlain`, and the file is read again with pandas (:class:`ReadAgain`)."""
    names = [str(i) for i in range(width)]
    reader = pa_csv.open_csv(
        path,
        read_options=pa_csv.ReadOptions(column_names=names, block_size=ARROW_BLOCK_BYTES),
        parse_options=pa_csv.ParseOptions(
            delimiter=delimiter,
            quote_char='"',
            double_quote=True,
            escape_char=False,
            newlines_in_values=True,
            ignore_empty_lines=False,
        ),
        convert_options=pa_csv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.string()),
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )
    pending: list[pa.RecordBatch] = []
    count, first_row = 0, 1
    for batch in itertools.chain(reader, [None]):
        if batch is not None:
            pending.append(batch)
            count += batch.num_rows
        while count >= chunk_rows or (batch is None and count):
            table = pa.Table.from_batches(pending)
            taken = min(chunk_rows, count)
            chunk, rest = table.slice(0, taken), table.slice(taken)
            pending, count = rest.to_batches(), rest.num_rows
            yield _arrow_cells(path, chunk, first_row), np.arange(first_row, first_row + taken)
            first_row += taken


# Cells read by Arrow stay in Arrow memory (pandas' "str" dtype: missing is NaN, as in an
# object column): a column becomes Python objects only if a check needs them, and the columns
# ingest drops (personal data, narratives) never do.
ARROW_TEXT: Final = pd.StringDtype("pyarrow", na_value=np.nan)


def _arrow_cells(path: Path, table: pa.Table, first_row: int) -> pd.DataFrame:
    """One chunk's cells (text in :data:`ARROW_TEXT` columns); a column's text is normalised
    only when it is not NFC already (the check runs on the column's bytes at once: most
    columns are ASCII, the others NFC)."""
    columns = {}
    for number, column in enumerate(table.columns):
        cells = column.combine_chunks()
        data = cells.buffers()[2]
        text = b"" if data is None else data.to_pybytes()  # may hold neighbouring cells too
        if b"\x00" in text:
            raise _NotPlain(f"{path}: a NUL character")
        if not text.isascii() and not _is_nfc(text):
            cells = pc.utf8_normalize(cells, form="NFC")
        columns[number] = pd.array(cells, dtype=ARROW_TEXT)
    index = pd.RangeIndex(first_row - 1, first_row - 1 + table.num_rows)
    return pd.DataFrame(columns, index=index)


def _is_nfc(text: bytes) -> bool:
    """True when UTF-8 ``text`` is NFC (then so is each cell in it); False when in doubt."""
    if _only_stable_letters(text):
        return True
    try:
        return unicodedata.is_normalized("NFC", text.decode("utf-8"))
    except UnicodeDecodeError:
        return False


# Lead bytes of the UTF-8 characters that are NFC whatever surrounds them: U+0080-U+027F
# (Latin-1, Latin Extended-A and -B, IPA: leads C2-C9) and U+1E00-U+1EFF (Latin Extended
# Additional, where Vietnamese letters with two marks live: E1 then B8-BB). Each is its own
# NFC form, combines with nothing before or after it, and has combining class 0, so text of
# these and ASCII alone is NFC (tests/test_ingest_fast.py checks every one and every pair).
_STABLE_TWO_BYTE_LEADS: Final = (0xC2, 0xC9)
_STABLE_E1_SECOND: Final = (0xB8, 0xBB)


def _only_stable_letters(text: bytes) -> bool:
    """True when valid UTF-8 ``text`` holds only ASCII and the characters above (the byte
    test costs far less than decoding and normalising); False means "look closer"."""
    data = np.frombuffer(text, dtype=np.uint8)
    leads = np.flatnonzero(data >= 0xC0)
    if not len(leads):
        return True
    lead = data[leads]
    two = (lead >= _STABLE_TWO_BYTE_LEADS[0]) & (lead <= _STABLE_TWO_BYTE_LEADS[1])
    three = lead == 0xE1
    if not (two | three).all():
        return False
    second = data[np.minimum(leads[three] + 1, len(data) - 1)]
    return bool(((second >= _STABLE_E1_SECOND[0]) & (second <= _STABLE_E1_SECOND[1])).all())


# --- workbooks ---------------------------------------------------------------------------------


def _open_sheet(path: Path, sheet: str | None, read_only: bool) -> tuple[Any, Any]:
    """(workbook, worksheet); the caller closes the workbook (openpyxl has no type hints)."""
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = openpyxl.load_workbook(path, read_only=read_only, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise SourceError(f"{path}: not a readable .xlsx workbook ({exc})") from None
    names = workbook.sheetnames
    if sheet is None:
        return workbook, workbook.worksheets[0]
    found = [n for n in names if n == sheet] or [n for n in names if text_key(n) == text_key(sheet)]
    if not found:
        workbook.close()
        raise SourceError(
            f"{path}: no sheet named {sheet!r}; sheets: {', '.join(map(repr, names))}"
        )
    return workbook, workbook[found[0]]


def sheet_names(path: str | os.PathLike[str]) -> list[str] | None:
    """The sheets of a workbook in order; None for a text file."""
    path = Path(path)
    if _kind_of(path, None) != "xlsx":
        return None
    workbook, _ = _open_sheet(path, None, read_only=True)
    try:
        return list(workbook.sheetnames)
    finally:
        workbook.close()


def _cell_name(column: int, row: int | None) -> str:
    """ "XFD1048576" (or "XFD" without a row), as Excel names a cell."""
    from openpyxl.utils.cell import get_column_letter

    return f"{get_column_letter(column)}{'' if row is None else row}"


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _sheet_rows(
    path: Path, worksheet: Any, merged: list[tuple[int, int, int, int]] | None = None
) -> Iterator[tuple[int, list[Any]]]:
    """(row number, values up to the row's last non-blank cell) for each row holding a value,
    read from the sheet's XML as a stream.

    Only the cells the file holds are read: rows are never padded to the sheet's declared
    dimension, blank rows are not produced, and trailing empty (styled) cells are dropped, so
    one stray cell at XFD1048576 costs one row of one value, not 16,384 × 1,048,576 cells.
    A value beyond :data:`MAX_COLUMNS` is an error naming the sheet and the cell. ``merged``
    receives the merged ranges (0-based inclusive), known once the rows are read.
    """
    from openpyxl.utils.cell import range_boundaries
    from openpyxl.worksheet._reader import WorkSheetParser  # the XML rows, as openpyxl reads

    workbook = worksheet.parent
    with worksheet._get_source() as source:
        parser = WorkSheetParser(
            source,
            worksheet._shared_strings,
            data_only=True,
            epoch=workbook.epoch,
            date_formats=workbook._date_formats,
            timedelta_formats=workbook._timedelta_formats,
        )
        for number, cells in parser.parse():
            present = [(c["column"], c["value"]) for c in cells if not _is_blank(c["value"])]
            if not present:
                continue
            last = max(column for column, _ in present)
            if last > MAX_COLUMNS:
                raise SourceError(
                    f"{path}: sheet {worksheet.title!r} has a value at cell "
                    f"{_cell_name(last, number)}, beyond column "
                    f"{_cell_name(MAX_COLUMNS, None)} (at most {MAX_COLUMNS:,} columns are "
                    "read); delete the stray cell, or copy the table to a new sheet"
                )
            values: list[Any] = [None] * last
            for column, value in present:
                values[column - 1] = value
            yield int(number), values
        if merged is not None and parser.merged_cells is not None:
            for cell_range in parser.merged_cells.mergeCell:
                c0, r0, c1, r1 = range_boundaries(cell_range.ref)
                merged.append((r0 - 1, c0 - 1, r1 - 1, min(c1, MAX_COLUMNS) - 1))


def _stream_xlsx(path: Path, sheet: str | None, chunk_rows: int) -> SourceStream:
    workbook, worksheet = _open_sheet(path, sheet, read_only=True)
    title = worksheet.title
    workbook.close()

    def chunks() -> Iterator[Chunk]:
        workbook, worksheet = _open_sheet(path, title, read_only=True)
        try:
            rows: list[list[Any]] = []
            numbers: list[int] = []
            empty = True
            for number, row in _sheet_rows(path, worksheet):
                rows.append(row)
                numbers.append(number)
                if len(rows) == chunk_rows:
                    empty = False
                    yield _grid_chunk(rows, numbers)
                    rows, numbers = [], []
            if empty and not rows:
                raise SourceError(f"{path}: sheet {title!r} is empty")
            if rows:
                yield _grid_chunk(rows, numbers)
        finally:
            workbook.close()

    return SourceStream(path=path, format="xlsx", chunks=chunks, sheet=title)


def _grid_chunk(rows: list[list[Any]], numbers: list[int]) -> Chunk:
    width = max((len(r) for r in rows), default=0)
    cells = pd.DataFrame([r + [None] * (width - len(r)) for r in rows], dtype=object)
    cells.columns = list(range(width))
    return cells, np.asarray(numbers, dtype=np.int64)


def _read_xlsx(path: Path, sheet: str | None, with_merged: bool) -> SourceGrid:
    """A small form (Biểu 06) whole: its rows from the first to the last holding a value, blank
    rows in between kept (a header's merged rows stay in place); at most
    :data:`MAX_FORM_ROWS` rows, else an error naming the sheet and the cell."""
    workbook, worksheet = _open_sheet(path, sheet, read_only=True)
    merged: list[tuple[int, int, int, int]] = []
    by_number: dict[int, list[Any]] = {}
    title = worksheet.title
    try:
        for number, row in _sheet_rows(path, worksheet, merged):
            if number > MAX_FORM_ROWS:
                first = next(i for i, v in enumerate(row) if not _is_blank(v))
                raise SourceError(
                    f"{path}: sheet {title!r} has a value at cell "
                    f"{_cell_name(first + 1, number)}, beyond row {MAX_FORM_ROWS:,} "
                    "(a form sheet is read whole, up to that row); delete the stray cell"
                )
            by_number[number] = row
    finally:
        workbook.close()
    if not by_number:
        raise SourceError(f"{path}: sheet {title!r} is empty")
    last = max(by_number)
    width = max(len(r) for r in by_number.values())
    rows = [by_number.get(n, []) for n in range(1, last + 1)]
    cells = pd.DataFrame([r + [None] * (width - len(r)) for r in rows], dtype=object)
    cells.columns = list(range(width))
    return SourceGrid(
        path=path,
        cells=cells,
        row_numbers=np.arange(1, len(cells) + 1),
        format="xlsx",
        sheet=title,
        merged=merged if with_merged else [],
    )


def filled_cells(grid: SourceGrid) -> pd.DataFrame:
    """Cells with every merged range filled with its top-left value (for reading headers)."""
    cells = grid.cells.copy()
    for r0, c0, r1, c1 in grid.merged:
        if r0 >= len(cells) or c0 >= cells.shape[1]:
            continue
        value = cells.iat[r0, c0]
        # pandas-stubs reject a (slice, slice) key for iloc assignment (valid at run time).
        cells.iloc[r0 : r1 + 1, c0 : c1 + 1] = value  # type: ignore[index, assignment]
    return cells
