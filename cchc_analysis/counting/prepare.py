"""The one owner of a data folder's derived data: the monthly cube and dataset.json's dates.

:func:`prepare_folder` is what every pipeline calls once dossiers may have changed (``cchc
ingest`` after an ingest, the report runner, the scheduled run, the demo): it builds the cube
when it is missing or older than the dossiers, and after new dossiers it rebuilds it and
refreshes the folder's date range in ``dataset.json``. ``cchc prepare`` (:func:`prepare_cube`)
forces the build (``--full``: of every area). :func:`load_cube` reads the cube, or builds one
in memory for a folder that was never prepared.

Building the cube is the only step whose cost grows with the raw rows; reports then read the
cube (for trends and the province table) and their own district's partition (for exact period
counts).

The dossiers are streamed: the areas are read in record batches of ``batch_rows`` rows, only
the columns the cube needs, with text columns dictionary-encoded, and consecutive areas share a
batch (a new commune holds a few thousand dossiers: one count per commune cost more in overhead
than in counting). Each batch gives a partial cube keyed by area first; the cube's counts (flows
per month and month-end pending stocks) are additive over dossiers, so an area's cube is the sum
of its batches' cubes, and each area is appended to the output file as soon as it is done. Peak
memory is set by the batch size and one area's cube, not by the number of dossiers, so a folder
larger than memory prepares too.

An area whose files are those the previous cube was counted from keeps its rows from it, when
the cube still runs to the same month (``cube_record``): a province's monthly export into the
nation's folder counts its own communes, not the 3,355 areas.
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
from cchc_analysis.counting.cube_record import (
    AreaEntry,
    CubeRecord,
    StoredRows,
    UnreadableCubeError,
    area_fingerprint,
    read_record,
    rules_digest,
)
from cchc_analysis.units.registry import ERA_PRE_2025

TEXT_COLUMNS = ("unit_code", "unit_level", "field", "channel", "online_level", "status", "rating")
BATCH_ROWS = 500_000
FOLD_EVERY = 8  # partial cubes held before they are summed into one
# The cube's rows per Parquet row group, the areas' rows gathered: one group per area made
# the nation's cube (3,355 groups of ~100 rows) 12 s to read instead of 1.5 s.
CUBE_ROW_GROUP_ROWS = 100_000
AREA_COLUMN = "area_place"  # a batch's rows: which of its areas each belongs to
PREPARE_LOCK = ".cchc-prepare.lock"
PREPARE_LOCK_TIMEOUT_S = 3600.0


def _area_batches(data_dir: Path, area: str, batch_rows: int) -> Iterator[pa.RecordBatch]:
    """One area's dossiers in record batches: the cube's columns, text dictionary-encoded."""
    for path in store.area_files(data_dir, area):
        names = pq.read_schema(path).names
        columns = [c for c in CUBE_INPUT_COLUMNS if c in names]
        handle = pq.ParquetFile(path, read_dictionary=[c for c in TEXT_COLUMNS if c in names])
        yield from handle.iter_batches(batch_size=batch_rows, columns=columns)


def _cube_input(pieces: Sequence[tuple[str, pa.RecordBatch]]) -> pd.DataFrame:
    """Record batches of consecutive areas as one frame for :func:`build_cube`: every cube
    column (a column a file lacks is missing data), the era and district of each row's area,
    and the area's place in ``pieces`` as ``AREA_COLUMN``."""
    table = pa.concat_tables(
        [pa.Table.from_batches([batch]) for _, batch in pieces], promote_options="default"
    )
    frame: pd.DataFrame = table.to_pandas()
    for column in CUBE_INPUT_COLUMNS:
        if column not in frame:
            frame[column] = pd.Series(pd.NA, index=frame.index, dtype="object")
    areas = list(dict.fromkeys(area for area, _ in pieces))
    place = np.repeat(
        np.array([areas.index(area) for area, _ in pieces], dtype=np.int64),
        [batch.num_rows for _, batch in pieces],
    )
    eras: list[str] = []
    districts: list[str] = []
    era_codes = np.empty(len(areas), dtype=np.int64)
    district_codes = np.empty(len(areas), dtype=np.int64)
    for i, area in enumerate(areas):
        era, code = store.area_parts(area)
        era_codes[i] = _code_of(eras, era)
        is_district = era == ERA_PRE_2025 and len(code) == 3
        district_codes[i] = _code_of(districts, code) if is_district else -1  # none
    frame["era"] = pd.Categorical.from_codes(era_codes[place], categories=pd.Index(eras))
    frame["district_code"] = pd.Categorical.from_codes(
        district_codes[place], categories=pd.Index(districts or ["-"])
    )
    frame[AREA_COLUMN] = place
    return frame


def _code_of(values: list[str], value: str) -> int:
    if value not in values:
        values.append(value)
    return values.index(value)


def area_cubes(
    data_dir: Path,
    areas: Sequence[str],
    horizon: pd.Timestamp | None,
    batch_rows: int = BATCH_ROWS,
) -> Iterator[tuple[str, pa.Table | None, int]]:
    """Each area's cube (None when it has no rows), in the order given, and its number of
    dossiers; the cube's rows sorted by its keys and month.

    The rows of consecutive areas are counted together, ``batch_rows`` at a time: the new
    communes hold a few thousand dossiers each, and one :func:`build_cube` per commune cost
    more in fixed overhead than in counting. A batch's cube keeps each row's area as its first
    key, so an area's rows come out exactly as if it had been counted alone; an area larger
    than a batch is the sum of its batches' cubes (counts are additive over dossiers). With no
    horizon the months of a cube end at its own last date, so every area is counted alone.
    """
    pieces: list[tuple[str, pa.RecordBatch]] = []
    piece_rows = 0
    partial: dict[str, list[pa.Table]] = {}  # counted, not yet handed out
    rows: dict[str, int] = {}
    is_together = horizon is not None

    def count_pieces() -> None:
        nonlocal pieces, piece_rows
        if not pieces:
            return
        frame = _cube_input(pieces)
        names = list(dict.fromkeys(area for area, _ in pieces))
        pieces, piece_rows = [], 0
        cube = build_cube(frame, keys=(AREA_COLUMN, *CUBE_KEYS), horizon=horizon)
        del frame
        keys = [k for k in (AREA_COLUMN, *CUBE_KEYS) if k in cube]
        cube[AREA_COLUMN] = cube[AREA_COLUMN].astype("int64")
        cube = cube.sort_values([*keys, "month"], kind="stable", na_position="first")
        bounds = np.searchsorted(cube[AREA_COLUMN].to_numpy(), np.arange(len(names) + 1))
        table = pa.Table.from_pandas(cube.drop(columns=AREA_COLUMN), preserve_index=False)
        for i, name in enumerate(names):
            if bounds[i + 1] > bounds[i]:
                kept = partial.setdefault(name, [])
                kept.append(table.slice(bounds[i], bounds[i + 1] - bounds[i]))
                if len(kept) >= FOLD_EVERY:  # fold partial cubes so that they never pile up
                    partial[name] = [_sum_cubes(kept)]

    for area in areas:
        rows[area] = 0
        for batch in _area_batches(data_dir, area, batch_rows):
            if not batch.num_rows:
                continue
            rows[area] += batch.num_rows
            pieces.append((area, batch))
            piece_rows += batch.num_rows
            if piece_rows >= batch_rows:
                count_pieces()
        if not is_together:
            count_pieces()
        if not pieces:  # every area read so far is counted: hand them out
            yield from _finished(partial, rows)
    count_pieces()
    yield from _finished(partial, rows)


def _finished(
    partial: dict[str, list[pa.Table]], rows: dict[str, int]
) -> Iterator[tuple[str, pa.Table | None, int]]:
    """The counted areas' cubes (and forgotten)."""
    for area in list(rows):
        parts = partial.pop(area, [])
        yield area, (_sum_cubes(parts) if parts else None), rows.pop(area)


def _sum_cubes(parts: list[pa.Table]) -> pa.Table:
    """Partial cubes of the same dossiers' batches added up (counts are additive), sorted by
    their keys and month."""
    if len(parts) == 1:
        return parts[0]
    frame = pa.concat_tables(parts).to_pandas()
    keys = [k for k in CUBE_KEYS if k in frame]
    values = [*CUBE_FLOW_COLUMNS, *CUBE_STOCK_COLUMNS]
    frame = (
        frame.groupby([*keys, "month"], dropna=False, observed=True, sort=False)[values]
        .sum()
        .reset_index()
        .sort_values([*keys, "month"], kind="stable", na_position="first")
    )
    return pa.Table.from_pandas(frame, preserve_index=False).cast(parts[0].schema)


def prepare_cube(
    data_dir: str | os.PathLike[str],
    batch_rows: int = BATCH_ROWS,
    lock_timeout_s: float | None = None,
    *,
    is_full: bool = False,
) -> dict[str, Any]:
    """Build ``cube.parquet`` by streaming the dossiers (bounded memory); returns a summary.

    An area whose files are as the previous cube recorded them keeps its rows from it
    (``cube_record``), unless ``is_full``; the others are counted. Holds the data folder's
    prepare lock, so two runs never write the cube at once."""
    started = time.perf_counter()
    path = store.check_data_dir(data_dir)
    timeout = PREPARE_LOCK_TIMEOUT_S if lock_timeout_s is None else lock_timeout_s
    with RunLock(path / PREPARE_LOCK, timeout_s=timeout):
        areas = store.dossier_areas(path)
        target = path / store.CUBE_FILE
        plan = _plan(path, areas, None if is_full else read_record(target))
        try:
            rows, cube_rows = _write_cube(path, areas, plan, batch_rows)
        except UnreadableCubeError:  # the previous cube's rows could not be read after all
            plan = _plan(path, areas, None)
            rows, cube_rows = _write_cube(path, areas, plan, batch_rows)
    seconds = time.perf_counter() - started
    return {
        "dossier_rows": rows,
        "cube_rows": cube_rows,
        "area_count": len(areas),
        "counted_area_count": len(areas) - len(plan.kept),
        "seconds": seconds,
        "rows_per_s": rows / seconds if seconds else 0.0,
        "path": str(target),
    }


@dataclass(frozen=True)
class _Plan:
    """What a build counts and what it takes over from the previous cube."""

    fingerprints: dict[str, str]
    latest: dict[str, str | None]  # each area's latest date (ISO)
    kept: dict[str, AreaEntry]  # the areas whose rows are taken over
    horizon: pd.Timestamp | None
    horizon_month: str | None


def _plan(path: Path, areas: list[str], previous: CubeRecord | None) -> _Plan:
    """Which areas keep their rows: those whose files the previous cube was counted from, when
    it runs to the same month; an unchanged area's latest date comes from the record."""
    fingerprints = {area: area_fingerprint(path, area) for area in areas}
    kept = {
        area: previous.areas[area]
        for area in areas
        if previous is not None
        and area in previous.areas
        and previous.areas[area].fingerprint == fingerprints[area]
    }
    latest = {area: entry.latest for area, entry in kept.items()}
    for area in areas:
        if area not in kept:
            value = area_latest(path, area)
            latest[area] = None if value is None else value.isoformat()
    dates = [pd.Timestamp(value) for value in latest.values() if value is not None]
    horizon = max(dates) if dates else None
    horizon_month = None if horizon is None else f"{horizon:%Y-%m}"
    if previous is None or horizon is None or previous.horizon_month != horizon_month:
        kept = {}  # the months run to another end: every area is counted again
    return _Plan(fingerprints, latest, kept, horizon, horizon_month)


def _write_cube(path: Path, areas: list[str], plan: _Plan, batch_rows: int) -> tuple[int, int]:
    """Write the cube (and its record) under a temporary name and rename it into place;
    returns the dossiers and the cube's rows."""
    target = path / store.CUBE_FILE
    counted = area_cubes(path, [a for a in areas if a not in plan.kept], plan.horizon, batch_rows)
    stored = StoredRows(target) if plan.kept else None
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    writer: pq.ParquetWriter | None = None
    rows = cube_rows = 0
    entries: dict[str, AreaEntry] = {}
    pending: list[pa.Table] = []  # areas' rows not yet written: one row group for many
    pending_rows = 0
    try:
        for area in areas:
            table: pa.Table | None = None
            if area in plan.kept:
                entry = plan.kept[area]
                count = entry.dossier_rows
                if entry.cube_rows and stored is not None:
                    table = stored.take(entry.first_row, entry.cube_rows)
            else:
                name, table, count = next(counted)
                assert name == area, (name, area)
            rows += count
            size = 0 if table is None else table.num_rows
            fingerprint, latest = plan.fingerprints[area], plan.latest[area]
            entries[area] = AreaEntry(fingerprint, cube_rows, size, count, latest)
            if table is None or not size:
                continue
            if writer is None:
                writer = pq.ParquetWriter(tmp, _plain_schema(table.schema))
            if not table.schema.equals(writer.schema, check_metadata=False):
                table = table.cast(writer.schema)
            pending.append(table)
            pending_rows += size
            cube_rows += size
            if pending_rows >= CUBE_ROW_GROUP_ROWS:
                writer.write_table(pa.concat_tables(pending))
                pending, pending_rows = [], 0
        record = CubeRecord(rules_digest(), plan.horizon_month, entries)
        if writer is None:  # no dossiers at all: an empty cube with the usual columns
            empty = pa.Table.from_pandas(build_cube(pd.DataFrame()), preserve_index=False)
            metadata = {**(empty.schema.metadata or {}), **record.to_metadata()}
            pq.write_table(empty.replace_schema_metadata(metadata), tmp)
        else:
            if pending:
                writer.write_table(pa.concat_tables(pending))
            writer.add_key_value_metadata(record.to_metadata())
            writer.close()
            writer = None
        tmp.replace(target)
    finally:
        if writer is not None:
            writer.close()
        tmp.unlink(missing_ok=True)
    return rows, cube_rows


def _plain_schema(schema: pa.Schema) -> pa.Schema:
    """The cube's columns and pandas' description of them, without a previous file's record."""
    pandas_info = (schema.metadata or {}).get(b"pandas")
    return schema.remove_metadata().with_metadata({b"pandas": pandas_info} if pandas_info else {})


def data_horizon(data_dir: Path, areas: list[str]) -> pd.Timestamp | None:
    """The last date in the folder's dossiers (the export date), so every partition's cube runs
    to the same month."""
    dates = [d for d in (area_latest(data_dir, area) for area in areas) if d is not None]
    return max(dates) if dates else None


def area_latest(data_dir: Path, area: str) -> pd.Timestamp | None:
    """The last received/resolved date of an area's dossiers. Read from the Parquet statistics
    (no data read) when they are there."""
    latest = None
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
