"""The metric catalogue (DESIGN.md §4) computed from Biểu 06 counts.

Rates are computed from counts only, so dossier-level data and published aggregate tables
(period_reports) go through one path. Each metric carries its formula and denominator so that
every report can say which definition it uses: published figures use different denominators.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from cchc_analysis.core import targets


@dataclass(frozen=True)
class RateDefinition:
    """A rate as numerator columns over a denominator column, with its wording."""

    name: str
    numerator: tuple[str, ...]
    denominator: str
    label_vi: str
    label_en: str
    note: str = ""


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
    ),
    RateDefinition(
        "online_new_rate",
        ("received_online_count",),
        "received_new_count",
        "Tỷ lệ hồ sơ trực tuyến trong kỳ",
        "Online dossiers, of new in period",
        "trực tuyến / tiếp nhận trong kỳ (Biểu 06)",
    ),
    RateDefinition(
        "online_full_share",
        ("online_full_count",),
        "received_online_count",
        "Tỷ lệ trực tuyến toàn trình",
        "Fully online share of online",
    ),
    RateDefinition(
        "digitization_rate",
        ("digitized_count",),
        "received_new_count",
        "Tỷ lệ số hóa hồ sơ",
        "Digitised dossiers",
    ),
    RateDefinition(
        "online_payment_rate",
        ("paid_online_count",),
        "fee_bearing_count",
        "Tỷ lệ thanh toán trực tuyến",
        "Paid online, of fee-bearing",
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


def add_metrics(
    counts: pd.DataFrame, *, count_waiting_as_on_time: bool | None = None
) -> pd.DataFrame:
    """Return ``counts`` with derived counts and every catalogue rate (0–1, NaN when 0/0);
    ``count_waiting_as_on_time`` chooses the progress criterion's rule (``rate_definitions``)."""
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
        terms = out[list(rate.numerator)]
        numerator = terms.sum(axis=1, min_count=len(rate.numerator)).astype("float64")
        denominator = out[rate.denominator].astype("float64")
        with np.errstate(divide="ignore", invalid="ignore"):
            out[rate.name] = np.where(denominator > 0, numerator / denominator, np.nan)
    return out


def rate_parts(
    counts: pd.Series | Mapping[str, Any],
    name: str,
    *,
    count_waiting_as_on_time: bool | None = None,
) -> tuple[int, int]:
    """(numerator, denominator) of one rate for one row, for intervals and tables."""
    definitions = rate_definitions(count_waiting_as_on_time=count_waiting_as_on_time)
    rate = {d.name: d for d in definitions}[name]
    numerator = int(sum(int(counts[c]) for c in rate.numerator))
    return numerator, int(counts[rate.denominator])


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
