"""KPIs from aggregate rows (period_reports.parquet) when a folder holds no dossiers.

A province may only have its Biểu 06 sheets. Their counts answer a period exactly when one
report has that period's exact start and end, or when consecutive reports of a unit cover it
exactly (three monthly reports make a quarter): flows are summed, carried-over comes from the
first report and pending from the last. Anything else (a period that cuts through a report)
cannot be answered from aggregates and is a clear error, never an estimate.
"""

from __future__ import annotations

import os
from collections.abc import Hashable, Iterable, Sequence
from datetime import timedelta
from typing import Any, cast

import numpy as np
import pandas as pd

from cchc_analysis import store, units
from cchc_analysis.core.errors import PeriodReportError
from cchc_analysis.core.metrics import (
    DERIVED_COUNTS,
    KNOWN_COUNT_COLUMNS,
    RATE_DEFINITIONS,
    TABLE_COUNT_COLUMNS,
    fill_known_counts,
)
from cchc_analysis.core.periods import Period
from cchc_analysis.core.schema import COUNT_COLUMNS, EXTRA_COUNT_COLUMNS
from cchc_analysis.counting.query import CountQuery
from cchc_analysis.store.tables import coerce_period_reports

# Counted over the period: summed across consecutive reports.
FLOW_COLUMNS = (
    "received_new_count",
    "received_online_count",
    "received_offline_count",
    "resolved_early_count",
    "resolved_on_time_count",
    "resolved_late_count",
    *(c for c in EXTRA_COUNT_COLUMNS if c not in ("timely_766_count", "waiting_late_766_count")),
    *KNOWN_COUNT_COLUMNS,  # how many rows gave each optional count (fill_known_counts)
)
START_STOCK_COLUMNS = ("carried_over_count",)  # from the first report of a chain
END_STOCK_COLUMNS = (  # from the last
    "pending_in_time_count",
    "pending_late_count",
    "waiting_late_766_count",
)


def read_period_reports(data_dir: str | os.PathLike[str]) -> pd.DataFrame | None:
    """The folder's period reports with counts as nullable integers, or None."""
    frame = store.read_table(data_dir, store.PERIOD_REPORTS_FILE)
    if frame is None:
        return None

    return coerce_period_reports(frame)


def _collapse_fields(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per unit × report period: the unit's own total row when the sheet has one,
    else the sum of its per-field rows."""
    keys = ["unit_code", "period_start", "period_end"]
    has_total = frame["field"].isna()
    totals_keys = set(map(tuple, frame.loc[has_total, keys].astype(str).to_numpy()))
    is_field_row = ~has_total
    covered = np.array(
        [tuple(k) in totals_keys for k in frame[keys].astype(str).to_numpy()], dtype=bool
    )
    usable = frame[has_total | (is_field_row & ~covered)]
    other = [c for c in usable.columns if c not in (*keys, *TABLE_COUNT_COLUMNS, "field")]
    grouped = usable.groupby(keys, sort=True, dropna=False)
    counts = grouped[list(TABLE_COUNT_COLUMNS)].sum(min_count=1)
    labels = grouped[other].first()
    out = counts.join(labels).reset_index()
    out["field"] = pd.array([pd.NA] * len(out), dtype="string")
    return out


def _chain(reports: pd.DataFrame, period: Period) -> list[Hashable] | None:
    """Row labels of consecutive reports from ``period.start`` to ``period.end`` exactly
    (fewest reports first), or None when they do not cover it."""
    start, end = pd.Timestamp(period.start), pd.Timestamp(period.end)
    by_start: dict[pd.Timestamp, list[tuple[pd.Timestamp, Hashable]]] = {}
    for label, row in reports.iterrows():
        by_start.setdefault(row["period_start"], []).append((row["period_end"], label))
    frontier: list[tuple[pd.Timestamp, list[Hashable]]] = [(start, [])]
    seen = {start}
    while frontier:
        next_frontier = []
        for day, path in frontier:
            for stop, label in sorted(by_start.get(day, []), key=lambda x: x[0], reverse=True):
                if stop == end:
                    return [*path, label]
                nxt = stop + timedelta(days=1)
                if stop < end and nxt not in seen:
                    seen.add(nxt)
                    next_frontier.append((nxt, [*path, label]))
        frontier = next_frontier
    return None


def _combine(chain: pd.DataFrame) -> dict[str, Any]:
    """Counts of consecutive reports as one period."""
    out: dict[str, Any] = {c: chain[c].sum(min_count=1) for c in FLOW_COLUMNS}
    out.update({c: chain[c].iloc[0] for c in START_STOCK_COLUMNS})
    out.update({c: chain[c].iloc[-1] for c in END_STOCK_COLUMNS})
    # Resolutions (a flow) and pending dossiers (a stock) within the 766 deadline in one count:
    # one report's stands, a chain's cannot be told (metrics then uses the form's parts).
    out["timely_766_count"] = chain["timely_766_count"].iloc[0] if len(chain) == 1 else pd.NA
    out["received_total_count"] = out["received_new_count"] + out["carried_over_count"]
    out["resolved_total_count"] = (
        out["resolved_early_count"] + out["resolved_on_time_count"] + out["resolved_late_count"]
    )
    out["pending_total_count"] = out["pending_in_time_count"] + out["pending_late_count"]
    return out


def _describe_coverage(frame: pd.DataFrame) -> str:
    spans = frame.groupby(["period_start", "period_end"]).size().sort_index()
    # pandas-stubs type a MultiIndex label as Hashable; here it is (start, end).
    pairs = cast(Iterable[tuple[tuple[pd.Timestamp, pd.Timestamp], int]], spans.head(6).items())
    listed = [f"{a:%Y-%m-%d}:{b:%Y-%m-%d} ({n} rows)" for (a, b), n in pairs]
    more = f" and {len(spans) - 6} more" if len(spans) > 6 else ""
    return ", ".join(listed) + more


def period_report_counts(data_dir: str | os.PathLike[str], query: CountQuery) -> pd.DataFrame:
    """Biểu 06 counts per unit (× field) from period reports, shaped like
    ``kpis.count_table``: unit_code, [field], period_start, period_end, count columns.

    District level sums a district's own row (tier district) and its communes' rows (tier
    commune), as for dossiers; province level (era 2025) a province's own rows and its
    communes'. Count columns a sheet did not give are NA, and the known counts say which rows
    gave them (``metrics.fill_known_counts``). The query's source is not used.
    """
    period, level, tier, era = query.period, query.level, query.tier, query.era
    unit_codes, by_field = query.unit_codes, query.by_field
    frame = read_period_reports(data_dir)
    if frame is None:
        raise PeriodReportError(f"{data_dir} holds no {store.PERIOD_REPORTS_FILE}")
    frame = fill_known_counts(frame[frame["era"] == era])
    if level == "commune":
        frame = frame[frame["unit_level"] == "commune"]
        group_key = "unit_code"
    elif level == "district":
        tiers = ("district", "commune") if tier == "both" else (tier,)
        frame = frame[frame["unit_level"].isin(tiers) & frame["district_code"].notna()]
        group_key = "district_code"
    elif level == "province":
        # The province's own rows and its communes' rows, summed (as a district's tiers are).
        frame = frame[frame["unit_level"].isin(("province", "commune"))].copy()
        frame["district_code"] = [
            units.get_unit(code, era=era, level=lvl).province_code
            for code, lvl in zip(frame["unit_code"], frame["unit_level"], strict=True)
        ]
        group_key = "district_code"
    else:
        raise ValueError(f"unknown level {level!r}")
    if unit_codes:
        wanted = list(unit_codes)
        present = set(frame["unit_code"].dropna()) | set(frame["district_code"].dropna())
        missing = [c for c in wanted if c not in present]
        if missing:
            raise PeriodReportError(
                f"unit {', '.join(missing)} has no period reports in {data_dir} "
                f"(units present: {', '.join(sorted(present)[:12]) or 'none'})"
            )
        if level in ("district", "province"):
            frame = frame[frame["district_code"].isin(wanted)]
        else:
            frame = frame[frame["unit_code"].isin(wanted) | frame["district_code"].isin(wanted)]
    if not by_field:
        frame = _collapse_fields(frame)
    unit_keys = ["unit_code", "field"] if by_field else ["unit_code"]
    start, end = pd.Timestamp(period.start), pd.Timestamp(period.end)
    rows = []
    partial = []
    for key, reports in frame.groupby(unit_keys, sort=True, dropna=False):
        overlaps = (reports["period_start"] <= end) & (reports["period_end"] >= start)
        if not overlaps.any():
            continue
        chain = _chain(reports, period)
        if chain is None:
            partial.append(str(key[0] if isinstance(key, tuple) else key))
            continue
        combined = _combine(reports.loc[chain])
        first = reports.loc[chain[0]]  # type: ignore[call-overload]  # stubs: a label is Hashable
        combined.update({"unit_code": first["unit_code"], "district_code": first["district_code"]})
        if by_field:
            combined["field"] = first["field"]
        rows.append(combined)
    if partial:
        raise PeriodReportError(
            f"period {period} ({period.start}:{period.end}) cuts through the period reports of "
            f"unit {', '.join(sorted(set(partial))[:8])}; reports cover "
            f"{_describe_coverage(frame)}"
        )
    if not rows:
        raise PeriodReportError(
            f"no period report in {data_dir} covers {period} ({period.start}:{period.end}); "
            f"reports cover {_describe_coverage(frame) or 'nothing at this level'}"
        )
    counts = pd.DataFrame(rows)
    keys = [group_key, "field"] if by_field else [group_key]
    out = counts.groupby(keys, sort=True, dropna=False)[list(TABLE_COUNT_COLUMNS)].sum(min_count=1)
    out = out.reset_index().rename(columns={group_key: "unit_code"})
    for column in COUNT_COLUMNS:
        # pandas-stubs: pd.array takes no Series with a masked dtype name (valid at run time).
        out[column] = pd.array(out[column], dtype="Int64")  # type: ignore[call-overload]
    out = out[out["received_total_count"].fillna(0) > 0]
    position = 2 if by_field else 1
    out.insert(position, "period_start", pd.Timestamp(period.start))
    out.insert(position + 1, "period_end", pd.Timestamp(period.end))
    return out.reset_index(drop=True)


def mark_undefined(table: pd.DataFrame) -> pd.DataFrame:
    """After ``metrics.add_metrics``: a rate or derived count whose inputs are missing (a
    sheet without that column) becomes missing instead of 0; counts with gaps become nullable
    integers (Int64) so that JSON, CSV and the console show them as missing. A no-op without
    gaps."""
    counts = [c for c in table.columns if c.endswith("_count") and c in COUNT_COLUMNS]
    # One missing-value mask of every column asked about, taken once: a report asks for
    # one-row tables a dozen times, where pandas' per-column calls were the whole cost.
    asked = sorted(
        {c for c in counts}
        | {p for name, parts in DERIVED_COUNTS.items() if name in table for p in parts}
        | {
            c
            for rate in RATE_DEFINITIONS
            if rate.name in table
            for c in (*rate.numerator, rate.denominator)
        }
    )
    present = [c for c in asked if c in table]
    missing = dict(zip(present, table[present].isna().to_numpy().T, strict=True))
    if not any(missing[c].any() for c in counts):
        return table
    nowhere = np.zeros(len(table), dtype=bool)

    def gaps(columns: Sequence[str]) -> np.ndarray:
        # A column absent from the table raises KeyError, as pandas' indexing did.
        return np.asarray(np.logical_or.reduce([nowhere, *(missing[c] for c in columns)]))

    out = table.copy()
    for name, parts in DERIVED_COUNTS.items():
        if name in out:
            out[name] = out[name].astype(object).where(~gaps(parts), None)
    for rate in RATE_DEFINITIONS:
        if rate.name in out:
            out[rate.name] = out[rate.name].where(
                ~gaps([*rate.numerator, rate.denominator]), np.nan
            )
    for column in counts:
        if missing[column].any():  # nullable integers: whole numbers in JSON, blanks in CSV
            out[column] = pd.to_numeric(out[column], errors="coerce").astype("Int64")
        else:
            out[column] = out[column].astype("int64")
    return out
