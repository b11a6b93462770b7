"""Rate tables the sections share: Wilson bounds beside a rate, units placed on a funnel.

Numbers only (columns added to DataFrames); the words and charts around them live in the
sections.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pandas as pd

from cchc_analysis import stats
from cchc_analysis.core.metrics import RATES, rate_denominator


def with_wilson(table: pd.DataFrame, rate: str, *, prefix: str | None = None) -> pd.DataFrame:
    """Add ``<rate>_low``/``<rate>_high`` Wilson 95% bounds from the rate's own counts (over
    the rows whose inputs are known; NaN where the rate has no data)."""
    definition = RATES[rate]
    numerator = table[list(definition.numerator)].apply(pd.to_numeric, errors="coerce")
    successes = numerator.sum(axis=1, min_count=len(definition.numerator)).to_numpy(float)
    trials = rate_denominator(table, rate).to_numpy(float)
    low, high = stats.wilson_interval(successes, trials)
    name = prefix or rate
    table = table.copy()
    table[f"{name}_low"], table[f"{name}_high"] = low, high
    return table


# Funnel frames by their table's content: a commune report places its province's communes
# twice (its summary and its funnel), and every report of the province the same communes.
_FUNNELS: OrderedDict[tuple[object, ...], pd.DataFrame] = OrderedDict()
_MAX_FUNNELS = 8


def funnel_frame(table: pd.DataFrame) -> pd.DataFrame:
    """Late rate of each unit placed on the funnel (band per unit), with the pooled target
    (computed once per content; a copy each time)."""
    key = tuple(  # as text: a missing count (NA) never compares equal to anything
        repr(table[column].tolist())
        for column in ("unit_code", "short_name", "resolved_late_count", "resolved_total_count")
    )
    frame = _FUNNELS.get(key)
    if frame is None:
        frame = _FUNNELS[key] = _funnel_frame(table)
        while len(_FUNNELS) > _MAX_FUNNELS:
            _FUNNELS.popitem(last=False)
    copy = frame.copy()  # pandas copies attrs deeply
    return copy


def _funnel_frame(table: pd.DataFrame) -> pd.DataFrame:
    outliers = stats.funnel_outliers(
        table["resolved_late_count"].to_numpy(), table["resolved_total_count"].to_numpy()
    )
    out = table[["unit_code", "short_name"]].reset_index(drop=True).copy()
    out["trials"] = table["resolved_total_count"].to_numpy()
    out["rate"] = outliers["rate"].to_numpy()
    out["band"] = outliers["band"].astype("string").to_numpy()
    out.attrs = outliers.attrs
    out.attrs["target"] = float(outliers["target"].iloc[0]) if len(outliers) else np.nan
    return out
