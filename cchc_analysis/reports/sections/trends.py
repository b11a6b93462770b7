"""Monthly trends of the overview: every district's within-deadline rate, small multiples,
the districts whose rate rose or fell notably named in words, and the test behind each in a
footnote."""

from __future__ import annotations

from typing import Any

from IPython.display import HTML

from cchc_analysis import stats
from cchc_analysis.reports import plots
from cchc_analysis.reports.formatting import fmt_p, fmt_pattern
from cchc_analysis.reports.html_blocks import figure_html, footnotes, html_block, paragraph
from cchc_analysis.reports.province_data import ProvinceData
from cchc_analysis.reports.sections.common import section_heading
from cchc_analysis.reports.wording import peer_phrase, phrase

# A significant slope under 0.05 points a month is not worth a leader's attention.
NOTABLE_SLOPE_POINTS = 0.05
TREND_ALPHA = 0.05  # stats.trend_test's default level


def province_trends(data: ProvinceData) -> HTML:
    lang = data.lang
    names = dict(zip(data.peers["unit_code"], data.peers["short_name"], strict=True))
    title = peer_phrase("province.trends_chart_title", data.peer_level, lang)
    fig = plots.small_multiples(data.monthly, names, "within_deadline_rate", title, lang)
    alt = peer_phrase("province.trends_alt", data.peer_level, lang, units=len(names))
    notable: dict[str, list[tuple[str, dict[str, Any]]]] = {"down": [], "up": []}
    tests = stats.trend_tests(data.monthly, "within_deadline_rate", "unit_code")
    for code, name in names.items():
        result = tests.get(str(code), stats.trend_test([]))
        if result.get("is_significant") and abs(result["slope"]) * 100 >= NOTABLE_SLOPE_POINTS:
            notable[result["direction"]].append((str(name), result))
    sentences: list[str] = []
    notes: list[str] = []
    for direction, found in notable.items():  # falls first: they need a leader's attention
        found.sort(key=lambda item: -abs(item[1]["slope"]))
        if not found:
            continue
        items = ", ".join(
            phrase("province.trend_item", lang, unit=name, amount=_points(result, lang))
            for name, result in found
        )
        sentences.append(phrase(f"province.trend_{direction}", lang, units=items))
        notes.extend(
            phrase(
                "province.trend_unit_note",
                lang,
                unit=name,
                tau=fmt_pattern(result["tau"], lang, "0.00"),
                p=fmt_p(result["p_value"], lang, is_two_decimals_from_001=True),
                low=_points(result, lang, "slope_low"),
                high=_points(result, lang, "slope_high"),
            )
            for name, result in found
        )
    if not sentences:
        sentences.append(peer_phrase("province.no_notable_trend", data.peer_level, lang))
    criterion = phrase(
        "province.trend_note",
        lang,
        level=fmt_pattern(TREND_ALPHA * 100, lang, "#,##0.#") + "%",
        least=fmt_pattern(NOTABLE_SLOPE_POINTS, lang, "0.00"),
    )
    notes.insert(0, criterion)  # what "rõ rệt" means, with or without a unit named
    return html_block(
        section_heading("trends", lang)
        + figure_html(fig, alt)
        + "".join(paragraph(s) for s in sentences)
        + footnotes(notes, phrase("footnote.heading", lang))
    )


def _points(result: dict[str, Any], lang: str, key: str = "slope") -> str:
    """A monthly slope of a 0–1 rate in percentage points, unsigned for "slope" (the sentence
    says up or down), signed for its interval's bounds."""
    value = float(result[key]) * 100
    shown = abs(value) if key == "slope" else value
    return fmt_pattern(shown, lang, "#,##0.00" if abs(value) < 0.1 else "#,##0.0")
