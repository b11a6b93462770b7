"""Monthly trends of the overview: every district's within-deadline rate, small multiples,
and a sentence for each district whose trend is worth a leader's attention."""

from __future__ import annotations

from IPython.display import HTML

from cchc_analysis import stats
from cchc_analysis.reports import plots
from cchc_analysis.reports.html_blocks import figure_html, html_block, paragraph
from cchc_analysis.reports.province_data import ProvinceData
from cchc_analysis.reports.sections.common import section_heading
from cchc_analysis.reports.trend_sentence import describe_trend
from cchc_analysis.reports.wording import peer_phrase

# A significant slope under 0.05 points a month is not worth a leader's attention.
NOTABLE_SLOPE_POINTS = 0.05


def province_trends(data: ProvinceData) -> HTML:
    lang = data.lang
    names = dict(zip(data.peers["unit_code"], data.peers["short_name"], strict=True))
    title = peer_phrase("province.trends_chart_title", data.peer_level, lang)
    fig = plots.small_multiples(data.monthly, names, "within_deadline_rate", title, lang)
    alt = peer_phrase("province.trends_alt", data.peer_level, lang, units=len(names))
    sentences = []
    for code, name in names.items():
        part = data.monthly[data.monthly["unit_code"] == code].sort_values("month")
        result = stats.trend_test(part["within_deadline_rate"].to_numpy(float), part["month"])
        if result.get("is_significant") and abs(result["slope"]) * 100 >= NOTABLE_SLOPE_POINTS:
            sentences.append(describe_trend(result, name, lang=lang))
    if not sentences:
        sentences.append(peer_phrase("province.no_notable_trend", data.peer_level, lang))
    return html_block(
        section_heading("trends", lang)
        + figure_html(fig, alt)
        + "".join(paragraph(s) for s in sentences)
    )
