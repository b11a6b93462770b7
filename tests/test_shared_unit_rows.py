"""A commune report takes its rows out of its province's shared tables (the province's KPI
table per period, the province's monthly series) instead of asking for them alone: the rows
must be exactly those the commune gets asked for alone, on a folder shaped like real data
after the reform (old district-era history, new communes, a province's own offices)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from cchc_analysis import units
from cchc_analysis.core.periods import parse_period
from cchc_analysis.counting import CountQuery, kpi_table, monthly_counts, rollup_monthly, shared
from cchc_analysis.counting.history import has_full_history
from cchc_analysis.counting.monthly import monthly_series
from cchc_analysis.counting.rollup_monthly import NEW_UNIT_KEY, _keyed_cube
from cchc_analysis.reports.unit_data import UnitData, province_units, row_as_alone

PERIODS = ("2026-Q3", "2026-Q2", "2025-Q3")  # a report's period, the previous, a year before


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


# --- before the reform: a district's rows out of its province's districts' tables ----------

DISTRICT_PERIODS = ("2024-Q2", "2024-Q1", "2023-Q2", "2023-Q3", "2023-07")


@pytest.fixture(scope="module")
def staggered_dir(prepared_dir, tmp_path_factory) -> Path:
    """The fixture's two districts as two real exports differ: 313's data starts on
    2023-02-01 (a later first month, mid-quarter), and 314's export lacked the channel column
    until June 2023 (a blank channel for part of its months). Prepared (a cube)."""
    from cchc_analysis import store
    from cchc_analysis.counting import prepare_folder

    target = tmp_path_factory.mktemp("staggered") / "data"
    dossiers = store.read_dossiers(prepared_dir)
    district = dossiers["district_code"].astype(str)
    late_start = (district == "313") & (dossiers["received_at"] < pd.Timestamp("2023-02-01"))
    dossiers = dossiers[~late_start.to_numpy()].reset_index(drop=True)
    blank = (dossiers["district_code"].astype(str) == "314") & (
        dossiers["received_at"] < pd.Timestamp("2023-06-01")
    )
    dossiers["channel"] = dossiers["channel"].astype(object)
    dossiers.loc[blank.to_numpy(), "channel"] = None
    store.write_dossiers(dossiers, target)
    store.write_dataset_info(target, store.read_dataset_info(prepared_dir))
    prepare_folder(target, has_new_dossiers=True)
    return target


def _district_folders(request) -> list[Path]:
    return [
        request.getfixturevalue(name)
        for name in ("demo_dir", "staggered_dir", "missing_columns_dir")
    ]


def _district_alone(folder: Path, period: str, code: str, tier: str = "both") -> pd.DataFrame:
    query = CountQuery(parse_period(period), level="district", tier=tier, unit_codes=[code])
    return kpi_table(folder, query)


def test_a_districts_row_of_the_province_table_is_its_row_alone(request):
    """Before the reform, a district report takes its rows (this period, the previous, a year
    before) out of its province's districts' table: exactly the row asked for alone, or
    nothing (then it is asked for alone) where another district's export lacked a column."""
    from cchc_analysis.reports.unit_data import province_district_table

    taken = 0
    for folder in _district_folders(request):
        for period in DISTRICT_PERIODS:
            for tier in ("both", "district"):
                shared.clear()
                for code in ("313", "314"):
                    alone = _district_alone(folder, period, code, tier)
                    query = CountQuery(parse_period(period), tier=tier)
                    table = province_district_table(folder, query, units.get_unit(code))
                    row = row_as_alone(table, code)
                    if row is not None:
                        pd.testing.assert_series_equal(row, alone.iloc[0])
                        taken += 1
                    elif folder != request.getfixturevalue("missing_columns_dir"):
                        raise AssertionError(f"{code} {period} {tier}: not taken")
    assert taken >= 40


def _district_months_alone(folder: Path, code: str, since, end, tier: str, extra: list[str]):
    """A district's months as its own cube rows alone give them."""
    from cchc_analysis.counting.prepare import load_cube

    cube = load_cube(folder, [code])
    if tier != "both":
        cube = cube[cube["unit_level"] == tier]
    return monthly_series(cube, ["district_code", *extra], since=since, end=end,
                          unit_key="district_code")  # fmt: skip


def test_a_districts_months_out_of_the_province_series_are_its_months_alone(request):
    """Its months from the province's series: the same frame as its own cube rows alone give,
    where its data starts later than the other district's and its channel is partly blank."""
    for folder in _district_folders(request):
        shared.clear()
        for period, since in (("2024-Q2", "2022-07-01"), ("2023-Q3", "2023-01-01")):
            for tier in ("both", "district"):
                for code in ("313", "314"):
                    query = CountQuery(
                        parse_period(period), level="district", tier=tier, unit_codes=[code]
                    )
                    for extra in ([], ["channel"]):
                        got = monthly_counts(folder, query, since=since, extra_keys=extra)
                        alone = _district_months_alone(
                            folder, code, since, query.period.end, tier, extra
                        )
                        pd.testing.assert_frame_equal(got, alone)


def test_the_staggered_districts_start_apart(staggered_dir):
    """The fixture is what the test above needs: 313's rows start later than 314's, and
    314's channel is blank for some of its months."""
    from cchc_analysis.counting.prepare import load_cube

    cube = load_cube(staggered_dir)
    first = cube.groupby(cube["district_code"].astype(str))["month"].min()
    assert first["313"] == pd.Timestamp("2023-02-01") > first["314"]
    mine = cube[cube["district_code"].astype(str) == "314"]
    assert mine["channel"].isna().any() and mine["channel"].notna().any()


def test_a_district_report_loads_the_same_numbers_as_asked_alone(staggered_dir):
    """313's report of 2023-Q2 (its data starts on 1 February): this period, the previous
    (its data starts within it, so its carried-over count is unknown) and no year before."""
    shared.clear()
    data = UnitData.load("313", "2023-Q2", staggered_dir)
    rows = (data.current, data.previous, data.year_before)
    for period, row in zip(("2023-Q2", "2023-Q1", "2022-Q2"), rows, strict=True):
        alone = _district_alone(staggered_dir, period, "313")
        if alone.empty:
            assert row is None
        else:
            pd.testing.assert_series_equal(row, alone.iloc[0])
    assert data.year_before is None and data.previous is not None
    assert bool(data.current["has_full_history"])
    assert not bool(data.previous["has_full_history"])
    since = data.monthly["month"].min()
    alone = _district_months_alone(staggered_dir, "313", since, data.period.end, "both", [])
    pd.testing.assert_frame_equal(data.monthly, alone)


def test_a_districts_communes_out_of_the_province_table_are_those_asked_alone(request, monkeypatch):
    """The communes section's table: the district's communes' rows of its province's communes
    table, taken once per province (only the first district asks for it), exactly the table
    asked for alone; a folder with a commune recorded under another district than the
    registry's falls back to asking alone, with the same result."""
    from cchc_analysis.reports import unit_data
    from cchc_analysis.reports.unit_data import district_communes

    asked: list[tuple[str, ...]] = []
    real = unit_data.kpi_table

    def counted(folder, query):
        asked.append(tuple(query.unit_codes or ()))
        return real(folder, query)

    monkeypatch.setattr(unit_data, "kpi_table", counted)
    compared = 0
    for folder in (*_district_folders(request), request.getfixturevalue("misfiled_dir")):
        for period in DISTRICT_PERIODS:
            shared.clear()
            asked.clear()
            for code in ("313", "314"):
                query = CountQuery(
                    parse_period(period), level="commune", tier="commune", unit_codes=[code]
                )
                got = district_communes(folder, parse_period(period), units.get_unit(code))
                pd.testing.assert_frame_equal(got, real(folder, query))
                compared += len(got)
            if folder == request.getfixturevalue("misfiled_dir"):
                assert asked == [("313",), ("314",)]
            elif folder == request.getfixturevalue("demo_dir"):
                assert asked == [("313", "314")]  # once for both districts
    assert compared > 300


@pytest.fixture(scope="module")
def misfiled_dir(prepared_dir, tmp_path_factory) -> Path:
    """The fixture's districts with one of 313's communes recorded under the code of a commune
    of another district of the province, one without data in the folder (an office typing a
    neighbour's code), prepared."""
    from cchc_analysis import store
    from cchc_analysis.counting import prepare_folder

    target = tmp_path_factory.mktemp("misfiled") / "data"
    dossiers = store.read_dossiers(prepared_dir)
    commune = sorted(
        dossiers.loc[
            (dossiers["district_code"].astype(str) == "313")
            & (dossiers["unit_level"] == "commune"),
            "unit_code",
        ].astype(str)
    )[0]
    registry = units.units_table(units.ERA_PRE_2025)
    elsewhere = registry[
        (registry["level"] == "commune")
        & (registry["province_code"] == "31")
        & ~registry["parent_code"].isin(["313", "314"])
    ]
    moved = (dossiers["unit_code"].astype(str) == commune).to_numpy()
    dossiers["unit_code"] = dossiers["unit_code"].astype(object)
    dossiers.loc[moved, "unit_code"] = str(elsewhere["code"].iloc[0])
    store.write_dossiers(dossiers, target)
    store.write_dataset_info(target, store.read_dataset_info(prepared_dir))
    prepare_folder(target, has_new_dossiers=True)
    return target
