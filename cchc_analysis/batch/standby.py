"""Workers kept warm between runs (``cchc report --keep-warm SECONDS``).

Why: a run's first report waits for a worker process to start, its kernel to boot and the
report stack (pandas, scipy, matplotlib, the package) to be imported: about 4 s on 2 cores,
however small the run. A researcher or an office rendering one unit again and again pays it
every time. With ``--keep-warm``, the run's workers do not exit when it ends: each waits, its
kernel warm and reset, on a socket in a private folder, until a later run takes it over or it
has waited the given seconds (then it shuts its kernel down and exits).

A later run takes a waiting worker only when nothing a report depends on can differ: the same
Python, the same package files (path, size, modification time), the same working folder and
environment (apart from a shell's own bookkeeping variables), the same language and cell
timeout. Anything else and the worker is left alone (it exits when its wait is over) and the
run starts its own. A run that takes a worker tells it the run's shared folder and log; the
worker ends with the run (its socket to the run closes) like a worker the run started.

Only the user who left a worker can reach it: the folder is private (mode 0700, the user's
own) and each side checks the other's user id on the socket.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import json
import logging
import os
import select
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING

from cchc_analysis.core import resources, run_shared
from cchc_analysis.core.version import __version__

if TYPE_CHECKING:
    from cchc_analysis.batch.kernels import WarmKernel

log = logging.getLogger("cchc.runner")

FOLDER_ENV = "CCHC_STANDBY_DIR"  # where waiting workers' sockets are (default: a private /tmp one)
MESSAGE = "standby"  # what a run sends a worker it leaves warm: (MESSAGE, seconds, fingerprint)
# Set by a shell per command or per window; they change nothing a report computes.
VOLATILE_ENV = frozenset(
    {
        "_",
        "OLDPWD",
        "PWD",
        "SHLVL",
        "TERM",
        "COLUMNS",
        "LINES",
        "PS1",
        "SSH_CLIENT",
        "SSH_CONNECTION",
        "SSH_TTY",
        "SSH_AUTH_SOCK",
        "TMUX_PANE",
        "WINDOWID",
        run_shared.ENV,  # the run's own folder, told to a worker when it is taken over
    }
)
HANDSHAKE_TIMEOUT_S = 5.0
# How long a run waits for a worker it leaves warm to say where it waits (one still starting
# its kernel answers once the kernel is up).
LEAVE_ANSWER_S = 30.0
MAX_SOCKET_PATH = 100  # AF_UNIX paths are limited to about 107 bytes
_PEERCRED = struct.Struct("3i")  # pid, uid, gid


def fingerprint(lang: str, cell_timeout_s: float | None) -> str:
    """What a waiting worker must share with a run to take its reports (see the module)."""
    digest = hashlib.sha256()
    environment = {k: v for k, v in os.environ.items() if k not in VOLATILE_ENV}
    settings = [sys.executable, sys.version, __version__, os.getcwd(), lang, cell_timeout_s]
    digest.update(json.dumps([settings, sorted(environment.items())]).encode())
    for path in resources.package_files():
        stat = path.stat()
        digest.update(f"{path.relative_to(resources.PACKAGE_DIR)}:{stat.st_size}:".encode())
        digest.update(f"{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def standby_folder() -> Path | None:
    """The private folder of this user's waiting workers, made when missing; None when it
    is not private (another owner, or open to others) or cannot be made: no worker waits."""
    name = os.environ.get(FOLDER_ENV) or os.path.join(
        "/tmp" if os.path.isdir("/tmp") else tempfile.gettempdir(), f"cchc-standby-{os.getuid()}"
    )
    folder = Path(name)
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        stat = folder.stat()
    except OSError:
        return None
    if stat.st_uid != os.getuid() or stat.st_mode & 0o077:
        log.warning("not using %s for warm workers: it is not private to this user", folder)
        return None
    return folder


def _same_user(sock: socket.socket) -> bool:
    with contextlib.suppress(OSError):
        _pid, uid, _gid = _PEERCRED.unpack(
            sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _PEERCRED.size)
        )
        return int(uid) == os.getuid()
    return False


# --- the run's side -------------------------------------------------------------------------


@dataclass
class Adopted:
    """A waiting worker this run took over: its socket and process id."""

    conn: Connection
    pid: int


def adopt(
    fingerprint_text: str, count: int, *, shared_dir: Path | None, log_path: Path | None
) -> list[Adopted]:
    """Take over up to ``count`` waiting workers left by a run like this one. A socket no
    worker listens on any more is removed; a worker that does not answer is skipped."""
    folder = standby_folder() if count > 0 else None
    if folder is None:
        return []
    taken: list[Adopted] = []
    hello = json.dumps(
        {
            "fingerprint": fingerprint_text,
            "shared_dir": None if shared_dir is None else str(shared_dir),
            "log_path": None if log_path is None else str(log_path),
        }
    ).encode()
    for path in sorted(folder.glob(f"{fingerprint_text[:16]}-*.sock")):
        if len(taken) >= count:
            break
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(str(path))
        except (ConnectionRefusedError, FileNotFoundError):
            sock.close()
            path.unlink(missing_ok=True)  # left by a worker that was killed
            continue
        except OSError:
            sock.close()
            continue
        if not _same_user(sock):
            sock.close()
            continue
        conn = Connection(sock.detach())
        try:
            conn.send_bytes(hello)
            if not conn.poll(HANDSHAKE_TIMEOUT_S):
                raise TimeoutError("no answer")
            answer = json.loads(conn.recv_bytes())
            taken.append(Adopted(conn, int(answer["pid"])))
        except (OSError, EOFError, TimeoutError, ValueError, KeyError, TypeError):
            conn.close()  # taken by another run, or refused: it is not this run's
    return taken


class AdoptedProcess:
    """A taken-over worker's process, as the pool uses a ``Popen`` (it is not our child)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid

    def _alive(self) -> bool:
        try:
            with open(f"/proc/{self.pid}/stat", encoding="ascii") as handle:
                return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
        except (OSError, IndexError):
            return False

    def poll(self) -> int | None:
        """None while it runs; then 1 (its exit status belongs to its parent, not to us)."""
        return None if self._alive() else 1

    def terminate(self) -> None:
        with contextlib.suppress(OSError):
            os.kill(self.pid, signal.SIGTERM)

    def kill(self) -> None:
        with contextlib.suppress(OSError):
            os.kill(self.pid, signal.SIGKILL)

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self._alive():
            if deadline is not None and time.monotonic() >= deadline:
                raise subprocess.TimeoutExpired(f"pid {self.pid}", timeout or 0.0)
            time.sleep(0.02)
        return 1


# --- the worker's side ----------------------------------------------------------------------


def wait_for_run(
    conn: Connection, kernel: WarmKernel, idle_s: float, fingerprint_text: str
) -> Connection | None:
    """In a worker its run leaves warm: detach from the run, listen, and return the socket of
    the run that takes it over; None when ``idle_s`` passed first, the kernel died or no
    socket could be made (the worker then exits and shuts its kernel down)."""
    folder = standby_folder()
    path = None if folder is None else folder / f"{fingerprint_text[:16]}-{os.getpid()}.sock"
    listener = None
    if path is not None and len(str(path)) <= MAX_SOCKET_PATH:
        _detach_from_run()
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            listener.bind(str(path))
            listener.listen(4)
        except OSError:
            listener.close()
            listener = None
    with contextlib.suppress(OSError):  # the run waits for this answer before it exits
        conn.send((MESSAGE, None if listener is None else str(path)))
    conn.close()
    if listener is None:
        return None
    try:
        return _accept_run(listener, kernel, idle_s, fingerprint_text)
    finally:
        listener.close()
        assert path is not None
        path.unlink(missing_ok=True)


def _detach_from_run() -> None:
    """Outlive the run: no SIGTERM when it exits, no signals from its terminal, and stderr
    (the run's log) closed until a run takes this worker over."""
    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(1, 0)  # PR_SET_PDEATHSIG off
    with contextlib.suppress(OSError):
        os.setsid()
    _redirect_stderr(os.devnull)


def _redirect_stderr(path: str) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        os.dup2(fd, 2)
        os.close(fd)


def _accept_run(
    listener: socket.socket, kernel: WarmKernel, idle_s: float, fingerprint_text: str
) -> Connection | None:
    deadline = time.monotonic() + idle_s
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not kernel.alive():
            return None
        ready, _, _ = select.select([listener], [], [], min(remaining, 5.0))
        if not ready:
            continue
        try:
            sock, _ = listener.accept()
        except OSError:
            continue
        sock.setblocking(True)
        taken = _handshake(sock, kernel, fingerprint_text)
        if taken is not None:
            return taken


def _handshake(sock: socket.socket, kernel: WarmKernel, fingerprint_text: str) -> Connection | None:
    """The run's hello checked and answered; the run's shared folder and log taken on."""
    if not _same_user(sock):
        sock.close()
        return None
    conn = Connection(sock.detach())
    try:
        if not conn.poll(HANDSHAKE_TIMEOUT_S):
            raise TimeoutError("no hello")
        hello = json.loads(conn.recv_bytes())
        if hello.get("fingerprint") != fingerprint_text:
            raise ValueError("another kind of run")
        shared_dir = hello.get("shared_dir")
        kernel.set_environment(run_shared.ENV, shared_dir)
        if shared_dir is None:
            os.environ.pop(run_shared.ENV, None)
        else:
            os.environ[run_shared.ENV] = shared_dir
        if hello.get("log_path"):
            _redirect_stderr(hello["log_path"])
        conn.send_bytes(json.dumps({"pid": os.getpid()}).encode())
    except (OSError, EOFError, TimeoutError, ValueError, KeyError, TypeError, RuntimeError):
        conn.close()
        return None
    return conn
