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
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Callable, Hashable
from pathlib import Path

import pandas as pd

from cchc_analysis import store

# Enough for one report's questions (3 periods and the history, per level) in a few folders.
MAX_RESULTS = 32
_FILES = (store.CUBE_FILE, store.DATASET_FILE, store.PERIOD_REPORTS_FILE, store.SURVEY_FILE)
_results: OrderedDict[Hashable, pd.DataFrame] = OrderedDict()

State = tuple[str, tuple[tuple[str, int, int], ...]]


def _stats(folder: Path, out: list[tuple[str, int, int]]) -> None:
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        if entry.is_dir(follow_symlinks=False):
            _stats(Path(entry.path), out)
        else:
            stat = entry.stat()
            out.append((entry.path, stat.st_mtime_ns, stat.st_size))


def data_state(data_dir: str | os.PathLike[str]) -> State:
    """The folder's state: what a counting result depends on, cheap to take (file stats)."""
    root = Path(data_dir).resolve()
    files: list[tuple[str, int, int]] = []
    for name in _FILES:
        path = root / name
        if path.exists():
            stat = path.stat()
            files.append((name, stat.st_mtime_ns, stat.st_size))
    _stats(root / store.DOSSIERS_DIR, files)
    return str(root), tuple(sorted(files))


def shared_frame(
    data_dir: str | os.PathLike[str],
    key: Hashable,
    compute: Callable[[], pd.DataFrame],
    select: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
) -> pd.DataFrame:
    """``compute()``'s frame for ``key`` in the folder's current state, computed once per
    process while the folder is unchanged; a copy each time (of ``select``'s rows of it only,
    when given: a unit's rows of the province's cube, without copying the whole cube)."""
    full_key = (data_state(data_dir), key)
    frame = _results.get(full_key)
    if frame is None:
        frame = compute()
        _results[full_key] = frame
        while len(_results) > MAX_RESULTS:
            _results.popitem(last=False)
    else:
        _results.move_to_end(full_key)
    return (select(frame) if select is not None else frame).copy()


def clear() -> None:
    """Forget every shared result (tests, or to free memory)."""
    _results.clear()
