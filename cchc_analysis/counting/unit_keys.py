"""Which unit of a query each stored dossier counts for: the package's grouping rules as a key.

``count_table`` answers "per unit (× field)". A researcher also groups by procedure, channel or
online level, which the cube does not hold; those counts come from dossier rows grouped by
(unit, keys). This module gives the unit part of that grouping, for the distinct
(area, unit_level, unit_code, district_code) combinations of a folder, by exactly the rules of
``counts`` (era 2024) and ``rollup_monthly`` (era 2025, the crosswalks):

* era 2024: district level, the district partitions' rows of the tier, keyed by district; commune
  level, their commune rows; province level, every era-2024 area's rows of the tier (a
  province's own offices are its "district" tier), keyed by province;
* era 2025: new communes, new provinces, former districts' areas, old rows carried through the
  crosswalks (``approximate`` where an old commune was divided or a new commune spans
  districts, as ``rollup`` and ``former_districts`` say).

A combination whose key is NA does not count for any unit of the query.
"""

from __future__ import annotations

import pandas as pd

from cchc_analysis import store, units
from cchc_analysis.counting.query import CountQuery
from cchc_analysis.counting.rollup_monthly import (
    keyed_commune_rows,
    keyed_former_district_rows,
    keyed_province_rows,
)

KEY_COLUMNS = ("area", "unit_level", "unit_code", "district_code")
_TIER_LEVELS_2024 = {"district": "province", "commune": "commune"}  # province level's tiers


def _text(frame: pd.DataFrame, column: str) -> pd.Series:
    return frame[column].astype("string")


def unit_keys(combinations: pd.DataFrame, query: CountQuery) -> pd.DataFrame:
    """``combinations`` (columns :data:`KEY_COLUMNS`, one row per distinct combination) with
    ``era`` (the area's), ``group_code`` (the query's unit, NA: not counted) and
    ``approximate``."""
    frame = pd.DataFrame({column: _text(combinations, column) for column in KEY_COLUMNS})
    parts = frame["area"].map(store.area_parts)
    frame["era"] = pd.Series([era for era, _ in parts], index=frame.index, dtype="string")
    area_code = pd.Series([code for _, code in parts], index=frame.index, dtype="string")
    # The key is what a reader trusts: an era-2024 district area's rows are that district's.
    is_district_area = (frame["era"] == units.ERA_PRE_2025) & (area_code.str.len() == 3)
    frame["district_code"] = area_code.where(is_district_area, frame["district_code"])
    level = frame["unit_level"]
    approximate = pd.Series(False, index=frame.index)
    if query.is_era_2025:
        if query.level == "commune":
            key = keyed_commune_rows(frame)
            walk = units.crosswalk_communes().set_index("old_code")["is_divided"]
            is_old = frame["era"] != units.ERA_2025
            divided = frame["unit_code"].map(walk).astype("boolean").fillna(False)
            approximate = divided & is_old
        elif query.level == "province":
            key = keyed_province_rows(frame, query.tier)
        else:
            key = keyed_former_district_rows(frame, query.tier)
            places = units.former_districts().set_index("new_code")
            spans = places["spans_districts"] | places["has_divided_commune"]
            is_new = frame["era"] == units.ERA_2025
            approximate = frame["unit_code"].map(spans).astype("boolean").fillna(False) & is_new
    else:
        is_old = frame["era"] == units.ERA_PRE_2025
        if query.level == "province":
            if query.tier != "both":
                is_old &= level == _TIER_LEVELS_2024[query.tier]
            provinces = {
                code: units.get_unit(code, era=units.ERA_PRE_2025, level="district").province_code
                for code in frame.loc[is_district_area, "district_code"].dropna().unique()
            }
            province = frame["district_code"].map(provinces).astype("string")
            key = province.where(level != "province", frame["unit_code"]).where(is_old)
        elif query.level == "commune":
            key = frame["unit_code"].where(is_district_area & (level == "commune"))
        else:
            chosen = is_district_area
            if query.tier != "both":
                chosen &= level == query.tier
            key = frame["district_code"].where(chosen)
    out = combinations.copy()
    out["era"] = frame["era"].to_numpy()
    out["group_code"] = key.astype("string").to_numpy()
    out["approximate"] = (approximate.fillna(False).astype(bool) & key.notna()).to_numpy()
    return out
