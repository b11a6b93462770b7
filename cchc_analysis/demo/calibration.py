"""Calibration: nudging the drawn rows so the calibrated quarters show the published counts.

The generic tools (solve a logit shift so expected counts are exact, flip the fewest rows to
an exact count, pick rows with weights) and the last step of the calibration: moving the fewest
closing dates and outcome kinds so the quarter's carried-over, pending, withdrawn and late
counts are exact. A :class:`CalibratedCell` maps one target onto a district's arrays. Rows
of a cell draw from their own random stream, so calibrating never changes the other rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from cchc_analysis.demo.catalogue import LEVELS, UnitInfo
from cchc_analysis.demo.model import (
    REJECTED,
    RESULT,
    WITHDRAWN,
    quarter_bounds,
    sigmoid,
    working_day_on_or_after,
    working_day_on_or_before,
)
from cchc_analysis.demo.published import CALIBRATION, CalibrationTarget


def pick_rows(
    rng: np.random.Generator, candidates: np.ndarray, weights: np.ndarray, k: int
) -> np.ndarray:
    """``k`` of ``candidates`` without replacement, with probability growing with ``weights``.

    Efraimidis–Spirakis keys, so a zero weight is picked only when nothing else is left.
    """
    if k <= 0:
        return candidates[:0]
    if k > len(candidates):
        raise CalibrationError(f"need {k} rows to adjust, only {len(candidates)} can be")
    w = np.maximum(np.asarray(weights, dtype=np.float64), 1e-12)
    keys = np.log(rng.random(len(candidates))) / w
    return candidates[np.argsort(-keys, kind="stable")[:k]]


def fix_count(
    rng: np.random.Generator, selected: np.ndarray, prob: np.ndarray, target: int
) -> np.ndarray:
    """Flip the fewest rows so that exactly ``target`` are selected.

    Rows dropped are picked in proportion to 1 - prob, rows added in proportion to prob: the
    rows the model found least likely to be where they are move first.
    """
    selected = selected.copy()
    have = int(selected.sum())
    if have > target:
        drop = pick_rows(rng, np.flatnonzero(selected), 1 - prob[selected], have - target)
        selected[drop] = False
    elif have < target:
        add = pick_rows(rng, np.flatnonzero(~selected), prob[~selected], target - have)
        selected[add] = True
    return selected


def solve_shift(base_logit: np.ndarray, target: float, weights: np.ndarray | None = None) -> float:
    """Shift s so that the (weighted) sum of sigmoid(base_logit + s) equals ``target``."""
    w = np.ones_like(base_logit) if weights is None else weights
    lo, hi = -30.0, 30.0
    for _ in range(80):
        mid = (lo + hi) / 2
        if (w * sigmoid(base_logit + mid)).sum() < target:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


class CalibrationError(RuntimeError):
    """The calibration could not reach the exact counts (should not happen with the profiles)."""


@dataclass
class CalibratedCell:
    """One calibration target mapped onto the district's arrays."""

    target: CalibrationTarget
    unit_mask: np.ndarray  # over the district's units
    start: np.datetime64
    end: np.datetime64
    rows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))  # the tier's rows
    new_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))  # and new


def calibrated_cells(
    district_code: str, unit_info: Sequence[UnitInfo], start: np.datetime64, end: np.datetime64
) -> list[CalibratedCell]:
    """The calibration targets that apply: their district, and a window holding the quarter."""
    cells = []
    levels = np.array([u.level for u in unit_info])
    for target in CALIBRATION:
        if target.district_code != district_code:
            continue
        s, e = quarter_bounds(target.period)
        if s < start or e > end:
            continue  # the window does not hold the quarter: nothing to match
        mask = levels == LEVELS.index(target.unit_level)
        if mask.any():
            cells.append(CalibratedCell(target, mask, s, e))
    return cells


def calibrate_outcomes(
    rng: np.random.Generator,
    cell: CalibratedCell,
    received: np.ndarray,
    due: np.ndarray,
    closed: np.ndarray,
    kind: np.ndarray,
) -> None:
    """Move the fewest closing dates (and outcome kinds) so the cell's quarter is exact.

    In order: carried over (close a few just before the first day, or keep a few of the last
    days' dossiers open across it), pending at the end (close a few on the last working day, or
    leave a few of the last days' dossiers for the next working day), withdrawn, then late
    (close by the deadline instead, or a few days after it). Each step keeps what the earlier
    ones fixed. Arrays are changed in place.
    """
    tgt = cell.target
    s, e = cell.start, cell.end
    rows = cell.rows
    last_before = working_day_on_or_before(s - 1)
    first_in = working_day_on_or_after(s)
    last_in = working_day_on_or_before(e)

    def ranked_latest(cands: np.ndarray) -> np.ndarray:
        # The most recently received are the likeliest still to be open: weight by recency.
        age = (e - received[cands]).astype(np.float64)
        weight: np.ndarray = np.exp(-age / 4.0)
        return weight

    # 1. carried over: received before s, not closed before s
    carried = rows & (received < s) & (closed >= s)
    have = int(carried.sum())
    if have > tgt.carried_over_count:
        cands = np.flatnonzero(carried)
        soon = np.exp(-(closed[cands] - s).astype(np.float64) / 5.0)
        move = pick_rows(rng, cands, soon, have - tgt.carried_over_count)
        closed[move] = np.maximum(received[move], last_before)
    elif have < tgt.carried_over_count:
        cands = np.flatnonzero(rows & (received < s) & (closed < s) & (kind == RESULT))
        cands = cands[due[cands] >= first_in] if (due[cands] >= first_in).sum() else cands
        recency = np.exp(-(s - received[cands]).astype(np.float64) / 3.0)
        move = pick_rows(rng, cands, recency, tgt.carried_over_count - have)
        later = working_day_on_or_after(s, rng.integers(0, 3, len(move)))
        closed[move] = np.where(due[move] >= first_in, np.minimum(later, due[move]), later)

    in_scope = rows & (received <= e) & (closed >= s)  # new, or carried over (closed >= s)
    # 2. pending at the end
    pending = in_scope & (closed > e)
    have = int(pending.sum())
    if have > tgt.pending_total_count:
        cands = np.flatnonzero(pending)
        soon = np.exp(-(closed[cands] - e).astype(np.float64) / 5.0)
        move = pick_rows(rng, cands, soon, have - tgt.pending_total_count)
        closed[move] = np.maximum(received[move], last_in)
    elif have < tgt.pending_total_count:
        cands = np.flatnonzero(in_scope & (closed <= e) & (received >= s) & (kind == RESULT))
        move = pick_rows(rng, cands, ranked_latest(cands), tgt.pending_total_count - have)
        closed[move] = working_day_on_or_after(e + 1, rng.integers(0, 2, len(move)))

    # 3. withdrawn / rejected within the quarter
    closed_in = in_scope & (closed <= e)
    gone = closed_in & (kind != RESULT)
    have = int(gone.sum())
    if have > tgt.withdrawn_count:
        cands = np.flatnonzero(gone)
        kind[pick_rows(rng, cands, np.ones(len(cands)), have - tgt.withdrawn_count)] = RESULT
    elif have < tgt.withdrawn_count:
        cands = np.flatnonzero(closed_in & (kind == RESULT) & (closed <= due))
        move = pick_rows(rng, cands, np.ones(len(cands)), tgt.withdrawn_count - have)
        kind[move] = np.where(rng.random(len(move)) < 0.6, WITHDRAWN, REJECTED)

    # 4. late among the resolved
    resolved_in = closed_in & (kind == RESULT)
    late = resolved_in & (closed > due)
    have = int(late.sum())
    if have > tgt.resolved_late_count:
        cands = np.flatnonzero(late & (due >= s))  # on the deadline is still in the quarter
        move = pick_rows(rng, cands, np.ones(len(cands)), have - tgt.resolved_late_count)
        lo = np.maximum(received[move], s)
        span = (due[move] - lo).astype(np.int64) + 1
        some_day = lo + np.floor(rng.random(len(move)) * span).astype(np.int64)
        closed[move] = np.minimum(
            working_day_on_or_after(some_day), due[move]
        )  # in time, still in the quarter
    elif have < tgt.resolved_late_count:
        cands = np.flatnonzero(resolved_in & (closed <= due) & (due < last_in) & (due >= s))
        move = pick_rows(rng, cands, np.ones(len(cands)), tgt.resolved_late_count - have)
        closed[move] = np.minimum(
            working_day_on_or_after(due[move], rng.integers(1, 4, len(move))), last_in
        )

    # Check: the same definitions as cube.dossier_flags.
    new = rows & (received >= s) & (received <= e)
    carried = rows & (received < s) & (closed >= s)
    in_scope = new | carried
    resolved_in = in_scope & (closed <= e) & (kind == RESULT)
    got = {
        "received_new_count": int(new.sum()),
        "carried_over_count": int(carried.sum()),
        "resolved_late_count": int((resolved_in & (closed > due)).sum()),
        "pending_total_count": int((in_scope & (closed > e)).sum()),
        "withdrawn_count": int((in_scope & (closed <= e) & (kind != RESULT)).sum()),
    }
    want = {k: v for k, v in tgt.counts().items() if k in got}
    if got != want:
        raise CalibrationError(f"calibration of {tgt.unit_level} {tgt.district_code}: {got}")
