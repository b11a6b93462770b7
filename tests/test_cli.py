"""The command line as a user runs it: the published figures, formats and error paths."""

import csv
import io
import json

import pytest
from conftest import run_cchc

COMMON = ("--period", "2023-Q3", "--level", "district", "--unit", "314")


def kpis_json(data_dir, *args):
    proc = run_cchc("kpis", "--data", str(data_dir), *args, "--format", "json")
    return json.loads(proc.stdout)


@pytest.mark.parametrize("which", ["demo_dir", "prepared_dir"])
def test_published_kien_thuy_district_figures(which, request):
    data_dir = request.getfixturevalue(which)  # from dossier rows, then from the cube
    [row] = kpis_json(data_dir, *COMMON, "--tier", "district")
    assert row["unit_code"] == "314"
    assert row["unit_name"] == "Huyện Kiến Thụy"
    assert (row["period_start"], row["period_end"]) == ("2023-07-01", "2023-09-30")
    assert row["received_total_count"] == 1473
    assert row["received_new_count"] == 1463
    assert row["carried_over_count"] == 10
    assert row["resolved_within_deadline_count"] == 1465
    assert row["resolved_late_count"] == 3
    assert row["pending_total_count"] == 5
    assert row["received_online_count"] == 1462
    assert row["online_partial_count"] == 553
    assert row["online_full_count"] == 909
    assert round(row["within_deadline_of_received_rate"], 4) == 0.9946
    assert round(row["online_rate"], 4) == 0.9925


def test_published_kien_thuy_commune_figures(prepared_dir):
    [row] = kpis_json(prepared_dir, *COMMON, "--tier", "commune")
    assert row["received_total_count"] == 19497
    assert row["resolved_within_deadline_count"] == 19486
    assert row["resolved_late_count"] == 9
    assert row["pending_total_count"] == 2
    assert row["received_online_count"] == 18762
    assert (row["online_partial_count"], row["online_full_count"]) == (16509, 2253)
    assert round(row["within_deadline_of_received_rate"], 4) == 0.9994
    assert round(row["online_rate"], 4) == 0.9623


def test_tier_both_is_the_sum_and_json_keys_are_catalogue_names(prepared_dir):
    [both] = kpis_json(prepared_dir, *COMMON)
    [district] = kpis_json(prepared_dir, *COMMON, "--tier", "district")
    [commune] = kpis_json(prepared_dir, *COMMON, "--tier", "commune")
    for key, value in both.items():
        if key.endswith("_count") and value is None:  # no data (out_of_area_count in the demo)
            assert district[key] is None and commune[key] is None, key
        elif key.endswith("_count"):
            assert value == district[key] + commune[key], key
    expected = {
        "unit_code",
        "unit_name",
        "period_start",
        "period_end",
        "received_total_count",
        "carried_over_count",
        "resolved_late_count",
        "within_deadline_rate",
        "within_deadline_of_received_rate",
        "online_rate",
        "online_full_count",
        "timeliness_766_rate",
        "digitization_rate",
        "online_payment_rate",
        "satisfaction_rate",
        "pending_in_time_count",
    }
    assert expected <= set(both)
    flags = {"convention", "has_full_history"}  # the period's convention; carry-over known
    assert flags <= set(both) and both["has_full_history"] is True
    assert all(k in expected | flags or k.endswith(("_count", "_rate", "_share")) for k in both)


def test_day_range_from_rows_equals_quarter_from_cube(prepared_dir):
    [quarter] = kpis_json(prepared_dir, *COMMON)
    [days] = kpis_json(
        prepared_dir, "--period", "2023-07-01:2023-09-30", "--level", "district", "--unit", "314"
    )
    assert quarter == days


def test_commune_level_lists_every_commune_and_sums_to_tier(prepared_dir):
    rows = kpis_json(prepared_dir, "--period", "2023-Q3", "--level", "commune", "--unit", "314")
    assert len(rows) == 16
    assert all(len(r["unit_code"]) == 5 and r["unit_name"] for r in rows)
    assert sum(r["received_total_count"] for r in rows) == 19497


def test_all_districts_csv_and_table(prepared_dir):
    proc = run_cchc("kpis", "--data", str(prepared_dir), "--period", "2024-H1", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(proc.stdout)))
    assert [r["unit_code"] for r in rows] == ["313", "314"]
    table = run_cchc(
        "kpis",
        "--data",
        str(prepared_dir),
        "--period",
        "2023-Q3",
        "--unit",
        "314",
        "--tier",
        "district",
    ).stdout
    assert "1.473" in table and "99,46%" in table and "Kiến Thụy" in table
    english = run_cchc(
        "kpis",
        "--data",
        str(prepared_dir),
        "--period",
        "2023-Q3",
        "--unit",
        "314",
        "--tier",
        "district",
        "--lang",
        "en",
    ).stdout
    assert "1,473" in english and "99.46%" in english


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--period", "2023-Q5"), "cannot read period"),
        (("--period", "2023-02-30:2023-03-01"), "period"),
        (("--period", "2023-Q3", "--unit", "999"), "unit 999"),
        (("--period", "2023-Q3", "--unit", "317"), "unit 317"),
    ],
)
def test_user_errors_are_one_line_exit_2(demo_dir, args, message):
    proc = run_cchc("kpis", "--data", str(demo_dir), *args, check=False)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert message in lines[0]
    assert "Traceback" not in proc.stderr


def test_missing_data_folder_is_one_line_exit_2(tmp_path):
    for command in (
        ("kpis", "--period", "2023-Q3"),
        ("report", "--period", "2023-Q3", "--out", str(tmp_path / "out")),
    ):
        proc = run_cchc(command[0], "--data", str(tmp_path / "nope"), *command[1:], check=False)
        assert proc.returncode == 2
        assert proc.stderr.strip().count("\n") == 0
        assert "data folder not found" in proc.stderr


def test_report_unknown_unit_is_exit_2(demo_dir, tmp_path):
    proc = run_cchc(
        "report",
        "--data",
        str(demo_dir),
        "--period",
        "2023-Q3",
        "--units",
        "999",
        "--out",
        str(tmp_path / "out"),
        check=False,
    )
    assert proc.returncode == 2
    assert "999" in proc.stderr and "Traceback" not in proc.stderr
