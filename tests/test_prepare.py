"""`cchc prepare` streams the dossiers: the cube equals the whole-partition cube, and peak
memory does not grow with the number of dossiers."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from cchc_analysis import store
from cchc_analysis.counting import prepare
from cchc_analysis.counting.cube import COUNT_READ_COLUMNS, CUBE_KEYS, build_cube

SORT = [*CUBE_KEYS, "month"]


def _whole_cube(data: Path) -> pd.DataFrame:
    """The cube as it was built before streaming: one whole partition (area) at a time."""
    areas = store.dossier_areas(data)
    horizon = prepare.data_horizon(data, areas)
    parts = [
        build_cube(
            store.read_dossiers(data, areas=[a], columns=COUNT_READ_COLUMNS), horizon=horizon
        )
        for a in areas
    ]
    return pd.concat(parts, ignore_index=True)


def _canonical(cube: pd.DataFrame) -> pd.DataFrame:
    return cube.sort_values(SORT, na_position="first").reset_index(drop=True)


def test_streamed_cube_equals_whole_partition_cube(demo_dir, tmp_path):
    data = tmp_path / "data"
    import shutil

    shutil.copytree(demo_dir, data)
    summary = prepare.prepare_cube(data, batch_rows=25_000)  # several batches per partition
    streamed = pd.read_parquet(data / store.CUBE_FILE)
    assert summary["dossier_rows"] > 100_000 and summary["cube_rows"] == len(streamed)
    whole = _whole_cube(data)
    assert list(streamed.columns) == list(whole.columns)
    pd.testing.assert_frame_equal(_canonical(streamed), _canonical(whole))
    # the areas' rows share row groups (one per area made the nation's cube slow to read)
    groups = pq.ParquetFile(data / store.CUBE_FILE).metadata.num_row_groups
    assert (
        groups <= len(streamed) // prepare.CUBE_ROW_GROUP_ROWS + 1 < len(store.dossier_areas(data))
    )


def test_horizon_from_statistics_equals_a_full_read(demo_dir):
    frame = store.read_dossiers(demo_dir, columns=["received_at", "resolved_at"])
    assert prepare.data_horizon(demo_dir, store.dossier_areas(demo_dir)) == frame.max().max()


def test_read_dossiers_columns_and_period_match_a_full_read(demo_dir):
    columns = ["field", "received_at", "status", "rating"]
    part = store.read_dossiers(
        demo_dir, ["314"], columns=columns, received_between=("2023-07-01", "2023-09-30")
    )
    whole = store.read_dossiers(demo_dir, ["314"])
    inside = whole["received_at"].between("2023-07-01", "2023-09-30 23:59:59.999")
    assert list(part.columns) == columns and len(part) > 1_000
    pd.testing.assert_frame_equal(part, whole.loc[inside, columns].reset_index(drop=True))


def tile_partition(source: Path, target: Path, copies: int) -> int:
    """Write ``copies`` copies of a partition (new dossier ids) batch by batch, never whole."""
    target.mkdir(parents=True, exist_ok=True)
    handle = pq.ParquetFile(source)
    writer = None
    rows = 0
    for copy in range(copies):
        for batch in handle.iter_batches(batch_size=100_000):
            table = pa.Table.from_batches([batch])
            ids = pc.binary_join_element_wise(
                pa.scalar(f"c{copy}-", pa.large_string()),
                table["dossier_id"].cast(pa.large_string()),
                pa.scalar("", pa.large_string()),
            )
            table = table.set_column(table.schema.get_field_index("dossier_id"), "dossier_id", ids)
            if writer is None:
                writer = pq.ParquetWriter(target / "part-0.parquet", table.schema)
            writer.write_table(table, row_group_size=100_000)
            rows += table.num_rows
    writer.close()
    return rows


PEAK = """
import json, resource, sys
from cchc_analysis.counting import prepare
summary = prepare.prepare_cube(sys.argv[1], batch_rows=100_000)
summary["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(summary))
"""


def _peak(data: Path) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", PEAK, str(data)], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_peak_memory_does_not_grow_with_the_dossiers(demo_dir, tmp_path):
    """One district grows from ~0.2M to ~1M dossiers; prepare's peak memory stays put."""
    source = next((demo_dir / "dossiers" / "area=2024-314").glob("*.parquet"))
    base = pq.ParquetFile(source).metadata.num_rows
    small_copies = max(1, round(200_000 / base))
    large_copies = max(small_copies * 4, round(1_000_000 / base))
    peaks = {}
    for name, copies in (("small", small_copies), ("large", large_copies)):
        data = tmp_path / name
        rows = tile_partition(source, data / "dossiers" / "area=2024-314", copies)
        summary = _peak(data)
        assert summary["dossier_rows"] == rows
        peaks[name] = (rows, summary["peak_mb"])
    (small_rows, small_mb), (large_rows, large_mb) = peaks["small"], peaks["large"]
    assert large_rows >= 3.5 * small_rows
    # Reading the large partition whole would take several hundred MB more (about 100 bytes
    # per dossier for these columns); streamed, the peak stays within a small margin.
    assert large_mb - small_mb < 60, peaks
