"""The account of an ingest run: what was asked (:class:`IngestOptions`), what each file gave
(:class:`FileResult`), and what the run leaves for the steward to read.

    DIR/ingest_report.json   rows read / accepted / rejected / added / duplicate, per file;
                             the column mapping (source header -> canonical column);
                             units resolved by a rule worth checking (township rule, unit
                             map, carried over to a new unit), and the carried-over count
    DIR/rejects/<kind>.csv   one row per rejected input row, with its reason and raw cells

Every row read is accounted for: ``rows_read == rows_accepted + rows_rejected``, per file and
in total. :func:`summary_lines` is what ``cchc ingest`` prints.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Final

import pandas as pd

from cchc_analysis.core.periods import Period
from cchc_analysis.ingest.privacy import mask_series, neutralize_formula
from cchc_analysis.ingest.problems import REASONS
from cchc_analysis.units import UnitMap

REJECTS_DIR: Final = "rejects"
REPORT_FILE: Final = "ingest_report.json"
EXIT_OK, EXIT_REJECTS, EXIT_FATAL = 0, 1, 2
# The rejects file's own columns; the rejected row's raw cells follow them.
REJECT_COLUMNS: Final = ("file", "row", "column", "reason_code", "reason")
# A file's rejects before its name is added: body position, spreadsheet row, column, reason.
_FILE_REJECT_COLUMNS: Final = ("position", "row", "column", "reason_code", "reason")


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
    unit_map: UnitMap | None = None


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


def unique_headers(headers: Sequence[str]) -> list[str]:
    """Source headers as rejects-file columns: blanks named by position, repeats numbered,
    and none that collides with the file's own columns."""
    seen: Counter[str] = Counter()
    out = []
    for i, header in enumerate(headers):
        name = header or f"column {i + 1}"
        if name in REJECT_COLUMNS or name == "position":
            name = f"{name} (source)"
        seen[name] += 1
        out.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return out


def rejects_frame(pieces: list[pd.DataFrame]) -> pd.DataFrame:
    """A file's rejects (:attr:`FileResult.rejects`) from the pieces found chunk by chunk."""
    if pieces:
        return pd.concat(pieces, ignore_index=True)
    return pd.DataFrame(columns=list(_FILE_REJECT_COLUMNS))


def build_report(
    results: list[FileResult], options: IngestOptions, outcome: dict[str, Any], *, seconds: float
) -> dict[str, Any]:
    """ingest_report.json: the run's options, per-file and total row counts, reasons, outputs."""
    files = []
    totals: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
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
            "unit_map": options.unit_map.source if options.unit_map else None,
        },
        **{k: int(totals[k]) for k in ("rows_read", "rows_accepted", "rows_rejected")},
        "rows_added": int(totals["rows_added"]),
        "rows_duplicate": int(totals["rows_duplicate"]),
        "rejected_by_reason": dict(sorted(reasons.items())),
        "reasons": {code: REASONS[code] for code in sorted(reasons) if code in REASONS},
        **unit_resolutions(files),
        "column_mapping": column_mapping(files),
        "files": files,
        "outputs": {
            **outcome["outputs"],
            "rejects": str(options.out_dir / REJECTS_DIR / f"{options.kind}.csv"),
            "report": str(options.out_dir / REPORT_FILE),
        },
        "exit_code": exit_code,
    }


def column_mapping(files: list[dict[str, Any]]) -> dict[str, str]:
    """Source header -> canonical column, over all files (each file's ``columns`` gives its own,
    canonical -> header): how the run read the export's fields, e.g. "NgayNopHoSo" ->
    "submitted_at". Headers not listed were ignored or dropped as personal data."""
    mapping: dict[str, str] = {}
    for entry in files:
        for column, header in entry.get("columns", {}).items():
            mapping.setdefault(str(header), str(column))
    return mapping


def unit_resolutions(files: list[dict[str, Any]]) -> dict[str, Any]:
    """The report's section on units resolved by a rule worth checking, over all files.

    ``unit_resolutions``: per rule (``township_rule``: a bare name taken as the district, not
    its township; ``unit_map``: the steward's map; ``carried_over``: received before 1 July
    2025 and filed under its new unit, era "2025") the units with their accepted rows.
    ``carried_over_count``: accepted dossiers carried over to a new unit.
    """
    rows: Counter[tuple[Any, ...]] = Counter()
    for entry in files:
        for item in entry.get("unit_resolutions", []):
            key = (item["rule"], item["era"], item["unit_code"], item["unit_name"], item["detail"])
            rows[key] += item["rows"]
    by_rule: dict[str, list[dict[str, Any]]] = {}
    for (rule, era, code, name, detail), count in sorted(rows.items()):
        by_rule.setdefault(rule, []).append(
            {"era": era, "unit_code": code, "unit_name": name, "detail": detail, "rows": count}
        )
    section = {
        rule: {"rows": sum(item["rows"] for item in items), "units": items}
        for rule, items in by_rule.items()
    }
    carried = sum(int(entry.get("carried_over_count", 0)) for entry in files)
    return {"unit_resolutions": section, "carried_over_count": carried}


def write_rejects(
    results: list[FileResult],
    conflicts: dict[tuple[int, int], tuple[int, str, str]],
    *,
    kind: str,
    out: Path,
) -> Path:
    """rejects/<kind>.csv: rows of this run's files replace earlier rejects of the same files."""
    frames = []
    meta = list(_FILE_REJECT_COLUMNS)
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
    for rule, found in report.get("unit_resolutions", {}).items():
        lines.append(
            f"units by {rule.replace('_', ' ')}: {found['rows']:,} rows at "
            f"{len(found['units'])} unit(s) (listed in the report)"
        )
    lines.append(
        f"total: {report['rows_read']:,} read = {report['rows_accepted']:,} accepted + "
        f"{report['rows_rejected']:,} rejected -> {report['out_dir']}"
    )
    if report["rows_rejected"]:
        lines.append(f"rejects: {report['outputs']['rejects']}")
    lines.append(f"report: {report['outputs']['report']}")
    return lines
