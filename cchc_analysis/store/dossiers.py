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
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from cchc_analysis.core.errors import DataFolderError
from cchc_analysis.core.schema import DOSSIER_COLUMNS, coerce_dossiers
from cchc_analysis.units.registry import ERA_2025, ERA_PRE_2025

DOSSIERS_DIR = "dossiers"
PARTITION_COLUMN = "area"
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
    """The area each dossier row is stored under (see the module docstring).

    Era 2024: the district (the province for a province's own offices); era 2025: the commune
    (the province for its own offices). A row without an era is read as era 2024, as folders
    written before eras were stored are.
    """
    index = frame.index
    era = _text(frame, "era").fillna(ERA_PRE_2025)
    level = _text(frame, "unit_level")
    district = _text(frame, "district_code")
    province = _text(frame, "province_code")
    unit = _text(frame, "unit_code")
    is_new = era == ERA_2025
    is_province_office = level == "province"
    code = district.where(~is_new, unit)
    code = code.where(~is_province_office.fillna(False), province)
    missing = code.isna()
    if missing.any():
        raise ValueError(f"{int(missing.sum())} dossier rows have no area (district or unit)")
    return pd.Series(era.to_numpy(dtype=object) + "-" + code.to_numpy(dtype=object), index=index)


def _text(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame:
        return pd.Series(pd.NA, index=frame.index, dtype="string")
    return frame[column].astype("string")


def upgrade_layout(data_dir: str | os.PathLike[str]) -> int:
    """Rename the partitions of a folder written before eras were stored to their era-2024
    areas (``district_code=314`` -> ``area=2024-314``); returns how many were renamed."""
    root = Path(data_dir) / DOSSIERS_DIR
    if not root.is_dir():
        return 0
    prefix = f"{LEGACY_PARTITION_COLUMN}="
    renamed = 0
    for folder in sorted(root.iterdir()):
        if not (folder.is_dir() and folder.name.startswith(prefix)):
            continue
        target = root / f"{PARTITION_COLUMN}={area_key(ERA_PRE_2025, folder.name[len(prefix) :])}"
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
    return sorted(p.name[len(prefix) :] for p in root.iterdir() if p.name.startswith(prefix))


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


def _area_dir(data_dir: str | os.PathLike[str], area: str) -> Path:
    return Path(data_dir) / DOSSIERS_DIR / f"{PARTITION_COLUMN}={area}"


def _sorted_body(part: pd.DataFrame) -> pa.Table:
    # Date order makes each row group cover a short span of days, so a report's received_at
    # filter skips the row groups of other periods.
    body = part.sort_values(["received_at", "unit_code"], kind="stable")
    return pa.Table.from_pandas(body, preserve_index=False)


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
    for area, part in table_frame.groupby(row_areas(table_frame), sort=True):
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


def append_dossiers(frame: pd.DataFrame, data_dir: str | os.PathLike[str]) -> list[Path]:
    """Add dossiers as one new file per area (``part-<n>.parquet``, in date order), leaving the
    partition's other files as they are; returns the files written.

    Why: ingest adds a month's export to years of history, so rewriting whole partitions
    would cost time and memory in proportion to the history. Each file is written under a
    temporary name and renamed, so a partition never holds half a file.
    """
    upgrade_layout(data_dir)
    table_frame = coerce_dossiers(frame)
    written = []
    for area, part in table_frame.groupby(row_areas(table_frame), sort=True):
        part_dir = _area_dir(data_dir, str(area))
        part_dir.mkdir(parents=True, exist_ok=True)
        numbers = [int(p.stem.split("-")[1]) for p in part_dir.glob("part-*.parquet")]
        path = part_dir / f"part-{max(numbers, default=-1) + 1}.parquet"
        tmp = part_dir / f".{path.name}.{os.getpid()}.tmp"
        pq.write_table(_sorted_body(part), tmp, row_group_size=ROW_GROUP_ROWS)
        tmp.replace(path)
        written.append(path)
    return written


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
    for path in sorted(_area_dir(data_dir, area).glob("*.parquet")):
        for batch in pq.ParquetFile(path).iter_batches(batch_size=batch_rows):
            frame = _with_columns(batch.to_pandas(), DOSSIER_COLUMNS, area)
            yield coerce_dossiers(frame)[list(DOSSIER_COLUMNS)]


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


def area_files(data_dir: str | os.PathLike[str], area: str) -> list[Path]:
    """The Parquet files of one area, in name order."""
    return sorted(_area_dir(data_dir, area).glob("*.parquet"))


__all__ = [
    "DOSSIERS_DIR",
    "LEGACY_PARTITION_COLUMN",
    "PARTITION_COLUMN",
    "append_dossiers",
    "area_files",
    "area_key",
    "area_parts",
    "dossier_areas",
    "dossier_dataset",
    "dossier_partitions",
    "has_dossiers",
    "iter_dossier_batches",
    "read_dossiers",
    "row_areas",
    "upgrade_layout",
    "write_dossiers",
]
