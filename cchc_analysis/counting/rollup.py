"""Historical counts rolled up onto the units of the 2025 reform (``--era 2025``).

Since 1 July 2025 there are 34 provinces and no districts; a merged province (Hải Dương into
Hải Phòng) has no series of its own before that day. Every Biểu 06 count is additive over
units (each dossier is counted by exactly one receiving unit), so the old units' counts for a
period, summed along the crosswalk, are the new unit's counts for that period.

* Provinces (``level="province"``): every old province maps onto exactly one new province
  (``units.crosswalk_provinces``), so the roll-up is exact. All tiers are included: district
  offices and communes alike belong to their old province.
* Communes (``level="commune"``): old communes map through ``units.crosswalk_communes``.
  Communes merged whole are exact. An old commune divided among several new ones is given
  entirely to the package's default new ward (``is_divided``), so those new communes' counts
  are approximate; the table's ``approximate`` column says which rows contain such parts.
  District-office dossiers belong to no commune and are left out (their procedures moved to
  the province or the communes in 2025, and the data does not say which), as are the island
  districts without communes.

Dossiers recorded under the new units themselves (received from 1 July 2025, or listed under
their new unit by a later export) are counted by that unit (``new_units``) and added: every
dossier is counted once, by the new unit that holds it, over the whole period. So a period that
straddles the reform gets its earlier part through the crosswalk, and a dossier pending on 30
June 2025 and resolved in August counts for the new unit in August. At province level the
``tier`` chooses the province's own offices ("district": its departments and public-service
centre), its communes, or both (every dossier of the province).

A folder holding only period reports answers periods from 1 July 2025 from the new units' own
Biểu 06 rows (read against the new registry).

Source and limits of the crosswalks: see ``units.crosswalk_provinces``/``crosswalk_communes``
(the PyPI package ``vietnamadminunits``, converter_2025.json).
"""

from __future__ import annotations

import os

import pandas as pd

from cchc_analysis import store, units
from cchc_analysis.core.errors import UnitNotInDataError
from cchc_analysis.core.metrics import TABLE_COUNT_COLUMNS
from cchc_analysis.counting.aggregates import period_report_counts
from cchc_analysis.counting.counts import recorded_unit_counts
from cchc_analysis.counting.former_districts import former_district_counts
from cchc_analysis.counting.new_units import (
    in_province,
    new_unit_counts,
    one_province,
    province_of,
)
from cchc_analysis.counting.query import CountQuery
from cchc_analysis.counting.shared import shared_frame


def _new_era_counts(data_dir: str | os.PathLike[str], query: CountQuery) -> pd.DataFrame:
    """Periods after the reform need no crosswalk: the new units' own period reports."""
    counts = period_report_counts(data_dir, query.with_options(tier="both"))
    names = [
        units.get_unit(c, era=units.ERA_2025, level=query.level).name for c in counts["unit_code"]
    ]
    counts.insert(1, "unit_name", names)
    return counts


def _sum(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    counts = frame.groupby(keys, sort=True, dropna=False)[list(TABLE_COUNT_COLUMNS)].sum(
        min_count=1
    )
    return counts.reset_index()


def _old_units_counts(data_dir: str | os.PathLike[str], query: CountQuery) -> pd.DataFrame:
    """Counts of the dossiers recorded under pre-2025 units, with the new unit (``new_code``)
    each maps onto and, at commune level, whether the mapping is approximate."""
    extra = ["field"] if query.by_field else []
    columns = ["new_code", *extra, *TABLE_COUNT_COLUMNS, "approximate"]
    if not store.dossier_partitions(data_dir) and store.has_dossiers(data_dir):
        return pd.DataFrame(columns=columns)  # only new-era dossiers in the folder
    recorded = {"era": units.ERA_PRE_2025, "unit_codes": None}  # every old unit, then summed
    if query.level == "province":  # old provinces (all their tiers) merge whole into new ones
        walk = units.crosswalk_provinces().set_index("old_code")
        if store.has_dossiers(data_dir):
            base = recorded_unit_counts(data_dir, query.with_options(**recorded))
            old_province = base["unit_code"]
        else:  # Biểu 06 rows are per district: their province is the district's
            base = recorded_unit_counts(data_dir, query.with_options(level="district", **recorded))
            old_province = base["unit_code"].map(
                {
                    code: units.get_unit(code, era=units.ERA_PRE_2025).province_code
                    for code in base["unit_code"].unique()
                }
            )
        base["new_code"] = old_province.map(walk["new_code"])
        base["approximate"] = False
    else:
        base = recorded_unit_counts(data_dir, query.with_options(tier="commune", **recorded))
        walk = units.crosswalk_communes().set_index("old_code")
        base["new_code"] = base["unit_code"].map(walk["new_code"])
        base["approximate"] = base["unit_code"].map(walk["is_divided"]).fillna(False)
        base = base[base["new_code"].notna()]
    return base


def rollup_counts(
    data_dir: str | os.PathLike[str], query: CountQuery, *, province: str | None = None
) -> pd.DataFrame:
    """Counts per new (2025) province or commune for a period, from pre-2025 data.

    ``query`` is an era-2025 query. Same columns as ``kpis.count_table`` (unit_code is the new
    code) plus ``unit_name`` and, at commune level, ``approximate``. ``province`` (commune
    level, no units asked): every commune of that province only.
    """
    if not query.is_era_2025:
        raise ValueError(f"rollup_counts answers era {units.ERA_2025} queries, not {query.era}")
    period, level, by_field, unit_codes = (
        query.period,
        query.level,
        query.by_field,
        query.unit_codes,
    )
    if level == "district":
        return former_district_counts(data_dir, query)
    if not store.has_dossiers(data_dir) and period.start >= units.REFORM_DATE:
        return _new_era_counts(data_dir, query)
    # Every unit's counts, computed once per folder state and shared by every report that
    # asks for one unit of them (``shared``); the units asked for are chosen below. Communes
    # of one province: its communes only (a national folder holds 3,321), keyed by province.
    every = query.with_options(unit_codes=None)
    scope = (province or one_province(query)) if level == "commune" else None
    counts = shared_frame(
        data_dir, ("rollup", every, scope), lambda: _every_unit_counts(data_dir, every, scope)
    )
    if unit_codes:
        wanted = list(unit_codes)
        present = set(counts["unit_code"])  # once: ``wanted`` may be every commune
        missing = [c for c in wanted if c not in present]
        if missing:
            raise UnitNotInDataError(
                f"unit {', '.join(missing)} has no data for era 2025 level {level} in "
                f"{data_dir} (units present: {', '.join(counts['unit_code'][:12]) or 'none'})"
            )
        counts = counts[counts["unit_code"].isin(wanted)]
    position = 3 if by_field else 2
    counts.insert(position, "period_start", pd.Timestamp(period.start))
    counts.insert(position + 1, "period_end", pd.Timestamp(period.end))
    return counts.reset_index(drop=True)


def _every_unit_counts(
    data_dir: str | os.PathLike[str], query: CountQuery, province: str | None = None
) -> pd.DataFrame:
    """Counts per new province or commune (``rollup_counts`` before choosing units); with
    ``province`` (commune level), its communes only: the same rows as the whole table's."""
    level = query.level
    extra = ["field"] if query.by_field else []
    old = _old_units_counts(data_dir, query)
    new = new_unit_counts(data_dir, query, province=province)
    if level == "province":
        if query.tier != "both":
            own = "province" if query.tier == "district" else "commune"
            new = new[new["unit_level"] == own]
        new = new.assign(new_code=[province_of(c) for c in new["unit_code"]])
        both = pd.concat([old, new], ignore_index=True) if len(new) else old
        counts = _sum(both, ["new_code", *extra])
        names = {c: units.get_unit(c, era=units.ERA_2025).name for c in counts["new_code"]}
        counts.insert(1, "unit_name", counts["new_code"].map(names))
    else:
        new = new[new["unit_level"] == "commune"]
        new = new.assign(new_code=new["unit_code"], approximate=False)
        both = pd.concat([old, new], ignore_index=True) if len(new) else old
        if province is not None:
            both = both[in_province(both["new_code"], province)]
        counts = _sum(both, ["new_code", *extra])
        approx = both.groupby(["new_code", *extra], dropna=False)["approximate"].any()
        counts["approximate"] = approx.to_numpy(dtype=bool)
        names = {c: units.get_unit(c, era=units.ERA_2025).name for c in counts["new_code"]}
        counts.insert(1, "unit_name", counts["new_code"].map(names))
    return counts.rename(columns={"new_code": "unit_code"})
