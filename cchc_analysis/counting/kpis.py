"""KPI tables per unit and period: the numbers behind ``cchc kpis`` and every report.

:func:`count_table` and :func:`monthly_counts` dispatch on the query's era: the units the data
was recorded under (``counts``) or the units of the 2025 reform (``rollup``, ``rollup_monthly``).
:func:`kpi_table` adds every catalogue rate and the units' names; :func:`kpi_records` makes a
table JSON-ready.

Missing data stays missing: an indicator whose export column a unit's rows lack (fee-bearing,
digitised, paid online, channel, online level) is null in the table, in JSON and in CSV, never
0; its counts too. Where only some rows have the column (a province of districts with and
without it), the rate is over the rows that have it and the ``*_known_count`` columns say how
many (``metrics.COVERAGES``), so a report can footnote the coverage.
"""

from __future__ import annotations

import os
from collections.abc import Hashable, Sequence
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from cchc_analysis import units
from cchc_analysis.core import targets
from cchc_analysis.core.metrics import add_metrics, null_unknown_counts
from cchc_analysis.counting.aggregates import mark_undefined
from cchc_analysis.counting.counts import recorded_monthly_counts, recorded_unit_counts
from cchc_analysis.counting.history import has_full_history
from cchc_analysis.counting.new_units import one_province
from cchc_analysis.counting.query import CountQuery
from cchc_analysis.counting.rollup import rollup_counts
from cchc_analysis.counting.rollup_monthly import rollup_monthly_counts
from cchc_analysis.counting.shared import shared_frame


def count_table(data_dir: str | os.PathLike[str], query: CountQuery) -> pd.DataFrame:
    """Biểu 06 counts per unit (× field) for the query's period and level.

    Era 2025 rolls the data up onto the new provinces or communes (``rollup``). A folder with
    period reports but no dossiers answers from the aggregate rows (``aggregates``).
    """
    if query.is_era_2025:
        return rollup_counts(data_dir, query)
    return recorded_unit_counts(data_dir, query)


def monthly_counts(
    data_dir: str | os.PathLike[str],
    query: CountQuery,
    *,
    since: date | str | pd.Timestamp,
    extra_keys: Sequence[str] = (),
) -> pd.DataFrame:
    """Counts per unit × month with rates, from ``since`` to the end of the query's period:
    the recorded units (``counts``) or the units of the 2025 reform (``rollup_monthly``).
    ``extra_keys`` (e.g. "channel") split the rows further."""
    if query.is_era_2025:
        return rollup_monthly_counts(data_dir, query, since=since, extra_keys=extra_keys)
    return recorded_monthly_counts(data_dir, query, since=since, extra_keys=extra_keys)


def unit_label(code: str, level: str, era: str = units.ERA_PRE_2025) -> str:
    """Official name of a unit of the era from the registry (the code itself when unknown)."""
    try:
        return units.get_unit(code, era=era, level=level).name
    except (KeyError, ValueError):
        return code


def kpi_table(data_dir: str | os.PathLike[str], query: CountQuery) -> pd.DataFrame:
    """Counts plus every catalogue rate, one row per unit, with names and period bounds; an
    indicator without data (its export column absent) is missing (None/NaN), not 0."""
    counts = count_table(data_dir, query)
    table = mark_undefined(null_unknown_counts(_rates(data_dir, query, counts)))
    if "unit_name" not in table:
        names = [unit_label(c, query.level, query.era) for c in table["unit_code"]]
        table.insert(1, "unit_name", names)
    table["period_start"] = query.period.start.isoformat()
    table["period_end"] = query.period.end.isoformat()
    table["convention"] = query.period.convention
    # False: the unit's data starts within the period, so its carried-over count is unknown
    codes = [str(c) for c in table["unit_code"]]
    history = has_full_history(data_dir, query, sorted(set(codes)))
    table["has_full_history"] = [bool(history[c]) for c in codes]
    return table


def _rates(
    data_dir: str | os.PathLike[str], query: CountQuery, counts: pd.DataFrame
) -> pd.DataFrame:
    """``add_metrics(counts)``. For some units of the 2025 reform (a commune report asks for
    its own row three times), the rows of every unit's rates, computed once per folder state
    and shared (``shared``): the rates are row by row, so they are the same numbers; when the
    rows are not exactly ``counts`` (other branches of the roll-up), computed directly."""
    waiting = query.count_waiting_as_on_time
    if query.is_era_2025 and query.unit_codes:
        every = query.with_options(unit_codes=None)
        convention = targets.count_waiting_as_on_time() if waiting is None else waiting
        province = one_province(query)  # a commune's: its province's communes, not the nation's

        def every_counts() -> pd.DataFrame:
            if province is None:
                return count_table(data_dir, every)
            return rollup_counts(data_dir, every, province=province)

        every_rates = shared_frame(
            data_dir,
            ("rates", every, convention, province),
            lambda: add_metrics(every_counts(), count_waiting_as_on_time=waiting),
        )
        wanted = every_rates["unit_code"].isin(set(counts["unit_code"]))
        rates = every_rates[wanted.to_numpy()].reset_index(drop=True)
        if list(rates.columns[: len(counts.columns)]) == list(counts.columns) and rates[
            list(counts.columns)
        ].equals(counts):
            return rates
    return add_metrics(counts, count_waiting_as_on_time=waiting)


def kpi_records(table: pd.DataFrame) -> list[dict[Hashable, Any]]:
    """JSON-ready records: NaN becomes None, numpy scalars become Python numbers."""
    records = []
    for row in table.to_dict(orient="records"):
        clean: dict[Hashable, Any] = {}
        for key, value in row.items():
            if value is pd.NA or (isinstance(value, float | np.floating) and np.isnan(value)):
                clean[key] = None
            elif isinstance(value, np.integer):
                clean[key] = int(value)
            elif isinstance(value, np.floating):
                clean[key] = float(value)
            elif isinstance(value, pd.Timestamp):
                clean[key] = value.date().isoformat()
            else:
                clean[key] = value
        records.append(clean)
    return records
