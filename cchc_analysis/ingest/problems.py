"""Why a row is refused: the reason codes, the list that collects them, and the column readers
that fill it.

Every check of :mod:`validate_dossiers`, :mod:`validate_period_reports` and
:mod:`validate_survey` records its findings in a :class:`Problems` list (row position, source
column, reason code, message), so nothing is dropped silently: the ingest report and the rejects
file are built from it. The reason codes and their plain-language meaning are :data:`REASONS`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import pandas as pd

from cchc_analysis.ingest.parsing import parse_column, text_column

REASONS: Final[dict[str, str]] = {
    "missing_dossier_id": "no dossier id",
    "missing_value": "a required cell is blank",
    "bad_date": "date cannot be read",
    "impossible_date": "date does not exist",
    "future_date": "date after the day of ingest",
    "due_too_far": "due date more than a year after the day of ingest",
    "due_before_received": "due date before receipt",
    "resolved_before_received": "resolution before receipt",
    "supplement_before_request": "supplement returned before it was requested",
    "missing_resolution_date": "closed status without a resolution date",
    "unknown_status": "status not recognised",
    "unknown_channel": "channel not recognised",
    "unknown_online_level": "online level not recognised",
    "unknown_rating": "rating not recognised",
    "unknown_flag": "yes/no value not recognised",
    "unknown_unit": "unit not in the registry",
    "ambiguous_unit": "unit name matches several units",
    "not_an_office": "unit is not a district or commune",
    "code_not_in_era": "unit code not in the registry of the receipt date's era",
    "unit_not_in_era": "unit name not in the registry of the receipt date's era",
    "name_contradicts_code": "unit name names another unit than the unit code",
    "district_after_reform": "district named for a dossier received from 1 July 2025",
    "survey_era_not_stored": "survey unit from 1 July 2025: the survey table has no era yet",
    "non_numeric_count": "count is not a whole number",
    "negative_count": "count is negative",
    "parts_do_not_add_up": "Biểu 06 parts do not add up",
    "bad_period": "period cannot be read",
    "bad_score": "survey score outside 1–5",
    "duplicate_conflict": "duplicate id with conflicting content",
}


@dataclass
class Problems:
    """Reasons found per row position: (position, source column, reason code, message)."""

    items: list[tuple[int, str, str, str]] = field(default_factory=list)

    def add(
        self, positions: Iterable[int], column: str, code: str, messages: Sequence[str]
    ) -> None:
        self.items.extend(
            (int(p), column, code, m) for p, m in zip(positions, messages, strict=True)
        )

    def add_mask(
        self, mask: np.ndarray, column: str, code: str, messages: pd.Series[str] | str
    ) -> None:
        """The positions where ``mask`` is True, each with its message (``messages`` aligned
        with the mask), or one message for all."""
        where = np.flatnonzero(mask).tolist()
        if isinstance(messages, str):
            self.add(where, column, code, [messages] * len(where))
        else:
            self.add(where, column, code, messages.iloc[where].tolist())

    def positions(self) -> set[int]:
        return {p for p, *_ in self.items}

    def passed(self, row_count: int) -> np.ndarray:
        """True for each of ``row_count`` positions that has no problem."""
        keep = np.ones(row_count, dtype=bool)
        keep[list(self.positions())] = False
        return keep

    def frame(self) -> pd.DataFrame:
        """One row per rejected position: all columns and reasons joined, first code kept."""
        if not self.items:
            return pd.DataFrame(columns=["position", "column", "reason_code", "reason"])
        raw = pd.DataFrame(self.items, columns=["position", "column", "reason_code", "reason"])
        grouped = raw.groupby("position", sort=True)
        return pd.DataFrame(
            {
                "column": grouped["column"].agg(lambda s: "; ".join(dict.fromkeys(s))),
                "reason_code": grouped["reason_code"].first(),
                "reason": grouped["reason"].agg("; ".join),
            }
        ).reset_index()


# --- reading raw columns, every failure recorded -----------------------------------------------


def parse_cells(
    raw: pd.DataFrame,
    column: str,
    parser: Callable[[Any], Any],
    problems: Problems,
    *,
    header: str,
    is_required: bool = False,
    as_datetime: bool = False,
    dtype: str | pd.CategoricalDtype | None = None,
) -> pd.Series:
    """The parsed values of one canonical column (all blank when the file lacks it); each cell
    that does not parse, or a blank one when ``is_required``, is added to ``problems`` under
    the source ``header``. ``dtype``: the values' extension dtype (see :func:`parse_column`),
    else objects."""
    if column not in raw:
        empty = "datetime64[ms]" if as_datetime else (object if dtype is None else dtype)
        return pd.Series(None, index=raw.index, dtype=empty)
    values, codes, messages = parse_column(
        raw[column], parser, as_datetime=as_datetime, dtype=dtype
    )
    bad = codes.notna().to_numpy()
    for code in codes[bad].unique():
        problems.add_mask((codes == code).to_numpy(), header, code, messages)
    if is_required:
        blank = values.isna().to_numpy() & ~bad
        problems.add_mask(blank, header, "missing_value", f"{header} is blank")
    return values


def as_days(values: pd.Series) -> np.ndarray:
    """Timestamps as calendar days (NaT stays NaT)."""
    return values.to_numpy(dtype="datetime64[ms]").astype("datetime64[D]")


def optional_text(raw: pd.DataFrame, column: str, *, as_string: bool = False) -> pd.Series:
    """The cleaned text of a canonical column, or all blank when the file lacks it; objects,
    or the ``string`` dtype with ``as_string`` (see :func:`text_column`)."""
    if column not in raw:
        return pd.Series(None, index=raw.index, dtype="string" if as_string else object)
    return text_column(raw[column], as_string=as_string)
