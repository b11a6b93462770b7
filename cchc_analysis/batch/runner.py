"""Fan-out of the report notebooks: executed on a warm kernel (papermill's parameters and error
conventions, run by nbclient) and rendered by nbconvert, in the same worker process; one
failing unit never stops the others.

Output folder layout::

    <out>/<unit_code>-<slug>.html        one per district (or new commune, former district)
    <out>/<unit_code>-<slug>_bang/       its tables: <nn>-<caption>.csv and .xlsx
    <out>/province-<code>-<slug>.html    the province overview
    <out>/index.html                     links to all, with a KPI table
    <out>/chi-so-<first>-<last>.xlsx     every unit's KPIs, one workbook (linked from the index)
    <out>/manifest.json                  status, seconds, input hash and error of every report
    <out>/failed/<name>.ipynb            the partial notebook of a failed report
    <out>/logs/run-<time>.log            one log per run

Workers execute and render; only the process holding the output folder's lock writes into it,
every file to a temporary name that is then renamed. So a run killed at any moment (by a
signal, or a worker dying) leaves the previous good report, index and manifest in place, and
the same layout results whether the workers are local processes or Dask workers elsewhere.

A report whose inputs (its data slice, the notebook, the parameters, the package's version and
code) are unchanged since the report on disk was made is skipped. The manifest is rewritten
after every report and always describes the files on disk, so a rerun after a kill renders
only what is missing or out of date.

This module orchestrates; the parts live beside it: ``plan`` (jobs, parameters, input hashes),
``execute`` (one report on a warm kernel), ``pool`` (local worker processes, signals),
``dask_executor`` (the same on a Dask cluster) and ``manifest`` (manifest, log, progress).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cchc_analysis.batch.execute import CELL_TIMEOUT_S, JobOutput
from cchc_analysis.batch.job import ReportJob
from cchc_analysis.batch.manifest import (
    MANIFEST,
    Progress,
    ReportResult,
    clean_stale_temporaries,
    new_manifest,
    open_run_log,
    ordered_records,
    read_manifest,
    result_fields,
    write_atomic,
)
from cchc_analysis.batch.pool import LocalPool, RunInterrupted, default_workers, interruptible
from cchc_analysis.batch.prefetch import start_prefetch
from cchc_analysis.core import run_shared
from cchc_analysis.core.errors import CchcError, UsageError
from cchc_analysis.core.locking import RunLock
from cchc_analysis.core.periods import Period

# The planning and writing stack (pandas, pyarrow, DuckDB: a second or more) is imported once
# the workers are started, so their kernels boot meanwhile: see render_reports.
if TYPE_CHECKING:
    from cchc_analysis.counting.query import Tier
    from cchc_analysis.reports.index_page import IndexTables

LOCK_FILE = ".cchc-run.lock"

log = logging.getLogger("cchc.runner")


def render_reports(
    data_dir: str | os.PathLike[str],
    period: Period,
    out_dir: str | os.PathLike[str],
    *,
    unit_codes: Sequence[str] | None = None,
    workers: int | None = None,
    lang: str = "vi",
    tier: Tier = "both",
    quiet: bool = False,
    force: bool = False,
    retry_failed: bool = False,
    executor: str = "process",
    scheduler: str | None = None,
    lock_timeout_s: float = 0.0,
    extra_parameters: dict[str, Any] | None = None,
    cell_timeout_s: float | None = CELL_TIMEOUT_S,
    level: str | None = None,
    check_data: Callable[[], None] | None = None,
    keep_warm_s: float = 0.0,
) -> dict[str, Any]:
    """Render every report, the index and the manifest; return the manifest.

    ``check_data`` (the caller's own checks of the data folder) runs once the workers are
    started, beside their kernels' start, as does the data folder's own check. When a check
    fails, nothing of the run is left in the output folder (a folder it made is removed)."""
    started = time.perf_counter()
    out_path = Path(out_dir)
    made = _make_folder(out_path)
    had_lock = (out_path / LOCK_FILE).exists()
    with interruptible(), RunLock(out_path / LOCK_FILE, timeout_s=lock_timeout_s):
        handler, log_path = open_run_log(out_path)
        pool = None
        try:
            if executor != "dask" and (force or read_manifest(out_path) is None):
                # A first (or forced) run renders every report: its workers start now, and
                # their kernels boot and import the report stack while the run checks the
                # data, plans and hashes its inputs.
                pool = _start_pool(workers, lang, cell_timeout_s, log_path, keep_warm_s)
            try:
                if check_data is not None:
                    check_data()
                from cchc_analysis import store

                data_path = store.check_data_dir(data_dir)
            except CchcError:
                if pool is not None:
                    pool.close()
                log.removeHandler(handler)
                handler.close()
                _undo_start(out_path, made, log_path, had_lock)
                raise
            if clean_stale_temporaries(out_path):
                log.info("removed temporary files left by an interrupted run")
            return _run(
                pool,
                data_path,
                period,
                out_path,
                log_path,
                started,
                unit_codes=unit_codes,
                workers=workers,
                lang=lang,
                tier=tier,
                quiet=quiet,
                force=force,
                retry_failed=retry_failed,
                executor=executor,
                scheduler=scheduler,
                extra_parameters=extra_parameters,
                cell_timeout_s=cell_timeout_s,
                level=level,
                keep_warm_s=keep_warm_s,
            )
        finally:
            if pool is not None:
                pool.close()
            log.removeHandler(handler)
            handler.close()


def _make_folder(out_path: Path) -> Path | None:
    """Create the output folder; the topmost folder this made (None: it existed). A path that
    is not a folder is a usage error (exit 2), before anything starts."""
    if out_path.exists() and not out_path.is_dir():
        raise UsageError(f"output folder {out_path} is a file, not a folder; give a folder")
    made = None
    for folder in (out_path, *out_path.parents):
        if folder.exists():
            break
        made = folder
    out_path.mkdir(parents=True, exist_ok=True)
    return made


def _undo_start(out_path: Path, made: Path | None, log_path: Path, had_lock: bool) -> None:
    """Leave the output folder as it was before a run that stopped at its checks: remove the
    folder it made, else its log, the logs folder when that is all it held, and the lock file
    when there was none. Run under the folder's lock: a run waiting for it notices the lock
    file gone and locks anew."""
    if made is not None:
        shutil.rmtree(made, ignore_errors=True)
        return
    log_path.unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        log_path.parent.rmdir()  # only when empty
    if not had_lock:
        (out_path / LOCK_FILE).unlink(missing_ok=True)


def _start_pool(
    workers: int | None,
    lang: str,
    cell_timeout_s: float | None,
    log_path: Path,
    keep_warm_s: float = 0.0,
) -> LocalPool:
    return LocalPool(
        workers or default_workers(),
        lang=lang,
        cell_timeout_s=cell_timeout_s,
        log_path=log_path,
        keep_warm_s=keep_warm_s,
    )


def _run(
    pool: LocalPool | None,
    data_path: Path,
    period: Period,
    out_path: Path,
    log_path: Path,
    started: float,
    *,
    unit_codes: Sequence[str] | None,
    workers: int | None,
    lang: str,
    tier: Tier,
    quiet: bool,
    force: bool,
    retry_failed: bool,
    executor: str,
    scheduler: str | None,
    extra_parameters: dict[str, Any] | None,
    cell_timeout_s: float | None,
    level: str | None,
    keep_warm_s: float = 0.0,
) -> dict[str, Any]:
    """Plan, execute and write everything, on ``pool`` when the run started one."""
    from cchc_analysis.batch.plan import plan_jobs
    from cchc_analysis.batch.report_files import write_report
    from cchc_analysis.counting.prepare import prepare_folder

    prepare_folder(data_path)
    previous = read_manifest(out_path) or {}
    before = {r["file"]: r for r in previous.get("reports", []) if "file" in r}
    # A run that renders every report (forced, or the folder's first) needs no input hash to
    # choose them: each job is hashed just before it starts, the first while the others wait.
    is_streamed = pool is not None and (force or not before) and not retry_failed
    jobs = plan_jobs(
        data_path,
        period,
        unit_codes=unit_codes,
        lang=lang,
        tier=tier,
        extra_parameters=extra_parameters,
        level=level,
        hash_inputs=not is_streamed,
    )
    kept: list[ReportResult] = []
    if is_streamed:
        todo = list(jobs)
    else:
        todo, kept = _select(jobs, before, out_path, force, retry_failed)
    log.info("planned %d reports in %.1f s", len(jobs), time.perf_counter() - started)
    if not is_streamed:
        _log_digests(data_path)
    for result in kept:
        if result.status == "skipped":
            log.info("skipped %s (inputs unchanged, hash %s)", result.file, result.input_hash)
    order = {job.html_name: i for i, job in enumerate(jobs)}
    # Until a report is redone, its line describes the file still on disk.
    results: dict[str, ReportResult] = {r.file: r for r in kept}
    for job in todo:
        if job.html_name in before:
            results[job.html_name] = ReportResult(**result_fields(before[job.html_name]))
    n_workers = max(1, min(len(todo), workers or default_workers()))
    if n_workers > 1:
        # The overview is the longest report (every unit's trend chart): started first,
        # it runs beside the unit reports instead of alone at the end of the run.
        todo.sort(key=lambda job: job.kind != "province")
        units_first = [i for i, job in enumerate(todo) if job.kind != "province"][:1]
        if is_streamed and units_first:
            # ...after one unit's report, whose hash reads one area where the overview's reads
            # the province's: a worker starts on it while the overview is being hashed.
            todo.insert(0, todo.pop(units_first[0]))
    manifest = new_manifest(data_path, period, lang, tier, n_workers, executor, log_path)

    def save_manifest(complete: bool) -> None:
        manifest["reports"] = ordered_records(results.values(), order)
        manifest["seconds"] = round(time.perf_counter() - started, 3)
        manifest["complete"] = complete
        write_atomic(out_path / MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=2))

    progress = Progress(len(todo), quiet=quiet)
    first_started: list[float] = []

    def on_output(output: JobOutput) -> None:
        result = output.result
        if output.started_at is not None:
            first_started[:] = [min([output.started_at, *first_started])]
        failed_copy = out_path / "failed" / Path(result.file).with_suffix(".ipynb").name
        if result.status == "ok" and output.html is not None:
            result.tables = write_report(out_path, result.file, output.html, lang)
            failed_copy.unlink(missing_ok=True)
        else:
            if result.file in results:  # the old page and its tables stay on disk
                result.tables = results[result.file].tables
            if output.notebook is not None:
                failed_copy.parent.mkdir(parents=True, exist_ok=True)
                write_atomic(failed_copy, output.notebook)
        results[result.file] = result
        progress.update(result)
        level = logging.INFO if result.status == "ok" else logging.ERROR
        where = f" (cell {result.failed_cell}: {result.failed_source})" * bool(result.failed_cell)
        log.log(
            level,
            "%s %s %.1f s (cells %.1f s)%s %s",
            result.file,
            result.status,
            result.seconds,
            result.cells_seconds,
            where,
            result.error or "",
        )
        if output.kernel_starts or output.kernel_errors:
            log.info(
                "%s: worker %s started %d kernel(s)%s",
                result.file,
                output.worker,
                output.kernel_starts,
                f"; start errors: {output.kernel_errors}" * bool(output.kernel_errors),
            )
        for warning in result.warnings:
            log.warning("%s: %s", result.file, warning)
        # Rewritten after every report, so a killed run keeps its progress.
        save_manifest(complete=False)

    log.info(
        "run %s %s: %d reports to render, %d unchanged, %d workers (%s)",
        period,
        lang,
        len(todo),
        len(jobs) - len(todo),
        n_workers,
        executor,
    )
    save_manifest(complete=False)
    unit_kinds = tuple((job.unit_code, job.kind) for job in jobs if job.kind != "province")
    index = _IndexFigures(data_path, period, tier)
    own_pool: LocalPool | None = None
    try:
        if todo and executor == "dask":
            from cchc_analysis.batch.dask_executor import run_dask

            run_dask(
                todo,
                lang=lang,
                scheduler=scheduler,
                workers=n_workers,
                cell_timeout_s=cell_timeout_s,
                on_output=on_output,
            )
        elif todo:
            if pool is None:  # started here, so closed here (render_reports closes its own)
                pool = own_pool = _start_pool(
                    n_workers, lang, cell_timeout_s, log_path, keep_warm_s
                )
            pool.shrink(n_workers)
            queued = _hashed(todo, data_path, period) if is_streamed else iter(todo)
            with run_shared.named(pool.shared_dir):
                if not pool.adopted_count:  # a warm kernel has the tables or computes them
                    start_prefetch(todo[0], pool.shared_dir)
                # The index's figures are counted as soon as a worker has no report left to
                # start (on its idle core), while the last reports render.
                pool.run(_then(queued, lambda: index.start(unit_kinds)), on_output)
            pool.stop()  # the workers shut their kernels down while the index is written
    except BaseException as exc:
        if isinstance(exc, RunInterrupted):
            log.error("interrupted by signal %d; finished reports are kept", exc.signum)
        elif isinstance(exc, KeyboardInterrupt):
            log.error("interrupted; finished reports are kept")
        if own_pool is not None:
            own_pool.close()
        raise
    finally:
        progress.close()
    if first_started:
        first = datetime.fromtimestamp(first_started[0]).isoformat(sep=" ", timespec="milliseconds")
        log.info("first report started executing at %s", first)
    ordered = sorted(results.values(), key=lambda r: order.get(r.file, 10**6))
    from cchc_analysis.reports.index_page import write_index  # matplotlib: not earlier

    try:
        write_index(out_path, data_path, period, ordered, lang, tier, index.result())
    finally:
        if pool is not None:
            pool.close()  # waits for the workers stopped above
    save_manifest(complete=True)
    log.info("done in %.1f s", manifest["seconds"])
    return manifest


def _hashed(jobs: list[ReportJob], data_path: Path, period: Period) -> Iterator[ReportJob]:
    """The jobs in order, each with its input hash, hashed on a thread ahead of the pool's
    need (DuckDB hashes without the GIL) while the first reports run."""
    from cchc_analysis.batch.plan import hash_job

    hasher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cchc-hash")
    futures = [hasher.submit(hash_job, job, data_path, period.end) for job in jobs]
    try:
        for future in futures:
            yield future.result()
    finally:
        hasher.shutdown(wait=False, cancel_futures=True)
    _log_digests(data_path)


def _log_digests(data_path: Path) -> None:
    from cchc_analysis import store

    digests = store.folder_digests(data_path)
    digests.save()  # the next run reuses them
    log.info("input digests: %d reused, %d computed", digests.hits_count, digests.misses_count)
    digests.hits_count = digests.misses_count = 0  # the next run of this process counts anew


def _then(jobs: Iterator[ReportJob], action: Callable[[], None]) -> Iterator[ReportJob]:
    """The jobs, then ``action()`` when the pool asks for one more (a worker is free and
    none is left)."""
    yield from jobs
    action()


class _IndexFigures:
    """The index page's counting, done on a thread while the last reports render (its
    imports, matplotlib's among them, and the province's KPIs for three periods: seconds of
    the run's end otherwise). Any failure leaves it to ``write_index``, as without it."""

    def __init__(self, data_path: Path, period: Period, tier: Tier) -> None:
        self.data_path, self.period, self.tier = data_path, period, tier
        self._thread: threading.Thread | None = None
        self._tables: IndexTables | None = None

    def start(self, unit_kinds: tuple[tuple[str, str], ...]) -> None:
        def count() -> None:
            from cchc_analysis.reports.index_page import index_tables  # matplotlib: not earlier

            with contextlib.suppress(Exception):  # write_index counts again, and says why
                self._tables = index_tables(self.data_path, self.period, unit_kinds, self.tier)

        self._thread = threading.Thread(target=count, name="cchc-index", daemon=True)
        self._thread.start()

    def result(self) -> IndexTables | None:
        """The tables (an ``IndexTables``), or None when they were not counted."""
        if self._thread is not None:
            self._thread.join()
        return self._tables


def _select(
    jobs: list[ReportJob],
    before: dict[str, dict[str, Any]],
    out_path: Path,
    force: bool,
    retry_failed: bool,
) -> tuple[list[ReportJob], list[ReportResult]]:
    """Split jobs into those to run and results carried over (unchanged, or not retried)."""
    todo: list[ReportJob] = []
    kept: list[ReportResult] = []
    for job in jobs:
        old = before.get(job.html_name)
        unchanged = (
            old is not None
            and old.get("status") in ("ok", "skipped")
            and old.get("input_hash") == job.input_hash
            and (out_path / job.html_name).exists()
            and all((out_path / table).exists() for table in old.get("tables", []))
        )
        if retry_failed:
            if old is not None and old.get("status") == "failed":
                todo.append(job)
            elif old is not None:  # not rendered by this run: its file stays as it is
                kept.append(
                    ReportResult(**{**result_fields(old), "status": "skipped", "seconds": 0.0})
                )
            else:
                todo.append(job)
        elif unchanged and not force:
            assert old is not None  # unchanged means the manifest has a record
            kept.append(ReportResult(**{**result_fields(old), "status": "skipped", "seconds": 0.0}))
        else:
            todo.append(job)
    return todo, kept
