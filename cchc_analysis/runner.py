"""Fan-out of the report notebooks: papermill executes, nbconvert renders, in the same worker
process, on a warm kernel; one failing unit never stops the others.

Output folder layout::

    <out>/<unit_code>-<slug>.html        one per district
    <out>/province-<code>-<slug>.html    the province overview
    <out>/index.html                     links to all, with a KPI table
    <out>/manifest.json                  status, seconds, input hash and error of every report
    <out>/failed/<name>.ipynb            the partial notebook of a failed report
    <out>/logs/run-<time>.log            one log per run

Every file is written to a temporary name and renamed, so a run killed at any moment leaves
the previous good report, index and manifest in place. A report whose inputs (its data slice,
the notebook, the parameters, the package version) are unchanged is skipped.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import nbformat

from . import __version__, store, units
from .kernels import KernelStartError, WarmKernel
from .locking import RunLock
from .periods import Period

PACKAGE_DIR = Path(__file__).resolve().parent
TEMPLATE_DIR = PACKAGE_DIR / "templates"
KERNEL_NAME = "cchc-workbook"
KERNEL_START_TIMEOUT_S = 60
MANIFEST = "manifest.json"

log = logging.getLogger("cchc.runner")


class ParameterError(ValueError):
    """A notebook was given a parameter it does not declare (papermill only warns)."""


def notebooks_dir() -> Path:
    """Where the report notebooks live: $CCHC_NOTEBOOKS, else the repository's notebooks/."""
    env = os.environ.get("CCHC_NOTEBOOKS")
    return Path(env) if env else PACKAGE_DIR.parent / "notebooks"


def kernel_name() -> str:
    """The project's kernel when registered (make registers it in the venv), else python3."""
    from jupyter_client.kernelspec import KernelSpecManager

    return KERNEL_NAME if KERNEL_NAME in KernelSpecManager().find_kernel_specs() else "python3"


@dataclass
class ReportJob:
    """One notebook to execute and render."""

    kind: str  # district | province
    unit_code: str
    unit_name: str
    notebook: str
    html_name: str
    parameters: dict[str, Any]
    input_hash: str = ""


@dataclass
class ReportResult:
    kind: str
    unit_code: str
    unit_name: str
    file: str
    status: str  # ok | failed | skipped
    seconds: float
    cells_seconds: float = 0.0
    input_hash: str = ""
    error: str | None = None
    failed_cell: int | None = None
    warnings: list[str] = field(default_factory=list)


def html_exporter(lang: str = "vi"):
    """nbconvert exporter with the workbook's template: no code, no prompts, no CDN."""
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
    """Write to a temporary file in the same folder, then rename over the target."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    if isinstance(content, bytes):
        tmp.write_bytes(content)
    else:
        tmp.write_text(content, encoding="utf-8")
    tmp.replace(path)


# --- execution in a worker ----------------------------------------------------------------------

_WORKER_KERNEL: WarmKernel | None = None


def _worker_kernel() -> WarmKernel:
    global _WORKER_KERNEL
    if _WORKER_KERNEL is None:
        _WORKER_KERNEL = WarmKernel(kernel_name(), KERNEL_START_TIMEOUT_S)
    return _WORKER_KERNEL


def run_job(job: ReportJob, out_dir: str | Path, lang: str) -> ReportResult:
    """Execute one notebook with papermill on this worker's warm kernel and render it.

    Never raises: a failure is recorded with its cell and error, and the partial notebook is
    kept under ``failed/``.
    """
    import papermill as pm

    out_dir = Path(out_dir)
    started = time.perf_counter()
    result = ReportResult(
        job.kind, job.unit_code, job.unit_name, job.html_name, "ok", 0.0, input_hash=job.input_hash
    )
    failed_copy = out_dir / "failed" / Path(job.html_name).with_suffix(".ipynb").name
    kernel = _worker_kernel()
    with tempfile.TemporaryDirectory(prefix="cchc-run-") as tmp:
        executed = Path(tmp) / "executed.ipynb"
        try:
            km = kernel.ensure()
            kernel.reset()
            pm.execute_notebook(
                job.notebook,
                str(executed),
                parameters=job.parameters,
                kernel_name=kernel.kernel_name,
                km=km,
                progress_bar=False,
                log_output=False,
                start_timeout=KERNEL_START_TIMEOUT_S,
                cwd=str(Path(job.notebook).parent),
            )
        except pm.PapermillExecutionError as exc:
            result.status = "failed"
            result.error = f"{exc.ename}: {exc.evalue}"
            result.failed_cell = exc.exec_count
        except KernelStartError as exc:
            result.status = "failed"
            result.error = str(exc)
        except Exception as exc:  # noqa: BLE001 - one unit must not stop the batch
            result.status = "failed"
            result.error = f"{type(exc).__name__}: {exc}"
            kernel.discard()  # a kernel that died mid-run is replaced for the next report
        if result.status == "failed":
            failed_copy.parent.mkdir(parents=True, exist_ok=True)
            if executed.exists():
                write_atomic(failed_copy, executed.read_bytes())
        else:
            failed_copy.unlink(missing_ok=True)
            nb = nbformat.read(executed, as_version=4)
            result.warnings = _strip_noise(nb)
            result.cells_seconds = round(_cells_seconds(nb), 3)
            body, _ = html_exporter(lang).from_notebook_node(
                nb, resources={"metadata": {"name": job.unit_name}}
            )
            write_atomic(out_dir / job.html_name, body)
    result.seconds = round(time.perf_counter() - started, 3)
    return result


# --- planning -----------------------------------------------------------------------------------


def default_workers() -> int:
    return max(1, os.cpu_count() or 1)


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


def input_hash(job: ReportJob, data_dir: Path) -> str:
    """Hash of everything a report depends on: its data slice, notebook, parameters, version."""
    digest = hashlib.sha256()
    digest.update(__version__.encode())
    digest.update(json.dumps(job.parameters, sort_keys=True).encode())
    _file_digest(Path(job.notebook), digest)
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
    from .kpis import UnitNotInDataError

    available = store.dossier_partitions(data_dir)
    codes = list(unit_codes) if unit_codes else available
    missing = [c for c in codes if c not in available]
    if missing or not codes:
        raise UnitNotInDataError(
            f"unknown unit(s) {', '.join(missing) or '(none given)'}: no dossiers in {data_dir} "
            f"(units present: {', '.join(available) or 'none'})"
        )
    nb_dir = notebooks_dir()
    common = {
        "period": str(period),
        "data_dir": str(data_dir.resolve()),
        "lang": lang,
        "tier": tier,
        **(extra_parameters or {}),
    }
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
        )
    )
    for notebook in {job.notebook for job in jobs}:
        params = next(job.parameters for job in jobs if job.notebook == notebook)
        check_parameters(notebook, {**params, "input_hash": ""})
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
    except json.JSONDecodeError:
        return None


# --- the batch ----------------------------------------------------------------------------------


class Progress:
    """Counts and ETA on stderr: a bar on a terminal, one line per report otherwise."""

    def __init__(self, total: int, quiet: bool) -> None:
        self.total, self.quiet, self.done = total, quiet, 0
        self.started = time.perf_counter()
        self.bar = None
        if not quiet and sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="report", file=sys.stderr)

    def update(self, result: ReportResult) -> None:
        self.done += 1
        if self.quiet:
            return
        if self.bar is not None:
            self.bar.set_postfix_str(f"{result.unit_code} {result.status}")
            self.bar.update(1)
            return
        elapsed = time.perf_counter() - self.started
        eta = elapsed / self.done * (self.total - self.done)
        print(
            f"[{self.done}/{self.total}] {result.unit_code} {result.unit_name}: {result.status} "
            f"({result.seconds:.1f} s, ETA {eta:.0f} s)",
            file=sys.stderr,
            flush=True,
        )

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _run_local(
    jobs: list[ReportJob], out_dir: Path, lang: str, workers: int, on_result: Callable
) -> None:
    if workers <= 1:
        for job in jobs:
            on_result(run_job(job, out_dir, lang))
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(run_job, job, out_dir, lang) for job in jobs]
        for future in as_completed(futures):
            on_result(future.result())


def _run_dask(
    jobs: list[ReportJob], out_dir: Path, lang: str, scheduler: str | None, on_result: Callable
) -> None:
    """Fan out on a Dask distributed cluster; each Dask worker keeps its own warm kernel."""
    from distributed import Client
    from distributed import as_completed as dask_completed

    with Client(scheduler) if scheduler else Client(processes=True) as client:
        futures = [
            client.submit(
                run_job, job, str(out_dir), lang, key=f"report-{job.html_name}", pure=False
            )
            for job in jobs
        ]
        for future in dask_completed(futures):
            on_result(future.result())


def _setup_log(out_dir: Path) -> tuple[logging.Handler, Path]:
    logs = out_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    path = logs / f"run-{datetime.now():%Y%m%d-%H%M%S}-{os.getpid()}.log"
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    return handler, path


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
) -> dict[str, Any]:
    """Render every report, the index and the manifest; return the manifest."""
    from .index_page import write_index
    from .prepare import ensure_cube

    started = time.perf_counter()
    data_path = store.check_data_dir(data_dir)
    out_path = Path(out_dir)
    out_path.mkdir(parents=True, exist_ok=True)
    with RunLock(out_path / ".cchc-run.lock", timeout_s=lock_timeout_s):
        handler, log_path = _setup_log(out_path)
        try:
            ensure_cube(data_path)
            jobs = plan_jobs(data_path, period, unit_codes, lang, tier, extra_parameters)
            previous = read_manifest(out_path) or {}
            before = {r["file"]: r for r in previous.get("reports", [])}
            todo, results = _select(jobs, before, out_path, force, retry_failed)
            for result in results:
                log.info("skipped %s (inputs unchanged, hash %s)", result.file, result.input_hash)
            manifest = _manifest(data_path, period, lang, tier, workers, log_path, results)
            n_workers = max(1, min(len(todo), workers or default_workers()))
            manifest["workers"] = n_workers
            progress = Progress(len(todo), quiet)
            order = {job.html_name: i for i, job in enumerate(jobs)}

            def on_result(result: ReportResult) -> None:
                results.append(result)
                progress.update(result)
                level = logging.INFO if result.status == "ok" else logging.ERROR
                log.log(
                    level,
                    "%s %s %.1f s %s",
                    result.file,
                    result.status,
                    result.seconds,
                    result.error or "",
                )
                for warning in result.warnings:
                    log.warning("%s: %s", result.file, warning)
                # The manifest is rewritten after every report, so a killed run keeps its
                # progress and the next run skips what is already done.
                manifest["reports"] = _ordered(results, order)
                manifest["seconds"] = round(time.perf_counter() - started, 3)
                write_atomic(
                    out_path / MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=2)
                )

            log.info(
                "run: %d reports to render, %d unchanged, %d workers (%s)",
                len(todo),
                len(results),
                n_workers,
                executor,
            )
            if executor == "dask":
                _run_dask(todo, out_path, lang, scheduler, on_result)
            else:
                _run_local(todo, out_path, lang, n_workers, on_result)
            progress.close()
            ordered = sorted(results, key=lambda r: order.get(r.file, 10**6))
            write_index(out_path, data_path, period, ordered, lang, tier)
            manifest["reports"] = _ordered(results, order)
            manifest["seconds"] = round(time.perf_counter() - started, 3)
            write_atomic(out_path / MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=2))
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
            elif old is not None:
                kept.append(ReportResult(**{**_result_fields(old), "seconds": 0.0}))
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
    workers: int | None,
    log_path: Path,
    results: list[ReportResult],
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
        "log": str(log_path.relative_to(log_path.parent.parent)),
        "seconds": 0.0,
        "reports": [asdict(r) for r in results],
    }
