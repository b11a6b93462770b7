"""Biểu 06 counts of the units of the 2025 reform, from the dossiers recorded under them.

Since 1 July 2025 dossiers are received by a province's own offices (its departments and its
public-service centre: unit_level "province") and by its communes (unit_level "commune"), and
are stored in the era-2025 areas (``store.dossiers``). Rows are grouped by the new unit that
received them; :mod:`rollup` adds the dossiers recorded under the old units through the
crosswalk, so a period that straddles the reform, or a dossier received before it and resolved
after, is counted once, by the new unit that now holds it.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from cchc_analysis import store, units
from cchc_analysis.core.metrics import TABLE_COUNT_COLUMNS
from cchc_analysis.counting.cube import COUNT_READ_COLUMNS, period_counts, period_counts_from_cube
from cchc_analysis.counting.query import CountQuery

NEW_UNIT_KEYS = ("unit_level", "unit_code")


def new_unit_areas(data_dir: str | os.PathLike[str]) -> list[str]:
    """The folder's era-2025 areas (communes, provinces' own offices)."""
    return [a for a in store.dossier_areas(data_dir) if store.area_parts(a)[0] == units.ERA_2025]


def new_unit_counts(
    data_dir: str | os.PathLike[str], query: CountQuery, *, province: str | None = None
) -> pd.DataFrame:
    """Counts per receiving unit of era 2025 (unit_level, unit_code[, field]) for the query's
    period, from the era-2025 dossier rows; an empty table when the folder has none. With
    ``province``, that province's units only (its communes and own offices).

    From the monthly cube when the period is month-aligned and within its horizon (cheap),
    else from the dossier rows (exact for any day range); both give the same numbers.
    """
    keys = [*NEW_UNIT_KEYS, *(["field"] if query.by_field else [])]
    areas = new_unit_areas(data_dir)
    if province is not None:
        areas = [a for a in areas if _province_or_none(store.area_parts(a)[1]) == province]
    if not areas:
        return pd.DataFrame(columns=[*keys, *TABLE_COUNT_COLUMNS])
    period = query.period
    counts = None
    if query.source != "dossiers" and period.is_month_aligned:
        cube = store.read_table_rows(data_dir, store.CUBE_FILE, "era", [units.ERA_2025])
        horizon = store.read_table_max(data_dir, store.CUBE_FILE, "month")
        is_covered = horizon is not None and pd.Timestamp(period.end) <= pd.Timestamp(
            horizon
        ) + pd.offsets.MonthEnd(0)
        if cube is not None and province is not None:
            cube = cube[in_province(cube["unit_code"], province)]
        if cube is not None and len(cube) and is_covered:
            counts = period_counts_from_cube(cube, period, by=keys, horizon=pd.Timestamp(horizon))
    if counts is None and query.source == "cube":
        raise ValueError("the cube cannot answer this period; use source='dossiers'")
    if counts is None:
        frame = store.read_dossiers(data_dir, areas=areas, columns=COUNT_READ_COLUMNS)
        counts = period_counts(frame, period, by=keys)
    counts = counts[counts["received_total_count"] > 0]
    counts[list(TABLE_COUNT_COLUMNS)] = counts[list(TABLE_COUNT_COLUMNS)].astype("int64")
    return counts.reset_index(drop=True)


def province_of(unit_code: str) -> str:
    """The era-2025 province of a new commune or province code."""
    return units.get_unit(unit_code, era=units.ERA_2025).province_code


def _province_or_none(unit_code: str) -> str | None:
    try:
        return province_of(unit_code)
    except LookupError:  # not a unit of the new registry
        return None


def in_province(codes: pd.Series, province: str) -> np.ndarray:
    """Which of the new units' codes belong to ``province`` (each distinct code looked up once)."""
    owner = {code: _province_or_none(str(code)) for code in codes.dropna().unique()}
    return codes.map(owner).eq(province).fillna(False).to_numpy(dtype=bool)


def one_province(query: CountQuery) -> str | None:
    """The province of every commune a query asks for, when they share one (a report's
    questions): the province-wide results it needs are then that province's, not the folder's
    (the nation's 3,321 communes). None for other levels, no units or several provinces."""
    if query.level != "commune" or not query.unit_codes:
        return None
    found = {_province_or_none(code) for code in query.unit_codes}
    return found.pop() if len(found) == 1 else None
