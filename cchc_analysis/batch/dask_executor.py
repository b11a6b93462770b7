"""The Dask executor: the same jobs fanned out on a Dask distributed cluster.

Named ``dask_executor`` so as not to shadow the ``dask`` package. Each Dask worker thread keeps
a warm kernel (:func:`~cchc_analysis.batch.execute.run_job`); workers need the package
installed and the data folder at the same path, and send the rendered HTML back, so the
reports are written by the run, in the usual layout. A local cluster's workers share the
province-wide tables of the run, as the local pool's do (``core.run_shared``); a remote
cluster's workers each compute their own.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from urllib.parse import urlsplit

from cchc_analysis.batch.execute import INFRA_RETRIES, JobOutput, run_job
from cchc_analysis.batch.job import ReportJob
from cchc_analysis.batch.manifest import failed_result
from cchc_analysis.core import run_shared
from cchc_analysis.core.errors import ExecutorError


def run_dask(
    jobs: list[ReportJob],
    *,
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
    # distributed's functions have no type hints: calls to them carry type: ignore.
    from distributed import Client, LocalCluster
    from distributed import as_completed as dask_completed

    run_id = f"{os.getpid()}-{time.time_ns()}"
    cluster = None
    shared_dir = None if scheduler else run_shared.make_folder()
    try:
        if scheduler:
            _check_reachable(scheduler)
            client = Client(scheduler, timeout="30s")  # type: ignore[no-untyped-call]
        else:
            cluster = LocalCluster(  # type: ignore[no-untyped-call]
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                env={run_shared.ENV: str(shared_dir)} if shared_dir else None,
            )
            client = Client(cluster)  # type: ignore[no-untyped-call]
    except (OSError, TimeoutError, ValueError) as exc:
        run_shared.remove_folder(shared_dir)
        raise ExecutorError(f"cannot reach the Dask scheduler {scheduler}: {exc}") from None
    by_key = {}
    try:
        futures = []
        for job in jobs:
            future = client.submit(
                run_job,
                job,
                lang=lang,
                cell_timeout_s=cell_timeout_s,
                key=f"cchc-report-{job.html_name}-{run_id}",
                pure=False,
                retries=INFRA_RETRIES,  # a worker lost mid-report: once more elsewhere
            )
            by_key[future.key] = job
            futures.append(future)
        for future in dask_completed(futures):  # type: ignore[no-untyped-call]
            try:
                output = future.result()
            except Exception as exc:  # noqa: BLE001 - a lost task fails its unit only
                job = by_key[future.key]
                output = JobOutput(
                    failed_result(job, f"Dask task failed: {type(exc).__name__}: {exc}")
                )
            on_output(output)
    finally:
        client.close()  # type: ignore[no-untyped-call]
        if cluster is not None:
            cluster.close()
        run_shared.remove_folder(shared_dir)


def _check_reachable(address: str, timeout_s: float = 5.0) -> None:
    """Fail in seconds, with a clear message, when nothing listens at a tcp:// address
    (distributed itself retries for its whole connect timeout)."""
    parts = urlsplit(address if "://" in address else f"tcp://{address}")
    if parts.scheme not in ("tcp", "tls") or not parts.hostname or not parts.port:
        return
    try:
        socket.create_connection((parts.hostname, parts.port), timeout=timeout_s).close()
    except OSError as exc:
        raise ExecutorError(f"cannot reach the Dask scheduler {address}: {exc}") from None
