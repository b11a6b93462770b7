"""A commune report takes its rows out of its province's shared tables (the province's KPI
table per period, the province's monthly series) instead of asking for them alone: the rows
must be exactly those the commune gets asked for alone, on a folder shaped like real data
after the reform (old district-era history, new communes, a province's own offices)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from conftest import _built_once
from reform_fixture import build_reform_folder

from cchc_analysis import units
from cchc_analysis.core.periods import parse_period
from cchc_analysis.counting import CountQuery, kpi_table, monthly_counts, rollup_monthly, shared
from cchc_analysis.counting.history import has_full_history
from cchc_analysis.counting.monthly import monthly_series
from cchc_analysis.counting.rollup_monthly import NEW_UNIT_KEY, _keyed_cube
from cchc_analysis.reports.unit_data import UnitData, province_units, row_as_alone

PERIODS = ("2026-Q3", "2026-Q2", "2025-Q3")  # a report's period, the previous, a year before


@pytest.fixture(scope="module")
def reform_dir(demo_dir, tmp_path_factory) -> Path:
    """The demo slice plus its era-2025 copy (2025-07-01..2026-09-30), prepared."""

    def build(path: Path) -> None:
        build_reform_folder(demo_dir, path / "data")

    return _built_once(tmp_path_factory, "reform", build) / "data"


def _communes(reform_dir: Path) -> list[str]:
    query = CountQuery(parse_period("2026-Q3"), level="commune", era=units.ERA_2025)
    return sorted(kpi_table(reform_dir, query)["unit_code"].astype(str))


def _alone(reform_dir: Path, period: str, code: str) -> pd.Series:
    query = CountQuery(parse_period(period), level="commune", era=units.ERA_2025, unit_codes=[code])
    return kpi_table(reform_dir, query).iloc[0]


def test_a_communes_row_of_the_province_table_is_its_row_alone(reform_dir):
    shared.clear()
    codes = _communes(reform_dir)
    assert len(codes) == 10
    for period in PERIODS:
        query = CountQuery(parse_period(period), level="commune", era=units.ERA_2025)
        table = province_units(reform_dir, query, "31").drop(columns="short_name")
        for code in codes:
            row = row_as_alone(table, code)
            assert row is not None
            pd.testing.assert_series_equal(row, _alone(reform_dir, period, code))


def test_a_commune_report_loads_the_same_numbers_as_asked_alone(reform_dir):
    shared.clear()
    code = _communes(reform_dir)[3]
    data = UnitData.load(code, "2026-Q3", reform_dir, level="commune")
    for period, row in zip(PERIODS, (data.current, data.previous, data.year_before), strict=True):
        assert row is not None
        pd.testing.assert_series_equal(row, _alone(reform_dir, period, code))
    # A year before, the communes' counts come through the crosswalk from the old communes:
    # their data reaches back before it, whatever another commune's.
    assert bool(data.year_before["has_full_history"])


def test_a_communes_months_out_of_the_province_series_are_its_months_alone(reform_dir):
    shared.clear()
    since = pd.Timestamp("2024-10-01")
    cube = _keyed_cube(reform_dir, "commune", "both")
    for code in _communes(reform_dir):
        query = CountQuery(
            parse_period("2026-Q3"), level="commune", era=units.ERA_2025, unit_codes=[code]
        )
        for extra in ([], ["channel"]):
            got = monthly_counts(reform_dir, query, since=since, extra_keys=extra)
            own = cube[cube[NEW_UNIT_KEY] == code]
            alone = monthly_series(
                own,
                [NEW_UNIT_KEY, *extra],
                since=since,
                end=query.period.end,
                unit_key=NEW_UNIT_KEY,
            )
            pd.testing.assert_frame_equal(got, alone)


def test_communes_asked_together_share_the_first_month_of_them_all(reform_dir, monkeypatch):
    """The overview asks for every commune at once and draws each one's panel against the same
    months: a commune whose data starts later (a new unit with no predecessor) gets the leading
    months too, as when the units are counted together, never its own months alone."""
    shared.clear()
    codes = _communes(reform_dir)
    late = codes[0]
    full = _keyed_cube(reform_dir, "commune", "both")
    cube = full[(full[NEW_UNIT_KEY] != late) | (full["month"] >= pd.Timestamp("2025-07-01"))]
    assert len(cube) < len(full)
    monkeypatch.setattr(rollup_monthly, "_keyed_cube", lambda *_args: cube)
    since = pd.Timestamp("2024-10-01")
    query = CountQuery(
        parse_period("2026-Q3"), level="commune", era=units.ERA_2025, unit_codes=codes
    )
    got = monthly_counts(reform_dir, query, since=since)
    together = monthly_series(
        cube[cube[NEW_UNIT_KEY].isin(codes)],
        [NEW_UNIT_KEY],
        since=since,
        end=query.period.end,
        unit_key=NEW_UNIT_KEY,
    )
    pd.testing.assert_frame_equal(got, together)
    assert got.loc[got["unit_code"] == late, "month"].min() == got["month"].min()
    shared.clear()


def test_each_unit_starts_at_its_own_first_month():
    """A unit whose data starts later has no leading months of zeros in a many-unit series,
    and a blank channel (an export without it) stays a group of its own."""
    months = pd.to_datetime(["2025-07-01", "2025-08-01", "2025-09-01", "2025-09-01"])
    cube = pd.DataFrame(
        {
            "unit": ["A", "A", "A", "B"],
            "channel": ["online", "online", None, "in_person"],
            "month": months,
        }
    )
    from cchc_analysis.counting.cube import CUBE_FLOW_COLUMNS, CUBE_STOCK_COLUMNS

    for column in (*CUBE_FLOW_COLUMNS, *CUBE_STOCK_COLUMNS):
        cube[column] = 1
    options = {"since": "2025-07-01", "end": "2025-10-31", "unit_key": "unit"}
    both = monthly_series(cube, ["unit", "channel"], each_from_own_start=True, **options)
    b_months = both.loc[both["unit_code"] == "B", "month"]
    assert list(b_months) == list(pd.to_datetime(["2025-09-01", "2025-10-01"]))
    from cchc_analysis.counting.monthly import unit_rows

    for unit in ("A", "B"):
        alone = monthly_series(cube[cube["unit"] == unit], ["unit", "channel"], **options)
        pd.testing.assert_frame_equal(unit_rows(both, [unit], ["channel"]), alone)


def test_one_unit_without_earlier_data_leaves_the_others_history(reform_dir):
    """Asked for several communes, one of which has no data before the period, the others'
    earlier data is still seen (it used to make every unit's answer False)."""
    code = _communes(reform_dir)[0]
    elsewhere = units.units_table(units.ERA_2025)
    absent = str(
        elsewhere.loc[
            (elsewhere["level"] == "commune") & (elsewhere["province_code"] == "31"), "code"
        ]
        .loc[lambda codes: ~codes.astype(str).isin(_communes(reform_dir))]
        .iloc[0]
    )
    query = CountQuery(parse_period("2025-Q3"), level="commune", era=units.ERA_2025)
    history = has_full_history(reform_dir, query, [code, absent])
    assert history.to_dict() == {code: True, absent: False}


def test_a_row_is_not_taken_when_other_units_miss_a_count_it_has():
    """Where another unit's export lacked a column, the table types that count as nullable:
    the unit's row is then made alone (None here), never handed over typed otherwise."""
    table = pd.DataFrame(
        {
            "unit_code": ["A", "B"],
            "received_new_count": pd.array([3, 4], dtype="Int64"),
            "received_online_count": pd.array([1, None], dtype="Int64"),
        }
    )
    assert row_as_alone(table, "A") is None
    assert row_as_alone(table, "B") is not None  # it misses the count itself
    assert row_as_alone(table, "C") is None
