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

Periods that start on or after 1 July 2025 are answered from period reports of the new units
themselves (Biểu 06 sheets of 2025 are read against the new registry); dossier exports with
new-era codes are not supported yet.

Source and limits of the crosswalks: see ``units.crosswalk_provinces``/``crosswalk_communes``
(the PyPI package ``vietnamadminunits``, converter_2025.json).
"""

from __future__ import annotations

import os

import pandas as pd

from cchc_analysis import units
from cchc_analysis.core.errors import UnitNotInDataError
from cchc_analysis.core.schema import COUNT_COLUMNS
from cchc_analysis.counting.aggregates import period_report_counts
from cchc_analysis.counting.counts import recorded_unit_counts
from cchc_analysis.counting.query import CountQuery


def _new_era_counts(data_dir: str | os.PathLike[str], query: CountQuery) -> pd.DataFrame:
    """Periods after the reform need no crosswalk: the new units' own period reports."""
    counts = period_report_counts(data_dir, query.with_options(tier="both"))
    names = [
        units.get_unit(c, era=units.ERA_2025, level=query.level).name for c in counts["unit_code"]
    ]
    counts.insert(1, "unit_name", names)
    return counts


def _sum(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    counts = frame.groupby(keys, sort=True, dropna=False)[list(COUNT_COLUMNS)].sum(min_count=1)
    return counts.reset_index()


def rollup_counts(data_dir: str | os.PathLike[str], query: CountQuery) -> pd.DataFrame:
    """Counts per new (2025) province or commune for a period, from pre-2025 data.

    ``query`` is an era-2025 query. Same columns as ``kpis.count_table`` (unit_code is the new
    code) plus ``unit_name`` and, at commune level, ``approximate``.
    """
    if not query.is_era_2025:
        raise ValueError(f"rollup_counts answers era {units.ERA_2025} queries, not {query.era}")
    period, level, by_field, unit_codes = (
        query.period,
        query.level,
        query.by_field,
        query.unit_codes,
    )
    extra = ["field"] if by_field else []
    if period.start >= units.REFORM_DATE:
        return _new_era_counts(data_dir, query)
    recorded = {"era": units.ERA_PRE_2025, "unit_codes": None}  # every old unit, then summed
    if level == "province":
        base = recorded_unit_counts(data_dir, query.with_options(level="district", **recorded))
        old_province = {
            code: units.get_unit(code, era=units.ERA_PRE_2025, level="district").province_code
            for code in base["unit_code"].unique()
        }
        walk = units.crosswalk_provinces().set_index("old_code")
        base["new_code"] = base["unit_code"].map(old_province).map(walk["new_code"])
        names = dict(zip(walk["new_code"], walk["new_name"], strict=False))
        counts = _sum(base, ["new_code", *extra])
        counts.insert(1, "unit_name", counts["new_code"].map(names))
    else:
        base = recorded_unit_counts(data_dir, query.with_options(tier="commune", **recorded))
        walk = units.crosswalk_communes().set_index("old_code")
        base["new_code"] = base["unit_code"].map(walk["new_code"])
        base["approximate"] = base["unit_code"].map(walk["is_divided"]).fillna(False)
        base = base[base["new_code"].notna()]
        counts = _sum(base, ["new_code", *extra])
        approx = base.groupby(["new_code", *extra], dropna=False)["approximate"].any()
        counts["approximate"] = approx.to_numpy(dtype=bool)
        names = dict(zip(walk["new_code"], walk["new_name"], strict=False))
        counts.insert(1, "unit_name", counts["new_code"].map(names))
    counts = counts.rename(columns={"new_code": "unit_code"})
    if unit_codes:
        wanted = list(unit_codes)
        missing = [c for c in wanted if c not in set(counts["unit_code"])]
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
