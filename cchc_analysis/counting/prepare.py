"""The one owner of a data folder's derived data: the monthly cube and dataset.json's dates.

:func:`prepare_folder` is what every pipeline calls once dossiers may have changed (``cchc
ingest`` after an ingest, the report runner, the scheduled run, the demo): it builds the cube
when it is missing or older than the dossiers, and after new dossiers it rebuilds it and
refreshes the folder's date range in ``dataset.json``. ``cchc prepare`` (:func:`prepare_cube`)
forces the build. :func:`load_cube` reads the cube, or builds one in memory for a folder that
was never prepared.

Building the cube is the only step whose cost grows with the raw rows; reports then read the
cube (for trends and the province table) and their own district's partition (for exact period
counts).

The dossiers are streamed: each partition is read in record batches of ``batch_rows`` rows,
only the columns the cube needs, with text columns dictionary-encoded; each batch gives a
partial cube; the cube's counts (flows per month and month-end pending stocks) are additive
over dossiers, so a partition's cube is the sum of its batches' cubes, and each partition is
appended to the output file as soon as it is done. Peak memory is set by the batch size and one
partition's cube, not by the number of dossiers, so a folder larger than memory prepares too.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from cchc_analysis import store
from cchc_analysis.core.locking import RunLock
from cchc_analysis.counting.cube import (
    COUNT_READ_COLUMNS,
    CUBE_FLOW_COLUMNS,
    CUBE_INPUT_COLUMNS,
    CUBE_KEYS,
    CUBE_STOCK_COLUMNS,
    build_cube,
    has_cube_columns,
)
from cchc_analysis.units.registry import ERA_PRE_2025

TEXT_COLUMNS = ("unit_code", "unit_level", "field", "channel", "online_level", "status", "rating")
BATCH_ROWS = 500_000
FOLD_EVERY = 8  # partial cubes held before they are summed into one
# The cube's rows per Parquet row group, the areas' rows gathered: one group per area made
# the nation's cube (3,355 groups of ~100 rows) 12 s to read instead of 1.5 s.
CUBE_ROW_GROUP_ROWS = 100_000
PREPARE_LOCK = ".cchc-prepare.lock"
PREPARE_LOCK_TIMEOUT_S = 3600.0


def iter_batches(data_dir: Path, area: str, batch_rows: int = BATCH_ROWS) -> Iterator[pd.DataFrame]:
    """One area's dossiers as frames of at most ``batch_rows`` rows, cube columns only, with
    the unit's era and district (from the partition's key where a file predates them)."""
    era, code = store.area_parts(area)
    district = code if era == ERA_PRE_2025 and len(code) == 3 else None
    for path in store.area_files(data_dir, area):
        handle = pq.ParquetFile(path)
        names = handle.schema_arrow.names
        columns = [c for c in CUBE_INPUT_COLUMNS if c in names]
        handle = pq.ParquetFile(path, read_dictionary=[c for c in TEXT_COLUMNS if c in names])
        for batch in handle.iter_batches(batch_size=batch_rows, columns=columns):
            frame = batch.to_pandas()
            for column in CUBE_INPUT_COLUMNS:
                if column not in frame:
                    frame[column] = pd.Series(pd.NA, index=frame.index, dtype="object")
            constant = np.zeros(len(frame), dtype=np.int8)
            frame["era"] = pd.Categorical.from_codes(constant, categories=pd.Index([era]))
            frame["district_code"] = (
                pd.Categorical.from_codes(constant, categories=pd.Index([district]))
                if district is not None
                else pd.Categorical.from_codes(constant - 1, categories=pd.Index(["-"]))  # none
            )
            yield frame


def partition_cube(
    data_dir: Path,
    area: str,
    horizon: pd.Timestamp | None,
    batch_rows: int = BATCH_ROWS,
) -> tuple[pd.DataFrame, int]:
    """The cube of one area, summed over its batches; and the number of dossiers."""
    parts: list[pd.DataFrame] = []
    rows = 0
    for frame in iter_batches(data_dir, area, batch_rows):
        rows += len(frame)
        if len(frame):
            parts.append(build_cube(frame, horizon=horizon))
        del frame
        if len(parts) >= FOLD_EVERY:  # fold partial cubes so that they never pile up
            parts = [_sum_cubes(parts)]
    if not parts:
        return build_cube(pd.DataFrame()), 0
    keys = [k for k in CUBE_KEYS if k in parts[0]]
    cube = _sum_cubes(parts)
    cube = cube.sort_values([*keys, "month"], kind="stable", na_position="first")
    return cube.reset_index(drop=True), rows


def _sum_cubes(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """Partial cubes of the same dossiers' batches added up (counts are additive)."""
    if len(parts) == 1:
        return parts[0]
    keys = [k for k in CUBE_KEYS if k in parts[0]]
    values = [*CUBE_FLOW_COLUMNS, *CUBE_STOCK_COLUMNS]
    return (
        pd.concat(parts, ignore_index=True)
        .groupby([*keys, "month"], dropna=False, observed=True, sort=False)[values]
        .sum()
        .reset_index()
    )


def prepare_cube(
    data_dir: str | os.PathLike[str],
    batch_rows: int = BATCH_ROWS,
    lock_timeout_s: float | None = None,
) -> dict[str, Any]:
    """Build ``cube.parquet`` by streaming the dossiers (bounded memory); returns a summary.

    Holds the data folder's prepare lock, so two runs never write the cube at once."""
    started = time.perf_counter()
    path = store.check_data_dir(data_dir)
    timeout = PREPARE_LOCK_TIMEOUT_S if lock_timeout_s is None else lock_timeout_s
    with RunLock(path / PREPARE_LOCK, timeout_s=timeout):
        areas = store.dossier_areas(path)
        horizon = data_horizon(path, areas)
        target = path / store.CUBE_FILE
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        writer: pq.ParquetWriter | None = None
        rows = cube_rows = 0
        pending: list[pa.Table] = []  # areas' rows not yet written: one row group for many
        try:
            for area in areas:
                cube, count = partition_cube(path, area, horizon, batch_rows)
                rows += count
                if cube.empty:
                    continue
                table = pa.Table.from_pandas(cube, preserve_index=False)
                if writer is None:
                    writer = pq.ParquetWriter(tmp, table.schema)
                else:
                    table = table.cast(writer.schema)
                pending.append(table)
                cube_rows += len(cube)
                if sum(len(t) for t in pending) >= CUBE_ROW_GROUP_ROWS:
                    writer.write_table(pa.concat_tables(pending))
                    pending = []
            if writer is None:  # no dossiers at all: an empty cube with the usual columns
                build_cube(pd.DataFrame()).to_parquet(tmp, index=False)
            else:
                if pending:
                    writer.write_table(pa.concat_tables(pending))
                writer.close()
                writer = None
            tmp.replace(target)
        finally:
            if writer is not None:
                writer.close()
            tmp.unlink(missing_ok=True)
    seconds = time.perf_counter() - started
    return {
        "dossier_rows": rows,
        "cube_rows": cube_rows,
        "seconds": seconds,
        "rows_per_s": rows / seconds if seconds else 0.0,
        "path": str(target),
    }


def data_horizon(data_dir: Path, areas: list[str]) -> pd.Timestamp | None:
    """The last date in the folder's dossiers (the export date), so every partition's cube runs
    to the same month. Read from the Parquet statistics (no data read) when they are there."""
    latest = None
    for area in areas:
        for path in store.area_files(data_dir, area):
            value = _max_from_statistics(path)
            if value is _UNKNOWN:
                table = pq.read_table(path, columns=["received_at", "resolved_at"])
                frame = table.to_pandas()
                value = frame.max().max() if len(frame) else None
            if value is not None and pd.notna(value):
                value = pd.Timestamp(value)
                if latest is None or value > latest:
                    latest = value
    return latest


_UNKNOWN = object()


def _max_from_statistics(path: Path) -> Any:
    """Largest received_at/resolved_at of a file from its row-group statistics, or _UNKNOWN."""
    meta = pq.ParquetFile(path).metadata
    names = [meta.schema.column(i).name for i in range(meta.num_columns)]
    latest = None
    for column in ("received_at", "resolved_at"):
        if column not in names:
            continue
        index = names.index(column)
        for group in range(meta.num_row_groups):
            chunk = meta.row_group(group).column(index)
            stats = chunk.statistics
            if stats is None or not stats.has_min_max:
                if chunk.num_values and (stats is None or stats.null_count != chunk.num_values):
                    return _UNKNOWN
                continue
            value = pd.Timestamp(stats.max)
            if latest is None or value > latest:
                latest = value
    return latest


def cube_is_current(data_dir: str | os.PathLike[str]) -> bool:
    """True when the cube exists, has today's columns and is newer than every dossier
    partition file."""
    path = Path(data_dir)
    cube = path / store.CUBE_FILE
    if not cube.exists():
        return False
    names = pq.read_schema(cube).names
    if "era" not in names or not has_cube_columns(pd.DataFrame(columns=names)):
        return False  # written by an older version (before eras, or before the 766 counts)
    newest = max(
        (p.stat().st_mtime for p in (path / store.DOSSIERS_DIR).glob("*/*.parquet")),
        default=0.0,
    )
    return cube.stat().st_mtime >= newest


@dataclass(frozen=True)
class PrepareResult:
    """What :func:`prepare_folder` did to a folder."""

    cube_path: Path
    is_cube_built: bool = False
    cube_summary: dict[str, Any] | None = None  # prepare_cube's summary when it ran
    is_dataset_info_updated: bool = False


def prepare_folder(
    data_dir: str | os.PathLike[str], *, has_new_dossiers: bool = False
) -> PrepareResult:
    """Bring the folder's derived data up to date with its dossiers.

    Without dossiers nothing is done. With ``has_new_dossiers`` (an ingest just added rows) the
    cube is rebuilt and dataset.json's date range refreshed; otherwise the cube is built only
    when it is missing or older than the dossiers.
    """
    path = Path(data_dir)
    result = PrepareResult(cube_path=path / store.CUBE_FILE)
    if not store.has_dossiers(path):
        return result
    if has_new_dossiers:
        summary = prepare_cube(path)
        is_info_updated = refresh_dataset_info(path)
        return PrepareResult(result.cube_path, True, summary, is_info_updated)
    if cube_is_current(path):
        return result
    return PrepareResult(result.cube_path, True, prepare_cube(path))


def refresh_dataset_info(data_dir: str | os.PathLike[str]) -> bool:
    """dataset.json after an ingest added dossiers: where the folder's data came from, the
    dates it spans, its row count and the ingest's time (read a batch at a time: the folder may
    hold more dossiers than memory). False, and nothing written, when there are no dossiers."""
    out = Path(data_dir)
    info = store.read_dataset_info(out)
    dataset = ds.dataset(out / store.DOSSIERS_DIR, format="parquet", partitioning="hive")
    first = last = None
    rows = 0
    for batch in dataset.to_batches(columns=["received_at", "resolved_at"]):
        rows += batch.num_rows
        for column in ("received_at", "resolved_at"):
            low, high = pc.min_max(batch[column]).values()
            if column == "received_at" and low.is_valid:
                low = pd.Timestamp(low.as_py())
                first = low if first is None else min(first, low)
            if high.is_valid:
                high = pd.Timestamp(high.as_py())
                last = high if last is None else max(last, high)
    if not rows or first is None or last is None:  # a valid first date implies a last one
        return False
    info.setdefault("source", "cchc ingest (one-stop system exports)")
    info.setdefault("era", "2024")
    if info.get("source", "").startswith("cchc ingest"):
        info["date_range"] = {"start": first.date().isoformat(), "end": last.date().isoformat()}
        info["export_date"] = last.date().isoformat()
        info["dossier_rows"] = rows
    info["last_ingest"] = datetime.now().isoformat(timespec="seconds")
    store.write_dataset_info(out, info)
    return True


def load_cube(
    data_dir: str | os.PathLike[str], district_codes: Sequence[str] | None = None
) -> pd.DataFrame:
    """The monthly cube of the folder (rows of the given districts), built in memory if absent.

    Building in memory reads only the districts asked for and writes nothing, so a single
    report stays cheap (and a read-only folder works) even when ``cchc prepare`` has not run.
    """
    if district_codes is None:
        cube = store.read_table(data_dir, store.CUBE_FILE)
    else:
        cube = store.read_table_rows(data_dir, store.CUBE_FILE, "district_code", district_codes)
    if cube is not None and has_cube_columns(cube):
        return cube
    frame = store.read_dossiers(data_dir, district_codes, columns=COUNT_READ_COLUMNS)
    return build_cube(frame)
