"""Results computed once per batch run and read by each of its processes.

Why: a batch run's workers each keep a kernel, and each kernel's first report of a province
computes the same province-wide tables (every unit's counts for three periods, the monthly
series): seconds of a core, once per worker and province. The run makes one private folder
(:func:`make_folder`) and names it to its workers in ``$CCHC_RUN_SHARED_DIR``; the first process
to need a result computes it and writes it there, the others read it (``counting.shared`` keeps
it in memory after that). A process that asks while another is computing it waits for that
one (a lock per result), instead of computing it a second time beside it.

Only the run's own processes read the folder: it is made private (``mkdtemp``, mode 0700) and
removed with the run, so a result never outlives the code and the data it was computed from
(keys still name the data's state: a folder changed during the run gives new keys). Results
are pickled, so the frames read back are the ones computed, dtypes and all. Without the
variable (a researcher's session, a notebook run by hand) nothing is written anywhere.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import pickle
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any, TypeVar

from cchc_analysis.core.environ import variable_set

ENV = "CCHC_RUN_SHARED_DIR"
# How long a process waits for another to compute a result before computing it itself (a
# stuck process must not stop the run; a dead one releases its lock at once).
WAIT_S = 300.0

T = TypeVar("T")


def make_folder() -> Path | None:
    """A new private folder for one run's shared results (the caller removes it); None when
    none can be made (the run then goes without sharing)."""
    try:
        return Path(tempfile.mkdtemp(prefix="cchc-run-shared-"))
    except OSError:
        return None


def remove_folder(folder: Path | None) -> None:
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def named(where: Path | None) -> Iterator[None]:
    """Name ``where`` as the shared folder of this process too, for the duration (the run's
    own process computing a table its workers will read); nothing when None."""
    if where is None:
        yield
        return
    with variable_set(ENV, str(where)):
        yield


def folder() -> Path | None:
    """The run's shared folder, when this process belongs to a batch run that has one."""
    name = os.environ.get(ENV)
    return Path(name) if name and os.path.isdir(name) else None


def computed_once(where: Path, key_text: str, compute: Callable[[], T]) -> T:
    """``compute()``'s result for ``key_text`` (an exact, deterministic description of what
    is computed): read from ``where`` when a process of the run has written it, else computed
    here and written there. Processes asking at once compute it once, the others waiting."""
    name = _name(key_text)
    path = where / f"{name}.pickle"
    with _locked(where / f"{name}.lock"):
        found = _read(path, key_text)
        if found is not None:
            return found[0]  # type: ignore[no-any-return]
        value = compute()
        _write(path, key_text, value)
        return value


def _name(key_text: str) -> str:
    return hashlib.sha256(key_text.encode("utf-8")).hexdigest()[:40]


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold ``path``'s exclusive lock (waiting ``WAIT_S`` at most; without it after that, or
    when the folder cannot be locked)."""
    try:
        handle: IO[bytes] | None = open(path, "ab")  # noqa: SIM115 - closed below
    except OSError:
        handle = None
    try:
        if handle is not None:
            deadline = time.monotonic() + WAIT_S
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        break
                    time.sleep(0.01)
                except OSError:
                    break
        yield
    finally:
        if handle is not None:
            handle.close()  # releases the lock


def _read(path: Path, key_text: str) -> tuple[Any] | None:
    """(value,) as written for ``key_text``; None when absent, unreadable or another key's."""
    try:
        with open(path, "rb") as handle:
            stored_key, value = pickle.load(handle)  # noqa: S301 - the run's private folder
    except (OSError, EOFError, pickle.UnpicklingError, ValueError, TypeError):
        return None
    return (value,) if stored_key == key_text else None


def _write(path: Path, key_text: str, value: Any) -> None:
    """Written whole or not at all (a temporary name, then renamed); a full disk only loses
    the sharing."""
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        with open(temporary, "wb") as handle:
            pickle.dump((key_text, value), handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(temporary, path)
    except OSError:
        with contextlib.suppress(OSError):
            temporary.unlink()
