"""The "Cần chỉ đạo" box: every late dossier attributed to one receiving office or commune, one
field and one procedure; the units below target named, worst first."""

from __future__ import annotations

import pandas as pd
import pytest

from cchc_analysis import store
from cchc_analysis.core.periods import parse_period
from cchc_analysis.counting import CountQuery, kpi_table
from cchc_analysis.counting.late_sources import (
    GROUPINGS,
    LATE_SOURCE_COLUMNS,
    OFFICE_SOURCE,
    UNKNOWN,
    in_scope_window,
    late_sources,
    late_sources_by,
    overdue_pending,
    overdue_summary,
)
from cchc_analysis.reports.sections.attention import _below_target_line

Q3 = parse_period("2023-Q3")


def _dossier(unit, level, field, received, due, resolved=None, procedure="1.001"):
    return {
        "era": "2024",
        "unit_code": unit,
        "unit_level": level,
        "field": field,
        "procedure_code": procedure,
        "procedure_name": f"Thủ tục {procedure}",
        "channel": "in_person",
        "online_level": "none",
        "received_at": pd.Timestamp(received),
        "due_at": pd.Timestamp(due),
        "resolved_at": pd.Timestamp(resolved) if resolved else pd.NaT,
        "status": "resolved" if resolved else "processing",
        "rating": None,
    }


@pytest.fixture
def rows() -> pd.DataFrame:
    """Two late at the district's own offices (one carried over from June, one with no field),
    one late and one on time in a commune, two pending past their deadline."""
    return pd.DataFrame(
        [
            _dossier("314", "district", "Đất đai", "2023-06-20", "2023-07-05", "2023-07-10"),
            _dossier("314", "district", None, "2023-07-03", "2023-07-10", "2023-07-20"),
            _dossier("11713", "commune", "Hộ tịch", "2023-07-03", "2023-07-05", "2023-07-06"),
            _dossier("11713", "commune", "Hộ tịch", "2023-07-03", "2023-07-05", "2023-07-05"),
            _dossier("11713", "commune", "Hộ tịch", "2023-08-01", "2023-08-10", procedure="2"),
            _dossier("314", "district", "Đất đai", "2023-09-01", "2023-09-25"),
        ]
    )


def test_office_dossiers_are_a_source_row_of_their_own(rows):
    by_source = late_sources(rows, Q3, "source").set_index("source")
    assert by_source.loc[OFFICE_SOURCE, "resolved_late_count"] == 2  # carried over included
    assert by_source.loc[OFFICE_SOURCE, "pending_late_count"] == 1
    assert by_source.loc["11713", "resolved_late_count"] == 1
    assert by_source.loc["11713", "late_rate"] == pytest.approx(0.5)
    assert list(by_source.index) == [OFFICE_SOURCE, "11713"]  # worst first


def test_every_grouping_adds_up_to_the_units_counts(rows):
    for grouping, table in late_sources_by(rows, Q3).items():
        assert table["resolved_late_count"].sum() == 3, grouping
        assert table["pending_late_count"].sum() == 2, grouping
    by_field = late_sources(rows, Q3, "field").set_index("field")
    assert by_field.loc[UNKNOWN, "resolved_late_count"] == 1  # a blank field is kept


def test_overdue_pending_says_how_long(rows):
    overdue = overdue_pending(rows, Q3)
    assert list(overdue["overdue_days"]) == [51, 5]  # 10/08 and 25/09 to 30/09, longest first
    assert list(overdue["source"]) == ["11713", OFFICE_SOURCE]
    bands = overdue_summary(overdue).set_index("band")["pending_late_count"]
    assert bands.to_dict() == {"upto_7": 1, "8_to_30": 0, "over_30": 1}


def test_no_dossiers_no_rows():
    empty = pd.DataFrame({c: [] for c in LATE_SOURCE_COLUMNS})
    for grouping in GROUPINGS:
        assert late_sources(empty, Q3, grouping).empty
    assert overdue_pending(empty, Q3).empty


@pytest.mark.parametrize("code", ["313", "314"])
def test_demo_districts_late_dossiers_are_all_attributed(prepared_dir, code):
    """The counts by source, field and procedure sum to the district's own Biểu 06 figures."""
    dossiers = store.read_dossiers(
        prepared_dir,
        columns=LATE_SOURCE_COLUMNS,
        received_between=in_scope_window(Q3),
        areas=[store.area_key("2024", code)],
    )
    unit = kpi_table(prepared_dir, CountQuery(Q3, unit_codes=[code])).iloc[0]
    offices = kpi_table(prepared_dir, CountQuery(Q3, tier="district", unit_codes=[code])).iloc[0]
    tables = late_sources_by(dossiers, Q3)
    for grouping, table in tables.items():
        assert table["resolved_late_count"].sum() == unit["resolved_late_count"], grouping
        assert table["pending_late_count"].sum() == unit["pending_late_count"], grouping
    by_source = tables["source"].set_index("source")
    office_late = by_source["resolved_late_count"].get(OFFICE_SOURCE, 0)
    assert office_late == offices["resolved_late_count"]


def test_units_below_target_are_named_worst_first():
    table = pd.DataFrame({"within_deadline_rate": [0.95, 0.99, 0.90, float("nan")]})
    names = ["An Lão", "Kiến Thụy", "Lê <Chân>", "Đồ Sơn"]
    line = _below_target_line(table, names, "Các quận, huyện", "vi")
    assert line.startswith("Các quận, huyện chưa đạt mục tiêu tỷ lệ đúng hạn (98%)")
    assert line.index("Lê <Chân> (90,00%)") < line.index("An Lão (95,00%)")  # names are markup
    assert "Kiến Thụy" not in line and "Đồ Sơn" not in line
    met = _below_target_line(table.iloc[[1]], names[1:2], "Các xã, thị trấn", "vi")
    assert met == "Tất cả các xã, thị trấn đều đạt mục tiêu tỷ lệ đúng hạn (98%)."
