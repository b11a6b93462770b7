"""The plain-language summary at the top of a report: 3–6 sentences generated from numbers.

Leaders read this first, so each sentence states one finding with its number, and words
such as "tăng/giảm" or "đạt/chưa đạt" are chosen from the data, never written by hand.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from cchc_analysis.core import targets as target_rules
from cchc_analysis.reports.formatting import (
    fmt_count,
    fmt_rate,
    is_missing,
    label,
    no_data_reason,
)
from cchc_analysis.reports.trend_sentence import describe_trend
from cchc_analysis.reports.wording import Lang, has_phrase, name_in_sentence, phrase, unit_kind

SCORED_METRICS = (
    "within_deadline_rate",
    "online_rate",
    "digitization_rate",
    "online_payment_rate",
    "satisfaction_rate",
)


def _relative_change(
    now: float, before: Mapping[str, Any] | pd.Series | None, key: str, lang: str
) -> str | None:
    if before is None or is_missing(before.get(key)) or not before.get(key):
        return None
    change = float(now) / float(before[key]) - 1
    if abs(change) < 0.005:
        return phrase("summary.about_same", lang)
    key = "summary.change_up" if change > 0 else "summary.change_down"
    return phrase(key, lang, change=fmt_rate(abs(change), lang, 1))


def summary_sentences(
    current: Mapping[str, Any] | pd.Series,
    unit_name: str,
    period_name: str,
    lang: Lang = "vi",
    *,
    year_before: Mapping[str, Any] | pd.Series | None = None,
    rank: tuple[int, int] | None = None,
    trend: Mapping[str, Any] | None = None,
    funnel_band: str | None = None,
    unit_type: str | None = None,
    targets_path: str | None = None,
) -> list[str]:
    """3–6 sentences: volume, timeliness, online, targets missed, trend, position.

    ``unit_type`` (a new commune's "Xã", "Phường" or "Đặc khu") says the position by the
    unit's type, among the province's communes; None: a district among districts."""
    sentences = []
    received = fmt_count(current["received_total_count"], lang)
    change = _relative_change(
        current["received_total_count"], year_before, "received_total_count", lang
    )
    sentences.append(
        phrase(
            "summary.volume_change" if change else "summary.volume",
            lang,
            period=period_name,
            unit=name_in_sentence(unit_name) if lang == "vi" else unit_name,
            received=received,
            change=change,
        )
    )

    rate = current.get("within_deadline_rate")
    if not is_missing(rate):
        status = target_rules.check("within_deadline_rate", rate, targets_path)
        sentences.append(
            phrase(
                "summary.timeliness_target" if status.target else "summary.timeliness",
                lang,
                rate=fmt_rate(rate, lang),
                late=fmt_count(current["resolved_late_count"], lang),
                status=status.text(lang).lower(),
                target=fmt_rate(status.target.value, lang, 0) if status.target else "",
            )
        )

    online = current.get("online_rate")
    if not is_missing(online):
        full = current.get("online_full_count", 0)
        key = "summary.online_only" if is_missing(full) else "summary.online"
        sentences.append(phrase(key, lang, rate=fmt_rate(online, lang), full=fmt_count(full, lang)))

    missed = [
        m
        for m in SCORED_METRICS
        if target_rules.check(m, current.get(m), targets_path).status == "missed"
    ]
    if missed:
        names = ", ".join(
            phrase(
                "summary.missed_item",
                lang,
                label=label(m, lang).lower(),
                rate=fmt_rate(current[m], lang),
            )
            for m in missed
        )
        sentences.append(phrase("summary.missed", lang, names=names))
    elif any(
        target_rules.check(m, current.get(m), targets_path).status != "none" for m in SCORED_METRICS
    ):
        sentences.append(phrase("summary.all_met", lang))
    no_data = [
        phrase(
            "summary.missed_item",
            lang,
            label=label(m, lang).lower(),
            rate=no_data_reason(current, m, lang),
        )
        for m in SCORED_METRICS
        if is_missing(current.get(m))
    ]
    if no_data:  # said beside the targets: a missing indicator neither met nor missed one
        said = phrase("summary.no_data", lang, names=", ".join(no_data))
        if missed or sentences[-1] == phrase("summary.all_met", lang):
            sentences[-1] = f"{sentences[-1]} {said}"
        else:
            sentences.append(said)

    if trend is not None and trend.get("n", 0) >= 4:
        subject = phrase("trend_subject.summary", lang, label=label("within_deadline_rate", lang))
        sentences.append(describe_trend(trend, subject, lang=lang))

    if rank is not None or funnel_band:
        parts = []
        if rank is not None:
            rank_key = "summary.rank" if unit_type is None else "summary.rank.commune"
            parts.append(phrase(rank_key, lang, rank=rank[0], units=rank[1]))
        if funnel_band and has_phrase(f"funnel_band.{funnel_band}"):
            words = phrase(f"funnel_band.{funnel_band}", lang)
            parts.append(phrase("summary.funnel", lang, words=words))
        if unit_type is None:
            sentences.append(phrase("summary.position", lang, parts="; ".join(parts)))
        else:  # a commune, a ward or a special zone: said by its type
            kind = unit_kind(unit_type, lang)
            sentences.append(
                phrase(
                    "summary.position.commune",
                    lang,
                    kind=kind,
                    kind_title=kind[:1].upper() + kind[1:],
                    parts="; ".join(parts),
                )
            )
    return sentences[:6]
