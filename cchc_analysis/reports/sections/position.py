"""Districts compared: one district's place in its province, the province's league table and
the ranking charts of the overview."""

from __future__ import annotations

import pandas as pd
from IPython.display import HTML

from cchc_analysis.core import targets as target_rules
from cchc_analysis.reports import plots
from cchc_analysis.reports.formatting import (
    fmt_rate,
    format_value,
    is_missing,
    label,
    no_data_reason,
)
from cchc_analysis.reports.html_blocks import (
    ESC,
    figure_html,
    heading,
    html_block,
    paragraph,
    table_html,
)
from cchc_analysis.reports.links import province_kind, unit_report_file
from cchc_analysis.reports.province_data import ProvinceData
from cchc_analysis.reports.rate_tables import with_wilson
from cchc_analysis.reports.scoreboard import changes, ranks, scorecard_headers, status_label
from cchc_analysis.reports.sections.common import interval_column, section_heading
from cchc_analysis.reports.sections.funnel import funnel_html
from cchc_analysis.reports.unit_data import UnitData
from cchc_analysis.reports.wording import peer_phrase, phrase

RANKED_RATES = ("within_deadline_rate", "online_rate", "digitization_rate")


def position(data: UnitData) -> HTML:
    """Where the unit stands among the province's units of its level."""
    lang = data.lang
    parts = [section_heading("position", lang, province_kind=province_kind(data.province))]
    sentences = []
    for name in RANKED_RATES:
        rank = data.rank(name)
        if rank:
            sentences.append(
                phrase("position.rank", lang, label=label(name, lang), rank=rank[0], units=rank[1])
            )
        elif is_missing(data.current.get(name)):  # not ranked: say why
            reason = no_data_reason(data.current, name, lang)
            sentences.append(
                phrase("no_data.indicator", lang, label=label(name, lang), reason=reason)
            )
    parts.append(paragraph(" ".join(sentences)))
    chart = plots.ranking_bars(
        data.peers,
        "within_deadline_rate",
        "short_name",
        data.unit_code,
        peer_phrase("position.chart_title", data.peer_level, lang),
        lang,
        target=_target("within_deadline_rate"),
    )
    alt = peer_phrase(
        "position.alt", data.peer_level, lang, units=len(data.peers), unit=data.unit.short_name
    )
    parts.append(figure_html(chart, alt))
    parts.append(funnel_html(data.peers, data.peer_level, lang, highlight_code=data.unit_code))
    return html_block("".join(parts))


def _target(name: str) -> float | None:
    target = target_rules.check(name, 1.0).target
    return target.value if target else None


def league_table(data: ProvinceData) -> HTML:
    """Every district ranked by its within-deadline rate, with the other headline rates."""
    lang = data.lang
    table = with_wilson(data.peers, "within_deadline_rate")
    table = table.sort_values("within_deadline_rate", ascending=False)
    name_column = phrase(data.peer_level, lang)
    rank_head, status_head, previous_head, year_head = scorecard_headers(lang)
    names = [
        f'<a href="{ESC(unit_report_file(str(c), data.level, data.era))}">{ESC(str(n))}</a>'
        for c, n in zip(table["unit_code"], table["short_name"], strict=True)
    ]
    rate = "within_deadline_rate"
    shown = pd.DataFrame({rank_head: ranks(table), name_column: names})
    shown[label(rate, lang)] = [format_value(rate, v, lang) for v in table[rate]]
    shown[status_head] = [status_label(rate, v, lang) for v in table[rate]]
    shown[previous_head] = changes(table, data.previous_peers, rate, lang)
    shown[year_head] = changes(table, data.year_before_peers, rate, lang)
    for c in ("received_total_count", "resolved_late_count", "pending_late_count"):
        shown[label(c, lang)] = [format_value(c, v, lang) for v in table[c]]
    shown[phrase("column.ci_95", lang)] = interval_column(table, "within_deadline_rate", lang)
    for c in (
        "within_deadline_of_received_rate",
        "online_rate",
        "digitization_rate",
        "online_payment_rate",
        "out_of_area_share",  # filed regardless of boundaries: only when the data says
    ):
        if c == "out_of_area_share" and not table[c].notna().any():
            continue
        shown[label(c, lang)] = [format_value(c, v, lang) for v in table[c]]
    league = heading(peer_phrase("section.league", data.peer_level, lang), anchor="league")
    return html_block(
        league + table_html(shown, markup_columns=[name_column]) + _offices_html(data)
    )


def _offices_html(data: ProvinceData) -> str:
    """The province's own offices (departments, public-service centre) as one row."""
    if data.offices.empty:
        return ""
    lang = data.lang
    row = data.offices.iloc[0]
    shown = pd.DataFrame({phrase("unit", lang): [phrase("province.offices_row", lang)]})
    for c in (
        "received_total_count",
        "resolved_late_count",
        "pending_late_count",
        "within_deadline_rate",
        "within_deadline_of_received_rate",
        "online_rate",
        "digitization_rate",
        "online_payment_rate",
        "out_of_area_share",  # from another province: the province's offices serve all of it
    ):
        if c == "out_of_area_share" and pd.isna(row[c]):
            continue
        shown[label(c, lang)] = [format_value(c, row[c], lang)]
    return heading(phrase("province.offices_heading", lang), level=3) + table_html(shown)


def rankings(data: ProvinceData) -> HTML:
    """The districts' funnel plot, then ranking bars of the within-deadline and online rates."""
    lang = data.lang
    title = peer_phrase("section.comparison", data.peer_level, lang)
    parts = [heading(title, anchor="comparison")]
    parts.append(funnel_html(data.peers, data.peer_level, lang, has_unit_notes=True))
    for name in ("within_deadline_rate", "online_rate"):
        title = label(name, lang)
        ranked = data.peers[data.peers[name].notna()]  # units without data are not ranked
        if ranked.empty:
            reason = no_data_reason(data.peers.iloc[0], name, lang)
            parts.append(paragraph(phrase("no_data.indicator", lang, label=title, reason=reason)))
            continue
        fig = plots.ranking_bars(
            ranked, name, "short_name", None, title, lang, target=_target(name)
        )
        # pandas-stubs type idxmax's label as Hashable, which .loc does not take.
        best = ranked.loc[ranked[name].idxmax()]  # type: ignore[call-overload]
        worst = ranked.loc[ranked[name].idxmin()]  # type: ignore[call-overload]
        alt = peer_phrase(
            "province.ranking_alt",
            data.peer_level,
            lang,
            title=title,
            units=len(ranked),
            best=best["short_name"],
            best_rate=fmt_rate(best[name], lang),
            worst=worst["short_name"],
            worst_rate=fmt_rate(worst[name], lang),
        )
        parts.append(figure_html(fig, alt))
    return html_block("".join(parts))
