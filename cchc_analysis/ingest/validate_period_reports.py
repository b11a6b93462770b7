"""Row checks of a period report (Biểu 06 counts per unit): raw cells in, canonical
period-report rows out (:data:`PERIOD_REPORT_COLUMNS`), and a reason for every row left out.

The form's identities (total = early + on time + late, ...) fill a column a sheet leaves out
and are checked where the sheet gives every part. Each row's period comes from ``--period``,
else its period columns, else the sheet's title; its unit is read in the registry of the
period's era, and may be a province, district or commune.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import pandas as pd

from cchc_analysis import units
from cchc_analysis.core.errors import ParseError
from cchc_analysis.core.periods import Period
from cchc_analysis.core.schema import COUNT_COLUMNS
from cchc_analysis.ingest.parsing import (
    find_period,
    parse_count,
    parse_datetime,
    show,
)
from cchc_analysis.ingest.problems import Problems, optional_text, parse_cells
from cchc_analysis.ingest.unit_matching import resolve_units
from cchc_analysis.store.tables import PERIOD_REPORT_COLUMNS, coerce_period_reports
from cchc_analysis.units.registry import era_of

_IDENTITIES: Final = (
    (
        "resolved_total_count",
        ("resolved_early_count", "resolved_on_time_count", "resolved_late_count"),
        "resolved total",
    ),
    ("received_total_count", ("received_new_count", "carried_over_count"), "received total"),
    ("pending_total_count", ("pending_in_time_count", "pending_late_count"), "pending total"),
    ("received_new_count", ("received_online_count", "received_offline_count"), "received new"),
)
_SHORT: Final = {
    "resolved_early_count": "early",
    "resolved_on_time_count": "on time",
    "resolved_late_count": "late",
    "received_new_count": "new",
    "carried_over_count": "carried over",
    "pending_in_time_count": "in time",
    "pending_late_count": "late",
    "received_online_count": "online",
    "received_offline_count": "offline",
}
# What a sheet must give, directly or through the identities above.
PERIOD_REPORT_REQUIRED: Final = (
    "received_new_count",
    "carried_over_count",
    "resolved_early_count",
    "resolved_on_time_count",
    "resolved_late_count",
    "pending_in_time_count",
    "pending_late_count",
)


def derivable_counts(columns: Sequence[str]) -> set[str]:
    """Count columns a sheet gives directly or that follow from the Biểu 06 identities."""
    have = set(columns) & set(COUNT_COLUMNS)
    changed = True
    while changed:
        changed = False
        for total, parts, _ in _IDENTITIES:
            if total not in have and all(p in have for p in parts):
                have.add(total)
                changed = True
            missing = [p for p in parts if p not in have]
            if total in have and len(missing) == 1 and len(parts) == 2:
                have.add(missing[0])
                changed = True
    return have


def _derive(counts: dict[str, pd.Series]) -> dict[str, int]:
    """Fill missing totals (sum of parts) and a missing part (total minus the other part).

    Returns, for each derived column, the index of the identity that produced it: that
    identity holds by construction and is not checked, the others still are.
    """
    derived: dict[str, int] = {}
    changed = True
    while changed:
        changed = False
        for index, (total, parts, _) in enumerate(_IDENTITIES):
            if total not in counts and all(p in counts for p in parts):
                counts[total] = sum((counts[p] for p in parts[1:]), counts[parts[0]])
                derived[total] = index
                changed = True
            missing = [p for p in parts if p not in counts]
            if total in counts and len(missing) == 1 and len(parts) == 2:
                other = parts[1] if missing[0] == parts[0] else parts[0]
                counts[missing[0]] = counts[total] - counts[other]
                derived[missing[0]] = index
                changed = True
    return derived


def validate_period_reports(
    raw: pd.DataFrame,
    headers: dict[str, str],
    *,
    period: Period | None,
    title_period: Period | None = None,
    province: str | None = None,
    unit: str | None = None,
) -> tuple[pd.DataFrame, Problems]:
    """Canonical period-report rows (:data:`PERIOD_REPORT_COLUMNS`) and the problems.

    Blank count cells in a row that has counts are zeros (forms leave zeros empty); the
    period comes from ``period`` (``--period``), else the row's period columns, else the
    sheet title.
    """
    raw = raw.reset_index(drop=True)
    problems = Problems()
    h = {c: headers.get(c, c) for c in (*PERIOD_REPORT_COLUMNS, "period_label")}
    counts: dict[str, pd.Series] = {}
    for column in COUNT_COLUMNS:
        if column not in raw:
            continue
        values = parse_cells(raw, column, parse_count, problems, header=h[column])
        counts[column] = pd.to_numeric(values.fillna(0), errors="coerce").astype("int64")
    given = set(counts)
    derived = _derive(counts)
    for index, (total, parts, label) in enumerate(_IDENTITIES):
        involved = (total, *parts)
        if not all(c in counts for c in involved) or index in {derived.get(c) for c in involved}:
            continue
        summed = sum((counts[p] for p in parts[1:]), counts[parts[0]])
        bad = (counts[total] != summed).to_numpy()
        if bad.any():
            detail = [
                f"{label} {counts[total].iat[i]} ≠ "
                + " + ".join(f"{_SHORT[p]} {counts[p].iat[i]}" for p in parts)
                + f" (= {summed.iat[i]})"
                for i in range(len(raw))
            ]
            problems.add_mask(
                bad,
                h[total],
                "parts_do_not_add_up",
                pd.Series([f"parts do not add up: {d}" for d in detail], index=raw.index),
            )
    negative = [c for c in counts if c not in given]
    for column in negative:
        bad = (counts[column] < 0).to_numpy()
        problems.add_mask(
            bad,
            h.get(column, column),
            "parts_do_not_add_up",
            pd.Series(f"derived {column} is negative: parts exceed the total", index=raw.index),
        )

    starts, ends = _row_periods(raw, h, period, title_period, problems)
    eras = pd.Series(
        [era_of(s.date()) if isinstance(s, pd.Timestamp) else units.ERA_PRE_2025 for s in starts],
        index=raw.index,
    )
    unit_raw = raw
    if unit is not None:
        unit_raw = raw.assign(unit_code=unit)
    matches = resolve_units(
        unit_raw, eras, province=province, levels=("province", "district", "commune")
    )
    header = h["unit_code"] if "unit_code" in raw else h["unit_name"]
    matches.add_problems(problems, header if unit is None else "--unit")
    unit_columns = matches.unit_columns()
    frame = pd.DataFrame(
        {
            **unit_columns,
            "field": optional_text(raw, "field"),
            "period_start": pd.to_datetime(pd.Series(starts, index=raw.index)),
            "period_end": pd.to_datetime(pd.Series(ends, index=raw.index)),
            **{c: counts.get(c, pd.Series(pd.NA, index=raw.index)) for c in COUNT_COLUMNS},
        },
        index=raw.index,
    )
    return coerce_period_reports(frame[problems.passed(len(raw))]), problems


def _row_periods(
    raw: pd.DataFrame,
    h: dict[str, str],
    period: Period | None,
    title_period: Period | None,
    problems: Problems,
) -> tuple[list[pd.Timestamp | None], list[pd.Timestamp | None]]:
    """Each row's period (start, end) as day timestamps; None where it cannot be read."""
    n = len(raw)
    if period is not None:
        return [pd.Timestamp(period.start)] * n, [pd.Timestamp(period.end)] * n
    starts: list[pd.Timestamp | None] = [None] * n
    ends: list[pd.Timestamp | None] = [None] * n
    if "period_start" in raw and "period_end" in raw:
        for i, (a, b) in enumerate(zip(raw["period_start"], raw["period_end"], strict=True)):
            try:
                start, end = parse_datetime(a), parse_datetime(b)
            except ParseError as exc:
                problems.add([i], h["period_start"], "bad_period", [str(exc)])
                continue
            if start is None or end is None or end < start:
                problems.add(
                    [i], h["period_start"], "bad_period", [f"period {show(a)} – {show(b)}"]
                )
                continue
            starts[i], ends[i] = start.normalize(), end.normalize()
        return starts, ends
    if "period_label" in raw:
        for i, value in enumerate(raw["period_label"]):
            found = find_period(value)
            if found is None:
                problems.add([i], h["period_label"], "bad_period", [f"period {show(value)}"])
                continue
            starts[i], ends[i] = pd.Timestamp(found.start), pd.Timestamp(found.end)
        return starts, ends
    if title_period is not None:
        return [pd.Timestamp(title_period.start)] * n, [pd.Timestamp(title_period.end)] * n
    raise ValueError("no period")  # the caller checks for this before validating
