"""Executing one report: nbclient runs the notebook on a warm kernel, nbconvert renders it.

This is what every executor runs, in a local worker process, on a Dask worker thread, or
inline. :func:`execute_job` never raises for a failing notebook: the failure comes back in a
:class:`JobOutput` with the source cell that failed and the partial notebook, and a kernel that
died (rather than a notebook that failed) is flagged as worth one more try.

The notebook is executed as ``papermill`` executes it, with papermill's own parts: its
parameter injection (an ``injected-parameters`` cell after the ``parameters`` cell), its cell
metadata (start, end, duration, status) and its error markers in the partial notebook of a
failed report. What is left out is what costs a report time without changing a byte of its
HTML: reading and writing (and validating) the notebook file, a new kernel client and a
``kernel_info`` round trip per report. The notebook runs on the warm kernel's one connected
client, in memory.
"""

from __future__ import annotations

import contextlib
import copy
import os
import threading
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from cchc_analysis.batch.exporter import html_exporter, warm_exporter
from cchc_analysis.batch.job import ReportJob
from cchc_analysis.batch.manifest import ReportResult
from cchc_analysis.core.errors import KernelStartError

if TYPE_CHECKING:
    from nbformat import NotebookNode

    from cchc_analysis.batch.kernels import WarmKernel

KERNEL_START_TIMEOUT_S = 60
CELL_TIMEOUT_S = 1800  # a cell running longer than this is hung: fail the report, go on
INFRA_RETRIES = 1  # a report whose kernel or worker died is run once more on a fresh one


@lru_cache(maxsize=1)
def kernel_name() -> str:
    """The project's kernel when registered (make registers it in the venv), else python3."""
    from cchc_analysis.batch.kernels import default_kernel_name  # jupyter_client: workers only

    return default_kernel_name()


@dataclass
class JobOutput:
    """What a worker sends back: the manifest line and the bytes to write."""

    result: ReportResult
    html: str | None = None
    notebook: str | None = None  # the partial notebook of a failed report
    infra_failure: bool = False  # kernel/worker trouble, worth one more try
    worker: str = ""
    started_at: float | None = None  # when its first cell was sent (seconds since the epoch)
    kernel_starts: int = 0
    kernel_errors: list[str] = field(default_factory=list)


def prepare_worker(lang: str) -> None:
    """Import the execution and rendering stack and build the exporter, ahead of the first
    report (a worker does this while its kernel boots)."""
    import nbclient  # noqa: F401
    import papermill.execute  # noqa: F401

    warm_exporter(lang)


def _strip_noise(nb: NotebookNode) -> list[str]:
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


def _cells_seconds(nb: NotebookNode) -> float:
    total = 0.0
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("papermill", {})
        if meta.get("duration") is not None:
            total += float(meta["duration"])
    return total


def _source_cell(nb: NotebookNode, index: int) -> tuple[int, str]:
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


def _without_markers(nb: NotebookNode) -> list[NotebookNode]:
    return [
        c
        for c in nb.cells
        if "papermill-error-cell-tag" not in c.get("metadata", {}).get("tags", [])
    ]


def _last_started_cell(nb: NotebookNode) -> int | None:
    last = None
    for i, cell in enumerate(nb.cells):
        if cell.get("metadata", {}).get("papermill", {}).get("start_time"):
            last = i
    return last


@lru_cache(maxsize=8)
def _parsed(text: str) -> NotebookNode:
    """A notebook's text parsed (and validated) once per process, as papermill's
    ``load_notebook_node`` loads a file: upgraded to the latest v4, with papermill's metadata,
    and a tags list and papermill metadata on every cell. Callers get a deep copy."""
    import nbformat
    from papermill.version import version

    nb = nbformat.reads(text, as_version=4)  # type: ignore[no-untyped-call]
    upgraded = nbformat.v4.upgrade(nb)  # type: ignore[no-untyped-call]
    nb = upgraded if upgraded is not None else nb
    if not hasattr(nb.metadata, "papermill"):
        nb.metadata["papermill"] = {
            "default_parameters": {},
            "parameters": {},
            "environment_variables": {},
            "version": version,
        }
    for cell in nb.cells:
        if not hasattr(cell.metadata, "tags"):
            cell.metadata["tags"] = []
        if not hasattr(cell.metadata, "papermill"):
            cell.metadata["papermill"] = {}
    parsed: NotebookNode = nb
    return parsed


def parameterized(job: ReportJob, kernel_name: str) -> NotebookNode:
    """The job's notebook with its parameters injected, ready to run: what papermill's
    ``execute_notebook`` builds before executing (same cells, tags and metadata)."""
    from papermill.execute import prepare_notebook_metadata, remove_error_markers
    from papermill.parameterize import parameterize_notebook

    text = job.notebook_text or Path(job.notebook).read_text(encoding="utf-8")
    nb = copy.deepcopy(_parsed(text))
    nb = parameterize_notebook(nb, job.parameters, kernel_name=kernel_name)
    nb = prepare_notebook_metadata(nb, job.notebook, None)
    ready: NotebookNode = remove_error_markers(nb)
    return ready


def _execute(nb: NotebookNode, kernel: WarmKernel, cell_timeout_s: float | None) -> None:
    """Run ``nb``'s cells in order on the (ensured) warm kernel, recording papermill's metadata, and
    raise papermill's ``PapermillExecutionError`` (error markers added to ``nb``) when a cell
    fails. Any other exception (dead kernel, timeout) carries ``nb`` as ``partial_notebook``.
    """
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError
    from papermill.engines import NotebookExecutionManager
    from papermill.execute import raise_for_execution_errors

    client = NotebookClient(
        nb,
        km=kernel.km,
        kernel_name=kernel.kernel_name,
        timeout=cell_timeout_s,
        startup_timeout=kernel.start_timeout_s,
        raise_on_iopub_timeout=True,
    )
    client.kc = kernel.kc  # the warm kernel's connected client, not a new one per report
    manager = NotebookExecutionManager(nb, output_path=None, progress_bar=False)
    manager.notebook_start()
    try:
        # papermill's loop (PapermillNotebookClient.papermill_execute_cells)
        for index, cell in enumerate(nb.cells):
            try:
                manager.cell_start(cell, index)
                client.execute_cell(cell, index)
            except CellExecutionError as exc:
                manager.cell_exception(nb.cells[index], cell_index=index, exception=exc)
                break
            finally:
                manager.cell_complete(nb.cells[index], cell_index=index)
        if kernel.language_info:
            nb.metadata["language_info"] = kernel.language_info
    except BaseException as exc:
        exc.partial_notebook = nb  # type: ignore[attr-defined]
        raise
    finally:
        manager.notebook_complete()
    raise_for_execution_errors(nb, None)


def execute_job(
    job: ReportJob,
    kernel: WarmKernel,
    *,
    lang: str,
    cell_timeout_s: float | None = CELL_TIMEOUT_S,
) -> JobOutput:
    """Execute one notebook on ``kernel`` and render its HTML.

    Never raises (except on interruption): a failure is returned with its cell and error and
    the partial notebook.
    """
    import nbformat
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    started = time.perf_counter()
    result = ReportResult(
        job.kind, job.unit_code, job.unit_name, job.html_name, "ok", 0.0, input_hash=job.input_hash
    )
    out = JobOutput(result, worker=f"{os.uname().nodename}:{os.getpid()}")
    starts_before = kernel.starts_count
    errors_before = len(kernel.start_errors)
    partial = None
    nb = None
    try:
        nb = parameterized(job, kernel.kernel_name)
        kernel.ensure()
        out.started_at = time.time()
        _execute(nb, kernel, cell_timeout_s)
        kernel.begin_reset()  # the kernel clears itself while we render
    except PapermillExecutionError as exc:
        kernel.begin_reset()
        result.status = "failed"
        result.error = f"{exc.ename}: {exc.evalue}"
        partial = nb
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
            out.notebook = nbformat.writes(partial)  # type: ignore[no-untyped-call]
    out.kernel_starts = kernel.starts_count - starts_before
    out.kernel_errors = kernel.start_errors[errors_before:]
    result.seconds = round(time.perf_counter() - started, 3)
    return out


_THREAD_KERNELS = threading.local()


def _thread_kernel() -> WarmKernel:
    """The calling thread's warm kernel (Dask runs tasks on threads of long-lived workers)."""
    from cchc_analysis.batch.kernels import WarmKernel

    kernel = getattr(_THREAD_KERNELS, "kernel", None)
    if kernel is None:
        kernel = WarmKernel(kernel_name(), KERNEL_START_TIMEOUT_S)
        _THREAD_KERNELS.kernel = kernel
    return kernel


def run_job(
    job: ReportJob, *, lang: str, cell_timeout_s: float | None = CELL_TIMEOUT_S
) -> JobOutput:
    """Execute and render one report on this thread's warm kernel, retrying once on a fresh
    kernel when the kernel (not the notebook) failed."""
    kernel = _thread_kernel()
    for attempt in range(1, INFRA_RETRIES + 2):
        output = execute_job(job, kernel, lang=lang, cell_timeout_s=cell_timeout_s)
        output.result.attempts = attempt
        if not output.infra_failure:
            break
    return output
