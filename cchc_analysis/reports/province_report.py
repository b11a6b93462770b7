"""The province overview: every district side by side for one period.

Reads the monthly cube and the per-district counts only (no dossier rows), so its cost does
not grow with the province's dossiers.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
from IPython.display import HTML

from cchc_analysis import stats, store, units
from cchc_analysis.core.metrics import add_metrics
from cchc_analysis.core.periods import Period, parse_period
from cchc_analysis.core.version import __version__
from cchc_analysis.counting import CountQuery, kpi_table, monthly_counts, service_index
from cchc_analysis.reports import plots
from cchc_analysis.reports.formatting import (
    fmt_number,
    fmt_rate,
    format_value,
    label,
    period_label,
    text,
)
from cchc_analysis.reports.html_blocks import (
    ESC,
    contents,
    figure_html,
    heading,
    paragraph,
    table_html,
)
from cchc_analysis.reports.methodology import methodology_html
from cchc_analysis.reports.unit_report import (
    SCORECARD,
    _fmt_date_range,
    _short,
    _trend_start,
    _vi,
    fmt_interval,
    funnel_html,
    kpi_card,
    with_wilson,
)

SECTIONS = {
    "totals": ("Toàn tỉnh", "Province totals"),
    "league": ("Bảng xếp hạng các huyện, quận", "District league table"),
    "comparison": ("So sánh các huyện, quận", "District comparison"),
    "trends": ("Xu hướng theo tháng", "Monthly trends"),
    "index": ("Ước tính Bộ chỉ số (QĐ 766)", "Service index estimate (Decision 766)"),
    "method": ("Phương pháp và nguồn dữ liệu", "Method and data"),
}


def _section(anchor: str, lang: str) -> str:
    vi, en = SECTIONS[anchor]
    return heading(vi if lang == "vi" else en, anchor=anchor)


@dataclass
class ProvinceReport:
    """The province overview: league table, funnel plots, trends and index ranking."""

    period: Period
    data_dir: Path
    lang: str = "vi"
    tier: str = "both"
    input_hash: str = ""

    @classmethod
    def load(
        cls,
        period: str,
        data_dir: str | os.PathLike = "data/demo",
        lang: str = "vi",
        tier: str = "both",
        input_hash: str = "",
    ) -> ProvinceReport:
        report = cls(parse_period(period), store.resolve_data_dir(data_dir), lang, tier, input_hash)
        report._load()
        return report

    def _load(self) -> None:
        query = CountQuery(self.period, level="district", tier=self.tier)
        self.districts = kpi_table(self.data_dir, query)
        if self.districts.empty:
            raise LookupError(f"no dossiers in {self.period}")
        self.districts["short_name"] = [_short(c, "district") for c in self.districts["unit_code"]]
        first = units.get_unit(self.districts["unit_code"].iloc[0], level="district")
        self.province = units.get_unit(first.province_code, level="province")
        self.dataset = store.read_dataset_info(self.data_dir)
        start = _trend_start(self.period, 24, self.dataset)
        self.monthly = monthly_counts(self.data_dir, query, since=start)

    def title(self) -> HTML:
        lang = self.lang
        return HTML(
            f'<header class="report-title"><h1>{ESC(text("overview_title", lang))}: '
            f"{ESC(self.province.name)}</h1>"
            f'<p class="period">{ESC(text("period", lang))}: {ESC(period_label(self.period, lang))}'
            f" ({ESC(_fmt_date_range(self.period, lang))})</p></header>"
        )

    def contents(self) -> HTML:
        entries = [(a, t[0] if self.lang == "vi" else t[1]) for a, t in SECTIONS.items()]
        return HTML(contents(entries, _vi(self.lang, "Mục lục", "Contents")))

    def totals(self) -> HTML:
        lang = self.lang
        sums = self.districts[[c for c in self.districts.columns if c.endswith("_count")]].sum()
        total = add_metrics(sums.to_frame().T).iloc[0]
        cards = []
        for name in SCORECARD:
            value = total.get(name)
            if value is None or (isinstance(value, float) and np.isnan(value)):
                continue
            cards.append(kpi_card(name, value, lang))
        return HTML(_section("totals", lang) + f'<div class="cards">{"".join(cards)}</div>')

    def league_table(self) -> HTML:
        lang = self.lang
        table = with_wilson(self.districts, "within_deadline_rate")
        table = table.sort_values("within_deadline_rate", ascending=False)
        shown = pd.DataFrame(
            {
                text("rank", lang): [str(i) for i in range(1, len(table) + 1)],
                text("district", lang): table["short_name"].to_numpy(),
            }
        )
        for c in (
            "received_total_count",
            "resolved_late_count",
            "pending_late_count",
            "within_deadline_rate",
        ):
            shown[label(c, lang)] = [format_value(c, v, lang) for v in table[c]]
        shown[_vi(lang, "KTC 95%", "95% CI")] = [
            fmt_interval(lo, hi, lang)
            for lo, hi in zip(
                table["within_deadline_rate_low"], table["within_deadline_rate_high"], strict=True
            )
        ]
        for c in (
            "within_deadline_of_received_rate",
            "online_rate",
            "digitization_rate",
            "online_payment_rate",
        ):
            shown[label(c, lang)] = [format_value(c, v, lang) for v in table[c]]
        return HTML(_section("league", lang) + table_html(shown))

    def rankings(self) -> HTML:
        lang = self.lang
        parts = [_section("comparison", lang)]
        parts.append(funnel_html(self.districts, "district", lang))
        for name in ("within_deadline_rate", "online_rate"):
            title = label(name, lang)
            fig = plots.ranking_bars(self.districts, name, "short_name", None, title, lang)
            best = self.districts.loc[self.districts[name].idxmax()]
            worst = self.districts.loc[self.districts[name].idxmin()]
            alt = _vi(
                lang,
                f"Biểu đồ thanh {title} của {len(self.districts)} huyện, quận; cao nhất "
                f"{best['short_name']} {fmt_rate(best[name], lang)}, thấp nhất "
                f"{worst['short_name']} {fmt_rate(worst[name], lang)}.",
                f"Bar chart of {title} for {len(self.districts)} districts; highest "
                f"{best['short_name']} {fmt_rate(best[name], lang)}, lowest "
                f"{worst['short_name']} {fmt_rate(worst[name], lang)}.",
            )
            parts.append(figure_html(fig, alt))
        return HTML("".join(parts))

    def trends(self) -> HTML:
        lang = self.lang
        names = dict(zip(self.districts["unit_code"], self.districts["short_name"], strict=True))
        title = _vi(lang, "Tỷ lệ đúng hạn theo tháng, từng huyện", "Monthly within-deadline rate")
        fig = plots.small_multiples(self.monthly, names, "within_deadline_rate", title, lang)
        alt = _vi(
            lang,
            f"{len(names)} biểu đồ nhỏ tỷ lệ giải quyết đúng hạn theo tháng của từng huyện, quận.",
            f"{len(names)} small line charts of each district's monthly within-deadline rate.",
        )
        sentences = []
        for code, name in names.items():
            part = self.monthly[self.monthly["unit_code"] == code].sort_values("month")
            result = stats.trend_test(part["within_deadline_rate"].to_numpy(float), part["month"])
            # A significant slope under 0.05 points a month is not worth a leader's attention.
            if result.get("is_significant") and abs(result["slope"]) * 100 >= 0.05:
                sentences.append(stats.describe_trend(result, name, lang=lang))
        if not sentences:
            sentences.append(
                _vi(
                    lang,
                    "Không huyện nào có xu hướng tỷ lệ đúng hạn đáng kể (có ý nghĩa thống kê "
                    "và từ 0,05 điểm % mỗi tháng).",
                    "No district shows a notable trend in its within-deadline rate (significant "
                    "and at least 0.05 points a month).",
                )
            )
        return HTML(
            _section("trends", lang)
            + figure_html(fig, alt)
            + "".join(paragraph(s) for s in sentences)
        )

    def service_index(self) -> HTML:
        lang = self.lang
        table = service_index.index_table(self.districts, lang)
        table = table.assign(short_name=self.districts["short_name"].to_numpy())
        table = table.sort_values("estimate_100", ascending=False)
        config = service_index.index_config()
        shown = pd.DataFrame(
            {
                text("rank", lang): table["rank"].astype(str).to_numpy(),
                text("district", lang): table["short_name"].to_numpy(),
            }
        )
        for name, spec in config["components"].items():
            shown[spec["label_vi" if lang == "vi" else "label_en"]] = [
                fmt_number(v, lang, 1) for v in table[f"{name}_points"]
            ]
        shown[_vi(lang, "Ước tính /82", "Estimate /82")] = [
            fmt_number(v, lang, 2) for v in table["estimate_points"]
        ]
        shown[_vi(lang, "Quy đổi /100", "Rescaled /100")] = [
            fmt_number(v, lang, 2) for v in table["estimate_100"]
        ]
        shown[_vi(lang, "Xếp loại", "Band")] = table["band"].to_numpy()
        note = _vi(
            lang,
            "ƯỚC TÍNH theo cách tính của QĐ 766/QĐ-TTg cho 5 nhóm tính được từ dữ liệu hồ sơ "
            "(82/100 điểm); không phải điểm chính thức. Xem phần Phương pháp.",
            "ESTIMATE in the manner of Decision 766/QĐ-TTg for the 5 groups computable from "
            "dossier data (82 of 100 points); not the official score. See Method.",
        )
        return HTML(_section("index", lang) + paragraph(note, "estimate") + table_html(shown))

    def method(self) -> HTML:
        lang = self.lang
        info = self.dataset
        note = _vi(
            lang,
            f"Dữ liệu: {info.get('source', str(self.data_dir))}. Tạo bởi cchc-workbook "
            f"{__version__} lúc {datetime.now():%d/%m/%Y %H:%M}."
            + (f" Mã băm dữ liệu đầu vào: {self.input_hash}." if self.input_hash else ""),
            f"Data: {info.get('source', str(self.data_dir))}. Generated by cchc-workbook "
            f"{__version__} at {datetime.now():%Y-%m-%d %H:%M}."
            + (f" Input hash: {self.input_hash}." if self.input_hash else ""),
        )
        return HTML(
            _section("method", lang)
            + paragraph(note, "provenance")
            + f'<div class="methodology">{methodology_html(lang)}</div>'
        )
