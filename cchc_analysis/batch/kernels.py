"""Warm Jupyter kernels for batch runs: start once per worker, reuse for every report.

Most of a papermill run's cost is starting a kernel and importing pandas/matplotlib in it.
A worker keeps one kernel alive (the report stack imported as it starts; the unit registries
built and a chart drawn while no report waits for it, so it takes its first report at once),
clears its namespace between notebooks (IPython's reset: the imported modules and their caches
stay warm, the variables go) and replaces it when it dies, when a report
failed in a way that leaves its state in doubt, or after ``max_runs`` reports (so a slow leak
in a long batch cannot grow without bound).

Kernels talk over IPC sockets in a private folder, so parallel starts cannot race for TCP
ports (the known failure of starting several kernels at once). Start-up is bounded by a
timeout and retried; a kernel that starts but never answers counts as a failed start.

The reset is sent as soon as a report has finished executing and is awaited only before the
next one, so the kernel clears itself while the worker renders the HTML. One client serves
every report of the kernel (nbclient runs the cells on it).

The manager and client are the asynchronous ones, driven here through ``run_sync`` on the
thread's own event loop (the one nbclient then uses): with blocking clients nbclient waits on
the output channel without a timeout, so neither a cell timeout nor a dead kernel is noticed
while a cell runs.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import queue
import shutil
import tempfile
import time
from collections.abc import Callable
from typing import Any

from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync

from cchc_analysis.core.errors import KernelStartError

# What every report imports, run as the kernel starts (before its first report, which it
# delays by nothing: the report's first cell would import the same).
PRELUDE_CODE = """\
import pandas
import cchc_analysis.reports.province_report
import cchc_analysis.reports.unit_report
from cchc_analysis.counting import shared as _shared
_shared.hold_states()  # the folder's state taken once per report (reset forgets it)
del _shared
"""
# Then, one step at a time and only while no report waits for the kernel (``warm_up_while``):
# the unit registries and crosswalks built (from the package's own files, whatever the data)
# and a chart drawn (the fonts' metrics, the SVG writer). The objects that then exist live as
# long as the kernel: frozen, a garbage collection (each reset runs one) skips them instead of
# walking the hundreds of thousands of objects that pandas, matplotlib and scipy create.
WARM_UP_STEPS = (
    """\
from cchc_analysis import units as _units
_units.units_table(_units.ERA_PRE_2025)
del _units
""",
    """\
from cchc_analysis import units as _units
_units.units_table(_units.ERA_2025)
del _units
""",
    """\
from cchc_analysis import units as _units
_units.crosswalk_provinces()
_units.crosswalk_communes()
del _units
""",
    """\
from cchc_analysis import units as _units
_units.former_districts()
del _units
""",
    """\
from cchc_analysis.reports import plots as _plots
import pandas as _pd
_months = _pd.date_range("2024-10-01", periods=24, freq="MS")
_plots.rate_trend(_pd.DataFrame({"month": _months, "r": 0.97}), {"r": "r"}, "t").svg()
del _plots, _pd, _months
""",
    """\
import gc as _gc
_gc.collect()
_gc.freeze()
del _gc
""",
)
# What ``%reset -f`` does, without the magic's second full collection; what survives a report
# (the modules' caches) is frozen with the rest, so the next reset's collection stays short.
RESET_CODE = """\
import sys as _sys
from cchc_analysis.counting import shared as _shared
if "matplotlib.pyplot" in _sys.modules:  # a notebook that drew with matplotlib
    _sys.modules["matplotlib.pyplot"].close("all")
_shared.forget_states()  # the next report takes the folder's state again
del _sys, _shared
get_ipython().reset(new_session=False)
import gc as _gc
_gc.freeze()
del _gc
"""
# History is never read in a batch run; writing it is a SQLite round trip per cell.
KERNEL_ARGUMENTS = ["--IPKernelApp.log_level=ERROR", "--HistoryManager.enabled=False"]
PROJECT_KERNEL = "cchc-workbook"
# AF_UNIX socket paths are limited to about 107 bytes; beyond that fall back to TCP.
MAX_IPC_PATH = 90


def default_kernel_name() -> str:
    """The project's kernel when registered (make registers it in the venv), else python3."""
    from jupyter_client.kernelspec import KernelSpecManager

    specs = KernelSpecManager().find_kernel_specs()
    return PROJECT_KERNEL if PROJECT_KERNEL in specs else "python3"


class WarmKernel:
    """One reusable kernel (per worker process or thread)."""

    def __init__(
        self,
        kernel_name: str,
        start_timeout_s: float = 60.0,
        attempts: int = 3,
        max_runs: int = 200,
        *,
        warm_up_when_idle: bool = False,
    ) -> None:
        self.kernel_name = kernel_name
        self.start_timeout_s = start_timeout_s
        self.attempts = attempts
        self.max_runs = max_runs
        # False: the warm-up steps run as the kernel starts (a Dask worker thread's kernel);
        # True: the caller runs them between reports (``warm_up_while``).
        self.warm_up_when_idle = warm_up_when_idle
        self.warm_up_pending: list[str] = []  # the steps this kernel has not run yet
        self.km: AsyncKernelManager | None = None
        self.kc: Any = None
        self.runs_count = 0
        self.starts_count = 0
        self.start_errors: list[str] = []
        self._reset_msg_id: str | None = None
        self.language_info: dict[str, Any] = {}  # the kernel's, for the notebook's metadata
        self._launched: AsyncKernelManager | None = None
        base = tempfile.gettempdir()
        if len(base) > 40:  # keep socket paths short (see MAX_IPC_PATH)
            base = "/tmp" if os.path.isdir("/tmp") else base
        self._socket_dir = tempfile.mkdtemp(prefix="cchc-kernel-", dir=base)
        atexit.register(self.close)

    # --- start -------------------------------------------------------------------------------

    def _launch(self) -> AsyncKernelManager:
        """Start the kernel process; returns without waiting for it to answer."""
        ipc_path = os.path.join(self._socket_dir, f"k{time.monotonic_ns()}")
        if len(ipc_path) + 8 <= MAX_IPC_PATH:
            km = AsyncKernelManager(kernel_name=self.kernel_name, transport="ipc", ip=ipc_path)
        else:  # pragma: no cover - only with a very long temporary folder
            km = AsyncKernelManager(kernel_name=self.kernel_name)
        run_sync(km.start_kernel)(extra_arguments=list(KERNEL_ARGUMENTS))
        return km

    def launch(self) -> None:
        """Start the kernel now and return at once (``ensure`` then waits for it), so that a
        worker imports papermill and nbconvert while its kernel boots."""
        try:
            self._launched = self._launch()
        except Exception as exc:  # noqa: BLE001 - ensure() starts again, with retries
            self.start_errors.append(f"{type(exc).__name__}: {exc}")

    def _start_once(self) -> tuple[AsyncKernelManager, Any]:
        km, self._launched = self._launched, None
        if km is None:
            km = self._launch()
        kc = km.client()
        kc.start_channels()
        try:
            run_sync(kc.wait_for_ready)(timeout=self.start_timeout_s)
            steps = [] if self.warm_up_when_idle else list(WARM_UP_STEPS)
            for code in (PRELUDE_CODE, *steps):
                msg_id = kc.execute(code, store_history=False)
                reply = self._reply(kc, msg_id, self.start_timeout_s)
                if reply["content"]["status"] != "ok":
                    raise RuntimeError(f"warm-up failed: {reply['content'].get('evalue')}")
            info = self._reply(kc, kc.kernel_info(), self.start_timeout_s)
            self.language_info = dict(info["content"].get("language_info", {}))
        except Exception:
            kc.stop_channels()
            with contextlib.suppress(Exception):
                run_sync(km.shutdown_kernel)(now=True)
            raise
        kc.allow_stdin = False
        return km, kc

    @staticmethod
    def _reply(kc: Any, msg_id: str, timeout_s: float) -> dict[str, Any]:
        """The shell reply to ``msg_id`` (other replies are skipped); TimeoutError if none."""
        deadline = time.monotonic() + timeout_s
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("the kernel did not answer in time")
            try:
                msg = run_sync(kc.get_shell_msg)(timeout=remaining)
            except queue.Empty:
                continue
            if msg["parent_header"].get("msg_id") == msg_id:
                reply: dict[str, Any] = msg
                return reply

    def alive(self) -> bool:
        return self.km is not None and bool(run_sync(self.km.is_alive)())

    def ensure(self) -> AsyncKernelManager:
        """A live, warm, clean kernel: started (with retries) when there is none, it died or
        it has served ``max_runs`` reports; otherwise the pending reset is awaited."""
        if self.alive() and self.runs_count < self.max_runs:
            try:
                self.finish_reset()
                return self.km  # type: ignore[return-value]
            except Exception as exc:  # noqa: BLE001 - a kernel that cannot reset is replaced
                self.start_errors.append(f"reset failed: {type(exc).__name__}: {exc}")
        self.shutdown()
        errors = []
        for attempt in range(self.attempts):
            self.starts_count += 1
            try:
                self.km, self.kc = self._start_once()
                self.runs_count = 0
                self.warm_up_pending = list(WARM_UP_STEPS) if self.warm_up_when_idle else []
                return self.km
            except Exception as exc:  # noqa: BLE001 - collected and reported below
                errors.append(f"{type(exc).__name__}: {exc}")
                self.start_errors.append(errors[-1])
                time.sleep(0.5 * (attempt + 1))
        raise KernelStartError(
            f"kernel {self.kernel_name!r} failed to start {self.attempts} times: {errors[-1]}"
        )

    # --- between reports -----------------------------------------------------------------------

    def warm_up_while(self, is_idle: Callable[[], bool]) -> None:
        """Run the warm-up steps the kernel has not run, one at a time, while ``is_idle()``
        (no report waiting): a report that arrives waits for the step under way at most.
        A step that fails ends the warm-up (the reports build what they need themselves); a
        reset that fails or a kernel that does not answer throws the kernel away, as
        ``ensure`` does."""
        while self.warm_up_pending and is_idle():
            code = self.warm_up_pending.pop(0)
            if self.kc is None or not self.alive():
                self.warm_up_pending = []
                return
            try:
                self.finish_reset()  # the previous report's reset answers first
                msg_id = self.kc.execute(code, silent=True, store_history=False)
                reply = self._reply(self.kc, msg_id, self.start_timeout_s)
                self._drop_output()
            except Exception as exc:  # noqa: BLE001 - a kernel that cannot reset is replaced
                self.start_errors.append(f"warm-up: {type(exc).__name__}: {exc}")
                self.discard()  # its state is in doubt: the next report starts a fresh one
                self.warm_up_pending = []
                return
            if reply["content"].get("status") != "ok":
                self.start_errors.append(f"warm-up: {reply['content'].get('evalue')}")
                self.warm_up_pending = []

    def set_environment(self, name: str, value: str | None) -> None:
        """Set (or, with None, remove) an environment variable in the kernel, for a worker
        a new run takes over (``batch.standby``). RuntimeError when the kernel cannot."""
        if self.kc is None or not self.alive():
            raise RuntimeError("no live kernel")
        code = (
            "import os as _os\n"
            + (
                f"_os.environ.pop({name!r}, None)\n"
                if value is None
                else f"_os.environ[{name!r}] = {value!r}\n"
            )
            + "del _os\n"
        )
        try:
            self.finish_reset()
            reply = self._reply(
                self.kc, self.kc.execute(code, silent=True, store_history=False), 10.0
            )
            self._drop_output()
        except Exception as exc:  # noqa: BLE001 - the caller treats every failure alike
            raise RuntimeError(f"kernel did not answer: {exc}") from exc
        if reply["content"].get("status") != "ok":
            raise RuntimeError(f"kernel refused: {reply['content'].get('evalue')}")

    def begin_reset(self) -> None:
        """Ask the kernel to clear its namespace; does not wait (see ``finish_reset``)."""
        self.runs_count += 1
        if not self.alive() or self.km is None or self.kc is None:
            return
        self._reset_msg_id = self.kc.execute(RESET_CODE, silent=True, store_history=False)

    def finish_reset(self, timeout_s: float = 60.0) -> None:
        """Wait for the reset sent by ``begin_reset`` and drop stale output messages."""
        msg_id, self._reset_msg_id = self._reset_msg_id, None
        if msg_id is None or self.kc is None:
            return
        msg = self._reply(self.kc, msg_id, timeout_s)
        if msg["content"].get("status") != "ok":
            raise RuntimeError(f"reset failed: {msg['content'].get('evalue')}")
        self._drop_output()

    def _drop_output(self) -> None:
        """Drop the output messages waiting (of a reset or a warm-up step)."""
        get_iopub = run_sync(self.kc.get_iopub_msg)
        with contextlib.suppress(queue.Empty):
            while True:
                get_iopub(timeout=0.01)

    def reset(self) -> None:
        """Clear the user namespace now, so one report cannot see another's variables."""
        self.begin_reset()
        self.runs_count -= 1
        self.finish_reset()

    # --- end ---------------------------------------------------------------------------------

    def discard(self) -> None:
        """Throw the kernel away (after a failure its state is not to be trusted)."""
        self.shutdown()

    def shutdown(self) -> None:
        self._reset_msg_id = None
        launched, self._launched = self._launched, None
        if launched is not None:
            with contextlib.suppress(Exception):
                run_sync(launched.shutdown_kernel)(now=True)
        if self.kc is not None:
            with contextlib.suppress(Exception):
                self.kc.stop_channels()
            self.kc = None
        if self.km is not None:
            with contextlib.suppress(Exception):  # best effort, also at interpreter exit
                run_sync(self.km.shutdown_kernel)(now=True)
            self.km = None

    def close(self) -> None:
        self.shutdown()
        shutil.rmtree(self._socket_dir, ignore_errors=True)
