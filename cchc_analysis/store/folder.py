"""On-disk layout of a data folder, and reads that touch only what a caller needs.

A data folder (``data/demo``, ``data/processed``) holds::

    dossiers/district_code=<code>/part-*.parquet   one partition per district (or new-era unit)
    cube.parquet                                   monthly counts (built by ``cchc prepare``)
    period_reports.parquet                         Biểu 06 aggregate rows (from ingest)
    survey.parquet                                 SIPAS-style respondents
    dataset.json                                   what produced the folder (source, seed, rows)

Dossiers are partitioned by district so that one district's report reads only its slice.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Hashable, Iterator, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, cast

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from cchc_analysis.core.errors import DataFolderError
from cchc_analysis.core.schema import DOSSIER_COLUMNS, coerce_dossiers

DOSSIERS_DIR = "dossiers"
CUBE_FILE = "cube.parquet"
PERIOD_REPORTS_FILE = "period_reports.parquet"
SURVEY_FILE = "survey.parquet"
DATASET_FILE = "dataset.json"
PARTITION_COLUMN = "district_code"


PROJECT_DIR = Path(__file__).resolve().parent.parent


def resolve_data_dir(data_dir: str | os.PathLike[str]) -> Path:
    """A relative folder is looked up from the working directory, then from the project root,
    so a notebook run from ``notebooks/`` or from the repository finds ``data/demo`` alike."""
    path = Path(data_dir)
    if path.is_absolute() or path.exists():
        return path
    candidate = PROJECT_DIR / path
    return candidate if candidate.exists() else path


def check_data_dir(data_dir: str | os.PathLike[str]) -> Path:
    """Return the folder as a Path, or raise DataFolderError saying what is missing."""
    path = Path(data_dir)
    if not path.is_dir():
        raise DataFolderError(f"data folder not found: {path}")
    if not (has_dossiers(path) or (path / PERIOD_REPORTS_FILE).exists()):
        raise DataFolderError(
            f"data folder {path} holds no dossiers/ and no {PERIOD_REPORTS_FILE}; "
            "run `cchc demo` or `cchc ingest` first"
        )
    return path


def has_dossiers(data_dir: str | os.PathLike[str]) -> bool:
    path = Path(data_dir) / DOSSIERS_DIR
    return path.is_dir() and any(path.glob("*/*.parquet"))


def write_dossiers(
    frame: pd.DataFrame, data_dir: str | os.PathLike[str], *, replace: bool = True
) -> int:
    """Write dossiers partitioned by district; returns the number of rows written.

    ``replace`` rewrites the partitions that ``frame`` touches (others are kept), so that a
    re-run never leaves a half-old partition behind.
    """
    target = Path(data_dir) / DOSSIERS_DIR
    target.mkdir(parents=True, exist_ok=True)
    table_frame = coerce_dossiers(frame)
    for code, part in table_frame.groupby(PARTITION_COLUMN, observed=True, sort=True):
        part_dir = target / f"{PARTITION_COLUMN}={code}"
        tmp_dir = target / f".tmp-{PARTITION_COLUMN}={code}-{os.getpid()}"
        if tmp_dir.exists():
            shutil.rmtree(tmp_dir)
        tmp_dir.mkdir()
        # Date order makes each row group cover a short span of days, so a report's
        # received_at filter skips the row groups of other periods.
        body = part.drop(columns=[PARTITION_COLUMN]).sort_values(
            ["received_at", "unit_code"], kind="stable"
        )
        table = pa.Table.from_pandas(body, preserve_index=False)
        pq.write_table(table, tmp_dir / "part-0.parquet", row_group_size=256_000)
        if part_dir.exists():
            if not replace:
                raise FileExistsError(part_dir)
            shutil.rmtree(part_dir)
        tmp_dir.rename(part_dir)
    return len(table_frame)


def append_dossiers(frame: pd.DataFrame, data_dir: str | os.PathLike[str]) -> list[Path]:
    """Add dossiers as one new file per district (``part-<n>.parquet``, in date order), leaving
    the partition's other files as they are; returns the files written.

    Why: ingest adds a month's export to years of history, so rewriting whole partitions
    would cost time and memory in proportion to the history. Each file is written under a
    temporary name and renamed, so a partition never holds half a file.
    """
    target = Path(data_dir) / DOSSIERS_DIR
    written = []
    for code, part in coerce_dossiers(frame).groupby(PARTITION_COLUMN, observed=True, sort=True):
        part_dir = target / f"{PARTITION_COLUMN}={code}"
        part_dir.mkdir(parents=True, exist_ok=True)
        numbers = [int(p.stem.split("-")[1]) for p in part_dir.glob("part-*.parquet")]
        path = part_dir / f"part-{max(numbers, default=-1) + 1}.parquet"
        tmp = part_dir / f".{path.name}.{os.getpid()}.tmp"
        body = part.drop(columns=[PARTITION_COLUMN]).sort_values(
            ["received_at", "unit_code"], kind="stable"
        )
        pq.write_table(
            pa.Table.from_pandas(body, preserve_index=False), tmp, row_group_size=256_000
        )
        tmp.replace(path)
        written.append(path)
    return written


def dossier_partitions(data_dir: str | os.PathLike[str]) -> list[str]:
    """Codes of the districts (partitions) present in the folder."""
    root = Path(data_dir) / DOSSIERS_DIR
    if not root.is_dir():
        return []
    prefix = f"{PARTITION_COLUMN}="
    return sorted(p.name[len(prefix) :] for p in root.iterdir() if p.name.startswith(prefix))


def read_dossiers(
    data_dir: str | os.PathLike[str],
    district_codes: Sequence[str] | None = None,
    columns: Sequence[str] | None = None,
    unit_codes: Sequence[str] | None = None,
    received_between: tuple[Any, Any] | None = None,
) -> pd.DataFrame:
    """Read dossiers of the given districts only (all when None), with canonical dtypes.

    ``received_between`` (first day, last day) is pushed down to Parquet, so a report that
    needs one period reads that period's rows, not the district's whole history.
    """
    root = Path(data_dir) / DOSSIERS_DIR
    codes = dossier_partitions(data_dir) if district_codes is None else list(district_codes)
    wanted = list(DOSSIER_COLUMNS) if columns is None else list(columns)
    frames = []
    for code in codes:
        part_dir = root / f"{PARTITION_COLUMN}={code}"
        if not part_dir.is_dir():
            continue
        dataset = ds.dataset(part_dir, format="parquet")
        file_columns = [c for c in wanted if c in dataset.schema.names]
        filt = ds.field("unit_code").isin(list(unit_codes)) if unit_codes else None
        if received_between is not None:
            first, last = (pd.Timestamp(d) for d in received_between)
            window = (ds.field("received_at") >= first) & (
                ds.field("received_at") < last + pd.Timedelta(days=1)
            )
            filt = window if filt is None else filt & window
        frame = dataset.to_table(columns=file_columns, filter=filt).to_pandas()
        frame[PARTITION_COLUMN] = code
        frames.append(frame)
    if not frames:
        return coerce_dossiers(pd.DataFrame(columns=list(DOSSIER_COLUMNS)), wanted)
    frame = pd.concat(frames, ignore_index=True)
    return coerce_dossiers(frame, wanted)


def iter_dossier_batches(
    data_dir: str | os.PathLike[str], district_code: str, batch_rows: int = 500_000
) -> Iterator[pd.DataFrame]:
    """One district's dossiers a batch at a time, in stored order, with canonical dtypes: for
    passes over partitions larger than memory (ingest's de-duplication)."""
    part_dir = Path(data_dir) / DOSSIERS_DIR / f"{PARTITION_COLUMN}={district_code}"
    for path in sorted(part_dir.glob("*.parquet")):
        for batch in pq.ParquetFile(path).iter_batches(batch_size=batch_rows):
            frame = batch.to_pandas()
            frame[PARTITION_COLUMN] = district_code
            yield coerce_dossiers(frame)[list(DOSSIER_COLUMNS)]


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
