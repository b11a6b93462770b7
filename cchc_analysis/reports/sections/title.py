"""The title block and the table of contents of both reports."""

from __future__ import annotations

from IPython.display import HTML

from cchc_analysis.reports.formatting import fmt_date_range, period_label
from cchc_analysis.reports.html_blocks import ESC, contents, html_block
from cchc_analysis.reports.province_data import ProvinceData
from cchc_analysis.reports.unit_data import UnitData
from cchc_analysis.reports.wording import phrase

# Section anchors in reading order; their titles are the catalogue's ``section.<anchor>``.
UNIT_SECTIONS = (
    "summary",
    "scorecard",
    "counts",
    "volumes",
    "timeliness",
    "processing-time",
    "online",
    "satisfaction",
    "communes",
    "position",
    "index",
    "method",
)
PROVINCE_SECTIONS = ("totals", "league", "comparison", "trends", "index", "method")


def unit_title(data: UnitData) -> HTML:
    """Report title, unit and province, the period with its dates and whose dossiers count."""
    lang = data.lang
    subtitle = f"{data.unit.name} — {data.province.name}"
    tier_note = phrase(f"tier.{data.tier}", lang)
    return html_block(
        f'<header class="report-title"><h1>{ESC(phrase("report_title", lang))}</h1>'
        f'<p class="subtitle">{ESC(subtitle)}</p>'
        f'<p class="period">{ESC(phrase("period", lang))}: '
        f"{ESC(period_label(data.period, lang))} "
        f"({ESC(fmt_date_range(data.period, lang))}) · {ESC(tier_note)}</p></header>"
    )


def unit_contents(data: UnitData) -> HTML:
    """The table of contents; no communes entry when only district offices count."""
    anchors = [a for a in UNIT_SECTIONS if not (data.tier == "district" and a == "communes")]
    entries = [(a, phrase(f"section.{a}", data.lang)) for a in anchors]
    return html_block(contents(entries, phrase("contents", data.lang)))


def province_title(data: ProvinceData) -> HTML:
    lang = data.lang
    return html_block(
        f'<header class="report-title"><h1>{ESC(phrase("overview_title", lang))}: '
        f"{ESC(data.province.name)}</h1>"
        f'<p class="period">{ESC(phrase("period", lang))}: {ESC(period_label(data.period, lang))}'
        f" ({ESC(fmt_date_range(data.period, lang))})</p></header>"
    )


def province_contents(data: ProvinceData) -> HTML:
    entries = [(a, phrase(f"section.{a}", data.lang)) for a in PROVINCE_SECTIONS]
    return html_block(contents(entries, phrase("contents", data.lang)))
