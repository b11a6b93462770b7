"""``cchc ingest``: real exports in, canonical tables out, and an account of every row.

For each file: read it (:mod:`tabular` for dossier and survey exports, :mod:`period_report` for
a Biểu 06 sheet), which finds the header, drops personal-data columns (:mod:`privacy`) and
checks every row. Only when every file is usable is anything written (:mod:`storing`, then
:mod:`account`), under the folder's ingest lock and as one transaction
(:class:`~cchc_analysis.store.transaction.FolderTransaction`), so a bad file, a full disk or a
kill never leaves a half-ingested folder:

    DIR/dossiers/area=<era>-<code>/part-<n>.parquet     (kind dossiers)
    DIR/period_reports.parquet                         (kind period-report)
    DIR/survey.parquet                                 (kind survey)
    DIR/rejects/<kind>.csv                             one row per rejected input row
    DIR/ingest_report.json                             rows read / accepted / rejected
    DIR/ingest_reports/<time>.json                     every run's account, kept

Appending is keyed: dossiers on dossier_id, survey rows on respondent_id, period reports on
unit × field × period. A row whose key is already present with identical content is a
duplicate (accepted, counted, not added again: re-ingesting a file adds nothing); with
different content a survey row or period report is rejected, while a dossier is an update:
exports are monthly snapshots, and the newest snapshot of a dossier is its current row, every
version being kept in ``DIR/dossier_versions/`` (:mod:`spool`). A file's snapshot date is
``as_of`` (``cchc ingest --as-of``), else the date its title rows give ("Ngày xuất:
15/08/2025", "Tính đến ngày 31/08/2025"), else its modification time. Always
``rows_read == rows_accepted + rows_rejected``.

Dossier and survey exports are read as a stream, :data:`tabular.CHUNK_ROWS` rows at a time.
Accepted dossiers wait in a spool folder inside DIR (:mod:`spool`) until every file has been
read, so memory does not grow with the export; a run killed at any point leaves a journal that
the next run rolls back first, and the next run removes the dead run's spool. Rejected rows are
kept in memory for the rejects file (a file that is mostly bad rows costs memory in proportion).
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any, Final

import pandas as pd

from cchc_analysis import store, units
from cchc_analysis.core.errors import IngestError, SourceError
from cchc_analysis.core.locking import RunLock
from cchc_analysis.core.periods import Period
from cchc_analysis.ingest.account import (
    FileResult,
    IngestOptions,
    build_report,
    write_account,
    write_rejects,
)
from cchc_analysis.ingest.headers import KINDS
from cchc_analysis.ingest.period_report import read_period_report
from cchc_analysis.ingest.sources import check_input_path
from cchc_analysis.ingest.spool import DossierSpool
from cchc_analysis.ingest.storing import store_dossiers, store_table
from cchc_analysis.ingest.tabular import MemorySink, RowSink, read_tabular
from cchc_analysis.store.transaction import FolderTransaction

INGEST_LOCK: Final = ".cchc-ingest.lock"  # one ingest at a time per data folder


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
    lock_timeout_s: float = 0.0,
    derive: Callable[[Path, dict[str, Any]], object] | None = None,
    as_of: date | None = None,
) -> dict[str, Any]:
    """Ingest files of one kind into ``out_dir``; returns the report (also written as JSON).

    One writer at a time: the run holds the folder's ingest lock (:data:`INGEST_LOCK`), waiting
    up to ``lock_timeout_s`` seconds for another ingest (then :class:`LockBusyError`). All that
    it writes is one commit (:class:`store.FolderTransaction`): the rows, the rejects, what
    ``derive`` writes, and the account (``ingest_report.json`` and
    ``ingest_reports/<time>.json``). Any failure, or a kill, leaves the folder as it was.

    ``derive(out, report)`` brings the folder's derived data up to date inside that commit; for
    dossiers pass ``lambda out, r: counting.prepare.prepare_folder(out, has_new_dossiers=
    r["rows_added"] > 0)`` as ``cchc ingest`` does (ingest itself never counts).

    ``as_of``: the snapshot date of the files (dossiers), when their title does not say it
    and their modification time is not it.

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
        as_of=as_of,
    )
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise IngestError(f"{out}: is a file, not a data folder; give --out a folder")
    created = not out.exists()
    try:
        with (
            RunLock(out / INGEST_LOCK, timeout_s=lock_timeout_s, is_removed=True),
            FolderTransaction(out),
        ):
            return _ingest_files(paths, options, derive, as_of=as_of)
    except BaseException:
        if created:  # the folder did not exist: remove it again
            with contextlib.suppress(OSError):
                out.rmdir()  # only if nothing else was put there
        raise


def _ingest_files(
    paths: Sequence[str | os.PathLike[str]],
    options: IngestOptions,
    derive: Callable[[Path, dict[str, Any]], object] | None,
    *,
    as_of: date | None = None,
) -> dict[str, Any]:
    """Read, store, derive and account, inside the caller's lock and transaction."""
    started = time.perf_counter()
    kind, out = options.kind, options.out_dir
    spool = None
    try:
        if kind == "dossiers":
            spool = DossierSpool(out, _expected_rows(paths))
            sink: RowSink = spool
        else:
            sink = MemorySink()
        results = read_files(paths, options, sink, as_of=as_of)
        if spool is not None:
            outcome = store_dossiers(results, out, spool)
        else:
            outcome = store_table(results, kind, out)
    finally:
        if spool is not None:
            spool.close()
    report = build_report(results, options, outcome, seconds=time.perf_counter() - started)
    if outcome.get("snapshots"):
        _note_snapshot_date(out, max(outcome["snapshots"].values()))
    write_rejects(results, outcome["conflicts"], kind=kind, out=out)
    if derive is not None:
        derive(out, report)
    write_account(report, out)
    return report


def _note_snapshot_date(out: Path, newest: str) -> None:
    """dataset.json's ``snapshot_date``: the newest snapshot the folder holds (reports say
    "Số liệu tính đến ngày ...")."""
    info = store.read_dataset_info(out)
    if str(info.get("snapshot_date", "")) < newest[:10]:
        info["snapshot_date"] = newest[:10]
        store.write_dataset_info(out, info)


def snapshot_date(path: str, result: FileResult, as_of: date | None) -> pd.Timestamp:
    """When a file's snapshot was taken: ``as_of``, else the date its title rows give, else
    the file's modification time."""
    if as_of is not None:
        return pd.Timestamp(as_of)
    titled = result.info.get("export_date")
    if titled:
        return pd.Timestamp(titled)
    return pd.Timestamp(datetime.fromtimestamp(os.path.getmtime(path))).floor("s")


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
    as_of: date | None = None,
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
    if as_of is not None and kind != "dossiers":
        raise IngestError("--as-of applies to --kind dossiers only")
    if unit_map is not None and kind == "period-report":
        raise IngestError("--unit-map applies to --kind dossiers and survey only")
    if province is not None:
        province = _check_province(province)
    for path in paths:
        try:
            check_input_path(path)
        except SourceError as exc:
            raise IngestError(str(exc)) from None
    spellings = units.load_unit_map(unit_map) if unit_map is not None else None
    return IngestOptions(kind, Path(out_dir), period, province, sheet, unit, today, spellings)


def read_files(
    paths: Sequence[str | os.PathLike[str]],
    options: IngestOptions,
    sink: RowSink,
    *,
    as_of: date | None = None,
) -> list[FileResult]:
    """Read and check every file; accepted dossier and survey rows go to ``sink`` (a
    :class:`MemorySink` leaves them on each result's ``accepted``; a :class:`DossierSpool`
    also learns each file's snapshot date, see :func:`snapshot_date`)."""
    results = []
    for index, path in enumerate(paths):
        name = str(path)
        try:
            if options.kind == "period-report":
                results.append(read_period_report(name, options=options))
                continue
            result = read_tabular(name, options.kind, options=options, index=index, sink=sink)
            if isinstance(sink, DossierSpool):
                sink.set_snapshot(index, snapshot_date(name, result, as_of), Path(name).name)
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
