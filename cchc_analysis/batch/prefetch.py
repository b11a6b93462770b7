"""The first report's province-wide tables, computed by the run while its first kernel starts.

Why: a run's first report waits for its kernel to boot and import the report stack (about 2 s
on 2 cores), then spends most of its own time on the province-wide tables every report of the
province shares (every unit's counts for three periods, the monthly series: 1.7 s of the
first report's 1.8 s of loading, 0.1 s once they exist). Meanwhile the run's own process has
planned and waits. So it loads the first report's data itself, as the report's notebook does,
with the run's shared folder named (``core.run_shared``): the tables go there, and the kernel
reads them (or waits for the one being computed) instead of computing them again.

Only for a notebook that loads its data with ``UnitReport.load`` (the package's unit report,
or one of the same kind): what any other notebook asks for is not known. Nothing depends on
it: a failure is logged and the report computes what it needs; a result is keyed by the data
folder's state, so what the run computes is exactly what the kernel would have.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from cchc_analysis.batch.job import ReportJob
from cchc_analysis.core import run_shared

log = logging.getLogger("cchc.runner")

# The notebook's call and the parameters it passes (notebooks/district_report.ipynb); one the
# job does not set keeps the notebook's default, which is the function's.
LOAD_CALL = "UnitReport.load("
LOAD_PARAMETERS = (
    "unit_code",
    "period",
    "data_dir",
    "lang",
    "tier",
    "input_hash",
    "level",
    "convention",
)


def start_prefetch(job: ReportJob, shared_dir: Path | None) -> threading.Thread | None:
    """Load ``job``'s data on a thread of this process into the run's shared folder; None
    when there is nothing to do (no shared folder, a notebook of another kind)."""
    if shared_dir is None or LOAD_CALL not in job.notebook_text:
        return None
    thread = threading.Thread(
        target=_load, args=(job, shared_dir), name="cchc-prefetch", daemon=True
    )
    thread.start()
    return thread


def _load(job: ReportJob, shared_dir: Path) -> None:
    started = time.perf_counter()
    try:
        from cchc_analysis.reports.unit_report import UnitReport

        if run_shared.folder() != shared_dir:
            return  # the run no longer names it (it has ended)
        given = {name: job.parameters[name] for name in LOAD_PARAMETERS if name in job.parameters}
        UnitReport.load(**given)
    except Exception as exc:  # noqa: BLE001 - the report computes what it needs itself
        log.info("prefetch for %s failed (%s: %s)", job.html_name, type(exc).__name__, exc)
        return
    log.info(
        "%s: province-wide tables loaded ahead in %.1f s",
        job.html_name,
        time.perf_counter() - started,
    )
