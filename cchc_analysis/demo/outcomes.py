"""Outcomes: per dossier the procedure, channel and online level, deadline, closing day and kind.

Per-unit random effects are drawn once per unit (:class:`UnitParams`), so row counts never
shift them; per-row draws come through :class:`Streams`, which keeps the calibrated rows on
their own generator. Processing time is ``floor(deadline × r)`` with ``r`` lognormal around the
unit's speed, or around 1 for the few dossiers that run into trouble (the late tail).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from cchc_analysis.core.workdays import add_working_days
from cchc_analysis.demo.calibration import CalibratedCell, fix_count, solve_shift
from cchc_analysis.demo.catalogue import LEVELS, DistrictProfile, procedure_table
from cchc_analysis.demo.model import (
    CHANNEL_CODE,
    ONLINE_LEVEL_CODE,
    POSTAL_SHARE,
    REJECTED,
    RESULT,
    SIGMA_R,
    WITHDRAWN,
    logit,
    sigmoid,
    trend_years,
)
from cchc_analysis.demo.published import CalibrationTarget


class Streams:
    """Per-row random draws from two generators: the calibrated cells' rows from their own.

    The rows a calibration target is about (a tier's dossiers received in the quarter) draw
    from ``cal``; all other rows from ``main``. So how many rows the calibrated quarter has, and
    every choice the calibration makes, leaves the other rows' draws exactly as they were.
    """

    def __init__(self, main: np.random.Generator, cal: np.random.Generator, cal_rows: np.ndarray):
        self.main, self.cal, self.cal_rows = main, cal, cal_rows
        self.main_rows = ~cal_rows
        self.n = len(cal_rows)

    def draw(self, name: str, *args: Any) -> np.ndarray:
        parts = []
        for gen, rows in ((self.main, self.main_rows), (self.cal, self.cal_rows)):
            sliced = [a[rows] if np.ndim(a) else a for a in args]
            parts.append(getattr(gen, name)(*sliced, size=int(rows.sum())))
        out = np.empty(self.n, dtype=np.result_type(*parts))
        out[self.main_rows], out[self.cal_rows] = parts
        return out

    def random(self) -> np.ndarray:
        return self.draw("random")

    def normal(self, loc: Any = 0.0, scale: Any = 1.0) -> np.ndarray:
        return self.draw("normal", loc, scale)


def draw_procedures(streams: Streams, tier: np.ndarray) -> np.ndarray:
    """Procedure index per row, from its tier's mix (``tier``: an index of ``LEVELS``)."""
    table = procedure_table()
    u = streams.random()
    out = np.empty(len(tier), dtype=np.int64)
    for lvl in range(len(LEVELS)):
        rows = np.flatnonzero(tier == lvl)
        idx = np.flatnonzero(table["level_index"] == lvl)
        cum = np.cumsum(table["share"][idx])
        draws = np.searchsorted(cum / cum[-1], u[rows], side="right")
        out[rows] = idx[np.minimum(draws, len(idx) - 1)]
    return out


@dataclass
class UnitParams:
    """Per-unit random effects (drawn once per unit, so row counts never shift them)."""

    online: np.ndarray  # added to the tier's online_start (logit)
    slope: np.ndarray  # multiplies the tier's online_slope
    full: np.ndarray  # added to the logit of the full-online share
    speed: np.ndarray  # added to the tier's speed (log)

    @classmethod
    def draw(cls, rng: np.random.Generator, n_units: int) -> UnitParams:
        return cls(
            online=rng.normal(0.0, 0.3, n_units),
            slope=np.exp(rng.normal(0.0, 0.1, n_units)),
            full=rng.normal(0.0, 0.3, n_units),
            speed=rng.normal(0.0, 0.25, n_units),
        )


def online_logits(
    profile: DistrictProfile,
    params: UnitParams,
    unit: np.ndarray,
    level: np.ndarray,
    proc: np.ndarray,
    t: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Logits of P(online) and P(full | online) for each (unit, procedure, time)."""
    table = procedure_table()
    start = np.asarray(profile.online_start)[level] + params.online[unit]
    slope = np.asarray(profile.online_slope)[level] * params.slope[unit]
    online = start + slope * t + table["online_offset"][proc]
    full = logit(table["full_share"][proc]) + 0.35 * t + params.full[unit]
    return online, full


def solve_channel_levels(
    profile: DistrictProfile,
    params: UnitParams,
    lam: np.ndarray,
    days: np.ndarray,
    cell: CalibratedCell,
) -> None:
    """Shift the cell units' online and full-online levels so the expected counts are exact.

    The expectation runs over the quarter's intensities and the tier's procedure mix, so it
    does not depend on the rows drawn; the shift applies to the units' whole series.
    """
    table = procedure_table()
    tgt = cell.target
    if not isinstance(tgt, CalibrationTarget):
        raise TypeError(f"solve_channel_levels takes a CalibrationTarget, not {tgt!r}")
    cols = (days >= cell.start) & (days <= cell.end)
    units_idx = np.flatnonzero(cell.unit_mask)
    procs = np.flatnonzero(table["level_index"] == LEVELS.index(tgt.unit_level))
    grid = np.meshgrid(units_idx, np.flatnonzero(cols), procs, indexing="ij")
    u, d, p = (axis.ravel() for axis in grid)
    weight = lam[u, d] * table["share"][p]
    weight *= tgt.received_new_count / weight.sum()
    level = np.full(len(u), LEVELS.index(tgt.unit_level))
    on_logit, full_logit = online_logits(profile, params, u, level, p, trend_years(days[d]))
    shift = solve_shift(on_logit, tgt.received_online_count, weights=weight)
    can_full = table["full_share"][p] > 0
    on_weight = weight * sigmoid(on_logit + shift) * can_full
    full_shift = solve_shift(full_logit, tgt.online_full_count, weights=on_weight)
    params.online[units_idx] += shift
    params.full[units_idx] += full_shift


def solve_online_level(
    profile: DistrictProfile,
    params: UnitParams,
    lam: np.ndarray,
    days: np.ndarray,
    tiers: np.ndarray,
    levels: np.ndarray,
    cell: CalibratedCell,
) -> None:
    """Shift the cell units' online level so the expected online count is exact (the online
    share only; units may receive procedures of several tiers: ``tiers``, ``levels`` per unit)."""
    table = procedure_table()
    tgt = cell.target
    cols = np.flatnonzero((days >= cell.start) & (days <= cell.end))
    units_idx = np.flatnonzero(cell.unit_mask)
    grid = np.meshgrid(units_idx, cols, np.arange(len(table["share"])), indexing="ij")
    u, d, p = (axis.ravel() for axis in grid)
    weight = lam[u, d] * table["share"][p] * (tiers[u] == table["level_index"][p])
    keep = weight > 0
    u, d, p, weight = u[keep], d[keep], p[keep], weight[keep]
    weight *= tgt.received_new_count / weight.sum()
    on_logit, _ = online_logits(profile, params, u, levels[u], p, trend_years(days[d]))
    params.online[units_idx] += solve_shift(on_logit, tgt.received_online_count, weights=weight)


def draw_channels(
    streams: Streams,
    cal_rng: np.random.Generator,
    profile: DistrictProfile,
    params: UnitParams,
    unit: np.ndarray,
    level: np.ndarray,
    proc: np.ndarray,
    t: np.ndarray,
    cells: Sequence[CalibratedCell],
    calibrate: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """Channel and online level codes per row; calibrated cells get their exact counts."""
    table = procedure_table()
    on_logit, full_logit = online_logits(profile, params, unit, level, proc, t)
    p_online = sigmoid(on_logit)
    p_full = np.where(table["full_share"][proc] > 0, sigmoid(full_logit), 0.0)
    online = streams.random() < p_online
    full_draw = streams.random() < p_full
    postal = streams.random() < POSTAL_SHARE
    if calibrate:
        for cell in cells:
            new = np.flatnonzero(cell.new_rows)
            tgt = cell.target
            online[new] = fix_count(cal_rng, online[new], p_online[new], tgt.received_online_count)
            if tgt.online_full_count is None:
                continue
            on_rows = new[online[new]]
            full_draw[on_rows] = fix_count(
                cal_rng, full_draw[on_rows], p_full[on_rows], tgt.online_full_count
            )
    full = online & full_draw
    channel = np.where(online, CHANNEL_CODE["online"], CHANNEL_CODE["in_person"])
    channel = np.where(~online & postal, CHANNEL_CODE["postal"], channel)
    online_level = np.where(
        online,
        np.where(full, ONLINE_LEVEL_CODE["full"], ONLINE_LEVEL_CODE["partial"]),
        ONLINE_LEVEL_CODE["none"],
    )
    return channel.astype(np.int8), online_level.astype(np.int8)


def draw_outcomes(
    streams: Streams,
    profile: DistrictProfile,
    params: UnitParams,
    unit: np.ndarray,
    level: np.ndarray,
    proc: np.ndarray,
    received: np.ndarray,
    t: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Deadline, closing day (before the export cut) and outcome kind per row.

    Working days taken = floor(deadline × r): r lognormal around the unit's speed, or, for the
    few dossiers that run into trouble, around 1 (the late tail).
    """
    table = procedure_table()
    deadline = table["deadline_days"][proc]
    due = add_working_days(received, deadline)
    log_r = (
        np.asarray(profile.speed)[level]
        + params.speed[unit]
        + table["complexity"][proc]
        - 0.08 * t  # offices get a little faster every year
        + SIGMA_R * streams.normal()
    )
    problem = streams.random() < np.asarray(profile.problem_rate)[level]
    log_r = np.where(problem, streams.normal(0.05, 0.45), log_r)
    worked = np.floor(deadline * np.exp(np.minimum(log_r, 4.0))).astype(np.int64)
    u = streams.random()
    kind = np.where(
        u < profile.withdrawn_rate * 0.6,
        WITHDRAWN,
        np.where(u < profile.withdrawn_rate, REJECTED, RESULT),
    ).astype(np.int8)
    quick = np.floor(streams.random() * (np.minimum(deadline, 10) + 1)).astype(np.int64)
    worked = np.where(kind == RESULT, worked, quick)
    closed = add_working_days(received, np.minimum(worked, 500))
    return due, closed, kind
