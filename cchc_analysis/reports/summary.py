"""The plain-language summary at the top of a report: 3–6 sentences generated from numbers.

Leaders read this first, so each sentence states one finding with its number, and words
such as "tăng/giảm" or "đạt/chưa đạt" are chosen from the data, never written by hand.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from cchc_analysis.core import targets as target_rules
from cchc_analysis.reports.formatting import fmt_count, fmt_rate, label
from cchc_analysis.stats.tests import describe_trend

FUNNEL_WORDS = {
    "above_998": (
        "cao hơn hẳn mức chung của tỉnh (ngoài giới hạn 99,8%)",
        "well above the province's level (outside the 99.8% limits)",
    ),
    "above_95": (
        "cao hơn mức chung của tỉnh (ngoài giới hạn 95%)",
        "above the province's level (outside the 95% limits)",
    ),
    "within": (
        "trong phạm vi dao động bình thường so với mức chung của tỉnh",
        "within the normal range around the province's level",
    ),
    "below_95": (
        "thấp hơn mức chung của tỉnh (ngoài giới hạn 95%)",
        "below the province's level (outside the 95% limits)",
    ),
    "below_998": (
        "thấp hơn hẳn mức chung của tỉnh (ngoài giới hạn 99,8%)",
        "well below the province's level (outside the 99.8% limits)",
    ),
}

SCORED_METRICS = (
    "within_deadline_rate",
    "online_rate",
    "digitization_rate",
    "online_payment_rate",
    "satisfaction_rate",
)


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _relative_change(now: float, before: Mapping | None, key: str, lang: str) -> str | None:
    if before is None or _missing(before.get(key)) or not before.get(key):
        return None
    change = float(now) / float(before[key]) - 1
    if abs(change) < 0.005:
        return "gần như không đổi" if lang == "vi" else "about the same"
    if lang == "vi":
        return f"{'tăng' if change > 0 else 'giảm'} {fmt_rate(abs(change), lang, 1)}"
    return f"{'up' if change > 0 else 'down'} {fmt_rate(abs(change), lang, 1)}"


def summary_sentences(
    current: Mapping[str, Any],
    unit_name: str,
    period_name: str,
    lang: str = "vi",
    year_before: Mapping[str, Any] | None = None,
    rank: tuple[int, int] | None = None,
    trend: Mapping[str, Any] | None = None,
    funnel_band: str | None = None,
    targets_path: str | None = None,
) -> list[str]:
    """3–6 sentences: volume, timeliness, online, targets missed, trend, position."""
    vi = lang == "vi"
    sentences = []
    received = current["received_total_count"]
    change = _relative_change(
        current["received_total_count"], year_before, "received_total_count", lang
    )
    if vi:
        tail = f" ({change} so với cùng kỳ năm trước)" if change else ""
        sentences.append(
            f"{period_name}, {unit_name} tiếp nhận {fmt_count(received, lang)} hồ sơ{tail}."
        )
    else:
        tail = f" ({change} on the same period last year)" if change else ""
        sentences.append(
            f"In {period_name}, {unit_name} handled {fmt_count(received, lang)} dossiers{tail}."
        )

    rate = current.get("within_deadline_rate")
    if not _missing(rate):
        status = target_rules.check("within_deadline_rate", rate, targets_path)
        late = fmt_count(current["resolved_late_count"], lang)
        if vi:
            target_text = (
                f", {status.text(lang).lower()} {fmt_rate(status.target.value, lang, 0)}"
                if status.target
                else ""
            )
            sentences.append(
                f"{fmt_rate(rate, lang)} hồ sơ đã giải quyết trước hạn hoặc đúng hạn"
                f"{target_text}; {late} hồ sơ quá hạn."
            )
        else:
            target_text = (
                f" ({status.text(lang).lower()}: {fmt_rate(status.target.value, lang, 0)})"
                if status.target
                else ""
            )
            sentences.append(
                f"{fmt_rate(rate, lang)} of resolved dossiers were early or on time"
                f"{target_text}; {late} were late."
            )

    online = current.get("online_rate")
    if not _missing(online):
        full = current.get("online_full_count", 0)
        if vi:
            sentences.append(
                f"Tỷ lệ hồ sơ trực tuyến đạt {fmt_rate(online, lang)}, trong đó "
                f"{fmt_count(full, lang)} hồ sơ trực tuyến toàn trình."
            )
        else:
            sentences.append(
                f"{fmt_rate(online, lang)} of dossiers came in online, "
                f"{fmt_count(full, lang)} of them fully online."
            )

    missed = [
        m
        for m in SCORED_METRICS
        if target_rules.check(m, current.get(m), targets_path).status == "missed"
    ]
    if missed:
        names = ", ".join(
            f"{label(m, lang).lower()} ({fmt_rate(current[m], lang)})" for m in missed
        )
        sentences.append(f"Chưa đạt chỉ tiêu: {names}." if vi else f"Below target: {names}.")
    elif any(
        target_rules.check(m, current.get(m), targets_path).status != "none" for m in SCORED_METRICS
    ):
        sentences.append(
            "Các chỉ tiêu theo dõi đều đạt hoặc gần đạt mục tiêu."
            if vi
            else "Every tracked indicator met or came close to its target."
        )

    if trend is not None and trend.get("n", 0) >= 4:
        sentences.append(
            describe_trend(
                trend,
                label("within_deadline_rate", lang) if vi else "the within-deadline rate",
                lang=lang,
            )
        )

    if rank is not None or funnel_band:
        parts = []
        if rank is not None:
            parts.append(
                f"xếp thứ {rank[0]}/{rank[1]} huyện, quận về tỷ lệ đúng hạn"
                if vi
                else f"ranks {rank[0]} of {rank[1]} districts on the within-deadline rate"
            )
        if funnel_band in FUNNEL_WORDS:
            words = FUNNEL_WORDS[funnel_band][0 if vi else 1]
            parts.append(f"tỷ lệ quá hạn {words}" if vi else f"its late rate is {words}")
        text = "; ".join(parts)
        sentences.append(f"Đơn vị {text}." if vi else f"The district {text}.")
    return sentences[:6]
