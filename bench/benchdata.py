"""Data folders for the benchmarks, made from the demo province by streaming (never whole).

- ``with_districts``: the demo's partitions copied under other districts' codes (valid codes
  from the registry, so the notebooks resolve their names);
- ``tiled``: the demo's dossiers repeated with new ids and dates shifted by a few days, into the
  same districts, up to a number of rows; each partition date-sorted like the store's, with
  one source partition in memory at a time (the 10x folder peaks at about 0.6 GB).
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
DATE_COLUMNS = ("received_at", "due_at", "resolved_at", "returned_at")


def demo_dir() -> Path:
    """The demo data folder: $CCHC_DEMO_DATA, else data/demo of this checkout (`make demo`)."""
    import os

    path = Path(os.environ.get("CCHC_DEMO_DATA", ROOT / "data" / "demo"))
    if not (path / "dossiers").is_dir():
        sys.exit(f"no demo data in {path}: run `make demo` or set CCHC_DEMO_DATA")
    return path


def partitions(data: Path) -> list[Path]:
    from cchc_analysis import store

    store.upgrade_layout(data)
    return sorted((data / "dossiers").glob(f"{store.PARTITION_COLUMN}=2024-*"))


def other_districts(count: int, exclude_province: str = "31") -> list[str]:
    """Codes of ``count`` pre-2025 districts outside the demo's province, nearest first."""
    from cchc_analysis import units

    table = units.units_table()
    rows = table[(table["level"] == "district") & (table["province_code"] != exclude_province)]
    near = rows.assign(distance=(rows["province_code"].astype(int) - int(exclude_province)).abs())
    near = near.sort_values(["distance", "code"])
    return near["code"].head(count).tolist()


def copy_support_files(source: Path, target: Path) -> None:
    for name in ("survey.parquet", "dataset.json"):
        if (source / name).exists():
            shutil.copy2(source / name, target / name)


def with_districts(source: Path, target: Path, extra: int) -> Path:
    """The demo plus ``extra`` districts whose partitions are copies of the demo's."""
    if (target / "dossiers").is_dir():
        return target
    target.mkdir(parents=True, exist_ok=True)
    parts = partitions(source)
    for part in parts:
        shutil.copytree(part, target / "dossiers" / part.name)
    # The demo's own districts (both old provinces of the new Hải Phòng) are not copied over.
    present = {part.name.rsplit("-", 1)[-1] for part in parts}
    codes = [c for c in other_districts(extra + len(present)) if c not in present][:extra]
    for i, code in enumerate(codes):
        shutil.copytree(parts[i % len(parts)], target / "dossiers" / f"area=2024-{code}")
    copy_support_files(source, target)
    return target


# Bump when tiled() writes different files: folders with another version are rebuilt.
TILED_VERSION = 2


def tiled(source: Path, target: Path, rows: int, row_group_rows: int = 256_000) -> Path:
    """About ``rows`` dossiers: the demo's repeated (copy k: ids prefixed, dates shifted back k
    days) into the same district partitions.

    Each partition is written in date order, as ``store.write_dossiers`` writes it, so a
    report's period filter skips the other row groups here as it does on real data. Only one
    source partition and its sort order are in memory; rows are written a row group at a time.
    """
    done = target / ".complete"
    if done.exists() and done.read_text().startswith(f"v{TILED_VERSION} "):
        return target
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    parts = partitions(source)
    total = sum(pq.ParquetFile(f).metadata.num_rows for p in parts for f in p.glob("*.parquet"))
    copies = -(-rows // total)
    share = rows / (total * copies)  # the last copy keeps every row only if it fits
    written = 0
    started = time.perf_counter()
    for part in parts:
        out_dir = target / "dossiers" / part.name
        out_dir.mkdir(parents=True)
        written += _write_tiled_partition(part, out_dir, copies, share, row_group_rows)
    copy_support_files(source, target)
    info = json.loads((target / "dataset.json").read_text(encoding="utf-8"))
    info["dossier_rows"] = written
    (target / "dataset.json").write_text(json.dumps(info, ensure_ascii=False), encoding="utf-8")
    done.write_text(f"v{TILED_VERSION} {written} rows in {time.perf_counter() - started:.1f} s\n")
    return target


def _write_tiled_partition(
    part: Path, out_dir: Path, copies: int, share: float, row_group_rows: int
) -> int:
    """Write the first ``budget`` rows of the partition's copies 0, 1, ... sorted by
    (received_at, unit_code); returns the number of rows written."""
    source = pa.concat_tables(pq.ParquetFile(f).read() for f in sorted(part.glob("*.parquet")))
    size = source.num_rows
    budget = round(size * copies * share)
    if budget == 0:
        return 0
    virtual = np.arange(budget, dtype=np.int64)  # row i: copy i // size of source row i % size
    copy_of, row_of = np.divmod(virtual, size)
    keys = pa.table(
        {
            "received_at": _minus_days(source["received_at"].take(row_of), copy_of),
            "unit_code": source["unit_code"].take(row_of),
        }
    )
    order = pc.sort_indices(keys, [("received_at", "ascending"), ("unit_code", "ascending")])
    order = order.to_numpy()
    del keys
    with pq.ParquetWriter(out_dir / "part-0.parquet", source.schema) as writer:
        for first in range(0, budget, row_group_rows):
            chosen = order[first : first + row_group_rows]
            table = _shifted(source.take(row_of[chosen]), copy_of[chosen])
            writer.write_table(table, row_group_size=row_group_rows)
    return budget


def _minus_days(column: pa.ChunkedArray | pa.Array, days: np.ndarray) -> pa.Array:
    shift = pa.array(days * 86_400_000, pa.duration("ms"))
    return pc.subtract(column, shift).cast(column.type)


def _shifted(table: pa.Table, copy_of: np.ndarray) -> pa.Table:
    """Rows of copy k > 0 get ids prefixed ``T<k>-`` and dates moved back k days."""
    prefixes = pa.array(
        ["" if k == 0 else f"T{k}-" for k in range(int(copy_of.max()) + 1)], pa.large_string()
    )
    index = table.schema.get_field_index("dossier_id")
    ids = pc.binary_join_element_wise(
        prefixes.take(pa.array(copy_of)),
        table["dossier_id"].cast(pa.large_string()),
        pa.scalar("", pa.large_string()),
    )
    table = table.set_column(index, table.schema.field(index), ids.cast(table.schema[index].type))
    for name in DATE_COLUMNS:
        if name in table.column_names:
            index = table.schema.get_field_index(name)
            column = _minus_days(table[name], copy_of)
            table = table.set_column(index, table.schema.field(index), column)
    return table


def rows_in(data: Path) -> int:
    return sum(
        pq.ParquetFile(f).metadata.num_rows for p in partitions(data) for f in p.glob("*.parquet")
    )
