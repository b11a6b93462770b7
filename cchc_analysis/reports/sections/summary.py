"""The summary section: 3–6 plain-language sentences at the top of the district report."""

from __future__ import annotations

from IPython.display import HTML

from cchc_analysis.reports.formatting import period_label
from cchc_analysis.reports.html_blocks import ESC, html_block
from cchc_analysis.reports.sections.common import section_heading
from cchc_analysis.reports.summary import summary_sentences
from cchc_analysis.reports.unit_data import UnitData


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
    return html_block(section_heading("summary", data.lang) + f'<ul class="summary">{items}</ul>')
