"""Deterministic, calibrated demo data: Hải Phòng's 15 pre-2025 districts, July 2022 – June 2025.

Why it exists: the workbook must be developed, tested and shown without real exports (which
carry personal data and are not ours to publish). The demo province behaves like a real one —
working-day arrivals with seasonality and a Tết dip, online share rising over time, deadlines
in working days, long-tailed processing times, a few districts clearly worse on timeliness —
and it reproduces the published Kiến Thụy figures for 2023-Q3 exactly (:data:`CALIBRATION`),
so a report can be checked against a number leadership has already seen.

How:

* Per district, one random generator seeded from ``(seed, district code)``: a subset of
  districts yields exactly the rows those districts have in the full run.
* Per unit and day an arrival intensity (volume × month × Tết × weekday × trend × noise); per
  dossier the procedure (fixing field and deadline), channel and online level, processing time
  ``floor(deadline × r)`` with ``r`` lognormal plus a small "problem" share around the deadline
  (the late tail), then statuses, returns, flags and ratings derived from the dates.
* The simulation starts :data:`WARMUP_DAYS` before the window so that the first quarter has a
  realistic carried-over stock; rows received before the window are kept only when still
  open on its first day. The export is taken on the window's last day: nothing is closed or
  returned after it.
* Calibration: the calibrated unit-quarters are drawn from the same model, with its level
  parameters solved so that the expected counts equal the targets (volume, online share, full
  share — applied to the unit's whole series, so the quarter shows no break), then nudged to
  the exact counts by the fewest changes: the quarter's arrivals are drawn multinomially given
  the total, channel/level flags are flipped on the fewest rows, and a few closing dates near
  the quarter's edges are moved (carried over, pending, late, withdrawn). Every row stays
  internally consistent. Other units and quarters are untouched, except that a closing date

Where: this module assembles a district's rows and writes the demo folder, and is the
generator's public face (``__all__``). The parts: ``published`` (the targets), ``catalogue``
(procedures, fields, units, district profiles), ``model`` (window, seasonal factors, codes,
time axis), ``arrivals``, ``outcomes``, ``calibration`` and ``survey``.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from cchc_analysis import units
from cchc_analysis.core.schema import (
    CHANNELS,
    DOSSIER_COLUMNS,
    ONLINE_LEVELS,
    RATINGS,
    STATUSES,
    coerce_dossiers,
)
from cchc_analysis.core.workdays import add_working_days
from cchc_analysis.demo.arrivals import draw_arrivals, intensities
from cchc_analysis.demo.calibration import calibrate_outcomes, calibrated_cells
from cchc_analysis.demo.catalogue import (
    DEMO_PROVINCE_CODE,
    DISTRICT_PROFILES,
    FIELDS,
    LEVELS,
    PROCEDURES,
    WORSE_DISTRICTS,
    DistrictProfile,
    Procedure,
    check_districts,
    district_units,
    procedure_table,
)
from cchc_analysis.demo.model import (
    CHANNEL_CODE,
    DEFAULT_SEED,
    DEMO_END,
    DEMO_START,
    NAT,
    ONLINE_LEVEL_CODE,
    RATING_CODE,
    REJECTED,
    RESULT,
    STATUS_CODE,
    WARMUP_DAYS,
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
)
from cchc_analysis.demo.published import CALIBRATION, CalibrationTarget
from cchc_analysis.demo.survey import generate_survey
from cchc_analysis.store.dossiers import (
    DOSSIERS_DIR,
    PARTITION_COLUMN,
    area_key,
    dossier_areas,
    write_dossiers,
)
from cchc_analysis.store.folder import (
    DATASET_FILE,
    SURVEY_FILE,
    write_dataset_info,
    write_table,
)

__all__ = [
    "CALIBRATION",
    "DEFAULT_SEED",
    "DEMO_END",
    "DEMO_PROVINCE_CODE",
    "DEMO_START",
    "DISTRICT_PROFILES",
    "FIELDS",
    "GENERATOR_VERSION",
    "PROCEDURES",
    "SOURCE",
    "WORSE_DISTRICTS",
    "CalibrationTarget",
    "DistrictProfile",
    "Procedure",
    "generate_demo",
    "generate_dossiers",
    "generate_survey",
]

GENERATOR_VERSION: Final = "1.0"
SOURCE: Final = "synthetic demo"


def _categorical(codes: np.ndarray, categories: Sequence[str]) -> pd.Categorical:
    """Codes of fixed categories as a pandas categorical."""
    # pandas-stubs want the categories as an Index; a tuple is valid at run time.
    column: pd.Categorical = pd.Categorical.from_codes(codes, categories)  # type: ignore[call-overload]
    return column


def _dictionary_strings(values: Sequence[str], index: np.ndarray) -> pd.arrays.ArrowStringArray:
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


def _district_dossiers(
    seed: int, district_code: str, start: date, end: date, calibrate: bool = True
) -> pd.DataFrame:
    """All dossiers of one district (offices and communes), from its own random streams."""
    rng = np.random.default_rng([int(seed), int(district_code), 1])
    cal_rng = np.random.default_rng([int(seed), int(district_code), 99])
    profile = DISTRICT_PROFILES[district_code]
    unit_info = district_units(district_code)
    export = np.datetime64(end, "D")
    window_start = np.datetime64(start, "D")
    days = np.arange(window_start - WARMUP_DAYS, export + 1)
    cells = calibrated_cells(district_code, unit_info, window_start, export)
    levels_of_unit = np.array([u.level for u in unit_info])

    lam = intensities(rng, profile, unit_info, days)
    unit, received = draw_arrivals(rng, cal_rng, lam, days, cells, calibrate)
    n = len(unit)
    level = levels_of_unit[unit]
    cal_rows = np.zeros(n, dtype=bool)
    for cell in cells:
        cell.rows = cell.unit_mask[unit]
        cell.new_rows = cell.rows & (received >= cell.start) & (received <= cell.end)
        cal_rows |= cell.new_rows
    streams = Streams(rng, cal_rng, cal_rows)
    params = UnitParams.draw(rng, len(unit_info))
    for cell in cells:
        solve_channel_levels(profile, params, lam, days, cell)
    t = trend_years(received)
    proc = draw_procedures(streams, level)
    channel, online_level = draw_channels(
        streams, cal_rng, profile, params, unit, level, proc, t, cells, calibrate
    )
    due, closed, kind = draw_outcomes(streams, profile, params, unit, level, proc, received, t)
    if calibrate:
        for cell in cells:
            calibrate_outcomes(cal_rng, cell, received, due, closed, kind)

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
    proc_codes = [p.code for p in PROCEDURES]
    proc_names = [p.name for p in PROCEDURES]
    proc_fields = [p.field for p in PROCEDURES]
    unit_k = unit[idx]
    proc_k = proc[idx]
    columns: dict[str, Any] = {
        "dossier_id": _dossier_ids(codes, unit[idx], received[idx]),
        "unit_code": _dictionary_strings(codes, unit_k),
        "unit_name": _dictionary_strings(names, unit_k),
        "district_code": _dictionary_strings([district_code], np.zeros(len(idx), np.int64)),
        "unit_level": _dictionary_strings(LEVELS, levels_of_unit[unit_k]),
        "era": _dictionary_strings([units.ERA_PRE_2025], np.zeros(len(idx), np.int64)),
        "province_code": _dictionary_strings([DEMO_PROVINCE_CODE], np.zeros(len(idx), np.int64)),
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


def generate_dossiers(
    seed: int = DEFAULT_SEED,
    district_codes: Sequence[str] | None = None,
    start: date = DEMO_START,
    end: date = DEMO_END,
    *,
    calibrate: bool = True,
) -> pd.DataFrame:
    """Synthetic one-stop export of Hải Phòng's districts and communes (canonical dtypes).

    ``end`` is the export date: nothing is closed or returned after it; ``start`` is the first
    day received (plus the dossiers received earlier that were still open on it). Each district
    comes from its own random streams, so a subset of districts gives exactly those districts'
    rows of the full run. The CALIBRATION targets hold exactly whenever their district is
    generated and the window holds their quarter; ``calibrate=False`` skips only the final
    nudges to the exact counts (same model, same expected values, every other row identical).
    """
    if end < start:
        raise ValueError(f"end {end} is before start {start}")
    codes = check_districts(district_codes)
    frames = [_district_dossiers(seed, code, start, end, calibrate) for code in codes]
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return coerce_dossiers(frame)[list(DOSSIER_COLUMNS)]


def calibration_note() -> str:
    """One sentence per target, for dataset.json and the methodology page."""
    notes = []
    for t in CALIBRATION:
        tier = "district offices" if t.unit_level == "district" else "communes (summed)"
        notes.append(
            f"{t.period} district {t.district_code} {tier}: {t.received_total_count} received "
            f"({t.received_new_count} new + {t.carried_over_count} carried over), "
            f"{t.resolved_within_deadline_count} within deadline, {t.resolved_late_count} late, "
            f"{t.pending_total_count} pending, {t.received_online_count} online "
            f"({t.online_partial_count} partial, {t.online_full_count} full)"
            + (f"; chosen, not published: {', '.join(t.chosen)}" if t.chosen else "")
        )
    return (
        "Matches exactly, under cube.period_counts, the published Kiến Thụy figures: "
        + "; ".join(notes)
        + f". Source: {CALIBRATION[0].source}."
    )


def generate_demo(
    out_dir: str | Path,
    seed: int = DEFAULT_SEED,
    district_codes: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Write a complete demo data folder and return its summary (also in dataset.json).

    The folder gets dossiers/ (partitioned by district), survey.parquet and dataset.json.
    Partitions of districts not in this run, left from an earlier demo, are removed so that
    the folder matches its dataset.json; a folder holding non-demo data is refused.
    """
    out = Path(out_dir)
    info_path = out / DATASET_FILE
    if info_path.exists():
        previous = json.loads(info_path.read_text(encoding="utf-8"))
        if previous.get("source") != SOURCE:
            raise FileExistsError(f"{out} holds data from {previous.get('source')!r}, not a demo")
    codes = check_districts(district_codes)
    dossiers = generate_dossiers(seed, codes)
    survey = generate_survey(seed, codes)
    out.mkdir(parents=True, exist_ok=True)
    kept = {area_key(units.ERA_PRE_2025, code) for code in codes}
    for area in dossier_areas(out):  # a demo regenerated for fewer districts drops the others
        if area not in kept:
            shutil.rmtree(out / DOSSIERS_DIR / f"{PARTITION_COLUMN}={area}")
    rows = write_dossiers(dossiers, out)
    write_table(survey, out, SURVEY_FILE)
    info: dict[str, Any] = {
        "source": SOURCE,
        "generator": __name__,
        "generator_version": GENERATOR_VERSION,
        "seed": int(seed),
        "province_code": DEMO_PROVINCE_CODE,
        "district_codes": codes,
        "era": units.ERA_PRE_2025,
        "date_range": {"start": DEMO_START.isoformat(), "end": DEMO_END.isoformat()},
        "export_date": DEMO_END.isoformat(),
        "dossier_rows": int(rows),
        "survey_rows": int(len(survey)),
        "unit_count": int(dossiers["unit_code"].nunique()),
        "carried_in_rows": int((dossiers["received_at"] < pd.Timestamp(DEMO_START)).sum()),
        "worse_districts": [c for c in WORSE_DISTRICTS if c in codes],
        "calibration": (
            calibration_note()
            if any(t.district_code in codes for t in CALIBRATION)
            else "no calibrated district in this run"
        ),
    }
    write_dataset_info(out, info)
    return info
