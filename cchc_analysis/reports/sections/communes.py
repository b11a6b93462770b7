"""The communes of the district: their counts and rates with intervals, and their funnel."""

from __future__ import annotations

import pandas as pd
from IPython.display import HTML

from cchc_analysis.reports.formatting import format_value, label
from cchc_analysis.reports.html_blocks import heading, html_block, paragraph, table_html
from cchc_analysis.reports.rate_tables import with_wilson
from cchc_analysis.reports.sections.common import interval_column, unit_kinds
from cchc_analysis.reports.sections.funnel import funnel_html
from cchc_analysis.reports.unit_data import UnitData, short_name
from cchc_analysis.reports.wording import phrase


def communes_title(data: UnitData) -> str:
    """ "Các phường" for a quận, "Các xã, thị trấn" for a huyện: the communes' own types."""
    if data.commune_table.empty:
        return phrase("section.communes", data.lang)
    return unit_kinds(data.commune_table["unit_code"], "commune", data.era, data.lang)


def communes(data: UnitData) -> HTML:
    lang = data.lang
    if not data.has_communes:
        return html_block("")  # a commune, or district offices only: no section (nor TOC entry)
    parts = [heading(communes_title(data), anchor="communes")]
    if data.commune_table.empty:
        parts.append(paragraph(phrase("no_data", lang)))
        return html_block("".join(parts))
    table = with_wilson(data.commune_table, "within_deadline_rate")
    table = table.sort_values("within_deadline_rate", ascending=False)
    era = data.era
    table = table.assign(short_name=[short_name(c, "commune", era) for c in table["unit_code"]])
    shown = pd.DataFrame({phrase("commune", lang): table["short_name"]})
    for c in (
        "received_total_count",
        "resolved_late_count",
        "pending_late_count",
        "within_deadline_rate",
    ):
        shown[label(c, lang)] = [format_value(c, v, lang) for v in table[c]]
    shown[phrase("column.ci_95", lang)] = interval_column(table, "within_deadline_rate", lang)
    for c in ("online_rate", "digitization_rate"):
        shown[label(c, lang)] = [format_value(c, v, lang) for v in table[c]]
    parts.append(table_html(shown))
    parts.append(funnel_html(table, "commune", lang))
    return html_block("".join(parts))
