"""``cchc ingest``: real exports in, canonical tables out, and an account of every row.

For each file: read it (:mod:`sources`), find the header (alias table, or the Biểu 06 reader),
drop personal-data columns (:mod:`privacy`), check every row (:mod:`validation`). Only when every
file is usable is anything written, so a bad file never leaves a half-ingested folder:

    DIR/dossiers/district_code=<code>/part-0.parquet   (kind dossiers; then the cube is rebuilt)
    DIR/period_reports.parquet                         (kind period-report)
    DIR/survey.parquet                                 (kind survey)
    DIR/rejects/<kind>.csv                             one row per rejected input row
    DIR/ingest_report.json                             rows read / accepted / rejected

Appending is keyed: dossiers on dossier_id, survey rows on respondent_id, period reports on
unit × field × period. A row whose key is already present with identical content is a
duplicate (accepted, counted, not added again: re-ingesting a file adds nothing); with
different content it is rejected. Always ``rows_read == rows_accepted + rows_rejected``.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd

from . import store
from .bieu06 import read_bieu06
from .headers import (
    DOSSIER_REQUIRED,
    KINDS,
    SURVEY_REQUIRED,
    closest_alias,
    header_score,
    match_headers,
)
from .parsing import clean_text, find_period
from .periods import Period
from .privacy import mask_series, neutralize_formula
from .schema import COUNT_COLUMNS, DOSSIER_COLUMNS, SURVEY_ITEM_COLUMNS
from .sources import SourceError, SourceGrid, read_source
from .validation import (
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


class IngestError(ValueError):
    """A file cannot be used at all: nothing is written, the CLI exits with code 2."""


@dataclass
class FileResult:
    """One file after reading and validation (nothing written yet)."""

    name: str
    source: dict[str, Any]
    accepted: pd.DataFrame  # canonical rows with _pos (row position in body) and _row
    problems: pd.DataFrame  # position, column, reason_code, reason
    display: pd.DataFrame  # raw cells for rejects: personal columns dropped, source headers
    free_text: list[str]  # display columns to mask
    row_numbers: np.ndarray  # spreadsheet row of each body position
    info: dict[str, Any] = field(default_factory=dict)
    masked_count: int = 0

    @property
    def rows_read(self) -> int:
        return len(self.row_numbers)


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
        if name in REJECT_COLUMNS:
            name = f"{name} (source)"
        seen[name] += 1
        out.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return out


def _locate_header(grid: SourceGrid, kind: str) -> int:
    best, best_score = 0, 0
    for row in range(min(HEADER_SEARCH_ROWS, len(grid.cells))):
        score = header_score(list(grid.cells.iloc[row]), kind)
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


def _read_tabular(path: str, kind: str, options: IngestOptions) -> FileResult:
    """Dossier and survey exports: one header row (possibly under title rows)."""
    grid = read_source(path, sheet=options.sheet)
    header_row = _locate_header(grid, kind)
    headers = [clean_text(h) or "" for h in grid.cells.iloc[header_row]]
    match = match_headers(headers, kind)
    required = DOSSIER_REQUIRED if kind == "dossiers" else SURVEY_REQUIRED
    missing = [(c, c) for c in required if c not in match.columns]
    if kind == "dossiers" and not ({"unit_code", "unit_name"} & set(match.columns)):
        missing.append(("unit_code", "the unit (unit_code or unit_name)"))
    if missing:
        used = set(match.columns.values())
        free = [h for i, h in enumerate(match.headers) if i not in used]
        raise _missing_columns_error(path, missing, match.headers, free, kind)

    body = grid.cells.iloc[header_row + 1 :].reset_index(drop=True)
    row_numbers = grid.row_numbers[header_row + 1 :]
    keep = ~_blank_rows(body)
    body, row_numbers = body[keep].reset_index(drop=True), row_numbers[keep]
    raw = pd.DataFrame({c: body.iloc[:, p] for c, p in match.columns.items()})
    headers_of = {c: match.header_of(c) for c in match.columns}
    if kind == "dossiers":
        accepted, problems = validate_dossiers(raw, headers_of, options.province, options.today)
    else:
        accepted, problems = validate_survey(raw, headers_of, options.province, options.today)
    masked = 0
    for column in FREE_TEXT_COLUMNS & set(accepted.columns):
        accepted[column], n = mask_series(accepted[column])
        masked += n
    display, free_text = _display_frame(body, match.headers, match.personal, match.columns)
    info = {
        "header_row": int(grid.row_numbers[header_row]),
        "columns": headers_of,
        "ignored_columns": match.ignored,
        "personal_data_columns_dropped": match.personal,
        "blank_rows_skipped": int((~keep).sum()),
    }
    return _result(path, grid, accepted, problems, display, free_text, row_numbers, info, masked)


def _display_frame(
    body: pd.DataFrame, headers: list[str], personal: list[str], columns: dict[str, int]
) -> tuple[pd.DataFrame, list[str]]:
    names = _unique_headers(headers)
    personal_set = set(personal)
    kept = [p for p in range(body.shape[1]) if p >= len(headers) or headers[p] not in personal_set]
    kept = [p for p in kept if p < len(names)]
    display = body.iloc[:, kept].copy()
    display.columns = [names[p] for p in kept]
    structured = {p for c, p in columns.items() if c not in FREE_TEXT_COLUMNS}
    free_text = [names[p] for p in kept if p not in structured]
    return display, free_text


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
    rejected = problems.positions()
    positions = np.array([p for p in range(len(row_numbers)) if p not in rejected], dtype=int)
    accepted = accepted.reset_index(drop=True)
    accepted["_pos"] = positions
    accepted["_row"] = np.asarray(row_numbers, dtype=int)[positions]
    return FileResult(
        name=path,
        source=grid.describe(),
        accepted=accepted,
        problems=problems.frame(),
        display=display.reset_index(drop=True),
        free_text=free_text,
        row_numbers=np.asarray(row_numbers, dtype=int),
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
    from .parsing import ParseError, parse_count

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
    results = []
    for path in paths:
        name = str(path)
        try:
            if kind == "period-report":
                results.append(_read_period_report(name, options))
            else:
                results.append(_read_tabular(name, kind, options))
        except SourceError as exc:
            raise IngestError(str(exc)) from None
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    outcome = _store(results, kind, out)
    report = _report(results, options, outcome, time.perf_counter() - started)
    _write_rejects(results, outcome["conflicts"], kind, out)
    (out / REPORT_FILE).write_text(
        json.dumps(report, ensure_ascii=False, indent=2, default=str), encoding="utf-8"
    )
    return report


def _check_province(code: str) -> str:
    from . import units

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


def _read_existing(kind: str, out: Path, batch: pd.DataFrame) -> pd.DataFrame:
    """What the folder already holds that the batch may collide with or be merged into."""
    if kind == "dossiers":
        touched = set(batch["district_code"].dropna().astype(str))
        ids = set(batch["dossier_id"].astype(str))
        for code in store.dossier_partitions(out):
            if code in touched:
                continue
            part = store.read_dossiers(out, [code], columns=["dossier_id"])
            if part["dossier_id"].astype(str).isin(ids).any():
                touched.add(code)  # same id under another district: must be compared
        return store.read_dossiers(out, sorted(touched))
    name = store.PERIOD_REPORTS_FILE if kind == "period-report" else store.SURVEY_FILE
    existing = store.read_table(out, name)
    if existing is None:
        return (
            coerce_period_reports(pd.DataFrame())
            if kind == "period-report"
            else (coerce_survey(pd.DataFrame()))
        )
    return coerce_period_reports(existing) if kind == "period-report" else coerce_survey(existing)


def _store(results: list[FileResult], kind: str, out: Path) -> dict[str, Any]:
    """De-duplicate the accepted rows against each other and the folder, then write."""
    frames = []
    for index, result in enumerate(results):
        frame = result.accepted.copy()
        frame["_file"] = index
        frames.append(frame)
    batch = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    key, content = KEYS[kind], CONTENT[kind]
    columns = (
        list(DOSSIER_COLUMNS)
        if kind == "dossiers"
        else list(PERIOD_REPORT_COLUMNS if kind == "period-report" else SURVEY_COLUMNS)
    )
    existing = _read_existing(kind, out, batch) if len(batch) else None
    status = np.full(len(batch), "added", dtype=object)
    conflicts: dict[tuple[int, int], tuple[str, str]] = {}  # (file, pos) -> (column, message)
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
            label = "dossier id" if kind == "dossiers" else "key"
            values = [batch[k].iat[i] for k in key]
            shown = " / ".join(str(x) for x in values if not pd.isna(x))
            conflicts[(int(batch["_file"].iat[i]), int(batch["_pos"].iat[i]))] = (
                ", ".join(differs[:5]),
                f"duplicate {label} {shown} with conflicting content (differs from {origin} "
                f"in: {', '.join(differs[:5]) or 'content'})",
            )
    added = batch[status == "added"][columns] if len(batch) else batch
    per_file_status = {}
    for index in range(len(results)):
        mask = (batch["_file"] == index).to_numpy() if len(batch) else np.zeros(0, bool)
        per_file_status[index] = Counter(status[mask])
    outputs: dict[str, Any] = {}
    if kind == "dossiers":
        if len(added):
            combined = pd.concat([existing, added], ignore_index=True)
            store.write_dossiers(combined, out)
            outputs["data"] = str(out / store.DOSSIERS_DIR)
        if store.has_dossiers(out):
            from .prepare import ensure_cube, prepare_cube

            if len(added):
                prepare_cube(out)
                _update_dataset_info(out)
            else:
                ensure_cube(out)  # nothing new: rebuild only a missing or stale cube
            outputs["cube"] = str(out / store.CUBE_FILE)
    elif len(added):
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


def _plain_scores(survey: pd.DataFrame) -> pd.DataFrame:
    """Survey scores as numpy numbers (int64, or float64 with NaN for unanswered items), the
    types the statistics and reports expect (as in the demo's survey.parquet)."""
    out = survey.copy()
    for column in SURVEY_ITEM_COLUMNS:
        values = out[column]
        out[column] = values.astype("float64") if values.isna().any() else values.astype("int64")
    return out


def _update_dataset_info(out: Path) -> None:
    """dataset.json: where the folder's data came from and the dates it spans."""
    info = store.read_dataset_info(out)
    frame = store.read_dossiers(out, columns=["received_at", "resolved_at"])
    if frame.empty:
        return
    first, last = frame["received_at"].min(), frame[["received_at", "resolved_at"]].max().max()
    info.setdefault("source", "cchc ingest (one-stop system exports)")
    info.setdefault("era", "2024")
    if info.get("source", "").startswith("cchc ingest"):
        info["date_range"] = {"start": first.date().isoformat(), "end": last.date().isoformat()}
        info["export_date"] = last.date().isoformat()
        info["dossier_rows"] = int(len(frame))
    info["last_ingest"] = datetime.now().isoformat(timespec="seconds")
    store.write_dataset_info(out, info)


def _report(
    results: list[FileResult], options: IngestOptions, outcome: dict, seconds: float
) -> dict[str, Any]:
    files = []
    totals: Counter = Counter()
    reasons: Counter = Counter()
    for index, result in enumerate(results):
        file_reasons = Counter(result.problems["reason_code"])
        conflict_count = sum(1 for (f, _) in outcome["conflicts"] if f == index)
        if conflict_count:
            file_reasons["duplicate_conflict"] += conflict_count
        status = outcome["per_file"][index]
        rejected = len(result.problems) + conflict_count
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
    conflicts: dict[tuple[int, int], tuple[str, str]],
    kind: str,
    out: Path,
) -> Path:
    """rejects/<kind>.csv: rows of this run's files replace earlier rejects of the same files."""
    frames = []
    for index, result in enumerate(results):
        problems = result.problems.copy()
        extra = [
            (pos, column, "duplicate_conflict", message)
            for (f, pos), (column, message) in conflicts.items()
            if f == index
        ]
        if extra:
            problems = pd.concat(
                [problems, pd.DataFrame(extra, columns=list(problems.columns))], ignore_index=True
            )
        if problems.empty:
            continue
        problems = problems.sort_values("position", kind="stable")
        positions = problems["position"].to_numpy(dtype=int)
        values = result.display.iloc[positions].reset_index(drop=True).astype(object)
        for column in result.free_text:
            if column in values:
                values[column], _ = mask_series(values[column])
        values.columns = [neutralize_formula(c) for c in values.columns]  # headers too
        frame = pd.DataFrame(
            {
                "file": result.name,
                "row": result.row_numbers[positions],
                "column": problems["column"].to_numpy(),
                "reason_code": problems["reason_code"].to_numpy(),
                "reason": problems["reason"].to_numpy(),
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
