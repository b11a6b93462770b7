"""A data folder shaped like real data after the 1 July 2025 reform, for the report tests.

The session's demo slice (districts 313 and 314 of Hải Phòng, 2022-07..2025-06) is kept as the
pre-reform history; fifteen of its months are copied forward into era 2025: every old commune's
row goes to the new commune that took it in (``units.crosswalk_communes``), every district-office
row to the province's own offices (unit_level "province", unit_code "31"), with new dossier ids
and dates moved forward by 157 weeks (so weekdays stay weekdays) to cover 2025-07-01..2026-09-30.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pandas as pd

from cchc_analysis import store, units
from cchc_analysis.counting import prepare_folder

SHIFT = timedelta(weeks=157)  # 1,099 days: 2022-06-28 -> 2025-07-01
NEW_START = pd.Timestamp("2025-07-01")
NEW_END = pd.Timestamp("2026-09-30")
DATE_COLUMNS = ("received_at", "due_at", "resolved_at", "returned_at")
PROVINCE_OFFICES_NAME = "Trung tâm Phục vụ hành chính công thành phố Hải Phòng"


def era_2025_rows(old: pd.DataFrame) -> pd.DataFrame:
    """The new-era copy of ``old`` (pre-reform rows), as described in the module docstring."""
    received = old["received_at"] + SHIFT
    rows = old[(received >= NEW_START) & (received <= NEW_END)].copy()
    for column in DATE_COLUMNS:
        rows[column] = rows[column] + SHIFT
    # Nothing is known after the data's end: later results are still pending on 2026-09-30.
    late = rows["resolved_at"] > NEW_END
    rows.loc[late, ["resolved_at", "returned_at"]] = pd.NaT
    rows["status"] = rows["status"].astype(str).where(~late, "processing")
    rows.loc[rows["returned_at"] > NEW_END, "returned_at"] = pd.NaT
    walk = units.crosswalk_communes().set_index("old_code")
    is_commune = rows["unit_level"] == "commune"
    new_code = rows["unit_code"].map(walk["new_code"])
    rows = rows[~is_commune | new_code.notna()]
    new_code, is_commune = new_code[rows.index], is_commune[rows.index]
    names = {c: units.get_unit(c, era=units.ERA_2025).name for c in new_code.dropna().unique()}
    rows["unit_code"] = new_code.where(is_commune, "31").astype("string")
    rows["unit_name"] = rows["unit_code"].map(names).fillna(PROVINCE_OFFICES_NAME)
    rows["unit_level"] = rows["unit_level"].where(is_commune, "province")
    rows["era"] = units.ERA_2025
    rows["province_code"] = "31"
    rows["district_code"] = pd.NA
    rows["dossier_id"] = "N" + rows["dossier_id"].astype(str)
    return rows.reset_index(drop=True)


def build_reform_folder(source: Path, target: Path) -> Path:
    """Copy of ``source`` (pre-reform dossiers) plus their era-2025 copy, prepared."""
    old = store.read_dossiers(source)
    store.write_dossiers(old, target)
    for name in (store.SURVEY_FILE, store.DATASET_FILE):
        if (source / name).exists():
            (target / name).write_bytes((source / name).read_bytes())
    store.write_dossiers(era_2025_rows(old), target)
    info = store.read_dataset_info(target)
    info["date_range"] = {"start": info["date_range"]["start"], "end": NEW_END.date().isoformat()}
    store.write_dataset_info(target, info)
    prepare_folder(target, has_new_dossiers=True)
    return target
