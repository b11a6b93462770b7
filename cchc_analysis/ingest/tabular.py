"""Dossier and survey exports: one header row (possibly under title rows) and a body of one
row per dossier or respondent, read as a stream of :data:`CHUNK_ROWS` rows at a time.

The header row is the one among the first :data:`HEADER_SEARCH_ROWS` rows that best matches
the alias table (:mod:`headers`); a file lacking a required column stops the run with every
missing column and the headers found. Each chunk is checked (:mod:`validate_dossiers`,
:mod:`validate_survey`); accepted rows go to a sink (the dossier spool, or memory for survey
rows), rejected ones are kept with their raw cells, personal columns dropped.
"""

from __future__ import annotations

import contextlib
import itertools
import queue
import re
import threading
from collections.abc import Iterator, Sequence
from datetime import date
from typing import Any, Final, TypeVar

import numpy as np
import pandas as pd

from cchc_analysis.core.errors import IngestError, SourceError
from cchc_analysis.core.text import fold
from cchc_analysis.ingest.account import (
    FileResult,
    IngestOptions,
    rejects_frame,
    unique_headers,
)
from cchc_analysis.ingest.foot import FootLines
from cchc_analysis.ingest.headers import (
    DOSSIER_REQUIRED,
    SURVEY_REQUIRED,
    HeaderMatch,
    canonical_for,
    closest_alias,
    header_score,
    match_headers,
)
from cchc_analysis.ingest.parsing import clean_text
from cchc_analysis.ingest.privacy import is_narrative_header, mask_series
from cchc_analysis.ingest.sources import ReadAgain, sheet_names, stream_source
from cchc_analysis.ingest.spool import DossierSpool
from cchc_analysis.ingest.unit_matching import ResolutionLog
from cchc_analysis.ingest.validate_dossiers import validate_dossiers
from cchc_analysis.ingest.validate_survey import validate_survey

HEADER_SEARCH_ROWS: Final = 30
# Rows validated at a time. Validation holds about 6 KB per row of a chunk (raw cells, parsed
# columns, messages), so 50,000 rows keep a run near 0.7 GB whatever the file's size.
CHUNK_ROWS: Final = 50_000
# Columns whose text is typed freely and may hold an ID or phone number: masked when kept.
FREE_TEXT_COLUMNS: Final = frozenset({"procedure_name", "unit_name", "field"})
# Spreadsheet rows of the foot lines skipped that the ingest report lists (the count is whole).
NON_DATA_ROWS_LISTED: Final = 20
# Chunks read ahead by a second thread while one is validated: Arrow's CSV reader and its
# string kernels release the GIL, so reading overlaps validation on a second core. Each chunk
# ahead holds one chunk of raw cells more (a few tens of MB), whatever the file's size.
READ_AHEAD_CHUNKS: Final = 1

_Item = TypeVar("_Item")


def read_ahead(items: Iterator[_Item], depth: int) -> Iterator[_Item]:
    """The items of ``items`` in order, produced by a second thread at most ``depth`` ahead of
    the caller. An exception raised while producing is raised here, at the item it stopped
    at (a ReadAgain, a SourceError); when the caller stops early the thread stops after the
    item it is producing. ``depth`` 0: no thread, the items as they come."""
    if depth <= 0:
        yield from items
        return
    handoff: queue.Queue[tuple[bool, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(entry: tuple[bool, Any]) -> bool:
        while not stop.is_set():
            try:
                handoff.put(entry, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put((True, item)):
                    return
        except BaseException as exc:  # noqa: BLE001 (handed to the caller's thread, raised there)
            put((False, exc))
            return
        put((False, None))

    thread = threading.Thread(target=produce, name="cchc-read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            is_item, value = handoff.get()
            if is_item:
                yield value
            elif value is None:
                return
            else:
                raise value
    finally:
        stop.set()
        thread.join()
        close = getattr(items, "close", None)  # a generator left early: its files closed now
        if close is not None:
            close()


class MemorySink:
    """Accepted rows of small tables (survey), kept in memory per file."""

    def __init__(self) -> None:
        self._frames: dict[int, list[pd.DataFrame]] = {}

    def add(self, index: int, frame: pd.DataFrame) -> None:
        self._frames.setdefault(index, []).append(frame)

    def discard(self, index: int) -> None:
        self._frames.pop(index, None)

    def frame_of(self, index: int) -> pd.DataFrame | None:
        frames = [f for f in self._frames.get(index, []) if len(f)]
        if not frames:
            frames = self._frames.get(index, [])[:1]
        return pd.concat(frames, ignore_index=True) if frames else None


# Where accepted rows go, per file index: the dossier spool on disk, or memory.
RowSink = DossierSpool | MemorySink


def _blank_rows(frame: pd.DataFrame) -> np.ndarray:
    """True for rows whose every cell is blank (skipped: not data)."""
    if frame.shape[1] == 0:
        return np.ones(len(frame), dtype=bool)
    blank = np.ones(len(frame), dtype=bool)
    for column in frame.columns:
        values = frame[column]
        text = values.astype("string").str.strip()
        blank &= (values.isna() | text.isna() | text.eq("")).to_numpy(dtype=bool)
        if not blank.any():
            break
    return blank


# "Ngày xuất: 15/08/2025", "Tính đến ngày 31/08/2025", "Dữ liệu đến ngày 31-08-2025": the
# snapshot date a title row above the header may give (diacritics removed before matching).
_TITLE_DATE = re.compile(
    r"(?:ngay xuat|xuat ngay|tinh den ngay|den ngay|ngay trich xuat)\D{0,5}"
    r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})"
)


def title_date(title: pd.DataFrame) -> date | None:
    """The export date named in the title rows above a header, if any."""
    for cells in title.itertuples(index=False):
        for cell in cells:
            if not isinstance(cell, str):
                continue
            found = _TITLE_DATE.search(fold(cell))
            if found:
                day, month, year = (int(g) for g in found.groups())
                with contextlib.suppress(ValueError):
                    return date(year, month, day)
    return None


def _locate_header(cells: pd.DataFrame, kind: str) -> int:
    best, best_score = 0, 0
    for row in range(min(HEADER_SEARCH_ROWS, len(cells))):
        score = header_score(list(cells.iloc[row]), kind)
        if score > best_score:
            best, best_score = row, score
    return best


class _NoHeader(IngestError):
    """A sheet without the kind's header; ``found`` says what it holds instead (one phrase)."""

    def __init__(self, message: str, found: str) -> None:
        super().__init__(message)
        self.found = found


def _missing_columns_error(
    name: str,
    missing: list[tuple[str, str]],
    match: HeaderMatch,
    free: list[str],
    kind: str,
) -> _NoHeader:
    """One line: every missing column with the closest alias among the headers not used for
    another column (``free``), then all the headers found. A row where no header is recognised
    is not quoted: it may be the first line of any file (nothing is echoed from a non-export)."""
    if not match.columns:
        what = "dossier" if kind == "dossiers" else "survey"
        found = f"no {what} header recognised in the first {HEADER_SEARCH_ROWS} rows"
        return _NoHeader(f"{name}: {found}; is this a {what} export?", found)
    headers = " | ".join(_short(h) for h in match.headers if h) or "(none)"
    parts = [f"{shown} ({closest_alias(column, free, kind)})" for column, shown in missing]
    found = f"no column for {'; '.join(parts)}; headers found: {headers}"
    return _NoHeader(f"{name}: {found}", found)


def _short(header: str) -> str:
    return header if len(header) <= 60 else header[:57] + "..."


class _TabularFile:
    """A dossier or survey export read as a stream: the header row (possibly under title rows)
    found in the first rows, then the body in chunks with blank rows skipped."""

    def __init__(self, path: str, kind: str, sheet: str | None, hints: dict[str, Any]) -> None:
        self.path = path
        self.stream = stream_source(path, sheet, CHUNK_ROWS, **hints)
        self._chunks = self.stream.chunks()
        heads, numbers = [], []
        for cells, rows in self._chunks:
            heads.append(cells)
            numbers.append(rows)
            if sum(len(c) for c in heads) > HEADER_SEARCH_ROWS:
                break
        head = pd.concat(heads, ignore_index=True) if heads else pd.DataFrame()
        head.columns = pd.RangeIndex(head.shape[1])
        head_rows = np.concatenate(numbers) if numbers else np.zeros(0, dtype=int)
        header_row = _locate_header(head, kind) if len(head) else 0
        headers = [clean_text(h) or "" for h in head.iloc[header_row]] if len(head) else []
        self.match = match = match_headers(headers, kind)
        required = DOSSIER_REQUIRED if kind == "dossiers" else SURVEY_REQUIRED
        missing = [(c, c) for c in required if c not in match.columns]
        if kind == "dossiers" and not ({"unit_code", "unit_name"} & set(match.columns)):
            missing.append(("unit_code", "the unit (unit_code or unit_name)"))
        if missing:
            used = set(match.columns.values())
            free = [h for i, h in enumerate(match.headers) if i not in used]
            raise _missing_columns_error(path, missing, match, free, kind)
        self.header_row_number = int(head_rows[header_row])
        self.headers_of = {c: match.header_of(c) for c in match.columns}
        names = unique_headers(match.headers)
        # Rejects show the recognised columns only: an ignored column (TrichYeuHoSo, notes,
        # anything unknown) is free text that may name the applicant; masking cannot find a
        # name, so it is left out (the ingest report lists it under ignored_columns).
        recognised = set(match.columns.values())
        self.display_positions = [
            p
            for p in range(len(names))
            if p in recognised and not is_narrative_header(match.headers[p])
        ]
        self.display_names = [names[p] for p in self.display_positions]
        structured = {p for c, p in match.columns.items() if c not in FREE_TEXT_COLUMNS}
        self.free_text = [names[p] for p in self.display_positions if p not in structured]
        self._first = (head.iloc[header_row + 1 :], head_rows[header_row + 1 :])
        self.export_date = title_date(head.iloc[:header_row])
        self.blank_count = 0
        keys = ("dossier_id", "received_at") if kind == "dossiers" else SURVEY_REQUIRED
        self.foot = FootLines([match.columns[c] for c in keys if c in match.columns])

    def _non_blank(self) -> Iterator[tuple[pd.DataFrame, np.ndarray]]:
        width = len(self.match.headers)
        for cells, rows in itertools.chain([self._first], self._chunks):
            if cells.shape[1] < width:
                cells = cells.reindex(columns=range(width))
            keep = ~_blank_rows(cells)
            self.blank_count += int((~keep).sum())
            if not keep.all():
                cells, rows = cells[keep], rows[keep]
            if len(cells):
                yield cells, rows

    def bodies(self) -> Iterator[tuple[int, pd.DataFrame, np.ndarray]]:
        """(position of the chunk's first row, cells, spreadsheet rows), blank rows and foot
        lines (:mod:`foot`) skipped; positions count the body's other rows from 0, as rejects
        and duplicates name them."""
        position = 0
        for cells, rows in self.foot.filter(self._non_blank()):
            if len(cells) == 0:
                continue
            yield position, cells.reset_index(drop=True), rows
            position += len(cells)

    def display(self, cells: pd.DataFrame) -> pd.DataFrame:
        """Raw cells as the rejects file shows them: source headers, personal columns dropped."""
        out = cells.iloc[:, self.display_positions].reset_index(drop=True)
        out.columns = self.display_names
        return out


def read_tabular(
    path: str, kind: str, *, options: IngestOptions, index: int, sink: RowSink
) -> FileResult:
    """Dossier and survey exports, chunk by chunk; accepted rows go to ``sink``."""
    hints: dict[str, Any] = {}
    sheet = options.sheet or choose_sheet(path, kind)
    while True:
        try:
            return _read_tabular_once(path, kind, options, index, sink, hints, sheet)
        except ReadAgain as again:  # a wrong first guess about the file: start over
            sink.discard(index)
            hints = again.hints


def choose_sheet(path: str, kind: str) -> str | None:
    """In a workbook of several sheets, the first whose header is the kind's (a cover sheet,
    notes or a chart are skipped); None for a text file or a single sheet. IngestError naming
    every sheet and what was found on each when none is."""
    names = sheet_names(path)
    if names is None or len(names) < 2:
        return None
    found = []
    for name in names:
        try:
            _TabularFile(path, kind, name, {})
        except _NoHeader as exc:
            found.append(f"{name!r}: {exc.found}")
            continue
        except SourceError as exc:  # an empty sheet, a stray cell far out
            found.append(f"{name!r}: {str(exc).removeprefix(f'{path}: ')}")
            continue
        return name
    what = "dossier" if kind == "dossiers" else "survey"
    raise IngestError(
        f"{path}: no sheet holds a {what} header ({'; '.join(found)}); "
        "pass --sheet NAME to choose one"
    )


def _read_tabular_once(
    path: str,
    kind: str,
    options: IngestOptions,
    index: int,
    sink: RowSink,
    hints: dict[str, Any],
    sheet: str | None,
) -> FileResult:
    source = _TabularFile(path, kind, sheet, hints)
    validate = validate_dossiers if kind == "dossiers" else validate_survey
    rejects, masked, rows_read = [], 0, 0
    log = ResolutionLog()
    for position, body, row_numbers in read_ahead(source.bodies(), READ_AHEAD_CHUNKS):
        raw = pd.DataFrame({c: body.iloc[:, p] for c, p in source.match.columns.items()})
        accepted, problems = validate(
            raw,
            source.headers_of,
            province=options.province,
            today=options.today,
            unit_map=options.unit_map,
            log=log,
        )
        for column in FREE_TEXT_COLUMNS & set(accepted.columns):
            accepted[column], n = mask_series(accepted[column])
            masked += n
        found = problems.frame()
        rejected = found["position"].to_numpy(dtype=int)
        if len(found):
            values = source.display(body.iloc[rejected])
            found["position"] += position
            found.insert(1, "row", row_numbers[rejected])
            rejects.append(pd.concat([found.reset_index(drop=True), values], axis=1))
        is_kept = np.ones(len(body), dtype=bool)  # a mask: np.setdiff1d sorts every chunk
        is_kept[rejected] = False
        kept = np.flatnonzero(is_kept)
        accepted = accepted.reset_index(drop=True)
        accepted["_pos"] = position + kept
        accepted["_row"] = np.asarray(row_numbers, dtype=int)[kept]
        sink.add(index, accepted)
        rows_read += len(body)
    info = {
        "header_row": source.header_row_number,
        "columns": source.headers_of,
        "ignored_columns": source.match.ignored,
        "header_conflicts": _header_conflicts(source.match, kind),
        "personal_data_columns_dropped": source.match.personal,
        "blank_rows_skipped": source.blank_count,
        # totals and signature lines: counted, never copied (their text may name officials)
        "non_data_rows_skipped": source.foot.count,
        "non_data_rows": source.foot.rows[:NON_DATA_ROWS_LISTED],
        "unit_resolutions": log.entries(),
        "carried_over_count": log.carried_over_count,
    }
    if source.export_date is not None:
        info["export_date"] = source.export_date.isoformat()
    return FileResult(
        name=path,
        source=source.stream.describe(),
        rows_read=rows_read,
        rejects=rejects_frame(rejects),
        free_text=source.free_text,
        display_rows=lambda positions: _display_again(path, kind, sheet, hints, positions),
        info=info,
        masked_count=masked,
    )


def _header_conflicts(match: HeaderMatch, kind: str) -> dict[str, list[str]]:
    """Columns named by more than one header (the same header twice, or two aliases such as
    'Ngày tiếp nhận' and 'NgayTiepNhan'): canonical column -> the headers, the one read
    first. Shown in the summary and the report, so a silent choice is never made."""
    out: dict[str, list[str]] = {}
    for column, position in match.columns.items():
        others = [
            h
            for i, h in enumerate(match.headers)
            if i != position and canonical_for(h, kind) == column
        ]
        if others:
            out[column] = [match.headers[position], *others]
    return out


def _display_again(
    path: str, kind: str, sheet: str | None, hints: dict[str, Any], positions: Sequence[int]
) -> pd.DataFrame:
    """Raw cells of some body positions, read again from the file (rows that turn out to
    conflict are known only when every file has been read)."""
    wanted = np.sort(np.asarray(positions, dtype=int))
    source = _TabularFile(path, kind, sheet, hints)
    pieces = []
    for position, body, _ in source.bodies():
        inside = wanted[(wanted >= position) & (wanted < position + len(body))]
        if len(inside):
            pieces.append(source.display(body.iloc[inside - position]).set_index(inside))
        if len(wanted) and position + len(body) > wanted[-1]:
            break
    frame = pd.concat(pieces) if pieces else pd.DataFrame(columns=source.display_names)
    return frame.reindex(list(positions))
