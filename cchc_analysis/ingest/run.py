"""``cchc ingest``: real exports in, canonical tables out, and an account of every row.

For each file: read it (:mod:`tabular` for dossier and survey exports, :mod:`period_report` for
a Biểu 06 sheet), which finds the header, drops personal-data columns (:mod:`privacy`) and
checks every row. Only when every file is usable is anything written (:mod:`storing`, then
:mod:`account`), so a bad file never leaves a half-ingested folder:

    DIR/dossiers/area=<era>-<code>/part-<n>.parquet     (kind dossiers)
    DIR/period_reports.parquet                         (kind period-report)
    DIR/survey.parquet                                 (kind survey)
    DIR/rejects/<kind>.csv                             one row per rejected input row
    DIR/ingest_report.json                             rows read / accepted / rejected

Appending is keyed: dossiers on dossier_id, survey rows on respondent_id, period reports on
unit × field × period. A row whose key is already present with identical content is a
duplicate (accepted, counted, not added again: re-ingesting a file adds nothing); with
different content it is rejected. Always ``rows_read == rows_accepted + rows_rejected``.

Dossier and survey exports are read as a stream, :data:`tabular.CHUNK_ROWS` rows at a time.
Accepted dossiers wait in a spool folder inside DIR (:mod:`spool`) until every file has been
read, so memory does not grow with the export; a run killed before it writes leaves DIR as it
was (one killed while writing has added some districts' files: a rerun adds the rest), and the
next run removes the dead run's spool. Rejected rows are kept in memory for the rejects
file (a file that is mostly bad rows costs memory in proportion).
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from cchc_analysis import units
from cchc_analysis.core.errors import IngestError, SourceError
from cchc_analysis.core.periods import Period
from cchc_analysis.ingest.account import (
    REPORT_FILE,
    FileResult,
    IngestOptions,
    build_report,
    write_rejects,
)
from cchc_analysis.ingest.headers import KINDS
from cchc_analysis.ingest.period_report import read_period_report
from cchc_analysis.ingest.spool import DossierSpool
from cchc_analysis.ingest.storing import store_dossiers, store_table
from cchc_analysis.ingest.tabular import MemorySink, RowSink, read_tabular


def ingest(
    paths: Sequence[str | os.PathLike[str]],
    kind: str,
    out_dir: str | os.PathLike[str],
    *,
    period: Period | None = None,
    province: str | None = None,
    sheet: str | None = None,
    unit: str | None = None,
    today: date | None = None,
    unit_map: str | os.PathLike[str] | None = None,
) -> dict[str, Any]:
    """Ingest files of one kind into ``out_dir``; returns the report (also written as JSON).

    The folder's derived data (the cube, dataset.json's date range) is not touched: after
    dossiers, call ``counting.prepare.prepare_folder(out_dir, has_new_dossiers=report["rows_added"]
    > 0)`` as ``cchc ingest`` does.

    ``unit_map``: a CSV of the system's own unit spellings (name, code, optional era; see
    :func:`cchc_analysis.units.load_unit_map`), for dossiers and survey.

    Raises :class:`IngestError` (nothing written) when a file cannot be used at all, and
    :class:`UnitMapError` when the unit map cannot.
    """
    options = ingest_options(
        paths,
        kind,
        out_dir,
        period=period,
        province=province,
        sheet=sheet,
        unit=unit,
        today=today,
        unit_map=unit_map,
    )
    started = time.perf_counter()
    out = Path(out_dir)
    created = not out.exists()
    spool = None
    try:
        if kind == "dossiers":
            spool = DossierSpool(out, _expected_rows(paths))
            sink: RowSink = spool
        else:
            sink = MemorySink()
        results = read_files(paths, options, sink)
        out.mkdir(parents=True, exist_ok=True)
        if spool is not None:
            outcome = store_dossiers(results, out, spool)
        else:
            outcome = store_table(results, kind, out)
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
    report = build_report(results, options, outcome, seconds=time.perf_counter() - started)
    write_rejects(results, outcome["conflicts"], kind=kind, out=out)
    (out / REPORT_FILE).write_text(
        json.dumps(report, ensure_ascii=False, indent=2, default=str), encoding="utf-8"
    )
    return report


def ingest_options(
    paths: Sequence[str | os.PathLike[str]],
    kind: str,
    out_dir: str | os.PathLike[str],
    *,
    period: Period | None = None,
    province: str | None = None,
    sheet: str | None = None,
    unit: str | None = None,
    today: date | None = None,
    unit_map: str | os.PathLike[str] | None = None,
) -> IngestOptions:
    """The run's options, checked (an :class:`IngestError` names the one that cannot apply)."""
    if kind not in KINDS:
        raise IngestError(f"unknown kind {kind!r}; use one of {', '.join(KINDS)}")
    if not paths:
        raise IngestError("no input files given")
    if period is not None and kind != "period-report":
        raise IngestError("--period applies to --kind period-report only")
    if unit is not None and kind != "period-report":
        raise IngestError("--unit applies to --kind period-report only")
    if unit_map is not None and kind == "period-report":
        raise IngestError("--unit-map applies to --kind dossiers and survey only")
    if province is not None:
        province = _check_province(province)
    spellings = units.load_unit_map(unit_map) if unit_map is not None else None
    return IngestOptions(kind, Path(out_dir), period, province, sheet, unit, today, spellings)


def read_files(
    paths: Sequence[str | os.PathLike[str]], options: IngestOptions, sink: RowSink
) -> list[FileResult]:
    """Read and check every file; accepted dossier and survey rows go to ``sink`` (a
    :class:`MemorySink` leaves them on each result's ``accepted``)."""
    results = []
    for index, path in enumerate(paths):
        name = str(path)
        try:
            if options.kind == "period-report":
                results.append(read_period_report(name, options=options))
                continue
            result = read_tabular(name, options.kind, options=options, index=index, sink=sink)
            if isinstance(sink, MemorySink):
                result.accepted = sink.frame_of(index)
            results.append(result)
        except SourceError as exc:
            raise IngestError(str(exc)) from None
    return results


def _expected_rows(paths: Sequence[str | os.PathLike[str]]) -> int:
    """A generous guess of the rows in the files (sizes the spool's hash buckets)."""
    size = 0
    for path in paths:
        with contextlib.suppress(OSError):
            size += os.path.getsize(path)
    return size // 100


def _check_province(code: str) -> str:
    try:
        unit = units.get_unit(code, era=units.ERA_PRE_2025, level="province")
    except (KeyError, ValueError):
        try:
            unit = units.get_unit(code, era=units.ERA_2025, level="province")
        except (KeyError, ValueError):
            raise IngestError(f"--province {code!r} is not a province code") from None
    return unit.code
