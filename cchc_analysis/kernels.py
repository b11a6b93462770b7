"""Warm Jupyter kernels for batch runs: start once per worker, reuse for every report.

Most of a papermill run's cost is starting a kernel and importing pandas/matplotlib in it.
A worker keeps one kernel alive, clears its namespace between notebooks (``%reset -f``: the
imported modules stay warm, the variables go), and replaces it when it dies. Kernels talk
over IPC sockets in a private folder, so parallel starts cannot race for TCP ports (the known
failure of starting several kernels at once).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import tempfile
import time

from jupyter_client import KernelManager

WARM_UP_CODE = "import cchc_analysis.report, matplotlib.pyplot, pandas  # warm imports"
RESET_CODE = "%reset -f\nimport matplotlib.pyplot as _plt\n_plt.close('all')\ndel _plt"


class KernelStartError(RuntimeError):
    """A kernel did not start or answer within its timeout, after every retry."""


class WarmKernel:
    """One reusable kernel (per worker process)."""

    def __init__(self, kernel_name: str, start_timeout_s: float = 60.0, attempts: int = 3) -> None:
        self.kernel_name = kernel_name
        self.start_timeout_s = start_timeout_s
        self.attempts = attempts
        self.km: KernelManager | None = None
        self.runs_count = 0
        self._socket_dir = tempfile.mkdtemp(prefix="cchc-kernel-")
        atexit.register(self.shutdown)

    def _start_once(self) -> KernelManager:
        km = KernelManager(
            kernel_name=self.kernel_name,
            transport="ipc",
            ip=os.path.join(self._socket_dir, f"k{time.monotonic_ns()}"),
        )
        km.start_kernel(extra_arguments=["--IPKernelApp.log_level=ERROR"])
        client = km.client()
        client.start_channels()
        try:
            client.wait_for_ready(timeout=self.start_timeout_s)
            reply = client.execute_interactive(WARM_UP_CODE, timeout=self.start_timeout_s)
            if reply["content"]["status"] != "ok":
                raise RuntimeError(f"warm-up failed: {reply['content'].get('evalue')}")
        except Exception:
            client.stop_channels()
            km.shutdown_kernel(now=True)
            raise
        client.stop_channels()
        return km

    def ensure(self) -> KernelManager:
        """A live, warm kernel; started (with retries) when there is none or it died."""
        if self.km is not None and self.km.is_alive():
            return self.km
        self.shutdown()
        errors = []
        for _attempt in range(self.attempts):
            try:
                self.km = self._start_once()
                return self.km
            except Exception as exc:  # noqa: BLE001 - collected and reported below
                errors.append(f"{type(exc).__name__}: {exc}")
                time.sleep(0.5)
        raise KernelStartError(
            f"kernel {self.kernel_name!r} failed to start {self.attempts} times: {errors[-1]}"
        )

    def reset(self) -> None:
        """Clear the user namespace so one report cannot see another's variables."""
        if self.km is None or not self.km.is_alive():
            return
        client = self.km.client()
        client.start_channels()
        try:
            client.execute_interactive(RESET_CODE, timeout=30)
        finally:
            client.stop_channels()

    def discard(self) -> None:
        """Throw the kernel away (after a failure its state is not to be trusted)."""
        self.shutdown()

    def shutdown(self) -> None:
        if self.km is not None:
            with contextlib.suppress(Exception):  # best effort, also at interpreter exit
                self.km.shutdown_kernel(now=True)
            self.km = None

    def close(self) -> None:
        self.shutdown()
        shutil.rmtree(self._socket_dir, ignore_errors=True)
