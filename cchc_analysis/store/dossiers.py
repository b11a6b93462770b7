"""Dossier partitions: one folder per reporting area, keyed by era, so a report reads its slice.

    dossiers/area=2024-314/part-<n>.parquet     a district before 1 July 2025 (its own offices
                                                and its communes)
    dossiers/area=2024-30/part-<n>.parquet      a pre-2025 province's own offices
    dossiers/area=2025-11443/part-<n>.parquet   a commune from 1 July 2025
    dossiers/area=2025-31/part-<n>.parquet      a province's own offices from 1 July 2025

Why an era in the key: the 2025 reform reused old commune numbers for new communes, so a code
alone names two different places (11443 is Phường Trần Thành Ngọ before the reform and Phường
Kiến An after it). The key, ``<era>-<code>``, is text that no Parquet reader (pandas, pyarrow,
DuckDB) takes for a number, so zero-padded codes keep their zeros.

Folders written before eras were stored (``dossiers/district_code=<code>/``) are renamed to
their era-2024 area the first time the folder is opened; the files are not rewritten.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from cchc_analysis.core.errors import DataFolderError
from cchc_analysis.core.schema import DOSSIER_COLUMNS, coerce_dossiers
from cchc_analysis.units.registry import ERA_2025, ERA_PRE_2025

DOSSIERS_DIR = "dossiers"
VERSIONS_DIR = "dossier_versions"
PARTITION_COLUMN = "area"
# Beside the canonical columns, a dossier row written by a snapshot ingest carries the date of
# the snapshot it came from and that file's name (no path); rows written before (or by the
# demo) lack them: their snapshot date is unknown, read as "before any snapshot".
# ``is_closed_on_snapshot``: the row's resolved_at is not the export's but the date of the first
# snapshot showing it closed (a withdrawn or stopped dossier the export gives no date for).
SNAPSHOT_COLUMNS = ("exported_at", "source_file", "is_closed_on_snapshot")
LEGACY_PARTITION_COLUMN = "district_code"  # the layout before eras were stored
ROW_GROUP_ROWS = 256_000


def area_key(era: str, code: str) -> str:
    """The partition key of a reporting area: ``area_key("2024", "314") == "2024-314"``."""
    return f"{era}-{code}"


def area_parts(area: str) -> tuple[str, str]:
    """(era, code) of a partition key: ``area_parts("2025-11443") == ("2025", "11443")``."""
    era, _, code = area.partition("-")
    return era, code


def row_areas(frame: pd.DataFrame) -> pd.Series:
    """The area each dossier row is stored under (see the module docstring), as text.

    Era 2024: the district (the province for a province's own offices); era 2025: the commune
    (the province for its own offices). A row without an era is read as era 2024, as folders
    written before eras were stored are.
    """
    areas = row_area_array(frame).to_numpy(zero_copy_only=False)
    return pd.Series(areas, index=frame.index, dtype=object)


def row_area_array(frame: pd.DataFrame) -> pa.Array:
    """:func:`row_areas` as an Arrow string array, computed with Arrow kernels (no Python
    object per row: ingest spools a million rows through it)."""
    era = pc.fill_null(_text(frame, "era"), ERA_PRE_2025)
    is_province_office = pc.fill_null(pc.equal(_text(frame, "unit_level"), "province"), False)
    code = pc.if_else(
        pc.equal(era, ERA_2025), _text(frame, "unit_code"), _text(frame, "district_code")
    )
    code = pc.if_else(is_province_office, _text(frame, "province_code"), code)
    missing = code.null_count
    if missing:
        raise ValueError(f"{missing} dossier rows have no area (district or unit)")
    areas: pa.Array = pc.binary_join_element_wise(era, code, "-")
    return areas


def rows_by_area(frame: pd.DataFrame) -> Iterator[tuple[str, pd.DataFrame]]:
    """(area, its rows in frame order) for each area of the rows, in area order: what
    ``frame.groupby(row_areas(frame), sort=True)`` gives, without a Python string per row (a
    run of one area's rows, as ingest writes them, is given whole)."""
    encoded = pc.dictionary_encode(row_area_array(frame))
    names: list[str] = encoded.dictionary.to_pylist()
    if len(names) == 1:
        yield names[0], frame
        return
    codes = np.asarray(encoded.indices.to_numpy(zero_copy_only=False))
    for number in sorted(range(len(names)), key=names.__getitem__):
        yield names[number], frame[codes == number]


def _text(frame: pd.DataFrame, column: str) -> pa.Array:
    """A column as Arrow text (null where missing; all null when the frame lacks it)."""
    if column not in frame:
        return pa.nulls(len(frame), pa.string())
    values = frame[column]
    if not isinstance(values.dtype, pd.StringDtype):
        values = values.astype("string")
    text = pa.array(values, type=pa.string(), from_pandas=True)
    return text.combine_chunks() if isinstance(text, pa.ChunkedArray) else text


def upgrade_layout(data_dir: str | os.PathLike[str]) -> int:
    """Rename the partitions of a folder written before eras were stored to their era-2024
    areas (``district_code=314`` -> ``area=2024-314``); returns how many were renamed."""
    root = Path(data_dir) / DOSSIERS_DIR
    if not root.is_dir():
        return 0
    prefix = f"{LEGACY_PARTITION_COLUMN}="
    renamed = 0
    # Called by every read: the names alone (no path objects, no stat) unless one is old.
    with os.scandir(root) as entries:
        legacy = sorted(entry.name for entry in entries if entry.name.startswith(prefix))
    for name in legacy:
        folder = root / name
        if not folder.is_dir():
            continue
        target = root / f"{PARTITION_COLUMN}={area_key(ERA_PRE_2025, name[len(prefix) :])}"
        try:
            folder.rename(target)
        except OSError as exc:
            raise DataFolderError(
                f"{root} was written by an earlier version (district_code= folders) and cannot "
                f"be upgraded here ({exc.strerror}): run `cchc prepare --data {data_dir}` once "
                "with write access"
            ) from None
        renamed += 1
    return renamed


def dossier_areas(data_dir: str | os.PathLike[str]) -> list[str]:
    """The partition keys present in the folder (``["2024-313", "2024-314", "2025-11443"]``)."""
    root = Path(data_dir) / DOSSIERS_DIR
    if not root.is_dir():
        return []
    upgrade_layout(data_dir)
    prefix = f"{PARTITION_COLUMN}="
    with os.scandir(root) as entries:
        return sorted(e.name[len(prefix) :] for e in entries if e.name.startswith(prefix))


def dossier_partitions(data_dir: str | os.PathLike[str]) -> list[str]:
    """Codes of the pre-2025 districts present in the folder (their areas' codes)."""
    return [
        code
        for era, code in map(area_parts, dossier_areas(data_dir))
        if era == ERA_PRE_2025 and len(code) == 3
    ]


def has_dossiers(data_dir: str | os.PathLike[str]) -> bool:
    path = Path(data_dir) / DOSSIERS_DIR
    return path.is_dir() and any(path.glob("*/*.parquet"))


def _area_dir(data_dir: str | os.PathLike[str], area: str, root: str = DOSSIERS_DIR) -> Path:
    return Path(data_dir) / root / f"{PARTITION_COLUMN}={area}"


def _with_snapshot(frame: pd.DataFrame, source: pd.DataFrame) -> pd.DataFrame:
    """Canonical columns plus the snapshot columns that ``source`` has."""
    for column in SNAPSHOT_COLUMNS:
        if column in source:
            values = source[column]
            if column == "exported_at":
                frame[column] = pd.to_datetime(values).astype("datetime64[ms]")
            elif column == "is_closed_on_snapshot":
                frame[column] = values.astype("boolean").fillna(False).astype(bool)
            else:
                frame[column] = values.astype("string")
    return frame


# Date order makes each row group cover a short span of days, so a report's received_at
# filter skips the row groups of other periods. Ties keep the frame's order (a stable sort),
# missing values last.
SORT_KEYS: Final = (("received_at", "ascending"), ("unit_code", "ascending"))


def _sorted_body(part: pd.DataFrame) -> pa.Table:
    """The rows as an Arrow table, sorted by :data:`SORT_KEYS`: Arrow's stable sort gives the
    order of ``part.sort_values(["received_at", "unit_code"], kind="stable")``, at a fraction
    of its cost (text compares by code point both ways)."""
    table = pa.Table.from_pandas(part, preserve_index=False)
    order = pc.sort_indices(table, sort_keys=list(SORT_KEYS))  # nulls at the end
    return table.take(order)


def write_dossiers(
    frame: pd.DataFrame, data_dir: str | os.PathLike[str], *, replace: bool = True
) -> int:
    """Write dossiers partitioned by area; returns the number of rows written.

    ``replace`` rewrites the partitions that ``frame`` touches (others are kept), so that a
    re-run never leaves a half-old partition behind.
    """
    target = Path(data_dir) / DOSSIERS_DIR
    target.mkdir(parents=True, exist_ok=True)
    upgrade_layout(data_dir)
    table_frame = coerce_dossiers(frame)
    for area, part in rows_by_area(table_frame):
        part_dir = _area_dir(data_dir, str(area))
        tmp_dir = target / f".tmp-{part_dir.name}-{os.getpid()}"
        if tmp_dir.exists():
            shutil.rmtree(tmp_dir)
        tmp_dir.mkdir()
        pq.write_table(
            _sorted_body(part), tmp_dir / "part-0.parquet", row_group_size=ROW_GROUP_ROWS
        )
        if part_dir.exists():
            if not replace:
                raise FileExistsError(part_dir)
            shutil.rmtree(part_dir)
        tmp_dir.rename(part_dir)
    return len(table_frame)


def append_dossiers(
    frame: pd.DataFrame, data_dir: str | os.PathLike[str], *, root: str = DOSSIERS_DIR
) -> list[Path]:
    """Add dossiers as one new file per area (``part-<n>.parquet``, in date order), leaving the
    partition's other files as they are; returns the files written. The snapshot columns
    (:data:`SNAPSHOT_COLUMNS`) are kept when ``frame`` has them; ``root`` is
    :data:`VERSIONS_DIR` for the store of every version.

    Why: ingest adds a month's export to years of history, so rewriting whole partitions
    would cost time and memory in proportion to the history. Each file is written under a
    temporary name and renamed, so a partition never holds half a file.
    """
    upgrade_layout(data_dir)
    table_frame = _with_snapshot(coerce_dossiers(frame), frame)
    written = []
    for area, part in rows_by_area(table_frame):
        path, tmp = _next_part(_area_dir(data_dir, str(area), root))
        pq.write_table(_sorted_body(part), tmp, row_group_size=ROW_GROUP_ROWS)
        tmp.replace(path)
        written.append(path)
    return written


def copy_dossier_files(
    paths: Sequence[Path], data_dir: str | os.PathLike[str], *, root: str = DOSSIERS_DIR
) -> list[Path]:
    """Files :func:`append_dossiers` wrote under another root, added byte for byte as new
    files of the same areas under ``root``; returns the files written.

    Why: a snapshot ingest stores its new rows twice, as versions and as current rows; when
    they are the same rows (a first ingest, or no older snapshot among the files), copying
    the versions' files saves encoding them again.
    """
    written = []
    for source in paths:
        path, tmp = _next_part(Path(data_dir) / root / source.parent.name)
        shutil.copyfile(source, tmp)
        tmp.replace(path)
        written.append(path)
    return written


def _next_part(part_dir: Path) -> tuple[Path, Path]:
    """The next new file of an area folder (made if need be) and its temporary name."""
    part_dir.mkdir(parents=True, exist_ok=True)
    numbers = [int(p.stem.split("-")[1]) for p in part_dir.glob("part-*.parquet")]
    path = part_dir / f"part-{max(numbers, default=-1) + 1}.parquet"
    return path, part_dir / f".{path.name}.{os.getpid()}.tmp"


def _from_area(frame: pd.DataFrame, area: str) -> pd.DataFrame:
    """The era and district of an area's rows are its key's: files written before eras were
    stored lack them, and the key is what a reader trusts."""
    era, code = area_parts(area)
    if "era" in frame:
        frame["era"] = era
    if "district_code" in frame and era == ERA_PRE_2025 and len(code) == 3:
        frame["district_code"] = code
    return frame


def _with_columns(frame: pd.DataFrame, wanted: Sequence[str], area: str) -> pd.DataFrame:
    for column in ("era", "district_code"):
        if column in wanted and column not in frame:
            frame[column] = pd.Series(pd.NA, index=frame.index, dtype="string")
    return _from_area(frame, area)


def read_dossiers(
    data_dir: str | os.PathLike[str],
    district_codes: Sequence[str] | None = None,
    columns: Sequence[str] | None = None,
    unit_codes: Sequence[str] | None = None,
    received_between: tuple[Any, Any] | None = None,
    *,
    areas: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Read the dossiers of some areas (``areas``, or the pre-2025 districts
    ``district_codes``; every area when both are None), with canonical dtypes.

    ``received_between`` (first day, last day) is pushed down to Parquet, so a report that
    needs one period reads that period's rows, not the district's whole history.
    """
    if areas is None:
        areas = (
            dossier_areas(data_dir)
            if district_codes is None
            else [area_key(ERA_PRE_2025, code) for code in district_codes]
        )
    else:
        upgrade_layout(data_dir)
    wanted = list(DOSSIER_COLUMNS) if columns is None else list(columns)
    frames = []
    for area in areas:
        part_dir = _area_dir(data_dir, area)
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
        frames.append(_with_columns(frame, wanted, area))
    if not frames:
        return coerce_dossiers(pd.DataFrame(columns=list(DOSSIER_COLUMNS)), wanted)
    frame = pd.concat(frames, ignore_index=True)
    return coerce_dossiers(frame, wanted)


def iter_dossier_batches(
    data_dir: str | os.PathLike[str], area: str, batch_rows: int = 500_000
) -> Iterator[pd.DataFrame]:
    """One area's dossiers a batch at a time, in stored order, with canonical dtypes: for
    passes over partitions larger than memory (ingest's de-duplication)."""
    for path in area_files(data_dir, area):
        for frame in iter_file_batches(path, area, batch_rows):
            yield frame[list(DOSSIER_COLUMNS)]


def iter_file_batches(
    path: Path, area: str, batch_rows: int = 500_000, *, filter: Any = None
) -> Iterator[pd.DataFrame]:
    """One dossier file's rows a batch at a time: canonical columns plus the snapshot columns
    (``exported_at`` null and ``source_file`` empty where the file predates them).
    ``filter``: a pyarrow dataset expression (reads only the matching rows)."""
    if filter is not None:
        batches: Iterator[pa.RecordBatch] = ds.dataset(path, format="parquet").to_batches(
            filter=filter, batch_size=batch_rows
        )
    else:
        batches = pq.ParquetFile(path).iter_batches(batch_size=batch_rows)
    for batch in batches:
        yield dossier_frame(batch.to_pandas(), area)


def dossier_frame(raw: pd.DataFrame, area: str) -> pd.DataFrame:
    """Rows read from one of an area's files: canonical columns and the snapshot columns."""
    frame = coerce_dossiers(_with_columns(raw, DOSSIER_COLUMNS, area))[list(DOSSIER_COLUMNS)]
    if "exported_at" not in raw:
        raw["exported_at"] = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[ms]")
    if "source_file" not in raw:
        raw["source_file"] = pd.Series(pd.NA, index=raw.index, dtype="string")
    if "is_closed_on_snapshot" not in raw:
        raw["is_closed_on_snapshot"] = False
    return _with_snapshot(frame, raw)


def area_files(
    data_dir: str | os.PathLike[str], area: str, *, root: str = DOSSIERS_DIR
) -> list[Path]:
    """The Parquet files of one area, in name order (``root``: :data:`VERSIONS_DIR` for the
    versions' files)."""
    return sorted(_area_dir(data_dir, area, root).glob("*.parquet"), key=_part_number)


def _part_number(path: Path) -> tuple[int, str]:
    """part-10 after part-9: files are numbered in the order they were added."""
    number = path.stem.rpartition("-")[2]
    return (int(number), path.name) if number.isdigit() else (-1, path.name)


def version_areas(data_dir: str | os.PathLike[str]) -> list[str]:
    """The partition keys of the versions' store (:data:`VERSIONS_DIR`)."""
    root = Path(data_dir) / VERSIONS_DIR
    if not root.is_dir():
        return []
    prefix = f"{PARTITION_COLUMN}="
    return sorted(p.name[len(prefix) :] for p in root.iterdir() if p.name.startswith(prefix))


def dossier_dataset(data_dir: str | os.PathLike[str]) -> ds.Dataset:
    """Every dossier file of the folder as one pyarrow dataset, its ``area`` key read as text
    by an explicit partitioning schema (never inferred: a code must keep its zeros), so that
    a filter on ``area``, ``unit_code`` or ``received_at`` skips files and row groups."""
    upgrade_layout(data_dir)
    partitioning = ds.partitioning(pa.schema([(PARTITION_COLUMN, pa.string())]), flavor="hive")
    root = Path(data_dir) / DOSSIERS_DIR
    files = [str(p) for p in sorted(root.glob(f"{PARTITION_COLUMN}=*/*.parquet"))]
    return ds.dataset(
        files, format="parquet", partitioning=partitioning, partition_base_dir=str(root)
    )


__all__ = [
    "DOSSIERS_DIR",
    "SNAPSHOT_COLUMNS",
    "VERSIONS_DIR",
    "LEGACY_PARTITION_COLUMN",
    "PARTITION_COLUMN",
    "append_dossiers",
    "copy_dossier_files",
    "area_files",
    "area_key",
    "area_parts",
    "dossier_areas",
    "dossier_dataset",
    "dossier_frame",
    "dossier_partitions",
    "has_dossiers",
    "iter_dossier_batches",
    "iter_file_batches",
    "read_dossiers",
    "row_area_array",
    "row_areas",
    "upgrade_layout",
    "version_areas",
    "write_dossiers",
]
