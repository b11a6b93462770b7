"""Era 2025: dossiers recorded under the new communes and provinces, stored by (era, area),
counted by the new unit that holds them, with the older part of a period through the crosswalk.

Hand-made dossiers, shaped as ingest stores them, around Phường Kiến An (11443, formed from the
old Phường Đồng Hòa 11431 and others of Quận Kiến An 307), Xã Đường An (10972) and the new
Thành phố Hải Phòng's own offices (31).
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
from conftest import run_cchc

from cchc_analysis import store
from cchc_analysis.core.periods import parse_period
from cchc_analysis.counting import CountQuery, kpi_table, prepare_folder

OLD = {"era": "2024", "district_code": "307", "province_code": "31", "unit_level": "commune"}
NEW = {"era": "2025", "district_code": None, "province_code": "31", "unit_level": "commune"}
PROVINCE_OFFICE = {**NEW, "unit_level": "province", "unit_code": "31"}
OLD_PROVINCE_OFFICE = {**OLD, "district_code": None, "unit_level": "province", "unit_code": "31"}

ROWS = [
    # id, unit, received, due, resolved, status, channel
    ("o1", {**OLD, "unit_code": "11431"}, "2025-06-10", "2025-06-20", "2025-06-15", "resolved"),
    ("o2", {**OLD, "unit_code": "11431"}, "2025-06-20", "2025-07-10", "2025-07-05", "resolved"),
    ("o3", {**OLD, "unit_code": "11431"}, "2025-06-25", "2025-07-02", None, "processing"),
    ("n1", {**NEW, "unit_code": "11443"}, "2025-07-03", "2025-07-10", "2025-07-12", "resolved"),
    ("n2", {**NEW, "unit_code": "11443"}, "2025-08-05", "2025-08-20", "2025-08-20", "returned"),
    ("n3", {**NEW, "unit_code": "11443"}, "2025-08-25", "2025-09-10", None, "processing"),
    ("p1", PROVINCE_OFFICE, "2025-08-02", "2025-08-12", "2025-08-10", "resolved"),
    ("d1", {**NEW, "unit_code": "10972"}, "2025-08-01", "2025-08-06", "2025-08-02", "resolved"),
    ("q1", OLD_PROVINCE_OFFICE, "2025-06-05", "2025-06-12", "2025-06-08", "resolved"),
]


def _frame() -> pd.DataFrame:
    records = []
    for dossier_id, unit, received, due, resolved, status in ROWS:
        records.append(
            {
                "dossier_id": dossier_id,
                **unit,
                "unit_name": None,
                "procedure_code": "1.001",
                "field": "Hộ tịch",
                "channel": "online" if dossier_id in ("n3", "d1") else "in_person",
                "online_level": "full" if dossier_id in ("n3", "d1") else "none",
                "received_at": pd.Timestamp(received),
                "due_at": pd.Timestamp(due),
                "resolved_at": pd.Timestamp(resolved) if resolved else pd.NaT,
                "status": status,
            }
        )
    return pd.DataFrame(records)


@pytest.fixture
def folder(tmp_path):
    store.write_dossiers(_frame(), tmp_path)
    prepare_folder(tmp_path)
    return tmp_path


def _row(folder, period: str, level: str, unit: str, **options) -> dict:
    query = CountQuery(parse_period(period), level=level, era="2025", unit_codes=[unit], **options)
    [row] = kpi_table(folder, query).to_dict(orient="records")
    return row


def test_dossiers_are_stored_by_era_and_area(folder):
    assert store.dossier_areas(folder) == [
        "2024-307",
        "2024-31",
        "2025-10972",
        "2025-11443",
        "2025-31",
    ]
    assert store.dossier_partitions(folder) == ["307"]  # the pre-2025 districts
    new = store.read_dossiers(folder, areas=["2025-11443"])
    assert set(new["dossier_id"]) == {"n1", "n2", "n3"} and set(new["era"]) == {"2025"}
    assert new["district_code"].isna().all()


def test_a_new_commune_counts_its_own_dossiers_and_the_old_ones_it_took_over(folder):
    row = _row(folder, "2025-08", "commune", "11443")
    assert row["unit_name"] == "Phường Kiến An"
    # o3 (old Phường Đồng Hòa, pending since June) is carried over into August by 11443.
    assert row["carried_over_count"] == 1
    assert row["received_new_count"] == 2  # n2, n3
    assert row["resolved_on_time_count"] == 1 and row["resolved_total_count"] == 1  # n2
    assert (row["pending_in_time_count"], row["pending_late_count"]) == (1, 1)  # n3, o3
    assert row["approximate"]  # Phường Đồng Hòa was divided among new wards


def test_a_period_straddling_the_reform_counts_each_dossier_once(folder):
    row = _row(folder, "2025-06-01:2025-08-31", "commune", "11443")
    assert row["received_new_count"] == 6 and row["carried_over_count"] == 0
    assert (row["resolved_early_count"], row["resolved_on_time_count"]) == (2, 1)  # o1 o2 | n2
    assert row["resolved_late_count"] == 1  # n1
    assert row["pending_total_count"] == 2  # o3, n3


def test_province_level_tiers_own_offices_communes_and_both(folder):
    both = _row(folder, "2025-08", "province", "31")
    own = _row(folder, "2025-08", "province", "31", tier="district")
    communes = _row(folder, "2025-08", "province", "31", tier="commune")
    assert both["unit_name"] == "Thành phố Hải Phòng"
    assert (both["received_new_count"], both["carried_over_count"]) == (4, 1)
    assert (own["received_new_count"], own["carried_over_count"]) == (1, 0)  # p1
    assert (communes["received_new_count"], communes["carried_over_count"]) == (3, 1)
    for column in ("received_total_count", "resolved_total_count", "pending_total_count"):
        assert both[column] == own[column] + communes[column], column


def test_an_old_province_counts_its_districts_communes_and_own_offices(folder):
    def june(tier: str) -> dict:
        query = CountQuery(parse_period("2025-06"), level="province", tier=tier, unit_codes=["31"])
        [row] = kpi_table(folder, query).to_dict(orient="records")
        return row

    both, own, communes = june("both"), june("district"), june("commune")
    assert both["unit_name"] == "Thành phố Hải Phòng"
    assert (both["received_new_count"], own["received_new_count"]) == (4, 1)  # o1-o3, q1 | q1
    assert communes["received_new_count"] == 3
    # After the reform the province's own offices are the old ones' successors.
    straddle = _row(folder, "2025-06-01:2025-08-31", "province", "31", tier="district")
    assert straddle["received_new_count"] == 2  # q1 (old offices), p1 (new offices)


def test_the_cube_and_the_dossier_rows_agree(folder):
    for level, unit in (("commune", "11443"), ("province", "31"), ("commune", "10972")):
        period = parse_period("2025-08")
        cube = kpi_table(folder, CountQuery(period, level=level, era="2025", unit_codes=[unit]))
        rows = kpi_table(
            folder,
            CountQuery(period, level=level, era="2025", unit_codes=[unit], source="dossiers"),
        )
        pd.testing.assert_frame_equal(cube, rows, check_dtype=False)


def test_a_folder_of_the_district_code_layout_is_upgraded_on_open(tmp_path):
    old = _frame()
    old = old[old["district_code"] == "307"]
    store.write_dossiers(old, tmp_path)
    (tmp_path / "dossiers" / "area=2024-307").rename(tmp_path / "dossiers" / "district_code=307")
    assert len(store.read_dossiers(tmp_path)) == 3
    assert [p.name for p in (tmp_path / "dossiers").iterdir()] == ["area=2024-307"]


def test_kpis_cli_takes_the_era_from_the_period(folder):
    proc = run_cchc(
        "kpis", "--data", str(folder), "--period", "2025-08", "--level", "commune", "--unit",
        "11443", "--format", "json",
    )  # fmt: skip
    [row] = json.loads(proc.stdout)
    assert (row["unit_code"], row["unit_name"]) == ("11443", "Phường Kiến An")
    assert (row["received_new_count"], row["carried_over_count"]) == (2, 1)
    proc = run_cchc(
        "kpis", "--data", str(folder), "--period", "2025-08", "--level", "commune", "--unit",
        "31401", check=False,
    )  # fmt: skip
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "31401" in proc.stderr
    proc = run_cchc("kpis", "--data", str(folder), "--period", "2025-Q2", "--level", "commune")
    assert "11431" in proc.stdout  # before the reform: the old communes


# --- a national-format export of August 2025, through `cchc ingest` and `cchc kpis` ------------


def _national_export(path, unit_columns: dict[str, str], rows: int) -> None:
    """Dossiers received at one new unit in August 2025, as the national sync record names
    its fields; a third resolved early, a third late, a third still being processed."""
    records = []
    for i in range(rows):
        day = 1 + i % 28
        outcome = i % 3
        records.append(
            {
                "MaHoSo": f"H31.99-250801-{i:04d}",
                **unit_columns,
                "MaTTHC": "1.001766",
                "TenLinhVuc": "Hộ tịch",
                "NgayTiepNhan": f"{day:02d}/08/2025 08:30:00",
                "NgayHenTra": f"{day:02d}/09/2025 17:00:00",
                "NgayKetThucXuLy": {0: f"{day:02d}/08/2025 16:00:00", 1: "20/10/2025 10:00:00"}.get(
                    outcome, ""
                ),
                "TrangThai": {0: "10", 1: "10"}.get(outcome, "4"),
                "KenhThucHien": "2" if i % 2 else "1",
            }
        )
    pd.DataFrame(records).to_csv(path, index=False, encoding="utf-8-sig")


@pytest.mark.parametrize(
    "unit_columns",
    [{"MaDonViTiepNhan": "11443"}, {"DonViXuLy": "UBND Phường Kiến An"}],
    ids=["code", "name"],
)
def test_an_august_2025_export_is_counted_by_its_new_ward(tmp_path, unit_columns):
    export, out = tmp_path / "mot-cua-2025-08.csv", tmp_path / "data"
    _national_export(export, unit_columns, rows=30)
    run_cchc("ingest", str(export), "--kind", "dossiers", "--out", str(out), "--province", "31")
    assert store.dossier_areas(out) == ["2025-11443"]
    proc = run_cchc(
        "kpis", "--data", str(out), "--period", "2025-08", "--level", "commune", "--unit",
        "11443", "--format", "json",
    )  # fmt: skip
    [row] = json.loads(proc.stdout)
    assert (row["unit_code"], row["unit_name"]) == ("11443", "Phường Kiến An")
    assert (row["received_new_count"], row["carried_over_count"]) == (30, 0)
    assert row["resolved_early_count"] == 10 and row["pending_total_count"] == 20
    assert row["received_online_count"] == 15


def test_a_former_district_area_sums_its_old_dossiers_and_the_new_communes_within_it(folder):
    august = _row(folder, "2025-08", "district", "307")
    assert august["unit_name"] == "Địa bàn quận Kiến An cũ"
    assert (august["received_new_count"], august["carried_over_count"]) == (2, 1)  # n2 n3 | o3
    assert august["approximate"]  # Phường Kiến An took in a divided ward
    straddle = _row(folder, "2025-06-01:2025-08-31", "district", "307")
    assert straddle["received_new_count"] == 6  # o1-o3 before the reform, n1-n3 after it
    proc = run_cchc(
        "kpis", "--data", str(folder), "--period", "2025-Q3", "--level", "district", "--unit",
        "307", "--format", "json",
    )  # fmt: skip
    [row] = json.loads(proc.stdout)
    assert row["unit_name"] == "Địa bàn quận Kiến An cũ" and row["approximate"] is True


def test_dossiers_filed_outside_the_applicants_commune_keep_their_home_unit(tmp_path):
    """DonViPhiDiaGioi names the applicant's home commune: the dossier is stored under the
    receiving ward, with the home unit read in the era of its receipt (never a reason to
    reject a row)."""
    export, out = tmp_path / "phi-dia-gioi.csv", tmp_path / "data"
    _national_export(export, {"MaDonViTiepNhan": "11443"}, rows=12)
    frame = pd.read_csv(export, dtype=str, keep_default_na=False)
    frame["DonViPhiDiaGioi"] = ["11680", "Xã Kiến Thụy", "11443", "", "không rõ", ""] * 2
    frame.to_csv(export, index=False)
    run_cchc("ingest", str(export), "--kind", "dossiers", "--out", str(out), "--province", "31")
    stored = store.read_dossiers(out)
    assert set(stored["unit_code"]) == {"11443"} and len(stored) == 12
    homes = stored["home_unit_code"].value_counts(dropna=False).to_dict()
    assert homes == {"11680": 4, "11443": 2, pd.NA: 6}
    row = _row(out, "2025-08", "commune", "11443")
    assert row["received_new_count"] == 12  # counted where received


def test_a_folder_of_two_old_provinces_plans_one_overview_each(tmp_path):
    """The demo holds the old Hải Phòng (31) and Hải Dương (30): before the reform each gets
    its own overview, of its own districts."""
    from cchc_analysis import units
    from cchc_analysis.batch.plan import plan_jobs

    hai_duong = units.children("288", era="2024")[0].code
    rows = _frame()
    rows = rows[rows["district_code"] == "307"]
    other = rows.assign(
        dossier_id=rows["dossier_id"] + "-hd", district_code="288", province_code="30",
        unit_code=hai_duong,
    )  # fmt: skip
    store.write_dossiers(pd.concat([rows, other]), tmp_path)
    prepare_folder(tmp_path)
    jobs = plan_jobs(tmp_path, parse_period("2025-Q2"), unit_codes=None, lang="vi", tier="both")
    overviews = {
        j.unit_code: j.parameters.get("province_code") for j in jobs if j.kind == "province"
    }
    assert overviews == {"30": "30", "31": "31"}
    assert sorted(j.unit_code for j in jobs if j.kind == "district") == ["288", "307"]
