"""Report sections for the notebooks: every number, sentence and chart a report shows.

The notebooks are thin: a parameters cell, then one call per section. Each section returns an
``IPython.display.HTML`` block (headings, tables, figures as inline PNG with alt text), so the
rendered HTML needs nothing from any other host and reads the same offline.
"""

from __future__ import annotations

import base64
import html
import io
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import HTML

from . import __version__, plots, store, units
from .formatting import (
    fmt_count as _fmt_count,
)
from .formatting import (
    fmt_points as _fmt_points,
)
from .formatting import (
    fmt_rate as _fmt_rate,
)
from .formatting import (
    format_value,
    label,
    period_label,
    text,
)
from .kpis import kpi_table, monthly_counts
from .metrics import RATES
from .periods import Period, parse_period
from .schema import SURVEY_ASPECTS, SURVEY_SATISFIED_MIN_SCORE

ESC = html.escape

ASPECT_LABELS = {
    "access": ("Tiếp cận dịch vụ", "Access to the service"),
    "procedure": ("Thủ tục hành chính", "The procedure"),
    "staff": ("Công chức giải quyết", "Civil servants"),
    "result": ("Kết quả giải quyết", "The result"),
    "feedback": ("Tiếp nhận, xử lý góp ý", "Handling of feedback"),
}

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
# Higher is better for every scorecard rate except these.
LOWER_IS_BETTER = {"late_rate", "resolved_late_count", "pending_late_count"}


def figure_html(fig, alt: str, caption: str | None = None) -> str:
    """Embed a figure as an inline PNG with alt text (no external file, no other host)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    cap = f"<figcaption>{ESC(caption)}</figcaption>" if caption else ""
    return (
        f'<figure class="chart"><img src="data:image/png;base64,{data}" alt="{ESC(alt)}">'
        f"{cap}</figure>"
    )


def table_html(frame: pd.DataFrame, caption: str | None = None, css_class: str = "kpi") -> str:
    """A plain, escaped HTML table (values are already formatted strings)."""
    head = "".join(f'<th scope="col">{ESC(str(c))}</th>' for c in frame.columns)
    rows = []
    for _, row in frame.iterrows():
        cells = "".join(f"<td>{ESC(str(v))}</td>" for v in row)
        rows.append(f"<tr>{cells}</tr>")
    cap = f"<caption>{ESC(caption)}</caption>" if caption else ""
    return (
        f'<table class="{css_class}">{cap}<thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def heading(title: str, level: int = 2, anchor: str | None = None) -> str:
    ident = f' id="{ESC(anchor)}"' if anchor else ""
    return f"<h{level}{ident}>{ESC(title)}</h{level}>"


def _vi(lang: str, vi: str, en: str) -> str:
    return vi if lang == "vi" else en


@dataclass
class UnitReport:
    """Everything one district's report needs, loaded once: this unit's slice plus the
    province's per-district table (from the cube, which is small)."""

    unit_code: str
    period: Period
    data_dir: Path
    lang: str = "vi"
    tier: str = "both"
    input_hash: str = ""
    trend_months: int = 24
    current: pd.Series = field(init=False)
    previous: pd.Series | None = field(init=False)
    year_before: pd.Series | None = field(init=False)

    @classmethod
    def load(
        cls,
        unit_code: str,
        period: str,
        data_dir: str | os.PathLike = "data/demo",
        lang: str = "vi",
        tier: str = "both",
        input_hash: str = "",
    ) -> UnitReport:
        report = cls(
            str(unit_code),
            parse_period(period),
            store.resolve_data_dir(data_dir),
            lang,
            tier,
            input_hash,
        )
        report._load()
        return report

    # --- data -------------------------------------------------------------------------------

    def _one(self, period: Period) -> pd.Series | None:
        table = kpi_table(self.data_dir, period, "district", self.tier, [self.unit_code])
        return None if table.empty else table.iloc[0]

    def _load(self) -> None:
        self.unit = units.get_unit(self.unit_code, level="district")
        self.province = units.get_unit(self.unit.province_code, level="province")
        current = self._one(self.period)
        if current is None:
            raise LookupError(f"unit {self.unit_code} has no dossiers in {self.period}")
        self.current = current
        self.previous = self._safe(self.period.previous())
        self.year_before = self._safe(self.period.year_before())
        self.districts = kpi_table(self.data_dir, self.period, "district", self.tier)
        self.districts["short_name"] = [_short(c, "district") for c in self.districts["unit_code"]]
        self.commune_table = (
            kpi_table(self.data_dir, self.period, "commune", "commune", [self.unit_code])
            if self.tier != "district"
            else pd.DataFrame()
        )
        self.dataset = store.read_dataset_info(self.data_dir)
        trend_start = _trend_start(self.period, self.trend_months, self.dataset)
        self.monthly = monthly_counts(
            self.data_dir, trend_start, self.period.end, "district", self.tier, [self.unit_code]
        )
        self.monthly_channel = monthly_counts(
            self.data_dir,
            trend_start,
            self.period.end,
            "district",
            self.tier,
            [self.unit_code],
            extra_keys=["channel"],
        )
        survey = store.read_table(self.data_dir, store.SURVEY_FILE)
        self.survey = (
            survey[survey["unit_code"].astype(str) == self.unit_code]
            if survey is not None
            else None
        )

    def _safe(self, period: Period) -> pd.Series | None:
        try:
            return self._one(period)
        except Exception:  # an earlier period outside the data is simply not compared
            return None

    # --- sections ---------------------------------------------------------------------------

    def title(self) -> HTML:
        lang = self.lang
        subtitle = f"{self.unit.name} — {self.province.name}"
        tier_note = {
            "both": _vi(
                lang, "UBND cấp huyện và các xã, thị trấn", "district offices and communes"
            ),
            "district": _vi(lang, "các cơ quan cấp huyện", "district offices only"),
            "commune": _vi(lang, "các xã, thị trấn", "communes only"),
        }[self.tier]
        return HTML(
            f'<header class="report-title"><h1>{ESC(text("report_title", lang))}</h1>'
            f'<p class="subtitle">{ESC(subtitle)}</p>'
            f'<p class="period">{ESC(text("period", lang))}: '
            f"{ESC(period_label(self.period, lang))} "
            f"({ESC(_fmt_date_range(self.period, lang))}) · {ESC(tier_note)}</p></header>"
        )

    def scorecard(self) -> HTML:
        """KPI cards: value, change on the previous period and on the same period last year."""
        lang = self.lang
        cards = []
        for name in SCORECARD:
            value = self.current.get(name)
            if value is None or (isinstance(value, float) and np.isnan(value)):
                continue
            deltas = []
            for other, key in (
                (self.previous, "previous_period"),
                (self.year_before, "year_before"),
            ):
                deltas.append(
                    f'<span class="delta">{ESC(text(key, lang))}: '
                    f"{ESC(_change(name, value, other, lang))}</span>"
                )
            cards.append(
                f'<div class="card"><div class="card-label">{ESC(label(name, lang))}</div>'
                f'<div class="card-value">{ESC(format_value(name, value, lang))}</div>'
                f"{''.join(deltas)}</div>"
            )
        title = _vi(lang, "Chỉ số chính", "Key indicators")
        return HTML(
            heading(title, anchor="scorecard") + f'<div class="cards">{"".join(cards)}</div>'
        )

    def summary_table(self) -> HTML:
        """The unit's Biểu 06 counts for the period, as the form lays them out."""
        lang = self.lang
        rows = [
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
        ]
        frame = pd.DataFrame(
            {
                text("indicator", lang): [label(r, lang) for r in rows],
                period_label(self.period, lang): [
                    format_value(r, self.current[r], lang) for r in rows
                ],
            }
        )
        title = _vi(lang, "Số liệu theo Biểu 06", "Counts as in form 06")
        return HTML(heading(title, anchor="counts") + table_html(frame))

    def volumes(self) -> HTML:
        lang = self.lang
        wide = (
            self.monthly_channel.pivot_table(
                index="month", columns="channel", values="received_new_count", aggfunc="sum"
            )
            .fillna(0)
            .reset_index()
        )
        labels = {
            "online": text("channel_online", lang),
            "in_person": text("channel_in_person", lang),
            "postal": text("channel_postal", lang),
        }
        title = _vi(
            lang, "Hồ sơ tiếp nhận mới theo tháng và kênh", "New dossiers by month and channel"
        )
        fig = plots.volume_by_channel(wide, labels, title, lang)
        total = int(self.current["received_new_count"])
        peak = wide.set_index("month").sum(axis=1)
        alt = _vi(
            lang,
            f"Biểu đồ cột chồng số hồ sơ tiếp nhận mới mỗi tháng theo kênh, "
            f"{len(wide)} tháng; cao nhất {_fmt_count(peak.max(), lang)} hồ sơ "
            f"vào tháng {peak.idxmax():%m/%Y}.",
            f"Stacked bar chart of new dossiers per month by channel over {len(wide)} months; "
            f"the highest is {_fmt_count(peak.max(), lang)} in {peak.idxmax():%b %Y}.",
        )
        sentence = _vi(
            lang,
            f"Trong kỳ, đơn vị tiếp nhận mới {_fmt_count(total, lang)} hồ sơ, "
            f"cộng {_fmt_count(self.current['carried_over_count'], lang)} hồ sơ từ kỳ trước "
            "chuyển sang.",
            f"In the period the unit received {_fmt_count(total, lang)} new dossiers, plus "
            f"{_fmt_count(self.current['carried_over_count'], lang)} carried over.",
        )
        return HTML(
            heading(_vi(lang, "Khối lượng hồ sơ", "Dossier volumes"), anchor="volumes")
            + f"<p>{ESC(sentence)}</p>"
            + figure_html(fig, alt)
        )

    def timeliness(self) -> HTML:
        lang = self.lang
        cur = self.current
        sentence = _vi(
            lang,
            f"Đã giải quyết {_fmt_count(cur['resolved_total_count'], lang)} hồ sơ, trong đó "
            f"{_fmt_count(cur['resolved_within_deadline_count'], lang)} trước hoặc đúng hạn "
            f"({_fmt_rate(cur['within_deadline_rate'], lang)}) và "
            f"{_fmt_count(cur['resolved_late_count'], lang)} quá hạn; "
            f"{_fmt_count(cur['pending_total_count'], lang)} hồ sơ đang giải quyết cuối kỳ, "
            f"{_fmt_count(cur['pending_late_count'], lang)} đã quá hạn.",
            f"{_fmt_count(cur['resolved_total_count'], lang)} dossiers were resolved, "
            f"{_fmt_count(cur['resolved_within_deadline_count'], lang)} early or on time "
            f"({_fmt_rate(cur['within_deadline_rate'], lang)}) and "
            f"{_fmt_count(cur['resolved_late_count'], lang)} late; "
            f"{_fmt_count(cur['pending_total_count'], lang)} were pending at the end of the "
            f"period, {_fmt_count(cur['pending_late_count'], lang)} of them overdue.",
        )
        series = {
            "within_deadline_rate": label("within_deadline_rate", lang),
            "timeliness_766_rate": label("timeliness_766_rate", lang),
        }
        monthly = self.monthly.dropna(subset=["within_deadline_rate"])
        title = _vi(lang, "Tỷ lệ giải quyết đúng hạn theo tháng", "Within-deadline rate by month")
        fig = plots.rate_trend(monthly, series, title, lang)
        alt = _vi(
            lang,
            "Biểu đồ đường tỷ lệ giải quyết đúng hạn và tiến độ theo QĐ 766 mỗi tháng; "
            f"tháng thấp nhất {_fmt_rate(monthly['within_deadline_rate'].min(), lang)}.",
            "Line chart of the monthly within-deadline rate and the Decision 766 progress "
            f"rate; lowest month {_fmt_rate(monthly['within_deadline_rate'].min(), lang)}.",
        )
        return HTML(
            heading(_vi(lang, "Tiến độ giải quyết", "Timeliness"), anchor="timeliness")
            + f"<p>{ESC(sentence)}</p>"
            + figure_html(fig, alt)
        )

    def online(self) -> HTML:
        lang = self.lang
        cur = self.current
        sentence = _vi(
            lang,
            f"{_fmt_count(cur['received_online_count'], lang)} hồ sơ nộp trực tuyến "
            f"({_fmt_rate(cur['online_rate'], lang)} tổng số tiếp nhận; "
            f"{_fmt_rate(cur['online_new_rate'], lang)} hồ sơ mới trong kỳ), trong đó "
            f"{_fmt_count(cur['online_full_count'], lang)} toàn trình và "
            f"{_fmt_count(cur['online_partial_count'], lang)} một phần. Tỷ lệ số hóa "
            f"{_fmt_rate(cur['digitization_rate'], lang)}; thanh toán trực tuyến "
            f"{_fmt_rate(cur['online_payment_rate'], lang)} hồ sơ có phí.",
            f"{_fmt_count(cur['received_online_count'], lang)} dossiers were filed online "
            f"({_fmt_rate(cur['online_rate'], lang)} of all received; "
            f"{_fmt_rate(cur['online_new_rate'], lang)} of new ones): "
            f"{_fmt_count(cur['online_full_count'], lang)} fully and "
            f"{_fmt_count(cur['online_partial_count'], lang)} partly online. Digitisation "
            f"{_fmt_rate(cur['digitization_rate'], lang)}; online payment "
            f"{_fmt_rate(cur['online_payment_rate'], lang)} of fee-bearing dossiers.",
        )
        series = {
            "online_new_rate": label("online_new_rate", lang),
            "digitization_rate": label("digitization_rate", lang),
            "online_payment_rate": label("online_payment_rate", lang),
        }
        monthly = self.monthly.dropna(subset=["online_new_rate"])
        title = _vi(
            lang, "Trực tuyến, số hóa và thanh toán trực tuyến", "Online, digitised, paid online"
        )
        fig = plots.rate_trend(monthly, series, title, lang)
        first, last = monthly["online_new_rate"].iloc[0], monthly["online_new_rate"].iloc[-1]
        alt = _vi(
            lang,
            "Biểu đồ đường tỷ lệ hồ sơ trực tuyến, số hóa và thanh toán trực tuyến mỗi tháng; "
            f"tỷ lệ trực tuyến từ {_fmt_rate(first, lang)} lên {_fmt_rate(last, lang)}.",
            "Line chart of monthly online, digitisation and online-payment rates; the online "
            f"rate went from {_fmt_rate(first, lang)} to {_fmt_rate(last, lang)}.",
        )
        return HTML(
            heading(_vi(lang, "Dịch vụ công trực tuyến", "Online services"), anchor="online")
            + f"<p>{ESC(sentence)}</p>"
            + figure_html(fig, alt)
        )

    def satisfaction(self) -> HTML:
        lang = self.lang
        cur = self.current
        parts = [heading(_vi(lang, "Mức độ hài lòng", "Satisfaction"), anchor="satisfaction")]
        parts.append(
            "<p>"
            + ESC(
                _vi(
                    lang,
                    f"Đánh giá trên cổng dịch vụ công: {_fmt_count(cur['rated_count'], lang)} "
                    "lượt, "
                    f"{_fmt_rate(cur['satisfaction_rate'], lang)} hài lòng trở lên.",
                    f"Portal ratings: {_fmt_count(cur['rated_count'], lang)}, "
                    f"{_fmt_rate(cur['satisfaction_rate'], lang)} satisfied or better.",
                )
            )
            + "</p>"
        )
        window = self._survey_window()
        if window is None or window[0].empty:
            parts.append(f"<p>{ESC(text('no_data', lang))}</p>")
            return HTML("".join(parts))
        frame, window_note = window
        shares = []
        for aspect in SURVEY_ASPECTS:
            cols = [c for c in frame.columns if c.startswith(f"{aspect}__")]
            scores = frame[cols].to_numpy(dtype=float).ravel()
            scores = scores[~np.isnan(scores)]
            share = float((scores >= SURVEY_SATISFIED_MIN_SCORE).mean()) if scores.size else np.nan
            vi, en = ASPECT_LABELS[aspect]
            shares.append({"label": vi if lang == "vi" else en, "share": share})
        shares = pd.DataFrame(shares)
        title = _vi(
            lang, "Tỷ lệ hài lòng theo khía cạnh (khảo sát)", "Satisfied share by aspect (survey)"
        )
        fig = plots.aspect_bars(shares, title, lang)
        best = shares.loc[shares["share"].idxmax()]
        worst = shares.loc[shares["share"].idxmin()]
        alt = _vi(
            lang,
            f"Biểu đồ thanh tỷ lệ người trả lời hài lòng theo 5 khía cạnh; cao nhất "
            f"{best['label']} {_fmt_rate(best['share'], lang)}, thấp nhất {worst['label']} "
            f"{_fmt_rate(worst['share'], lang)}.",
            f"Bar chart of the satisfied share across 5 aspects; highest {best['label']} "
            f"{_fmt_rate(best['share'], lang)}, lowest {worst['label']} "
            f"{_fmt_rate(worst['share'], lang)}.",
        )
        parts.append(f"<p>{ESC(window_note)}</p>")
        parts.append(figure_html(fig, alt))
        return HTML("".join(parts))

    def _survey_window(self) -> tuple[pd.DataFrame, str] | None:
        """Survey answers in the period; the 12 months to its end when the period has < 30."""
        if self.survey is None:
            return None
        when = pd.to_datetime(self.survey["surveyed_at"])
        start, end = pd.Timestamp(self.period.start), pd.Timestamp(self.period.end)
        frame = self.survey[(when >= start) & (when <= end)]
        lang = self.lang
        if len(frame) >= 30:
            note = _vi(
                lang,
                f"Khảo sát người dân trong kỳ: {_fmt_count(len(frame), lang)} người trả lời.",
                f"Citizen survey in the period: {_fmt_count(len(frame), lang)} respondents.",
            )
            return frame, note
        start = end - pd.DateOffset(months=12) + pd.Timedelta(days=1)
        frame = self.survey[(when >= start) & (when <= end)]
        note = _vi(
            lang,
            f"Trong kỳ có dưới 30 phiếu khảo sát nên dùng 12 tháng đến hết kỳ: "
            f"{_fmt_count(len(frame), lang)} người trả lời.",
            f"Fewer than 30 survey answers in the period, so the 12 months to its end are used: "
            f"{_fmt_count(len(frame), lang)} respondents.",
        )
        return frame, note

    def communes(self) -> HTML:
        lang = self.lang
        parts = [heading(_vi(lang, "Các xã, thị trấn", "Communes"), anchor="communes")]
        if self.commune_table.empty:
            parts.append(f"<p>{ESC(text('no_data', lang))}</p>")
            return HTML("".join(parts))
        table = self.commune_table.sort_values("within_deadline_rate", ascending=False)
        table = table.assign(short_name=[_short(c, "commune") for c in table["unit_code"]])
        columns = [
            "received_total_count",
            "resolved_late_count",
            "pending_late_count",
            "within_deadline_rate",
            "online_rate",
            "digitization_rate",
        ]
        shown = pd.DataFrame({text("commune", lang): table["short_name"]})
        for c in columns:
            shown[label(c, lang)] = [format_value(c, v, lang) for v in table[c]]
        title = _vi(lang, "Tỷ lệ hồ sơ trực tuyến theo xã", "Online share by commune")
        fig = plots.ranking_bars(table, "online_rate", "short_name", None, title, lang)
        low = table.loc[table["online_rate"].idxmin()]
        high = table.loc[table["online_rate"].idxmax()]
        alt = _vi(
            lang,
            f"Biểu đồ thanh tỷ lệ hồ sơ trực tuyến của {len(table)} xã; cao nhất "
            f"{high['short_name']} ({_fmt_rate(high['online_rate'], lang)}), thấp nhất "
            f"{low['short_name']} ({_fmt_rate(low['online_rate'], lang)}).",
            f"Bar chart of the online share of {len(table)} communes; highest "
            f"{high['short_name']} ({_fmt_rate(high['online_rate'], lang)}), lowest "
            f"{low['short_name']} ({_fmt_rate(low['online_rate'], lang)}).",
        )
        parts.append(table_html(shown))
        parts.append(figure_html(fig, alt))
        return HTML("".join(parts))

    def position(self) -> HTML:
        """Where the district stands among the province's districts."""
        lang = self.lang
        table = self.districts
        parts = [
            heading(
                _vi(lang, "Vị trí so với các huyện, quận trong tỉnh", "Position among districts"),
                anchor="position",
            )
        ]
        sentences = []
        for name in ("within_deadline_rate", "online_rate", "digitization_rate"):
            ranked = table[name].rank(ascending=False, method="min")
            mine = ranked[table["unit_code"] == self.unit_code]
            if mine.empty or np.isnan(mine.iloc[0]):
                continue
            sentences.append(
                _vi(
                    lang,
                    f"{label(name, lang)}: hạng {int(mine.iloc[0])}/{len(table)}.",
                    f"{label(name, lang)}: rank {int(mine.iloc[0])} of {len(table)}.",
                )
            )
        parts.append("<p>" + ESC(" ".join(sentences)) + "</p>")
        title = _vi(
            lang, "Tỷ lệ giải quyết đúng hạn các huyện, quận", "Within-deadline rate, districts"
        )
        fig = plots.ranking_bars(
            table, "within_deadline_rate", "short_name", self.unit_code, title, lang
        )
        alt = _vi(
            lang,
            f"Biểu đồ thanh xếp hạng {len(table)} huyện, quận theo tỷ lệ đúng hạn, "
            f"{self.unit.short_name} được tô đậm.",
            f"Bar chart ranking {len(table)} districts by within-deadline rate, with "
            f"{self.unit.short_name} highlighted.",
        )
        parts.append(figure_html(fig, alt))
        return HTML("".join(parts))

    def method(self) -> HTML:
        """Definitions used and where the data came from."""
        lang = self.lang
        rows = []
        for name in (
            "within_deadline_rate",
            "within_deadline_of_received_rate",
            "timeliness_766_rate",
            "online_rate",
            "online_new_rate",
            "digitization_rate",
            "online_payment_rate",
            "satisfaction_rate",
        ):
            rate = RATES[name]
            numerator = " + ".join(label(c, lang) for c in rate.numerator)
            rows.append(
                {
                    text("indicator", lang): label(name, lang),
                    _vi(
                        lang, "Công thức", "Formula"
                    ): f"({numerator}) / {label(rate.denominator, lang)}",
                }
            )
        info = self.dataset
        provenance = _vi(
            lang,
            f"Dữ liệu: {info.get('source', str(self.data_dir))}"
            + (f" (seed {info['seed']})" if "seed" in info else "")
            + f". Thư mục: {self.data_dir}. Kỳ: {_fmt_date_range(self.period, lang)}. "
            f"Tạo bởi cchc-workbook {__version__} lúc {datetime.now():%d/%m/%Y %H:%M}."
            + (f" Mã băm dữ liệu đầu vào: {self.input_hash}." if self.input_hash else ""),
            f"Data: {info.get('source', str(self.data_dir))}"
            + (f" (seed {info['seed']})" if "seed" in info else "")
            + f". Folder: {self.data_dir}. Period: {_fmt_date_range(self.period, lang)}. "
            f"Generated by cchc-workbook {__version__} at {datetime.now():%Y-%m-%d %H:%M}."
            + (f" Input hash: {self.input_hash}." if self.input_hash else ""),
        )
        rules = _vi(
            lang,
            "Hồ sơ từ kỳ trước chuyển sang: tiếp nhận trước ngày đầu kỳ và chưa kết thúc trước "
            "ngày đó. Trước hạn/đúng hạn/quá hạn: so ngày có kết quả với ngày hẹn trả. Đang giải "
            "quyết trong hạn: ngày hẹn trả từ ngày cuối kỳ trở đi. Hồ sơ rút hoặc từ chối được "
            "đếm riêng. Ngày làm việc trừ thứ Bảy, Chủ nhật và ngày lễ, Tết.",
            "Carried over: received before the period and not closed before it starts. Early / "
            "on time / late: the result date against the due date. Pending in time: due on or "
            "after the period's last day. Withdrawn or rejected dossiers are counted apart. "
            "Working days exclude weekends and public holidays including Tết.",
        )
        return HTML(
            heading(_vi(lang, "Phương pháp và nguồn dữ liệu", "Method and data"), anchor="method")
            + table_html(pd.DataFrame(rows), css_class="method")
            + f"<p>{ESC(rules)}</p><p class='provenance'>{ESC(provenance)}</p>"
        )


def _trend_start(period: Period, months: int, dataset: dict) -> pd.Timestamp:
    """First month of a trend chart: ``months`` back from the period's end, but not before the
    data's own start (rows received earlier are only the dossiers carried into it)."""
    start = pd.Timestamp(period.end).to_period("M").to_timestamp() - pd.DateOffset(
        months=months - 1
    )
    data_start = (dataset.get("date_range") or {}).get("start")
    if data_start:
        start = max(start, pd.Timestamp(data_start).to_period("M").to_timestamp())
    return start


def _short(code: str, level: str) -> str:
    try:
        return units.get_unit(code, level=level).short_name
    except (KeyError, ValueError):
        return code


def _fmt_date_range(period: Period, lang: str) -> str:
    from .formatting import fmt_date

    return f"{fmt_date(period.start, lang)} – {fmt_date(period.end, lang)}"


def _change(name: str, value: float, other: pd.Series | None, lang: str) -> str:
    """Change against a comparison period, worded by the metric's unit."""
    if other is None or name not in other:
        return "–"
    before = other[name]
    if before is None or (isinstance(before, float) and np.isnan(before)):
        return "–"
    if name.endswith(("_rate", "_share")):
        return _fmt_points(float(value) - float(before), lang)
    if before == 0:
        return "–"
    change = float(value) / float(before) - 1
    sign = "+" if change > 0 else ("−" if change < 0 else "±")
    return f"{sign}{_fmt_rate(abs(change), lang, 1)}"


@dataclass
class ProvinceReport:
    """The province overview: league table and trends of every district."""

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
        self.districts = kpi_table(self.data_dir, self.period, "district", self.tier)
        if self.districts.empty:
            raise LookupError(f"no dossiers in {self.period}")
        self.districts["short_name"] = [_short(c, "district") for c in self.districts["unit_code"]]
        province_code = units.get_unit(self.districts["unit_code"].iloc[0], level="district")
        self.province = units.get_unit(province_code.province_code, level="province")
        self.dataset = store.read_dataset_info(self.data_dir)
        start = _trend_start(self.period, 24, self.dataset)
        self.monthly = monthly_counts(self.data_dir, start, self.period.end, "district", self.tier)

    def title(self) -> HTML:
        lang = self.lang
        return HTML(
            f'<header class="report-title"><h1>{ESC(text("overview_title", lang))}: '
            f"{ESC(self.province.name)}</h1>"
            f'<p class="period">{ESC(text("period", lang))}: {ESC(period_label(self.period, lang))}'
            f" ({ESC(_fmt_date_range(self.period, lang))})</p></header>"
        )

    def totals(self) -> HTML:
        lang = self.lang
        sums = self.districts[[c for c in self.districts.columns if c.endswith("_count")]].sum()
        from .metrics import add_metrics

        total = add_metrics(sums.to_frame().T).iloc[0]
        cards = []
        for name in SCORECARD:
            value = total.get(name)
            if value is None or (isinstance(value, float) and np.isnan(value)):
                continue
            cards.append(
                f'<div class="card"><div class="card-label">{ESC(label(name, lang))}</div>'
                f'<div class="card-value">{ESC(format_value(name, value, lang))}</div></div>'
            )
        title = _vi(lang, "Toàn tỉnh", "Province totals")
        return HTML(heading(title, anchor="totals") + f'<div class="cards">{"".join(cards)}</div>')

    def league_table(self) -> HTML:
        lang = self.lang
        table = self.districts.sort_values("within_deadline_rate", ascending=False)
        columns = [
            "received_total_count",
            "resolved_late_count",
            "pending_late_count",
            "within_deadline_rate",
            "within_deadline_of_received_rate",
            "online_rate",
            "digitization_rate",
            "online_payment_rate",
        ]
        shown = pd.DataFrame(
            {
                text("rank", lang): range(1, len(table) + 1),
                text("district", lang): table["short_name"],
            }
        )
        for c in columns:
            shown[label(c, lang)] = [format_value(c, v, lang) for v in table[c]]
        title = _vi(lang, "Bảng xếp hạng các huyện, quận", "District league table")
        return HTML(heading(title, anchor="league") + table_html(shown))

    def rankings(self) -> HTML:
        lang = self.lang
        parts = [
            heading(
                _vi(lang, "So sánh các huyện, quận", "District comparison"), anchor="comparison"
            )
        ]
        for name in ("within_deadline_rate", "online_rate"):
            title = label(name, lang)
            fig = plots.ranking_bars(self.districts, name, "short_name", None, title, lang)
            best = self.districts.loc[self.districts[name].idxmax()]
            worst = self.districts.loc[self.districts[name].idxmin()]
            alt = _vi(
                lang,
                f"Biểu đồ thanh {title} của {len(self.districts)} huyện, quận; cao nhất "
                f"{best['short_name']} {_fmt_rate(best[name], lang)}, thấp nhất "
                f"{worst['short_name']} {_fmt_rate(worst[name], lang)}.",
                f"Bar chart of {title} for {len(self.districts)} districts; highest "
                f"{best['short_name']} {_fmt_rate(best[name], lang)}, lowest "
                f"{worst['short_name']} {_fmt_rate(worst[name], lang)}.",
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
        return HTML(
            heading(_vi(lang, "Xu hướng", "Trends"), anchor="trends") + figure_html(fig, alt)
        )

    def method(self) -> HTML:
        lang = self.lang
        info = self.dataset
        note = _vi(
            lang,
            f"Dữ liệu: {info.get('source', str(self.data_dir))}. Định nghĩa chỉ số như trong "
            f"báo cáo từng huyện. Tạo bởi cchc-workbook {__version__}."
            + (f" Mã băm dữ liệu đầu vào: {self.input_hash}." if self.input_hash else ""),
            f"Data: {info.get('source', str(self.data_dir))}. Indicator definitions as in the "
            f"district reports. Generated by cchc-workbook {__version__}."
            + (f" Input hash: {self.input_hash}." if self.input_hash else ""),
        )
        return HTML(
            heading(_vi(lang, "Phương pháp và nguồn dữ liệu", "Method and data"), anchor="method")
            + f"<p>{ESC(note)}</p>"
        )
