"""Counting dossiers: Biểu 06 period counts, and the monthly cube that serves trends.

Definitions, for a period [start, end] counted in whole days (DESIGN.md §4):

- new: received within the period; carried over: received before ``start`` and not closed
  before ``start``; received total = new + carried over.
- closed = has a ``resolved_at`` date. Closed with status withdrawn/stopped/rejected is
  ``withdrawn_count``; any other closure is a resolution. A withdrawn or stopped dossier whose
  export gives no date closed on the day it was received (a later snapshot's date, when the
  store has one, is its ``resolved_at``).
- never received (awaiting intake, refused at intake): outside every count above, counted
  apart as ``awaiting_intake_count`` / ``refused_count`` in the period of their date.
- early / on time / late: resolved within the period with resolved date before / on / after
  the due date.
- pending at the end: in scope and not closed by ``end``; in time when due on or after
  ``end``, late when due before it.

So received_total = resolved_total + withdrawn + pending_total, always.

The 766 progress criterion (``deadline766``) judges the same resolutions and pending stocks
against each dossier's 766 deadline: ``timely_766_count`` are those within it, and
``waiting_late_766_count`` the dossiers pending at the end, waiting for the citizen's
supplement, and late under it (on time for provinces that count waiting as on time).

Optional export columns (channel, online level, digitised, fee-bearing, paid online, the
applicant's home unit behind ``out_of_area_count``) may be absent or blank: a blank is never
counted as "no". Beside each count that reads one, a known count (``metrics.COVERAGES``:
``digitized_known_count`` …) says how many of its base rows had it, so rates are taken over
those rows and a unit without the column has no rate, not 0%.

Period counts computed from dossier rows are exact for any day-aligned period. The monthly
cube holds flows per month (and month-end pending stocks) per unit × field × channel; it gives
the same counts for month-aligned periods at a fraction of the cost, which the tests check.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import cast

import numpy as np
import numpy.typing as npt
import pandas as pd

from cchc_analysis.core.metrics import KNOWN_COUNT_COLUMNS, TABLE_COUNT_COLUMNS, fill_known_counts
from cchc_analysis.core.periods import Period
from cchc_analysis.core.schema import (
    CLOSED_WITHOUT_DATE_STATUSES,
    CLOSED_WITHOUT_RESULT_STATUSES,
)
from cchc_analysis.counting.deadline766 import due_766, waiting_bounds

# The dossier columns the counting rules read.
CUBE_INPUT_COLUMNS = (
    "unit_code",
    "unit_level",
    "field",
    "channel",
    "online_level",
    "received_at",
    "due_at",
    "resolved_at",
    "status",
    "is_digitized",
    "is_fee_bearing",
    "is_paid_online",
    "rating",
    "supplement_requested_at",
    "supplement_returned_at",
    "supplement_count",
    "is_out_of_area",
)
# What counting reads from dossier rows: the above, plus the names and partition key reports show.
COUNT_READ_COLUMNS = ("unit_name", "era", "district_code", *CUBE_INPUT_COLUMNS)
# A unit is (era, unit_code): the 2025 reform reused old commune numbers for new communes.
CUBE_KEYS = ("era", "district_code", "unit_level", "unit_code", "field", "channel")
# Flow columns of the cube: summed over the months of a period.
CUBE_FLOW_COLUMNS = (
    "received_new_count",
    "received_online_count",
    "received_offline_count",
    "online_full_count",
    "online_partial_count",
    "digitized_count",
    "fee_bearing_count",
    "paid_online_count",
    "resolved_early_count",
    "resolved_on_time_count",
    "resolved_late_count",
    "withdrawn_count",
    "rated_count",
    "satisfied_count",
    "closed_count",
    "refused_count",
    "awaiting_intake_count",
    "resolved_timely_766_count",
    "out_of_area_count",
    *KNOWN_COUNT_COLUMNS,
)
# Stock columns: the state at the month's last day; a period takes its last month's value.
CUBE_STOCK_COLUMNS = (
    "pending_in_time_count",
    "pending_late_count",
    "pending_timely_766_count",
    "waiting_late_766_count",
)


def has_cube_columns(cube: pd.DataFrame) -> bool:
    """False for a cube written by an older version (it lacks counts this one needs): count
    from dossier rows instead, and let ``cchc prepare`` rebuild it."""
    return all(c in cube for c in (*CUBE_FLOW_COLUMNS, *CUBE_STOCK_COLUMNS))


def closing_days(dossiers: pd.DataFrame, received: np.ndarray) -> np.ndarray:
    """The day each dossier closed (NaT while open): ``resolved_at``, or for a withdrawn or
    stopped dossier whose export gives no date, the day it was received."""
    closed_at = _day(dossiers["resolved_at"])
    undated = np.isnat(closed_at) & _isin(dossiers["status"], CLOSED_WITHOUT_DATE_STATUSES)
    closed_at[undated] = received[undated]
    return closed_at


def _day(values: pd.Series) -> np.ndarray:
    return np.asarray(
        values.to_numpy(dtype="datetime64[ns]", na_value=np.datetime64("NaT")),
        dtype="datetime64[D]",
    )


def dossier_flags(dossiers: pd.DataFrame, start: date, end: date) -> pd.DataFrame:
    """Per-dossier booleans for the period: which count each dossier falls in.

    Kept separate from the aggregation so researchers can inspect why a dossier counts.
    """
    s, e = np.datetime64(start, "D"), np.datetime64(end, "D")
    received = _day(dossiers["received_at"])
    due = _day(dossiers["due_at"])
    closed_at = closing_days(dossiers, received)
    has_closed = ~np.isnat(closed_at)
    # Tests on the category codes, not on the values made text (a copy of every row).
    status = dossiers["status"]
    without_result = _isin(status, CLOSED_WITHOUT_RESULT_STATUSES)
    is_refused = _isin(status, frozenset({"refused"}))
    is_awaiting = _isin(status, frozenset({"awaiting_intake"}))
    is_received = ~is_refused & ~is_awaiting

    in_period = (received >= s) & (received <= e)
    is_new = in_period & is_received
    is_carried = is_received & (received < s) & (~has_closed | (closed_at >= s))
    in_scope = is_new | is_carried
    closed_in = in_scope & has_closed & (closed_at >= s) & (closed_at <= e)
    resolved_in = closed_in & ~without_result
    pending = in_scope & (~has_closed | (closed_at > e))
    due766 = due_766(dossiers, closed_at=closed_at)
    wait_from, wait_until = waiting_bounds(
        dossiers,
        received=received,
        has_waiting_status=_isin(status, frozenset({"supplement_requested"})),
    )
    waiting = (wait_from <= e) & (np.isnat(wait_until) | (wait_until > e))
    pending_timely = pending & (due766 >= e)

    is_online = _isin(dossiers["channel"], frozenset({"online"}))
    is_full = _isin(dossiers["online_level"], frozenset({"full"}))
    is_partial = _isin(dossiers["online_level"], frozenset({"partial"}))
    rating = dossiers.get("rating")

    def flag(name: str) -> np.ndarray:
        if name not in dossiers:
            return np.zeros(len(dossiers), dtype=bool)
        return dossiers[name].fillna(False).to_numpy(dtype=bool)

    def known(name: str) -> np.ndarray:
        if name not in dossiers:
            return np.zeros(len(dossiers), dtype=bool)
        return dossiers[name].notna().to_numpy(dtype=bool)

    is_new_online = is_new & is_online
    rated = resolved_in & (rating.notna().to_numpy() if rating is not None else False)
    satisfied = rated & (
        _isin(rating, frozenset({"satisfied", "very_satisfied"})) if rating is not None else False
    )
    return pd.DataFrame(
        {
            "received_new_count": is_new,
            "received_online_count": is_new_online,
            "received_offline_count": is_new & ~is_online & known("channel"),
            "carried_over_count": is_carried,
            "received_total_count": in_scope,
            "resolved_early_count": resolved_in & (closed_at < due),
            "resolved_on_time_count": resolved_in & (closed_at == due),
            "resolved_late_count": resolved_in & (closed_at > due),
            "resolved_total_count": resolved_in,
            "pending_in_time_count": pending & (due >= e),
            "pending_late_count": pending & (due < e),
            "pending_total_count": pending,
            "online_full_count": is_new & is_online & is_full,
            "online_partial_count": is_new & is_online & is_partial,
            "withdrawn_count": closed_in & without_result,
            "digitized_count": is_new & flag("is_digitized"),
            "fee_bearing_count": is_new & flag("is_fee_bearing"),
            "paid_online_count": is_new & flag("is_fee_bearing") & flag("is_paid_online"),
            "rated_count": rated,
            "satisfied_count": satisfied,
            "refused_count": in_period & is_refused,
            "awaiting_intake_count": in_period & is_awaiting,
            "timely_766_count": (resolved_in & (closed_at <= due766)) | pending_timely,
            "waiting_late_766_count": pending & waiting & ~pending_timely,
            "out_of_area_count": is_new & flag("is_out_of_area"),
            "channel_known_count": is_new & known("channel"),
            "online_level_known_count": is_new_online & known("online_level"),
            "digitized_known_count": is_new & known("is_digitized"),
            "fee_known_count": is_new & known("is_fee_bearing"),
            "paid_online_known_count": is_new & flag("is_fee_bearing") & known("is_paid_online"),
            "home_unit_known_count": is_new & known("is_out_of_area"),
        },
        index=dossiers.index,
    )


def period_counts(
    dossiers: pd.DataFrame,
    period: Period,
    by: Sequence[str] = ("unit_code",),
) -> pd.DataFrame:
    """Biểu 06 counts (and the extra counts) per group for one period, from dossier rows."""
    flags = dossier_flags(dossiers, period.start, period.end).astype("int64")
    keys = list(by)
    if keys:
        grouped = flags.join(dossiers[keys]).groupby(keys, observed=True, sort=True, dropna=False)
        out = grouped[list(TABLE_COUNT_COLUMNS)].sum().reset_index()
    else:
        out = flags[list(TABLE_COUNT_COLUMNS)].sum().to_frame().T
    out.insert(len(keys), "period_start", pd.Timestamp(period.start))
    out.insert(len(keys) + 1, "period_end", pd.Timestamp(period.end))
    return out


def _month_index(days: np.ndarray) -> np.ndarray:
    """Months since 1970-01 for each day (NaT -> a large sentinel)."""
    months = days.astype("datetime64[M]").astype("int64")
    return np.where(np.isnat(days), np.iinfo(np.int64).max // 2, months)


def build_cube(
    dossiers: pd.DataFrame,
    keys: Sequence[str] = CUBE_KEYS,
    horizon: date | pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Monthly counts per ``keys`` × month: flows by month of event, month-end pending stocks.

    Months run from the first receipt to ``horizon`` (default: the last date in the data, i.e.
    the export); a cube answers only periods that end by its horizon, because the pending
    stocks after it are unknown. Build the partitions of one folder with one horizon.

    The stocks are accumulated with difference arrays over each dossier's open months, so the
    cost is linear in the number of dossiers.
    """
    keys = [k for k in keys if k in dossiers]
    if dossiers.empty:
        return pd.DataFrame(columns=[*keys, "month", *CUBE_FLOW_COLUMNS, *CUBE_STOCK_COLUMNS])
    received = _day(dossiers["received_at"])
    due = _day(dossiers["due_at"])
    closed_at = closing_days(dossiers, received)
    without_result = _isin(dossiers["status"], CLOSED_WITHOUT_RESULT_STATUSES)
    is_refused = _isin(dossiers["status"], {"refused"})
    is_awaiting = _isin(dossiers["status"], {"awaiting_intake"})
    is_received = ~is_refused & ~is_awaiting
    due766 = due_766(dossiers, closed_at=closed_at)
    wait_from, wait_until = waiting_bounds(
        dossiers,
        received=received,
        has_waiting_status=_isin(dossiers["status"], {"supplement_requested"}),
    )
    closed_at[~is_received] = np.datetime64("NaT")  # never received: never open, never closed
    has_closed = ~np.isnat(closed_at)
    is_online = _isin(dossiers["channel"], {"online"})
    is_full = _isin(dossiers["online_level"], {"full"})
    is_partial = _isin(dossiers["online_level"], {"partial"})
    has_rating = dossiers["rating"].notna().to_numpy()
    is_satisfied = _isin(dossiers["rating"], {"satisfied", "very_satisfied"})

    def flag(name: str) -> np.ndarray:
        if name not in dossiers:
            return np.zeros(len(dossiers), dtype=bool)
        return dossiers[name].fillna(False).to_numpy(dtype=bool)

    def known(name: str) -> np.ndarray:
        if name not in dossiers:
            return np.zeros(len(dossiers), dtype=bool)
        return dossiers[name].notna().to_numpy(dtype=bool)

    group, index = _group_ids(dossiers, keys)
    n_groups = len(index)

    first_month = int(_month_index(received).min())
    last_day = np.nanmax(
        np.concatenate([received.astype("int64"), closed_at[has_closed].astype("int64")]).astype(
            "float64"
        )
    )
    last_month = int(np.datetime64(int(last_day), "D").astype("datetime64[M]").astype("int64"))
    if horizon is not None:
        horizon_month = int(np.datetime64(pd.Timestamp(horizon).date(), "M").astype("int64"))
        last_month = max(last_month, horizon_month)
    n_months = last_month - first_month + 1

    size = n_groups * n_months
    rec_cell = group * n_months + (_month_index(received) - first_month)
    close_m = _month_index(closed_at)
    close_cell = np.where(has_closed, group * n_months + (close_m - first_month), 0)

    def count(cells: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return np.bincount(cells[mask], minlength=size).reshape(n_groups, n_months)

    def new_in_month(mask: np.ndarray) -> np.ndarray:
        """New dossiers by month of receipt, the never-received left out."""
        return count(rec_cell, is_received & mask)

    resolved = has_closed & ~without_result
    is_fee = flag("is_fee_bearing")
    flows = {
        "received_new_count": new_in_month(is_received),
        "received_online_count": new_in_month(is_online),
        "received_offline_count": new_in_month(~is_online & known("channel")),
        "online_full_count": new_in_month(is_online & is_full),
        "online_partial_count": new_in_month(is_online & is_partial),
        "digitized_count": new_in_month(flag("is_digitized")),
        "fee_bearing_count": new_in_month(is_fee),
        "paid_online_count": new_in_month(is_fee & flag("is_paid_online")),
        "resolved_early_count": count(close_cell, resolved & (closed_at < due)),
        "resolved_on_time_count": count(close_cell, resolved & (closed_at == due)),
        "resolved_late_count": count(close_cell, resolved & (closed_at > due)),
        "withdrawn_count": count(close_cell, has_closed & without_result),
        "rated_count": count(close_cell, resolved & has_rating),
        "satisfied_count": count(close_cell, resolved & has_rating & is_satisfied),
        "closed_count": count(close_cell, has_closed),
        "refused_count": count(rec_cell, is_refused),
        "awaiting_intake_count": count(rec_cell, is_awaiting),
        "resolved_timely_766_count": count(close_cell, resolved & (closed_at <= due766)),
        "out_of_area_count": new_in_month(flag("is_out_of_area")),
        "channel_known_count": new_in_month(known("channel")),
        "online_level_known_count": new_in_month(is_online & known("online_level")),
        "digitized_known_count": new_in_month(known("is_digitized")),
        "fee_known_count": new_in_month(known("is_fee_bearing")),
        "paid_online_known_count": new_in_month(is_fee & known("is_paid_online")),
        "home_unit_known_count": new_in_month(known("is_out_of_area")),
    }

    # Month-end stocks. A dossier is pending at the end of month m when received by then and
    # not closed by then: months [rec_m, close_m). It is in time while month end <= due date:
    # months < due_m, plus due_m itself when the due date is that month's last day.
    open_from = _month_index(received) - first_month
    open_to = np.where(has_closed, close_m - first_month, n_months)
    open_to = np.where(is_received, open_to, open_from)  # never received: never pending

    def in_time_until(deadline: np.ndarray) -> np.ndarray:
        """First month at whose end the deadline has passed, within the open months."""
        deadline_m = _month_index(deadline) - first_month
        is_month_end = (deadline + 1).astype("datetime64[M]") != deadline.astype("datetime64[M]")
        until: np.ndarray = np.clip(deadline_m + is_month_end.astype(np.int64), open_from, open_to)
        return until

    in_time_to = in_time_until(due)
    timely_to = in_time_until(due766)
    # Waiting at a month's end: requested by then, not answered by then.
    wait_lo = np.clip(_month_index(wait_from) - first_month, open_from, open_to)
    wait_hi = np.clip(
        np.where(np.isnat(wait_until), n_months, _month_index(wait_until) - first_month),
        open_from,
        open_to,
    )

    def stock(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        width = n_months + 1
        mask = hi > lo
        starts = np.bincount(group[mask] * width + lo[mask], minlength=n_groups * width)
        ends = np.bincount(group[mask] * width + hi[mask], minlength=n_groups * width)
        diff = (starts - ends).reshape(n_groups, width)
        return np.cumsum(diff, axis=1)[:, :n_months]

    stocks = {
        "pending_in_time_count": stock(open_from, in_time_to),
        "pending_late_count": stock(in_time_to, open_to),
        "pending_timely_766_count": stock(open_from, timely_to),
        "waiting_late_766_count": stock(np.maximum(wait_lo, timely_to), wait_hi),
    }

    months = (np.arange(n_months) + first_month).astype("datetime64[M]").astype("datetime64[ns]")
    data = {name: grid.ravel() for name, grid in {**flows, **stocks}.items()}
    out = index.loc[np.repeat(np.arange(n_groups), n_months)].reset_index(drop=True)
    out["month"] = np.tile(months, n_groups)
    for name, values in data.items():
        out[name] = values
    # numpy's stubs type any(axis=...) as "a bool or an array"; on a 2-D array it is an array.
    activity = cast(
        npt.NDArray[np.bool_], out[[*CUBE_FLOW_COLUMNS, *CUBE_STOCK_COLUMNS]].to_numpy().any(axis=1)
    )
    # Keep a row where anything happened or anything is pending (stocks must stay dense).
    return out[activity].reset_index(drop=True)


def _isin(values: pd.Series, wanted: set[str] | frozenset[str]) -> np.ndarray:
    """Membership test that works on category codes when it can (no string conversion)."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        hits = [i for i, c in enumerate(values.cat.categories) if c in wanted]
        return np.isin(values.cat.codes.to_numpy(), hits)
    return values.isin(list(wanted)).fillna(False).to_numpy(dtype=bool)


def _group_ids(frame: pd.DataFrame, keys: Sequence[str]) -> tuple[np.ndarray, pd.DataFrame]:
    """Dense group number per row over ``keys`` (missing values form their own group), and
    the key values of each group."""
    if not keys:
        return np.zeros(len(frame), dtype=np.int64), pd.DataFrame(index=[0])
    combined = np.zeros(len(frame), dtype=np.int64)
    levels = []
    for key in keys:
        codes, uniques = pd.factorize(frame[key], use_na_sentinel=False)
        levels.append(uniques)
        combined = combined * len(uniques) + codes
    unique_combined, group = np.unique(combined, return_inverse=True)
    columns = {}
    remainder = unique_combined
    for key, uniques in zip(reversed(keys), reversed(levels), strict=True):
        remainder, code = np.divmod(remainder, len(uniques))
        columns[key] = np.asarray(uniques, dtype=object)[code]
    index = pd.DataFrame({key: columns[key] for key in keys})
    for key in keys:
        index[key] = index[key].astype("string")
    return group.astype(np.int64), index


def period_counts_from_cube(
    cube: pd.DataFrame,
    period: Period,
    by: Sequence[str] = ("unit_code",),
    *,
    horizon: pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Biểu 06 counts for a month-aligned period from the monthly cube.

    carried over = all received before the period − all closed before it; pending stocks come
    from the period's last month. ``horizon`` is the whole cube's last month when ``cube`` is a
    selection of its rows (a selection may fall silent before the cube ends).
    """
    if not period.is_month_aligned:
        raise ValueError(f"period {period} is not month-aligned; count from dossier rows")
    keys = list(by)
    cube = fill_known_counts(cube)  # a cube built before the known counts: all known
    start = pd.Timestamp(period.start)
    last_month = pd.Timestamp(period.end).to_period("M").to_timestamp()
    month = pd.to_datetime(cube["month"])
    last_known = pd.Timestamp(horizon) if horizon is not None else month.max()
    if len(month) and last_month > last_known:
        raise ValueError(
            f"period {period} ends after the cube's last month {last_known:%Y-%m}; "
            "count from dossier rows"
        )
    before = cube[month < start]
    within = cube[(month >= start) & (month <= last_month)]
    at_end = cube[month == last_month]

    def sums(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
        if keys:
            return frame.groupby(keys, observed=True, dropna=False)[list(columns)].sum()
        return frame[list(columns)].sum().to_frame().T

    flows = sums(within, CUBE_FLOW_COLUMNS)
    prior = sums(before, ["received_new_count", "closed_count"])
    stocks = sums(at_end, CUBE_STOCK_COLUMNS)
    prior = prior.add_suffix("_before")
    out = flows.join(prior, how="outer").join(stocks, how="outer")
    out = out.fillna(0).astype("int64")
    out["carried_over_count"] = out["received_new_count_before"] - out["closed_count_before"]
    out["received_total_count"] = out["received_new_count"] + out["carried_over_count"]
    out["resolved_total_count"] = (
        out["resolved_early_count"] + out["resolved_on_time_count"] + out["resolved_late_count"]
    )
    out["pending_total_count"] = out["pending_in_time_count"] + out["pending_late_count"]
    out["timely_766_count"] = out["resolved_timely_766_count"] + out["pending_timely_766_count"]
    out = out[list(TABLE_COUNT_COLUMNS)]
    in_scope = out["received_total_count"] > 0
    out = out[in_scope].reset_index() if keys else out.reset_index(drop=True)
    out.insert(len(keys), "period_start", pd.Timestamp(period.start))
    out.insert(len(keys) + 1, "period_end", pd.Timestamp(period.end))
    return out
