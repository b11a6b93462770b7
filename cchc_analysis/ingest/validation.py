"""Row checks: raw cells in, canonical rows out, and a reason for every row left out.

Each ``validate_*`` function takes the raw cells of one file (canonical column -> raw values,
as :mod:`headers` or :mod:`bieu06` located them) and returns the canonical rows that passed
and a :class:`Problems` list naming, for each failed row, the source column and the reason.
Nothing is dropped silently: the ingest report and the rejects file are built from these.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Final

import numpy as np
import pandas as pd

from cchc_analysis import units
from cchc_analysis.core.periods import Period
from cchc_analysis.core.schema import (
    BIEU06_COUNT_COLUMNS,
    CLOSED_WITHOUT_RESULT_STATUSES,
    COUNT_COLUMNS,
    DOSSIER_COLUMNS,
    RESULT_STATUSES,
    SURVEY_COLUMNS,
    SURVEY_ITEM_COLUMNS,
    SURVEY_SCORE_MAX,
    SURVEY_SCORE_MIN,
    coerce_dossiers,
)
from cchc_analysis.ingest.parsing import (
    ParseError,
    clean_text,
    find_period,
    parse_bool,
    parse_channel,
    parse_column,
    parse_count,
    parse_datetime,
    parse_online_level,
    parse_rating,
    parse_status,
    show,
    text_column,
)
from cchc_analysis.store.tables import (
    PERIOD_REPORT_COLUMNS,
    coerce_period_reports,
    coerce_survey,
)
from cchc_analysis.units.registry import era_of

REASONS: Final[dict[str, str]] = {
    "missing_dossier_id": "no dossier id",
    "missing_value": "a required cell is blank",
    "bad_date": "date cannot be read",
    "impossible_date": "date does not exist",
    "future_date": "date after the day of ingest",
    "due_before_received": "due date before receipt",
    "resolved_before_received": "resolution before receipt",
    "missing_resolution_date": "closed status without a resolution date",
    "unknown_status": "status not recognised",
    "unknown_channel": "channel not recognised",
    "unknown_online_level": "online level not recognised",
    "unknown_rating": "rating not recognised",
    "unknown_flag": "yes/no value not recognised",
    "unknown_unit": "unit not in the registry",
    "ambiguous_unit": "unit name matches several units",
    "not_an_office": "unit is not a district or commune",
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

    def add(self, positions: Sequence[int], column: str, code: str, messages: Sequence[str]):
        self.items.extend(
            (int(p), column, code, m) for p, m in zip(positions, messages, strict=True)
        )

    def add_mask(self, mask: np.ndarray, column: str, code: str, messages: pd.Series) -> None:
        where = np.flatnonzero(mask)
        self.add(where, column, code, [messages.iat[i] for i in where])

    def positions(self) -> set[int]:
        return {p for p, *_ in self.items}

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


# --- units -------------------------------------------------------------------------------------

_OFFICE_PREFIX = re.compile(
    r"^(?:(?:UBND|[UÚ]ỷ ban nhân dân|Ủy ban nhân dân)|"
    r"Bộ phận (?:một cửa|tiếp nhận và trả kết quả|TN ?& ?TKQ)(?: của)?(?: UBND)?)\s*[:\-]?\s*",
    re.IGNORECASE,
)
_ROW_NUMBER = re.compile(r"^\s*(?:\d+|[IVX]+)[.)]\s+")


def office_name(name: str) -> str:
    """A unit name without the office wording around it: "UBND huyện Kiến Thụy" -> "huyện
    Kiến Thụy", "1. Xã Đại Đồng" -> "Xã Đại Đồng"."""
    text = _ROW_NUMBER.sub("", name)
    previous = None
    while previous != text:
        previous, text = text, _OFFICE_PREFIX.sub("", text).strip()
    return text or name


@dataclass(frozen=True)
class UnitMatch:
    """The unit a row belongs to, or why none could be chosen."""

    unit: units.Unit | None
    code: str | None = None  # reason code when unit is None
    message: str | None = None


def resolve_row_unit(
    code: Any,
    name: Any,
    province: str | None,
    era: str = units.ERA_PRE_2025,
    levels: Sequence[str] = ("district", "commune"),
) -> UnitMatch:
    """Resolve a unit from a code cell and/or a name cell.

    A GSO code (digits) decides, and an unknown one is rejected; a name is used when there is
    no code or the code is not a GSO code (e.g. an agency's electronic ID "000.00.14.H31").

    Close matches are never accepted: an unknown name is rejected with the closest known
    names; a name shared by several units asks for ``--province`` or a code.
    """
    code_text, name_text = clean_text(code), clean_text(name)
    unit = None
    try:
        if code_text and code_text.isdigit():
            # A wrong GSO code is an error even when a name is given: which one is right?
            unit = units.resolve_unit(code_text, province_code=province, era=era)
        if unit is None and name_text:
            unit = units.resolve_unit(office_name(name_text), province_code=province, era=era)
        if unit is None:
            shown = show(code_text) if code_text else "(blank)"
            return UnitMatch(
                None,
                "unknown_unit" if code_text else "missing_value",
                f"unit code {shown} is not a GSO unit code and no unit name is given"
                if code_text
                else "no unit code or name",
            )
    except units.AmbiguousUnitError as exc:
        listed = "; ".join(_describe(u) for u in exc.candidates[:6])
        more = f" and {len(exc.candidates) - 6} more" if len(exc.candidates) > 6 else ""
        typed = name_text or code_text
        return UnitMatch(
            None,
            "ambiguous_unit",
            f"{typed!r} matches {len(exc.candidates)} units: {listed}{more}; "
            + ("give the unit code" if province else "pass --province or give the unit code"),
        )
    except (units.UnknownUnitError, ValueError) as exc:
        return UnitMatch(None, "unknown_unit", str(exc))
    if unit.level not in levels:
        return UnitMatch(
            None,
            "not_an_office",
            f"{unit} is a {unit.level}; rows must belong to a {' or '.join(levels)}",
        )
    return UnitMatch(unit)


def _describe(unit: units.Unit) -> str:
    above = units.parent(unit.code, era=unit.era, level=unit.level)
    return f"{unit.name} ({unit.level} {unit.code}" + (f", {above.name})" if above else ")")


def district_code_of(unit: units.Unit) -> str | None:
    """Partition key: the pre-2025 district a unit belongs to (itself for a district)."""
    if unit.era != units.ERA_PRE_2025:
        return None
    if unit.level == "district":
        return unit.code
    if unit.level == "commune":
        return unit.parent_code
    return None


@dataclass
class _UnitMatches:
    """Resolved units per distinct (code, name, era) and the index of each row's match."""

    resolved: list[UnitMatch]
    group: np.ndarray

    def column(self, attribute: Callable[[units.Unit], Any]) -> np.ndarray:
        table = np.empty(len(self.resolved), dtype=object)
        table[:] = [attribute(m.unit) if m.unit else None for m in self.resolved]
        return table[self.group]


def _resolve_units(
    raw: pd.DataFrame, province: str | None, era_of_row: pd.Series, levels: Sequence[str]
) -> _UnitMatches:
    blank = pd.Series(None, index=raw.index, dtype=object)
    codes = text_column(raw["unit_code"]) if "unit_code" in raw else blank
    names = text_column(raw["unit_name"]) if "unit_name" in raw else blank
    keys = pd.DataFrame({"code": codes, "name": names, "era": era_of_row.astype(object)})
    group, uniques = pd.MultiIndex.from_frame(keys.fillna("")).factorize()
    resolved = [
        resolve_row_unit(code or None, name or None, province, era, levels)
        for code, name, era in uniques
    ]
    return _UnitMatches(resolved, np.asarray(group, dtype=np.int64))


def _unit_columns(matches: _UnitMatches) -> dict[str, np.ndarray]:
    return {
        "unit_code": matches.column(lambda u: u.code),
        "unit_name": matches.column(lambda u: u.name),
        "unit_level": matches.column(lambda u: u.level),
        "district_code": matches.column(district_code_of),
        "era": matches.column(lambda u: u.era),
    }


def _add_unit_problems(problems: Problems, matches: _UnitMatches, header: str) -> None:
    for index, match in enumerate(matches.resolved):
        if match.unit is None:
            where = np.flatnonzero(matches.group == index)
            problems.add(
                where, header, match.code or "unknown_unit", [match.message or ""] * len(where)
            )


# --- dossiers ----------------------------------------------------------------------------------


def _parse(
    raw: pd.DataFrame,
    column: str,
    parser: Callable[[Any], Any],
    problems: Problems,
    header: str,
    required: bool = False,
    as_datetime: bool = False,
) -> pd.Series:
    if column not in raw:
        dtype = "datetime64[ms]" if as_datetime else object
        return pd.Series(None, index=raw.index, dtype=dtype)
    values, codes, messages = parse_column(raw[column], parser, as_datetime=as_datetime)
    bad = codes.notna().to_numpy()
    for code in codes[bad].unique():
        problems.add_mask((codes == code).to_numpy(), header, code, messages)
    if required:
        blank = values.isna().to_numpy() & ~bad
        problems.add_mask(
            blank, header, "missing_value", pd.Series(f"{header} is blank", index=raw.index)
        )
    return values


def _days(values: pd.Series) -> np.ndarray:
    return values.to_numpy(dtype="datetime64[ms]").astype("datetime64[D]")


def _text_column(raw: pd.DataFrame, column: str) -> pd.Series:
    if column not in raw:
        return pd.Series(None, index=raw.index, dtype=object)
    return text_column(raw[column])


def validate_dossiers(
    raw: pd.DataFrame,
    headers: dict[str, str],
    province: str | None = None,
    today: date | None = None,
) -> tuple[pd.DataFrame, Problems]:
    """Canonical dossier rows (``schema.DOSSIER_DTYPES``) from raw cells, and the problems.

    ``raw`` has canonical column names and a positional index; ``headers`` maps them to the
    source headers used in messages. Units are read in the pre-2025 registry.
    """
    today = today or date.today()
    raw = raw.reset_index(drop=True)
    problems = Problems()
    h = {c: headers.get(c, c) for c in DOSSIER_COLUMNS}

    ids = _text_column(raw, "dossier_id")
    problems.add_mask(
        ids.isna().to_numpy(),
        h["dossier_id"],
        "missing_dossier_id",
        pd.Series("no dossier id", index=raw.index),
    )
    matches = _resolve_units(
        raw, province, pd.Series(units.ERA_PRE_2025, index=raw.index), ("district", "commune")
    )
    _add_unit_problems(problems, matches, h["unit_code"] if "unit_code" in raw else h["unit_name"])

    dates = {}
    for column, required in (
        ("received_at", True),
        ("due_at", True),
        ("resolved_at", False),
        ("returned_at", False),
    ):
        dates[column] = _parse(
            raw, column, parse_datetime, problems, h[column], required, as_datetime=True
        )
    received, due = _days(dates["received_at"]), _days(dates["due_at"])
    resolved, returned = _days(dates["resolved_at"]), _days(dates["returned_at"])
    limit = np.datetime64(today, "D")
    for column, days in (
        ("received_at", received),
        ("resolved_at", resolved),
        ("returned_at", returned),
    ):
        future = ~np.isnat(days) & (days > limit)
        message = f"{h[column]} is after the day of ingest {today:%d/%m/%Y}"
        problems.add_mask(future, h[column], "future_date", pd.Series(message, index=raw.index))
    both = ~np.isnat(received) & ~np.isnat(due)
    problems.add_mask(
        both & (due < received),
        h["due_at"],
        "due_before_received",
        pd.Series("due date before receipt", index=raw.index),
    )
    both = ~np.isnat(received) & ~np.isnat(resolved)
    problems.add_mask(
        both & (resolved < received),
        h["resolved_at"],
        "resolved_before_received",
        pd.Series("resolution before receipt", index=raw.index),
    )

    status = _parse(raw, "status", parse_status, problems, h["status"], required=True)
    closed = status.isin(RESULT_STATUSES | CLOSED_WITHOUT_RESULT_STATUSES).to_numpy()
    problems.add_mask(
        closed & np.isnat(resolved),
        h["resolved_at"],
        "missing_resolution_date",
        status.map(lambda s: f"status {s} but no resolution date ({h['resolved_at']})"),
    )
    parsed = {
        "channel": _parse(raw, "channel", parse_channel, problems, h["channel"]),
        "online_level": _parse(
            raw, "online_level", parse_online_level, problems, h["online_level"]
        ),
        "rating": _parse(raw, "rating", parse_rating, problems, h["rating"]),
    }
    for column in ("is_digitized", "has_e_result", "is_fee_bearing", "is_paid_online"):
        parsed[column] = _parse(raw, column, parse_bool, problems, h[column])

    unit_columns = _unit_columns(matches)
    frame = pd.DataFrame(
        {
            "dossier_id": ids,
            "unit_code": unit_columns["unit_code"],
            "unit_name": unit_columns["unit_name"],
            "district_code": unit_columns["district_code"],
            "unit_level": unit_columns["unit_level"],
            "procedure_code": _text_column(raw, "procedure_code"),
            "procedure_name": _text_column(raw, "procedure_name"),
            "field": _text_column(raw, "field"),
            **{c: dates[c] for c in ("received_at", "due_at", "resolved_at", "returned_at")},
            "status": status,
            **parsed,
        },
        index=raw.index,
    )
    keep = np.ones(len(raw), dtype=bool)
    keep[list(problems.positions())] = False
    return coerce_dossiers(frame[keep])[list(DOSSIER_COLUMNS)], problems


# --- period reports (Biểu 06) ------------------------------------------------------------------

_IDENTITIES: Final = (
    (
        "resolved_total_count",
        ("resolved_early_count", "resolved_on_time_count", "resolved_late_count"),
        "resolved total",
    ),
    ("received_total_count", ("received_new_count", "carried_over_count"), "received total"),
    ("pending_total_count", ("pending_in_time_count", "pending_late_count"), "pending total"),
    ("received_new_count", ("received_online_count", "received_offline_count"), "received new"),
)
_SHORT: Final = {
    "resolved_early_count": "early",
    "resolved_on_time_count": "on time",
    "resolved_late_count": "late",
    "received_new_count": "new",
    "carried_over_count": "carried over",
    "pending_in_time_count": "in time",
    "pending_late_count": "late",
    "received_online_count": "online",
    "received_offline_count": "offline",
}
# What a sheet must give, directly or through the identities above.
PERIOD_REPORT_REQUIRED: Final = (
    "received_new_count",
    "carried_over_count",
    "resolved_early_count",
    "resolved_on_time_count",
    "resolved_late_count",
    "pending_in_time_count",
    "pending_late_count",
)


def derivable_counts(columns: Sequence[str]) -> set[str]:
    """Count columns a sheet gives directly or that follow from the Biểu 06 identities."""
    have = set(columns) & set(COUNT_COLUMNS)
    changed = True
    while changed:
        changed = False
        for total, parts, _ in _IDENTITIES:
            if total not in have and all(p in have for p in parts):
                have.add(total)
                changed = True
            missing = [p for p in parts if p not in have]
            if total in have and len(missing) == 1 and len(parts) == 2:
                have.add(missing[0])
                changed = True
    return have


def _derive(counts: dict[str, pd.Series]) -> dict[str, int]:
    """Fill missing totals (sum of parts) and a missing part (total minus the other part).

    Returns, for each derived column, the index of the identity that produced it: that
    identity holds by construction and is not checked, the others still are.
    """
    derived: dict[str, int] = {}
    changed = True
    while changed:
        changed = False
        for index, (total, parts, _) in enumerate(_IDENTITIES):
            if total not in counts and all(p in counts for p in parts):
                counts[total] = sum((counts[p] for p in parts[1:]), counts[parts[0]])
                derived[total] = index
                changed = True
            missing = [p for p in parts if p not in counts]
            if total in counts and len(missing) == 1 and len(parts) == 2:
                other = parts[1] if missing[0] == parts[0] else parts[0]
                counts[missing[0]] = counts[total] - counts[other]
                derived[missing[0]] = index
                changed = True
    return derived


def validate_period_reports(
    raw: pd.DataFrame,
    headers: dict[str, str],
    period: Period | None,
    title_period: Period | None = None,
    province: str | None = None,
    unit: str | None = None,
) -> tuple[pd.DataFrame, Problems]:
    """Canonical period-report rows (:data:`PERIOD_REPORT_COLUMNS`) and the problems.

    Blank count cells in a row that has counts are zeros (forms leave zeros empty); the
    period comes from ``period`` (``--period``), else the row's period columns, else the
    sheet title.
    """
    raw = raw.reset_index(drop=True)
    problems = Problems()
    h = {c: headers.get(c, c) for c in (*PERIOD_REPORT_COLUMNS, "period_label")}
    counts: dict[str, pd.Series] = {}
    for column in COUNT_COLUMNS:
        if column not in raw:
            continue
        values = _parse(raw, column, parse_count, problems, h[column])
        counts[column] = pd.to_numeric(values.fillna(0), errors="coerce").astype("int64")
    given = set(counts)
    derived = _derive(counts)
    for index, (total, parts, label) in enumerate(_IDENTITIES):
        involved = (total, *parts)
        if not all(c in counts for c in involved) or index in {derived.get(c) for c in involved}:
            continue
        summed = sum((counts[p] for p in parts[1:]), counts[parts[0]])
        bad = (counts[total] != summed).to_numpy()
        if bad.any():
            detail = [
                f"{label} {counts[total].iat[i]} ≠ "
                + " + ".join(f"{_SHORT[p]} {counts[p].iat[i]}" for p in parts)
                + f" (= {summed.iat[i]})"
                for i in range(len(raw))
            ]
            problems.add_mask(
                bad,
                h[total],
                "parts_do_not_add_up",
                pd.Series([f"parts do not add up: {d}" for d in detail], index=raw.index),
            )
    negative = [c for c in counts if c not in given]
    for column in negative:
        bad = (counts[column] < 0).to_numpy()
        problems.add_mask(
            bad,
            h.get(column, column),
            "parts_do_not_add_up",
            pd.Series(f"derived {column} is negative: parts exceed the total", index=raw.index),
        )

    starts, ends = _row_periods(raw, h, period, title_period, problems)
    eras = pd.Series(
        [era_of(s.date()) if isinstance(s, pd.Timestamp) else units.ERA_PRE_2025 for s in starts],
        index=raw.index,
    )
    unit_raw = raw
    if unit is not None:
        unit_raw = raw.assign(unit_code=unit)
    matches = _resolve_units(unit_raw, province, eras, ("province", "district", "commune"))
    header = h["unit_code"] if "unit_code" in raw else h["unit_name"]
    _add_unit_problems(problems, matches, header if unit is None else "--unit")
    unit_columns = _unit_columns(matches)
    frame = pd.DataFrame(
        {
            **unit_columns,
            "field": _text_column(raw, "field"),
            "period_start": pd.to_datetime(pd.Series(starts, index=raw.index)),
            "period_end": pd.to_datetime(pd.Series(ends, index=raw.index)),
            **{c: counts.get(c, pd.Series(pd.NA, index=raw.index)) for c in COUNT_COLUMNS},
        },
        index=raw.index,
    )
    keep = np.ones(len(raw), dtype=bool)
    keep[list(problems.positions())] = False
    return coerce_period_reports(frame[keep]), problems


def _row_periods(
    raw: pd.DataFrame,
    h: dict[str, str],
    period: Period | None,
    title_period: Period | None,
    problems: Problems,
) -> tuple[list, list]:
    n = len(raw)
    if period is not None:
        return [pd.Timestamp(period.start)] * n, [pd.Timestamp(period.end)] * n
    starts: list = [None] * n
    ends: list = [None] * n
    if "period_start" in raw and "period_end" in raw:
        for i, (a, b) in enumerate(zip(raw["period_start"], raw["period_end"], strict=True)):
            try:
                start, end = parse_datetime(a), parse_datetime(b)
            except ParseError as exc:
                problems.add([i], h["period_start"], "bad_period", [str(exc)])
                continue
            if start is None or end is None or end < start:
                problems.add(
                    [i], h["period_start"], "bad_period", [f"period {show(a)} – {show(b)}"]
                )
                continue
            starts[i], ends[i] = start.normalize(), end.normalize()
        return starts, ends
    if "period_label" in raw:
        for i, value in enumerate(raw["period_label"]):
            found = find_period(value)
            if found is None:
                problems.add([i], h["period_label"], "bad_period", [f"period {show(value)}"])
                continue
            starts[i], ends[i] = pd.Timestamp(found.start), pd.Timestamp(found.end)
        return starts, ends
    if title_period is not None:
        return [pd.Timestamp(title_period.start)] * n, [pd.Timestamp(title_period.end)] * n
    raise ValueError("no period")  # the caller checks for this before validating


# --- survey ------------------------------------------------------------------------------------


def _parse_score(value: Any) -> int | None:
    score = parse_count(value)
    if score is not None and not SURVEY_SCORE_MIN <= score <= SURVEY_SCORE_MAX:
        raise ParseError("bad_score", f"score {show(value)} is outside 1–5")
    return score


def validate_survey(
    raw: pd.DataFrame,
    headers: dict[str, str],
    province: str | None = None,
    today: date | None = None,
) -> tuple[pd.DataFrame, Problems]:
    """Canonical survey rows (:data:`SURVEY_COLUMNS`) and the problems."""
    today = today or date.today()
    raw = raw.reset_index(drop=True)
    problems = Problems()
    h = {c: headers.get(c, c) for c in (*SURVEY_COLUMNS, "unit_name")}
    ids = _text_column(raw, "respondent_id")
    problems.add_mask(
        ids.isna().to_numpy(),
        h["respondent_id"],
        "missing_value",
        pd.Series("no respondent id", index=raw.index),
    )
    has_unit = "unit_code" in raw or "unit_name" in raw
    if has_unit:
        matches = _resolve_units(
            raw, province, pd.Series(units.ERA_PRE_2025, index=raw.index), ("district", "commune")
        )
        header = h["unit_code"] if "unit_code" in raw else h["unit_name"]
        _add_unit_problems(problems, matches, header)
        unit_columns = _unit_columns(matches)
    else:
        unit_columns = {"unit_code": [None] * len(raw), "district_code": [None] * len(raw)}
    surveyed = _parse(
        raw, "surveyed_at", parse_datetime, problems, h["surveyed_at"], True, as_datetime=True
    )
    days = _days(surveyed)
    problems.add_mask(
        ~np.isnat(days) & (days > np.datetime64(today, "D")),
        h["surveyed_at"],
        "future_date",
        pd.Series(f"{h['surveyed_at']} is after {today:%d/%m/%Y}", index=raw.index),
    )
    scores = {}
    for column in SURVEY_ITEM_COLUMNS:
        values = _parse(raw, column, _parse_score, problems, h[column])
        scores[column] = pd.array(values.tolist(), dtype="Int64")
    frame = pd.DataFrame(
        {
            "respondent_id": ids,
            "unit_code": unit_columns["unit_code"],
            "district_code": unit_columns["district_code"],
            "surveyed_at": surveyed,
            "field": _text_column(raw, "field"),
            **scores,
        },
        index=raw.index,
    )
    keep = np.ones(len(raw), dtype=bool)
    keep[list(problems.positions())] = False
    return coerce_survey(frame[keep]), problems


__all__ = [
    "BIEU06_COUNT_COLUMNS",
    "PERIOD_REPORT_COLUMNS",
    "PERIOD_REPORT_REQUIRED",
    "REASONS",
    "SURVEY_COLUMNS",
    "Problems",
    "UnitMatch",
    "coerce_period_reports",
    "coerce_survey",
    "derivable_counts",
    "district_code_of",
    "era_of",
    "office_name",
    "resolve_row_unit",
    "validate_dossiers",
    "validate_period_reports",
    "validate_survey",
]
