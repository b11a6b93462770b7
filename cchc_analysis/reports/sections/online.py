"""Online services: online filing, digitisation and online payment, by month and trend."""

from __future__ import annotations

from IPython.display import HTML

from cchc_analysis import stats
from cchc_analysis.reports import plots
from cchc_analysis.reports.formatting import fmt_count, fmt_rate, label
from cchc_analysis.reports.html_blocks import figure_html, footnotes, html_block, paragraph
from cchc_analysis.reports.rate_tables import with_wilson
from cchc_analysis.reports.sections.common import section_heading
from cchc_analysis.reports.trend_sentence import describe_trend, trend_note
from cchc_analysis.reports.unit_data import UnitData
from cchc_analysis.reports.wording import phrase

ONLINE_RATES = ("online_new_rate", "digitization_rate", "online_payment_rate")


def online(data: UnitData) -> HTML:
    lang = data.lang
    cur = data.current
    sentence = phrase(
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
    monthly = data.monthly.dropna(subset=["online_new_rate"])
    for name in ONLINE_RATES:
        monthly = with_wilson(monthly, name)
    series = {name: label(name, lang) for name in ONLINE_RATES}
    bands = {name: (f"{name}_low", f"{name}_high") for name in series}
    fig = plots.rate_trend(monthly, series, phrase("online.chart_title", lang), lang, bands=bands)
    first, last = monthly["online_new_rate"].iloc[0], monthly["online_new_rate"].iloc[-1]
    alt = phrase("online.alt", lang, first=fmt_rate(first, lang), last=fmt_rate(last, lang))
    trend = stats.trend_test(monthly["online_new_rate"].to_numpy(float), monthly["month"])
    subject = phrase("trend_subject.online", lang, label=label("online_new_rate", lang))
    trend_sentence = describe_trend(trend, subject, lang=lang)
    return html_block(
        section_heading("online", lang)
        + paragraph(sentence)
        + figure_html(fig, alt)
        + paragraph(trend_sentence)
        + footnotes([trend_note(trend, lang)], phrase("footnote.heading", lang))
    )
