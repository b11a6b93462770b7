"""The local executor: worker processes that each keep a warm kernel, and the run's signals.

Workers are fresh interpreters (not forks) that talk to the parent over a socket; the parent
hands out one job at a time, so it always knows which report a worker was running when it
died, and replaces that worker. Linux is asked to stop a worker when its run dies, so no worker
outlives its run. :func:`interruptible` turns SIGTERM into :class:`RunInterrupted` so that a
stopped run shuts its workers and kernels down and releases its lock.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import logging
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.connection import wait as wait_ready
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cchc_analysis.batch import standby
from cchc_analysis.batch.execute import (
    INFRA_RETRIES,
    KERNEL_START_TIMEOUT_S,
    JobOutput,
    execute_job,
    kernel_name,
    prepare_worker,
)
from cchc_analysis.batch.job import ReportJob
from cchc_analysis.batch.manifest import failed_result
from cchc_analysis.core import run_shared
from cchc_analysis.core.errors import KernelStartError

if TYPE_CHECKING:  # jupyter_client is imported by the workers, not by the run that starts them
    from cchc_analysis.batch.kernels import WarmKernel

log = logging.getLogger("cchc.runner")

READY = "ready"  # what a worker sends once its kernel is up
READY_ANSWER_S = 0.5  # how long a worker that said READY waits for a job before warming up


class RunInterrupted(KeyboardInterrupt):
    """The run received SIGTERM/SIGINT; it stops cleanly (workers and kernels shut down)."""

    def __init__(self, signum: int = signal.SIGINT) -> None:
        super().__init__(f"interrupted by signal {signum}")
        self.signum = signum


@contextlib.contextmanager
def interruptible() -> Iterator[None]:
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


def default_workers() -> int:
    """One worker per core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def _die_with_parent() -> None:
    """Ask Linux to SIGTERM this worker when the run that started it dies (even by SIGKILL),
    so no worker outlives its run; its kernel then exits with it."""
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def wait_for_first_kernel(timeout_s: float = KERNEL_START_TIMEOUT_S) -> None:
    """In a worker that is not the pool's first: wait until the first worker's kernel is ready
    (it closes the gate pipe's write end, or dies), ``timeout_s`` at most, before importing
    anything or starting a kernel (see ``LocalPool``)."""
    gate = json.loads(sys.argv[1])[4]
    if not gate or gate[0] != "wait":
        return
    with contextlib.suppress(OSError):
        select.select([gate[1]], [], [], timeout_s)
    with contextlib.suppress(OSError):
        os.close(gate[1])


def _worker_main(
    conn: Any,
    lang: str,
    cell_timeout_s: float | None,
    parent_pid: int,
    kernel: WarmKernel | None = None,
    gate: tuple[str, int] | None = None,
) -> None:
    """A worker process: start a kernel ahead of the first report, then execute the jobs the
    parent sends, one at a time, until it sends None or goes away.

    ``gate``: ("open", fd) for the pool's first worker, which closes the pipe's write end
    ``fd`` once its kernel is ready: the others (``wait_for_first_kernel``) start then."""

    def on_term(signum: int, _frame: Any) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_term)
    _die_with_parent()
    if kernel is None:
        from cchc_analysis.batch.kernels import WarmKernel

        kernel = WarmKernel(kernel_name(), KERNEL_START_TIMEOUT_S, warm_up_when_idle=True)
    how, gate_fd = gate or ("", -1)
    if how == "open":
        os.set_inheritable(gate_fd, False)  # the kernel must not keep the gate shut
    try:
        if os.getppid() != parent_pid:  # the parent died before prctl took effect
            return
        prepare_worker(lang)
        with contextlib.suppress(KernelStartError):
            kernel.ensure()  # jobs retry the start and report its failure
        if how == "open":
            os.close(gate_fd)  # the other workers' kernels start now
            how = ""
        conn.send(READY)  # jobs are handed to workers that are ready, the first free first
        conn.poll(READY_ANSWER_S)  # the first job, before any warm-up step can delay it
        while True:
            # The kernel finishes warming up while no report waits (never delaying one).
            kernel.warm_up_while(_no_job_waiting(conn))
            job = conn.recv()
            if job is None:
                break
            if isinstance(job, tuple) and job[0] == standby.MESSAGE:
                # The run ends and leaves this worker warm for the next: wait for it.
                _, idle_s, fingerprint = job
                taken = standby.wait_for_run(conn, kernel, idle_s, fingerprint)
                if taken is None:
                    break
                conn = taken
                continue
            conn.send(execute_job(job, kernel, lang=lang, cell_timeout_s=cell_timeout_s))
    except (EOFError, OSError, KeyboardInterrupt, SystemExit):
        pass
    finally:
        if how == "open":
            with contextlib.suppress(OSError):
                os.close(gate_fd)
        kernel.close()


def _no_job_waiting(conn: Connection) -> Callable[[], bool]:
    return lambda: not conn.poll()


def _worker_entry(kernel: WarmKernel | None = None) -> None:
    """``python -c`` entry of a worker process: the socket and settings come from the parent.

    Workers are started as fresh interpreters rather than forked, so they hold no copy of the
    lock file or of the parent's threads, and need no ``__main__`` guard in the caller."""
    fd, lang, timeout, parent_pid, gate = json.loads(sys.argv[1])
    opens = ("open", gate[1]) if gate and gate[0] == "open" else None
    _worker_main(Connection(fd), lang, timeout, parent_pid, kernel, opens)


@dataclass
class _Worker:
    process: subprocess.Popen[bytes] | standby.AdoptedProcess
    conn: Connection
    job: ReportJob | None = None
    attempts: int = 0
    served: bool = False  # it has been sent a job (so it has finished starting)
    ready: bool = False  # it said its kernel is up (or died before): jobs may go to it


class LocalPool:
    """Worker processes that each keep a warm kernel; the parent hands out one job at a time,
    so it always knows which report a worker was running when it died."""

    def __init__(
        self,
        size: int,
        *,
        lang: str,
        cell_timeout_s: float | None,
        log_path: Path | None = None,
        keep_warm_s: float = 0.0,
    ) -> None:
        self.lang, self.cell_timeout_s, self.log_path = lang, cell_timeout_s, log_path
        # Workers left warm by an earlier run like this one (``batch.standby``) take the first
        # reports at once; ``keep_warm_s`` > 0 leaves this run's workers warm for the next.
        self.keep_warm_s = keep_warm_s
        self.fingerprint = standby.fingerprint(lang, cell_timeout_s)
        # The province-wide tables a worker's kernel computes are read by the others
        # (``core.run_shared``): each is computed once per run, not once per worker.
        self.shared_dir: Path | None = run_shared.make_folder()
        adopted = standby.adopt(
            self.fingerprint, size, shared_dir=self.shared_dir, log_path=log_path
        )
        if adopted:
            log.info(
                "took over %d warm worker(s) left by an earlier run (pid %s)",
                len(adopted),
                ", ".join(str(a.pid) for a in adopted),
            )
        self.adopted_count = len(adopted)
        self.workers: list[_Worker] = [
            _Worker(standby.AdoptedProcess(a.pid), a.conn, served=True, ready=True) for a in adopted
        ]
        fresh = size - len(adopted)
        # The first report waits for the first worker's kernel (the parent hands jobs out in
        # the workers' order): that kernel boots and imports the report stack alone, and the
        # other workers start theirs once it is ready (a pipe's end closed), so on a machine
        # of few cores the first report starts seconds sooner and the others barely later.
        # With a warm worker taken over, the first report needs no new kernel: no gate.
        gated = fresh > 1 and not adopted
        gate_read, gate_write = os.pipe() if gated else (-1, -1)
        try:
            self.workers += [
                self._start(
                    ("open", gate_write)
                    if gated and i == 0
                    else ("wait", gate_read)
                    if gated
                    else None
                )
                for i in range(fresh)
            ]
        finally:
            for fd in (gate_read, gate_write):
                if fd >= 0:
                    os.close(fd)
        self._stopping: list[_Worker] = []  # asked to stop, not yet waited for
        self._leaving: list[_Worker] = []  # asked to wait for the next run, not yet answered
        self._is_exhausted = False  # the jobs given to ``run`` have all been handed out

    def _start(self, gate: tuple[str, int] | None = None) -> _Worker:
        parent_sock, child_sock = socket.socketpair()
        settings = json.dumps(
            [child_sock.fileno(), self.lang, self.cell_timeout_s, os.getpid(), gate]
        )
        # The kernel is launched first and boots while the worker imports nbclient & co.;
        # a worker that waits for the first one's kernel does all this after the wait.
        code = (
            "import sys\n"
            # jsonschema (imported by nbformat) builds a grammar for the optional
            # rfc3987_syntax at import, about 2 s of a core; a worker never checks an IRI
            # (nbformat validates without format checks), so it goes without it.
            "sys.modules.setdefault('rfc3987_syntax', None)\n"
            + (
                "from cchc_analysis.batch.pool import wait_for_first_kernel\n"
                "wait_for_first_kernel()\n"
                if gate is not None and gate[0] == "wait"
                else ""
            )
            + "from cchc_analysis.batch.kernels import WarmKernel, default_kernel_name\n"
            "kernel = WarmKernel(default_kernel_name(), warm_up_when_idle=True)\n"
            "kernel.launch()\n"
            "from cchc_analysis.batch.pool import _worker_entry\n"
            "_worker_entry(kernel)\n"
        )
        # Worker warnings and tracebacks go to the run's log, not to cron's mail.
        err = open(self.log_path, "ab") if self.log_path else None  # noqa: SIM115
        try:
            env = dict(os.environ)
            if self.shared_dir is not None:
                env[run_shared.ENV] = str(self.shared_dir)
            process = subprocess.Popen(
                [sys.executable, "-c", code, settings],
                env=env,
                pass_fds=[child_sock.fileno(), *([gate[1]] if gate else [])],
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
        """Run every job, each as soon as a worker is free. ``jobs`` is read one job at a
        time, when a worker is free for it: the caller may still be planning the next ones.

        A worker that sends a report back gets its next job before ``on_output`` runs (the
        page and its tables written here): it never waits on the writing."""
        pending = iter(jobs)
        retries: deque[tuple[ReportJob, int]] = deque()
        self._is_exhausted = False
        while True:
            self._hand_out(pending, retries)
            busy = [w for w in self.workers if w.job is not None]
            starting = [w for w in self.workers if not w.ready]
            if not busy and (self._is_exhausted and not retries or not starting):
                return  # nothing running, nothing left (or no worker left to run it)
            ready = wait_ready([w.conn for w in busy + starting])
            for worker in starting:
                if worker.conn in ready:
                    # READY; or the worker died starting: its job then fails as any dead
                    # worker's does (tried once more on a fresh one)
                    with contextlib.suppress(EOFError, OSError):
                        worker.conn.recv()
                    worker.ready = True
            done = []
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
                assert job is not None  # only busy workers were polled
                worker.job = None
                output.result.attempts = attempts
                if output.infra_failure and attempts <= INFRA_RETRIES:
                    log.warning("%s: %s; trying once more", job.html_name, output.result.error)
                    retries.append((job, attempts + 1))
                    continue
                done.append(output)
            self._hand_out(pending, retries)
            for output in done:
                on_output(output)

    def _hand_out(
        self, pending: Iterator[ReportJob], retries: deque[tuple[ReportJob, int]]
    ) -> None:
        """Send each free worker that is ready its next job: a retry first, else the next of
        ``pending``. (A job is never queued behind a starting kernel: the worker that is free
        first takes it, the overview too.)"""
        for worker in self.workers:
            if worker.job is not None or not worker.ready:
                continue
            if retries:
                worker.job, worker.attempts = retries.popleft()
            else:
                job = next(pending, None)
                if job is None:
                    self._is_exhausted = True
                    return
                worker.job, worker.attempts = job, 1
            worker.served = True
            with contextlib.suppress(OSError):  # a dead worker is noticed in ``run``
                worker.conn.send(worker.job)

    def _died(self, worker: _Worker) -> JobOutput:
        job = worker.job
        assert job is not None
        code = worker.process.poll()
        if isinstance(worker.process, standby.AdoptedProcess):
            how = "a warm worker taken over from an earlier run"
        else:
            how = f"killed by signal {-code}" if code is not None and code < 0 else f"exit {code}"
        result = failed_result(job, f"worker process died ({how})")
        return JobOutput(result, infra_failure=True)

    def shrink(self, size: int) -> None:
        """Stop the workers beyond the first ``size`` (a run with fewer reports than workers)."""
        extra, self.workers = self.workers[size:], self.workers[:size]
        self._release(extra)
        self._wait(self._stopping, 10.0)
        self._stopping = []

    def stop(self) -> None:
        """Ask the workers to stop (each shuts its kernel down) or, with ``keep_warm_s``, to
        wait for the next run, without waiting for them: the run writes its index meanwhile,
        then :meth:`close` waits."""
        workers, self.workers = self.workers, []
        self._release(workers)

    def close(self, timeout_s: float = 10.0) -> None:
        """Stop the workers (each shuts its kernel down); terminate any that do not stop.
        Workers asked to stay warm are waited for until they say where they wait."""
        workers, self.workers = self.workers, []
        self._signal(workers)
        stopping, self._stopping = [*self._stopping, *workers], []
        self._wait(stopping, timeout_s)
        leaving, self._leaving = self._leaving, []
        for worker in leaving:
            self._left_warm(worker, timeout_s)
        run_shared.remove_folder(self.shared_dir)  # its workers are gone
        self.shared_dir = None

    def _release(self, workers: list[_Worker]) -> None:
        """Idle workers wait for the next run when this one keeps them warm; the rest stop."""
        stopping = []
        for worker in workers:
            if self.keep_warm_s > 0 and worker.job is None and worker.process.poll() is None:
                try:
                    worker.conn.send((standby.MESSAGE, self.keep_warm_s, self.fingerprint))
                except OSError:
                    stopping.append(worker)
                    continue
                self._leaving.append(worker)
            else:
                stopping.append(worker)
        self._signal(stopping)
        self._stopping.extend(stopping)

    @staticmethod
    def _left_warm(worker: _Worker, timeout_s: float) -> None:
        """Wait for a worker left warm to answer where it waits (it no longer dies with this
        run once it has answered); one that does not answer is stopped."""
        answer = None
        deadline = time.monotonic() + standby.LEAVE_ANSWER_S
        with contextlib.suppress(EOFError, OSError):
            while answer is None and worker.conn.poll(max(0.0, deadline - time.monotonic())):
                message = worker.conn.recv()
                answer = None if message == READY else message  # a READY nobody read
        with contextlib.suppress(Exception):
            worker.conn.close()
        if answer is None or answer[1] is None:
            worker.process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                worker.process.wait(timeout=timeout_s)
            log.info("a worker could not be left warm; it was stopped")
        else:
            log.info("worker pid %d left warm at %s", worker.process.pid, answer[1])

    @staticmethod
    def _signal(workers: list[_Worker]) -> None:
        for worker in workers:
            if worker.job is None and worker.served:
                with contextlib.suppress(Exception):
                    worker.conn.send(None)
            elif worker.process.poll() is None:
                # SIGTERM: it closes its kernel and exits (at once, even while starting it)
                worker.process.terminate()

    @staticmethod
    def _wait(workers: list[_Worker], timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        for worker in workers:
            try:
                worker.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                worker.process.kill()
                worker.process.wait(timeout=5)
            with contextlib.suppress(Exception):
                worker.conn.close()


def run_local(
    jobs: list[ReportJob],
    *,
    lang: str,
    workers: int,
    cell_timeout_s: float | None,
    on_output: Callable[[JobOutput], None],
    log_path: Path | None = None,
    keep_warm_s: float = 0.0,
) -> None:
    """Run ``jobs`` on a pool of ``workers`` local worker processes, then stop the pool."""
    pool = LocalPool(
        workers,
        lang=lang,
        cell_timeout_s=cell_timeout_s,
        log_path=log_path,
        keep_warm_s=keep_warm_s,
    )
    try:
        pool.run(jobs, on_output)
        pool.stop()
    finally:
        pool.close()
