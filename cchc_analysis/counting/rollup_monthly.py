"""Monthly series of the units of the 2025 reform: new communes, new provinces, former
districts' areas, with their past carried through the crosswalk.

The same sums as :mod:`rollup` and :mod:`former_districts` make for a period, made per month
from the cube: the era-2025 rows count for the new unit that received them, the era-2024 rows
for the new unit their old unit maps onto (``units.crosswalk_communes`` for communes, whole old
provinces for provinces; a former district's area is its own old rows plus the new communes
``units.former_districts`` places within it). So a new commune's chart runs on across 1 July
2025, approximately where an old commune was divided (as in ``rollup``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import date

import pandas as pd

from cchc_analysis import units
from cchc_analysis.counting.monthly import monthly_series, unit_rows
from cchc_analysis.counting.new_units import in_province, one_province
from cchc_analysis.counting.prepare import load_cube
from cchc_analysis.counting.query import CountQuery
from cchc_analysis.counting.shared import shared_frame

NEW_UNIT_KEY = "new_unit_code"
# The province's own tier: its departments and public-service centre, in both eras (as rollup).
_TIER_LEVELS = {"district": ("province",), "commune": ("commune",)}


def keyed_commune_rows(cube: pd.DataFrame) -> pd.Series:
    """The new commune of each commune row (old ones through the crosswalk); NA otherwise."""
    walk = units.crosswalk_communes().set_index("old_code")["new_code"]
    is_new = cube["era"].astype("string") == units.ERA_2025
    is_commune = cube["unit_level"].astype("string") == "commune"
    codes = cube["unit_code"].astype("string")
    key = codes.where(is_new, codes.map(walk).astype("string"))
    return key.where(is_commune)


def keyed_province_rows(cube: pd.DataFrame, tier: str) -> pd.Series:
    """The new province of each row of the tier (old provinces merge whole); NA otherwise."""
    walk = units.crosswalk_provinces().set_index("old_code")["new_code"]
    era = cube["era"].astype("string")
    level = cube["unit_level"].astype("string")
    codes = cube["unit_code"].astype("string")
    districts = cube["district_code"].astype("string")
    new_province = {
        c: units.get_unit(c, era=units.ERA_2025).province_code
        for c in codes[era == units.ERA_2025].dropna().unique()
    }
    old_province = {
        c: units.get_unit(c, era=units.ERA_PRE_2025, level="district").province_code
        for c in districts[era != units.ERA_2025].dropna().unique()
    }
    old = districts.map(old_province).astype("string")
    old = old.where(level != "province", codes).map(walk).astype("string")
    key = old.where(era != units.ERA_2025, codes.map(new_province).astype("string"))
    if tier != "both":
        key = key.where(level.isin(_TIER_LEVELS[tier]))
    return key


def keyed_former_district_rows(cube: pd.DataFrame, tier: str) -> pd.Series:
    """The former district of each row: its own for old rows, the one a new commune lies in."""
    places = units.former_districts().set_index("new_code")["district_code"]
    era = cube["era"].astype("string")
    level = cube["unit_level"].astype("string")
    is_new = era == units.ERA_2025
    old = cube["district_code"].astype("string").where(level != "province")
    new = cube["unit_code"].astype("string").map(places).astype("string")
    key = old.where(~is_new, new.where(level == "commune"))
    if tier != "both":
        key = key.where(level == tier)
    return key


def rollup_monthly_counts(
    data_dir: str | os.PathLike[str],
    query: CountQuery,
    *,
    since: date | str | pd.Timestamp,
    extra_keys: Sequence[str] = (),
) -> pd.DataFrame:
    """Counts per unit of the reform (the query's level: commune, province or a former
    district's area) × month, with rates, from ``since`` to the end of the query's period."""
    if not query.is_era_2025 or query.by_field:
        raise ValueError("rollup monthly counts answer era 2025 queries, not by field")
    codes = query.unit_codes
    province = one_province(query)
    if codes and len(codes) == 1 and province is not None:
        # A commune report's questions: its province's series, made once and shared (every
        # commune of the province asks), then its own rows; those of a commune without any
        # cube rows are made as before (their empty table has the cube's columns). Only for
        # one unit: units asked together (the overview's panels) share the first month of them
        # all, which the shared series, each unit from its own first month, does not keep.
        mine = _province_series(data_dir, query, province, pd.Timestamp(since), extra_keys, codes)
        if set(codes) <= set(mine["unit_code"]):
            return unit_rows(mine, codes, extra_keys)
    cube = shared_frame(
        data_dir,
        ("keyed cube", query.level, query.tier),
        lambda: _keyed_cube(data_dir, query.level, query.tier),
        (lambda frame: frame[frame[NEW_UNIT_KEY].isin(codes)]) if codes else None,
        across_run=False,  # the cube file re-keyed: read faster than written and read again
    )
    return monthly_series(
        cube,
        [NEW_UNIT_KEY, *extra_keys],
        since=since,
        end=query.period.end,
        unit_key=NEW_UNIT_KEY,
        count_waiting_as_on_time=query.count_waiting_as_on_time,
    )


def _province_series(
    data_dir: str | os.PathLike[str],
    query: CountQuery,
    province: str,
    since: pd.Timestamp,
    extra_keys: Sequence[str],
    codes: Sequence[str],
) -> pd.DataFrame:
    """The rows of ``codes`` in the series of every unit of ``province`` at the query's
    level, each unit from its own first month."""
    level, tier, waiting = query.level, query.tier, query.count_waiting_as_on_time

    def compute() -> pd.DataFrame:
        cube = shared_frame(
            data_dir,
            ("keyed cube", level, tier),
            lambda: _keyed_cube(data_dir, level, tier),
            lambda frame: frame[in_province(frame[NEW_UNIT_KEY], province)],
            across_run=False,
        )
        return monthly_series(
            cube,
            [NEW_UNIT_KEY, *extra_keys],
            since=since,
            end=query.period.end,
            unit_key=NEW_UNIT_KEY,
            count_waiting_as_on_time=waiting,
            each_from_own_start=True,
        )

    key = ("province series", level, tier, province, since, query.period.end, waiting)
    wanted = list(codes)
    return shared_frame(
        data_dir,
        (*key, tuple(extra_keys)),
        compute,
        lambda frame: frame[frame["unit_code"].isin(wanted)],
    )


def _keyed_cube(data_dir: str | os.PathLike[str], level: str, tier: str) -> pd.DataFrame:
    """The cube's rows that count for a unit of ``level``, with that unit's code: the same
    for every unit of the province, so computed once (``shared``)."""
    cube = load_cube(data_dir)
    if level == "commune":
        key = keyed_commune_rows(cube)
    elif level == "province":
        key = keyed_province_rows(cube, tier)
    else:
        key = keyed_former_district_rows(cube, tier)
    cube = cube.assign(**{NEW_UNIT_KEY: key})
    return cube[cube[NEW_UNIT_KEY].notna()]
