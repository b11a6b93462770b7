"""The cube after an ingest counts only the areas whose files changed; every other area keeps
its rows from the previous cube, and the result is the cube a full count gives."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from ingest_helpers import write_csv

from cchc_analysis import cli, store
from cchc_analysis.counting import prepare
from cchc_analysis.counting.cube import CUBE_KEYS, build_cube
from cchc_analysis.counting.cube_record import RECORD_KEY, CubeRecord, read_record

SORT = [*CUBE_KEYS, "month"]


@pytest.fixture
def data(demo_dir, tmp_path) -> Path:
    """A copy of the two-tier demo slice, its cube counted in full."""
    path = tmp_path / "data"
    shutil.copytree(demo_dir, path)
    summary = prepare.prepare_cube(path)
    assert summary["counted_area_count"] == summary["area_count"] > 10
    return path


@pytest.fixture
def counted(monkeypatch) -> list[str]:
    """The areas each prepare counts (not taken over from the previous cube)."""
    areas: list[str] = []
    real = prepare.area_cubes

    def spy(data_dir, wanted, *args, **kwargs):
        areas.extend(wanted)
        return real(data_dir, wanted, *args, **kwargs)

    monkeypatch.setattr(prepare, "area_cubes", spy)
    return areas


def _cube(path: Path) -> pd.DataFrame:
    return pd.read_parquet(path / store.CUBE_FILE)


def _assert_as_counted_in_full(path: Path) -> pd.DataFrame:
    """The folder's cube equals a full count of its dossiers, row for row; returns it."""
    cube = _cube(path)
    summary = prepare.prepare_cube(path, is_full=True)
    assert summary["counted_area_count"] == summary["area_count"]
    pd.testing.assert_frame_equal(cube, _cube(path))
    return cube


def _commune(path: Path) -> tuple[str, str]:
    """A new-era commune of the folder, in the middle of its areas: (area, code)."""
    communes = [a for a in store.dossier_areas(path) if a.startswith("2025-") and len(a) == 10]
    area = communes[len(communes) // 2]
    return area, store.area_parts(area)[1]


def _export(path: Path, code: str, day: pd.Timestamp, count: int) -> Path:
    """A national-format export of ``count`` dossiers of commune ``code`` received on ``day``,
    half of them already returned that day."""
    received = f"{day:%d/%m/%Y} 08:00:00"
    records = [
        {
            "MaHoSo": f"H31.{code}-{day:%y%m%d}-{i:04d}",
            "MaDonViTiepNhan": code,
            "MaTTHC": "1.001193",
            "TenTTHC": "Đăng ký khai sinh",
            "TenLinhVuc": "Hộ tịch",
            "NgayTiepNhan": received,
            "NgayHenTra": f"{day + pd.Timedelta(days=5):%d/%m/%Y} 17:00:00",
            "NgayKetThucXuLy": received.replace("08:", "15:") if i % 2 else "",
            "TrangThaiHoSo": 10 if i % 2 else 4,
            "KenhThucHien": 2,
            "MucDo": 4,
            "ChuHoSo": "Nguyễn Văn An",
        }
        for i in range(count)
    ]
    return write_csv(path, records)


def _ingest(capsys, export: Path, out: Path, day: pd.Timestamp) -> None:
    args = ["ingest", str(export), "--kind", "dossiers", "--out", str(out)]
    assert cli.main([*args, "--as-of", f"{day:%Y-%m-%d}"]) == 0, capsys.readouterr()
    capsys.readouterr()


def test_an_ingest_into_one_commune_counts_that_commune_only(data, counted, capsys, tmp_path):
    before = _cube(data)
    area, code = _commune(data)
    horizon = prepare.data_horizon(data, store.dossier_areas(data))
    day = horizon.normalize()  # the same month: the cube still runs to it
    _ingest(capsys, _export(tmp_path / "update.csv", code, day, 6), data, day)
    assert counted == [area]
    cube = _assert_as_counted_in_full(data)
    mine = cube["unit_code"] == code
    month = cube["month"] == day.to_period("M").to_timestamp()
    added = cube.loc[mine & month, "received_new_count"].sum()
    had = before.loc[(before["unit_code"] == code) & month, "received_new_count"].sum()
    assert added == had + 6
    pd.testing.assert_frame_equal(  # every other unit's rows as they were
        cube[~mine].reset_index(drop=True),
        before[before["unit_code"] != code].reset_index(drop=True),
    )


def test_a_month_past_the_cube_counts_every_area_again(data, counted, capsys, tmp_path):
    area, code = _commune(data)
    horizon = prepare.data_horizon(data, store.dossier_areas(data))
    day = (horizon + pd.offsets.MonthBegin(1)).normalize()  # the next month
    _ingest(capsys, _export(tmp_path / "next.csv", code, day, 4), data, day)
    assert sorted(counted) == store.dossier_areas(data)
    cube = _assert_as_counted_in_full(data)
    assert cube["month"].max() == day.to_period("M").to_timestamp()


def test_areas_written_removed_or_copied(data, counted, monkeypatch):
    """Files appended to one area, another area gone, rows spanning many row groups."""
    monkeypatch.setattr(prepare, "CUBE_ROW_GROUP_ROWS", 500)
    summary = prepare.prepare_cube(data, is_full=True)
    assert pq.ParquetFile(data / store.CUBE_FILE).metadata.num_row_groups > 5
    counted.clear()
    area, code = _commune(data)
    rows = store.read_dossiers(data, areas=[area]).head(40).copy()
    rows["dossier_id"] = rows["dossier_id"].astype("string") + "-again"
    store.append_dossiers(rows, data)
    gone = next(a for a in store.dossier_areas(data)[3:] if a != area)
    gone_rows = _record(data).areas[gone].dossier_rows
    shutil.rmtree(data / store.DOSSIERS_DIR / f"{store.PARTITION_COLUMN}={gone}")
    again = prepare.prepare_cube(data)
    assert counted == [area] and again["counted_area_count"] == 1
    assert again["dossier_rows"] == summary["dossier_rows"] + 40 - gone_rows
    _assert_as_counted_in_full(data)
    counted.clear()
    assert prepare.prepare_cube(data)["counted_area_count"] == 0 and counted == []
    copy = data.parent / "copy"  # a copied folder's files are other files: all counted
    shutil.copytree(data, copy)
    assert prepare.prepare_cube(copy)["counted_area_count"] == len(store.dossier_areas(copy))


def _record(path: Path) -> CubeRecord:
    record = read_record(path / store.CUBE_FILE)
    assert record is not None
    return record


@pytest.mark.parametrize("damage", ["no record", "other rules", "not a cube", "rows it lacks"])
def test_a_cube_it_cannot_trust_is_counted_whole(data, damage, monkeypatch):
    real_plan = prepare._plan
    target = data / store.CUBE_FILE
    table = pq.read_table(target)
    metadata = dict(table.schema.metadata or {})
    record = pq.read_metadata(target).metadata[RECORD_KEY]
    if damage == "no record":
        metadata.pop(RECORD_KEY, None)
    elif damage == "other rules":
        metadata[RECORD_KEY] = record.replace(b'"rules":"', b'"rules":"0', 1)
    elif damage == "rows it lacks":  # the record says an area's rows lie past the file's end
        payload = json.loads(record)
        payload["areas"][max(payload["areas"])][1] = len(table) + 1
        metadata[RECORD_KEY] = json.dumps(payload).encode()
    if damage == "not a cube":
        target.write_bytes(b"PAR1 not a parquet file")
    else:
        pq.write_table(table.replace_schema_metadata(metadata), target)
    assert (read_record(target) is None) == (damage != "rows it lacks")
    plans = []
    monkeypatch.setattr(prepare, "_plan", lambda *a: plans.append(a[2]) or real_plan(*a))
    summary = prepare.prepare_cube(data)
    # trusted at first, the record's missing rows are found while writing: all counted again
    assert [p is not None for p in plans] == (
        [True, False] if damage == "rows it lacks" else [False]
    )
    assert summary["counted_area_count"] == summary["area_count"]
    _assert_as_counted_in_full(data)


def test_areas_counted_together_equal_each_counted_alone(missing_columns_dir, tmp_path):
    """Areas of both eras, some lacking optional columns, counted in shared batches (one area
    larger than a batch): the cube is, row for row, each area's own cube in area order."""
    path = tmp_path / "data"
    shutil.copytree(missing_columns_dir, path)
    areas = store.dossier_areas(path)
    horizon = prepare.data_horizon(path, areas)
    alone = []
    for area in areas:
        cube = build_cube(store.read_dossiers(path, areas=[area]), horizon=horizon)
        alone.append(cube.sort_values(SORT, kind="stable", na_position="first"))
    expected = pd.concat(alone, ignore_index=True)
    sizes = [_record(path).areas[a].dossier_rows for a in areas]
    batch = sorted(sizes)[len(sizes) // 2] * 3  # several small areas share a batch
    assert max(sizes) > batch
    prepare.prepare_cube(path, batch_rows=batch, is_full=True)
    pd.testing.assert_frame_equal(_cube(path), expected)
