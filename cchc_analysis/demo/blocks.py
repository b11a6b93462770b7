"""A block of units generated together from its own random streams, and its dossier rows.

A block is what one pair of random generators (seeded from the seed and the block's key) makes:
an old district (its offices and communes), an old province's own offices, the new communes
of one old district's area after the reform, or the new province's offices. The generator
(``synth``) lays the blocks out; this module turns one block into rows: arrivals, procedures,
channels, outcomes, the export cut, statuses, flags and ratings, then the canonical columns.
Calibration hooks run inside: the published quarters (``cells``), a new commune's window
(``window_cells``) and an old province's within-deadline rate (``late_goal``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from cchc_analysis.core.schema import CHANNELS, ONLINE_LEVELS, RATINGS, STATUSES
from cchc_analysis.core.workdays import add_working_days
from cchc_analysis.demo.arrivals import draw_arrivals, intensities
from cchc_analysis.demo.calibration import (
    CalibratedCell,
    LateShareGoal,
    calibrate_late_share,
    calibrate_outcomes,
    calibrate_window,
)
from cchc_analysis.demo.catalogue import PROCEDURES, DistrictProfile, UnitInfo, procedure_table
from cchc_analysis.demo.model import (
    CHANNEL_CODE,
    NAT,
    ONLINE_LEVEL_CODE,
    RATING_CODE,
    REJECTED,
    RESULT,
    STATUS_CODE,
    WITHDRAWN,
    sigmoid,
    trend_years,
    working_day_on_or_before,
)
from cchc_analysis.demo.outcomes import (
    Streams,
    UnitParams,
    draw_channels,
    draw_outcomes,
    draw_procedures,
    solve_channel_levels,
    solve_online_level,
)


@dataclass
class Block:
    """Units generated together, and what their rows carry.

    ``key`` seeds the block's generators after the seed (an old district's is its code alone,
    as before eras existed); arrivals run from ``first_day`` to ``last_day``; rows received
    before ``window_start`` are kept only when still open on it. ``volume`` (per unit, new
    dossiers in the reference quarter) defaults to the profile's.
    """

    key: tuple[int, ...]
    units: tuple[UnitInfo, ...]
    profile: DistrictProfile
    first_day: np.datetime64
    last_day: np.datetime64
    window_start: np.datetime64
    era: str
    province_code: str
    district_code: str | None
    volume: np.ndarray | None = None
    cells: list[CalibratedCell] = field(default_factory=list)
    window_cells: list[tuple[CalibratedCell, dict[str, int]]] = field(default_factory=list)
    late_goal: LateShareGoal | None = None


def _categorical(codes: np.ndarray, categories: Sequence[str]) -> pd.Categorical:
    """Codes of fixed categories as a pandas categorical."""
    # pandas-stubs want the categories as an Index; a tuple is valid at run time.
    column: pd.Categorical = pd.Categorical.from_codes(codes, categories)  # type: ignore[call-overload]
    return column


def _dictionary_strings(
    values: Sequence[str | None], index: np.ndarray
) -> pd.arrays.ArrowStringArray:
    """A string column from a small list of values and an index per row (no Python loop)."""
    taken = pc.take(pa.array(list(values), type=pa.large_string()), pa.array(index))
    return pd.arrays.ArrowStringArray(taken)


def _dossier_ids(
    unit_codes: Sequence[str], unit: np.ndarray, received: np.ndarray
) -> pd.arrays.ArrowStringArray:
    """``<unit code>-<yymmdd>-<sequence of the day, 4 digits>``, as one-stop systems number."""
    key = unit.astype(np.int64) * 100_000 + (received - received.min()).astype(np.int64)
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    first = np.r_[True, sorted_key[1:] != sorted_key[:-1]]
    run_start = np.maximum.accumulate(np.where(first, np.arange(len(key)), 0))
    seq = np.empty(len(key), dtype=np.int64)
    seq[order] = np.arange(len(key)) - run_start + 1
    day_values, day_index = np.unique(received, return_inverse=True)
    day_text = pc.strftime(pa.array(day_values.astype("datetime64[s]")), format="%y%m%d")
    parts = [
        pc.take(pa.array(list(unit_codes), type=pa.large_string()), pa.array(unit)),
        pc.take(day_text.cast(pa.large_string()), pa.array(day_index.ravel())),
        pc.utf8_lpad(pc.cast(pa.array(seq), pa.large_string()), width=4, padding="0"),
    ]
    return pd.arrays.ArrowStringArray(
        pc.binary_join_element_wise(*parts, pa.scalar("-", pa.large_string()))
    )


def block_rows(seed: int, block: Block, export: np.datetime64, calibrate: bool) -> pd.DataFrame:
    """All dossiers of one block (canonical columns, not yet coerced)."""
    rng = np.random.default_rng([int(seed), *block.key, 1])
    cal_rng = np.random.default_rng([int(seed), *block.key, 99])
    profile, unit_info = block.profile, block.units
    window_start = block.window_start
    days = np.arange(block.first_day, block.last_day + 1)
    cells = block.cells
    window_cells = [cell for cell, _ in block.window_cells]
    levels_of_unit = np.array([u.level for u in unit_info])
    tiers_of_unit = np.array([u.tier for u in unit_info])

    lam = intensities(rng, profile, unit_info, days, volume=block.volume)
    for cell in window_cells:  # the unit's level: its expected count in the window is exact
        cols = (days >= cell.start) & (days <= cell.end)
        lam[cell.unit_mask] *= (
            cell.target.received_new_count / lam[np.ix_(cell.unit_mask, cols)].sum()
        )
    unit, received = draw_arrivals(rng, cal_rng, lam, days, [*cells, *window_cells], calibrate)
    n = len(unit)
    level = levels_of_unit[unit]
    cal_rows = np.zeros(n, dtype=bool)
    for cell in [*cells, *window_cells]:
        cell.rows = cell.unit_mask[unit]
        cell.new_rows = cell.rows & (received >= cell.start) & (received <= cell.end)
        cal_rows |= cell.new_rows
    streams = Streams(rng, cal_rng, cal_rows)
    params = UnitParams.draw(rng, len(unit_info))
    for cell in cells:
        solve_channel_levels(profile, params, lam, days, cell)
    for cell in window_cells:
        solve_online_level(profile, params, lam, days, tiers_of_unit, levels_of_unit, cell)
    t = trend_years(received)
    proc = draw_procedures(streams, tiers_of_unit[unit])
    channel, online_level = draw_channels(
        streams, cal_rng, profile, params, unit, level, proc, t, [*cells, *window_cells], calibrate
    )
    due, closed, kind = draw_outcomes(streams, profile, params, unit, level, proc, received, t)
    if calibrate:
        for cell in cells:
            calibrate_outcomes(cal_rng, cell, received, due, closed, kind)
        for cell, carried in block.window_cells:
            calibrate_window(cal_rng, cell, carried, received, due, closed, kind)
        if block.late_goal is not None:
            rows = np.ones(n, dtype=bool)
            calibrate_late_share(cal_rng, rows, block.late_goal, received, due, closed, kind)

    # The export cut: what closes after it is still open in the export.
    is_open = closed > export
    closed = np.where(is_open, NAT, closed)
    late = ~is_open & (closed > due)
    result = ~is_open & (kind == RESULT)
    online = channel == CHANNEL_CODE["online"]
    full = online_level == ONLINE_LEVEL_CODE["full"]
    partial = online_level == ONLINE_LEVEL_CODE["partial"]

    e_result_share = np.where(full, 0.92, np.where(partial, sigmoid(-2.0 + 0.8 * t), 0.0))
    has_e_result = result & (streams.random() < e_result_share)
    # Return: electronic results go out the same day; paper ones when the citizen comes.
    lag = streams.draw("geometric", 0.45) - 1
    lag = np.where(has_e_result & (streams.random() < 0.85), 0, lag)
    never_collected = streams.random() < 0.01
    returned = add_working_days(np.where(result, closed, received), lag)
    returned = np.where(result & ~never_collected & (returned <= export), returned, NAT)

    # Status, from the dates.
    status = np.full(n, STATUS_CODE["processing"], dtype=np.int8)
    status[result] = STATUS_CODE["resolved"]
    status[result & ~np.isnat(returned)] = STATUS_CODE["returned"]
    status[~is_open & (kind == WITHDRAWN)] = STATUS_CODE["withdrawn"]
    status[~is_open & (kind == REJECTED)] = STATUS_CODE["rejected"]
    fresh = is_open & (received >= working_day_on_or_before(export - 1))
    status[fresh & (streams.random() < 0.6)] = STATUS_CODE["received"]
    waiting = is_open & ~fresh & (streams.random() < np.where(export > due, 0.4, 0.2))
    status[waiting] = STATUS_CODE["supplement_requested"]

    # Flags.
    table = procedure_table()
    is_digitized = streams.random() < sigmoid(profile.digitization_start + 1.2 * t)
    is_fee = streams.random() < table["fee_share"][proc]
    pay_logit = -1.3 + 1.3 * t + np.where(online, 0.8, -1.2)
    is_paid_online = is_fee & (streams.random() < sigmoid(pay_logit))

    # Portal ratings on a fraction of the resolved; lateness breeds dissatisfaction.
    rated = result & (
        streams.random() < np.clip(0.04 + 0.04 * t, 0.02, 0.2) * np.where(online, 1.5, 0.6)
    )
    dissatisfied = streams.random() < np.where(late, 0.35, profile.dissatisfied_share)
    very = streams.random() < 0.62
    rating = np.where(
        dissatisfied, RATING_CODE["dissatisfied"],
        np.where(very, RATING_CODE["very_satisfied"], RATING_CODE["satisfied"]),
    )  # fmt: skip
    rating = np.where(rated, rating, -1)

    # Rows received before the window stay only when still open on its first day.
    keep = (received >= window_start) | is_open | (closed >= window_start)
    idx = np.flatnonzero(keep)

    codes = [u.code for u in unit_info]
    names = [u.name for u in unit_info]
    unique_codes = list(dict.fromkeys(codes))  # a new commune is two units with one code
    code_of_unit = np.array([unique_codes.index(c) for c in codes])
    proc_codes = [p.code for p in PROCEDURES]
    proc_names = [p.name for p in PROCEDURES]
    proc_fields = [p.field for p in PROCEDURES]
    unit_k = unit[idx]
    zeros = np.zeros(len(idx), np.int64)
    proc_k = proc[idx]
    columns: dict[str, Any] = {
        "dossier_id": _dossier_ids(unique_codes, code_of_unit[unit[idx]], received[idx]),
        "unit_code": _dictionary_strings(codes, unit_k),
        "unit_name": _dictionary_strings(names, unit_k),
        "district_code": _dictionary_strings([block.district_code], zeros),
        "unit_level": _dictionary_strings([u.unit_level for u in unit_info], unit_k),
        "era": _dictionary_strings([block.era], zeros),
        "province_code": _dictionary_strings([block.province_code], zeros),
        "procedure_code": _dictionary_strings(proc_codes, proc_k),
        "procedure_name": _dictionary_strings(proc_names, proc_k),
        "field": _dictionary_strings(proc_fields, proc_k),
        "channel": _categorical(channel[idx], CHANNELS),
        "online_level": _categorical(online_level[idx], ONLINE_LEVELS),
        "received_at": received[idx].astype("datetime64[ms]"),
        "due_at": due[idx].astype("datetime64[ms]"),
        "resolved_at": closed[idx].astype("datetime64[ms]"),
        "returned_at": returned[idx].astype("datetime64[ms]"),
        "status": _categorical(status[idx], STATUSES),
        "is_digitized": pd.array(is_digitized[idx], dtype="boolean"),
        "has_e_result": pd.array(has_e_result[idx], dtype="boolean"),
        "is_fee_bearing": pd.array(is_fee[idx], dtype="boolean"),
        "is_paid_online": pd.array(is_paid_online[idx], dtype="boolean"),
        "rating": _categorical(rating[idx], RATINGS),
    }
    return pd.DataFrame(columns, copy=False)
