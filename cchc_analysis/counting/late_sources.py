"""Where a unit's late dossiers come from: late and overdue-pending counts per source.

A leader's question is "who needs help": which offices or communes, which fields (lĩnh vực)
and which procedures (thủ tục) produce the late dossiers. The counts come from the unit's own
dossier rows with the counting rules of :mod:`~cchc_analysis.counting.cube`, so they add up to
the unit's own Biểu 06 figures: every late dossier belongs to exactly one source row of each
grouping. Dossiers received by the unit's own offices (a district's offices, a province's
departments) form their own source row (``OFFICE_SOURCE``) beside the communes, so nothing falls
between the tiers; a blank field or procedure is its own row (``UNKNOWN``), never dropped.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from cchc_analysis.core.periods import Period
from cchc_analysis.counting.cube import dossier_flags
from cchc_analysis.units import ERA_PRE_2025

# The dossier columns these counts read (the counting rules' inputs and the groupings).
LATE_SOURCE_COLUMNS = (
    "era",
    "unit_code",
    "unit_level",
    "field",
    "procedure_code",
    "procedure_name",
    "channel",
    "online_level",
    "received_at",
    "due_at",
    "resolved_at",
    "status",
    "rating",
)
# The source row of dossiers received by the unit's own offices rather than a commune.
OFFICE_SOURCE = "__offices__"
# A blank field, procedure or unit: kept as a row of its own.
UNKNOWN = "__unknown__"
# What each grouping is keyed by.
GROUPINGS = ("source", "field", "procedure")
# Bounds (days past the deadline) of the overdue-pending bands, and their keys.
OVERDUE_BANDS = ((1, 7, "upto_7"), (8, 30, "8_to_30"), (31, None, "over_30"))

LATE_COUNTS = (
    "received_total_count",
    "resolved_total_count",
    "resolved_late_count",
    "pending_total_count",
    "pending_late_count",
)


def in_scope_window(period: Period) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The receipt dates to read for ``period``: everything received by its end (a dossier
    carried over from any earlier period can be resolved late or be pending in it)."""
    return pd.Timestamp("1900-01-01"), pd.Timestamp(period.end)


def source_key(dossiers: pd.DataFrame) -> pd.Series:
    """Who received each dossier: its commune's code, or ``OFFICE_SOURCE`` for the unit's own
    offices (unit_level district or province)."""
    level = dossiers["unit_level"].astype("string")
    unit = dossiers["unit_code"].astype("string").fillna(UNKNOWN)
    is_office = level.isin(["district", "province"]).fillna(False)
    return unit.where(~is_office, OFFICE_SOURCE)


def _keys(dossiers: pd.DataFrame, grouping: str) -> pd.DataFrame:
    if grouping == "source":  # codes are reused across eras: the era names the commune
        era = dossiers["era"].astype("string") if "era" in dossiers else None
        return pd.DataFrame(
            {
                "source": source_key(dossiers),
                "source_era": ERA_PRE_2025 if era is None else era.fillna(ERA_PRE_2025),
            }
        )
    if grouping == "field":
        return pd.DataFrame({"field": dossiers["field"].astype("string").fillna(UNKNOWN)})
    if grouping == "procedure":
        code = dossiers["procedure_code"].astype("string")
        name = dossiers["procedure_name"].astype("string")
        return pd.DataFrame(
            {
                "procedure_code": code.fillna(UNKNOWN),
                "procedure_name": name.fillna(code).fillna(UNKNOWN),
                "field": dossiers["field"].astype("string").fillna(UNKNOWN),
            }
        )
    raise ValueError(f"grouping must be one of {GROUPINGS}, not {grouping!r}")


def late_sources(
    dossiers: pd.DataFrame, period: Period, grouping: str, *, flags: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Late and overdue-pending counts and rates per source (``grouping``: "source", "field"
    or "procedure"), worst first: most late plus overdue pending, then the higher late rate.

    ``late_rate`` = late / resolved; ``pending_late_share`` = overdue pending / pending.
    Groups with neither late nor overdue-pending dossiers are left out; the sums of
    ``resolved_late_count`` and ``pending_late_count`` over the rows are the unit's own.
    ``flags``: the dossiers' ``dossier_flags`` for the period, when already computed.
    """
    keys = _keys(dossiers, grouping)
    columns = list(keys.columns)
    if dossiers.empty:
        return pd.DataFrame(columns=[*columns, *LATE_COUNTS, "late_rate", "pending_late_share"])
    if flags is None:
        flags = dossier_flags(dossiers, period.start, period.end)
    counts = (
        flags[list(LATE_COUNTS)]
        .astype("int64")
        .join(keys)
        .groupby(columns, sort=False)[list(LATE_COUNTS)]
        .sum()
        .reset_index()
    )
    return worst_first(counts, columns[0])


def worst_first(counts: pd.DataFrame, key: str) -> pd.DataFrame:
    """Rows of ``LATE_COUNTS`` with late or overdue-pending dossiers, with their rates, worst
    first: most late plus overdue pending, then the higher late rate, then ``key``."""
    counts = counts[(counts["resolved_late_count"] + counts["pending_late_count"]) > 0]
    resolved = counts["resolved_total_count"].where(counts["resolved_total_count"] > 0)
    pending = counts["pending_total_count"].where(counts["pending_total_count"] > 0)
    counts = counts.assign(
        late_rate=counts["resolved_late_count"] / resolved,
        pending_late_share=counts["pending_late_count"] / pending,
        attention_count=counts["resolved_late_count"] + counts["pending_late_count"],
    )
    counts = counts.sort_values(
        ["attention_count", "late_rate", key],
        ascending=[False, False, True],
        na_position="last",
        kind="stable",
    )
    return counts.drop(columns="attention_count").reset_index(drop=True)


def overdue_pending(
    dossiers: pd.DataFrame, period: Period, *, flags: pd.DataFrame | None = None
) -> pd.DataFrame:
    """The dossiers still pending past their deadline at the period's end, with how long:
    ``overdue_days`` calendar days from the deadline to the period's last day (at least 1: a
    leader asks "how long", and a deadline that fell on a day off is still passed), the band
    (``OVERDUE_BANDS``) it falls in, and its source, field and procedure. ``flags``: the
    dossiers' ``dossier_flags`` for the period, when already computed."""
    if dossiers.empty:
        return pd.DataFrame(
            columns=["source", "field", "procedure_name", "due_at", "overdue_days", "band"]
        )
    if flags is None:
        flags = dossier_flags(dossiers, period.start, period.end)
    late = dossiers[flags["pending_late_count"].to_numpy()]
    due = late["due_at"].to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")
    days = (np.datetime64(period.end, "D") - due).astype("int64")
    keys = _keys(late, "procedure")
    return pd.DataFrame(
        {
            "source": source_key(late).to_numpy(),
            "field": keys["field"].to_numpy(),
            "procedure_name": keys["procedure_name"].to_numpy(),
            "due_at": late["due_at"].to_numpy(),
            "overdue_days": days,
            "band": [overdue_band(int(d)) for d in days],
        }
    ).sort_values("overdue_days", ascending=False, kind="stable", ignore_index=True)


def overdue_band(days: int) -> str:
    """The key of the band ``days`` (days past the deadline) falls in."""
    for low, high, key in OVERDUE_BANDS:
        if days >= low and (high is None or days <= high):
            return key
    return OVERDUE_BANDS[0][2]


def overdue_summary(overdue: pd.DataFrame) -> pd.DataFrame:
    """How many overdue-pending dossiers fall in each band (every band, zeros included)."""
    counts = overdue["band"].value_counts() if len(overdue) else pd.Series(dtype="int64")
    return pd.DataFrame(
        {
            "band": [key for _, _, key in OVERDUE_BANDS],
            "pending_late_count": [int(counts.get(key, 0)) for _, _, key in OVERDUE_BANDS],
        }
    )


def late_sources_by(
    dossiers: pd.DataFrame,
    period: Period,
    groupings: Sequence[str] = GROUPINGS,
    *,
    flags: pd.DataFrame | None = None,
) -> dict[str, pd.DataFrame]:
    """``late_sources`` for each grouping, the counting rules applied once (``flags``: the
    dossiers' ``dossier_flags`` for the period, when already computed)."""
    if flags is None and len(dossiers):
        flags = dossier_flags(dossiers, period.start, period.end)
    return {g: late_sources(dossiers, period, g, flags=flags) for g in groupings}
