"""The researcher's front door (issue 15): the seven tasks of a fresh notebook, typed as a
researcher would type them from the README, and the checks that make their numbers the
package's numbers (DuckDB macros equal to the Python rules on every count, exact stocks)."""

from __future__ import annotations

import doctest
import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import run_cchc
from ingest_helpers import rows, write_csv, write_xlsx
from openpyxl import load_workbook
from scipy import stats as scipy_stats

import cchc_analysis as cchc
from cchc_analysis import stats, store
from cchc_analysis.core.errors import DataFolderError, UsageError
from cchc_analysis.core.metrics import RATES, TABLE_COUNT_COLUMNS, add_metrics
from cchc_analysis.core.periods import parse_period
from cchc_analysis.counting import CountQuery, kpi_table
from cchc_analysis.counting.cube import COUNT_READ_COLUMNS, period_counts
from cchc_analysis.research.arguments import as_period, split_period
from cchc_analysis.research.sql import NOT_IN_SQL

ROOT = Path(__file__).resolve().parent.parent


# The counts DuckDB gives (the 766 ones need the working-day calendar: missing there).
SQL_COUNTS = [c for c in TABLE_COUNT_COLUMNS if c not in NOT_IN_SQL]
# The demo's exports name no applicant's home unit: out_of_area_count is null (no data) in its
# KPI tables and 0 in raw period counts (tests/test_out_of_area.py counts it on real data).
DEMO_COUNTS = [c for c in SQL_COUNTS if c != "out_of_area_count"]
SQL_RATES = [r for r, d in RATES.items() if not set(d.numerator) & set(NOT_IN_SQL)]


@pytest.fixture(scope="module")
def wb(prepared_dir):
    return cchc.open(prepared_dir)


@pytest.fixture(scope="module")
def all_dossiers(prepared_dir) -> pd.DataFrame:
    """Every stored dossier with its area: what the Python rules count from."""
    frame = store.read_dossiers(prepared_dir, columns=[*COUNT_READ_COLUMNS, "procedure_code"])
    return frame.assign(area=store.row_areas(frame))


# --- the seven tasks (Done when a-g) ---------------------------------------------------------


def test_a_monthly_rates_for_a_unit(wb, prepared_dir):
    monthly = wb.kpis("2023", units="Kiến Thụy", freq="month")
    assert list(monthly["period"]) == [f"2023-{m:02d}" for m in range(1, 13)]
    assert set(monthly["unit_name"]) == {"Huyện Kiến Thụy"}
    # each month is that month's own count (its own carried-over and pending stocks)
    september = kpi_table(prepared_dir, CountQuery(parse_period("2023-09"), unit_codes=["314"]))
    row = monthly[monthly["period"] == "2023-09"].iloc[0]
    for column in [*SQL_COUNTS, "online_rate", "within_deadline_rate"]:
        expected = september[column].iloc[0]
        if pd.isna(expected):  # no data (the demo's exports name no home unit): null in both
            assert pd.isna(row[column]), column
            continue
        assert row[column] == pytest.approx(expected), column
    assert monthly["online_rate"].between(0, 1).all()


def test_b_top_procedures_for_a_province_year(wb, all_dossiers):
    table = wb.kpis("2024", level="province", units="Hải Phòng", by="procedure")
    top = table.nlargest(10, "resolved_late_count")
    assert len(top) == 10 and set(top["unit_name"]) == {"Thành phố Hải Phòng"}
    assert top["procedure_name"].notna().all()
    assert top["resolved_late_count"].is_monotonic_decreasing
    # the same counts as the package's rules on the province's dossier rows
    old = all_dossiers[all_dossiers["area"].str.startswith("2024-")]
    expected = period_counts(old, parse_period("2024"), by=["procedure_code"]).set_index(
        "procedure_code"
    )
    for _, row in top.iterrows():
        for column in DEMO_COUNTS:
            assert row[column] == expected.loc[row["procedure_code"], column], column
    # procedures add up to the province's own figures, stocks included
    province = wb.kpis("2024", level="province", units="31")
    for column in DEMO_COUNTS:
        assert table[column].sum() == province[column].iloc[0], column


def test_c_two_unit_comparison_with_its_interval(wb):
    out = wb.compare("Kiến Thụy", "An Lão", "online_rate", period="2023-Q3")
    row = out.iloc[0]
    assert (row["unit_name_a"], row["unit_name_b"]) == ("Huyện Kiến Thụy", "Huyện An Lão")
    pair = wb.kpis("2023-Q3", units=["314", "313"])
    assert row["rate_a"] == pytest.approx(pair["online_rate"].iloc[0])
    assert row["rate_b"] == pytest.approx(pair["online_rate"].iloc[1])
    assert row["difference_rate"] == pytest.approx(row["rate_a"] - row["rate_b"])
    assert row["difference_rate_low"] < row["difference_rate"] < row["difference_rate_high"]
    table = [
        [row["numerator_count_a"], row["denominator_count_a"] - row["numerator_count_a"]],
        [row["numerator_count_b"], row["denominator_count_b"] - row["numerator_count_b"]],
    ]
    chi2, p_value, _, _ = scipy_stats.chi2_contingency(table, correction=False)
    assert row["test"] == "chi-square" and row["p_value"] == pytest.approx(p_value)
    # the rows of a kpis table compare the same way
    again = wb.compare(pair.iloc[0], pair.iloc[1], "online_rate")
    assert again["difference_rate"].iloc[0] == pytest.approx(row["difference_rate"])


def test_newcombe_interval_matches_the_published_example():
    # Newcombe (1998) Table II, example (a): 56/70 vs 48/80 -> 0.2, method 10: 0.0524 to 0.3339
    delta, low, high = stats.difference_interval(56, 70, 48, 80)
    assert delta == pytest.approx(0.2)
    assert (round(low, 4), round(high, 4)) == (0.0524, 0.3339)


def test_d_communes_with_intervals(wb):
    communes = cchc.with_intervals(wb.kpis("2023-Q3", level="commune"), "late_rate")
    assert len(communes) > 20 and communes["unit_name"].notna().all()
    columns = list(communes.columns)
    assert columns.index("late_rate_low") == columns.index("late_rate") + 1
    assert (communes["late_rate_low"] <= communes["late_rate"]).all()
    assert (communes["late_rate"] <= communes["late_rate_high"]).all()
    units, limits, target = cchc.funnel(communes, "late_rate")
    assert len(units) == len(communes) and set(units["band"].dropna()) <= {
        "above_998",
        "above_95",
        "within",
        "below_95",
        "below_998",
    }
    assert 0 <= target <= 1 and limits["trials"].max() >= units["trials"].max()


def test_e_an_excel_table(wb, tmp_path):
    table = wb.kpis("2023-Q3", units=["Kiến Thụy", "An Lão"])
    path = table.cchc.to_excel(tmp_path / "kpis.xlsx")
    book = load_workbook(path)
    sheet = book["Số liệu"]
    headers = [cell.value for cell in sheet[1]]
    assert "Tỷ lệ hồ sơ trực tuyến" in headers and "Đơn vị" in headers
    rate = headers.index("Tỷ lệ hồ sơ trực tuyến") + 1
    assert sheet.cell(row=2, column=rate).number_format == "0.00%"
    assert sheet.cell(row=2, column=rate).value == pytest.approx(table["online_rate"].iloc[0])
    assert sheet.cell(row=2, column=headers.index("Đơn vị") + 1).value == "Huyện Kiến Thụy"
    count = headers.index("Tổng số hồ sơ tiếp nhận") + 1
    assert sheet.cell(row=2, column=count).number_format == "#,##0"
    assert "Định nghĩa" in book.sheetnames
    english = load_workbook(cchc.to_excel(table, tmp_path / "kpis-en.xlsx", lang="en"))
    assert "Online dossiers, of all received" in [c.value for c in english["Data"][1]]
    text = table.cchc.to_csv(tmp_path / "kpis.csv").read_text(encoding="utf-8-sig")
    assert "Tỷ lệ hồ sơ trực tuyến" in text and "%" in text


def test_f_an_export_read_in_memory(tmp_path, monkeypatch):
    records = rows(6)
    records[0]["Số điện thoại"] = "0912345678"  # personal data: dropped, as ingest drops it
    records[1]["Ngày tiếp nhận"] = "hôm qua"  # a bad date: rejected
    records.append(dict(records[2], **{"Lĩnh vực": "Đất đai"}))  # same id, other content
    export = write_xlsx(tmp_path / "export.xlsx", records)
    monkeypatch.chdir(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())

    frame, rejects = cchc.read_export(export)

    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written
    assert list(frame["dossier_id"]) == ["H-0001", "H-0003", "H-0004", "H-0005", "H-0006"]
    assert str(frame["received_at"].dtype) == "datetime64[ms]"
    assert list(rejects["reason_code"]) == ["bad_date", "duplicate_conflict"]
    assert "Số điện thoại" not in rejects.columns
    assert "0912345678" not in frame.to_csv() + rejects.to_csv()
    # exactly what `cchc ingest` stores and rejects
    out = tmp_path / "ingested"
    run_cchc("ingest", str(export), "--kind", "dossiers", "--out", str(out), check=False)
    stored = store.read_dossiers(out)
    assert sorted(stored["dossier_id"]) == sorted(frame["dossier_id"])
    written = pd.read_csv(out / "rejects" / "dossiers.csv", dtype=str, encoding="utf-8-sig")
    assert list(written["row"].astype(int)) == list(rejects["row"])
    assert list(written["reason_code"]) == list(rejects["reason_code"])
    account = cchc.read_export(export).account
    assert account["rows_read"] == account["rows_accepted"] + account["rows_rejected"] == 7
    # a buffer reads the same, named as the caller names it
    again = cchc.read_export(export.read_bytes(), name="upload.xlsx")
    assert again.frame.equals(frame) and set(again.rejects["file"]) == {"upload.xlsx"}


def test_g_channel_by_quarter_with_exact_stocks(wb, prepared_dir, all_dossiers):
    table = wb.kpis("2023", units="314", by="channel", freq="quarter")
    assert list(dict.fromkeys(table["period"])) == ["2023-Q1", "2023-Q2", "2023-Q3", "2023-Q4"]
    district = all_dossiers[all_dossiers["area"] == "2024-314"]
    months = wb.kpis("2023", units="314", by="channel", freq="month")
    for quarter in split_period(parse_period("2023"), "quarter"):
        mine = table[table["period"] == str(quarter)].set_index("channel")
        own = period_counts(district, quarter, by=["channel"]).set_index("channel")
        own = own[own["received_total_count"] > 0]
        for column in SQL_COUNTS:  # the quarter's own counts ...
            assert (mine[column] == own.loc[mine.index, column]).all(), (quarter, column)
        # ... whose stocks are the first month's carried over and the last month's pending,
        # not the months summed
        inside = months[months["period"].isin([f"{y}-{m:02d}" for y, m in quarter.months()])]
        first, last = (inside[inside["period"] == p] for p in sorted(set(inside["period"]))[::2])
        carried = mine["carried_over_count"].sum()
        assert carried == first["carried_over_count"].sum()
        assert mine["pending_total_count"].sum() == last["pending_total_count"].sum()
        assert inside["carried_over_count"].sum() > carried  # what summing months would say
    # the channels add up to the district's quarter in the package's own table
    q3 = kpi_table(prepared_dir, CountQuery(parse_period("2023-Q3"), unit_codes=["314"]))
    for column in DEMO_COUNTS:
        assert table[table["period"] == "2023-Q3"][column].sum() == q3[column].iloc[0]


# --- SQL: the Biểu 06 macros are the package's rules ------------------------------------------


@pytest.mark.parametrize(
    "period",
    ["2023-Q3", "2023-07-05:2023-08-20", "2025-06-15:2025-07-20", "2026-Q2", "2024"],
)
@pytest.mark.parametrize(
    "keys", [("area",), ("area", "field"), ("unit_code", "channel"), ("procedure_code",)]
)
def test_bieu06_macro_equals_python_on_every_count(prepared_dir, all_dossiers, period, keys):
    con = cchc.sql(prepared_dir)
    q = parse_period(period)
    key = "(" + ", ".join(keys) + ")" if len(keys) > 1 else keys[0]
    sql = con.execute(
        f"SELECT * FROM bieu06($first, $last, {key})", {"first": q.start, "last": q.end}
    ).df()
    parts = (
        pd.DataFrame(sql["group_key"].tolist(), columns=list(keys))
        if len(keys) > 1
        else sql[["group_key"]].set_axis(list(keys), axis=1)
    )
    sql = pd.concat([parts, sql.drop(columns="group_key")], axis=1).astype({k: str for k in keys})
    python = period_counts(all_dossiers, q, by=list(keys))
    python = add_metrics(python[python["received_total_count"] > 0]).astype({k: str for k in keys})
    merged = sql.merge(python, on=list(keys), how="outer", suffixes=("_sql", "_py"))
    assert len(merged) == len(sql) == len(python) > 0
    for column in [*SQL_COUNTS, "resolved_within_deadline_count"]:
        assert (merged[f"{column}_sql"] == merged[f"{column}_py"]).all(), column
    for name in SQL_RATES:
        assert np.allclose(merged[f"{name}_sql"], merged[f"{name}_py"], equal_nan=True), name


@pytest.mark.parametrize(
    ("era", "level", "period"),
    [
        ("2024", "district", "2023-Q3"),
        ("2024", "commune", "2024-05-10:2024-06-20"),
        ("2024", "province", "2024"),
        ("2025", "province", "2025-H2"),
        ("2025", "commune", "2025-Q3"),
        ("2025", "district", "2026-01"),
    ],
)
def test_groupings_agree_with_the_package_at_every_level(wb, era, level, period):
    """DuckDB and pandas give the same counts; summed over the channels they are the
    package's own kpi_table (the same units, tiers and crosswalks)."""
    fast = wb.kpis(period, level=level, era=era, by="channel")
    reference = wb.kpis(period, level=level, era=era, by="channel", engine="python")
    beyond_sql = [*NOT_IN_SQL, *(r for r in RATES if r not in SQL_RATES)]
    assert fast[list(NOT_IN_SQL)].isna().all().all()  # said missing, never 0
    pd.testing.assert_frame_equal(
        fast.drop(columns=beyond_sql), reference.drop(columns=beyond_sql), check_dtype=False
    )
    whole = wb.kpis(period, level=level, era=era)
    summed = fast.groupby("unit_code", sort=False)[list(SQL_COUNTS)].sum()
    for column in SQL_COUNTS:
        assert (summed[column] == whole.set_index("unit_code").loc[summed.index, column]).all()
    assert list(dict.fromkeys(fast["unit_code"])) == list(whole["unit_code"])


# --- arguments, order, names -----------------------------------------------------------------


def test_periods_in_any_form():
    quarter = parse_period("2023-Q3")
    assert as_period(quarter) is quarter
    for form in ("2023-Q3", pd.Period("2023Q3"), (date(2023, 7, 1), date(2023, 9, 30))):
        got = as_period(form)
        assert (got.start, got.end) == (quarter.start, quarter.end), form
    assert as_period(date(2023, 7, 5)).days == 1
    assert [str(p) for p in split_period(parse_period("2023-H2"), "quarter")] == [
        "2023-Q3",
        "2023-Q4",
    ]


def test_units_by_name_or_code_keep_the_order_asked(wb):
    table = wb.kpis("2023-Q3", units=["313", "Kiến Thụy"])
    assert list(table["unit_code"]) == ["313", "314"]
    assert list(table["unit_name"]) == ["Huyện An Lão", "Huyện Kiến Thụy"]
    # "An Lão" is also a district of Bình Định: the data's province decides
    assert list(wb.kpis("2023-Q3", units="An Lão")["unit_code"]) == ["313"]
    with pytest.raises(UsageError):
        wb.kpis("2023-Q3", by="weather")


def test_definitions_are_the_catalogue(wb):
    assert list(wb.definitions.index) == list(RATES)
    assert wb.definitions.loc["within_deadline_of_received_rate", "denominator"] == (
        "received_total_count"
    )


def test_dossiers_and_survey_are_filtered_in_the_reader(wb):
    rows_ = wb.dossiers("2023-09", "Kiến Thụy", ["dossier_id", "unit_code", "received_at", "area"])
    assert list(rows_.columns) == ["dossier_id", "unit_code", "received_at", "area"]
    assert set(rows_["area"]) == {"2024-314"}
    assert rows_["received_at"].between("2023-09-01", "2023-09-30 23:59").all()
    commune = wb.dossiers("2023-09", "11680", level="commune")
    assert set(commune["unit_code"]) == {"11680"} and len(commune) > 0
    answers = wb.survey("2023", ["Kiến Thụy"])
    assert set(answers["district_code"]) == {"314"} and len(answers) > 0


def test_partition_keys_are_text_everywhere(prepared_dir, wb):
    assert str(store.dossier_dataset(prepared_dir).schema.field("area").type) == "string"
    con = cchc.sql(prepared_dir)
    types = con.sql("SELECT DISTINCT typeof(area), typeof(district_code) FROM dossiers").fetchall()
    assert types == [("VARCHAR", "VARCHAR")]
    assert con.sql("SELECT count(*) FROM dossiers WHERE area = '2024-314'").fetchall()[0][0] > 0
    assert str(wb.dossiers("2023-09", "314", ["district_code"])["district_code"].dtype) == "string"


def test_data_folder_is_explicit(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(store.DATA_ENV, raising=False)
    assert store.resolve_data_dir("data/demo") == Path("data/demo")  # no other checkout
    assert store.resolve_data_dir(None) == tmp_path
    monkeypatch.setenv(store.DATA_ENV, str(tmp_path / "elsewhere"))
    assert store.resolve_data_dir() == tmp_path / "elsewhere"
    assert store.resolve_data_dir("given") == Path("given")
    with pytest.raises(DataFolderError, match="elsewhere"):
        cchc.open()


def test_import_is_lazy_and_the_front_door_documented():
    code = (
        "import sys, cchc_analysis as c; print('cchc_analysis.research' in sys.modules); "
        "c.open; print('cchc_analysis.research' in sys.modules, 'open' in dir(c))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=os.environ
    ).stdout.split()
    assert out == ["False", "True", "True"]
    for name in ("open", "read_export", "sql", "with_intervals", "to_excel"):
        doc = getattr(cchc, name).__doc__
        assert "Examples" in doc or "Parameters" in doc or name == "with_intervals", name


def test_docstring_examples_run(wb, prepared_dir, tmp_path, monkeypatch):
    from cchc_analysis.research import compare, export_reader, results, sql, workbook

    monkeypatch.chdir(tmp_path)
    globs = {"wb": wb, "data_dir": prepared_dir, "tmp": tmp_path}
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    for module in (workbook, compare, results, export_reader, sql):
        failed, tried = doctest.testmod(module, extraglobs=globs, optionflags=flags)
        assert failed == 0, module.__name__
    import cchc_analysis.research.workbook as front

    assert doctest.testmod(front, extraglobs=globs, optionflags=flags).attempted > 3


# --- the command line ---------------------------------------------------------------------


def test_cchc_sql_prints_a_table_csv_or_json(prepared_dir):
    query = (
        "SELECT group_key AS area, received_total_count FROM "
        "bieu06('2023-07-01', '2023-09-30', area) ORDER BY area"
    )
    table = run_cchc("sql", "--data", str(prepared_dir), query).stdout
    assert "2024-313" in table and "2024-314" in table
    csv = run_cchc("sql", "--data", str(prepared_dir), "--format", "csv", query).stdout
    assert csv.splitlines()[0] == "area,received_total_count"
    records = json.loads(
        run_cchc("sql", "--data", str(prepared_dir), "--format", "json", query).stdout
    )
    q3 = kpi_table(prepared_dir, CountQuery(parse_period("2023-Q3"), unit_codes=["314"]))
    by_area = {r["area"]: r["received_total_count"] for r in records}
    assert by_area["2024-314"] == q3["received_total_count"].iloc[0]
    bad = run_cchc("sql", "--data", str(prepared_dir), "SELEC 1", check=False)
    assert bad.returncode == 2 and bad.stderr.startswith("cchc: error: SQL:")
    assert len(bad.stderr.strip().splitlines()) == 1


def test_csv_export_reads_as_written(tmp_path):
    path = write_csv(tmp_path / "e.csv", rows(3))
    frame, rejects = cchc.read_export(path)
    assert len(frame) == 3 and rejects.empty


# --- the notebooks ------------------------------------------------------------------------


@pytest.mark.e2e
def test_explore_notebook_walks_through_the_front_door(prepared_dir, tmp_path):
    out = tmp_path / "explore.ipynb"
    proc = subprocess.run(
        [
            str(Path(sys.executable).parent / "papermill"),
            str(ROOT / "notebooks" / "explore.ipynb"),
            str(out),
            "-p",
            "data_dir",
            str(prepared_dir),
            "-p",
            "out_dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    executed = json.loads(out.read_text(encoding="utf-8"))
    outputs = [o for c in executed["cells"] if c["cell_type"] == "code" for o in c["outputs"]]
    assert not [o for o in outputs if o["output_type"] == "error"]
    texts = "\n".join(
        "".join(o.get("text", "")) + "".join(o.get("data", {}).get("text/plain", ""))
        for o in outputs
    )
    assert "Huyện Kiến Thụy" in texts and "95% CI" in texts and "bad_date" in texts
    assert "0912345678" not in texts  # the export's phone column never shows
    assert sum("image/png" in o.get("data", {}) for o in outputs) == 1  # the series
    assert sum("image/svg+xml" in o.get("data", {}) for o in outputs) == 1  # the funnel
    assert (tmp_path / "communes.xlsx").exists()
    source = json.loads((ROOT / "notebooks" / "explore.ipynb").read_text(encoding="utf-8"))
    code = "\n".join("".join(c["source"]) for c in source["cells"] if c["cell_type"] == "code")
    assert "import cchc_analysis as cchc" in code and "store." not in code


def test_report_notebooks_are_what_the_generator_writes(tmp_path):
    subprocess.run(
        [sys.executable, str(ROOT / "tools" / "make_notebooks.py"), str(tmp_path)],
        check=True,
        capture_output=True,
    )
    for name in ("district_report.ipynb", "province_overview.ipynb"):
        committed = (ROOT / "notebooks" / name).read_text(encoding="utf-8")
        assert (tmp_path / name).read_text(encoding="utf-8") == committed, name
        first = json.loads(committed)["cells"][0]
        assert "Generated by `tools/make_notebooks.py`" in "".join(first["source"])
    assert not (tmp_path / "explore.ipynb").exists()  # edited by hand, not generated


def test_count_query_takes_a_period_as_typed(prepared_dir):
    typed = kpi_table(prepared_dir, CountQuery("2023-Q3", unit_codes=["314"]))
    parsed = kpi_table(prepared_dir, CountQuery(parse_period("2023-Q3"), unit_codes=["314"]))
    pd.testing.assert_frame_equal(typed, parsed)
