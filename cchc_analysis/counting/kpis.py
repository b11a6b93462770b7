"""KPI tables per unit and period: the numbers behind ``cchc kpis`` and every report.

A district's dossiers come from two tiers: its own offices (unit_level "district") and its
communes (unit_level "commune"); ``tier`` picks which count. Counts come from the monthly cube
when the period is month-aligned and a cube exists (cheap), otherwise from the dossier rows of
the districts asked for (exact for any day range); both give the same numbers.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from cchc_analysis import store, units
from cchc_analysis.core.errors import UnitNotInDataError
from cchc_analysis.core.metrics import add_metrics
from cchc_analysis.core.periods import Period
from cchc_analysis.core.schema import COUNT_COLUMNS
from cchc_analysis.counting.cube import CUBE_INPUT_COLUMNS, period_counts, period_counts_from_cube

Level = Literal["district", "commune"]
Tier = Literal["district", "commune", "both"]
Source = Literal["auto", "dossiers", "cube"]
LEVELS: tuple[str, ...] = ("district", "commune")
TIERS: tuple[str, ...] = ("district", "commune", "both")

# What counting needs, plus the names and the partition key reports show.
COUNT_READ_COLUMNS = ("unit_name", "district_code", *CUBE_INPUT_COLUMNS)


def _district_codes_for(
    data_dir: str | os.PathLike, level: Level, unit_codes: Sequence[str] | None
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


def _filter_tier(frame: pd.DataFrame, level: Level, tier: Tier) -> pd.DataFrame:
    if level == "commune":
        return frame[frame["unit_level"] == "commune"]
    if tier == "both":
        return frame
    return frame[frame["unit_level"] == tier]


def count_table(
    data_dir: str | os.PathLike,
    period: Period,
    level: Level = "district",
    tier: Tier = "both",
    unit_codes: Sequence[str] | None = None,
    by_field: bool = False,
    source: Source = "auto",
    era: str = units.ERA_PRE_2025,
) -> pd.DataFrame:
    """Biểu 06 counts per unit (× field) for the period, at district or commune level.

    ``era="2025"`` rolls the data up onto the new provinces or communes (``rollup``). A folder
    with period reports but no dossiers answers from the aggregate rows (``aggregates``).
    """
    if str(era) == units.ERA_2025:
        from cchc_analysis.counting.rollup import rollup_counts

        if tier not in TIERS:
            raise ValueError(f"tier must be one of {TIERS}, not {tier!r}")
        return rollup_counts(data_dir, period, level, tier, unit_codes, by_field, source)
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}, not {level!r}")
    if tier not in TIERS:
        raise ValueError(f"tier must be one of {TIERS}, not {tier!r}")
    store.check_data_dir(data_dir)
    if not store.has_dossiers(data_dir):
        from cchc_analysis.counting.aggregates import period_report_counts

        return period_report_counts(data_dir, period, level, tier, unit_codes, by_field)
    districts, communes = _district_codes_for(data_dir, level, unit_codes)
    group_key = "district_code" if level == "district" else "unit_code"
    keys = [group_key, "field"] if by_field else [group_key]

    # Only the districts' rows of the cube: their cost does not grow with other districts.
    cube = (
        store.read_table_rows(data_dir, store.CUBE_FILE, "district_code", districts)
        if source != "dossiers"
        else None
    )
    counts = None
    if cube is not None and period.is_month_aligned:
        horizon = pd.to_datetime(store.read_table_max(data_dir, store.CUBE_FILE, "month"))
        rows = _filter_tier(cube, level, tier)
        if communes is not None:
            rows = rows[rows["unit_code"].isin(communes)]
        if pd.Timestamp(period.end) <= horizon + pd.offsets.MonthEnd(0):
            counts = period_counts_from_cube(rows, period, by=keys)
    if counts is None and source == "cube":
        raise ValueError("the cube cannot answer this period; use source='dossiers'")
    if counts is None:
        frame = store.read_dossiers(data_dir, districts, columns=COUNT_READ_COLUMNS)
        frame = _filter_tier(frame, level, tier)
        if communes is not None:
            frame = frame[frame["unit_code"].isin(communes)]
        counts = period_counts(frame, period, by=keys)
        counts = counts[counts["received_total_count"] > 0]
    counts = counts.rename(columns={group_key: "unit_code"})
    counts[list(COUNT_COLUMNS)] = counts[list(COUNT_COLUMNS)].astype("int64")
    return counts.reset_index(drop=True)


def unit_label(code: str, level: Level, era: str = units.ERA_PRE_2025) -> str:
    """Official name of a unit of the era from the registry (the code itself when unknown)."""
    try:
        return units.get_unit(code, era=era, level=level).name
    except (KeyError, ValueError):
        return code


def kpi_table(
    data_dir: str | os.PathLike,
    period: Period,
    level: Level = "district",
    tier: Tier = "both",
    unit_codes: Sequence[str] | None = None,
    by_field: bool = False,
    source: Source = "auto",
    era: str = units.ERA_PRE_2025,
) -> pd.DataFrame:
    """Counts plus every catalogue rate, one row per unit, with names and period bounds."""
    from cchc_analysis.counting.aggregates import mark_undefined

    counts = count_table(data_dir, period, level, tier, unit_codes, by_field, source, era)
    table = mark_undefined(add_metrics(counts))
    if "unit_name" not in table:
        table.insert(1, "unit_name", [unit_label(c, level, era) for c in table["unit_code"]])
    table["period_start"] = period.start.isoformat()
    table["period_end"] = period.end.isoformat()
    return table


def kpi_records(table: pd.DataFrame) -> list[dict]:
    """JSON-ready records: NaN becomes None, numpy scalars become Python numbers."""
    records = []
    for row in table.to_dict(orient="records"):
        clean = {}
        for key, value in row.items():
            if value is pd.NA or (isinstance(value, float | np.floating) and np.isnan(value)):
                clean[key] = None
            elif isinstance(value, np.integer):
                clean[key] = int(value)
            elif isinstance(value, np.floating):
                clean[key] = float(value)
            elif isinstance(value, pd.Timestamp):
                clean[key] = value.date().isoformat()
            else:
                clean[key] = value
        records.append(clean)
    return records


def load_cube(data_dir: str | os.PathLike, district_codes: Sequence[str] | None = None):
    """The monthly cube of the folder (rows of the given districts), built on the fly if absent.

    Building on the fly reads only the districts asked for, so a single report stays cheap
    even when ``cchc prepare`` has not run.
    """
    from cchc_analysis.counting.cube import build_cube

    if district_codes is None:
        cube = store.read_table(data_dir, store.CUBE_FILE)
    else:
        cube = store.read_table_rows(data_dir, store.CUBE_FILE, "district_code", district_codes)
    if cube is not None:
        return cube
    frame = store.read_dossiers(data_dir, district_codes, columns=COUNT_READ_COLUMNS)
    return build_cube(frame)


def monthly_counts(
    data_dir: str | os.PathLike,
    start,
    end,
    level: Level = "district",
    tier: Tier = "both",
    unit_codes: Sequence[str] | None = None,
    extra_keys: Sequence[str] = (),
) -> pd.DataFrame:
    """Counts per unit × month from the cube, with rates; carried over from cumulative flows.

    ``start``/``end`` bound the months returned (the carried-over stock still accounts for
    everything before ``start``). ``extra_keys`` (e.g. "channel") split the rows further.
    """
    districts, communes = _district_codes_for(data_dir, level, unit_codes)
    cube = load_cube(data_dir, districts)
    cube = _filter_tier(cube, level, tier)
    if communes is not None:
        cube = cube[cube["unit_code"].isin(communes)]
    group_key = "district_code" if level == "district" else "unit_code"
    keys = [group_key, *extra_keys]
    from cchc_analysis.counting.cube import CUBE_FLOW_COLUMNS, CUBE_STOCK_COLUMNS

    columns = [*CUBE_FLOW_COLUMNS, *CUBE_STOCK_COLUMNS]
    grouped = cube.groupby([*keys, "month"], observed=True)[columns].sum().reset_index()
    # Dense months per group so that cumulative sums and charts have no holes.
    months = pd.date_range(grouped["month"].min(), pd.Timestamp(end), freq="MS")
    frames = []
    for key_values, part in grouped.groupby(keys, observed=True):
        part = part.set_index("month").reindex(months).rename_axis("month")
        for key, value in zip(
            keys, key_values if isinstance(key_values, tuple) else (key_values,), strict=True
        ):
            part[key] = value
        part[columns] = part[columns].fillna(0).astype("int64")
        # Stocks are dense in the cube only where something is pending; holes mean zero.
        opened_before = part["received_new_count"].cumsum() - part["received_new_count"]
        closed_before = part["closed_count"].cumsum() - part["closed_count"]
        part["carried_over_count"] = opened_before - closed_before
        frames.append(part.reset_index())
    out = pd.concat(frames, ignore_index=True) if frames else grouped.iloc[0:0]
    out = out[
        (out["month"] >= pd.Timestamp(start).to_period("M").to_timestamp())
        & (out["month"] <= pd.Timestamp(end))
    ]
    out["received_total_count"] = out["received_new_count"] + out["carried_over_count"]
    out["resolved_total_count"] = (
        out["resolved_early_count"] + out["resolved_on_time_count"] + out["resolved_late_count"]
    )
    out["pending_total_count"] = out["pending_in_time_count"] + out["pending_late_count"]
    out = out.rename(columns={group_key: "unit_code"})
    return add_metrics(out.reset_index(drop=True))
