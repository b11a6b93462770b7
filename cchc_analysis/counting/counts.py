"""Biểu 06 counts of the units the data was recorded under (era 2024): per period and per month.

A district's dossiers come from two tiers: its own offices (unit_level "district") and its
communes (unit_level "commune"); the query's ``tier`` picks which count. Period counts come from
the monthly cube when the period is month-aligned and a cube exists (cheap), otherwise from the
dossier rows of the districts asked for (exact for any day range); both give the same numbers.
A folder with period reports but no dossiers answers from the aggregate rows (``aggregates``).

This is the era-neutral layer under ``kpis`` (which adds rates and names) and ``rollup``
(which sums these counts onto the units of the 2025 reform).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import date

import pandas as pd

from cchc_analysis import store, units
from cchc_analysis.core import targets
from cchc_analysis.core.errors import UnitNotInDataError
from cchc_analysis.core.metrics import TABLE_COUNT_COLUMNS
from cchc_analysis.counting.aggregates import period_report_counts
from cchc_analysis.counting.cube import (
    COUNT_READ_COLUMNS,
    has_cube_columns,
    period_counts,
    period_counts_from_cube,
)
from cchc_analysis.counting.monthly import monthly_series, unit_rows
from cchc_analysis.counting.prepare import load_cube
from cchc_analysis.counting.query import CountQuery
from cchc_analysis.counting.shared import shared_frame


def _district_codes_for(
    data_dir: str | os.PathLike[str], level: str, unit_codes: Sequence[str] | None
) -> tuple[list[str], list[str] | None]:
    """Partitions to read, and the commune codes to keep (None = all) for the request."""
    available = store.dossier_partitions(data_dir)
    if not unit_codes:
        return available, None
    districts: list[str] = []
    communes: list[str] = []
    for code in unit_codes:
        code = str(code).strip()
        if code in available:
            districts.append(code)
        elif level == "commune" and len(code) == 5:
            try:
                parent = units.district_of(code).code
            except (KeyError, ValueError):
                parent = None
            if parent not in available:
                raise UnitNotInDataError(f"unit {code} has no dossiers in {data_dir}")
            districts.append(parent)
            communes.append(code)
        else:
            raise UnitNotInDataError(
                f"unit {code} has no dossiers in {data_dir} (districts present: "
                f"{', '.join(available) or 'none'})"
            )
    keep = communes if communes and len(communes) == len(unit_codes) else None
    return sorted(set(districts)), keep


def _filter_tier(frame: pd.DataFrame, level: str, tier: str) -> pd.DataFrame:
    if level == "commune":
        return frame[frame["unit_level"] == "commune"]
    if tier == "both":
        return frame
    return frame[frame["unit_level"] == tier]


def _province_key(frame: pd.DataFrame) -> pd.Series:
    """The pre-2025 province of each row: its own code for a province's own offices, else its
    district's province."""
    districts = frame["district_code"].astype("string")
    provinces = {
        code: units.get_unit(code, era=units.ERA_PRE_2025, level="district").province_code
        for code in districts.dropna().unique()
    }
    own = frame["unit_level"].astype("string") == "province"
    key = districts.map(provinces).astype("string")
    return key.where(~own.fillna(False), frame["unit_code"].astype("string"))


def _recorded_province_counts(data_dir: str | os.PathLike[str], query: CountQuery) -> pd.DataFrame:
    """Counts per pre-2025 province: its districts' offices and communes and its own offices
    (departments, public-service centre), all stored in its era-2024 areas; the tier chooses."""
    period = query.period
    wanted = set(query.unit_codes or ())
    areas = []
    for area in store.dossier_areas(data_dir):
        era, code = store.area_parts(area)
        if era != units.ERA_PRE_2025:
            continue
        province = (
            code
            if len(code) == 2
            else units.get_unit(code, era=era, level="district").province_code
        )
        if not wanted or province in wanted:
            areas.append(area)
    if wanted and not areas:
        raise UnitNotInDataError(
            f"province {', '.join(sorted(wanted))} has no dossiers before 1 July 2025 in {data_dir}"
        )
    keys = ["province_key", "field"] if query.by_field else ["province_key"]
    tiers = {"district": "province", "commune": "commune"}

    def chosen(frame: pd.DataFrame) -> pd.DataFrame:
        if query.tier != "both":
            frame = frame[frame["unit_level"] == tiers[query.tier]]
        frame = frame.assign(province_key=_province_key(frame))
        return frame[frame["province_key"].isin(wanted)] if wanted else frame

    counts = None
    if query.source != "dossiers" and period.is_month_aligned:
        cube = store.read_table_rows(data_dir, store.CUBE_FILE, "era", [units.ERA_PRE_2025])
        horizon = store.read_table_max(data_dir, store.CUBE_FILE, "month")
        is_covered = horizon is not None and pd.Timestamp(period.end) <= pd.Timestamp(
            horizon
        ) + pd.offsets.MonthEnd(0)
        if cube is not None and is_covered and has_cube_columns(cube):
            counts = period_counts_from_cube(
                chosen(cube), period, by=keys, horizon=pd.Timestamp(horizon)
            )
    if counts is None and query.source == "cube":
        raise ValueError("the cube cannot answer this period; use source='dossiers'")
    if counts is None:
        frame = store.read_dossiers(data_dir, areas=areas, columns=COUNT_READ_COLUMNS)
        counts = period_counts(chosen(frame), period, by=keys)
        counts = counts[counts["received_total_count"] > 0]
    counts = counts.rename(columns={"province_key": "unit_code"})
    counts[list(TABLE_COUNT_COLUMNS)] = counts[list(TABLE_COUNT_COLUMNS)].astype("int64")
    return counts.reset_index(drop=True)


def recorded_unit_counts(data_dir: str | os.PathLike[str], query: CountQuery) -> pd.DataFrame:
    """Biểu 06 counts per unit (× field) for the period, at district or commune level, for the
    units the data was recorded under (an era-2024 query; ``rollup`` maps them onto 2025's)."""
    if query.is_era_2025:
        raise ValueError("recorded units are those of era 2024; era 2025 is rollup's")
    store.check_data_dir(data_dir)
    if not store.has_dossiers(data_dir):
        return period_report_counts(data_dir, query)
    if query.level == "province":
        return _recorded_province_counts(data_dir, query)
    period, level, tier = query.period, query.level, query.tier
    districts, communes = _district_codes_for(data_dir, level, query.unit_codes)
    group_key = query.group_key
    keys = [group_key, "field"] if query.by_field else [group_key]

    # Only the districts' rows of the cube: their cost does not grow with other districts.
    cube = (
        store.read_table_rows(data_dir, store.CUBE_FILE, "district_code", districts)
        if query.source != "dossiers"
        else None
    )
    counts = None
    if cube is not None and period.is_month_aligned and has_cube_columns(cube):
        horizon = pd.to_datetime(store.read_table_max(data_dir, store.CUBE_FILE, "month"))
        rows = _filter_tier(cube, level, tier)
        if communes is not None:
            rows = rows[rows["unit_code"].isin(communes)]
        if pd.Timestamp(period.end) <= horizon + pd.offsets.MonthEnd(0):
            counts = period_counts_from_cube(rows, period, by=keys, horizon=horizon)
    if counts is None and query.source == "cube":
        raise ValueError("the cube cannot answer this period; use source='dossiers'")
    if counts is None:
        frame = store.read_dossiers(data_dir, districts, columns=COUNT_READ_COLUMNS)
        frame = _filter_tier(frame, level, tier)
        if communes is not None:
            frame = frame[frame["unit_code"].isin(communes)]
        counts = period_counts(frame, period, by=keys)
        counts = counts[counts["received_total_count"] > 0]
    counts = counts.rename(columns={group_key: "unit_code"})
    counts[list(TABLE_COUNT_COLUMNS)] = counts[list(TABLE_COUNT_COLUMNS)].astype("int64")
    return counts.reset_index(drop=True)


def recorded_monthly_counts(
    data_dir: str | os.PathLike[str],
    query: CountQuery,
    *,
    since: date | str | pd.Timestamp,
    extra_keys: Sequence[str] = (),
) -> pd.DataFrame:
    """Counts per recorded unit (era 2024) × month from the cube, with rates; carried over from
    cumulative flows.

    The months run from ``since`` to the end of the query's period (the carried-over stock
    still accounts for everything before ``since``); the query's level, tier and units choose
    the rows. ``extra_keys`` (e.g. "channel") split the rows further.
    """
    if query.is_era_2025 or query.by_field:
        raise ValueError("monthly counts are per recorded unit (era 2024), not by field")
    level = query.level
    districts, communes = _district_codes_for(data_dir, level, query.unit_codes)
    if level == "district" and query.unit_codes and len(districts) == 1:
        # A district report's questions: its province's districts' series, made once and
        # shared (every district of the province asks), then its own rows.
        mine = _province_district_series(data_dir, query, districts[0], since, extra_keys)
        if mine is not None:
            return unit_rows(mine, districts, extra_keys)
    return _series(data_dir, query, districts, communes, since, extra_keys)


def _series(
    data_dir: str | os.PathLike[str],
    query: CountQuery,
    districts: Sequence[str],
    communes: Sequence[str] | None,
    since: date | str | pd.Timestamp,
    extra_keys: Sequence[str],
    *,
    each_from_own_start: bool = False,
) -> pd.DataFrame:
    cube = load_cube(data_dir, districts)
    cube = _filter_tier(cube, query.level, query.tier)
    if communes is not None:
        cube = cube[cube["unit_code"].isin(communes)]
    group_key = query.group_key
    return monthly_series(
        cube,
        [group_key, *extra_keys],
        since=since,
        end=query.period.end,
        unit_key=group_key,
        count_waiting_as_on_time=query.count_waiting_as_on_time,
        each_from_own_start=each_from_own_start,
    )


def _province_district_series(
    data_dir: str | os.PathLike[str],
    query: CountQuery,
    district: str,
    since: date | str | pd.Timestamp,
    extra_keys: Sequence[str],
) -> pd.DataFrame | None:
    """The rows of ``district`` in the series of every district with data in its province,
    each from its own first month (:func:`monthly.unit_rows`); None when the district is not
    in the registry or has no rows in the series (then it is asked for alone)."""
    province = _province_of(district)
    if province is None:
        return None
    waiting = query.count_waiting_as_on_time
    convention = targets.count_waiting_as_on_time() if waiting is None else waiting

    def compute() -> pd.DataFrame:
        same = [
            code for code in store.dossier_partitions(data_dir) if _province_of(code) == province
        ]
        return _series(data_dir, query, same, None, since, extra_keys, each_from_own_start=True)

    key = (
        "province district series",
        query.tier,
        province,
        pd.Timestamp(since),
        query.period.end,
        convention,
        tuple(extra_keys),
    )
    rows = shared_frame(data_dir, key, compute, lambda frame: frame[frame["unit_code"] == district])
    return rows if len(rows) else None


def _province_of(district: str) -> str | None:
    """The province of a district of the registry (era 2024); None for an unknown code."""
    try:
        return units.get_unit(district, level="district").province_code
    except (KeyError, ValueError):
        return None
