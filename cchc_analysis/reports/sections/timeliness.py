"""Timeliness: resolved early, on time or late, the monthly within-deadline rate and its trend."""

from __future__ import annotations

from IPython.display import HTML

from cchc_analysis import stats
from cchc_analysis.core import targets as target_rules
from cchc_analysis.core.metrics import rate_parts
from cchc_analysis.reports import plots
from cchc_analysis.reports.formatting import fmt_count, fmt_interval, fmt_rate, label
from cchc_analysis.reports.html_blocks import figure_html, footnotes, html_block, paragraph
from cchc_analysis.reports.rate_tables import with_wilson
from cchc_analysis.reports.sections.common import section_heading
from cchc_analysis.reports.trend_sentence import describe_trend, trend_note
from cchc_analysis.reports.unit_data import UnitData
from cchc_analysis.reports.wording import phrase


def timeliness(data: UnitData) -> HTML:
    lang = data.lang
    cur = data.current
    k, n = rate_parts(cur, "within_deadline_rate")
    low, high = stats.wilson_interval(k, n)
    sentence = phrase(
        "timeliness.sentence",
        lang,
        resolved=fmt_count(cur["resolved_total_count"], lang),
        within=fmt_count(cur["resolved_within_deadline_count"], lang),
        rate=fmt_rate(cur["within_deadline_rate"], lang),
        interval=fmt_interval(low, high, lang),
        late=fmt_count(cur["resolved_late_count"], lang),
        pending=fmt_count(cur["pending_total_count"], lang),
        pending_late=fmt_count(cur["pending_late_count"], lang),
    )
    monthly = with_wilson(
        data.monthly.dropna(subset=["within_deadline_rate"]), "within_deadline_rate"
    )
    series = {
        "within_deadline_rate": label("within_deadline_rate", lang),
        "timeliness_766_rate": label("timeliness_766_rate", lang),
    }
    target = target_rules.check("within_deadline_rate", 1.0).target
    fig = plots.rate_trend(
        monthly,
        series,
        phrase("timeliness.chart_title", lang),
        lang,
        target=target.value if target else None,
        target_label=phrase("target", lang) if target else None,
        bands={"within_deadline_rate": ("within_deadline_rate_low", "within_deadline_rate_high")},
    )
    alt = phrase(
        "timeliness.alt", lang, lowest=fmt_rate(monthly["within_deadline_rate"].min(), lang)
    )
    subject = phrase("trend_subject.timeliness", lang, label=label("within_deadline_rate", lang))
    trend_sentence = describe_trend(data.trend, subject, lang=lang)
    return html_block(
        section_heading("timeliness", lang)
        + paragraph(sentence)
        + figure_html(fig, alt)
        + paragraph(trend_sentence)
        + footnotes(
            [
                phrase("timeliness.interval_note", lang, interval=fmt_interval(low, high, lang)),
                trend_note(data.trend, lang),
            ],
            phrase("footnote.heading", lang),
        )
    )
