"""The district report: every number, sentence and chart it shows, one method per section.

The notebook is thin: a parameters cell, then one call per section. Each section returns an
``IPython.display.HTML`` block (headings, tables, figures as inline PNG with alt text), so the
rendered HTML needs nothing from any other host and reads the same offline. Loading reads this
district's own dossier partition (exact counts, processing times) and the province's monthly
cube (comparisons), never the other districts' dossiers.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
from IPython.display import HTML

from cchc_analysis import stats, store, units
from cchc_analysis.core import targets as target_rules
from cchc_analysis.core.metrics import RATES, rate_parts
from cchc_analysis.core.periods import Period, parse_period
from cchc_analysis.core.schema import SURVEY_ASPECTS, SURVEY_SATISFIED_MIN_SCORE
from cchc_analysis.core.version import __version__
from cchc_analysis.core.workdays import working_days_between
from cchc_analysis.counting import CountQuery, kpi_table, monthly_counts, service_index
from cchc_analysis.reports import plots
from cchc_analysis.reports.formatting import (
    fmt_count,
    fmt_date,
    fmt_number,
    fmt_p,
    fmt_points,
    fmt_rate,
    format_value,
    label,
    period_label,
    text,
)
from cchc_analysis.reports.html_blocks import (
    ESC,
    card,
    contents,
    figure_html,
    heading,
    paragraph,
    table_html,
)
from cchc_analysis.reports.methodology import methodology_html
from cchc_analysis.reports.summary import summary_sentences

ASPECT_LABELS = {
    "access": ("Tiếp cận dịch vụ", "Access to the service"),
    "procedure": ("Thủ tục hành chính", "The procedure"),
    "staff": ("Công chức giải quyết", "Civil servants"),
    "result": ("Kết quả giải quyết", "The result"),
    "feedback": ("Tiếp nhận, xử lý góp ý", "Handling of feedback"),
}
LIKERT_LABELS = {
    1: ("Rất không hài lòng", "Very dissatisfied"),
    2: ("Không hài lòng", "Dissatisfied"),
    3: ("Bình thường", "Neutral"),
    4: ("Hài lòng", "Satisfied"),
    5: ("Rất hài lòng", "Very satisfied"),
}
# Only what the processing-time section needs: its cost grows with the period's dossiers.
PROCESSING_TIME_COLUMNS = ("unit_level", "field", "received_at", "due_at", "resolved_at", "status")
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
SECTIONS = {
    "summary": ("Tóm tắt", "Summary"),
    "scorecard": ("Chỉ số chính", "Key indicators"),
    "counts": ("Số liệu theo Biểu 06", "Counts as in form 06"),
    "volumes": ("Khối lượng hồ sơ", "Dossier volumes"),
    "timeliness": ("Tiến độ giải quyết", "Timeliness"),
    "processing-time": ("Thời gian giải quyết", "Processing time"),
    "online": ("Dịch vụ công trực tuyến", "Online services"),
    "satisfaction": ("Mức độ hài lòng", "Satisfaction"),
    "communes": ("Các xã, thị trấn", "Communes"),
    "position": ("Vị trí trong tỉnh", "Position in the province"),
    "index": ("Ước tính Bộ chỉ số (QĐ 766)", "Service index estimate (Decision 766)"),
    "method": ("Phương pháp và nguồn dữ liệu", "Method and data"),
}


def _vi(lang: str, vi: str, en: str) -> str:
    return vi if lang == "vi" else en


def _section(anchor: str, lang: str) -> str:
    vi, en = SECTIONS[anchor]
    return heading(vi if lang == "vi" else en, anchor=anchor)


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))


def with_wilson(table: pd.DataFrame, rate: str, prefix: str | None = None) -> pd.DataFrame:
    """Add ``<rate>_low``/``<rate>_high`` Wilson 95% bounds from the rate's own counts."""
    definition = RATES[rate]
    successes = table[list(definition.numerator)].sum(axis=1).to_numpy()
    trials = table[definition.denominator].to_numpy()
    low, high = stats.wilson_interval(successes, trials)
    name = prefix or rate
    table = table.copy()
    table[f"{name}_low"], table[f"{name}_high"] = low, high
    return table


def kpi_card(name: str, value: float, lang: str, lines: tuple | list = ()) -> str:
    """A KPI card with its target status in words (never colour alone)."""
    check = target_rules.check(name, value)
    status_text = None
    if check.target is not None:
        status_text = (
            f"{check.text(lang)} ({_vi(lang, 'mục tiêu', 'target')} "
            f"{fmt_rate(check.target.value, lang, 0)})"
        )
    return card(
        label(name, lang), format_value(name, value, lang), lines, check.status, status_text
    )


def fmt_interval(low: float, high: float, lang: str) -> str:
    if _missing(low) or _missing(high):
        return "–"
    return f"{fmt_rate(low, lang, 1)}–{fmt_rate(high, lang, 1)}"


@dataclass
class UnitReport:
    """Everything one district's report needs, loaded once."""

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
        query = CountQuery(period, level="district", tier=self.tier, unit_codes=[self.unit_code])
        table = kpi_table(self.data_dir, query)
        return None if table.empty else table.iloc[0]

    def _safe(self, period: Period) -> pd.Series | None:
        try:
            return self._one(period)
        except Exception:  # an earlier period outside the data is simply not compared
            return None

    def _load(self) -> None:
        self.unit = units.get_unit(self.unit_code, level="district")
        self.province = units.get_unit(self.unit.province_code, level="province")
        current = self._one(self.period)
        if current is None:
            raise LookupError(f"unit {self.unit_code} has no dossiers in {self.period}")
        self.current = current
        self.previous = self._safe(self.period.previous())
        self.year_before = self._safe(self.period.year_before())
        same_province = province_districts(self.data_dir, self.unit)
        self.districts = kpi_table(
            self.data_dir, CountQuery(self.period, tier=self.tier, unit_codes=same_province)
        )
        self.districts["short_name"] = [_short(c, "district") for c in self.districts["unit_code"]]
        self.commune_table = (
            kpi_table(
                self.data_dir,
                CountQuery(
                    self.period, level="commune", tier="commune", unit_codes=[self.unit_code]
                ),
            )
            if self.tier != "district"
            else pd.DataFrame()
        )
        self.dataset = store.read_dataset_info(self.data_dir)
        trend_start = _trend_start(self.period, self.trend_months, self.dataset)
        scope = CountQuery(self.period, tier=self.tier, unit_codes=[self.unit_code])
        self.monthly = monthly_counts(self.data_dir, scope, since=trend_start)
        self.monthly_channel = monthly_counts(
            self.data_dir, scope, since=trend_start, extra_keys=["channel"]
        )
        survey = store.read_table(self.data_dir, store.SURVEY_FILE)
        self.province_survey = survey
        self.survey = (
            survey[survey["unit_code"].astype(str) == self.unit_code]
            if survey is not None
            else None
        )
        dossiers = store.read_dossiers(
            self.data_dir,
            [self.unit_code],
            columns=PROCESSING_TIME_COLUMNS,
            received_between=(self.period.start, self.period.end),
        )
        if self.tier != "both":
            dossiers = dossiers[dossiers["unit_level"] == self.tier]
        self.period_dossiers = dossiers  # received in the period (read with a pushed-down filter)
        self.trend = stats.trend_test(
            self.monthly["within_deadline_rate"].to_numpy(float), self.monthly["month"]
        )

    # --- sections ---------------------------------------------------------------------------

    def title(self) -> HTML:
        lang = self.lang
        subtitle = f"{self.unit.name} — {self.province.name}"
        tier_note = {
            "both": _vi(
                lang, "cơ quan cấp huyện và các xã, thị trấn", "district offices and communes"
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

    def contents(self) -> HTML:
        entries = [(a, t[0] if self.lang == "vi" else t[1]) for a, t in SECTIONS.items()]
        if self.tier == "district":
            entries = [e for e in entries if e[0] != "communes"]
        return HTML(contents(entries, _vi(self.lang, "Mục lục", "Contents")))

    def summary(self) -> HTML:
        """3–6 plain-language sentences generated from the numbers."""
        rank = self._rank("within_deadline_rate")
        band = self._district_funnel().set_index("unit_code")["band"].get(self.unit_code)
        sentences = summary_sentences(
            self.current,
            self.unit.name,
            period_label(self.period, self.lang),
            self.lang,
            year_before=self.year_before,
            rank=rank,
            trend=self.trend,
            funnel_band=band if isinstance(band, str) else None,
        )
        items = "".join(f"<li>{ESC(s)}</li>" for s in sentences)
        return HTML(_section("summary", self.lang) + f'<ul class="summary">{items}</ul>')

    def scorecard(self) -> HTML:
        """KPI cards: value, target status in words, change on the previous period and on the
        same period last year."""
        lang = self.lang
        cards = []
        for name in SCORECARD:
            value = self.current.get(name)
            if _missing(value):
                continue
            lines = []
            if name in RATES:
                k, n = rate_parts(self.current, name)
                low, high = stats.wilson_interval(k, n)
                lines.append(f"95% CI: {fmt_interval(low, high, lang)}")
            for other, key in (
                (self.previous, "previous_period"),
                (self.year_before, "year_before"),
            ):
                lines.append(f"{text(key, lang)}: {_change(name, value, other, lang)}")
            cards.append(kpi_card(name, value, lang, lines))
        return HTML(_section("scorecard", lang) + f'<div class="cards">{"".join(cards)}</div>')

    def summary_table(self) -> HTML:
        """The unit's form-06 counts for the period, with the comparison periods."""
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
        frame = pd.DataFrame({text("indicator", lang): [label(r, lang) for r in rows]})
        frame[period_label(self.period, lang)] = [
            format_value(r, self.current[r], lang) for r in rows
        ]
        for other, period in (
            (self.previous, self.period.previous()),
            (self.year_before, self.period.year_before()),
        ):
            if other is not None:
                frame[period_label(period, lang)] = [format_value(r, other[r], lang) for r in rows]
        return HTML(_section("counts", lang) + table_html(frame))

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
            f"{len(wide)} tháng; cao nhất {fmt_count(peak.max(), lang)} hồ sơ "
            f"vào tháng {peak.idxmax():%m/%Y}.",
            f"Stacked bar chart of new dossiers per month by channel over {len(wide)} months; "
            f"the highest is {fmt_count(peak.max(), lang)} in {peak.idxmax():%b %Y}.",
        )
        sentence = _vi(
            lang,
            f"Trong kỳ, đơn vị tiếp nhận mới {fmt_count(total, lang)} hồ sơ, "
            f"cộng {fmt_count(self.current['carried_over_count'], lang)} hồ sơ từ kỳ trước "
            "chuyển sang.",
            f"In the period the unit received {fmt_count(total, lang)} new dossiers, plus "
            f"{fmt_count(self.current['carried_over_count'], lang)} carried over.",
        )
        return HTML(_section("volumes", lang) + paragraph(sentence) + figure_html(fig, alt))

    def timeliness(self) -> HTML:
        lang = self.lang
        cur = self.current
        k, n = rate_parts(cur, "within_deadline_rate")
        low, high = stats.wilson_interval(k, n)
        sentence = _vi(
            lang,
            f"Đã giải quyết {fmt_count(cur['resolved_total_count'], lang)} hồ sơ, trong đó "
            f"{fmt_count(cur['resolved_within_deadline_count'], lang)} trước hoặc đúng hạn "
            f"({fmt_rate(cur['within_deadline_rate'], lang)}, khoảng tin cậy 95% "
            f"{fmt_interval(low, high, lang)}) và "
            f"{fmt_count(cur['resolved_late_count'], lang)} quá hạn; "
            f"{fmt_count(cur['pending_total_count'], lang)} hồ sơ đang giải quyết cuối kỳ, "
            f"{fmt_count(cur['pending_late_count'], lang)} đã quá hạn.",
            f"{fmt_count(cur['resolved_total_count'], lang)} dossiers were resolved, "
            f"{fmt_count(cur['resolved_within_deadline_count'], lang)} early or on time "
            f"({fmt_rate(cur['within_deadline_rate'], lang)}, 95% CI "
            f"{fmt_interval(low, high, lang)}) and "
            f"{fmt_count(cur['resolved_late_count'], lang)} late; "
            f"{fmt_count(cur['pending_total_count'], lang)} were pending at the end of the "
            f"period, {fmt_count(cur['pending_late_count'], lang)} of them overdue.",
        )
        monthly = with_wilson(
            self.monthly.dropna(subset=["within_deadline_rate"]), "within_deadline_rate"
        )
        series = {
            "within_deadline_rate": label("within_deadline_rate", lang),
            "timeliness_766_rate": label("timeliness_766_rate", lang),
        }
        title = _vi(
            lang,
            "Tỷ lệ giải quyết đúng hạn theo tháng (dải: khoảng tin cậy 95%)",
            "Within-deadline rate by month (band: 95% CI)",
        )
        target = target_rules.check("within_deadline_rate", 1.0).target
        fig = plots.rate_trend(
            monthly,
            series,
            title,
            lang,
            target=target.value if target else None,
            target_label=_vi(lang, "mục tiêu", "target") if target else None,
            bands={
                "within_deadline_rate": ("within_deadline_rate_low", "within_deadline_rate_high")
            },
        )
        alt = _vi(
            lang,
            "Biểu đồ đường tỷ lệ giải quyết đúng hạn (có dải khoảng tin cậy 95%) và tiến độ "
            f"theo QĐ 766 mỗi tháng; tháng thấp nhất "
            f"{fmt_rate(monthly['within_deadline_rate'].min(), lang)}.",
            "Line chart of the monthly within-deadline rate with its 95% band, and the "
            f"Decision 766 progress rate; lowest month "
            f"{fmt_rate(monthly['within_deadline_rate'].min(), lang)}.",
        )
        trend_sentence = stats.describe_trend(
            self.trend,
            label("within_deadline_rate", lang) if lang == "vi" else "The within-deadline rate",
            lang=lang,
        )
        return HTML(
            _section("timeliness", lang)
            + paragraph(sentence)
            + figure_html(fig, alt)
            + paragraph(trend_sentence)
        )

    def processing_time(self) -> HTML:
        """Kaplan–Meier share finished by working day, per field, pending dossiers censored.

        Per-dossier work is vectorised (numpy arrays, integer field codes) and each field's
        curve is estimated once, from counts per distinct duration, and read for its quantiles:
        the period's dossiers are many more than the section's outputs.
        """
        lang = self.lang
        frame = self.period_dossiers
        end = pd.Timestamp(self.period.end)
        parts = [_section("processing-time", lang)]
        if frame.empty:
            return HTML("".join(parts) + paragraph(text("no_data", lang)))
        closed = frame["resolved_at"].where(frame["resolved_at"] <= end)
        without_result = frame["status"].isin(["withdrawn", "rejected"]).fillna(False)
        is_event = (closed.notna() & ~without_result).to_numpy(dtype=bool)
        days = working_days_between(frame["received_at"], closed.fillna(end))
        deadline = working_days_between(frame["received_at"], frame["due_at"])
        fields = frame["field"].value_counts().index[:6]
        field_codes, field_names = pd.factorize(frame["field"])
        curves, deadlines, rows = {}, {}, []
        for name, code in zip(fields, pd.Index(field_names).get_indexer(fields), strict=True):
            mine = field_codes == code
            curves[name] = stats.kaplan_meier(days[mine], is_event[mine])
            deadlines[name] = float(np.nanmedian(deadline[mine]))
            quantiles = stats.curve_quantiles(curves[name]).set_index("probability")
            median, p90 = quantiles.loc[0.5], quantiles.loc[0.9]
            rows.append(
                {
                    text("field", lang): name,
                    text("dossiers", lang): fmt_count(int(mine.sum()), lang),
                    _vi(lang, "Thời hạn (ngày LV)", "Deadline (working days)"): fmt_number(
                        deadlines[name], lang, 0
                    ),
                    _vi(lang, "Trung vị (KTC 95%)", "Median (95% CI)"): _fmt_days(median, lang),
                    _vi(lang, "Bách phân vị 90 (KTC 95%)", "90th percentile (95% CI)"): _fmt_days(
                        p90, lang
                    ),
                }
            )
        title = _vi(
            lang,
            "Tỷ lệ hồ sơ đã giải quyết theo số ngày làm việc",
            "Share of dossiers finished by working day",
        )
        x_label = _vi(lang, "Ngày làm việc kể từ khi tiếp nhận", "Working days since receipt")
        finite_deadlines = [d for d in deadlines.values() if np.isfinite(d)]
        horizon = max([float(np.nanpercentile(days, 99)), *finite_deadlines]) + 2
        fig = plots.completion_curves(curves, deadlines, title, x_label, lang, max_days=horizon)
        alt = _vi(
            lang,
            f"Đường Kaplan–Meier tỷ lệ hồ sơ đã giải quyết theo ngày làm việc cho "
            f"{len(curves)} lĩnh vực, đường chấm là thời hạn giải quyết của từng lĩnh vực.",
            f"Kaplan–Meier curves of the share finished by working day for {len(curves)} "
            "fields; dotted lines mark each field's statutory deadline.",
        )
        note = _vi(
            lang,
            "Hồ sơ tiếp nhận trong kỳ; hồ sơ chưa xong đến cuối kỳ được tính là quan sát bị "
            "kiểm duyệt (không bỏ đi). Thời hạn là trung vị số ngày làm việc từ tiếp nhận "
            "đến ngày hẹn trả.",
            "Dossiers received in the period; those unfinished at its end are censored, not "
            "dropped. The deadline is the median of working days from receipt to due date.",
        )
        return HTML(
            "".join(parts)
            + paragraph(note)
            + table_html(pd.DataFrame(rows))
            + figure_html(fig, alt)
        )

    def online(self) -> HTML:
        lang = self.lang
        cur = self.current
        sentence = _vi(
            lang,
            f"{fmt_count(cur['received_online_count'], lang)} hồ sơ nộp trực tuyến "
            f"({fmt_rate(cur['online_rate'], lang)} tổng số tiếp nhận; "
            f"{fmt_rate(cur['online_new_rate'], lang)} hồ sơ mới trong kỳ), trong đó "
            f"{fmt_count(cur['online_full_count'], lang)} toàn trình và "
            f"{fmt_count(cur['online_partial_count'], lang)} một phần. Tỷ lệ số hóa "
            f"{fmt_rate(cur['digitization_rate'], lang)}; thanh toán trực tuyến "
            f"{fmt_rate(cur['online_payment_rate'], lang)} hồ sơ có phí.",
            f"{fmt_count(cur['received_online_count'], lang)} dossiers were filed online "
            f"({fmt_rate(cur['online_rate'], lang)} of all received; "
            f"{fmt_rate(cur['online_new_rate'], lang)} of new ones): "
            f"{fmt_count(cur['online_full_count'], lang)} fully and "
            f"{fmt_count(cur['online_partial_count'], lang)} partly online. Digitisation "
            f"{fmt_rate(cur['digitization_rate'], lang)}; online payment "
            f"{fmt_rate(cur['online_payment_rate'], lang)} of fee-bearing dossiers.",
        )
        monthly = self.monthly.dropna(subset=["online_new_rate"])
        for name in ("online_new_rate", "digitization_rate", "online_payment_rate"):
            monthly = with_wilson(monthly, name)
        series = {
            "online_new_rate": label("online_new_rate", lang),
            "digitization_rate": label("digitization_rate", lang),
            "online_payment_rate": label("online_payment_rate", lang),
        }
        bands = {name: (f"{name}_low", f"{name}_high") for name in series}
        title = _vi(
            lang, "Trực tuyến, số hóa và thanh toán trực tuyến", "Online, digitised, paid online"
        )
        fig = plots.rate_trend(monthly, series, title, lang, bands=bands)
        first, last = monthly["online_new_rate"].iloc[0], monthly["online_new_rate"].iloc[-1]
        alt = _vi(
            lang,
            "Biểu đồ đường tỷ lệ hồ sơ trực tuyến, số hóa và thanh toán trực tuyến mỗi tháng; "
            f"tỷ lệ trực tuyến từ {fmt_rate(first, lang)} lên {fmt_rate(last, lang)}.",
            "Line chart of monthly online, digitisation and online-payment rates; the online "
            f"rate went from {fmt_rate(first, lang)} to {fmt_rate(last, lang)}.",
        )
        trend = stats.trend_test(monthly["online_new_rate"].to_numpy(float), monthly["month"])
        trend_sentence = stats.describe_trend(
            trend,
            label("online_new_rate", lang) if lang == "vi" else "The online rate",
            lang=lang,
        )
        return HTML(
            _section("online", lang)
            + paragraph(sentence)
            + figure_html(fig, alt)
            + paragraph(trend_sentence)
        )

    def satisfaction(self) -> HTML:
        lang = self.lang
        cur = self.current
        parts = [_section("satisfaction", lang)]
        k, n = rate_parts(cur, "satisfaction_rate")
        low, high = stats.wilson_interval(k, n)
        parts.append(
            paragraph(
                _vi(
                    lang,
                    f"Đánh giá trên cổng dịch vụ công: {fmt_count(cur['rated_count'], lang)} lượt, "
                    f"{fmt_rate(cur['satisfaction_rate'], lang)} hài lòng trở lên "
                    "(khoảng tin cậy 95% "
                    f"{fmt_interval(low, high, lang)}).",
                    f"Portal ratings: {fmt_count(cur['rated_count'], lang)}, "
                    f"{fmt_rate(cur['satisfaction_rate'], lang)} satisfied or better (95% CI "
                    f"{fmt_interval(low, high, lang)}).",
                )
            )
        )
        window = self._survey_window()
        if window is None or window[0].empty:
            parts.append(paragraph(text("no_data", lang)))
            return HTML("".join(parts))
        frame, window_note = window
        parts.append(paragraph(window_note))
        rows, likert = [], {}
        for aspect in SURVEY_ASPECTS:
            cols = [c for c in frame.columns if c.startswith(f"{aspect}__")]
            scores = frame[cols].to_numpy(dtype=float).ravel()
            share, low, high, n_answers = stats.satisfied_share(
                scores, threshold=SURVEY_SATISFIED_MIN_SCORE
            )
            alpha = stats.cronbach_alpha(frame[cols])
            name = ASPECT_LABELS[aspect][0 if lang == "vi" else 1]
            rows.append(
                {
                    _vi(lang, "Khía cạnh", "Aspect"): name,
                    _vi(lang, "Số câu trả lời", "Answers"): fmt_count(n_answers, lang),
                    _vi(lang, "Hài lòng trở lên", "Satisfied or better"): fmt_rate(share, lang, 1),
                    _vi(lang, "KTC 95%", "95% CI"): fmt_interval(low, high, lang),
                    "Cronbach α": fmt_number(alpha, lang, 2),
                }
            )
            dist = stats.likert_distribution(scores[~np.isnan(scores)])
            likert[name] = dist["share"]
        parts.append(table_html(pd.DataFrame(rows)))
        shares = pd.DataFrame(likert).T
        level_labels = {lv: LIKERT_LABELS[lv][0 if lang == "vi" else 1] for lv in LIKERT_LABELS}
        title = _vi(
            lang,
            "Phân bố mức độ hài lòng theo khía cạnh (khảo sát)",
            "Satisfaction by aspect (survey), diverging",
        )
        fig = plots.likert_diverging(shares, level_labels, title, lang)
        alt = _vi(
            lang,
            "Biểu đồ thanh phân kỳ phân bố 5 mức hài lòng cho 5 khía cạnh khảo sát; phần bên "
            "phải trục là hài lòng, bên trái là không hài lòng.",
            "Diverging bar chart of the five answer levels for five survey aspects; satisfied "
            "answers to the right of the axis, dissatisfied to the left.",
        )
        parts.append(figure_html(fig, alt))
        parts.append(paragraph(self._kruskal_sentence()))
        return HTML("".join(parts))

    def _kruskal_sentence(self) -> str:
        lang = self.lang
        survey = self.province_survey
        if survey is None or survey.empty:
            return ""
        when = pd.to_datetime(survey["surveyed_at"])
        end = pd.Timestamp(self.period.end)
        recent = survey[(when > end - pd.DateOffset(months=12)) & (when <= end)]
        items = [c for c in recent.columns if "__" in c]
        score = recent[items].mean(axis=1)
        groups = {
            code: score[recent["unit_code"].astype(str) == code].to_numpy()
            for code in recent["unit_code"].astype(str).unique()
        }
        result = stats.kruskal_test(groups)
        if _missing(result.get("p_value")):
            return ""
        significant = result["p_value"] < 0.05
        return _vi(
            lang,
            f"So sánh điểm hài lòng trung bình giữa {len(groups)} huyện, quận trong 12 tháng "
            f"(kiểm định Kruskal–Wallis): {fmt_p(result['p_value'], lang)}, "
            + (
                "khác biệt có ý nghĩa thống kê."
                if significant
                else "chưa có khác biệt có ý nghĩa thống kê."
            ),
            f"Mean satisfaction scores across {len(groups)} districts over 12 months "
            f"(Kruskal–Wallis test): {fmt_p(result['p_value'], lang)}, "
            + ("a significant difference." if significant else "no significant difference."),
        )

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
                f"Khảo sát người dân trong kỳ: {fmt_count(len(frame), lang)} người trả lời.",
                f"Citizen survey in the period: {fmt_count(len(frame), lang)} respondents.",
            )
            return frame, note
        start = end - pd.DateOffset(months=12) + pd.Timedelta(days=1)
        frame = self.survey[(when >= start) & (when <= end)]
        note = _vi(
            lang,
            f"Trong kỳ có dưới 30 phiếu khảo sát nên dùng 12 tháng đến hết kỳ: "
            f"{fmt_count(len(frame), lang)} người trả lời.",
            f"Fewer than 30 survey answers in the period, so the 12 months to its end are used: "
            f"{fmt_count(len(frame), lang)} respondents.",
        )
        return frame, note

    def communes(self) -> HTML:
        lang = self.lang
        if self.tier == "district":
            return HTML("")  # district offices only: no commune section (nor TOC entry)
        parts = [_section("communes", lang)]
        if self.commune_table.empty:
            parts.append(paragraph(text("no_data", lang)))
            return HTML("".join(parts))
        table = with_wilson(self.commune_table, "within_deadline_rate")
        table = table.sort_values("within_deadline_rate", ascending=False)
        table = table.assign(short_name=[_short(c, "commune") for c in table["unit_code"]])
        shown = pd.DataFrame({text("commune", lang): table["short_name"]})
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
        for c in ("online_rate", "digitization_rate"):
            shown[label(c, lang)] = [format_value(c, v, lang) for v in table[c]]
        parts.append(table_html(shown))
        parts.append(funnel_html(table, "commune", lang))
        return HTML("".join(parts))

    def _district_funnel(self) -> pd.DataFrame:
        return funnel_frame(self.districts)

    def _rank(self, name: str) -> tuple[int, int] | None:
        ranked = self.districts[name].rank(ascending=False, method="min")
        mine = ranked[self.districts["unit_code"] == self.unit_code]
        if mine.empty or _missing(mine.iloc[0]):
            return None
        return int(mine.iloc[0]), len(self.districts)

    def position(self) -> HTML:
        """Where the district stands among the province's districts."""
        lang = self.lang
        parts = [_section("position", lang)]
        sentences = []
        for name in ("within_deadline_rate", "online_rate", "digitization_rate"):
            rank = self._rank(name)
            if rank:
                sentences.append(
                    _vi(
                        lang,
                        f"{label(name, lang)}: hạng {rank[0]}/{rank[1]}.",
                        f"{label(name, lang)}: rank {rank[0]} of {rank[1]}.",
                    )
                )
        parts.append(paragraph(" ".join(sentences)))
        title = _vi(
            lang, "Tỷ lệ giải quyết đúng hạn các huyện, quận", "Within-deadline rate, districts"
        )
        fig = plots.ranking_bars(
            self.districts, "within_deadline_rate", "short_name", self.unit_code, title, lang
        )
        alt = _vi(
            lang,
            f"Biểu đồ thanh xếp hạng {len(self.districts)} huyện, quận theo tỷ lệ đúng hạn, "
            f"{self.unit.short_name} được tô đậm.",
            f"Bar chart ranking {len(self.districts)} districts by within-deadline rate, with "
            f"{self.unit.short_name} highlighted.",
        )
        parts.append(figure_html(fig, alt))
        parts.append(funnel_html(self.districts, "district", lang, self.unit_code))
        return HTML("".join(parts))

    def service_index(self) -> HTML:
        """The Decision 766 index estimate: components, points, band, rank in the province."""
        lang = self.lang
        config = service_index.index_config()
        table = service_index.index_table(self.districts, lang)
        mine = table[table["unit_code"] == self.unit_code].iloc[0]
        rows = []
        for name, spec in config["components"].items():
            rows.append(
                {
                    _vi(lang, "Thành phần", "Component"): spec[
                        "label_vi" if lang == "vi" else "label_en"
                    ],
                    _vi(lang, "Tỷ lệ", "Rate"): fmt_rate(mine[f"{name}_rate"], lang),
                    _vi(lang, "Ngưỡng đủ điểm", "Full-score threshold"): fmt_rate(
                        spec["threshold"], lang, 0
                    ),
                    _vi(lang, "Điểm", "Points"): f"{fmt_number(mine[f'{name}_points'], lang, 2)}"
                    f" / {spec['max_points']}",
                }
            )
        headline = _vi(
            lang,
            f"ƯỚC TÍNH: {fmt_number(mine['estimate_points'], lang, 2)}/"
            f"{int(mine['estimate_max_points'])} điểm tính được từ dữ liệu hồ sơ, quy đổi "
            f"{fmt_number(mine['estimate_100'], lang, 2)}/100 — xếp loại {mine['band']}, "
            f"hạng {int(mine['rank'])}/{len(table)} trong tỉnh. Không phải điểm chính thức.",
            f"ESTIMATE: {fmt_number(mine['estimate_points'], lang, 2)}/"
            f"{int(mine['estimate_max_points'])} points computable from dossier data, rescaled "
            f"{fmt_number(mine['estimate_100'], lang, 2)}/100 — band {mine['band']}, rank "
            f"{int(mine['rank'])} of {len(table)} in the province. Not the official score.",
        )
        excluded = _vi(
            lang,
            "Nhóm công khai, minh bạch (18 điểm) không tính được từ dữ liệu "
            "hồ sơ nên không có trong ước tính.",
            "The publicity and transparency group (18 points) cannot be computed "
            "from dossier data and is left out.",
        )
        return HTML(
            _section("index", lang)
            + paragraph(headline, "estimate")
            + table_html(pd.DataFrame(rows))
            + paragraph(excluded)
        )

    def method(self) -> HTML:
        """Provenance of this report, then the methodology shared by all reports."""
        lang = self.lang
        info = self.dataset
        generated = datetime.now()
        provenance = _vi(
            lang,
            f"Dữ liệu: {info.get('source', str(self.data_dir))}"
            + (f" (seed {info['seed']})" if "seed" in info else "")
            + f". Thư mục: {self.data_dir}. Kỳ: {_fmt_date_range(self.period, lang)}. "
            f"Tạo bởi cchc-workbook {__version__} lúc {generated:%d/%m/%Y %H:%M}."
            + (f" Mã băm dữ liệu đầu vào: {self.input_hash}." if self.input_hash else ""),
            f"Data: {info.get('source', str(self.data_dir))}"
            + (f" (seed {info['seed']})" if "seed" in info else "")
            + f". Folder: {self.data_dir}. Period: {_fmt_date_range(self.period, lang)}. "
            f"Generated by cchc-workbook {__version__} at {generated:%Y-%m-%d %H:%M}."
            + (f" Input hash: {self.input_hash}." if self.input_hash else ""),
        )
        return HTML(
            _section("method", lang)
            + paragraph(provenance, "provenance")
            + f'<div class="methodology">{methodology_html(lang)}</div>'
        )


def _fmt_days(row: pd.Series, lang: str) -> str:
    if _missing(row["time"]):
        return "–"
    low = "–" if _missing(row["low"]) else fmt_number(row["low"], lang, 0)
    high = "–" if _missing(row["high"]) else fmt_number(row["high"], lang, 0)
    return f"{fmt_number(row['time'], lang, 0)} ({low}–{high})"


def province_districts(data_dir: Path, unit: units.Unit) -> list[str]:
    """Districts with data in the same province as ``unit``: the report compares a district
    with its own province, never with whatever else shares the data folder."""
    same = []
    for code in store.dossier_partitions(data_dir):
        try:
            if units.get_unit(code, level="district").province_code == unit.province_code:
                same.append(code)
        except (KeyError, ValueError):
            continue
    return same


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
    return f"{fmt_date(period.start, lang)} – {fmt_date(period.end, lang)}"


def _change(name: str, value: float, other: pd.Series | None, lang: str) -> str:
    """Change against a comparison period, worded by the metric's unit."""
    if other is None or name not in other:
        return "–"
    before = other[name]
    if _missing(before):
        return "–"
    if name.endswith(("_rate", "_share")):
        return fmt_points(float(value) - float(before), lang)
    if before == 0:
        return "–"
    change = float(value) / float(before) - 1
    sign = "+" if change > 0 else ("−" if change < 0 else "±")
    return f"{sign}{fmt_rate(abs(change), lang, 1)}"


def funnel_frame(table: pd.DataFrame) -> pd.DataFrame:
    """Late rate of each unit placed on the funnel (band per unit), with the pooled target."""
    outliers = stats.funnel_outliers(
        table["resolved_late_count"].to_numpy(), table["resolved_total_count"].to_numpy()
    )
    out = table[["unit_code", "short_name"]].reset_index(drop=True).copy()
    out["trials"] = table["resolved_total_count"].to_numpy()
    out["rate"] = outliers["rate"].to_numpy()
    out["band"] = outliers["band"].astype("string").to_numpy()
    out.attrs = outliers.attrs
    out.attrs["target"] = float(outliers["target"].iloc[0]) if len(outliers) else np.nan
    return out


def funnel_html(
    table: pd.DataFrame, level: str, lang: str, highlight_code: str | None = None
) -> str:
    """Funnel plot of late rates, units outside the limits named, chi-square test."""
    funnel = funnel_frame(table)
    trials = funnel["trials"].to_numpy(dtype=float)
    if funnel.empty or np.nansum(trials) == 0:
        return ""
    target = funnel.attrs["target"]
    grid = np.unique(
        np.geomspace(max(1, trials[trials > 0].min() / 2), trials.max() * 1.5, 80).round()
    )
    limits = stats.funnel_limits(target, grid)
    who = _vi(
        lang,
        "xã" if level == "commune" else "huyện, quận",
        "communes" if level == "commune" else "districts",
    )
    title = _vi(lang, f"Biểu đồ phễu tỷ lệ quá hạn các {who}", f"Funnel plot of late rates, {who}")
    fig = plots.funnel_plot(
        funnel,
        limits,
        target,
        title,
        _vi(lang, "Số hồ sơ đã giải quyết (thang log)", "Dossiers resolved (log scale)"),
        label("late_rate", lang),
        lang,
        highlight_code=highlight_code,
    )
    high = funnel[funnel["band"].isin(["above_998"])]["short_name"].tolist()
    low = funnel[funnel["band"].isin(["below_998"])]["short_name"].tolist()
    phi = funnel.attrs.get("overdispersion", {}).get("phi", np.nan)
    homogeneity = stats.homogeneity_test(
        table["resolved_late_count"].to_numpy(), table["resolved_total_count"].to_numpy()
    )
    sentences = []
    if high:
        sentences.append(
            _vi(
                lang,
                f"Tỷ lệ quá hạn cao bất thường (ngoài giới hạn 99,8%): {', '.join(high)}.",
                f"Unusually high late rate (outside the 99.8% limits): {', '.join(high)}.",
            )
        )
    if low:
        sentences.append(
            _vi(
                lang,
                f"Tỷ lệ quá hạn thấp bất thường: {', '.join(low)}.",
                f"Unusually low late rate: {', '.join(low)}.",
            )
        )
    if not high and not low:
        sentences.append(
            _vi(
                lang,
                f"Không {who} nào nằm ngoài giới hạn 99,8%.",
                f"No {who} lie outside the 99.8% limits.",
            )
        )
    if not _missing(homogeneity.get("p_value")):
        sentences.append(
            _vi(
                lang,
                f"Kiểm định đồng nhất khi-bình-phương: {fmt_p(homogeneity['p_value'], lang)}"
                + (" (tần số kỳ vọng nhỏ, cần thận trọng)." if homogeneity.get("sparse") else "."),
                f"Chi-square test of homogeneity: {fmt_p(homogeneity['p_value'], lang)}"
                + (
                    " (small expected counts: read with care)."
                    if homogeneity.get("sparse")
                    else "."
                ),
            )
        )
    if not _missing(phi) and phi > 2:
        sentences.append(
            _vi(
                lang,
                f"Các đơn vị dao động nhiều hơn mức ngẫu nhiên (hệ số phân tán "
                f"{fmt_number(phi, lang, 1)}), nên giới hạn phễu có thể quá hẹp.",
                f"Units vary more than chance allows (dispersion factor "
                f"{fmt_number(phi, lang, 1)}), so the funnel limits may be too narrow.",
            )
        )
    alt = _vi(
        lang,
        f"Biểu đồ phễu: tỷ lệ quá hạn của {len(funnel)} {who} theo số hồ sơ đã giải quyết, "
        f"với giới hạn kiểm soát 95% và 99,8% quanh tỷ lệ chung {fmt_rate(target, lang)}.",
        f"Funnel plot: late rate of {len(funnel)} {who} against dossiers resolved, with 95% "
        f"and 99.8% control limits around the pooled rate {fmt_rate(target, lang)}.",
    )
    return figure_html(fig, alt) + "".join(paragraph(s) for s in sentences)
