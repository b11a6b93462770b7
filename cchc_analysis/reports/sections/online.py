"""Online services: online filing, digitisation and online payment, by month and trend.

An indicator an export gave no data for is said to have none (with the reason), its line is
left out of the chart, and the chart and trend go when no month has any of them."""

from __future__ import annotations

from IPython.display import HTML

from cchc_analysis import stats
from cchc_analysis.reports import plots
from cchc_analysis.reports.formatting import (
    coverage_note,
    fmt_count,
    fmt_rate,
    is_missing,
    label,
    no_data_reason,
)
from cchc_analysis.reports.html_blocks import figure_html, footnotes, html_block, paragraph
from cchc_analysis.reports.rate_tables import with_wilson
from cchc_analysis.reports.sections.common import section_heading
from cchc_analysis.reports.trend_sentence import describe_trend, trend_note
from cchc_analysis.reports.unit_data import UnitData
from cchc_analysis.reports.wording import phrase

ONLINE_RATES = ("online_new_rate", "digitization_rate", "online_payment_rate")
SENTENCE_RATES = ("online_rate", "online_new_rate", "digitization_rate", "online_payment_rate")
SENTENCE_COUNTS = ("received_online_count", "online_full_count", "online_partial_count")
SHOWN_RATES = ("online_rate", "online_full_share", "digitization_rate", "online_payment_rate")


def _sentences(data: UnitData) -> list[str]:
    """The section's sentence; when an indicator has no data, or data for only part of its
    dossiers, one sentence per indicator, with its reason or coverage."""
    lang, cur = data.lang, data.current
    is_whole = not any(is_missing(cur.get(n)) for n in (*SENTENCE_RATES, *SENTENCE_COUNTS))
    if is_whole and not any(coverage_note(cur, n, lang) for n in SHOWN_RATES):
        return [
            phrase(
                "online.sentence",
                lang,
                online=fmt_count(cur["received_online_count"], lang),
                online_rate=fmt_rate(cur["online_rate"], lang),
                online_new_rate=fmt_rate(cur["online_new_rate"], lang),
                full=fmt_count(cur["online_full_count"], lang),
                partial=fmt_count(cur["online_partial_count"], lang),
                digitization_rate=fmt_rate(cur["digitization_rate"], lang),
                payment_rate=fmt_rate(cur["online_payment_rate"], lang),
            )
        ]
    sentences = []
    for name in SHOWN_RATES:
        value = cur.get(name)
        if is_missing(value):
            reason = no_data_reason(cur, name, lang)
            sentences.append(
                phrase("no_data.indicator", lang, label=label(name, lang), reason=reason)
            )
        else:
            note = coverage_note(cur, name, lang)
            shown = fmt_rate(value, lang) + (f", {note}" if note else "")
            sentences.append(phrase("indicator.value", lang, label=label(name, lang), value=shown))
    return sentences


def online(data: UnitData) -> HTML:
    lang = data.lang
    sentences = _sentences(data)
    rates = [n for n in ONLINE_RATES if data.monthly[n].notna().any()]
    parts = [section_heading("online", lang), *(paragraph(s) for s in sentences)]
    if not rates:  # no month has any of the rates: nothing to draw
        return html_block("".join(parts))
    monthly = data.monthly.dropna(subset=rates, how="all")
    for name in rates:
        monthly = with_wilson(monthly, name)
    series = {name: label(name, lang) for name in rates}
    bands = {name: (f"{name}_low", f"{name}_high") for name in series}
    fig = plots.rate_trend(monthly, series, phrase("online.chart_title", lang), lang, bands=bands)
    lead = rates[0]  # the online rate when the channel is known, else the first with data
    known = monthly[lead].dropna()
    alt = phrase(
        "online.alt" if lead == "online_new_rate" else "online.alt_without_channel",
        lang,
        label=label(lead, lang),
        first=fmt_rate(known.iloc[0], lang),
        last=fmt_rate(known.iloc[-1], lang),
    )
    parts.append(figure_html(fig, alt))
    if lead == "online_new_rate":
        trend = stats.trend_test(monthly[lead].to_numpy(float), monthly["month"])
        subject = phrase("trend_subject.online", lang, label=label(lead, lang))
        parts.append(paragraph(describe_trend(trend, subject, lang=lang)))
        parts.append(footnotes([trend_note(trend, lang)], phrase("footnote.heading", lang)))
    return html_block("".join(parts))
