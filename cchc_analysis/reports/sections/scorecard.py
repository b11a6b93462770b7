"""The key indicators: KPI cards with targets and changes, the form-06 counts table, and the
province's totals as cards."""

from __future__ import annotations

import pandas as pd
from IPython.display import HTML

from cchc_analysis import stats
from cchc_analysis.core.metrics import RATES, add_metrics, rate_parts
from cchc_analysis.reports.formatting import (
    coverage_note,
    fmt_change,
    fmt_interval,
    format_value,
    is_missing,
    label,
    period_label,
)
from cchc_analysis.reports.html_blocks import html_block, paragraph, table_html
from cchc_analysis.reports.links import province_kind
from cchc_analysis.reports.province_data import ProvinceData
from cchc_analysis.reports.sections.common import indicator_card, kpi_card, section_heading
from cchc_analysis.reports.unit_data import UnitData
from cchc_analysis.reports.wording import phrase

SCORECARD = (
    "received_total_count",
    "resolved_total_count",
    "within_deadline_rate",
    "within_deadline_of_received_rate",
    "online_rate",
    "digitization_rate",
    "online_payment_rate",
    "satisfaction_rate",
)
# The form-06 rows of the counts table, in the form's order.
FORM_06_ROWS = (
    "received_total_count",
    "received_new_count",
    "received_online_count",
    "received_offline_count",
    "carried_over_count",
    "resolved_total_count",
    "resolved_early_count",
    "resolved_on_time_count",
    "resolved_late_count",
    "pending_total_count",
    "pending_in_time_count",
    "pending_late_count",
    "withdrawn_count",
)


def scorecard(data: UnitData) -> HTML:
    """KPI cards: value, target status in words, change on the previous period and on the
    same period last year; an indicator without data says so and why, with no badge."""
    lang = data.lang
    cards = []
    for name in SCORECARD:
        value = data.current.get(name)
        if value is None or is_missing(value):
            cards.append(indicator_card(name, data.current, lang))
            continue
        lines = []
        note = coverage_note(data.current, name, lang)
        if note:
            lines.append(note[:1].upper() + note[1:])
        if name in RATES:
            k, n = rate_parts(data.current, name)
            low, high = stats.wilson_interval(k, n)
            lines.append(phrase("card.ci", lang, interval=fmt_interval(low, high, lang)))
        for other, key in (
            (data.previous, "previous_period"),
            (data.year_before, "year_before"),
        ):
            change = fmt_change(name, value, other, lang)
            lines.append(phrase("card.change", lang, comparison=phrase(key, lang), change=change))
        cards.append(kpi_card(name, value, lang, lines=lines))
    return html_block(
        section_heading("scorecard", lang) + f'<div class="cards sheet-part">{"".join(cards)}</div>'
    )


def counts_table(data: UnitData) -> HTML:
    """The unit's form-06 counts for the period, with the comparison periods."""
    lang = data.lang
    rows = list(FORM_06_ROWS)
    frame = pd.DataFrame({phrase("indicator", lang): [label(r, lang) for r in rows]})
    frame[period_label(data.period, lang)] = [format_value(r, data.current[r], lang) for r in rows]
    for other, period in (
        (data.previous, data.period.previous()),
        (data.year_before, data.period.year_before()),
    ):
        if other is not None:
            frame[period_label(period, lang)] = [format_value(r, other[r], lang) for r in rows]
    # Online + offline fall short of the new dossiers when some exports gave no channel.
    note = coverage_note(data.current, "online_new_rate", lang)
    footnote = paragraph(phrase("counts.channel_coverage", lang, note=note)) if note else ""
    return html_block(section_heading("counts", lang) + table_html(frame) + footnote)


def province_totals(data: ProvinceData) -> HTML:
    """The province's summed counts as KPI cards with their targets (its own offices too).

    A unit without an optional column adds nothing to that column's counts, nor to its known
    count, so a rate is over the units' rows that have data (said in a coverage note), and
    has no data only when no unit has any."""
    lang = data.lang
    every = pd.concat([data.peers, data.offices]) if len(data.offices) else data.peers
    counts = every[[c for c in every.columns if c.endswith("_count")]]
    sums = pd.Series({c: pd.to_numeric(counts[c], errors="coerce").sum() for c in counts})
    total = add_metrics(sums.to_frame().T).iloc[0]
    cards = []
    for name in SCORECARD:
        note = coverage_note(total, name, lang)
        lines = [note[:1].upper() + note[1:]] if note else []
        cards.append(indicator_card(name, total, lang, lines=lines))
    return html_block(
        section_heading("totals", lang, province_kind=province_kind(data.province))
        + f'<div class="cards sheet-part">{"".join(cards)}</div>'
    )
