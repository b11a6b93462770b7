"""A data folder whose units' exports each lack an optional column, for the missing-data tests.

Exports are per unit, so one folder holds every case: each unit's rows are stored as an ingest
stores an export without the column (all values missing). From the session's demo slice
(districts 313 and 314 of Hải Phòng and the new communes after 1 July 2025) only the dossiers
received from 2024-01-01 are kept, so 2024-Q1 is the first period of the data: no previous
period and no same period last year to compare with. There is no citizen survey at all.

The 2025 reform reused old commune numbers, so a five-digit code below also names an old
commune before 1 July 2025: its district then lacks the column for part of its rows (partial
coverage: the rate over the rows that have it), as a district of several exports would.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from cchc_analysis import store
from cchc_analysis.counting import prepare_folder

FIRST_DAY = pd.Timestamp("2024-01-01")
# unit_code -> the export columns its rows lack (district: its offices and its communes).
MISSING = {
    "313": ("is_fee_bearing",),  # fee-bearing unknown: online payment has no denominator
    "314": ("is_digitized",),
    "11680": ("is_paid_online",),
    "11629": ("has_e_result",),
    "11635": ("rating",),
    "11647": ("channel", "online_level"),
    "11668": ("field",),
}
# The indicators a unit's report must show as "no data", by the column it lacks.
NO_DATA_RATES = {
    "is_fee_bearing": ("online_payment_rate",),
    "is_digitized": ("digitization_rate",),
    "is_paid_online": ("online_payment_rate",),
    "has_e_result": (),
    "rating": ("satisfaction_rate",),
    "channel": ("online_rate", "online_new_rate"),
    "online_level": ("online_full_share",),
    "field": (),
}


def without_columns(dossiers: pd.DataFrame) -> pd.DataFrame:
    """``dossiers`` with each MISSING unit's columns emptied, as its export lacked them."""
    out = dossiers.copy()
    district = out["district_code"].astype("string")
    code = out["unit_code"].astype("string")
    for unit, columns in MISSING.items():
        rows = (district == unit) if len(unit) == 3 else (code == unit)
        rows = rows.fillna(False).to_numpy(dtype=bool)
        for column in columns:
            if isinstance(out[column].dtype, pd.CategoricalDtype):
                out[column] = out[column].astype(object)
            out.loc[rows, column] = None
    return out


def build_missing_columns_folder(source: Path, target: Path) -> Path:
    """Copy of ``source``'s dossiers from FIRST_DAY, without the MISSING columns, prepared."""
    dossiers = store.read_dossiers(source)
    dossiers = dossiers[dossiers["received_at"] >= FIRST_DAY]
    store.write_dossiers(without_columns(dossiers), target)
    info = store.read_dataset_info(source)
    info["date_range"] = {"start": FIRST_DAY.date().isoformat(), "end": info["date_range"]["end"]}
    info.pop("survey_rows", None)
    store.write_dataset_info(target, info)
    prepare_folder(target, has_new_dossiers=True)
    return target
