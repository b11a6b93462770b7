"""A lock file so two scheduled runs never write the same output folder at once.

``flock`` locks die with their process, so a run killed by a signal never leaves a stale lock
behind; the file's text (pid, start time) only serves the message shown to the second run.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import TextIO

from cchc_analysis.core.errors import LockBusyError


class RunLock:
    """Exclusive lock on ``path``; waits up to ``timeout_s`` seconds (0: fail at once).

    ``is_removed``: the lock file is removed on release, so the folder holds nothing of the
    run; safe because a waiter that locks a removed file notices and locks the new one.
    """

    def __init__(
        self, path: str | os.PathLike[str], timeout_s: float = 0.0, *, is_removed: bool = False
    ) -> None:
        self.path = Path(path)
        self.timeout_s = timeout_s
        self.is_removed = is_removed
        self._handle: TextIO | None = None

    def __enter__(self) -> RunLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+", encoding="utf-8")
        deadline = time.monotonic() + self.timeout_s
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                if self._is_current(handle):
                    break
                # the holder removed the file (a folder it created and gave up): lock anew
                handle.close()
                self.path.parent.mkdir(parents=True, exist_ok=True)
                handle = self.path.open("a+", encoding="utf-8")
                continue
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    handle.seek(0)
                    holder = handle.read().strip() or "another process"
                    handle.close()
                    raise LockBusyError(
                        f"another run is writing to {self.path.parent} ({holder}); "
                        "wait for it to finish or pass --lock-timeout SECONDS"
                    ) from None
                time.sleep(0.2)
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} since {datetime.now():%Y-%m-%d %H:%M:%S}")
        handle.flush()
        self._handle = handle
        return self

    def _is_current(self, handle: TextIO) -> bool:
        """True when the locked file is still the one at ``path`` (not unlinked meanwhile)."""
        try:
            return os.fstat(handle.fileno()).st_ino == os.stat(self.path).st_ino
        except FileNotFoundError:
            return False

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._handle is not None:
            if self.is_removed:
                with contextlib.suppress(FileNotFoundError):
                    self.path.unlink()
            else:
                self._handle.seek(0)
                self._handle.truncate()
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None
