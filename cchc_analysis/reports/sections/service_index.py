"""The Decision 766 service index estimate: one district's components, points, band and rank,
and the province's districts ranked by it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
from IPython.display import HTML

from cchc_analysis.counting import service_index as index
from cchc_analysis.reports.formatting import fmt_number, fmt_rate
from cchc_analysis.reports.html_blocks import html_block, paragraph, table_html
from cchc_analysis.reports.province_data import ProvinceData
from cchc_analysis.reports.sections.common import section_heading
from cchc_analysis.reports.unit_data import UnitData
from cchc_analysis.reports.wording import phrase


def _component_label(spec: Mapping[str, Any], lang: str) -> str:
    component_label: str = spec["label_vi" if lang == "vi" else "label_en"]
    return component_label


def unit_service_index(data: UnitData) -> HTML:
    """The Decision 766 index estimate: components, points, band, rank in the province."""
    lang = data.lang
    config = index.index_config()
    table = index.index_table(data.peers, lang)
    mine = table[table["unit_code"] == data.unit_code].iloc[0]
    rows = []
    for name, spec in config["components"].items():
        points = phrase(
            "index.points_of",
            lang,
            points=fmt_number(mine[f"{name}_points"], lang, 2),
            max_points=spec["max_points"],
        )
        rows.append(
            {
                phrase("index.component_column", lang): _component_label(spec, lang),
                phrase("index.rate_column", lang): fmt_rate(mine[f"{name}_rate"], lang),
                phrase("index.threshold_column", lang): fmt_rate(spec["threshold"], lang, 0),
                phrase("index.points_column", lang): points,
            }
        )
    headline = phrase(
        "index.headline",
        lang,
        points=fmt_number(mine["estimate_points"], lang, 2),
        max_points=int(mine["estimate_max_points"]),
        score_100=fmt_number(mine["estimate_100"], lang, 2),
        band=mine["band"],
        rank=int(mine["rank"]),
        units=len(table),
    )
    return html_block(
        section_heading("index", lang)
        + paragraph(headline, "estimate")
        + table_html(pd.DataFrame(rows))
        + paragraph(phrase("index.excluded", lang))
    )


def province_service_index(data: ProvinceData) -> HTML:
    """Every district's estimate by component, ranked, with the estimate's caveat."""
    lang = data.lang
    table = index.index_table(data.peers, lang)
    table = table.assign(short_name=data.peers["short_name"].to_numpy())
    table = table.sort_values("estimate_100", ascending=False)
    config = index.index_config()
    shown = pd.DataFrame(
        {
            phrase("rank", lang): table["rank"].astype(str).to_numpy(),
            phrase(data.peer_level, lang): table["short_name"].to_numpy(),
        }
    )
    for name, spec in config["components"].items():
        shown[_component_label(spec, lang)] = [
            fmt_number(v, lang, 1) for v in table[f"{name}_points"]
        ]
    shown[phrase("index.estimate_column", lang)] = [
        fmt_number(v, lang, 2) for v in table["estimate_points"]
    ]
    shown[phrase("index.rescaled_column", lang)] = [
        fmt_number(v, lang, 2) for v in table["estimate_100"]
    ]
    shown[phrase("index.band_column", lang)] = table["band"].to_numpy()
    note = phrase("index.province_note", lang)
    return html_block(
        section_heading("index", lang) + paragraph(note, "estimate") + table_html(shown)
    )
