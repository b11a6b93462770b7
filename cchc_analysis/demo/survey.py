"""The demo satisfaction survey: SIPAS-style respondents scoring items 1–5.

Each district draws from its own stream (seeded from the seed and the district code), so a
subset of districts yields exactly those districts' respondents of the full run.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Final

import numpy as np
import pandas as pd

from cchc_analysis.core.schema import (
    SURVEY_COLUMNS,
    SURVEY_ITEM_COLUMNS,
    SURVEY_SCORE_MAX,
    SURVEY_SCORE_MIN,
)
from cchc_analysis.core.workdays import business_calendar
from cchc_analysis.demo.catalogue import (
    DISTRICT_PROFILES,
    check_districts,
    procedure_table,
)
from cchc_analysis.demo.model import (
    DEFAULT_SEED,
    DEMO_END,
    DEMO_START,
    OLD_ERA_END,
    trend_years,
)

# How each aspect and item sits relative to a respondent's overall satisfaction.
_ASPECT_OFFSETS: Final = {
    "access": 0.15,
    "procedure": 0.0,
    "staff": 0.1,
    "result": 0.05,
    "feedback": -0.3,
}
_ITEM_OFFSETS: Final = (0.05, 0.0, -0.05)
# Cut points of the latent score between 1|2, 2|3, 3|4 and 4|5.
_SURVEY_CUTS: Final = np.array([-2.5, -1.8, -0.9, 0.9])


def generate_survey(
    seed: int = DEFAULT_SEED,
    district_codes: Sequence[str] | None = None,
    start: date = DEMO_START,
    end: date = DEMO_END,
) -> pd.DataFrame:
    """SIPAS-style respondents: a few hundred per district and year, items scored 1–5.

    Respondents of the old districts only, so surveyed until the districts' last day (30 June
    2025) at the latest.

    Scores of one respondent move together (one latent satisfaction plus item noise); the
    districts that are worse on timeliness score lower; overall about 80–85% answer 4 or 5.
    """
    if end < start:
        raise ValueError(f"end {end} is before start {start}")
    codes = check_districts(district_codes)
    cal = business_calendar()
    end = min(end, OLD_ERA_END)
    all_days = np.arange(np.datetime64(start, "D"), np.datetime64(end, "D") + 1)
    work_days = all_days[np.is_busday(all_days, busdaycal=cal)]
    table = procedure_table()
    local = np.flatnonzero(table["level_index"] <= 1)
    if not np.array_equal(local, np.arange(len(local))):
        raise ValueError("PROCEDURES must list the district and commune tiers first")
    frames = []
    for code in codes:
        rng = np.random.default_rng([int(seed), int(code), 2])
        profile = DISTRICT_PROFILES[code]
        n = int(round(profile.survey_per_year * len(all_days) / 365.25))
        if n == 0 or len(work_days) == 0:
            continue
        surveyed = np.sort(rng.choice(work_days, n))
        tier_volume = np.array([profile.office_volume, profile.commune_volume])
        # The district's tiers only (its offices' and its communes' procedures come first).
        level_index = table["level_index"][local]
        tier_weight = np.array([table["weight"][local][level_index == lvl].sum() for lvl in (0, 1)])
        weights = tier_volume[level_index] * table["weight"][local] / tier_weight[level_index]
        proc = rng.choice(len(weights), n, p=weights / weights.sum())
        theta = profile.survey_mean + 0.12 * trend_years(surveyed) + rng.normal(0.0, 0.9, n)
        scores = {}
        for aspect, a_off in _ASPECT_OFFSETS.items():
            for i, i_off in enumerate(_ITEM_OFFSETS, start=1):
                latent = theta + a_off + i_off + rng.normal(0.0, 0.55, n)
                score = SURVEY_SCORE_MIN + np.searchsorted(_SURVEY_CUTS, latent)
                scores[f"{aspect}__item{i}"] = np.clip(score, SURVEY_SCORE_MIN, SURVEY_SCORE_MAX)
        frame = pd.DataFrame(
            {
                "respondent_id": pd.array(
                    [f"KS-{code}-{i:05d}" for i in range(1, n + 1)], dtype="string"
                ),
                "unit_code": pd.array([code] * n, dtype="string"),
                "district_code": pd.array([code] * n, dtype="string"),
                "surveyed_at": surveyed.astype("datetime64[ms]"),
                "field": pd.array(table["field"][proc].tolist(), dtype="string"),
                **{c: scores[c].astype(np.int64) for c in SURVEY_ITEM_COLUMNS},
            }
        )
        frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=list(SURVEY_COLUMNS))
    return pd.concat(frames, ignore_index=True)
