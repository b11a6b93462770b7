"""Period reports: a Biểu 06 sheet (or a flat table of the same counts) read whole, one row
per unit (or field), checked row by row, and its totals rows compared with the rows they sum.

The sheet must name its units (in a column, or the one unit of the sheet in its title block:
"Đơn vị báo cáo: …", "UBND …"; ``--unit`` overrides, and contradicting the title stops the
run), give every
count :data:`PERIOD_REPORT_REQUIRED` directly or through the form's identities, and tell its
period (``--period``, period columns, or a period in the title); otherwise the run stops with
one line saying what is missing. A totals row that differs from its rows is a warning in the
report (``totals_check``), not a rejection.
"""

from __future__ import annotations

import contextlib
from typing import Any, Final

import numpy as np
import pandas as pd

from cchc_analysis import units
from cchc_analysis.core.errors import IngestError, ParseError, SourceError
from cchc_analysis.core.periods import Period
from cchc_analysis.ingest.account import FileResult, IngestOptions, unique_headers
from cchc_analysis.ingest.bieu06 import Bieu06Table, read_bieu06, title_unit_name
from cchc_analysis.ingest.parsing import clean_text, find_period, parse_count
from cchc_analysis.ingest.privacy import mask_series
from cchc_analysis.ingest.problems import Problems
from cchc_analysis.ingest.sources import SourceGrid, read_source, sheet_names
from cchc_analysis.ingest.validate_period_reports import (
    PERIOD_REPORT_REQUIRED,
    derivable_counts,
    validate_period_reports,
)

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


def _read_sheet(path: str, sheet: str | None) -> tuple[SourceGrid, Bieu06Table]:
    """The sheet asked for; else, in a workbook of several sheets, the first holding a Biểu 06
    header (a cover sheet is skipped), or IngestError naming every sheet and what it holds."""
    names = sheet_names(path) if sheet is None else None
    if names is None or len(names) < 2:
        grid = read_source(path, sheet=sheet, with_merged=True)
        return grid, read_bieu06(grid)
    found = []
    for name in names:
        try:
            grid = read_source(path, sheet=name, with_merged=True)
            return grid, read_bieu06(grid)
        except SourceError as exc:
            found.append(f"{name!r}: {str(exc).removeprefix(f'{path}: ')}")
    raise IngestError(
        f"{path}: no sheet holds a Biểu 06 header ({'; '.join(found)}); "
        "pass --sheet NAME to choose one"
    )


def read_period_report(path: str, *, options: IngestOptions) -> FileResult:
    """A Biểu 06 sheet (or a flat table of the same counts)."""
    grid, table = _read_sheet(path, options.sheet)
    found = list(table.columns.values()) + table.ignored
    title_period = find_period(table.title)
    raw = table.rows.drop(columns="_row")
    headers = dict(table.columns)
    title_unit = None
    if not ({"unit_code", "unit_name"} & set(table.columns)):
        title_unit = _unit_of_title(path, table, options, options.period or title_period)
        if title_unit is not None and options.unit is None:  # read like a unit-name column
            raw = raw.assign(unit_name=title_unit["name"])
            headers["unit_name"] = f"(title) {title_unit['name']}"
    if options.unit is None and not ({"unit_code", "unit_name"} & set(raw.columns)):
        raise IngestError(
            f"{path}: no unit column (expected 'Tên đơn vị', 'Đơn vị' or 'Mã đơn vị') and no "
            f"'Đơn vị báo cáo: …' or 'UBND …' line above the table; "
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
    has_period_columns = {"period_start", "period_end"} <= set(table.columns) or (
        "period_label" in table.columns
    )
    if options.period is None and not has_period_columns and title_period is None:
        raise IngestError(
            f"{path}: no reporting period: pass --period (e.g. 2023-Q3) or add 'Từ ngày' and "
            "'Đến ngày' columns"
        )
    accepted, problems = validate_period_reports(
        raw,
        headers,
        period=options.period,
        title_period=title_period,
        province=options.province,
        unit=options.unit,
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
        "totals_check": _totals_check(table),
        **({"unit_from_title": title_unit} if title_unit is not None else {}),
    }
    row_numbers = table.rows["_row"].to_numpy(dtype=int)
    return _whole_file_result(
        path,
        grid,
        accepted,
        problems,
        display=display,
        free_text=free_text,
        row_numbers=row_numbers,
        info=info,
        masked_count=masked,
    )


def _unit_of_title(
    path: str, table: Bieu06Table, options: IngestOptions, period: Period | None
) -> dict[str, str] | None:
    """The unit the title block names ("Đơn vị báo cáo: …", "UBND …"), resolved as
    ``cchc units find`` does in the era of the sheet's period; None when the title names none.

    Without ``--unit`` a name that does not resolve stops the run; with ``--unit``, a title
    naming another unit does (one of the two is wrong).
    """
    name = title_unit_name(table.title_lines)
    if name is None:
        return None
    found = units.resolve_office(
        None, name, received=period.start if period else None, province=options.province
    )
    if options.unit is not None:
        if found.unit is not None and found.unit.code != options.unit.strip():
            raise IngestError(
                f"{path}: --unit {options.unit} contradicts the title's unit {name!r} "
                f"({units.describe(found.unit)}); drop --unit or correct it"
            )
        return None
    if found.unit is None:
        raise IngestError(
            f"{path}: the title's unit {name!r} is not resolved ({found.message}); pass --unit CODE"
        )
    return {"name": name, "unit_code": found.unit.code, "resolved_as": units.describe(found.unit)}


def _whole_file_result(
    path: str,
    grid: SourceGrid,
    accepted: pd.DataFrame,
    problems: Problems,
    *,
    display: pd.DataFrame,
    free_text: list[str],
    row_numbers: np.ndarray,
    info: dict[str, Any],
    masked_count: int,
) -> FileResult:
    """A file read whole (a Biểu 06 sheet) as a :class:`FileResult`."""
    found = problems.frame()
    rejected = found["position"].to_numpy(dtype=int)
    row_numbers = np.asarray(row_numbers, dtype=int)
    display = display.reset_index(drop=True)
    display.columns = unique_headers([str(c) for c in display.columns])
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
        masked_count=masked_count,
    )


def _totals_check(table: Bieu06Table) -> list[dict[str, Any]]:
    """Each totals row against the sum of the rows it covers (rows that parse)."""
    checks = []
    for row_number, raw_counts, covered in table.totals:
        differences: dict[str, dict[str, str | int | None]] = {}
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
