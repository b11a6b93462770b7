"""Executing one report: papermill runs the notebook on a warm kernel, nbconvert renders it.

This is what every executor runs, in a local worker process, on a Dask worker thread, or
inline. :func:`execute_job` never raises for a failing notebook: the failure comes back in a
:class:`JobOutput` with the source cell that failed and the partial notebook, and a kernel that
died (rather than a notebook that failed) is flagged as worth one more try. The papermill
engine registered here keeps the partial notebook when execution stops on something other
than a cell error, and reuses the warm kernel's connected client.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import nbformat

from cchc_analysis.batch.kernels import WarmKernel, default_kernel_name
from cchc_analysis.batch.manifest import ReportResult
from cchc_analysis.batch.plan import ReportJob
from cchc_analysis.core.errors import KernelStartError
from cchc_analysis.core.resources import TEMPLATE_DIR

if TYPE_CHECKING:
    from nbconvert import HTMLExporter

KERNEL_START_TIMEOUT_S = 60
CELL_TIMEOUT_S = 1800  # a cell running longer than this is hung: fail the report, go on
INFRA_RETRIES = 1  # a report whose kernel or worker died is run once more on a fresh one
ENGINE_NAME = "cchc"


@lru_cache(maxsize=1)
def kernel_name() -> str:
    """The project's kernel when registered (make registers it in the venv), else python3."""
    return default_kernel_name()


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


@lru_cache(maxsize=4)
def html_exporter(lang: str = "vi") -> HTMLExporter:
    """nbconvert exporter with the workbook's template: no code, no prompts, no CDN.

    Cached per language: building it compiles the Jinja template (about 0.2 s)."""
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor

    # nbconvert's and nbformat's functions have no type hints: calls carry type: ignore.
    exporter = HTMLExporter(  # type: ignore[no-untyped-call]
        template_name="cchc",
        extra_template_basedirs=[str(TEMPLATE_DIR)],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    exporter.language_code = lang
    # Researcher-facing prose cells are tagged and left out of the leadership report.
    exporter.register_preprocessor(  # type: ignore[no-untyped-call]
        TagRemovePreprocessor(  # type: ignore[no-untyped-call]
            remove_cell_tags={"remove-in-report"}, enabled=True
        ),
        enabled=True,
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


def register_engine() -> None:
    """A papermill engine that keeps the partially executed notebook when execution stops on
    something other than a cell error (kernel death, timeout), without saving after each cell,
    and that runs on the warm kernel's already connected client."""
    from papermill.engines import NBClientEngine, papermill_engines

    if ENGINE_NAME in papermill_engines._engines:
        return

    class CapturingEngine(NBClientEngine):  # type: ignore[misc]  # papermill has no type hints
        @classmethod
        def execute_managed_notebook(cls, nb_man: Any, kernel_name: str, **kwargs: Any) -> Any:
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


def _without_markers(nb: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
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
    job: ReportJob,
    kernel: WarmKernel,
    *,
    lang: str,
    cell_timeout_s: float | None = CELL_TIMEOUT_S,
) -> JobOutput:
    """Execute one notebook with papermill on ``kernel`` and render its HTML.

    Never raises (except on interruption): a failure is returned with its cell and error and
    the partial notebook.
    """
    import papermill as pm
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    register_engine()
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
                partial = nbformat.read(executed, as_version=4)  # type: ignore[no-untyped-call]
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
