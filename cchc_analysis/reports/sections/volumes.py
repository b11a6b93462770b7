"""Dossier volumes: what came in during the period, and new dossiers by month and channel
(a bar of their own for dossiers whose export gave no channel)."""

from __future__ import annotations

from IPython.display import HTML

from cchc_analysis.reports import plots
from cchc_analysis.reports.formatting import (
    coverage_note,
    fmt_count,
    fmt_rate,
    is_missing,
    no_data_text,
)
from cchc_analysis.reports.html_blocks import figure_html, html_block, paragraph
from cchc_analysis.reports.sections.common import section_heading
from cchc_analysis.reports.unit_data import UnitData
from cchc_analysis.reports.wording import phrase, unit_kind

UNKNOWN_CHANNEL = "unknown"  # the bar of new dossiers whose export gave no channel


def volumes(data: UnitData) -> HTML:
    lang = data.lang
    channels = data.monthly_channel.assign(
        channel=data.monthly_channel["channel"].astype("string").fillna(UNKNOWN_CHANNEL)
    )
    wide = (
        channels.pivot_table(
            index="month", columns="channel", values="received_new_count", aggfunc="sum"
        )
        .fillna(0)
        .reset_index()
    )
    labels = {
        "online": phrase("channel_online", lang),
        "in_person": phrase("channel_in_person", lang),
        "postal": phrase("channel_postal", lang),
        UNKNOWN_CHANNEL: phrase("channel_unknown", lang),
    }
    fig = plots.volume_by_channel(wide, labels, phrase("volumes.chart_title", lang), lang)
    total = int(data.current["received_new_count"])
    peak = wide.set_index("month").sum(axis=1)
    alt = phrase(
        "volumes.alt",
        lang,
        months=len(wide),
        peak=fmt_count(peak.max(), lang),
        peak_month=peak.idxmax(),
    )
    sentence = phrase(
        "volumes.sentence",
        lang,
        received=fmt_count(total, lang),
        carried_over=fmt_count(data.current["carried_over_count"], lang),
    )
    out_of_area = out_of_area_sentence(data)
    if out_of_area:
        sentence += " " + out_of_area
    return html_block(
        section_heading("volumes", lang) + paragraph(sentence) + figure_html(fig, alt)
    )


def out_of_area_sentence(data: UnitData) -> str:
    """How many new dossiers came from residents outside the receiving unit's area, or that the
    export did not say (no home-unit column): "không có dữ liệu", never 0. Before the 2025
    reform filing outside one's area was not the rule: nothing is said there without data."""
    lang, row = data.lang, data.current
    count, share = row.get("out_of_area_count"), row.get("out_of_area_share")
    if is_missing(count) or is_missing(share):
        if not data.is_new_unit:
            return ""
        return phrase(
            "volumes.out_of_area.no_data",
            lang,
            no_data=no_data_text(row, "out_of_area_share", lang),
        )
    shown = fmt_rate(share, lang, 1)
    note = coverage_note(row, "out_of_area_share", lang)  # part of the rows name a home unit
    values = {"count": fmt_count(count, lang), "share": f"{shown}; {note}" if note else shown}
    if data.level == "commune":  # one receiving unit: its own type word
        return phrase(
            "volumes.out_of_area", lang, kind=unit_kind(data.unit.unit_type, lang), **values
        )
    return phrase("volumes.out_of_area.summed", lang, **values)
