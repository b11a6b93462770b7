"""The Decision 766 service index estimate: one district's components, points, band and rank,
and the province's districts ranked by it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
from IPython.display import HTML

from cchc_analysis.counting import service_index as index
from cchc_analysis.reports.formatting import fmt_number, fmt_rate, is_missing, no_data_reason
from cchc_analysis.reports.html_blocks import html_block, paragraph, table_html
from cchc_analysis.reports.province_data import ProvinceData
from cchc_analysis.reports.sections.common import section_heading
from cchc_analysis.reports.unit_data import UnitData
from cchc_analysis.reports.wording import phrase


def _component_label(spec: Mapping[str, Any], lang: str) -> str:
    component_label: str = spec["label_vi" if lang == "vi" else "label_en"]
    return component_label


def _missing_reason(row: Mapping[str, Any] | pd.Series, metric: str, lang: str) -> str:
    """Why a component has no rate: its metric's reason (the 766 satisfaction criterion lacks
    what the portal satisfaction rate lacks: ratings)."""
    return no_data_reason(
        row, "satisfaction_rate" if metric == "satisfaction_766_rate" else metric, lang
    )


def _missing_sentence(
    mine: pd.Series, kpis: pd.Series, config: Mapping[str, Any], lang: str
) -> str:
    """'Chưa tính Số hóa hồ sơ (tệp xuất không có cột “Số hóa”) …', or '' with every criterion."""
    names = [n for n in str(mine["missing_components"]).split(",") if n]
    if not names:
        return ""
    items = [
        phrase(
            "index.missing_item",
            lang,
            component=_component_label(config["components"][n], lang),
            reason=_missing_reason(kpis, config["components"][n]["metric"], lang),
        )
        for n in names
    ]
    return phrase(
        "index.missing",
        lang,
        components=", ".join(items),
        max_points=fmt_number(mine["estimate_max_points"], lang, 0),
    )


def unit_service_index(data: UnitData) -> HTML:
    """The Decision 766 index estimate: components, points, band, rank in the province; over
    the criteria with data, naming the others."""
    lang = data.lang
    config = index.index_config()
    table = index.index_table(data.peers, lang)
    mine = table[table["unit_code"] == data.unit_code].iloc[0]
    rows = []
    for name, spec in config["components"].items():
        has_rate = not is_missing(mine[f"{name}_rate"])
        points = phrase(
            "index.points_of",
            lang,
            points=fmt_number(mine[f"{name}_points"], lang, 2),
            max_points=spec["max_points"],
        )
        rate = fmt_rate(mine[f"{name}_rate"], lang) if has_rate else phrase("no_data.value", lang)
        rows.append(
            {
                phrase("index.component_column", lang): _component_label(spec, lang),
                phrase("index.rate_column", lang): rate,
                phrase("index.threshold_column", lang): fmt_rate(spec["threshold"], lang, 0),
                phrase("index.points_column", lang): points,
            }
        )
    if is_missing(mine["estimate_points"]):
        headline = phrase("index.no_estimate", lang)
    else:
        headline = phrase(
            "index.headline",
            lang,
            points=fmt_number(mine["estimate_points"], lang, 2),
            max_points=int(mine["estimate_max_points"]),
            score_100=fmt_number(mine["estimate_100"], lang, 2),
            band=mine["band"],
            rank=int(mine["rank"]),
            units=int(table["rank"].notna().sum()),
        )
    mine_kpis = data.peers[data.peers["unit_code"] == data.unit_code].iloc[0]
    missing = _missing_sentence(mine, mine_kpis, config, lang)
    return html_block(
        section_heading("index", lang)
        + paragraph(headline, "estimate")
        + (paragraph(missing, "estimate") if missing else "")
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
    full = sum(spec["max_points"] for spec in config["components"].values())
    shown[phrase("index.estimate_column", lang)] = [
        fmt_number(v, lang, 2) + ("" if m == full else f"/{fmt_number(m, lang, 0)}")
        for v, m in zip(table["estimate_points"], table["estimate_max_points"], strict=True)
    ]
    shown[phrase("index.rescaled_column", lang)] = [
        fmt_number(v, lang, 2) for v in table["estimate_100"]
    ]
    shown[phrase("index.band_column", lang)] = table["band"].to_numpy()
    note = phrase("index.province_note", lang)
    lacking = _lacking_units(table, config, lang)
    return html_block(
        section_heading("index", lang)
        + paragraph(note, "estimate")
        + table_html(shown)
        + (paragraph(lacking, "estimate") if lacking else "")
    )


def _lacking_units(table: pd.DataFrame, config: Mapping[str, Any], lang: str) -> str:
    """The units estimated over fewer criteria, each with the criteria it lacks; '' if none."""
    units = []
    for _, row in table[table["missing_components"] != ""].iterrows():
        names = [
            _component_label(config["components"][n], lang)
            for n in str(row["missing_components"]).split(",")
        ]
        units.append(f"{row['short_name']} ({', '.join(names)})")
    return phrase("index.province_missing", lang, units="; ".join(units)) if units else ""
