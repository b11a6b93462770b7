"""On-disk layout of a data folder, and reads that touch only what a caller needs.

A data folder (``data/demo``, ``data/processed``) holds::

    dossiers/area=<era>-<code>/part-*.parquet      one partition per reporting area (dossiers.py)
    cube.parquet                                   monthly counts (built by ``cchc prepare``)
    period_reports.parquet                         Biểu 06 aggregate rows (from ingest)
    survey.parquet                                 SIPAS-style respondents
    dataset.json                                   what produced the folder (source, seed, rows)
    .cchc-digests.json                             digests of its files, by their state (digests.py)

Dossiers are partitioned by reporting area so that one unit's report reads only its slice.
"""

from __future__ import annotations

import json
import os
from collections.abc import Hashable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, cast

import numpy as np
import numpy.typing as npt
import pandas as pd

from cchc_analysis.core.errors import DataFolderError
from cchc_analysis.store.dossiers import has_dossiers, upgrade_layout

CUBE_FILE = "cube.parquet"
PERIOD_REPORTS_FILE = "period_reports.parquet"
SURVEY_FILE = "survey.parquet"
DATASET_FILE = "dataset.json"


PROJECT_DIR = Path(__file__).resolve().parent.parent
DATA_ENV = "CCHC_DATA"  # the data folder when none is given


def resolve_data_dir(data_dir: str | os.PathLike[str] | None = None) -> Path:
    """The data folder a caller means: ``data_dir`` when given (a relative path is read from
    the working directory), else the ``CCHC_DATA`` environment variable, else the working
    directory itself.

    Never another place: a folder that is not there stays the path asked for, so the caller's
    check says which folder is missing, instead of silently reading another checkout's data.
    """
    if data_dir is None or str(data_dir) == "":
        data_dir = os.environ.get(DATA_ENV) or Path.cwd()
    return Path(data_dir).expanduser()


def check_data_dir(data_dir: str | os.PathLike[str]) -> Path:
    """Return the folder as a Path, or raise DataFolderError saying what is missing."""
    path = Path(data_dir)
    if not path.is_dir():
        raise DataFolderError(f"data folder not found: {path}")
    upgrade_layout(path)
    if not (has_dossiers(path) or (path / PERIOD_REPORTS_FILE).exists()):
        raise DataFolderError(
            f"data folder {path} holds no dossiers/ and no {PERIOD_REPORTS_FILE}; "
            "run `cchc demo` or `cchc ingest` first"
        )
    return path


def read_table(data_dir: str | os.PathLike[str], name: str) -> pd.DataFrame | None:
    """Read one of the single-file tables (cube, survey, period_reports) if present.

    A report asks for the cube several times (current period, comparisons, trends); the file
    is read once per process and reused while it is unchanged on disk. Callers get a copy.
    """
    path = Path(data_dir) / name
    if not path.exists():
        return None
    stat = path.stat()
    return _read_parquet_cached(str(path.resolve()), stat.st_mtime_ns, stat.st_size).copy()


@lru_cache(maxsize=4)
def _read_parquet_cached(path: str, mtime_ns: int, size: int) -> pd.DataFrame:
    del mtime_ns, size  # part of the cache key only: a rewritten file is read again
    return pd.read_parquet(path)


def read_table_rows(
    data_dir: str | os.PathLike[str], name: str, column: str, values: Sequence[Any]
) -> pd.DataFrame | None:
    """Rows of a single-file table whose ``column`` is one of ``values``, in file order (as
    ``frame[frame[column].isin(values)]``), or None when the file is absent.

    Why: a report asks for a few districts' rows of the province-wide cube several times; the
    file is read and indexed by ``column`` once per process, so each call costs the rows it
    returns, not the whole table (which grows with the districts in the folder).
    """
    key = _file_key(Path(data_dir) / name)
    if key is None:
        return None
    frame = _read_parquet_cached(*key)
    positions = _row_positions(*key, column)
    found = sorted((positions[v] for v in dict.fromkeys(values) if v in positions), key=min)
    if not found:
        return frame.iloc[:0].copy()
    pieces = [_rows_at(frame, rows) for rows in found]
    out = pd.concat(pieces) if len(pieces) > 1 else pieces[0].copy()
    rows = np.concatenate(found)
    if (np.diff(rows) < 0).any():  # the values' rows interleave in the file: file order
        out = out.take(np.argsort(rows, kind="stable"))
    return out


def read_table_max(data_dir: str | os.PathLike[str], name: str, column: str) -> Any:
    """Largest value of one column of a single-file table (None when the file is absent),
    without copying the table."""
    key = _file_key(Path(data_dir) / name)
    return None if key is None else _column_max(*key, column)


def _file_key(path: Path) -> tuple[str, int, int] | None:
    if not path.exists():
        return None
    stat = path.stat()
    return str(path.resolve()), stat.st_mtime_ns, stat.st_size


def _rows_at(frame: pd.DataFrame, rows: np.ndarray) -> pd.DataFrame:
    """Rows at ascending positions; one run is sliced, which on Arrow columns read in many
    chunks costs the rows, where ``take`` would gather every chunk."""
    if rows[-1] - rows[0] + 1 == len(rows):
        return frame.iloc[rows[0] : rows[-1] + 1]
    return frame.take(rows)


@lru_cache(maxsize=4)
def _row_positions(
    path: str, mtime_ns: int, size: int, column: str
) -> dict[Hashable, npt.NDArray[np.intp]]:
    frame = _read_parquet_cached(path, mtime_ns, size)
    # pandas-stubs allow an Index or a list as each group's positions; they are arrays.
    indices = frame.groupby(column, observed=True, sort=False).indices
    return cast(dict[Hashable, npt.NDArray[np.intp]], indices)


@lru_cache(maxsize=4)
def _column_max(path: str, mtime_ns: int, size: int, column: str) -> Any:
    return _read_parquet_cached(path, mtime_ns, size)[column].max()


def write_table(frame: pd.DataFrame, data_dir: str | os.PathLike[str], name: str) -> Path:
    """Write a single-file table atomically (temporary file, then rename)."""
    path = Path(data_dir) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")  # unique per writer process
    frame.to_parquet(tmp, index=False)
    tmp.replace(path)
    return path


def read_dataset_info(data_dir: str | os.PathLike[str]) -> dict[str, Any]:
    path = Path(data_dir) / DATASET_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def write_dataset_info(data_dir: str | os.PathLike[str], info: dict[str, Any]) -> None:
    path = Path(data_dir) / DATASET_FILE
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(info, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    tmp.replace(path)
