"""``cchc ingest``: real exports in, canonical tables out, and an account of every row.

For each file: read it (:mod:`sources`), find the header (alias table, or the Biểu 06 reader),
drop personal-data columns (:mod:`privacy`), check every row (:mod:`validation`). Only when every
file is usable is anything written, so a bad file never leaves a half-ingested folder:

    DIR/dossiers/district_code=<code>/part-<n>.parquet (kind dossiers)
    DIR/period_reports.parquet                         (kind period-report)
    DIR/survey.parquet                                 (kind survey)
    DIR/rejects/<kind>.csv                             one row per rejected input row
    DIR/ingest_report.json                             rows read / accepted / rejected

Appending is keyed: dossiers on dossier_id, survey rows on respondent_id, period reports on
unit × field × period. A row whose key is already present with identical content is a
duplicate (accepted, counted, not added again: re-ingesting a file adds nothing); with
different content it is rejected. Always ``rows_read == rows_accepted + rows_rejected``.

Dossier and survey exports are read as a stream, :data:`CHUNK_ROWS` rows at a time. Accepted
dossiers wait in a spool folder inside DIR (:mod:`spool`) until every file has been read, so
memory does not grow with the export; a run killed before it writes leaves DIR as it was (one
killed while writing has added some districts' files: a rerun adds the rest), and the next run
removes the dead run's spool. Rejected rows are kept in memory for the rejects
file (a file that is mostly bad rows costs memory in proportion).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd

from cchc_analysis import store
from cchc_analysis.core.errors import IngestError
from cchc_analysis.core.periods import Period
from cchc_analysis.core.schema import COUNT_COLUMNS, DOSSIER_COLUMNS, SURVEY_ITEM_COLUMNS
from cchc_analysis.ingest.bieu06 import read_bieu06
from cchc_analysis.ingest.headers import (
    DOSSIER_REQUIRED,
    KINDS,
    SURVEY_REQUIRED,
    closest_alias,
    header_score,
    match_headers,
)
from cchc_analysis.ingest.parsing import clean_text, find_period
from cchc_analysis.ingest.privacy import mask_series, neutralize_formula
from cchc_analysis.ingest.sources import (
    ReadAgain,
    SourceError,
    SourceGrid,
    read_source,
    stream_source,
)
from cchc_analysis.ingest.spool import DossierSpool
from cchc_analysis.ingest.validation import (
    PERIOD_REPORT_COLUMNS,
    PERIOD_REPORT_REQUIRED,
    REASONS,
    SURVEY_COLUMNS,
    Problems,
    coerce_period_reports,
    coerce_survey,
    derivable_counts,
    validate_dossiers,
    validate_period_reports,
    validate_survey,
)

REJECTS_DIR: Final = "rejects"
REPORT_FILE: Final = "ingest_report.json"
HEADER_SEARCH_ROWS: Final = 30
# Rows validated at a time. Validation holds about 6 KB per row of a chunk (raw cells, parsed
# columns, messages), so 50,000 rows keep a run near 0.7 GB whatever the file's size.
CHUNK_ROWS: Final = 50_000
EXIT_OK, EXIT_REJECTS, EXIT_FATAL = 0, 1, 2

# Columns whose text is typed freely and may hold an ID or phone number: masked when kept.
FREE_TEXT_COLUMNS: Final = frozenset({"procedure_name", "unit_name", "field"})
KEYS: Final[dict[str, tuple[str, ...]]] = {
    "dossiers": ("dossier_id",),
    "period-report": ("unit_code", "era", "field", "period_start", "period_end"),
    "survey": ("respondent_id",),
}
CONTENT: Final[dict[str, tuple[str, ...]]] = {
    "dossiers": tuple(DOSSIER_COLUMNS),
    "period-report": tuple(COUNT_COLUMNS),
    "survey": tuple(SURVEY_COLUMNS),
}
REJECT_COLUMNS: Final = ("file", "row", "column", "reason_code", "reason")
# Period-report labels used in messages when a sheet lacks a count column.
_COUNT_HINTS: Final = {
    "received_new_count": "Số hồ sơ nhận giải quyết / Trong kỳ (or Trực tuyến + Trực tiếp)",
    "carried_over_count": "Số hồ sơ nhận giải quyết / Từ kỳ trước chuyển sang",
    "resolved_early_count": "Số hồ sơ đã giải quyết / Trước hạn",
    "resolved_on_time_count": "Số hồ sơ đã giải quyết / Đúng hạn",
    "resolved_late_count": "Số hồ sơ đã giải quyết / Quá hạn",
    "pending_in_time_count": "Số hồ sơ đang giải quyết / Trong hạn",
    "pending_late_count": "Số hồ sơ đang giải quyết / Quá hạn",
}


@dataclass
class FileResult:
    """One file after reading and validation.

    Accepted rows are in ``accepted`` (period reports, survey) or spooled to disk (dossiers,
    :mod:`spool`). Rejected rows are kept as the rejects file shows them: ``rejects`` has the
    body position, spreadsheet row, column, reason code and reason, then the raw cells with
    personal columns dropped. ``display_rows`` gives the raw cells of other positions (rows
    found to conflict once every file is read).
    """

    name: str
    source: dict[str, Any]
    rows_read: int
    rejects: pd.DataFrame
    free_text: list[str]  # display columns to mask
    display_rows: Callable[[Sequence[int]], pd.DataFrame]
    accepted: pd.DataFrame | None = None  # canonical rows with _pos and _row
    info: dict[str, Any] = field(default_factory=dict)
    masked_count: int = 0


# --- reading one file --------------------------------------------------------------------------


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


def _unique_headers(headers: Sequence[str]) -> list[str]:
    seen: Counter = Counter()
    out = []
    for i, header in enumerate(headers):
        name = header or f"column {i + 1}"
        if name in REJECT_COLUMNS or name == "position":
            name = f"{name} (source)"
        seen[name] += 1
        out.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return out


def _locate_header(cells: pd.DataFrame, kind: str) -> int:
    best, best_score = 0, 0
    for row in range(min(HEADER_SEARCH_ROWS, len(cells))):
        score = header_score(list(cells.iloc[row]), kind)
        if score > best_score:
            best, best_score = row, score
    return best


def _missing_columns_error(
    name: str, missing: list[tuple[str, str]], headers: list[str], free: list[str], kind: str
) -> IngestError:
    """One line: every missing column with the closest alias among the headers not used for
    another column (``free``), then all the headers found."""
    found = " | ".join(h for h in headers if h) or "(none)"
    parts = [f"{shown} ({closest_alias(column, free, kind)})" for column, shown in missing]
    return IngestError(f"{name}: no column for {'; '.join(parts)}; headers found: {found}")


class _TabularFile:
    """A dossier or survey export read as a stream: the header row (possibly under title rows)
    found in the first rows, then the body in chunks with blank rows skipped."""

    def __init__(self, path: str, kind: str, options: IngestOptions, hints: dict) -> None:
        self.path = path
        self.stream = stream_source(path, options.sheet, CHUNK_ROWS, **hints)
        self._chunks = self.stream.chunks()
        heads, numbers = [], []
        for cells, rows in self._chunks:
            heads.append(cells)
            numbers.append(rows)
            if sum(len(c) for c in heads) > HEADER_SEARCH_ROWS:
                break
        head = pd.concat(heads, ignore_index=True) if heads else pd.DataFrame()
        head.columns = range(head.shape[1])
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
            raise _missing_columns_error(path, missing, match.headers, free, kind)
        self.header_row_number = int(head_rows[header_row])
        self.headers_of = {c: match.header_of(c) for c in match.columns}
        names = _unique_headers(match.headers)
        personal = set(match.personal)
        self.display_positions = [p for p in range(len(names)) if match.headers[p] not in personal]
        self.display_names = [names[p] for p in self.display_positions]
        structured = {p for c, p in match.columns.items() if c not in FREE_TEXT_COLUMNS}
        self.free_text = [names[p] for p in self.display_positions if p not in structured]
        self._first = (head.iloc[header_row + 1 :], head_rows[header_row + 1 :])
        self.blank_count = 0

    def bodies(self) -> Iterator[tuple[int, pd.DataFrame, np.ndarray]]:
        """(position of the chunk's first row, cells, spreadsheet rows), blank rows skipped;
        positions count the body's non-blank rows from 0, as rejects and duplicates name them."""
        position = 0
        width = len(self.match.headers)
        for cells, rows in itertools.chain([self._first], self._chunks):
            if cells.shape[1] < width:
                cells = cells.reindex(columns=range(width))
            keep = ~_blank_rows(cells)
            self.blank_count += int((~keep).sum())
            if not keep.all():
                cells, rows = cells[keep], rows[keep]
            if len(cells) == 0:
                continue
            yield position, cells.reset_index(drop=True), rows
            position += len(cells)

    def display(self, cells: pd.DataFrame) -> pd.DataFrame:
        """Raw cells as the rejects file shows them: source headers, personal columns dropped."""
        out = cells.iloc[:, self.display_positions].reset_index(drop=True)
        out.columns = self.display_names
        return out


def _read_tabular(
    path: str, kind: str, options: IngestOptions, index: int, sink: _Sink
) -> FileResult:
    """Dossier and survey exports, chunk by chunk; accepted rows go to ``sink``."""
    hints: dict = {}
    while True:
        try:
            return _read_tabular_once(path, kind, options, index, sink, hints)
        except ReadAgain as again:  # a wrong first guess about the file: start over
            sink.discard(index)
            hints = again.hints


def _read_tabular_once(
    path: str, kind: str, options: IngestOptions, index: int, sink: _Sink, hints: dict
) -> FileResult:
    source = _TabularFile(path, kind, options, hints)
    validate = validate_dossiers if kind == "dossiers" else validate_survey
    rejects, masked, rows_read = [], 0, 0
    for position, body, row_numbers in source.bodies():
        raw = pd.DataFrame({c: body.iloc[:, p] for c, p in source.match.columns.items()})
        accepted, problems = validate(raw, source.headers_of, options.province, options.today)
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
        kept = np.setdiff1d(np.arange(len(body)), rejected)
        accepted = accepted.reset_index(drop=True)
        accepted["_pos"] = position + kept
        accepted["_row"] = np.asarray(row_numbers, dtype=int)[kept]
        sink.add(index, accepted)
        rows_read += len(body)
    info = {
        "header_row": source.header_row_number,
        "columns": source.headers_of,
        "ignored_columns": source.match.ignored,
        "personal_data_columns_dropped": source.match.personal,
        "blank_rows_skipped": source.blank_count,
    }
    return FileResult(
        name=path,
        source=source.stream.describe(),
        rows_read=rows_read,
        rejects=_rejects_frame(rejects),
        free_text=source.free_text,
        display_rows=lambda positions: _display_again(path, kind, options, hints, positions),
        info=info,
        masked_count=masked,
    )


def _display_again(
    path: str, kind: str, options: IngestOptions, hints: dict, positions: Sequence[int]
) -> pd.DataFrame:
    """Raw cells of some body positions, read again from the file (rows that turn out to
    conflict are known only when every file has been read)."""
    wanted = np.sort(np.asarray(positions, dtype=int))
    source = _TabularFile(path, kind, options, hints)
    pieces = []
    for position, body, _ in source.bodies():
        inside = wanted[(wanted >= position) & (wanted < position + len(body))]
        if len(inside):
            pieces.append(source.display(body.iloc[inside - position]).set_index(inside))
        if len(wanted) and position + len(body) > wanted[-1]:
            break
    frame = pd.concat(pieces) if pieces else pd.DataFrame(columns=source.display_names)
    return frame.reindex(list(positions))


def _rejects_frame(pieces: list[pd.DataFrame]) -> pd.DataFrame:
    if pieces:
        return pd.concat(pieces, ignore_index=True)
    return pd.DataFrame(columns=["position", "row", "column", "reason_code", "reason"])


def _result(
    path: str,
    grid: SourceGrid,
    accepted: pd.DataFrame,
    problems: Problems,
    display: pd.DataFrame,
    free_text: list[str],
    row_numbers: np.ndarray,
    info: dict[str, Any],
    masked: int,
) -> FileResult:
    """A file read whole (a Biểu 06 sheet) as a :class:`FileResult`."""
    found = problems.frame()
    rejected = found["position"].to_numpy(dtype=int)
    row_numbers = np.asarray(row_numbers, dtype=int)
    display = display.reset_index(drop=True)
    display.columns = _unique_headers([str(c) for c in display.columns])
    found.insert(1, "row", row_numbers[rejected])
    rejects = pd.concat(
        [found.reset_index(drop=True), display.iloc[rejected].reset_index(drop=True)], axis=1
    )
    positions = np.setdiff1d(np.arange(len(row_numbers)), rejected)
    accepted = accepted.reset_index(drop=True)
    accepted["_pos"] = positions
    accepted["_row"] = row_numbers[positions]
    return FileResult(
        name=path,
        source=grid.describe(),
        rows_read=len(row_numbers),
        rejects=rejects,
        free_text=[c for c in display.columns if c in set(free_text)],
        display_rows=lambda wanted: display.iloc[list(wanted)].set_axis(list(wanted)),
        accepted=accepted,
        info=info,
        masked_count=masked,
    )


def _read_period_report(path: str, options: IngestOptions) -> FileResult:
    """A Biểu 06 sheet (or a flat table of the same counts)."""
    grid = read_source(path, sheet=options.sheet, with_merged=True)
    table = read_bieu06(grid)
    found = list(table.columns.values()) + table.ignored
    if options.unit is None and not ({"unit_code", "unit_name"} & set(table.columns)):
        raise IngestError(
            f"{path}: no unit column (expected 'Tên đơn vị', 'Đơn vị' or 'Mã đơn vị'); "
            f"headers found: {' | '.join(found) or '(none)'}; "
            "for a sheet of one unit, pass --unit CODE"
        )
    have = derivable_counts(list(table.columns))
    for column in PERIOD_REPORT_REQUIRED:
        if column not in have:
            raise IngestError(
                f"{path}: no column for {column} (expected {_COUNT_HINTS[column]!r}); "
                f"headers found: {' | '.join(found) or '(none)'}"
            )
    title_period = find_period(table.title)
    has_period_columns = {"period_start", "period_end"} <= set(table.columns) or (
        "period_label" in table.columns
    )
    if options.period is None and not has_period_columns and title_period is None:
        raise IngestError(
            f"{path}: no reporting period: pass --period (e.g. 2023-Q3) or add 'Từ ngày' and "
            "'Đến ngày' columns"
        )
    raw = table.rows.drop(columns="_row")
    accepted, problems = validate_period_reports(
        raw,
        table.columns,
        options.period,
        title_period,
        options.province,
        options.unit,
    )
    masked = 0
    if "field" in accepted:
        accepted["field"], masked = mask_series(accepted["field"])
    display = raw.rename(columns=table.columns)
    free_text = [table.columns[c] for c in ("unit_name", "field") if c in table.columns]
    period = options.period or (None if has_period_columns else title_period)
    info = {
        "header_rows": list(table.header_rows),
        "columns": table.columns,
        "ignored_columns": table.ignored,
        "personal_data_columns_dropped": table.personal,
        "rows_skipped": table.skipped_rows,
        "period": (
            {"start": period.start.isoformat(), "end": period.end.isoformat()}
            if period is not None
            else "from the period columns"
        ),
        "totals_check": _totals_check(table, problems),
    }
    row_numbers = table.rows["_row"].to_numpy(dtype=int)
    return _result(path, grid, accepted, problems, display, free_text, row_numbers, info, masked)


def _totals_check(table, problems: Problems) -> list[dict[str, Any]]:
    """Each totals row against the sum of the rows it covers (rows that parse)."""
    from cchc_analysis.ingest.parsing import ParseError, parse_count

    checks = []
    for row_number, raw_counts, covered in table.totals:
        differences = {}
        for column, raw in raw_counts.items():
            try:
                sheet_total = parse_count(raw)
            except ParseError:
                differences[column] = {"sheet": clean_text(raw), "rows": None}
                continue
            summed = 0
            for position in covered:
                with contextlib.suppress(ParseError):
                    summed += parse_count(table.rows[column].iat[position]) or 0
            if (sheet_total or 0) != summed:
                differences[column] = {"sheet": sheet_total, "rows": summed}
        checks.append(
            {
                "row": row_number,
                "rows_covered": len(covered),
                "status": "mismatch" if differences else "ok",
                **({"differences": differences} if differences else {}),
            }
        )
    return checks


# --- the whole run -----------------------------------------------------------------------------


@dataclass
class IngestOptions:
    """What the steward typed on the command line."""

    kind: str
    out_dir: Path
    period: Period | None = None
    province: str | None = None
    sheet: str | None = None
    unit: str | None = None
    today: date | None = None


def ingest(
    paths: Sequence[str | os.PathLike],
    kind: str,
    out_dir: str | os.PathLike,
    *,
    period: Period | None = None,
    province: str | None = None,
    sheet: str | None = None,
    unit: str | None = None,
    today: date | None = None,
) -> dict[str, Any]:
    """Ingest files of one kind into ``out_dir``; returns the report (also written as JSON).

    The folder's derived data (the cube, dataset.json's date range) is not touched: after
    dossiers, call ``counting.prepare.prepare_folder(out_dir, has_new_dossiers=report["rows_added"]
    > 0)`` as ``cchc ingest`` does.

    Raises :class:`IngestError` (nothing written) when a file cannot be used at all.
    """
    if kind not in KINDS:
        raise IngestError(f"unknown kind {kind!r}; use one of {', '.join(KINDS)}")
    if not paths:
        raise IngestError("no input files given")
    if period is not None and kind != "period-report":
        raise IngestError("--period applies to --kind period-report only")
    if unit is not None and kind != "period-report":
        raise IngestError("--unit applies to --kind period-report only")
    if province is not None:
        province = _check_province(province)
    started = time.perf_counter()
    options = IngestOptions(kind, Path(out_dir), period, province, sheet, unit, today)
    out = Path(out_dir)
    created = not out.exists()
    spool = None
    try:
        if kind == "dossiers":
            spool = DossierSpool(out, _expected_rows(paths))
            sink: _Sink = spool
        else:
            sink = _MemorySink()
        results = []
        for index, path in enumerate(paths):
            name = str(path)
            try:
                if kind == "period-report":
                    results.append(_read_period_report(name, options))
                    continue
                result = _read_tabular(name, kind, options, index, sink)
                if isinstance(sink, _MemorySink):
                    result.accepted = sink.frame_of(index)
                results.append(result)
            except SourceError as exc:
                raise IngestError(str(exc)) from None
        out.mkdir(parents=True, exist_ok=True)
        if spool is not None:
            outcome = _store_dossiers(results, out, spool)
        else:
            outcome = _store(results, kind, out)
    except BaseException:
        if spool is not None:
            spool.close()
            spool = None
        if created:
            with contextlib.suppress(OSError):
                out.rmdir()  # only if nothing else was put there
        raise
    finally:
        if spool is not None:
            spool.close()
    report = _report(results, options, outcome, time.perf_counter() - started)
    _write_rejects(results, outcome["conflicts"], kind, out)
    (out / REPORT_FILE).write_text(
        json.dumps(report, ensure_ascii=False, indent=2, default=str), encoding="utf-8"
    )
    return report


def _expected_rows(paths: Sequence[str | os.PathLike]) -> int:
    """A generous guess of the rows in the files (sizes the spool's hash buckets)."""
    size = 0
    for path in paths:
        with contextlib.suppress(OSError):
            size += os.path.getsize(path)
    return size // 100


class _MemorySink:
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


_Sink = DossierSpool | _MemorySink


def _check_province(code: str) -> str:
    from cchc_analysis import units

    try:
        unit = units.get_unit(code, era=units.ERA_PRE_2025, level="province")
    except (KeyError, ValueError):
        try:
            unit = units.get_unit(code, era=units.ERA_2025, level="province")
        except (KeyError, ValueError):
            raise IngestError(f"--province {code!r} is not a province code") from None
    return unit.code


def _content_hash(frame: pd.DataFrame, columns: Sequence[str]) -> np.ndarray:
    if frame.empty:
        return np.zeros(0, dtype=np.uint64)
    return pd.util.hash_pandas_object(frame[list(columns)], index=False).to_numpy()


def _key_strings(frame: pd.DataFrame, key: Sequence[str]) -> pd.Series:
    parts = [frame[k].astype("string").fillna("") for k in key]
    joined = parts[0]
    for part in parts[1:]:
        joined = joined + "\x1f" + part
    return joined.reset_index(drop=True)


def _classify(
    batch: pd.DataFrame, existing: pd.DataFrame | None, key: Sequence[str], content: Sequence[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Per batch row: "added", "duplicate" (same key, same content) or "conflict", and the row
    it repeats: a batch position (>= 0) or ``-(existing position + 1)``."""
    n = len(batch)
    status = np.full(n, "added", dtype=object)
    reference = np.full(n, n, dtype=np.int64)
    batch_keys = _key_strings(batch, key)
    batch_hash = _content_hash(batch, content)
    in_existing = np.zeros(n, dtype=bool)
    if existing is not None and len(existing):
        existing_keys = _key_strings(existing, key)
        existing_hash = _content_hash(existing, content)
        unique = ~existing_keys.duplicated().to_numpy()
        index = pd.Index(existing_keys[unique])
        where = index.get_indexer(batch_keys)
        positions = np.flatnonzero(unique)
        in_existing = where >= 0
        found = positions[where[in_existing]]
        same = existing_hash[found] == batch_hash[in_existing]
        status[np.flatnonzero(in_existing)[same]] = "duplicate"
        status[np.flatnonzero(in_existing)[~same]] = "conflict"
        reference[in_existing] = -(found + 1)
    rest = np.flatnonzero(~in_existing)
    codes, _ = pd.factorize(batch_keys.iloc[rest])
    _, first_of_code = np.unique(codes, return_index=True)
    first = rest[first_of_code[codes]]
    later = first != rest
    same = batch_hash[first] == batch_hash[rest]
    status[rest[later & same]] = "duplicate"
    status[rest[later & ~same]] = "conflict"
    reference[rest[later]] = first[later]
    return status, reference


def _differing(a: pd.Series, b: pd.Series, columns: Sequence[str]) -> list[str]:
    out = []
    for column in columns:
        x, y = a.get(column), b.get(column)
        if pd.isna(x) and pd.isna(y):
            continue
        if pd.isna(x) or pd.isna(y) or x != y:
            out.append(column)
    return out


def _read_existing(kind: str, out: Path) -> pd.DataFrame:
    """The period reports or survey rows the folder already holds."""
    name = store.PERIOD_REPORTS_FILE if kind == "period-report" else store.SURVEY_FILE
    coerce = coerce_period_reports if kind == "period-report" else coerce_survey
    existing = store.read_table(out, name)
    return coerce(pd.DataFrame() if existing is None else existing)


def _conflict_message(kind: str, shown: str, differs: list[str], origin: str) -> str:
    label = "dossier id" if kind == "dossiers" else "key"
    return (
        f"duplicate {label} {shown} with conflicting content (differs from {origin} "
        f"in: {', '.join(differs[:5]) or 'content'})"
    )


def _store(results: list[FileResult], kind: str, out: Path) -> dict[str, Any]:
    """Period reports and survey rows: de-duplicate the accepted rows against each other and
    the folder (in memory: these tables are small), then write."""
    frames = []
    for index, result in enumerate(results):
        if result.accepted is None:
            continue
        frame = result.accepted.copy()
        frame["_file"] = index
        frames.append(frame)
    batch = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    key, content = KEYS[kind], CONTENT[kind]
    columns = list(PERIOD_REPORT_COLUMNS if kind == "period-report" else SURVEY_COLUMNS)
    existing = _read_existing(kind, out) if len(batch) else None
    status = np.full(len(batch), "added", dtype=object)
    conflicts: dict[tuple[int, int], tuple[int, str, str]] = {}  # (file, pos) -> row, col, why
    if len(batch):
        status, reference = _classify(batch, existing, key, content)
        for i in np.flatnonzero(status == "conflict"):
            ref = int(reference[i])
            if ref < 0:
                other = existing.iloc[-ref - 1]
                origin = f"the row already in {out}"
            else:
                other = batch.iloc[ref]
                origin = f"{results[int(other['_file'])].name} row {int(other['_row'])}"
            differs = _differing(batch.iloc[i], other, content)
            values = [batch[k].iat[i] for k in key]
            shown = " / ".join(str(x) for x in values if not pd.isna(x))
            conflicts[(int(batch["_file"].iat[i]), int(batch["_pos"].iat[i]))] = (
                int(batch["_row"].iat[i]),
                ", ".join(differs[:5]),
                _conflict_message(kind, shown, differs, origin),
            )
    added = batch[status == "added"][columns] if len(batch) else batch
    per_file_status = {}
    for index in range(len(results)):
        mask = (batch["_file"] == index).to_numpy() if len(batch) else np.zeros(0, bool)
        per_file_status[index] = Counter(status[mask])
    outputs: dict[str, Any] = {}
    if len(added):
        name = store.PERIOD_REPORTS_FILE if kind == "period-report" else store.SURVEY_FILE
        combined = pd.concat([existing, added], ignore_index=True)
        combined = combined.sort_values(list(key), na_position="first", kind="stable")
        if kind == "survey":
            combined = _plain_scores(combined)
        store.write_table(combined.reset_index(drop=True), out, name)
        outputs["data"] = str(out / name)
    return {
        "per_file": per_file_status,
        "conflicts": conflicts,
        "outputs": outputs,
    }


def _store_dossiers(results: list[FileResult], out: Path, spool: DossierSpool) -> dict[str, Any]:
    """Dossiers: settle the spooled rows against each other and the folder, and write the
    district partitions that gain rows."""
    spool.classify()
    conflicts: dict[tuple[int, int], tuple[int, str, str]] = {}
    if spool.conflicts:
        frame, lookup = spool.conflict_rows()
        for seq, row in frame.iterrows():
            other, file_index = lookup(spool.conflicts[int(seq)])
            if file_index is None:
                origin = f"the row already in {out}"
            else:
                origin = f"{results[file_index].name} row {int(other['_row'])}"
            differs = _differing(row, other, CONTENT["dossiers"])
            conflicts[(int(row["_file"]), int(row["_pos"]))] = (
                int(row["_row"]),
                ", ".join(differs[:5]),
                _conflict_message("dossiers", str(row["dossier_id"]), differs, origin),
            )
    outputs: dict[str, Any] = {}
    added = spool.added_count()
    if added:
        spool.write()
        outputs["data"] = str(out / store.DOSSIERS_DIR)
    if store.has_dossiers(out):
        # Derived from the dossiers, brought up to date by counting.prepare.prepare_folder
        # (``cchc ingest`` calls it after this): ingest itself never counts.
        outputs["cube"] = str(out / store.CUBE_FILE)
    return {
        "per_file": {index: spool.file_counts(index) for index in range(len(results))},
        "conflicts": conflicts,
        "outputs": outputs,
    }


def _plain_scores(survey: pd.DataFrame) -> pd.DataFrame:
    """Survey scores as numpy numbers (int64, or float64 with NaN for unanswered items), the
    types the statistics and reports expect (as in the demo's survey.parquet)."""
    out = survey.copy()
    for column in SURVEY_ITEM_COLUMNS:
        values = out[column]
        out[column] = values.astype("float64") if values.isna().any() else values.astype("int64")
    return out


def _report(
    results: list[FileResult], options: IngestOptions, outcome: dict, seconds: float
) -> dict[str, Any]:
    files = []
    totals: Counter = Counter()
    reasons: Counter = Counter()
    for index, result in enumerate(results):
        file_reasons = Counter(result.rejects["reason_code"])
        conflict_count = sum(1 for (f, _) in outcome["conflicts"] if f == index)
        if conflict_count:
            file_reasons["duplicate_conflict"] += conflict_count
        status = outcome["per_file"][index]
        rejected = len(result.rejects) + conflict_count
        accepted = result.rows_read - rejected
        entry = {
            "file": result.name,
            **result.source,
            "rows_read": result.rows_read,
            "rows_accepted": accepted,
            "rows_rejected": rejected,
            "rows_added": int(status.get("added", 0)),
            "rows_duplicate": int(status.get("duplicate", 0)),
            "rejected_by_reason": dict(sorted(file_reasons.items())),
            "masked_values_count": result.masked_count,
            **result.info,
        }
        files.append(entry)
        for k in ("rows_read", "rows_accepted", "rows_rejected", "rows_added", "rows_duplicate"):
            totals[k] += entry[k]
        reasons.update(file_reasons)
    rejected_total = totals["rows_rejected"]
    exit_code = EXIT_REJECTS if rejected_total else EXIT_OK
    return {
        "kind": options.kind,
        "out_dir": str(options.out_dir),
        "finished_at": datetime.now().isoformat(timespec="seconds"),
        "seconds": round(seconds, 3),
        "options": {
            "period": str(options.period) if options.period else None,
            "province": options.province,
            "sheet": options.sheet,
            "unit": options.unit,
        },
        **{k: int(totals[k]) for k in ("rows_read", "rows_accepted", "rows_rejected")},
        "rows_added": int(totals["rows_added"]),
        "rows_duplicate": int(totals["rows_duplicate"]),
        "rejected_by_reason": dict(sorted(reasons.items())),
        "reasons": {code: REASONS[code] for code in sorted(reasons) if code in REASONS},
        "files": files,
        "outputs": {
            **outcome["outputs"],
            "rejects": str(options.out_dir / REJECTS_DIR / f"{options.kind}.csv"),
            "report": str(options.out_dir / REPORT_FILE),
        },
        "exit_code": exit_code,
    }


def _write_rejects(
    results: list[FileResult],
    conflicts: dict[tuple[int, int], tuple[int, str, str]],
    kind: str,
    out: Path,
) -> Path:
    """rejects/<kind>.csv: rows of this run's files replace earlier rejects of the same files."""
    frames = []
    meta = ["position", "row", "column", "reason_code", "reason"]
    for index, result in enumerate(results):
        rejects = result.rejects
        extra = [
            (pos, row, column, "duplicate_conflict", message)
            for (f, pos), (row, column, message) in conflicts.items()
            if f == index
        ]
        if extra:
            head = pd.DataFrame(extra, columns=meta)
            values = result.display_rows(head["position"].tolist()).reset_index(drop=True)
            rejects = pd.concat([rejects, pd.concat([head, values], axis=1)], ignore_index=True)
        if rejects.empty:
            continue
        rejects = rejects.sort_values("position", kind="stable").reset_index(drop=True)
        values = rejects.drop(columns=meta).astype(object)
        for column in result.free_text:
            if column in values:
                values[column], _ = mask_series(values[column])
        values.columns = [neutralize_formula(c) for c in values.columns]  # headers too
        frame = pd.DataFrame(
            {
                "file": result.name,
                "row": rejects["row"].to_numpy(dtype=int),
                "column": rejects["column"].to_numpy(),
                "reason_code": rejects["reason_code"].to_numpy(),
                "reason": rejects["reason"].to_numpy(),
            }
        )
        frames.append(pd.concat([frame, values], axis=1))
    target = out / REJECTS_DIR / f"{kind}.csv"
    names = {r.name for r in results}
    previous = None
    if target.exists():
        previous = pd.read_csv(target, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        previous = previous[~previous["file"].isin(names)]
    if previous is not None and len(previous):
        frames.insert(0, previous)
    target.parent.mkdir(parents=True, exist_ok=True)
    if frames:
        rejects = pd.concat(frames, ignore_index=True)
        rejects = rejects.map(neutralize_formula)
    else:
        rejects = pd.DataFrame(columns=list(REJECT_COLUMNS))
    tmp = target.with_name(f".{target.name}.tmp")
    # CRLF rows (as Excel writes CSV): the writer then quotes any cell holding a CR or LF, so
    # a line break inside a cell can never start a new row.
    rejects.to_csv(tmp, index=False, encoding="utf-8-sig", lineterminator="\r\n")
    tmp.replace(target)
    return target


def summary_lines(report: dict[str, Any]) -> list[str]:
    """What the CLI prints: one line per file, totals, where the outputs are."""
    lines = []
    for entry in report["files"]:
        reasons = ", ".join(f"{k} {v}" for k, v in entry["rejected_by_reason"].items())
        line = (
            f"{entry['file']}: {entry['rows_read']:,} rows read, {entry['rows_accepted']:,} "
            f"accepted ({entry['rows_added']:,} new, {entry['rows_duplicate']:,} already present)"
            f", {entry['rows_rejected']:,} rejected" + (f" ({reasons})" if reasons else "")
        )
        lines.append(line)
        dropped = entry.get("personal_data_columns_dropped") or []
        if dropped:
            lines.append(f"  personal data dropped: {', '.join(dropped)}")
        for check in entry.get("totals_check", []):
            if check["status"] == "mismatch":
                diffs = "; ".join(
                    f"{column} sheet {d['sheet']} vs rows {d['rows']}"
                    for column, d in check["differences"].items()
                )
                lines.append(f"  warning: totals row {check['row']} differs from its rows: {diffs}")
    lines.append(
        f"total: {report['rows_read']:,} read = {report['rows_accepted']:,} accepted + "
        f"{report['rows_rejected']:,} rejected -> {report['out_dir']}"
    )
    if report["rows_rejected"]:
        lines.append(f"rejects: {report['outputs']['rejects']}")
    lines.append(f"report: {report['outputs']['report']}")
    return lines
