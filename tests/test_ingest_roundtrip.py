"""Round trips: the demo exported as provinces send it, ingested again, gives the same KPIs."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from conftest import run_cchc
from ingest_helpers import export_dossiers_vi, ingest_cli

from cchc_analysis import store, units
from cchc_analysis.core.periods import parse_period
from cchc_analysis.counting import CountQuery, kpis
from cchc_analysis.counting.cube import period_counts
from cchc_analysis.ingest import bieu06

PERIODS = ("2023-Q3", "2024-H1", "2023-08-10:2023-11-05")


def _compare(left, right, periods=PERIODS, levels=("district", "commune"), by_field=False):
    for text in periods:
        period = parse_period(text)
        for level in levels:
            a = kpis.kpi_table(left, CountQuery(period, level=level, by_field=by_field))
            b = kpis.kpi_table(right, CountQuery(period, level=level, by_field=by_field))
            assert len(a) > 0
            pd.testing.assert_frame_equal(a, b, check_dtype=False, obj=f"{text} {level}")


@pytest.fixture(scope="module")
def kien_thuy(demo_dir, tmp_path_factory):
    """Kiến Thụy's district offices and one commune, as a canonical folder (the reference)."""
    frame = store.read_dossiers(demo_dir, ["314"])
    commune = (frame["unit_code"] == "11680") & (frame["received_at"] >= "2023-06-01")
    frame = frame[(frame["unit_level"] == "district") | commune]
    path = tmp_path_factory.mktemp("reference")
    store.write_dossiers(frame, path)
    return frame.reset_index(drop=True), path


def _same_rows(original: pd.DataFrame, folder) -> None:
    back = store.read_dossiers(folder)
    key = ["dossier_id"]
    a = original.sort_values(key).reset_index(drop=True)
    b = back.sort_values(key).reset_index(drop=True)[list(a.columns)]
    pd.testing.assert_frame_equal(a, b, check_dtype=False, check_categorical=False)


def test_csv_round_trip_through_the_cli(kien_thuy, tmp_path):
    frame, reference = kien_thuy
    export = export_dossiers_vi(frame)
    half = len(export) // 2
    # two monthly-style files, one UTF-8 with BOM and one Excel "Unicode text"
    export.iloc[:half].to_csv(tmp_path / "a.csv", index=False, encoding="utf-8-sig")
    export.iloc[half:].to_csv(tmp_path / "b.txt", index=False, sep="\t", encoding="utf-16")
    out = tmp_path / "ingested"
    proc = run_cchc(
        "ingest",
        str(tmp_path / "a.csv"),
        str(tmp_path / "b.txt"),
        "--kind",
        "dossiers",
        "--out",
        str(out),
    )
    assert f"{len(frame):,} accepted" in proc.stdout.replace(f"{len(frame):,} read", "")
    report = json.loads((out / "ingest_report.json").read_text(encoding="utf-8"))
    assert report["rows_accepted"] == len(frame) and report["exit_code"] == 0
    assert (out / "cube.parquet").exists()
    _same_rows(frame, out)
    _compare(reference, out)
    # the published Kiến Thụy figures survive the trip
    table = kpis.kpi_table(
        out, CountQuery(parse_period("2023-Q3"), tier="district", unit_codes=["314"])
    )
    [row] = kpis.kpi_records(table)
    assert (row["received_total_count"], row["resolved_late_count"]) == (1473, 3)
    assert round(row["within_deadline_of_received_rate"], 4) == 0.9946


def test_xlsx_round_trip_with_excel_dates(kien_thuy, tmp_path, capsys):
    frame, _ = kien_thuy
    subset = frame[frame["received_at"] >= "2023-06-01"]
    subset = subset[subset["received_at"] < "2023-10-01"]
    export = export_dossiers_vi(subset)
    for column in ("Ngày tiếp nhận", "Ngày hẹn trả", "Ngày có kết quả", "Ngày trả kết quả"):
        export[column] = pd.to_datetime(export[column], format="%d/%m/%Y")  # real Excel dates
    export["Mã đơn vị"] = pd.to_numeric(export["Mã đơn vị"])  # Excel turns codes into numbers
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Danh sách hồ sơ")
    sheet.append(["DANH SÁCH HỒ SƠ TIẾP NHẬN NĂM 2023"])
    sheet.append(list(export.columns))
    for record in export.itertuples(index=False):
        sheet.append([None if pd.isna(v) else v for v in record])
    workbook.save(tmp_path / "export.xlsx")
    reference = tmp_path / "reference"
    store.write_dossiers(subset, reference)
    out = tmp_path / "ingested"
    code, _, stderr = ingest_cli(
        capsys, tmp_path / "export.xlsx", "--kind", "dossiers", "--out", out
    )
    assert code == 0, stderr
    _same_rows(subset.reset_index(drop=True), out)
    _compare(reference, out, periods=("2023-Q3", "2023-07-10:2023-08-20"))


def _aggregates(demo_dir, text: str) -> pd.DataFrame:
    """Biểu 06 counts per unit (district offices and communes) from the demo dossiers."""
    frame = store.read_dossiers(demo_dir)
    counts = period_counts(frame, parse_period(text), by=("unit_code", "unit_name"))
    return counts[counts["received_total_count"] > 0]


def test_bieu06_round_trip(demo_dir, tmp_path, capsys):
    period = parse_period("2023-Q3")
    counts = _aggregates(demo_dir, "2023-Q3")
    by_code = bieu06.write_bieu06_xlsx(
        counts, tmp_path / "b06.xlsx", period.start, period.end, unit_column="unit_code"
    )
    out = tmp_path / "reports"
    code, stdout, stderr = ingest_cli(capsys, by_code, "--kind", "period-report", "--out", out)
    assert code == 0, stderr + stdout
    assert not (out / "dossiers").exists()
    for level in ("district", "commune"):
        for tier in ("both", "district", "commune") if level == "district" else ("both",):
            a = kpis.kpi_table(demo_dir, CountQuery(period, level=level, tier=tier))
            b = kpis.kpi_table(out, CountQuery(period, level=level, tier=tier))
            pd.testing.assert_frame_equal(a, b, check_dtype=False, obj=f"{level} {tier}")
    # the same sheet with unit names (Kiến Thụy only: names are unique there) adds nothing new
    kien_thuy = ["314", *(u.code for u in units.children("314"))]
    names = counts[counts["unit_code"].isin(kien_thuy)]
    by_name = bieu06.write_bieu06_xlsx(names, tmp_path / "names.xlsx", period.start, period.end)
    code, stdout, _ = ingest_cli(
        capsys, by_name, "--kind", "period-report", "--out", out, "--province", "31"
    )
    assert code == 0 and f"{len(names)} already present" in stdout


def test_quarter_from_three_monthly_sheets(demo_dir, tmp_path, capsys):
    out = tmp_path / "monthly"
    for month in ("2023-07", "2023-08", "2023-09"):
        period = parse_period(month)
        path = bieu06.write_bieu06_xlsx(
            _aggregates(demo_dir, month),
            tmp_path / f"{month}.xlsx",
            period.start,
            period.end,
            unit_column="unit_code",
        )
        assert ingest_cli(capsys, path, "--kind", "period-report", "--out", out)[0] == 0
    quarter = parse_period("2023-Q3")
    a = kpis.kpi_table(demo_dir, CountQuery(quarter, unit_codes=["314"]))
    b = kpis.kpi_table(out, CountQuery(quarter, unit_codes=["314"]))
    pd.testing.assert_frame_equal(a, b, check_dtype=False)
    with pytest.raises(LookupError, match="cuts through"):
        kpis.kpi_table(out, CountQuery(parse_period("2023-07-15:2023-08-31")))
    with pytest.raises(LookupError, match="covers"):
        kpis.kpi_table(out, CountQuery(parse_period("2023-Q4")))
