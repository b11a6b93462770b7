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
from cchc_analysis.demo.published import (
    CALIBRATION,
    CalibrationTarget,
    RateTarget,
    WindowTarget,
)


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

    target: CalibrationTarget | WindowTarget
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
    if not isinstance(tgt, CalibrationTarget):
        raise TypeError(f"calibrate_outcomes takes a CalibrationTarget, not {tgt!r}")
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
    fix_late(rng, resolved_in, s, e, received, due, closed, tgt.resolved_late_count)

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


def fix_late(
    rng: np.random.Generator,
    resolved_in: np.ndarray,
    s: np.datetime64,
    e: np.datetime64,
    received: np.ndarray,
    due: np.ndarray,
    closed: np.ndarray,
    target: int,
) -> None:
    """Move the fewest closing dates so exactly ``target`` of ``resolved_in`` are late: close
    some by the deadline instead, or a few days after it; every row stays resolved in [s, e]."""
    last_in = working_day_on_or_before(e)
    late = resolved_in & (closed > due)
    have = int(late.sum())
    if have > target:
        cands = np.flatnonzero(late & (due >= s))  # on the deadline is still in the quarter
        move = pick_rows(rng, cands, np.ones(len(cands)), have - target)
        lo = np.maximum(received[move], s)
        span = (due[move] - lo).astype(np.int64) + 1
        some_day = lo + np.floor(rng.random(len(move)) * span).astype(np.int64)
        closed[move] = np.minimum(
            working_day_on_or_after(some_day), due[move]
        )  # in time, still in the quarter
    elif have < target:
        cands = np.flatnonzero(resolved_in & (closed <= due) & (due < last_in) & (due >= s))
        move = pick_rows(rng, cands, np.ones(len(cands)), target - have)
        closed[move] = np.minimum(
            working_day_on_or_after(due[move], rng.integers(1, 4, len(move))), last_in
        )


def resolved_in_window(
    rows: np.ndarray,
    s: np.datetime64,
    e: np.datetime64,
    received: np.ndarray,
    closed: np.ndarray,
    kind: np.ndarray,
) -> np.ndarray:
    """Rows resolved with a result in [s, e] (new or carried over), as cube.dossier_flags."""
    in_scope = rows & (received <= e)
    resolved: np.ndarray = in_scope & (closed >= s) & (closed <= e) & (kind == RESULT)
    return resolved


def calibrate_window(
    rng: np.random.Generator,
    cell: CalibratedCell,
    carried: dict[str, int],
    received: np.ndarray,
    due: np.ndarray,
    closed: np.ndarray,
    kind: np.ndarray,
) -> None:
    """Move the fewest closing dates so a new unit's window shows its resolved, early and late
    counts exactly, given what its old units' carried-over dossiers add (``carried``).

    The unit's rows are all received in the window (its era starts on its first day), so they
    are all new. In order: resolved (leave a few of the last received open past the end, or
    close a few open ones on the last working day, or give a withdrawn one its result), late,
    then on time (close on the deadline, or a day before it). Arrays are changed in place.
    """
    tgt = cell.target
    if not isinstance(tgt, WindowTarget):
        raise TypeError(f"calibrate_window takes a WindowTarget, not {tgt!r}")
    s, e = cell.start, cell.end
    last_in = working_day_on_or_before(e)
    new = cell.new_rows
    want_resolved = tgt.resolved_total_count - carried["resolved_total_count"]
    want_late = tgt.resolved_late_count - carried["resolved_late_count"]
    want_on_time = tgt.resolved_on_time_count - carried["resolved_on_time_count"]
    if min(want_resolved, want_late, want_on_time) < 0:
        raise CalibrationError(f"carried-over dossiers alone exceed {tgt}: {carried}")

    resolved = resolved_in_window(new, s, e, received, closed, kind)
    have = int(resolved.sum())
    if have > want_resolved:
        cands = np.flatnonzero(resolved)
        recency = np.exp(-(e - received[cands]).astype(np.float64) / 4.0)
        move = pick_rows(rng, cands, recency, have - want_resolved)
        closed[move] = working_day_on_or_after(e + 1, rng.integers(0, 2, len(move)))
    elif have < want_resolved:  # close open ones, or give a withdrawn one its result
        still_open = np.flatnonzero(new & (kind == RESULT) & (closed > e) & (received <= last_in))
        gone = np.flatnonzero(new & (kind != RESULT) & (closed <= e))
        soon = np.exp(-(closed[still_open] - e).astype(np.float64) / 5.0)
        cands = np.r_[still_open, gone]
        move = pick_rows(rng, cands, np.r_[soon, np.ones(len(gone))], want_resolved - have)
        closed[move] = np.where(
            kind[move] == RESULT, np.maximum(received[move], last_in), closed[move]
        )
        kind[move] = RESULT
    resolved = resolved_in_window(new, s, e, received, closed, kind)
    fix_late(rng, resolved, s, e, received, due, closed, want_late)

    on_time = resolved & (closed == due)
    have = int(on_time.sum())
    if have > want_on_time:
        cands = np.flatnonzero(on_time & (due > received))
        move = pick_rows(rng, cands, np.ones(len(cands)), have - want_on_time)
        closed[move] = np.maximum(received[move], working_day_on_or_before(due[move] - 1))
    elif have < want_on_time:
        cands = np.flatnonzero(resolved & (closed < due) & (due <= last_in))
        move = pick_rows(rng, cands, np.ones(len(cands)), want_on_time - have)
        closed[move] = due[move]

    resolved = resolved_in_window(new, s, e, received, closed, kind)
    got = (
        int(resolved.sum()),
        int((resolved & (closed > due)).sum()),
        int((resolved & (closed == due)).sum()),
    )
    if got != (want_resolved, want_late, want_on_time):
        raise CalibrationError(f"calibration of {tgt.unit_code}: {got}")


@dataclass(frozen=True)
class LateShareGoal:
    """What a province's own offices must add so the province shows a :class:`RateTarget`:
    the target and the resolved and late counts of the rest of the province in its window."""

    target: RateTarget
    other_resolved_count: int
    other_late_count: int


def calibrate_late_share(
    rng: np.random.Generator,
    rows: np.ndarray,
    goal: LateShareGoal,
    received: np.ndarray,
    due: np.ndarray,
    closed: np.ndarray,
    kind: np.ndarray,
) -> None:
    """Move the fewest closing dates of ``rows`` (the province's offices) so the province's
    within-deadline rate over the window is the target to within rounding: late of all =
    round((1 - rate) × resolved of all). Closing dates stay in the window. In place."""
    tgt = goal.target
    s, e = np.datetime64(tgt.start, "D"), np.datetime64(tgt.end, "D")
    resolved = resolved_in_window(rows, s, e, received, closed, kind)
    total = goal.other_resolved_count + int(resolved.sum())
    want = round((1 - tgt.within_deadline_rate) * total) - goal.other_late_count
    if want < 0 or want > int(resolved.sum()):
        raise CalibrationError(
            f"the province's offices cannot bring {tgt.province_code} to "
            f"{tgt.within_deadline_rate}: {want} late of {int(resolved.sum())} needed"
        )
    fix_late(rng, resolved, s, e, received, due, closed, want)
