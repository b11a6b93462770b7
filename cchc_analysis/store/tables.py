"""Stored tables with stable dtypes: what ingest writes and counting reads back.

Period reports and survey answers are stored as Parquet; both sides coerce through these
functions so that strings, day dates and nullable integer counts survive every round trip.
"""

from __future__ import annotations

from typing import Final

import pandas as pd

from cchc_analysis.core.schema import COUNT_COLUMNS, SURVEY_COLUMNS, SURVEY_ITEM_COLUMNS

PERIOD_REPORT_COLUMNS: Final = (
    "unit_code",
    "unit_name",
    "unit_level",
    "district_code",
    "era",
    "field",
    "period_start",
    "period_end",
    *COUNT_COLUMNS,
)


def coerce_period_reports(frame: pd.DataFrame) -> pd.DataFrame:
    """Period-report rows with stable dtypes: strings, day dates, nullable integer counts."""
    out = pd.DataFrame(index=frame.index)
    for column in PERIOD_REPORT_COLUMNS:
        values = frame[column] if column in frame else pd.Series(pd.NA, index=frame.index)
        if column in ("period_start", "period_end"):
            out[column] = pd.to_datetime(values).astype("datetime64[ms]")
        elif column in COUNT_COLUMNS:
            # pandas-stubs: pd.array takes no Series with a masked dtype name (valid at run time)
            out[column] = pd.array(values, dtype="Int64")  # type: ignore[call-overload]
        else:
            out[column] = values.astype("string")
    return out.reset_index(drop=True)


def coerce_survey(frame: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame(index=frame.index)
    for column in SURVEY_COLUMNS:
        values = frame[column] if column in frame else pd.Series(pd.NA, index=frame.index)
        if column == "surveyed_at":
            out[column] = pd.to_datetime(values).astype("datetime64[ms]")
        elif column in SURVEY_ITEM_COLUMNS:
            # pandas-stubs: pd.array takes no Series with a masked dtype name (valid at run time)
            out[column] = pd.array(values, dtype="Int64")  # type: ignore[call-overload]
        else:
            out[column] = values.astype("string")
    return out.reset_index(drop=True)
