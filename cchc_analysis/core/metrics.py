"""The metric catalogue (DESIGN.md §4) computed from Biểu 06 counts.

Rates are computed from counts only, so dossier-level data and published aggregate tables
(period_reports) go through one path. Each metric carries its formula and denominator so that
every report can say which definition it uses: published figures use different denominators.

Missing data is never 0. Some counts read an optional export column (channel, online level,
digitised, fee-bearing, paid online); a :class:`Coverage` counts, beside each, how many of its
base rows had that column filled (``digitized_known_count`` of ``received_new_count``). A rate
is taken over the rows whose inputs are known (its denominator less the unknown rows), so a
partly filled column gives the rate of the rows that have it and the known count says how many
(a footnote); a rate with no known input row is missing (NaN), as are its counts in a KPI table
(:func:`null_unknown_counts`). Sums over units (a province of districts with and without the
column) add the known counts too, so they give the rate over the units' rows that have data.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from cchc_analysis.core import targets
from cchc_analysis.core.schema import COUNT_COLUMNS


@dataclass(frozen=True)
class RateDefinition:
    """A rate as numerator columns over a denominator column, with its wording."""

    name: str
    numerator: tuple[str, ...]
    denominator: str
    label_vi: str
    label_en: str
    note: str = ""
    # The known count (a Coverage's) when an input may be absent from an export: the rate is
    # then over the denominator's rows whose input is known.
    coverage: str = ""


@dataclass(frozen=True)
class Coverage:
    """Of a count's base rows, how many had the export column(s) the counts read.

    ``counts`` are missing (not 0) where ``known`` is 0 and ``base`` is not; ``columns`` are
    the dossier columns, named when a report says why an indicator has no data.
    """

    known: str
    base: str
    counts: tuple[str, ...]
    columns: tuple[str, ...]


# In dependency order: paid online is known among the fee-bearing, which need the fee column.
COVERAGES: tuple[Coverage, ...] = (
    Coverage(
        "channel_known_count",
        "received_new_count",
        ("received_online_count", "received_offline_count"),
        ("channel",),
    ),
    Coverage(
        "online_level_known_count",
        "received_online_count",
        ("online_full_count", "online_partial_count"),
        ("online_level",),
    ),
    Coverage(
        "digitized_known_count", "received_new_count", ("digitized_count",), ("is_digitized",)
    ),
    Coverage("fee_known_count", "received_new_count", ("fee_bearing_count",), ("is_fee_bearing",)),
    Coverage(
        "paid_online_known_count", "fee_bearing_count", ("paid_online_count",), ("is_paid_online",)
    ),
    # The applicant's home unit (DonViPhiDiaGioi, XaPhuongDiaBan): known when ingest could
    # compare it with the receiving unit (``schema`` is_out_of_area).
    Coverage(
        "home_unit_known_count", "received_new_count", ("out_of_area_count",), ("home_unit_code",)
    ),
)
COVERAGE_BY_KNOWN: dict[str, Coverage] = {c.known: c for c in COVERAGES}
# Counted beside the Biểu 06 counts wherever they are counted from dossiers (cube, periods).
KNOWN_COUNT_COLUMNS: tuple[str, ...] = tuple(c.known for c in COVERAGES)
# Every count a count table carries: the schema's and the known counts.
TABLE_COUNT_COLUMNS: tuple[str, ...] = (*COUNT_COLUMNS, *KNOWN_COUNT_COLUMNS)


RATE_DEFINITIONS: tuple[RateDefinition, ...] = (
    RateDefinition(
        "within_deadline_rate",
        ("resolved_early_count", "resolved_on_time_count"),
        "resolved_total_count",
        "Tỷ lệ giải quyết đúng hạn",
        "Resolved within deadline",
        "(trước hạn + đúng hạn) / đã giải quyết — as most inspection reports state it",
    ),
    RateDefinition(
        "early_rate",
        ("resolved_early_count",),
        "resolved_total_count",
        "Tỷ lệ giải quyết trước hạn",
        "Resolved early",
    ),
    RateDefinition(
        "on_time_rate",
        ("resolved_on_time_count",),
        "resolved_total_count",
        "Tỷ lệ giải quyết đúng hạn (đúng ngày hẹn)",
        "Resolved on the due date",
    ),
    RateDefinition(
        "late_rate",
        ("resolved_late_count",),
        "resolved_total_count",
        "Tỷ lệ giải quyết quá hạn",
        "Resolved late",
    ),
    RateDefinition(
        "within_deadline_of_received_rate",
        ("resolved_early_count", "resolved_on_time_count"),
        "received_total_count",
        "Tỷ lệ đúng hạn trên tổng hồ sơ tiếp nhận",
        "Within deadline, of all received",
        "(trước hạn + đúng hạn) / tổng số tiếp nhận — the figure news articles often quote",
    ),
    RateDefinition(
        "timeliness_766_rate",
        ("timely_766_count",),
        "received_total_count",
        "Tiến độ giải quyết (QĐ 766)",
        "Progress criterion (Decision 766)",
        "(đã giải quyết + đang giải quyết trong hạn) / tổng số tiếp nhận; không tính thời gian "
        "chờ công dân bổ sung, yêu cầu bổ sung quá một lần tính là quá hạn",
    ),
    RateDefinition(
        "online_rate",
        ("received_online_count",),
        "received_total_count",
        "Tỷ lệ hồ sơ trực tuyến",
        "Online dossiers, of all received",
        "trực tuyến / tổng số tiếp nhận (kể cả kỳ trước chuyển sang)",
        coverage="channel_known_count",
    ),
    RateDefinition(
        "online_new_rate",
        ("received_online_count",),
        "received_new_count",
        "Tỷ lệ hồ sơ trực tuyến trong kỳ",
        "Online dossiers, of new in period",
        "trực tuyến / tiếp nhận trong kỳ (Biểu 06)",
        coverage="channel_known_count",
    ),
    RateDefinition(
        "online_full_share",
        ("online_full_count",),
        "received_online_count",
        "Tỷ lệ trực tuyến toàn trình",
        "Fully online share of online",
        coverage="online_level_known_count",
    ),
    RateDefinition(
        "digitization_rate",
        ("digitized_count",),
        "received_new_count",
        "Tỷ lệ số hóa hồ sơ",
        "Digitised dossiers",
        coverage="digitized_known_count",
    ),
    RateDefinition(
        "online_payment_rate",
        ("paid_online_count",),
        "fee_bearing_count",
        "Tỷ lệ thanh toán trực tuyến",
        "Paid online, of fee-bearing",
        coverage="paid_online_known_count",
    ),
    RateDefinition(
        "out_of_area_share",
        ("out_of_area_count",),
        "received_new_count",
        "Tỷ lệ hồ sơ của người dân ngoài địa bàn",
        "Dossiers from outside the unit's area",
        "hồ sơ tiếp nhận không phụ thuộc địa giới hành chính / tiếp nhận trong kỳ có địa bàn "
        "của người nộp",
        coverage="home_unit_known_count",
    ),
    RateDefinition(
        "satisfaction_rate",
        ("satisfied_count",),
        "rated_count",
        "Tỷ lệ hài lòng (đánh giá trên cổng)",
        "Satisfied, of portal ratings",
    ),
)
RATES: dict[str, RateDefinition] = {d.name: d for d in RATE_DEFINITIONS}

# The switch ``count_waiting_as_on_time`` (targets.yaml ``rules``, ``--count-waiting-as-on-time``):
# some provinces count dossiers waiting for the citizen's supplement, and withdrawn ones, as
# on time (DOMAIN.md). The progress criterion then adds them to its numerator.
TIMELINESS_766_WAITING_ON_TIME = RateDefinition(
    "timeliness_766_rate",
    ("timely_766_count", "waiting_late_766_count", "withdrawn_count"),
    "received_total_count",
    "Tiến độ giải quyết (QĐ 766)",
    "Progress criterion (Decision 766)",
    "(trong hạn + đang chờ công dân bổ sung + rút, dừng, từ chối) / tổng số tiếp nhận — hồ sơ "
    "chờ bổ sung và hồ sơ rút tính là đúng hạn (count_waiting_as_on_time)",
)


def rate_definitions(*, count_waiting_as_on_time: bool | None = None) -> tuple[RateDefinition, ...]:
    """The catalogue under a convention: with ``count_waiting_as_on_time`` the progress
    criterion counts dossiers waiting for supplements, and withdrawn ones, as on time; None
    takes the province's setting (``targets.count_waiting_as_on_time``)."""
    if count_waiting_as_on_time is None:
        count_waiting_as_on_time = targets.count_waiting_as_on_time()
    if not count_waiting_as_on_time:
        return RATE_DEFINITIONS
    return tuple(
        TIMELINESS_766_WAITING_ON_TIME if d.name == "timeliness_766_rate" else d
        for d in RATE_DEFINITIONS
    )


DERIVED_COUNTS = {
    "resolved_within_deadline_count": ("resolved_early_count", "resolved_on_time_count"),
}
# An aggregate table (Biểu 06) gives no supplement dates: its progress criterion counts the
# form's resolutions and pending dossiers within the due date the system gave.
TIMELY_766_FROM_FORM = ("resolved_early_count", "resolved_on_time_count", "pending_in_time_count")


def fill_known_counts(counts: pd.DataFrame) -> pd.DataFrame:
    """``counts`` with every known count: where a table does not carry one (published Biểu 06
    rows, a cube built before they were counted) its counts, when any is given, are taken as
    known for all their base rows, and as known for none when all are missing (NA)."""
    out = counts
    for cover in COVERAGES:
        if cover.base not in out:
            continue
        given = pd.Series(False, index=out.index)  # the column was there: a count is given
        for count in cover.counts:
            if count in out:
                given |= out[count].notna()
        base = pd.to_numeric(out[cover.base], errors="coerce").fillna(0)
        filled = base.where(given, 0).astype("int64")
        if cover.known not in out:
            out = out.assign(**{cover.known: filled})
        elif out[cover.known].isna().any():
            known = pd.to_numeric(out[cover.known], errors="coerce")
            out = out.assign(**{cover.known: known.fillna(filled).astype("int64")})
    return out


def _column(table: pd.DataFrame, name: str) -> pd.Series:
    return pd.to_numeric(table[name], errors="coerce").astype("float64")


def _number(value: Any) -> float:
    """One count as :func:`_column` reads a column of them: a float, NaN when missing or not
    a number."""
    if _is_na(value):
        return math.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def rate_denominator(table: pd.DataFrame, name: str) -> pd.Series:
    """The rate's denominator over the rows whose inputs are known: the denominator less its
    rows of unknown input (the coverage's base less its known count); NaN when none is known
    and the base is not empty, or when a count is missing."""
    rate = RATES[name]
    denominator = _column(table, rate.denominator)
    cover = COVERAGE_BY_KNOWN.get(rate.coverage)
    if cover is None or cover.known not in table or cover.base not in table:
        return denominator
    known, base = _column(table, cover.known), _column(table, cover.base)
    effective = denominator - (base - known)
    return effective.where(~((known == 0) & (base > 0)), np.nan)


def _row_denominator(counts: pd.Series | Mapping[str, Any], name: str) -> float:
    """:func:`rate_denominator` of one row (``counts`` has the rate's denominator), on
    scalars: a report asks it of single rows a few dozen times, where a one-row frame costs
    milliseconds each."""
    rate = RATES[name]
    denominator = _number(counts[rate.denominator])
    cover = COVERAGE_BY_KNOWN.get(rate.coverage)
    if cover is None or cover.known not in counts or cover.base not in counts:
        return denominator
    known, base = _number(counts[cover.known]), _number(counts[cover.base])
    if known == 0 and base > 0:
        return math.nan
    return denominator - (base - known)


def add_metrics(
    counts: pd.DataFrame, *, count_waiting_as_on_time: bool | None = None
) -> pd.DataFrame:
    """Return ``counts`` with derived counts and every catalogue rate (0–1, NaN when 0/0 or
    when none of the rate's input rows is known); ``count_waiting_as_on_time`` chooses the
    progress criterion's rule (``rate_definitions``)."""
    out = counts.copy()
    if all(p in out for p in TIMELY_766_FROM_FORM):
        from_form = out[list(TIMELY_766_FROM_FORM)].sum(axis=1, min_count=len(TIMELY_766_FROM_FORM))
        if "timely_766_count" not in out:
            out["timely_766_count"] = from_form
        elif out["timely_766_count"].isna().any():
            out["timely_766_count"] = out["timely_766_count"].fillna(from_form)
    for name, parts in DERIVED_COUNTS.items():
        if all(p in out for p in parts):
            out[name] = out[list(parts)].sum(axis=1).astype("int64")
    for rate in rate_definitions(count_waiting_as_on_time=count_waiting_as_on_time):
        if rate.denominator not in out or not all(p in out for p in rate.numerator):
            continue
        terms = out[list(rate.numerator)].apply(pd.to_numeric, errors="coerce")
        numerator = terms.sum(axis=1, min_count=len(rate.numerator)).astype("float64")
        denominator = rate_denominator(out, rate.name).to_numpy(dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            out[rate.name] = np.where(denominator > 0, numerator / denominator, np.nan)
    return out


def null_unknown_counts(table: pd.DataFrame) -> pd.DataFrame:
    """Counts read from an export column that none of their base rows had become missing (NA)
    instead of 0, and so do those whose base is missing; the rest of the table is unchanged."""
    out = table
    for cover in COVERAGES:
        if cover.known not in out or cover.base not in out:
            continue
        known, base = _column(out, cover.known), _column(out, cover.base)
        unknown = base.isna() | ((known == 0) & (base > 0))
        if not unknown.any():
            continue
        out = out.copy() if out is table else out
        for count in cover.counts:
            if count in out:
                values = pd.to_numeric(out[count], errors="coerce").astype("Int64")
                out[count] = values.mask(unknown.to_numpy())
    return out


def rate_parts(
    counts: pd.Series | Mapping[str, Any],
    name: str,
    *,
    count_waiting_as_on_time: bool | None = None,
) -> tuple[int, int]:
    """(numerator, denominator) of one rate for one row, for intervals and tables: the
    denominator over the rows whose inputs are known; (0, 0) when the rate is missing."""
    definitions = rate_definitions(count_waiting_as_on_time=count_waiting_as_on_time)
    rate = {d.name: d for d in definitions}[name]
    parts: list[Any] = [counts.get(c) for c in rate.numerator]
    if rate.denominator not in counts or any(_is_na(v) for v in parts):
        return 0, 0
    denominator = _row_denominator(counts, name)
    if math.isnan(denominator):
        return 0, 0
    return sum(int(v) for v in parts), int(denominator)


def rate_coverage(counts: pd.Series | Mapping[str, Any], name: str) -> tuple[int, int] | None:
    """(rows with the rate's input known, rows of its denominator) when only part of them is
    known, for a footnote; None when all are known or the rate is not taken over known rows."""
    rate = RATES[name]
    cover = COVERAGE_BY_KNOWN.get(rate.coverage)
    if cover is None or not all(k in counts for k in _inputs(rate)):
        return None
    effective, full = _row_denominator(counts, name), _number(counts[rate.denominator])
    if math.isnan(effective) or math.isnan(full) or effective >= full:
        return None
    return int(effective), int(full)


def missing_columns(counts: pd.Series | Mapping[str, Any], name: str) -> tuple[str, ...]:
    """The dossier columns the export lacked (none of the rows had them) that leave the rate
    or count ``name`` without data for this row; () when nothing is missing."""
    wanted = set(_inputs(RATES[name])) if name in RATES else {name}
    missing: list[str] = []
    for cover in COVERAGES:
        needed = wanted & {*cover.counts, cover.known}
        if not needed or cover.known not in counts or cover.base not in counts:
            continue
        known, base = counts[cover.known], counts[cover.base]
        if _is_na(base):
            missing += [c for c in _missing_for(counts, cover.base) if c not in missing]
        elif not _is_na(known) and known == 0 and base > 0:
            missing += [c for c in cover.columns if c not in missing]
    return tuple(missing)


def _missing_for(counts: pd.Series | Mapping[str, Any], count: str) -> tuple[str, ...]:
    for cover in COVERAGES:
        if count in cover.counts:
            return missing_columns(counts, cover.known)
    return ()


def _inputs(rate: RateDefinition) -> tuple[str, ...]:
    """The counts a rate reads: numerator, denominator and its coverage's known and base."""
    cover = COVERAGE_BY_KNOWN.get(rate.coverage)
    extra = (cover.known, cover.base) if cover else ()
    return tuple(dict.fromkeys((*rate.numerator, rate.denominator, *extra)))


def _is_na(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value))


def check_identities(counts: pd.DataFrame) -> pd.Series:
    """True per row when the Biểu 06 parts add up (received = resolved + withdrawn + pending).

    Aggregate tables that lack ``withdrawn_count`` are checked without it.
    """
    withdrawn = counts.get("withdrawn_count", 0)
    return (
        (
            counts["received_total_count"]
            == counts["received_new_count"] + counts["carried_over_count"]
        )
        & (
            counts["resolved_total_count"]
            == counts["resolved_early_count"]
            + counts["resolved_on_time_count"]
            + counts["resolved_late_count"]
        )
        & (
            counts["pending_total_count"]
            == counts["pending_in_time_count"] + counts["pending_late_count"]
        )
        & (
            counts["received_total_count"]
            == counts["resolved_total_count"] + withdrawn + counts["pending_total_count"]
        )
    )
