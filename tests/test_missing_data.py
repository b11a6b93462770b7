"""Missing means "no data", never 0 (issue 12 §2): counts, KPI tables, rollups, monthly series,
the 766 estimate and the words reports use for an indicator an export gave no data for."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from conftest import run_cchc
from hypothesis import given, settings
from hypothesis import strategies as st
from missing_columns_fixture import write_bare_export

from cchc_analysis.core.metrics import (
    COVERAGE_BY_KNOWN,
    COVERAGES,
    KNOWN_COUNT_COLUMNS,
    RATES,
    _inputs,
    _row_denominator,
    add_metrics,
    fill_known_counts,
    missing_columns,
    null_unknown_counts,
    rate_coverage,
    rate_denominator,
    rate_parts,
)
from cchc_analysis.core.periods import parse_period
from cchc_analysis.core.schema import coerce_dossiers
from cchc_analysis.counting import CountQuery, kpi_records, kpi_table, monthly_counts
from cchc_analysis.counting.aggregates import mark_undefined
from cchc_analysis.counting.cube import build_cube, period_counts, period_counts_from_cube
from cchc_analysis.counting.service_index import index_table
from cchc_analysis.reports.formatting import coverage_note, fmt_indicator, no_data_text

QUARTER = parse_period("2024-Q1")
END = pd.Timestamp("2024-03-01")  # the last month a cube of the small frames answers for


def _dossiers(n: int, **columns: list) -> pd.DataFrame:
    """``n`` dossiers of unit 31401 received and resolved on time in January 2024."""
    base = {
        "dossier_id": [f"D{i}" for i in range(n)],
        "unit_code": ["31401"] * n,
        "unit_level": ["commune"] * n,
        "district_code": ["314"] * n,
        "era": ["2024"] * n,
        "field": ["Hộ tịch"] * n,
        "channel": ["online"] * n,
        "online_level": ["full"] * n,
        "received_at": [pd.Timestamp("2024-01-10")] * n,
        "due_at": [pd.Timestamp("2024-01-15")] * n,
        "resolved_at": [pd.Timestamp("2024-01-12")] * n,
        "status": ["returned"] * n,
        "is_digitized": [True] * n,
        "is_fee_bearing": [True] * n,
        "is_paid_online": [True] * n,
        "rating": ["satisfied"] * n,
    }
    base.update(columns)
    return coerce_dossiers(pd.DataFrame(base))


def _kpis(counts: pd.DataFrame) -> pd.DataFrame:
    """What kpi_table does to a count table."""
    return mark_undefined(null_unknown_counts(add_metrics(counts)))


def test_a_blank_is_not_a_no_and_the_rate_is_over_the_known_rows():
    frame = _dossiers(4, is_digitized=[True, False, None, None])
    counts = period_counts(frame, QUARTER)
    row = counts.iloc[0]
    assert row["digitized_count"] == 1 and row["digitized_known_count"] == 2
    kpis = _kpis(counts).iloc[0]
    assert kpis["digitization_rate"] == pytest.approx(0.5)  # 1 of the 2 known, not 1 of 4
    assert rate_parts(kpis, "digitization_rate") == (1, 2)
    assert rate_coverage(kpis, "digitization_rate") == (2, 4)
    assert coverage_note(kpis, "digitization_rate", "vi") == (
        "tính trên 2/4 hồ sơ có thông tin (50,0%)"
    )


def test_the_cube_counts_the_known_rows_as_dossier_rows_do():
    frame = _dossiers(
        6,
        channel=["online", "in_person", None, "online", None, "online"],
        online_level=["full", None, None, "partial", None, None],
        is_fee_bearing=[True, True, None, False, True, True],
        is_paid_online=[True, None, None, None, False, None],
    )
    exact = period_counts(frame, QUARTER).set_index("unit_code")
    from_cube = period_counts_from_cube(build_cube(frame), QUARTER, horizon=END).set_index(
        "unit_code"
    )
    columns = [*exact.columns.drop(["period_start", "period_end"])]
    pd.testing.assert_frame_equal(exact[columns], from_cube[columns], check_dtype=False)
    row = exact.iloc[0]
    assert row["channel_known_count"] == 4
    assert (row["received_online_count"], row["received_offline_count"]) == (3, 1)
    assert row["online_level_known_count"] == 2  # of the 3 online
    assert (row["fee_known_count"], row["fee_bearing_count"]) == (5, 4)
    assert (row["paid_online_known_count"], row["paid_online_count"]) == (2, 1)
    kpis = _kpis(exact.reset_index()).iloc[0]
    assert kpis["online_new_rate"] == pytest.approx(3 / 4)
    assert kpis["online_full_share"] == pytest.approx(1 / 2)
    assert kpis["online_payment_rate"] == pytest.approx(1 / 2)


@pytest.mark.parametrize(
    ("column", "rates", "counts"),
    [
        ("is_digitized", ["digitization_rate"], ["digitized_count"]),
        ("is_fee_bearing", ["online_payment_rate"], ["fee_bearing_count", "paid_online_count"]),
        ("is_paid_online", ["online_payment_rate"], ["paid_online_count"]),
        (
            "channel",
            ["online_rate", "online_new_rate", "online_full_share"],
            ["received_online_count", "received_offline_count", "online_full_count"],
        ),
        ("online_level", ["online_full_share"], ["online_full_count", "online_partial_count"]),
    ],
)
def test_an_absent_column_leaves_its_indicators_null_not_zero(column, rates, counts):
    frame = _dossiers(3, **{column: [None] * 3})
    # a dossier carried over from December: the online rate's denominator is not empty
    carried = _dossiers(1, received_at=[pd.Timestamp("2023-12-20")], resolved_at=[pd.NaT])
    carried["dossier_id"] = "C1"
    table = _kpis(period_counts(pd.concat([frame, carried], ignore_index=True), QUARTER))
    row = table.iloc[0]
    for rate in rates:
        assert np.isnan(row[rate]), rate
    for count in counts:
        assert row[count] is pd.NA, count
    record = kpi_records(table)[0]
    assert all(record[name] is None for name in (*rates, *counts))
    assert record["received_new_count"] == 3 and record["within_deadline_rate"] == 1.0
    assert column in missing_columns(row, rates[0])
    assert "tệp xuất không có cột" in no_data_text(row, rates[0], "vi")
    assert fmt_indicator(row, rates[0], "en").startswith("no data (the export has no ")


def test_without_ratings_satisfaction_is_no_data_and_the_766_estimate_leaves_it_out():
    rows = _kpis(
        pd.concat(
            [
                period_counts(_dossiers(4, rating=[None] * 4), QUARTER),
                period_counts(_dossiers(4, is_digitized=[None] * 4), QUARTER).assign(
                    unit_code="31402"
                ),
            ],
            ignore_index=True,
        )
    )
    assert np.isnan(rows.iloc[0]["satisfaction_rate"])
    scored = index_table(rows).set_index("unit_code")
    first, second = scored.loc["31401"], scored.loc["31402"]
    assert first["missing_components"] == "satisfaction" and np.isnan(first["satisfaction_points"])
    assert first["estimate_max_points"] == 82 - 18
    assert second["missing_components"] == "digitization"
    assert second["estimate_max_points"] == 82 - 22
    for row in (first, second):  # every criterion present is full: the estimate is 100
        assert row["estimate_100"] == pytest.approx(100)
        assert not pd.isna(row["rank"]) and row["band"]
    assert "chưa ai đánh giá" in no_data_text(rows.iloc[0], "satisfaction_rate", "vi")


def test_published_rows_without_a_column_count_as_unknown_rows():
    published = pd.DataFrame(
        {
            "received_new_count": pd.array([100, 50], dtype="Int64"),
            "received_online_count": pd.array([80, 40], dtype="Int64"),
            "digitized_count": pd.array([60, None], dtype="Int64"),
        }
    )
    filled = fill_known_counts(published)
    assert list(filled["digitized_known_count"]) == [100, 0]
    assert list(filled["channel_known_count"]) == [100, 50]
    total = add_metrics(filled.sum().to_frame().T).iloc[0]
    assert total["digitization_rate"] == pytest.approx(0.6)  # over the 100 rows given
    old_cube = build_cube(_dossiers(2)).drop(columns=list(KNOWN_COUNT_COLUMNS))
    counts = period_counts_from_cube(old_cube, QUARTER, horizon=END).iloc[
        0
    ]  # a cube from before: all known
    assert counts["digitized_known_count"] == counts["received_new_count"] == 2


# --- on a folder shaped like real exports (tests/missing_columns_fixture.py) ------------------


def test_kpis_are_null_for_the_unit_whose_export_lacks_the_column(missing_columns_dir):
    table = kpi_table(missing_columns_dir, CountQuery(QUARTER)).set_index("unit_code")
    assert np.isnan(table.loc["314", "digitization_rate"])
    assert table.loc["314", "digitized_count"] is pd.NA
    assert table.loc["314", "digitized_known_count"] == 0
    assert np.isnan(table.loc["313", "online_payment_rate"])
    assert table.loc["313", "fee_bearing_count"] is pd.NA
    assert 0.5 < table.loc["313", "digitization_rate"] < 1
    # an old commune of 313 reused code 11647 and lacks the channel: partial coverage
    known, new = table.loc["313", ["channel_known_count", "received_new_count"]]
    assert 0 < known < new
    by_dossiers = kpi_table(missing_columns_dir, CountQuery(QUARTER, source="dossiers"))
    pd.testing.assert_frame_equal(
        by_dossiers.set_index("unit_code")[table.columns], table, check_dtype=False
    )


def test_a_province_of_units_with_and_without_data_rates_the_units_with_data(missing_columns_dir):
    districts = kpi_table(missing_columns_dir, CountQuery(QUARTER)).set_index("unit_code")
    province = kpi_table(missing_columns_dir, CountQuery(QUARTER, level="province")).iloc[0]
    assert province["digitization_rate"] == pytest.approx(districts.loc["313", "digitization_rate"])
    assert province["digitized_known_count"] == districts.loc["313", "received_new_count"]
    assert rate_coverage(province, "digitization_rate") == (
        districts.loc["313", "received_new_count"],
        districts["received_new_count"].sum(),
    )
    assert province["online_payment_rate"] == pytest.approx(
        districts.loc["314", "online_payment_rate"]
    )
    assert "tính trên" in coverage_note(province, "digitization_rate", "vi")


def test_new_communes_and_their_province_after_the_reform(missing_columns_dir):
    period = parse_period("2026-Q3")
    query = CountQuery(period, level="commune", era="2025")
    communes = kpi_table(missing_columns_dir, query).set_index("unit_code")
    assert np.isnan(communes.loc["11647", "online_rate"])
    assert communes.loc["11647", "received_online_count"] is pd.NA
    assert np.isnan(communes.loc["11680", "online_payment_rate"])
    assert np.isnan(communes.loc["11635", "satisfaction_rate"])
    assert not communes.drop(index=["11647"])["online_rate"].isna().any()
    province = kpi_table(missing_columns_dir, query.with_options(level="province")).iloc[0]
    assert 0 < province["channel_known_count"] < province["received_new_count"]
    assert 0 < province["online_rate"] < 1


def test_monthly_series_keep_unknown_channels_and_leave_unknown_rates_empty(missing_columns_dir):
    scope = CountQuery(QUARTER, unit_codes=["314"])
    monthly = monthly_counts(missing_columns_dir, scope, since="2024-01-01")
    assert len(monthly) == 3 and monthly["digitization_rate"].isna().all()
    assert monthly["online_payment_rate"].notna().all()
    commune = CountQuery(parse_period("2026-Q3"), level="commune", era="2025", unit_codes=["11647"])
    series = monthly_counts(missing_columns_dir, commune, since="2026-07-01")
    by_channel = monthly_counts(
        missing_columns_dir, commune, since="2026-07-01", extra_keys=["channel"]
    )
    assert series["online_new_rate"].isna().all()
    assert by_channel["channel"].isna().any()  # the export's dossiers without a channel
    totals = by_channel.groupby("month")["received_new_count"].sum()
    assert list(totals) == list(series.set_index("month")["received_new_count"])


def test_cchc_kpis_writes_null_not_zero(missing_columns_dir):
    args = ("kpis", "--data", str(missing_columns_dir), "--period", "2024-Q1", "--unit", "314")
    records = json.loads(run_cchc(*args, "--format", "json").stdout)
    assert records[0]["digitization_rate"] is None and records[0]["digitized_count"] is None
    assert records[0]["digitized_known_count"] == 0
    assert isinstance(records[0]["received_new_count"], int)
    lines = run_cchc(*args, "--format", "csv").stdout.splitlines()
    row = dict(zip(lines[0].split(","), lines[1].split(","), strict=True))
    assert row["digitization_rate"] == "" and row["digitized_count"] == ""
    assert row["online_payment_rate"] not in ("", "0", "0.0")


def test_an_ingested_export_without_the_optional_columns_gives_null_kpis(tmp_path):
    export = write_bare_export(tmp_path / "export.csv")
    data = tmp_path / "data"
    run_cchc("ingest", "--kind", "dossiers", str(export), "--out", str(data))
    args = ("kpis", "--data", str(data), "--period", "2023-Q3", "--format", "json")
    record = json.loads(run_cchc(*args).stdout)[0]
    assert record["received_new_count"] == 39 and record["within_deadline_rate"] == 1.0
    for name in ("digitization_rate", "online_payment_rate", "satisfaction_rate"):
        assert record[name] is None, name
    assert record["digitized_count"] is None and record["fee_bearing_count"] is None
    assert record["online_rate"] == 1.0  # the channel column is there


_COUNT_VALUES = st.one_of(
    st.integers(0, 50),
    st.just(pd.NA),
    st.none(),
    st.just(np.nan),
    st.integers(0, 50).map(np.int64),
    st.integers(0, 50).map(float),
)


@settings(max_examples=300, deadline=None)
@given(data=st.data(), name=st.sampled_from(sorted(RATES)))
def test_one_row_rate_parts_and_coverage_read_the_counts_as_the_table_does(data, name):
    """rate_parts and rate_coverage work on one row's scalars; they must agree with
    rate_denominator over a one-row table, whatever is missing, NA, 0 or a float."""
    rate = RATES[name]
    wanted = [*rate.numerator, rate.denominator, *KNOWN_COUNT_COLUMNS]
    wanted += [c.base for c in COVERAGES]
    counts = {c: data.draw(_COUNT_VALUES, label=c) for c in dict.fromkeys(wanted)}
    for column in data.draw(st.sets(st.sampled_from(list(counts)), max_size=2), label="drop"):
        del counts[column]
    if rate.denominator in counts:
        frame = pd.DataFrame([counts])
        expected = rate_denominator(frame, name).iloc[0]
        full = pd.to_numeric(frame[rate.denominator], errors="coerce").iloc[0]
    else:
        expected = full = np.nan
    numerators = [counts.get(c) for c in rate.numerator]
    if np.isnan(expected) or any(v is None or v is pd.NA or v != v for v in numerators):
        expected_parts = (0, 0)
    else:
        expected_parts = (sum(int(v) for v in numerators), int(expected))
    covered = not np.isnan(expected) and not np.isnan(full) and expected < full
    for row in (counts, pd.Series(counts, dtype=object)):
        if rate.denominator in counts:
            got = _row_denominator(row, name)
            assert (np.isnan(expected) and np.isnan(got)) or expected == got
        assert rate_parts(row, name) == expected_parts
        if all(k in counts for k in _inputs(rate)) and rate.coverage in COVERAGE_BY_KNOWN:
            assert rate_coverage(row, name) == ((int(expected), int(full)) if covered else None)
