"""Era 2025: history rolled up onto the new provinces and communes, and the kpis CLI for it."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from conftest import run_cchc

from cchc_analysis import cli, ingest, units
from cchc_analysis.core.periods import parse_period
from cchc_analysis.core.schema import COUNT_COLUMNS
from cchc_analysis.counting import CountQuery, kpis
from cchc_analysis.ingest import bieu06

Q3 = parse_period("2023-Q3")


def test_province_rollup_sums_every_district_and_tier(prepared_dir):
    [row] = kpis.kpi_records(
        kpis.kpi_table(prepared_dir, CountQuery(Q3, level="province", era="2025"))
    )
    districts = kpis.kpi_table(prepared_dir, CountQuery(Q3, level="district"))
    assert (row["unit_code"], row["unit_name"]) == ("31", "Thành phố Hải Phòng")
    for column in COUNT_COLUMNS:
        if districts[column].isna().all():  # no data (the demo names no home unit): null too
            assert row[column] is None, column
            continue
        assert row[column] == int(districts[column].sum()), column
    assert row["within_deadline_rate"] == pytest.approx(
        row["resolved_within_deadline_count"] / row["resolved_total_count"]
    )


def test_commune_rollup_follows_the_crosswalk(prepared_dir):
    old = kpis.count_table(prepared_dir, CountQuery(Q3, level="commune"))
    new = kpis.kpi_table(prepared_dir, CountQuery(Q3, level="commune", era="2025"))
    walk = units.crosswalk_communes().set_index("old_code")
    assert set(old["unit_code"]) <= set(walk.index)
    assert set(new["unit_code"]) == set(walk.loc[old["unit_code"], "new_code"])
    assert new["received_total_count"].sum() == old["received_total_count"].sum()
    assert new["unit_name"].str.match(r"^(Xã|Phường|Đặc khu) ").all()
    divided = set(walk.loc[old["unit_code"]].query("is_divided")["new_code"])
    assert set(new.loc[new["approximate"], "unit_code"]) == divided
    [one] = kpis.kpi_table(
        prepared_dir, CountQuery(Q3, level="commune", era="2025", unit_codes=["11680"])
    )["unit_name"]
    assert one == "Xã Kiến Thụy"


def test_merged_province_gets_a_history(tmp_path):
    """Hải Dương (30) merged into Hải Phòng (31): the new province's 2023 sums both."""
    counts = pd.DataFrame(
        [
            {"unit_code": code, **dict.fromkeys(COUNT_COLUMNS[:12], 0)}
            for code in ("314", "288")  # Kiến Thụy (Hải Phòng), TP Hải Dương (Hải Dương)
        ]
    )
    counts[["received_new_count", "received_online_count", "resolved_early_count"]] = [
        [10, 10, 10],
        [5, 5, 5],
    ]
    counts["received_total_count"] = counts["resolved_total_count"] = counts["resolved_early_count"]
    path = bieu06.write_bieu06_xlsx(counts, tmp_path / "b.xlsx", Q3.start, Q3.end, "unit_code")
    out = tmp_path / "data"
    assert ingest.ingest([path], "period-report", out)["exit_code"] == 0
    old = kpis.kpi_table(out, CountQuery(Q3))
    assert list(old["unit_name"]) == ["Thành phố Hải Dương", "Huyện Kiến Thụy"]
    [new] = kpis.kpi_records(kpis.kpi_table(out, CountQuery(Q3, level="province", era="2025")))
    assert (new["unit_code"], new["received_total_count"]) == ("31", 15)
    assert new["online_full_count"] is None  # the sheet had no such column: missing, not 0


def test_kpis_era_2025_cli(prepared_dir):
    proc = run_cchc(
        "kpis",
        "--data",
        str(prepared_dir),
        "--period",
        "2023-Q3",
        "--era",
        "2025",
        "--format",
        "json",
    )
    [row] = json.loads(proc.stdout)
    assert row["unit_code"] == "31" and row["unit_name"] == "Thành phố Hải Phòng"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--era", "2025", "--unit", "99"), "unit 99"),
    ],
)
def test_era_errors_are_one_line(prepared_dir, capsys, args, message):
    code = cli.main(["kpis", "--data", str(prepared_dir), "--period", "2023-Q3", *args])
    err = capsys.readouterr().err
    assert code == 2 and message in err and err.count("\n") == 1


def test_after_the_reform_new_units_report_for_themselves(tmp_path):
    """A 2025-Q3 Biểu 06 of new communes is read against the new registry."""
    q3 = parse_period("2025-Q3")
    counts = pd.DataFrame(
        [
            {"unit_name": name, **dict.fromkeys(COUNT_COLUMNS[:12], 0)}
            for name in ("Xã Kiến Thụy", "Xã Nghi Dương")
        ]
    )
    counts[["received_new_count", "received_total_count", "received_online_count"]] = 4
    counts[["resolved_on_time_count", "resolved_total_count"]] = 4
    path = bieu06.write_bieu06_xlsx(counts, tmp_path / "b.xlsx", q3.start, q3.end)
    out = tmp_path / "data"
    assert ingest.ingest([path], "period-report", out, province="31")["exit_code"] == 0
    communes = kpis.kpi_table(out, CountQuery(q3, level="commune", era="2025"))
    assert list(communes["unit_code"]) == ["11680", "11713"]
    assert list(communes["unit_name"]) == ["Xã Kiến Thụy", "Xã Nghi Dương"]
    [province] = kpis.kpi_records(kpis.kpi_table(out, CountQuery(q3, level="province", era="2025")))
    assert (province["unit_code"], province["received_total_count"]) == ("31", 8)


def test_a_communes_province_wide_counts_are_its_province_only(prepared_dir):
    """A commune report's shared counts are its province's communes (a national folder holds
    3,321): the same rows as the whole table's, none of another province's."""
    from cchc_analysis.counting import rollup
    from cchc_analysis.counting.new_units import one_province

    query = CountQuery(Q3, level="commune", era="2025")
    whole = rollup.rollup_counts(prepared_dir, query)
    hai_phong = rollup.rollup_counts(prepared_dir, query, province="31")
    pd.testing.assert_frame_equal(hai_phong, whole)  # every commune here is Hải Phòng's
    assert rollup.rollup_counts(prepared_dir, query, province="12").empty  # Lai Châu: none
    assert one_province(query.with_options(unit_codes=["11680", "10507"])) == "31"
    assert one_province(query.with_options(unit_codes=["11680", "03388"])) is None
    assert one_province(query) is None
