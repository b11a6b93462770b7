"""Row checks of a satisfaction-survey export: raw cells in, canonical survey rows out
(:data:`SURVEY_COLUMNS`), and a reason for every row left out.

A row needs a respondent id and a survey date that is not after the day of ingest; each item
score present must be a whole number from 1 to 5; a unit, when the export has one, must be a
district or commune of the pre-2025 registry.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from cchc_analysis.core.errors import ParseError
from cchc_analysis.core.schema import (
    SURVEY_COLUMNS,
    SURVEY_ITEM_COLUMNS,
    SURVEY_SCORE_MAX,
    SURVEY_SCORE_MIN,
)
from cchc_analysis.ingest.parsing import parse_count, parse_datetime, show
from cchc_analysis.ingest.problems import Problems, as_days, optional_text, parse_cells
from cchc_analysis.ingest.unit_matching import resolve_office_units
from cchc_analysis.store.tables import coerce_survey


def _parse_score(value: Any) -> int | None:
    score = parse_count(value)
    if score is not None and not SURVEY_SCORE_MIN <= score <= SURVEY_SCORE_MAX:
        raise ParseError("bad_score", f"score {show(value)} is outside 1–5")
    return score


def validate_survey(
    raw: pd.DataFrame,
    headers: dict[str, str],
    *,
    province: str | None = None,
    today: date | None = None,
) -> tuple[pd.DataFrame, Problems]:
    """Canonical survey rows (:data:`SURVEY_COLUMNS`) and the problems."""
    today = today or date.today()
    raw = raw.reset_index(drop=True)
    problems = Problems()
    h = {c: headers.get(c, c) for c in (*SURVEY_COLUMNS, "unit_name")}
    ids = optional_text(raw, "respondent_id")
    problems.add_mask(
        ids.isna().to_numpy(),
        h["respondent_id"],
        "missing_value",
        pd.Series("no respondent id", index=raw.index),
    )
    has_unit = "unit_code" in raw or "unit_name" in raw
    if has_unit:
        matches = resolve_office_units(raw, province=province)
        header = h["unit_code"] if "unit_code" in raw else h["unit_name"]
        matches.add_problems(problems, header)
        unit_columns: Mapping[str, np.ndarray | list[None]] = matches.unit_columns()
    else:
        unit_columns = {"unit_code": [None] * len(raw), "district_code": [None] * len(raw)}
    surveyed = parse_cells(
        raw,
        "surveyed_at",
        parse_datetime,
        problems,
        header=h["surveyed_at"],
        is_required=True,
        as_datetime=True,
    )
    days = as_days(surveyed)
    problems.add_mask(
        ~np.isnat(days) & (days > np.datetime64(today, "D")),
        h["surveyed_at"],
        "future_date",
        pd.Series(f"{h['surveyed_at']} is after {today:%d/%m/%Y}", index=raw.index),
    )
    scores = {}
    for column in SURVEY_ITEM_COLUMNS:
        values = parse_cells(raw, column, _parse_score, problems, header=h[column])
        scores[column] = pd.array(values.tolist(), dtype="Int64")
    frame = pd.DataFrame(
        {
            "respondent_id": ids,
            "unit_code": unit_columns["unit_code"],
            "district_code": unit_columns["district_code"],
            "surveyed_at": surveyed,
            "field": optional_text(raw, "field"),
            **scores,
        },
        index=raw.index,
    )
    return coerce_survey(frame[problems.passed(len(raw))]), problems
