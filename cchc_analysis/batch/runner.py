"""Fan-out of the report notebooks: papermill executes, nbconvert renders, in the same worker
process, on a warm kernel; one failing unit never stops the others.

Output folder layout::

    <out>/<unit_code>-<slug>.html        one per district
    <out>/province-<code>-<slug>.html    the province overview
    <out>/index.html                     links to all, with a KPI table
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
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from functools import lru_cache
from multiprocessing.connection import Connection
from multiprocessing.connection import wait as wait_ready
from pathlib import Path
from typing import Any

import nbformat

from cchc_analysis import store, units
from cchc_analysis.batch.kernels import KernelStartError, WarmKernel, default_kernel_name
from cchc_analysis.core import resources
from cchc_analysis.core.errors import ExecutorError, ParameterError
from cchc_analysis.core.locking import RunLock
from cchc_analysis.core.periods import Period
from cchc_analysis.core.resources import TEMPLATE_DIR, notebooks_dir
from cchc_analysis.core.version import __version__

KERNEL_NAME = "cchc-workbook"
KERNEL_START_TIMEOUT_S = 60
CELL_TIMEOUT_S = 1800  # a cell running longer than this is hung: fail the report, go on
INFRA_RETRIES = 1  # a report whose kernel or worker died is run once more on a fresh one
MANIFEST = "manifest.json"
LOCK_FILE = ".cchc-run.lock"
ENGINE_NAME = "cchc"

log = logging.getLogger("cchc.runner")


class RunInterrupted(KeyboardInterrupt):
    """The run received SIGTERM/SIGINT; it stops cleanly (workers and kernels shut down)."""

    def __init__(self, signum: int = signal.SIGINT) -> None:
        super().__init__(f"interrupted by signal {signum}")
        self.signum = signum


@lru_cache(maxsize=1)
def kernel_name() -> str:
    """The project's kernel when registered (make registers it in the venv), else python3."""
    return default_kernel_name()


@dataclass
class ReportJob:
    """One notebook to execute and render; carries the notebook's text so that a remote
    (Dask) worker needs only the package and the data folder, not this checkout."""

    kind: str  # district | province
    unit_code: str
    unit_name: str
    notebook: str
    html_name: str
    parameters: dict[str, Any]
    input_hash: str = ""
    notebook_text: str = ""


@dataclass
class ReportResult:
    """One line of the manifest."""

    kind: str
    unit_code: str
    unit_name: str
    file: str
    status: str  # ok | failed | skipped
    seconds: float
    cells_seconds: float = 0.0
    input_hash: str = ""
    error: str | None = None
    failed_cell: int | None = None  # 1-based cell of the source notebook
    failed_source: str | None = None  # first line of that cell
    attempts: int = 1
    warnings: list[str] = field(default_factory=list)


def _failed_result(job: Any, error: str) -> ReportResult:
    """The manifest line of a unit whose worker or task was lost before it could report."""
    return ReportResult(
        job.kind,
        job.unit_code,
        job.unit_name,
        job.html_name,
        "failed",
        0.0,
        input_hash=job.input_hash,
        error=error,
    )


@dataclass
class JobOutput:
    """What a worker sends back: the manifest line and the bytes to write."""

    result: ReportResult
    html: str | None = None
    notebook: str | None = None  # the partial notebook of a failed report
    infra_failure: bool = False  # kernel/worker trouble, worth one more try
    worker: str = ""
    kernel_starts: int = 0
    kernel_errors: list[str] = field(default_factory=list)


# --- rendering ----------------------------------------------------------------------------------


@lru_cache(maxsize=4)
def html_exporter(lang: str = "vi"):
    """nbconvert exporter with the workbook's template: no code, no prompts, no CDN.

    Cached per language: building it compiles the Jinja template (about 0.2 s)."""
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor

    exporter = HTMLExporter(
        template_name="cchc",
        extra_template_basedirs=[str(TEMPLATE_DIR)],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    exporter.language_code = lang
    # Researcher-facing prose cells are tagged and left out of the leadership report.
    exporter.register_preprocessor(
        TagRemovePreprocessor(remove_cell_tags={"remove-in-report"}, enabled=True), enabled=True
    )
    return exporter


def _strip_noise(nb: nbformat.NotebookNode) -> list[str]:
    """Drop stderr streams (warnings) from outputs, returning them for the manifest."""
    warnings: list[str] = []
    for cell in nb.cells:
        if cell.get("cell_type") != "code":
            continue
        kept = []
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream" and output.get("name") == "stderr":
                warnings.append(str(output.get("text", "")).strip()[:500])
            else:
                kept.append(output)
        cell["outputs"] = kept
    return warnings


def _cells_seconds(nb: nbformat.NotebookNode) -> float:
    total = 0.0
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("papermill", {})
        if meta.get("duration") is not None:
            total += float(meta["duration"])
    return total


def write_atomic(path: Path, content: str | bytes) -> None:
    """Write to a temporary file in the same folder, flush it to disk, rename over the target.

    A reader (or a run killed mid-write) sees the old file or the new one, never a part."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    data = content.encode("utf-8") if isinstance(content, str) else content
    try:
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def clean_stale_temporaries(out_dir: Path) -> int:
    """Remove temporary files left by a run that was killed mid-write (called under the lock)."""
    removed = 0
    for folder in (out_dir, out_dir / "failed"):
        if folder.is_dir():
            for tmp in folder.glob(".*.tmp"):
                tmp.unlink(missing_ok=True)
                removed += 1
    return removed


# --- execution (in a worker process, a Dask worker, or inline) -----------------------------------


def _register_engine() -> None:
    """A papermill engine that keeps the partially executed notebook when execution stops on
    something other than a cell error (kernel death, timeout), without saving after each cell,
    and that runs on the warm kernel's already connected client."""
    from papermill.engines import NBClientEngine, papermill_engines

    if ENGINE_NAME in papermill_engines._engines:
        return

    class CapturingEngine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, **kwargs):
            try:
                return super().execute_managed_notebook(nb_man, kernel_name, **kwargs)
            except BaseException as exc:
                exc.partial_notebook = nb_man.nb  # type: ignore[attr-defined]
                raise

    papermill_engines.register(ENGINE_NAME, CapturingEngine)


def _source_cell(nb: nbformat.NotebookNode, index: int) -> tuple[int, str]:
    """1-based number of cell ``index`` (an index into ``nb`` without papermill's error
    markers) in the source notebook, i.e. not counting the injected-parameters cell, and the
    cell's first line."""
    cells = _without_markers(nb)
    number = sum(
        "injected-parameters" not in c.get("metadata", {}).get("tags", [])
        for c in cells[: index + 1]
    )
    source = cells[index].get("source", "") if index < len(cells) else ""
    first = next((line for line in source.splitlines() if line.strip()), "")
    return number, first[:200]


def _without_markers(nb: nbformat.NotebookNode) -> list:
    return [
        c
        for c in nb.cells
        if "papermill-error-cell-tag" not in c.get("metadata", {}).get("tags", [])
    ]


def _last_started_cell(nb: nbformat.NotebookNode) -> int | None:
    last = None
    for i, cell in enumerate(nb.cells):
        if cell.get("metadata", {}).get("papermill", {}).get("start_time"):
            last = i
    return last


def execute_job(
    job: ReportJob, kernel: WarmKernel, lang: str, cell_timeout_s: float | None = CELL_TIMEOUT_S
) -> JobOutput:
    """Execute one notebook with papermill on ``kernel`` and render its HTML.

    Never raises (except on interruption): a failure is returned with its cell and error and
    the partial notebook.
    """
    import papermill as pm
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    _register_engine()
    started = time.perf_counter()
    result = ReportResult(
        job.kind, job.unit_code, job.unit_name, job.html_name, "ok", 0.0, input_hash=job.input_hash
    )
    out = JobOutput(result, worker=f"{os.uname().nodename}:{os.getpid()}")
    starts_before = kernel.starts_count
    errors_before = len(kernel.start_errors)
    partial = None
    with tempfile.TemporaryDirectory(prefix="cchc-run-") as tmp:
        source = Path(tmp) / "input.ipynb"
        if job.notebook_text:
            source.write_text(job.notebook_text, encoding="utf-8")
        else:
            source = Path(job.notebook)
        executed = Path(tmp) / "executed.ipynb"
        nb = None
        try:
            km = kernel.ensure()
            nb = pm.execute_notebook(
                str(source),
                str(executed),
                parameters=job.parameters,
                engine_name=ENGINE_NAME,
                kernel_name=kernel.kernel_name,
                km=km,
                kc=kernel.kc,
                request_save_on_cell_execute=False,
                progress_bar=False,
                log_output=False,
                start_timeout=kernel.start_timeout_s,
                execution_timeout=cell_timeout_s,
            )
            kernel.begin_reset()  # the kernel clears itself while we render
        except pm.PapermillExecutionError as exc:
            kernel.begin_reset()
            result.status = "failed"
            result.error = f"{exc.ename}: {exc.evalue}"
            with contextlib.suppress(Exception):
                partial = nbformat.read(executed, as_version=4)
            if partial is not None:
                result.failed_cell, result.failed_source = _source_cell(partial, exc.cell_index)
        except KernelStartError as exc:
            result.status = "failed"
            result.error = str(exc)
            out.infra_failure = True
        except (KeyboardInterrupt, SystemExit):
            kernel.discard()
            raise
        except Exception as exc:  # noqa: BLE001 - one unit must not stop the batch
            result.status = "failed"
            result.error = f"{type(exc).__name__}: {exc}".strip()
            if isinstance(exc, CellTimeoutError):
                result.error = f"CellTimeoutError: cell ran longer than {cell_timeout_s:g} s"
            # A dead or unresponsive kernel is worth one more try; a hung cell is not.
            out.infra_failure = not isinstance(exc, CellTimeoutError) and isinstance(
                exc, DeadKernelError | TimeoutError | RuntimeError
            )
            partial = getattr(exc, "partial_notebook", None)
            if partial is not None:
                index = _last_started_cell(partial)
                if index is not None:
                    result.failed_cell, result.failed_source = _source_cell(partial, index)
            kernel.discard()  # a kernel that died or hung is replaced for the next report
        if result.status == "ok" and nb is not None:
            try:
                result.warnings = _strip_noise(nb)
                result.cells_seconds = round(_cells_seconds(nb), 3)
                body, _ = html_exporter(lang).from_notebook_node(
                    nb, resources={"metadata": {"name": job.unit_name}}
                )
                out.html = body
            except Exception as exc:  # noqa: BLE001 - a rendering bug fails this unit only
                result.status = "failed"
                result.error = f"rendering failed: {type(exc).__name__}: {exc}"
                partial = nb
        if result.status == "failed" and partial is not None:
            with contextlib.suppress(Exception):
                out.notebook = nbformat.writes(partial)
    out.kernel_starts = kernel.starts_count - starts_before
    out.kernel_errors = kernel.start_errors[errors_before:]
    result.seconds = round(time.perf_counter() - started, 3)
    return out


_THREAD_KERNELS = threading.local()


def _thread_kernel() -> WarmKernel:
    """The calling thread's warm kernel (Dask runs tasks on threads of long-lived workers)."""
    kernel = getattr(_THREAD_KERNELS, "kernel", None)
    if kernel is None:
        kernel = WarmKernel(kernel_name(), KERNEL_START_TIMEOUT_S)
        _THREAD_KERNELS.kernel = kernel
    return kernel


def run_job(job: ReportJob, lang: str, cell_timeout_s: float | None = CELL_TIMEOUT_S) -> JobOutput:
    """Execute and render one report on this thread's warm kernel, retrying once on a fresh
    kernel when the kernel (not the notebook) failed."""
    kernel = _thread_kernel()
    for attempt in range(1, INFRA_RETRIES + 2):
        output = execute_job(job, kernel, lang, cell_timeout_s)
        output.result.attempts = attempt
        if not output.infra_failure:
            break
    return output


# --- local worker processes -----------------------------------------------------------------------


def _die_with_parent() -> None:
    """Ask Linux to SIGTERM this worker when the run that started it dies (even by SIGKILL),
    so no worker outlives its run; its kernel then exits with it."""
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _worker_main(
    conn: Any,
    lang: str,
    cell_timeout_s: float | None,
    parent_pid: int,
    kernel: WarmKernel | None = None,
) -> None:
    """A worker process: start a kernel at once (ahead of the first report), then execute the
    jobs the parent sends, one at a time, until it sends None or goes away."""

    def on_term(signum: int, _frame: Any) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_term)
    _die_with_parent()
    kernel = kernel or WarmKernel(kernel_name(), KERNEL_START_TIMEOUT_S)
    try:
        if os.getppid() != parent_pid:  # the parent died before prctl took effect
            return
        _register_engine()
        html_exporter(lang)
        with contextlib.suppress(KernelStartError):
            kernel.ensure()  # jobs retry the start and report its failure
        while True:
            job = conn.recv()
            if job is None:
                break
            conn.send(execute_job(job, kernel, lang, cell_timeout_s))
    except (EOFError, OSError, KeyboardInterrupt, SystemExit):
        pass
    finally:
        kernel.close()


def _worker_entry(kernel: WarmKernel | None = None) -> None:
    """``python -c`` entry of a worker process: the socket and settings come from the parent.

    Workers are started as fresh interpreters rather than forked, so they hold no copy of the
    lock file or of the parent's threads, and need no ``__main__`` guard in the caller."""
    fd, lang, timeout, parent_pid = json.loads(sys.argv[1])
    _worker_main(Connection(fd), lang, timeout, parent_pid, kernel)


@dataclass
class _Worker:
    process: subprocess.Popen
    conn: Connection
    job: ReportJob | None = None
    attempts: int = 0


class LocalPool:
    """Worker processes that each keep a warm kernel; the parent hands out one job at a time,
    so it always knows which report a worker was running when it died."""

    def __init__(
        self, size: int, lang: str, cell_timeout_s: float | None, log_path: Path | None = None
    ) -> None:
        self.lang, self.cell_timeout_s, self.log_path = lang, cell_timeout_s, log_path
        self.workers: list[_Worker] = [self._start() for _ in range(size)]

    def _start(self) -> _Worker:
        parent_sock, child_sock = socket.socketpair()
        settings = json.dumps([child_sock.fileno(), self.lang, self.cell_timeout_s, os.getpid()])
        # The kernel is launched first and boots while the worker imports papermill & co.
        code = (
            "from cchc_analysis.batch.kernels import WarmKernel, default_kernel_name\n"
            "kernel = WarmKernel(default_kernel_name())\n"
            "kernel.launch()\n"
            "from cchc_analysis.batch.runner import _worker_entry\n"
            "_worker_entry(kernel)\n"
        )
        # Worker warnings and tracebacks go to the run's log, not to cron's mail.
        err = open(self.log_path, "ab") if self.log_path else None  # noqa: SIM115
        try:
            process = subprocess.Popen(
                [sys.executable, "-c", code, settings],
                pass_fds=[child_sock.fileno()],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=err,
            )
        finally:
            child_sock.close()
            if err is not None:
                err.close()
        return _Worker(process, Connection(parent_sock.detach()))

    def run(self, jobs: Iterable[ReportJob], on_output: Callable[[JobOutput], None]) -> None:
        queue: deque[tuple[ReportJob, int]] = deque((job, 1) for job in jobs)
        while queue or any(w.job is not None for w in self.workers):
            for worker in self.workers:
                if worker.job is None and queue:
                    worker.job, worker.attempts = queue.popleft()
                    with contextlib.suppress(OSError):  # a dead worker is noticed below
                        worker.conn.send(worker.job)
            busy = [w for w in self.workers if w.job is not None]
            ready = wait_ready([w.conn for w in busy])
            for worker in busy:
                if worker.conn not in ready:
                    continue
                output = None
                with contextlib.suppress(EOFError, OSError):
                    output = worker.conn.recv()
                if output is None:  # the socket closed: the worker died
                    with contextlib.suppress(subprocess.TimeoutExpired):
                        worker.process.wait(timeout=5)
                    output = self._died(worker)
                    slot = next(i for i, w in enumerate(self.workers) if w is worker)
                    self.workers[slot] = self._start()
                job, attempts = worker.job, worker.attempts
                worker.job = None
                output.result.attempts = attempts
                if output.infra_failure and attempts <= INFRA_RETRIES:
                    log.warning("%s: %s; trying once more", job.html_name, output.result.error)
                    queue.appendleft((job, attempts + 1))
                    continue
                on_output(output)

    def _died(self, worker: _Worker) -> JobOutput:
        job = worker.job
        assert job is not None
        code = worker.process.poll()
        how = f"killed by signal {-code}" if code is not None and code < 0 else f"exit {code}"
        result = _failed_result(job, f"worker process died ({how})")
        return JobOutput(result, infra_failure=True)

    def close(self, timeout_s: float = 10.0) -> None:
        """Stop the workers (each shuts its kernel down); terminate any that do not stop."""
        for worker in self.workers:
            if worker.job is None:
                with contextlib.suppress(Exception):
                    worker.conn.send(None)
            elif worker.process.poll() is None:
                worker.process.terminate()  # SIGTERM: it closes its kernel and exits
        deadline = time.monotonic() + timeout_s
        for worker in self.workers:
            try:
                worker.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                worker.process.kill()
                worker.process.wait(timeout=5)
            with contextlib.suppress(Exception):
                worker.conn.close()


# --- planning -----------------------------------------------------------------------------------


def default_workers() -> int:
    """One worker per core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def parse_parameter(text: str) -> tuple[str, Any]:
    """``NAME=VALUE`` from the command line; the value typed as papermill's ``-p`` does."""
    name, sep, raw = text.partition("=")
    if not sep or not name.strip():
        raise ParameterError(f"parameter {text!r} is not NAME=VALUE")
    value: Any = raw
    lowered = raw.strip().lower()
    if lowered in ("true", "false"):
        value = lowered == "true"
    elif lowered in ("none", "null"):
        value = None
    elif not (len(raw) > 1 and raw.startswith("0") and raw.isdigit()):  # codes keep "001"
        for cast in (int, float):
            try:
                value = cast(raw)
                break
            except ValueError:
                continue
    return name.strip(), value


def check_parameters(notebook: str | Path, parameters: dict[str, Any]) -> None:
    """Raise ParameterError for a parameter the notebook does not declare."""
    import papermill as pm

    declared = set(pm.inspect_notebook(str(notebook)))
    unknown = sorted(set(parameters) - declared)
    if unknown:
        raise ParameterError(
            f"{Path(notebook).name} has no parameter(s) {', '.join(unknown)}; "
            f"it declares {', '.join(sorted(declared))}"
        )


def _file_digest(path: Path, digest: Any) -> None:
    digest.update(path.name.encode())
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)


@lru_cache(maxsize=1)
def code_digest() -> str:
    """Hash of everything the package brings to a report (code at any depth, templates,
    settings, methodology): a report made by other code or other settings is redone even
    when the version number did not change (as during development)."""
    digest = hashlib.sha256(__version__.encode())
    for path in resources.package_files():
        digest.update(path.relative_to(resources.PACKAGE_DIR).as_posix().encode())
        _file_digest(path, digest)
    return digest.hexdigest()


def input_hash(job: ReportJob, data_dir: Path) -> str:
    """Hash of everything a report depends on: its data slice, notebook, parameters, code."""
    digest = hashlib.sha256()
    digest.update(code_digest().encode())
    digest.update(json.dumps(job.parameters, sort_keys=True, default=str).encode())
    digest.update(job.notebook_text.encode())
    root = data_dir / store.DOSSIERS_DIR
    if job.kind == "district":
        slices = sorted((root / f"{store.PARTITION_COLUMN}={job.unit_code}").glob("*.parquet"))
    else:
        slices = sorted(root.glob("*/*.parquet"))
    # Reports compare a district with the province, so the cube and survey count for all.
    shared = [data_dir / name for name in (store.CUBE_FILE, store.SURVEY_FILE, store.DATASET_FILE)]
    for path in [*slices, *shared]:
        if path.exists():
            _file_digest(path, digest)
    return digest.hexdigest()[:16]


def plan_jobs(
    data_dir: Path,
    period: Period,
    unit_codes: Sequence[str] | None,
    lang: str,
    tier: str,
    extra_parameters: dict[str, Any] | None = None,
) -> list[ReportJob]:
    """One job per district asked for (all districts with data by default) plus the overview."""
    from cchc_analysis.core.errors import UnitNotInDataError

    available = store.dossier_partitions(data_dir)
    codes = list(unit_codes) if unit_codes else available
    missing = [c for c in codes if c not in available]
    if missing or not codes:
        raise UnitNotInDataError(
            f"unknown unit(s) {', '.join(missing) or '(none given)'}: no dossiers in {data_dir} "
            f"(units present: {', '.join(available) or 'none'})"
        )
    nb_dir = notebooks_dir()
    texts = {
        name: (nb_dir / name).read_text(encoding="utf-8")
        for name in ("district_report.ipynb", "province_overview.ipynb")
    }
    common = {
        "period": str(period),
        "data_dir": str(data_dir.resolve()),
        "lang": lang,
        "tier": tier,
        **(extra_parameters or {}),
    }
    check_parameters(
        nb_dir / "district_report.ipynb", {**common, "unit_code": "", "input_hash": ""}
    )
    check_parameters(nb_dir / "province_overview.ipynb", {**common, "input_hash": ""})
    jobs = []
    for code in codes:
        unit = units.get_unit(code, level="district")
        jobs.append(
            ReportJob(
                "district",
                code,
                unit.name,
                str(nb_dir / "district_report.ipynb"),
                f"{code}-{units.slugify(unit.name)}.html",
                {"unit_code": code, **common},
                notebook_text=texts["district_report.ipynb"],
            )
        )
    province_code = units.get_unit(codes[0], level="district").province_code
    province = units.get_unit(province_code, level="province")
    jobs.append(
        ReportJob(
            "province",
            province.code,
            province.name,
            str(nb_dir / "province_overview.ipynb"),
            f"province-{province.code}-{units.slugify(province.name)}.html",
            dict(common),
            notebook_text=texts["province_overview.ipynb"],
        )
    )
    for job in jobs:
        job.input_hash = input_hash(job, data_dir)
        job.parameters["input_hash"] = job.input_hash  # shown in the report's provenance
    return jobs


def read_manifest(out_dir: Path) -> dict[str, Any] | None:
    path = out_dir / MANIFEST
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None


# --- the batch ----------------------------------------------------------------------------------


class Progress:
    """Counts and ETA on stderr: a bar on a terminal, one line per report otherwise."""

    def __init__(self, total: int, quiet: bool) -> None:
        self.total, self.quiet, self.done, self.failed = total, quiet, 0, 0
        self.started = time.perf_counter()
        self.bar = None
        if not quiet and total and sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="report", file=sys.stderr, dynamic_ncols=True)

    def update(self, result: ReportResult) -> None:
        self.done += 1
        self.failed += result.status == "failed"
        if self.quiet:
            return
        if self.bar is not None:
            self.bar.set_postfix_str(f"{result.unit_code} {result.status}, {self.failed} failed")
            self.bar.update(1)
            return
        elapsed = time.perf_counter() - self.started
        eta = elapsed / self.done * (self.total - self.done)
        print(
            f"[{self.done}/{self.total}] {result.unit_code} {result.unit_name}: {result.status} "
            f"({result.seconds:.1f} s; {elapsed:.0f} s elapsed, ETA {eta:.0f} s)",
            file=sys.stderr,
            flush=True,
        )

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _run_local(
    jobs: list[ReportJob],
    lang: str,
    workers: int,
    cell_timeout_s: float | None,
    on_output: Callable[[JobOutput], None],
    log_path: Path | None = None,
) -> None:
    pool = LocalPool(workers, lang, cell_timeout_s, log_path)
    try:
        pool.run(jobs, on_output)
    finally:
        pool.close()


def _run_dask(
    jobs: list[ReportJob],
    lang: str,
    scheduler: str | None,
    workers: int,
    cell_timeout_s: float | None,
    on_output: Callable[[JobOutput], None],
) -> None:
    """Fan out on a Dask distributed cluster; each Dask worker thread keeps a warm kernel.

    Workers need the package installed and the data folder at the same path; they send the
    rendered HTML back, so the reports are written here, in the usual layout.
    """
    from distributed import Client, LocalCluster
    from distributed import as_completed as dask_completed

    run_id = f"{os.getpid()}-{time.time_ns()}"
    cluster = None
    try:
        if scheduler:
            _check_reachable(scheduler)
            client = Client(scheduler, timeout="30s")
        else:
            cluster = LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
            )
            client = Client(cluster)
    except (OSError, TimeoutError, ValueError) as exc:
        raise ExecutorError(f"cannot reach the Dask scheduler {scheduler}: {exc}") from None
    by_key = {}
    try:
        futures = []
        for job in jobs:
            future = client.submit(
                run_job,
                job,
                lang,
                cell_timeout_s,
                key=f"cchc-report-{job.html_name}-{run_id}",
                pure=False,
                retries=INFRA_RETRIES,  # a worker lost mid-report: once more elsewhere
            )
            by_key[future.key] = job
            futures.append(future)
        for future in dask_completed(futures):
            try:
                output = future.result()
            except Exception as exc:  # noqa: BLE001 - a lost task fails its unit only
                job = by_key[future.key]
                output = JobOutput(
                    _failed_result(job, f"Dask task failed: {type(exc).__name__}: {exc}")
                )
            on_output(output)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _check_reachable(address: str, timeout_s: float = 5.0) -> None:
    """Fail in seconds, with a clear message, when nothing listens at a tcp:// address
    (distributed itself retries for its whole connect timeout)."""
    from urllib.parse import urlsplit

    parts = urlsplit(address if "://" in address else f"tcp://{address}")
    if parts.scheme not in ("tcp", "tls") or not parts.hostname or not parts.port:
        return
    try:
        socket.create_connection((parts.hostname, parts.port), timeout=timeout_s).close()
    except OSError as exc:
        raise ExecutorError(f"cannot reach the Dask scheduler {address}: {exc}") from None


def open_run_log(
    out_dir: Path, prefix: str = "run", logger: logging.Logger = log
) -> tuple[logging.Handler, Path]:
    """A log file per run under ``out_dir/logs`` (report runs and scheduled runs alike); the
    caller removes and closes the handler when the run ends."""
    logs = out_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    path = logs / f"{prefix}-{datetime.now():%Y%m%d-%H%M%S}-{os.getpid()}.log"
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    return handler, path


@contextlib.contextmanager
def interruptible():
    """Turn SIGTERM (what cron, systemd and `kill` send) into RunInterrupted in the main
    thread, so a stopped run shuts its workers and kernels down and releases its lock."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_signal(signum: int, _frame: Any) -> None:
        raise RunInterrupted(signum)

    previous = signal.signal(signal.SIGTERM, on_signal)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def render_reports(
    data_dir: str | os.PathLike,
    period: Period,
    out_dir: str | os.PathLike,
    unit_codes: Sequence[str] | None = None,
    workers: int | None = None,
    lang: str = "vi",
    tier: str = "both",
    quiet: bool = False,
    force: bool = False,
    retry_failed: bool = False,
    executor: str = "process",
    scheduler: str | None = None,
    lock_timeout_s: float = 0.0,
    extra_parameters: dict[str, Any] | None = None,
    cell_timeout_s: float | None = CELL_TIMEOUT_S,
) -> dict[str, Any]:
    """Render every report, the index and the manifest; return the manifest."""
    from cchc_analysis.counting.prepare import prepare_folder
    from cchc_analysis.reports.index_page import write_index

    started = time.perf_counter()
    data_path = store.check_data_dir(data_dir)
    out_path = Path(out_dir)
    out_path.mkdir(parents=True, exist_ok=True)
    with interruptible(), RunLock(out_path / LOCK_FILE, timeout_s=lock_timeout_s):
        handler, log_path = open_run_log(out_path)
        try:
            if clean_stale_temporaries(out_path):
                log.info("removed temporary files left by an interrupted run")
            prepare_folder(data_path)
            jobs = plan_jobs(data_path, period, unit_codes, lang, tier, extra_parameters)
            previous = read_manifest(out_path) or {}
            before = {r["file"]: r for r in previous.get("reports", []) if "file" in r}
            todo, kept = _select(jobs, before, out_path, force, retry_failed)
            for result in kept:
                if result.status == "skipped":
                    log.info(
                        "skipped %s (inputs unchanged, hash %s)", result.file, result.input_hash
                    )
            order = {job.html_name: i for i, job in enumerate(jobs)}
            # Until a report is redone, its line describes the file still on disk.
            results: dict[str, ReportResult] = {r.file: r for r in kept}
            for job in todo:
                if job.html_name in before:
                    results[job.html_name] = ReportResult(**_result_fields(before[job.html_name]))
            n_workers = max(1, min(len(todo), workers or default_workers()))
            manifest = _manifest(data_path, period, lang, tier, n_workers, executor, log_path)

            def save_manifest(complete: bool) -> None:
                manifest["reports"] = _ordered(results.values(), order)
                manifest["seconds"] = round(time.perf_counter() - started, 3)
                manifest["complete"] = complete
                write_atomic(
                    out_path / MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=2)
                )

            progress = Progress(len(todo), quiet)

            def on_output(output: JobOutput) -> None:
                result = output.result
                failed_copy = out_path / "failed" / Path(result.file).with_suffix(".ipynb").name
                if result.status == "ok" and output.html is not None:
                    write_atomic(out_path / result.file, output.html)
                    failed_copy.unlink(missing_ok=True)
                elif output.notebook is not None:
                    failed_copy.parent.mkdir(parents=True, exist_ok=True)
                    write_atomic(failed_copy, output.notebook)
                results[result.file] = result
                progress.update(result)
                level = logging.INFO if result.status == "ok" else logging.ERROR
                where = f" (cell {result.failed_cell}: {result.failed_source})" * bool(
                    result.failed_cell
                )
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
            try:
                if todo and executor == "dask":
                    _run_dask(todo, lang, scheduler, n_workers, cell_timeout_s, on_output)
                elif todo:
                    _run_local(todo, lang, n_workers, cell_timeout_s, on_output, log_path)
            except RunInterrupted as exc:
                log.error("interrupted by signal %d; finished reports are kept", exc.signum)
                raise
            except KeyboardInterrupt:
                log.error("interrupted; finished reports are kept")
                raise
            finally:
                progress.close()
            ordered = sorted(results.values(), key=lambda r: order.get(r.file, 10**6))
            write_index(out_path, data_path, period, ordered, lang, tier)
            save_manifest(complete=True)
            log.info("done in %.1f s", manifest["seconds"])
            return manifest
        finally:
            log.removeHandler(handler)
            handler.close()


def _select(
    jobs: list[ReportJob],
    before: dict[str, dict],
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
        )
        if retry_failed:
            if old is not None and old.get("status") == "failed":
                todo.append(job)
            elif old is not None:  # not rendered by this run: its file stays as it is
                kept.append(
                    ReportResult(**{**_result_fields(old), "status": "skipped", "seconds": 0.0})
                )
            else:
                todo.append(job)
        elif unchanged and not force:
            kept.append(
                ReportResult(**{**_result_fields(old), "status": "skipped", "seconds": 0.0})
            )
        else:
            todo.append(job)
    return todo, kept


def _result_fields(record: dict) -> dict:
    names = ReportResult.__dataclass_fields__
    return {k: v for k, v in record.items() if k in names}


def _ordered(results: Iterable[ReportResult], order: dict[str, int]) -> list[dict]:
    return [asdict(r) for r in sorted(results, key=lambda r: order.get(r.file, 10**6))]


def _manifest(
    data_path: Path,
    period: Period,
    lang: str,
    tier: str,
    workers: int,
    executor: str,
    log_path: Path,
) -> dict[str, Any]:
    return {
        "generator": f"cchc-workbook {__version__}",
        "created_at": datetime.now().isoformat(timespec="seconds"),
        "period": str(period),
        "period_start": period.start.isoformat(),
        "period_end": period.end.isoformat(),
        "lang": lang,
        "tier": tier,
        "data_dir": str(data_path.resolve()),
        "workers": workers,
        "executor": executor,
        "log": str(log_path.relative_to(log_path.parent.parent)),
        "seconds": 0.0,
        "complete": False,
        "reports": [],
    }
