"""Dossiers filed regardless of administrative boundaries ("phi địa giới"): counted where
received, and how many came from outside the receiving unit (``out_of_area_count``), over the
dossiers whose export names the applicant's home unit (``home_unit_known_count``).

National-format exports of August 2025 at Phường Kiến An (11443) and Xã Kiến Thụy (11680) of
the new Hải Phòng (31) give XaPhuongDiaBan (filled for every dossier: a blank is unknown):
another commune, their own, or blank; the
province's public-service centre names a home commune in the province and one in Hà Nội; a
second export, of Xã Đường An (10972), has no such column: no data there, never 0.
"""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest
from conftest import run_cchc

from cchc_analysis import store, units
from cchc_analysis.core.periods import parse_period
from cchc_analysis.counting.cube import build_cube, period_counts, period_counts_from_cube
from cchc_analysis.ingest.validate_dossiers import _is_outside

# (receiving unit cell, XaPhuongDiaBan cells): blank = the export names no home unit.
KIEN_AN = ("11443", ["11680", "11680", "Xã Kiến Thụy", "10972", "11443", "11443", "", "", "", ""])
KIEN_THUY = ("11680", ["11443", "11680", "11680", "11680", "", ""])
CENTRE = ("31", ["11443", "00004", ""])  # 00004: Phường Ba Đình, Hà Nội
DUONG_AN = "10972"  # the export without the column: 5 dossiers


def _records(
    unit: str, homes: list[str] | None, count: int, prefix: str, column: str = "XaPhuongDiaBan"
) -> list[dict]:
    rows = []
    for i in range(count):
        day = 1 + i % 28
        row = {
            "MaHoSo": f"{prefix}-250801-{i:04d}",
            "MaTTHC": "1.001766",
            "NgayTiepNhan": f"{day:02d}/08/2025 08:30:00",
            "NgayHenTra": f"{day:02d}/09/2025 17:00:00",
            "NgayKetThucXuLy": f"{day:02d}/08/2025 16:00:00" if i % 2 else "",
            "TrangThaiHoSo": "10" if i % 2 else "4",
            "MaDonViTiepNhan": unit,
            "KenhThucHien": "2" if i % 3 else "1",
        }
        if homes is not None:
            row[column] = homes[i]
        rows.append(row)
    return rows


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("out-of-area")
    with_home, without = root / "phi-dia-gioi-2025-08.csv", root / "duong-an-2025-08.csv"
    records = [
        *_records(KIEN_AN[0], KIEN_AN[1], len(KIEN_AN[1]), "H31.KA"),
        *_records(KIEN_THUY[0], KIEN_THUY[1], len(KIEN_THUY[1]), "H31.KT"),
        *_records(CENTRE[0], CENTRE[1], len(CENTRE[1]), "H31.TT"),
    ]
    pd.DataFrame(records).to_csv(with_home, index=False, encoding="utf-8-sig")
    pd.DataFrame(_records(DUONG_AN, None, 5, "H31.DA")).to_csv(
        without, index=False, encoding="utf-8-sig"
    )
    out = root / "data"
    for export in (with_home, without):
        run_cchc("ingest", str(export), "--kind", "dossiers", "--out", str(out), "--province", "31")
    return out


def _kpis(folder, level: str, unit: str, *extra: str) -> dict:
    proc = run_cchc(
        "kpis", "--data", str(folder), "--period", "2025-08", "--level", level, "--unit", unit,
        "--format", "json", *extra,
    )  # fmt: skip
    [row] = json.loads(proc.stdout)
    return row


def test_stored_rows_say_whether_the_applicant_came_from_outside(folder):
    rows = store.read_dossiers(folder).set_index("dossier_id")
    ka = rows[rows["unit_code"] == "11443"].sort_index()
    assert ka["home_unit_code"].tolist() == [
        *["11680"] * 3,
        "10972",
        "11443",
        "11443",
        *[pd.NA] * 4,
    ]
    assert ka["is_out_of_area"].tolist() == [True] * 4 + [False] * 2 + [pd.NA] * 4
    centre = rows[rows["unit_level"] == "province"].sort_index()
    # The province's offices serve the whole province: only a home in another one is outside.
    assert centre["is_out_of_area"].tolist() == [False, True, pd.NA]
    assert rows.loc[rows["unit_code"] == DUONG_AN, "is_out_of_area"].isna().all()


def test_kpis_give_the_count_and_the_share_at_commune_level(folder):
    ka = _kpis(folder, "commune", "11443")
    assert (ka["received_new_count"], ka["home_unit_known_count"]) == (10, 6)
    assert ka["out_of_area_count"] == 4
    assert ka["out_of_area_share"] == pytest.approx(4 / 6)  # over the rows that name a home
    kt = _kpis(folder, "commune", "11680")
    assert (kt["received_new_count"], kt["home_unit_known_count"], kt["out_of_area_count"]) == (
        6,
        4,
        1,
    )
    assert kt["out_of_area_share"] == pytest.approx(1 / 4)
    # No home-unit column in Đường An's export: no data, never 0.
    da = _kpis(folder, "commune", DUONG_AN)
    assert da["received_new_count"] == 5 and da["home_unit_known_count"] == 0
    assert da["out_of_area_count"] is None and da["out_of_area_share"] is None


def test_kpis_of_the_province_add_up_its_units(folder):
    both = _kpis(folder, "province", "31")
    assert both["received_new_count"] == 10 + 6 + 3 + 5
    assert both["home_unit_known_count"] == 6 + 4 + 2
    assert both["out_of_area_count"] == 4 + 1 + 1
    assert both["out_of_area_share"] == pytest.approx(6 / 12)
    communes = _kpis(folder, "province", "31", "--tier", "commune")
    assert (communes["out_of_area_count"], communes["home_unit_known_count"]) == (5, 10)
    own = _kpis(folder, "province", "31", "--tier", "district")  # the province's own offices
    assert (own["out_of_area_count"], own["home_unit_known_count"]) == (1, 2)


def test_former_districts_areas_sum_their_new_communes(folder):
    for district, commune in (("307", "11443"), ("314", "11680")):  # Quận Kiến An, H. Kiến Thụy
        area, own = _kpis(folder, "district", district), _kpis(folder, "commune", commune)
        for column in ("received_new_count", "home_unit_known_count", "out_of_area_count"):
            assert area[column] == own[column], (district, column)


def test_the_console_table_shows_them_only_where_the_data_names_homes(folder):
    def table(unit: str) -> str:
        return run_cchc(
            "kpis", "--data", str(folder), "--period", "2025-08", "--level", "commune",
            "--unit", unit,
        ).stdout  # fmt: skip

    shown = table("11443")
    assert "Tỷ lệ hồ sơ của người dân ngoài địa bàn" in shown and "66,67%" in shown
    assert "ngoài địa bàn" not in table(DUONG_AN)


def test_csv_output_carries_the_columns(folder):
    proc = run_cchc(
        "kpis", "--data", str(folder), "--period", "2025-08", "--level", "commune",
        "--format", "csv",
    )  # fmt: skip
    header = proc.stdout.splitlines()[0].split(",")
    assert {"out_of_area_count", "home_unit_known_count", "out_of_area_share"} <= set(header)


def test_cube_and_rows_agree(folder):
    rows = store.read_dossiers(folder)
    period = parse_period("2025-08")
    by_rows = period_counts(rows, period).set_index("unit_code")
    by_cube = period_counts_from_cube(build_cube(rows), period).set_index("unit_code")
    columns = ["received_new_count", "out_of_area_count", "home_unit_known_count"]
    pd.testing.assert_frame_equal(by_rows[columns], by_cube.loc[by_rows.index, columns])
    assert by_rows.loc["11443", columns].tolist() == [10, 4, 6]


def test_outside_is_judged_within_one_era():
    def unit(code: str, era: str) -> units.Unit:
        return units.get_unit(code, era=era)

    kien_thuy_2024 = unit("314", "2024")  # Huyện Kiến Thụy
    its_commune = units.children("314", era="2024")[0]
    other_commune = units.children("313", era="2024")[0]  # Huyện An Lão's
    assert _is_outside(its_commune, kien_thuy_2024) is False  # within the district
    assert _is_outside(other_commune, kien_thuy_2024) is True
    assert _is_outside(kien_thuy_2024, its_commune) is None  # coarser than the receiver
    # A dossier carried over to its new commune, whose home was named in the old era.
    assert _is_outside(its_commune, unit("11680", "2025")) is None
    assert _is_outside(unit("11443", "2025"), unit("31", "2025")) is False


@pytest.mark.e2e
def test_the_commune_report_says_how_many_came_from_outside(folder, tmp_path):
    out = tmp_path / "reports"
    run_cchc(
        "report", "--data", str(folder), "--out", str(out), "--period", "2025-08",
        "--units", "11443,10972", "--workers", "1",
    )  # fmt: skip
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert {r["status"] for r in manifest["reports"]} == {"ok"}

    def text(name: str) -> str:
        page = (out / name).read_text(encoding="utf-8")
        page = re.sub(r"<(style|script)[^>]*>.*?</\1>", " ", page, flags=re.S)
        return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))

    kien_an = text("11443-kien-an.html")
    assert (
        "Trong đó 4 hồ sơ (66,7%; tính trên 6/10 hồ sơ có thông tin (60,0%)) của người dân "
        "ngoài địa bàn phường (tiếp nhận không phụ thuộc địa giới hành chính)." in kien_an
    )
    overview = text("province-31-hai-phong.html")
    assert "Tỷ lệ hồ sơ của người dân ngoài địa bàn" in overview and "66,67%" in overview
    duong_an = text("10972-duong-an.html")
    assert (
        "Hồ sơ của người dân ngoài địa bàn (tiếp nhận không phụ thuộc địa giới hành chính): "
        "không có dữ liệu" in duong_an
    )


def test_the_sql_rules_count_as_the_package(folder):
    from cchc_analysis.research.sql import connect

    con = connect(folder)
    sql = con.sql(
        "SELECT group_key AS unit_code, out_of_area_count, home_unit_known_count, "
        "out_of_area_share FROM bieu06('2025-08-01', '2025-08-31', unit_code) ORDER BY 1"
    ).df()
    assert sql["unit_code"].tolist() == ["10972", "11443", "11680", "31"]
    assert sql["out_of_area_count"].tolist() == [0, 4, 1, 1]
    assert sql["home_unit_known_count"].tolist() == [0, 6, 4, 2]
    assert sql["out_of_area_share"].isna().tolist() == [True, False, False, False]
    assert sql["out_of_area_share"].iloc[1] == pytest.approx(4 / 6)


def test_a_blank_out_of_area_unit_means_an_ordinary_dossier(tmp_path):
    """DonViPhiDiaGioi is filled only for a dossier filed outside the applicant's area: a blank
    cell there is an in-area dossier (known, not outside), unlike XaPhuongDiaBan's blank."""
    export = tmp_path / "phi-dia-gioi-only.csv"
    homes = ["11680", "", "", "11443"]
    pd.DataFrame(_records("11443", homes, 4, "H31.PDG", column="DonViPhiDiaGioi")).to_csv(
        export, index=False, encoding="utf-8-sig"
    )
    out = tmp_path / "data"
    run_cchc("ingest", str(export), "--kind", "dossiers", "--out", str(out), "--province", "31")
    rows = store.read_dossiers(out).sort_values("dossier_id")
    assert rows["is_out_of_area"].tolist() == [True, False, False, False]
    row = _kpis(out, "commune", "11443")
    assert (row["home_unit_known_count"], row["out_of_area_count"]) == (4, 1)
    assert row["out_of_area_share"] == pytest.approx(1 / 4)
