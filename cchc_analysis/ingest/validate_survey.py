"""Row checks of a satisfaction-survey export: raw cells in, canonical survey rows out
(:data:`SURVEY_COLUMNS`), and a reason for every row left out.

A row needs a respondent id and a survey date that is not after the day of ingest; each item
score present must be a whole number from 1 to 5; a unit, when the export has one, is read in
the registry of the survey date's era (:func:`cchc_analysis.units.resolve_office`). The survey
table has no era column yet, so a row whose unit is of the registry from 1 July 2025 is
refused (``survey_era_not_stored``) rather than stored under a code that is ambiguous.
"""

from __future__ import annotations

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
from cchc_analysis.ingest.unit_matching import ResolutionLog, resolve_dated_units
from cchc_analysis.store.tables import coerce_survey
from cchc_analysis.units import ERA_2025, UnitMap


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
    unit_map: UnitMap | None = None,
    log: ResolutionLog | None = None,
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
    date_problems = Problems()  # read before the units (they need the era), listed after
    surveyed = parse_cells(
        raw,
        "surveyed_at",
        parse_datetime,
        date_problems,
        header=h["surveyed_at"],
        is_required=True,
        as_datetime=True,
    )
    days = as_days(surveyed)
    date_problems.add_mask(
        ~np.isnat(days) & (days > np.datetime64(today, "D")),
        h["surveyed_at"],
        "future_date",
        pd.Series(f"{h['surveyed_at']} is after {today:%d/%m/%Y}", index=raw.index),
    )
    has_unit = "unit_code" in raw or "unit_name" in raw
    if has_unit:
        matches = resolve_dated_units(raw, surveyed, province=province, unit_map=unit_map)
        header = h["unit_code"] if "unit_code" in raw else h["unit_name"]
        matches.add_problems(problems, header)
        unit_columns = matches.unit_columns()
        problems.add_mask(
            unit_columns["era"] == ERA_2025,
            header,
            "survey_era_not_stored",
            pd.Series("the unit is of the registry from 1 July 2025", index=raw.index),
        )
    else:
        nothing = np.full(len(raw), None, dtype=object)
        unit_columns = {"unit_code": nothing, "district_code": nothing}
    problems.items.extend(date_problems.items)
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
    passed = problems.passed(len(raw))
    if log is not None and has_unit:
        log.add(matches, passed)
    return coerce_survey(frame[passed]), problems
