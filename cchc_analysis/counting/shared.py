"""Province-wide results computed once per process and shared by every report that asks.

Why: every commune report of a run asks the same province-wide questions (every commune's
counts for the period, the previous period and a year before, which communes have earlier
data, the cube keyed by new commune) and keeps only its own rows. A batch worker's kernel
keeps its modules between reports (``batch.kernels``), so the answer computed for its first
report serves all the others; a researcher's session gains the same way.

Correctness when the data changes: every result is keyed by the folder's state, the path,
size and modification time of each file the counting reads (cube, dataset description,
period reports, survey, every dossier file), taken with one cheap directory walk per call. A
re-ingest or a re-prepare changes the state, and the old results are never used again (they
age out of the small cache). Callers get a copy, never the cached frame itself.

The walk is cheap for one province (about 150 areas) but not for the nation (3,356 areas,
0.1–0.3 s a walk, about ten per report). A batch kernel therefore takes each folder's state
once per report: its warm-up calls :func:`hold_states` and its reset between reports calls
:func:`forget_states`, so a report sees one state of the folder from its first counting to
its last, and the next report takes it again (an ingest between two reports is seen). Any
other process (a researcher's session, a notebook run by hand) walks on every call.

Across the processes of a batch run: its workers' kernels each ask the same questions of the
same province. When the run names a shared folder (``core.run_shared``), a result missing here
is read from it, or computed and written there for the others, so each province-wide table is
computed once per run rather than once per worker.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from pathlib import Path

import pandas as pd

from cchc_analysis import store
from cchc_analysis.core import run_shared

# Enough for one report's questions (3 periods and the history, per level) in a few folders.
MAX_RESULTS = 32
_FILES = (store.CUBE_FILE, store.DATASET_FILE, store.PERIOD_REPORTS_FILE, store.SURVEY_FILE)
_results: OrderedDict[Hashable, pd.DataFrame] = OrderedDict()
# A run's own process asks from more than one thread (batch.prefetch, the index's counting).
_results_lock = threading.Lock()

State = tuple[str, tuple[tuple[str, int, int], ...]]
# Held states by folder, while ``hold_states`` is on (a batch kernel, one report at a time).
_held: dict[str, State] | None = None


def _stats(folder: str, out: list[tuple[str, int, int]]) -> None:
    """(path, mtime, size) of every file under ``folder``: plain strings, no path objects (a
    national folder has about 7,000 entries, walked once per report)."""
    try:
        with os.scandir(folder) as scanned:
            entries = list(scanned)
    except OSError:
        return
    for entry in entries:
        if entry.is_dir(follow_symlinks=False):
            _stats(entry.path, out)
        else:
            try:
                stat = entry.stat()
            except OSError:  # removed meanwhile (a re-ingest replacing the file)
                continue
            out.append((entry.path, stat.st_mtime_ns, stat.st_size))


def data_state(data_dir: str | os.PathLike[str]) -> State:
    """The folder's state: what a counting result depends on, cheap to take (file stats);
    the one taken earlier in this report while states are held (:func:`hold_states`)."""
    root = Path(data_dir).resolve()
    if _held is None:
        return _walk_state(root)
    state = _held.get(str(root))
    if state is None:
        state = _held[str(root)] = _walk_state(root)
    return state


def _walk_state(root: Path) -> State:
    files: list[tuple[str, int, int]] = []
    for name in _FILES:
        path = root / name
        if path.exists():
            stat = path.stat()
            files.append((name, stat.st_mtime_ns, stat.st_size))
    _stats(str(root / store.DOSSIERS_DIR), files)
    return str(root), tuple(sorted(files))


def shared_frame(
    data_dir: str | os.PathLike[str],
    key: Hashable,
    compute: Callable[[], pd.DataFrame],
    select: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
    *,
    across_run: bool = True,
) -> pd.DataFrame:
    """``compute()``'s frame for ``key`` in the folder's current state, computed once per
    process while the folder is unchanged; a copy each time (of ``select``'s rows of it only,
    when given: a unit's rows of the province's cube, without copying the whole cube).

    ``across_run``: in a batch run, also shared with its other processes (the module's
    docstring); False for a frame cheaper to compute than to write and read (a filtered copy
    of a file every process reads anyway)."""
    state = data_state(data_dir)
    full_key = (state, key)
    with _results_lock:
        frame = _results.get(full_key)
        if frame is not None:
            _results.move_to_end(full_key)
    if frame is None:
        where = run_shared.folder() if across_run else None
        text = _key_text(state, key) if where is not None else None
        if where is None or text is None:
            frame = compute()
        else:
            frame = run_shared.computed_once(where, text, compute)
        with _results_lock:
            _results[full_key] = frame
            while len(_results) > MAX_RESULTS:
                _results.popitem(last=False)
    return (select(frame) if select is not None else frame).copy()


_state_digests: dict[State, str] = {}


def _key_text(state: State, key: Hashable) -> str | None:
    """An exact text of (state, key) that every process of the run writes alike; None when the
    key's text names an object's address (another process's object could have the same)."""
    text = repr(key)
    if " at 0x" in text:
        return None
    digest = _state_digests.get(state)
    if digest is None:
        _state_digests.clear()  # one state at a time: the last one taken
        digest = _state_digests[state] = hashlib.sha256(repr(state).encode()).hexdigest()
    return f"{digest} {text}"


def clear() -> None:
    """Forget every shared result (tests, or to free memory)."""
    _results.clear()


def hold_states() -> None:
    """Take each folder's state once until :func:`forget_states` (a batch kernel: one report)."""
    global _held
    if _held is None:
        _held = {}


def forget_states() -> None:
    """Forget the held states: the next call walks the folder again (between two reports)."""
    if _held is not None:
        _held.clear()
