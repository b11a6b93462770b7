"""What a run records about itself: the manifest, the per-run log file and the progress line.

:class:`ReportResult` is one line of ``manifest.json``. The manifest always describes the
files on disk: it is rewritten (atomically, like every file the run writes) after each report,
so a run killed at any moment leaves a manifest a rerun can trust. Temporary files a killed
run left behind are removed by the next one, under the output folder's lock.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from cchc_analysis.batch.job import ReportJob
from cchc_analysis.core.periods import Period
from cchc_analysis.core.version import __version__

MANIFEST = "manifest.json"

log = logging.getLogger("cchc.runner")  # the run's log; open_run_log gives it a file per run


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
    tables: list[str] = field(default_factory=list)  # its CSV/XLSX files, relative to the run


def failed_result(job: ReportJob, error: str) -> ReportResult:
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
    """Remove temporary files (and table folders) left by a run that was killed mid-write
    (called under the lock)."""
    removed = 0
    for folder in (out_dir, out_dir / "failed"):
        if folder.is_dir():
            for tmp in folder.glob(".*.tmp"):
                if tmp.is_dir() and not tmp.is_symlink():
                    shutil.rmtree(tmp, ignore_errors=True)
                else:
                    tmp.unlink(missing_ok=True)
                removed += 1
    return removed


def read_manifest(out_dir: Path) -> dict[str, Any] | None:
    path = out_dir / MANIFEST
    if not path.exists():
        return None
    try:
        manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    return manifest


class Progress:
    """Counts and ETA on stderr: a bar on a terminal, one line per report otherwise."""

    def __init__(self, total: int, *, quiet: bool) -> None:
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


def open_run_log(
    out_dir: Path, *, prefix: str = "run", logger: logging.Logger = log
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


def result_fields(record: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of a manifest record that ReportResult knows (older manifests may have more)."""
    names = ReportResult.__dataclass_fields__
    return {k: v for k, v in record.items() if k in names}


def ordered_records(results: Iterable[ReportResult], order: dict[str, int]) -> list[dict[str, Any]]:
    """Manifest records in the order of the planned jobs; results of other files last."""
    return [asdict(r) for r in sorted(results, key=lambda r: order.get(r.file, 10**6))]


def new_manifest(
    data_path: Path,
    period: Period,
    lang: str,
    tier: str,
    workers: int,
    executor: str,
    log_path: Path,
) -> dict[str, Any]:
    """The manifest's header for a new run, with no report yet and not complete."""
    return {
        "generator": f"cchc-workbook {__version__}",
        "created_at": datetime.now().isoformat(timespec="seconds"),
        "period": str(period),
        "period_start": period.start.isoformat(),
        "period_end": period.end.isoformat(),
        "convention": period.convention,
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
