"""Whether a unit's data reaches back before a period: otherwise its carried-over count is
unknown.

Biểu 06's "từ kỳ trước chuyển sang" counts dossiers received before the period and still open
when it starts. When a unit's first dossier in the folder falls inside the period (the export
starts after the period does, or the unit is new), nothing is known about what it carried
over: the count reads 0 but means "no data". :func:`has_full_history` says which units have
dossiers received before the period starts, by asking the same question (level, tier, era)
for every earlier month; the cube answers it cheaply.
"""

from __future__ import annotations

import os
from datetime import date, timedelta

import pandas as pd

from cchc_analysis import store
from cchc_analysis.core.errors import PeriodReportError, UnitNotInDataError
from cchc_analysis.core.periods import Period
from cchc_analysis.counting.counts import recorded_unit_counts
from cchc_analysis.counting.new_units import one_province
from cchc_analysis.counting.query import CountQuery
from cchc_analysis.counting.rollup import rollup_counts

# Before any one-stop system: the earliest day an earlier-data question reaches back to.
HISTORY_START = date(2000, 1, 1)


def has_full_history(
    data_dir: str | os.PathLike[str], query: CountQuery, unit_codes: list[str]
) -> pd.Series:
    """True per unit code when the unit has dossiers received before the query's period.

    The earlier range ends with the last whole month before the period (the cube's grain): a
    unit whose data starts between the 1st of the period's first month and its start (a
    cut-off period, which starts on the 15th) is taken as having no earlier data, the cautious
    answer. A folder of Biểu 06 rows only: True (the form states the carried-over count).
    """
    result = pd.Series(False, index=pd.Index(unit_codes, dtype=object), dtype=bool)
    if not store.has_dossiers(data_dir):
        return ~result
    last = query.period.start.replace(day=1) - timedelta(days=1)
    if last < HISTORY_START or not unit_codes:
        return result
    earlier = Period(HISTORY_START, last, "", "range")
    try:
        asked = query.with_options(period=earlier, unit_codes=unit_codes, by_field=False)
        if asked.is_era_2025:
            # Every unit of the level (of the units' province, when they share one), so that a
            # unit without earlier data is simply False, not an error that makes every unit so.
            province = one_province(asked)
            counts = rollup_counts(data_dir, asked.with_options(unit_codes=None), province=province)
        else:
            counts = recorded_unit_counts(data_dir, asked)
    except (UnitNotInDataError, PeriodReportError):
        return result
    has_earlier = counts.groupby(counts["unit_code"].astype(str))["received_new_count"].sum() > 0
    return result | has_earlier.reindex(result.index, fill_value=False).astype(bool)
