"""Pieces several sections share: the anchored section heading, the KPI card (or its no-data
form) and an interval column."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from cchc_analysis import units
from cchc_analysis.core import targets as target_rules
from cchc_analysis.reports.formatting import (
    fmt_interval,
    fmt_rate,
    format_value,
    is_missing,
    label,
    no_data_reason,
)
from cchc_analysis.reports.html_blocks import card, heading
from cchc_analysis.reports.wording import phrase, unit_kind

# The type words in the order of the law on local government: "huyện, quận, thị xã, thành
# phố", "xã, phường, thị trấn" and, since 2025, "xã, phường, đặc khu".
KIND_ORDER = ("huyện", "quận", "thị xã", "thành phố", "xã", "phường", "thị trấn", "đặc khu")


def section_heading(anchor: str, lang: str, **values: Any) -> str:
    """The h2 of a section, with the anchor the table of contents links to (``values`` fill
    a heading's placeholders, e.g. ``province_kind``)."""
    return heading(phrase(f"section.{anchor}", lang, **values), anchor=anchor)


def kpi_card(name: str, value: float, lang: str, *, lines: Sequence[str] = ()) -> str:
    """A KPI card with its target status in words (never colour alone)."""
    check = target_rules.check(name, value)
    status_text = None
    if check.target is not None:
        status_text = phrase(
            "card.status",
            lang,
            status=check.text(lang),
            target=fmt_rate(check.target.value, lang, 0),
        )
    return card(
        label(name, lang), format_value(name, value, lang), lines, check.status, status_text
    )


def no_data_card(name: str, row: Mapping[str, Any] | pd.Series, lang: str) -> str:
    """The card of an indicator without data: 'Không có dữ liệu', the reason, and no target
    badge (a missing value neither meets nor misses a target)."""
    reason = no_data_reason(row, name, lang)
    return card(label(name, lang), phrase("no_data.value", lang), [reason[:1].upper() + reason[1:]])


def indicator_card(
    name: str, row: Mapping[str, Any] | pd.Series, lang: str, *, lines: Sequence[str] = ()
) -> str:
    """``row``'s indicator as a KPI card, or its no-data card when it has no value."""
    value = row.get(name)
    if value is None or is_missing(value):
        return no_data_card(name, row, lang)
    return kpi_card(name, float(value), lang, lines=lines)


def interval_column(table: pd.DataFrame, rate: str, lang: str) -> list[str]:
    """The ``<rate>_low``–``<rate>_high`` bounds of each row as text."""
    return [
        fmt_interval(lo, hi, lang)
        for lo, hi in zip(table[f"{rate}_low"], table[f"{rate}_high"], strict=True)
    ]


def unit_kinds(codes: pd.Series, level: str, era: str, lang: str) -> str:
    """ "Các xã, thị trấn" / "Các phường": the type words of the units listed, in their order."""
    words = set()
    for code in codes.astype(str):
        try:
            words.add(unit_kind(units.get_unit(code, era=era, level=level).unit_type, lang))
        except (KeyError, ValueError):
            continue
    if not words:
        return phrase(f"attention.kinds.{level}", lang)
    ordered = sorted(words, key=lambda w: KIND_ORDER.index(w) if w in KIND_ORDER else 99)
    if lang == "en":
        return phrase(f"attention.kinds.{level}", lang)
    return "Các " + ", ".join(ordered)
