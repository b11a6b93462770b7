"""Former-district areas ("địa bàn huyện cũ") after the reform: a district's series runs on.

Districts were abolished on 1 July 2025, but a province still asks how the area of a former
district is doing, and a district's trend needs to continue across the reform. The area of a
former district is its own pre-2025 dossiers plus those of the new communes that lie within it
(``units.former_districts``: a new commune belongs to the former district that gave it most of
its old communes). A new commune whose old communes came from two or more districts, or from
a commune divided among new ones, makes the row ``approximate``.

Tiers: "district" is the district's own offices (before the reform only: there are none
after it), "commune" its communes (old and new), "both" all of them.
"""

from __future__ import annotations

import os

import pandas as pd

from cchc_analysis import store, units
from cchc_analysis.core.errors import UnitNotInDataError
from cchc_analysis.core.metrics import TABLE_COUNT_COLUMNS
from cchc_analysis.counting.counts import recorded_unit_counts
from cchc_analysis.counting.new_units import new_unit_counts
from cchc_analysis.counting.query import CountQuery


def former_district_name(code: str) -> str:
    """ "Địa bàn huyện Kiến Thụy cũ": the area of a former district, named as such."""
    district = units.get_unit(code, era=units.ERA_PRE_2025, level="district")
    return f"Địa bàn {district.unit_type.lower()} {district.short_name} cũ"


def former_district_counts(data_dir: str | os.PathLike[str], query: CountQuery) -> pd.DataFrame:
    """Counts per former district area for the query's period (an era-2025 district query):
    unit_code (the former district's code), unit_name, [field], period bounds, the counts and
    ``approximate``."""
    extra = ["field"] if query.by_field else []
    pieces = []
    if store.dossier_partitions(data_dir):
        old = recorded_unit_counts(
            data_dir, query.with_options(era=units.ERA_PRE_2025, unit_codes=None)
        )
        pieces.append(old.assign(approximate=False))
    if query.tier != "district":
        new = new_unit_counts(data_dir, query.with_options(level="commune"))
        new = new[new["unit_level"] == "commune"]
        places = units.former_districts().set_index("new_code")
        new = new[new["unit_code"].isin(places.index)]
        where = places.loc[new["unit_code"]]
        new = new.assign(
            unit_code=where["district_code"].to_numpy(),
            approximate=(where["spans_districts"] | where["has_divided_commune"]).to_numpy(),
        )
        pieces.append(new)
    columns = ["unit_code", *extra, *TABLE_COUNT_COLUMNS, "approximate"]
    parts = [p[columns] for p in pieces if len(p)]  # a period before any data has none
    both = pd.concat(parts, ignore_index=True) if parts else None
    if both is None or both.empty:
        counts = pd.DataFrame(columns=columns)
    else:
        keys = ["unit_code", *extra]
        counts = (
            both.groupby(keys, sort=True, dropna=False)[list(TABLE_COUNT_COLUMNS)]
            .sum()
            .reset_index()
        )
        counts["approximate"] = (
            both.groupby(keys, sort=True, dropna=False)["approximate"].any().to_numpy()
        )
    if query.unit_codes:
        present = set(counts["unit_code"])  # once: ``unit_codes`` may be every district
        missing = [c for c in query.unit_codes if c not in present]
        if missing:
            raise UnitNotInDataError(
                f"former district {', '.join(missing)} has no dossiers in period {query.period} "
                f"in {data_dir}"
            )
        counts = counts[counts["unit_code"].isin(query.unit_codes)]
    counts.insert(1, "unit_name", [former_district_name(c) for c in counts["unit_code"]])
    position = 3 if query.by_field else 2
    counts.insert(position, "period_start", pd.Timestamp(query.period.start))
    counts.insert(position + 1, "period_end", pd.Timestamp(query.period.end))
    counts[list(TABLE_COUNT_COLUMNS)] = counts[list(TABLE_COUNT_COLUMNS)].astype("int64")
    return counts.reset_index(drop=True)
