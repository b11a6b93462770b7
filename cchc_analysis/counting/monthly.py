"""Monthly series from cube rows: one row per unit × month, dense, with the carried-over stock.

Both eras end here: ``counts.recorded_monthly_counts`` (the units the data was recorded under)
and ``rollup_monthly.rollup_monthly_counts`` (the units of the 2025 reform, old rows mapped
through the crosswalk) choose and key the cube rows; this module only sums them per month.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import numpy as np
import pandas as pd

from cchc_analysis.core.metrics import add_metrics, fill_known_counts
from cchc_analysis.counting.cube import CUBE_FLOW_COLUMNS, CUBE_STOCK_COLUMNS


def monthly_series(
    cube: pd.DataFrame,
    keys: Sequence[str],
    *,
    since: date | str | pd.Timestamp,
    end: date | str | pd.Timestamp,
    unit_key: str,
    count_waiting_as_on_time: bool | None = None,
    each_from_own_start: bool = False,
) -> pd.DataFrame:
    """Counts per ``keys`` × month of the cube rows, with rates; carried over from cumulative
    flows. The months run from ``since`` to ``end``; ``unit_key`` is renamed to unit_code;
    ``count_waiting_as_on_time`` chooses the progress criterion's rule (``metrics``).

    The dense months start at the rows' first month; with ``each_from_own_start``, each unit's
    at its own first month, so that a unit's rows are those it would get asked for alone
    (:func:`unit_rows` takes them out of a province's series).

    A blank key (an export without the channel column) is a group of its own, never dropped:
    the months' totals stay whole. A rate none of whose input rows is known is NaN."""
    keys = list(keys)
    columns = [*CUBE_FLOW_COLUMNS, *CUBE_STOCK_COLUMNS]
    cube = fill_known_counts(cube)  # a cube built before the known counts: all known
    grouped = (
        cube.groupby([*keys, "month"], observed=True, dropna=False)[columns].sum().reset_index()
    )
    # Dense months per group so that cumulative sums and charts have no holes: every group's
    # months at once (a loop per group costs a province's hundred units a second).
    months = pd.date_range(grouped["month"].min(), pd.Timestamp(end), freq="MS")
    groups = grouped[keys].drop_duplicates(ignore_index=True)
    dense = groups.loc[groups.index.repeat(len(months))].reset_index(drop=True)
    dense.insert(0, "month", np.tile(months.to_numpy(), len(groups)))
    dense = dense.astype({key: object for key in keys})
    join = [*keys, "month"]
    values = grouped.astype({key: object for key in keys}).set_index(join)[columns]
    found = values.reindex(pd.MultiIndex.from_frame(dense[join]))
    dense[columns] = found.fillna(0).astype("int64").to_numpy()
    # Stocks are dense in the cube only where something is pending; holes mean zero.
    group = np.repeat(np.arange(len(groups)), len(months))
    flows = dense[["received_new_count", "closed_count"]]
    before = flows.groupby(group).cumsum() - flows
    dense["carried_over_count"] = before["received_new_count"] - before["closed_count"]
    if each_from_own_start:
        first = grouped.groupby(unit_key, observed=True)["month"].min()
        dense = dense[dense["month"] >= dense[unit_key].map(first)].reset_index(drop=True)
    dense = type_keys(dense, keys)
    out = dense if len(groups) else grouped.iloc[0:0]
    out = out[
        (out["month"] >= pd.Timestamp(since).to_period("M").to_timestamp())
        & (out["month"] <= pd.Timestamp(end))
    ]
    out["received_total_count"] = out["received_new_count"] + out["carried_over_count"]
    out["resolved_total_count"] = (
        out["resolved_early_count"] + out["resolved_on_time_count"] + out["resolved_late_count"]
    )
    out["pending_total_count"] = out["pending_in_time_count"] + out["pending_late_count"]
    out["timely_766_count"] = out["resolved_timely_766_count"] + out["pending_timely_766_count"]
    out = out.rename(columns={unit_key: "unit_code"})
    return add_metrics(
        out.reset_index(drop=True), count_waiting_as_on_time=count_waiting_as_on_time
    )


def type_keys(frame: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    """Each key typed as its values (text), but object beside a blank group, as concatenated."""
    frame = frame.copy(deep=False)  # the keys' columns replaced, the others shared
    for key in keys:
        column = frame[key].astype(object)
        frame[key] = column.infer_objects() if column.notna().all() else column
    return frame


def unit_rows(series: pd.DataFrame, codes: Sequence[str], keys: Sequence[str]) -> pd.DataFrame:
    """The rows of ``codes`` in a series of many units made ``each_from_own_start``: the same
    frame as the series of those units alone (keys typed by their own rows)."""
    rows = series[series["unit_code"].isin(list(codes))].reset_index(drop=True)  # a few: cheap
    return type_keys(rows, ["unit_code", *keys])
