"""Data folders for the benchmarks, made from the demo province by streaming (never whole).

- ``with_districts``: the demo's partitions copied under other districts' codes (valid codes
  from the registry, so the notebooks resolve their names);
- ``tiled``: the demo's dossiers repeated with new ids and dates shifted by a few days, into the
  same districts, up to a number of rows; written batch by batch, so 20M rows need no memory.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from datetime import timedelta
from pathlib import Path

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
    return sorted((data / "dossiers").glob("district_code=*"))


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
    for i, code in enumerate(other_districts(extra)):
        shutil.copytree(parts[i % len(parts)], target / "dossiers" / f"district_code={code}")
    copy_support_files(source, target)
    return target


def tiled(source: Path, target: Path, rows: int, batch_rows: int = 250_000) -> Path:
    """About ``rows`` dossiers: the demo's repeated (copy k: ids prefixed, dates shifted back k
    days) into the same district partitions, read and written one batch at a time."""
    done = target / ".complete"
    if done.exists():
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
        writer = None
        budget = round(
            sum(pq.ParquetFile(f).metadata.num_rows for f in part.glob("*.parquet"))
            * copies
            * share
        )
        for copy in range(copies):
            for path in sorted(part.glob("*.parquet")):
                for batch in pq.ParquetFile(path).iter_batches(batch_size=batch_rows):
                    if budget <= 0:
                        break
                    table = pa.Table.from_batches([batch])
                    if table.num_rows > budget:
                        table = table.slice(0, budget)
                    table = _shifted(table, copy)
                    if writer is None:
                        writer = pq.ParquetWriter(out_dir / "part-0.parquet", table.schema)
                    writer.write_table(table, row_group_size=256_000)
                    budget -= table.num_rows
                    written += table.num_rows
        if writer is not None:
            writer.close()
    copy_support_files(source, target)
    info = json.loads((target / "dataset.json").read_text(encoding="utf-8"))
    info["dossier_rows"] = written
    (target / "dataset.json").write_text(json.dumps(info, ensure_ascii=False), encoding="utf-8")
    done.write_text(f"{written} rows in {time.perf_counter() - started:.1f} s\n")
    return target


def _shifted(table: pa.Table, copy: int) -> pa.Table:
    if copy == 0:
        return table
    ids = pc.binary_join_element_wise(
        pa.scalar(f"T{copy}-", pa.large_string()),
        table["dossier_id"].cast(pa.large_string()),
        pa.scalar("", pa.large_string()),
    )
    table = table.set_column(table.schema.get_field_index("dossier_id"), "dossier_id", ids)
    shift = pa.scalar(timedelta(days=copy), pa.duration("ms"))
    for name in DATE_COLUMNS:
        if name in table.column_names:
            index = table.schema.get_field_index(name)
            column = table[name]
            table = table.set_column(index, name, pc.subtract(column, shift).cast(column.type))
    return table


def rows_in(data: Path) -> int:
    return sum(
        pq.ParquetFile(f).metadata.num_rows for p in partitions(data) for f in p.glob("*.parquet")
    )
