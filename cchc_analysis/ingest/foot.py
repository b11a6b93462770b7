"""The foot of a dossier list as a province's staff make it: totals lines and signature blocks.

Below the last dossier an export saved from Excel often carries "Tổng cộng: 300 hồ sơ", a
place-and-date line ("Hải Phòng, ngày 05 tháng 10 năm 2025"), the signers' titles ("Người lập
biểu", "Thủ trưởng đơn vị", "(Ký, ghi rõ họ tên)") and their names. None of it is a dossier:
these lines are skipped and counted (``non_data_rows_skipped``), never rejected, and their text
is never copied anywhere (an official's name is personal data).

A real dossier row must never be swallowed, so a line is foot only when

* its key columns (the dossier id and receipt date, or a survey's id and date) hold nothing
  but the marker itself, and a cell *starts* with a clear marker (totals, signer titles, the
  signing instruction, a place-and-date line): anywhere in the file; or
* it comes after the last data row (one with every key cell filled), at or after the first
  such marker line: the names under the titles, even when typed into the id column.

A line lacking a key without a marker and not under one (a dossier whose id is missing) is left
to validation, which rejects it with its reason.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from typing import Final

import numpy as np
import pandas as pd

from cchc_analysis.core.text import words

# Starts of a foot line, in Vietnamese (lower case, NFC) ...
_MARKERS_VI: Final = (
    "tổng cộng",
    "tổng số",
    "cộng:",
    "người lập biểu",
    "người lập bảng",
    "người lập",
    "người tổng hợp",
    "thủ trưởng",
    "lãnh đạo đơn vị",
    "giám đốc",
    "phó giám đốc",
    "chủ tịch",
    "phó chủ tịch",
    "trưởng phòng",
    "kế toán",
    "xác nhận của",
    "nơi nhận",
    "tm.",
    "tm ",
    "kt.",
    "kt ",
    "(ký",
    "ký tên",
    "ký, ghi rõ",
    "ký và ghi rõ",
)
# ... and as ASCII words, for exports that lost their diacritics (only unambiguous phrases:
# "cong" alone is also "Công", a word of procedure and office names).
_MARKERS_ASCII: Final = (
    "tong cong",
    "tong so",
    "nguoi lap bieu",
    "nguoi lap bang",
    "nguoi tong hop",
    "thu truong don vi",
    "thu truong co quan",
    "ky ghi ro ho ten",
    "ky va ghi ro ho ten",
    "ky ten dong dau",
)
# The longest foot: a longer run of lines without keys under a marker is data gone wrong.
HELD_ROWS: Final = 1_000
_ONLY_TOTAL: Final = re.compile(r"^cộng\s*[:.]?\s*[\d.,]*\s*(hồ sơ)?$")
_PLACE_DATE: Final = re.compile(r"ngay\s+\d{1,2}\s+thang\s+\d{1,2}\s+nam\s+\d{4}")


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return ""
    return unicodedata.normalize("NFC", str(value)).strip().casefold()


def is_marker_text(value: object) -> bool:
    """Whether a cell's text opens a totals line, a signature block or a place-and-date line."""
    text = _text(value)
    if not text:
        return False
    if text.startswith(_MARKERS_VI) or _ONLY_TOTAL.match(text):
        return True
    ascii_words = words(text)
    if ascii_words.startswith(_MARKERS_ASCII) or "ky ghi ro ho ten" in ascii_words:
        return True
    return bool(_PLACE_DATE.search(ascii_words))


class FootLines:
    """Drops the foot lines from a stream of body chunks (cells, spreadsheet rows), counting
    them; ``key_positions`` are the columns of the key fields (id, date)."""

    def __init__(self, key_positions: Sequence[int]) -> None:
        self.key_positions = list(key_positions)
        self.count = 0
        self.rows: list[int] = []  # spreadsheet row numbers of the lines skipped

    def _classify(self, cells: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """(marker line, data line: every key cell filled) for every row of a chunk."""
        n = len(cells)
        filled = np.zeros(n, dtype=int)
        for p in self.key_positions:
            if p < cells.shape[1]:
                text = cells.iloc[:, p].astype("string").str.strip()
                filled += (text.notna() & text.ne("")).to_numpy(dtype=bool)
        data = filled == len(self.key_positions)
        marker = np.zeros(n, dtype=bool)
        # A dossier row has its id and its date: only rows with at most one key cell are read
        # one by one (the marker may sit in a key column, "Tổng cộng" under "Mã hồ sơ").
        for i in np.flatnonzero(filled <= 1):
            row = cells.iloc[i].tolist()
            first = next((v for v in row if _text(v)), None)
            if not is_marker_text(first):
                continue
            keys = [row[p] for p in self.key_positions if p < len(row)]
            if all(not _text(v) or v is first for v in keys):
                marker[i], data[i] = True, False
        return marker, data

    def _skip(self, rows: np.ndarray) -> None:
        self.count += len(rows)
        self.rows.extend(int(r) for r in rows)

    def filter(
        self, chunks: Iterable[tuple[pd.DataFrame, np.ndarray]]
    ) -> Iterator[tuple[pd.DataFrame, np.ndarray]]:
        """The chunks without their foot lines (order kept; empty chunks not yielded).

        Lines from a marker on, after the last data row seen so far, are held back until a
        later data row releases them (they were inside the list) or the file ends (they are its
        foot). At most :data:`HELD_ROWS` are held: a longer run is not a foot.
        """
        held: list[tuple[pd.DataFrame, np.ndarray, np.ndarray]] = []  # cells, rows, marker

        def release() -> Iterator[tuple[pd.DataFrame, np.ndarray]]:
            for cells, rows, marker in held:
                self._skip(rows[marker])
                if (~marker).any():
                    yield cells[~marker], rows[~marker]
            held.clear()

        for cells, rows in chunks:
            marker, data = self._classify(cells)
            tail = 0
            if data.any():
                yield from release()  # inside the list after all
                tail = int(np.flatnonzero(data)[-1]) + 1
                inside = ~marker[:tail]
                self._skip(rows[:tail][marker[:tail]])
                yield cells.iloc[:tail][inside], rows[:tail][inside]
            # Rows after the last data row: a foot from its first marker on.
            start = tail
            if not held:
                found = np.flatnonzero(marker[tail:])
                start = tail + int(found[0]) if len(found) else len(cells)
                if start > tail:  # no marker above them: left to validation
                    yield cells.iloc[tail:start], rows[tail:start]
            if start < len(cells):
                held.append((cells.iloc[start:], rows[start:], marker[start:]))
            if sum(len(r) for _, r, _ in held) > HELD_ROWS:
                yield from release()
        for _, rows, _ in held:
            self._skip(rows)
