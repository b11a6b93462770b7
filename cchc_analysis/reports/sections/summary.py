"""The summary section: 3–6 plain-language sentences at the top of the district report."""

from __future__ import annotations

import pandas as pd
from IPython.display import HTML

from cchc_analysis.core import targets as target_rules
from cchc_analysis.core.metrics import add_metrics
from cchc_analysis.reports.formatting import fmt_rate, period_label
from cchc_analysis.reports.html_blocks import ESC, html_block
from cchc_analysis.reports.province_data import ProvinceData
from cchc_analysis.reports.sections.common import section_heading
from cchc_analysis.reports.summary import summary_sentences
from cchc_analysis.reports.unit_data import UnitData
from cchc_analysis.reports.wording import phrase


def summary(data: UnitData) -> HTML:
    """3–6 plain-language sentences generated from the numbers."""
    rank = data.rank("within_deadline_rate")
    band = data.district_funnel().set_index("unit_code")["band"].get(data.unit_code)
    sentences = summary_sentences(
        data.current,
        data.unit_name,
        period_label(data.period, data.lang),
        data.lang,
        year_before=data.year_before,
        rank=rank,
        trend=data.trend,
        funnel_band=band if isinstance(band, str) else None,
        unit_type=data.unit.unit_type if data.level == "commune" else None,
    )
    items = "".join(f"<li>{ESC(s)}</li>" for s in sentences)
    return html_block(
        section_heading("summary", data.lang) + f'<ul class="summary sheet-part">{items}</ul>'
    )


def province_summary(data: ProvinceData) -> HTML:
    """The overview's opening sentences: the province's volume, timeliness, online share and
    missed targets, then how many units meet the within-deadline target and the lowest."""
    lang = data.lang
    every = pd.concat([data.peers, data.offices]) if len(data.offices) else data.peers
    total = _summed(every)
    year_before = None
    if data.year_before_peers is not None and data.offices.empty:
        year_before = _summed(data.year_before_peers)
    sentences = summary_sentences(
        total, data.province.name, period_label(data.period, lang), lang, year_before=year_before
    )
    rates = data.peers.dropna(subset=["within_deadline_rate"])
    rule = target_rules.check("within_deadline_rate", 0.0).target
    if len(rates) and rule is not None:
        met = sum(
            target_rules.check("within_deadline_rate", float(v)).status == "met"
            for v in rates["within_deadline_rate"]
        )
        worst = rates.sort_values("within_deadline_rate", kind="stable").iloc[0]
        sentences.insert(
            2,
            phrase(
                "summary.units_met",
                lang,
                met=met,
                units=len(rates),
                target=fmt_rate(rule.value, lang, 0),
                worst=worst["short_name"],
                rate=fmt_rate(worst["within_deadline_rate"], lang),
            ),
        )
    items = "".join(f"<li>{ESC(s)}</li>" for s in sentences[:6] if s)
    return html_block(
        section_heading("summary", lang) + f'<ul class="summary sheet-part">{items}</ul>'
    )


def _summed(table: pd.DataFrame) -> pd.Series:
    """The table's counts summed, with every rate recomputed from the sums."""
    sums = table[[c for c in table.columns if c.endswith("_count")]].sum()
    return add_metrics(sums.to_frame().T).iloc[0]
