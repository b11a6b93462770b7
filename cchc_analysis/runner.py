"""Fan-out of the report notebooks: papermill executes, nbconvert renders, one unit at a time
per worker, and one failing unit never stops the others.

Output folder layout::

    <out>/<unit_code>-<slug>.html        one per district
    <out>/province-<code>-<slug>.html    the province overview
    <out>/index.html                     links to all, with a KPI table
    <out>/manifest.json                  status, seconds and error of every report
    <out>/failed/<name>.ipynb            the partial notebook of a failed report
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import nbformat

from . import __version__, store, units
from .periods import Period

PACKAGE_DIR = Path(__file__).resolve().parent
TEMPLATE_DIR = PACKAGE_DIR / "templates"
KERNEL_NAME = "cchc-workbook"
KERNEL_START_TIMEOUT_S = 60
KERNEL_START_ATTEMPTS = 3


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


@dataclass
class ReportResult:
    kind: str
    unit_code: str
    unit_name: str
    file: str
    status: str  # ok | failed
    seconds: float
    cells_seconds: float = 0.0
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


def _write_atomic(path: Path, content: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(content, encoding="utf-8")
    tmp.replace(path)


def run_job(job: ReportJob, out_dir: Path, lang: str) -> ReportResult:
    """Execute one notebook with papermill and render it; never raises."""
    import papermill as pm

    started = time.perf_counter()
    result = ReportResult(job.kind, job.unit_code, job.unit_name, job.html_name, "ok", 0.0)
    with tempfile.TemporaryDirectory(prefix="cchc-run-") as tmp:
        executed = Path(tmp) / "executed.ipynb"
        nb = None
        for attempt in range(1, KERNEL_START_ATTEMPTS + 1):
            try:
                nb = pm.execute_notebook(
                    str(job.notebook),
                    str(executed),
                    parameters=job.parameters,
                    kernel_name=kernel_name(),
                    progress_bar=False,
                    log_output=False,
                    start_timeout=KERNEL_START_TIMEOUT_S,
                    cwd=str(Path(job.notebook).parent),
                )
                break
            except pm.PapermillExecutionError as exc:
                result.status = "failed"
                result.error = f"{exc.ename}: {exc.evalue}"
                result.failed_cell = exc.exec_count
                break
            except RuntimeError as exc:  # kernel died or never answered: try a fresh one
                if attempt == KERNEL_START_ATTEMPTS:
                    result.status = "failed"
                    result.error = f"kernel failed {attempt} times: {exc}"
            except Exception as exc:  # noqa: BLE001 - one unit must not stop the batch
                result.status = "failed"
                result.error = f"{type(exc).__name__}: {exc}"
                break
        if result.status == "failed":
            failed_dir = out_dir / "failed"
            failed_dir.mkdir(parents=True, exist_ok=True)
            if executed.exists():
                name = Path(job.html_name).with_suffix(".ipynb").name
                (failed_dir / name).write_bytes(executed.read_bytes())
        else:
            stale = out_dir / "failed" / Path(job.html_name).with_suffix(".ipynb").name
            stale.unlink(missing_ok=True)
            nb = nbformat.read(executed, as_version=4)
            result.warnings = _strip_noise(nb)
            result.cells_seconds = round(_cells_seconds(nb), 3)
            body, _ = html_exporter(lang).from_notebook_node(
                nb, resources={"metadata": {"name": job.unit_name}}
            )
            _write_atomic(out_dir / job.html_name, body)
    result.seconds = round(time.perf_counter() - started, 3)
    return result


def default_workers() -> int:
    return max(1, os.cpu_count() or 1)


def plan_jobs(
    data_dir: Path,
    period: Period,
    unit_codes: Sequence[str] | None,
    lang: str,
    tier: str,
) -> list[ReportJob]:
    """One job per district asked for (all districts with data by default) plus the overview."""
    from .kpis import UnitNotInDataError

    available = store.dossier_partitions(data_dir)
    codes = list(unit_codes) if unit_codes else available
    missing = [c for c in codes if c not in available]
    if missing:
        raise UnitNotInDataError(
            f"unknown unit(s) {', '.join(missing)}: no dossiers in {data_dir} "
            f"(units present: {', '.join(available) or 'none'})"
        )
    nb_dir = notebooks_dir()
    common = {
        "period": str(period),
        "data_dir": str(data_dir.resolve()),
        "lang": lang,
        "tier": tier,
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
    province = units.get_unit(
        units.get_unit(codes[0], level="district").province_code, level="province"
    )
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
    return jobs


def render_reports(
    data_dir: str | os.PathLike,
    period: Period,
    out_dir: str | os.PathLike,
    unit_codes: Sequence[str] | None = None,
    workers: int | None = None,
    lang: str = "vi",
    tier: str = "both",
    quiet: bool = False,
) -> dict[str, Any]:
    """Render every report, the index and the manifest; return the manifest."""
    from .index_page import write_index
    from .prepare import ensure_cube

    started = time.perf_counter()
    data_path = store.check_data_dir(data_dir)
    out_path = Path(out_dir)
    out_path.mkdir(parents=True, exist_ok=True)
    jobs = plan_jobs(data_path, period, unit_codes, lang, tier)
    ensure_cube(data_path)
    n_workers = min(len(jobs), workers or default_workers())
    results: list[ReportResult] = []
    if n_workers <= 1:
        for job in jobs:
            results.append(run_job(job, out_path, lang))
            _progress(results, len(jobs), quiet)
    else:
        with ProcessPoolExecutor(max_workers=n_workers) as pool:
            futures = [pool.submit(run_job, job, out_path, lang) for job in jobs]
            for future in as_completed(futures):
                results.append(future.result())
                _progress(results, len(jobs), quiet)
    order = {job.html_name: i for i, job in enumerate(jobs)}
    results.sort(key=lambda r: order[r.file])
    manifest = {
        "generator": f"cchc-workbook {__version__}",
        "created_at": datetime.now().isoformat(timespec="seconds"),
        "period": str(period),
        "period_start": period.start.isoformat(),
        "period_end": period.end.isoformat(),
        "lang": lang,
        "tier": tier,
        "data_dir": str(data_path.resolve()),
        "workers": n_workers,
        "seconds": round(time.perf_counter() - started, 3),
        "reports": [asdict(r) for r in results],
    }
    write_index(out_path, data_path, period, results, lang, tier)
    manifest["seconds"] = round(time.perf_counter() - started, 3)
    _write_atomic(out_path / "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2))
    return manifest


def _progress(results: list[ReportResult], total: int, quiet: bool) -> None:
    if quiet:
        return
    last = results[-1]
    mark = "ok" if last.status == "ok" else "FAILED"
    print(
        f"[{len(results)}/{total}] {last.unit_code} {last.unit_name}: {mark} "
        f"({last.seconds:.1f} s)",
        file=sys.stderr,
        flush=True,
    )
