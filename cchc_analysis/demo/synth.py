"""Deterministic, calibrated demo data: the new Hải Phòng, July 2022 – September 2026.

Old Hải Phòng (31) and old Hải Dương (30) run in the district era until 30 June 2025 (27
districts, their communes and both provinces' own offices); from 1 July 2025 the 114 new
communes and the provincial offices of the new Hải Phòng (``reform``). The export is taken on
30 September 2026.

Why it exists: the workbook must be developed, tested and shown without real exports (which
carry personal data and are not ours to publish). The demo province behaves like a real one —
working-day arrivals with seasonality and a Tết dip, online share rising over time, deadlines
in working days, long-tailed processing times, a few districts clearly worse on timeliness —
and it reproduces the published Kiến Thụy figures for 2023-Q3 exactly (:data:`CALIBRATION`),
so a report can be checked against a number leadership has already seen, and two figures
published after the reform: Xã Đường An, 1 July – 26 November 2025 (:data:`DUONG_AN`, through
the crosswalk, the carried-over dossiers of its old communes included) and old Hải Dương's
within-deadline rate for January – October 2023 (:data:`HAI_DUONG_2023`, all tiers).

How:

* Per block (``blocks``), one random generator seeded from ``(seed, key)``: an old district
  (key: its code), an old province's offices, the new communes over an old district (their
  home), the new provincial offices. A subset of old districts yields exactly the rows those
  districts (and the new communes over them) have in the full run; a province's offices come
  only with all its districts (their calibration needs them), the new provincial offices only
  with all 27.
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
  may cross a calibrated quarter's first day.
* Đường An: its level is solved so the expected volume and online count in the window are the
  targets, then the window is drawn given its total, online flags are flipped on the fewest
  rows and the fewest closing dates are moved so that its own dossiers plus the old
  communes' carried-over ones show the published resolved, early and late counts.
* Hải Dương 2023: the districts are left as drawn; the province's own offices move the fewest
  closing dates so that late of all = round(1.2% × resolved of all) over the window.

Where: this module lays out the blocks and writes the demo folder, and is the generator's
public face (``__all__``). The parts: ``published`` (the targets), ``catalogue`` (procedures,
fields, units, district profiles), ``model`` (window, seasonal factors, codes, time axis),
``reform`` (the new units), ``blocks`` (one block's rows), ``arrivals``, ``outcomes``,
``calibration`` and ``survey``.
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

from cchc_analysis import units
from cchc_analysis.core.periods import Period
from cchc_analysis.core.schema import DOSSIER_COLUMNS, coerce_dossiers
from cchc_analysis.counting.cube import period_counts
from cchc_analysis.demo.blocks import Block, block_rows
from cchc_analysis.demo.calibration import CalibratedCell, LateShareGoal, calibrated_cells
from cchc_analysis.demo.catalogue import (
    DEMO_PROVINCE_CODE,
    DISTRICT_PROFILES,
    FIELDS,
    MERGED_PROVINCE_CODE,
    OLD_PROVINCE_CODES,
    PROCEDURES,
    PROVINCE_OFFICE_PROFILES,
    WORSE_DISTRICTS,
    DistrictProfile,
    Procedure,
    check_districts,
    district_units,
    province_districts,
)
from cchc_analysis.demo.model import (
    DEFAULT_SEED,
    DEMO_END,
    DEMO_START,
    NEW_ERA_START,
    OLD_ERA_END,
    WARMUP_DAYS,
)
from cchc_analysis.demo.published import (
    CALIBRATION,
    DUONG_AN,
    HAI_DUONG_2023,
    CalibrationTarget,
    RateTarget,
    WindowTarget,
)
from cchc_analysis.demo.reform import (
    home_districts,
    new_commune_units,
    new_era_profile,
    new_office_units,
    old_office_units,
)
from cchc_analysis.demo.survey import generate_survey
from cchc_analysis.store.dossiers import (
    DOSSIERS_DIR,
    PARTITION_COLUMN,
    dossier_areas,
    row_areas,
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
    "DUONG_AN",
    "FIELDS",
    "GENERATOR_VERSION",
    "HAI_DUONG_2023",
    "MERGED_PROVINCE_CODE",
    "NEW_ERA_START",
    "OLD_ERA_END",
    "PROCEDURES",
    "SOURCE",
    "WORSE_DISTRICTS",
    "CalibrationTarget",
    "DistrictProfile",
    "Procedure",
    "RateTarget",
    "WindowTarget",
    "generate_demo",
    "generate_dossiers",
    "generate_survey",
]

GENERATOR_VERSION: Final = "2.0"
SOURCE: Final = "synthetic demo"


def _day(value: date) -> np.datetime64:
    return np.datetime64(value, "D")


def _window_counts(frame: pd.DataFrame, start: date, end: date) -> dict[str, int]:
    """Biểu 06 counts of some rows over a day range (the counting definitions)."""
    if frame.empty:
        return {
            "resolved_total_count": 0,
            "resolved_early_count": 0,
            "resolved_on_time_count": 0,
            "resolved_late_count": 0,
        }
    row = period_counts(frame, Period(start, end, f"{start}:{end}"), by=()).iloc[0]
    return {str(name): int(value) for name, value in row.items() if str(name).endswith("_count")}


def _holds(start: date, end: date, first: date, last: date) -> bool:
    return start <= first and last <= end


def _old_blocks(seed: int, codes: list[str], start: date, end: date) -> list[Block]:
    """The old districts' blocks (era 2024, arrivals until 30 June 2025)."""
    window_start = _day(start)
    last = _day(min(end, OLD_ERA_END))
    blocks = []
    for code in codes:
        unit_info = district_units(code)
        blocks.append(
            Block(
                key=(int(code),),
                units=unit_info,
                profile=DISTRICT_PROFILES[code],
                first_day=window_start - WARMUP_DAYS,
                last_day=last,
                window_start=window_start,
                era=units.ERA_PRE_2025,
                province_code=units.get_unit(code, era=units.ERA_PRE_2025).province_code,
                district_code=code,
                cells=calibrated_cells(code, unit_info, window_start, _day(end)),
            )
        )
    return blocks


def _old_office_block(
    province_code: str, start: date, end: date, goal: LateShareGoal | None
) -> Block:
    window_start = _day(start)
    return Block(
        key=(int(units.ERA_PRE_2025), int(province_code)),
        units=old_office_units(province_code),
        profile=PROVINCE_OFFICE_PROFILES[province_code],
        first_day=window_start - WARMUP_DAYS,
        last_day=_day(min(end, OLD_ERA_END)),
        window_start=window_start,
        era=units.ERA_PRE_2025,
        province_code=province_code,
        district_code=None,
        late_goal=goal,
    )


def _new_commune_block(
    seed: int, district_code: str, start: date, end: date, old_rows: pd.DataFrame
) -> Block | None:
    """The new communes over an old district, from 1 July 2025 (None: no new commune has it
    as home). Đường An's window is calibrated when its home district is the one."""
    unit_info, volume = new_commune_units(seed, district_code)
    if not unit_info:
        return None
    first = _day(max(start, NEW_ERA_START))
    window_cells = []
    target = DUONG_AN
    if home_districts().get(target.unit_code) == district_code and _holds(
        start, end, target.start, target.end
    ):
        mask = np.array([u.code == target.unit_code for u in unit_info])
        cell = CalibratedCell(target, mask, _day(target.start), _day(target.end))
        walk = units.crosswalk_communes()
        old_codes = walk.loc[walk["new_code"] == target.unit_code, "old_code"]
        mine = old_rows[old_rows["unit_code"].isin(old_codes).to_numpy()]
        window_cells.append((cell, _window_counts(mine, target.start, target.end)))
    return Block(
        key=(int(units.ERA_2025), int(district_code)),
        units=unit_info,
        profile=new_era_profile(DISTRICT_PROFILES[district_code]),
        first_day=first,
        last_day=_day(end),
        window_start=first,
        era=units.ERA_2025,
        province_code=DEMO_PROVINCE_CODE,
        district_code=None,
        volume=volume,
        window_cells=window_cells,
    )


def _new_office_block(seed: int, start: date, end: date) -> Block:
    unit_info, volume = new_office_units(seed)
    first = _day(max(start, NEW_ERA_START))
    return Block(
        key=(int(units.ERA_2025), int(DEMO_PROVINCE_CODE)),
        units=unit_info,
        profile=new_era_profile(PROVINCE_OFFICE_PROFILES[DEMO_PROVINCE_CODE]),
        first_day=first,
        last_day=_day(end),
        window_start=first,
        era=units.ERA_2025,
        province_code=DEMO_PROVINCE_CODE,
        district_code=None,
        volume=volume,
    )


def generate_dossiers(
    seed: int = DEFAULT_SEED,
    district_codes: Sequence[str] | None = None,
    start: date = DEMO_START,
    end: date = DEMO_END,
    *,
    calibrate: bool = True,
    new_era: bool = True,
) -> pd.DataFrame:
    """Synthetic one-stop export of the new Hải Phòng, both eras (canonical dtypes).

    ``district_codes``: old districts of Hải Phòng or Hải Dương (all 27 by default). The run
    holds those districts' rows until 30 June 2025; with ``new_era``, the new communes whose
    home they are (``reform.home_districts``) from 1 July 2025; an old province's own offices
    when all its districts are in; the new provincial offices when all 27 are.

    ``end`` is the export date: nothing is closed or returned after it; ``start`` is the first
    day received (plus the dossiers received earlier that were still open on it). Each block
    comes from its own random streams, so a subset of districts gives exactly those districts'
    rows of the full run. The calibration targets hold exactly whenever what they cover is
    generated and the window holds their period; ``calibrate=False`` skips only the final
    nudges to the exact counts (same model, same expected values, every other row identical).
    """
    if end < start:
        raise ValueError(f"end {end} is before start {start}")
    codes = check_districts(district_codes)
    export = _day(end)
    frames: list[pd.DataFrame] = []
    old: dict[str, pd.DataFrame] = {}
    if start <= OLD_ERA_END:
        for block in _old_blocks(seed, codes, start, end):
            assert block.district_code is not None
            old[block.district_code] = block_rows(seed, block, export, calibrate)
        frames += old.values()
        for province in OLD_PROVINCE_CODES:
            if not set(province_districts(province)) <= set(codes):
                continue
            goal = None
            rate = HAI_DUONG_2023
            if province == rate.province_code and _holds(start, end, rate.start, rate.end):
                rest = pd.concat([old[c] for c in province_districts(province)])
                counts = _window_counts(rest, rate.start, rate.end)
                goal = LateShareGoal(
                    rate, counts["resolved_total_count"], counts["resolved_late_count"]
                )
            block = _old_office_block(province, start, end, goal)
            frames.append(block_rows(seed, block, export, calibrate))
    if new_era and end >= NEW_ERA_START:
        for code in codes:
            new_block = _new_commune_block(seed, code, start, end, old.get(code, pd.DataFrame()))
            if new_block is not None:
                frames.append(block_rows(seed, new_block, export, calibrate))
        if all(set(province_districts(p)) <= set(codes) for p in OLD_PROVINCE_CODES):
            frames.append(block_rows(seed, _new_office_block(seed, start, end), export, calibrate))
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


def reform_calibration_note() -> str:
    """The two figures published after the reform, for dataset.json."""
    a, h = DUONG_AN, HAI_DUONG_2023
    return (
        f"Commune {a.unit_code} (Xã Đường An), {a.start}:{a.end}, era 2025 through the "
        f"crosswalk (its old communes' carried-over dossiers included): {a.received_new_count} "
        f"received, {a.received_online_count} online, {a.resolved_total_count} resolved, "
        f"{a.resolved_early_count} early, {a.resolved_late_count} late. Source: {a.source}. "
        f"Old province {h.province_code} (Hải Dương), {h.start}:{h.end}, all tiers: "
        f"within-deadline rate {h.within_deadline_rate} at {h.decimals} decimals. "
        f"Source: {h.source}."
    )


def generate_demo(
    out_dir: str | Path,
    seed: int = DEFAULT_SEED,
    district_codes: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Write a complete demo data folder and return its summary (also in dataset.json).

    The folder gets dossiers/ (partitioned by area), survey.parquet and dataset.json.
    Partitions not in this run, left from an earlier demo, are removed so that the folder
    matches its dataset.json; a folder holding non-demo data is refused.
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
    kept = set(row_areas(dossiers))
    for area in dossier_areas(out):  # a demo regenerated for fewer districts drops the others
        if area not in kept:
            shutil.rmtree(out / DOSSIERS_DIR / f"{PARTITION_COLUMN}={area}")
    rows = write_dossiers(dossiers, out)
    write_table(survey, out, SURVEY_FILE)
    era = dossiers["era"].astype(str)
    old_provinces = sorted(
        set(dossiers.loc[(era == units.ERA_PRE_2025).to_numpy(), "province_code"])
    )
    new_provinces = sorted(set(dossiers.loc[(era == units.ERA_2025).to_numpy(), "province_code"]))
    info: dict[str, Any] = {
        "source": SOURCE,
        "is_synthetic": True,  # read by the reports: a "simulated data" banner on every page
        "generator": __name__,
        "generator_version": GENERATOR_VERSION,
        "seed": int(seed),
        "province_code": DEMO_PROVINCE_CODE,
        "provinces": {units.ERA_PRE_2025: old_provinces, units.ERA_2025: new_provinces},
        "district_codes": codes,
        "eras": {
            units.ERA_PRE_2025: {"start": DEMO_START.isoformat(), "end": OLD_ERA_END.isoformat()},
            units.ERA_2025: {"start": NEW_ERA_START.isoformat(), "end": DEMO_END.isoformat()},
        },
        "era": sorted(set(era)),
        "date_range": {"start": DEMO_START.isoformat(), "end": DEMO_END.isoformat()},
        "export_date": DEMO_END.isoformat(),
        "dossier_rows": int(rows),
        "survey_rows": int(len(survey)),
        "unit_count": int(dossiers[["era", "unit_code"]].drop_duplicates().shape[0]),
        "new_commune_count": int(
            dossiers.loc[(era == units.ERA_2025).to_numpy()]
            .query("unit_level == 'commune'")["unit_code"]
            .nunique()
        ),
        "carried_in_rows": int((dossiers["received_at"] < pd.Timestamp(DEMO_START)).sum()),
        "worse_districts": [c for c in WORSE_DISTRICTS if c in codes],
        "calibration": (
            calibration_note()
            if any(t.district_code in codes for t in CALIBRATION)
            else "no calibrated district in this run"
        ),
        "reform_calibration": reform_calibration_note(),
    }
    write_dataset_info(out, info)
    return info
