"""Summary sentences, targets, the index estimate and the HTML building blocks on fixed
inputs (no notebook run needed)."""

import base64
import math

import numpy as np
import pandas as pd
import pytest

from cchc_analysis import stats
from cchc_analysis.core import targets
from cchc_analysis.core.metrics import add_metrics
from cchc_analysis.counting import service_index
from cchc_analysis.reports.formatting import (
    MISSING_MARK,
    fmt_count,
    fmt_days_interval,
    fmt_p,
    fmt_rate,
)
from cchc_analysis.reports.html_blocks import card, table_html
from cchc_analysis.reports.methodology import methodology_html
from cchc_analysis.reports.summary import summary_sentences
from cchc_analysis.reports.trend_sentence import describe_trend, trend_note

KIEN_THUY = add_metrics(
    pd.DataFrame(
        [
            {
                "received_new_count": 1463,
                "carried_over_count": 10,
                "received_total_count": 1473,
                "received_online_count": 1462,
                "received_offline_count": 1,
                "online_full_count": 909,
                "online_partial_count": 553,
                "resolved_early_count": 1400,
                "resolved_on_time_count": 65,
                "resolved_late_count": 3,
                "resolved_total_count": 1468,
                "pending_in_time_count": 5,
                "pending_late_count": 0,
                "pending_total_count": 5,
                "withdrawn_count": 0,
                "digitized_count": 700,
                "fee_bearing_count": 1000,
                "paid_online_count": 850,
                "rated_count": 200,
                "satisfied_count": 190,
            }
        ]
    )
).iloc[0]
YEAR_BEFORE = {"received_total_count": 1339}
FLAT_TREND = {
    "n": 12,
    "tau": -0.05,
    "p_value": 0.71,
    "slope": 0.0001,
    "is_significant": False,
    "direction": "flat",
    "slope_low": -0.001,
    "slope_high": 0.001,
}


def test_summary_sentences_vietnamese():
    sentences = summary_sentences(
        KIEN_THUY,
        "Huyện Kiến Thụy",
        "Quý III/2023",
        "vi",
        year_before=YEAR_BEFORE,
        rank=(1, 15),
        trend=FLAT_TREND,
        funnel_band="below_998",
    )
    assert 3 <= len(sentences) <= 6
    assert sentences[0] == (
        "Quý III/2023, huyện Kiến Thụy tiếp nhận 1.473 hồ sơ (tăng 10,0% so với cùng kỳ năm trước)."
    )
    assert sentences[1] == (
        "99,80% hồ sơ đã giải quyết trước hạn hoặc đúng hạn, đạt mục tiêu 98%; 3 hồ sơ quá hạn."
    )
    assert sentences[2] == (
        "Tỷ lệ hồ sơ trực tuyến đạt 99,25%, trong đó 909 hồ sơ trực tuyến toàn trình."
    )
    # digitisation 700/1463 = 47.85% < 80% target: named
    assert sentences[3] == "Chưa đạt mục tiêu: tỷ lệ số hóa hồ sơ (47,85%)."
    assert "ổn định qua các tháng" in sentences[4] and "Kendall" not in sentences[4]
    assert sentences[5].startswith(
        "Đơn vị xếp thứ 1/15 trong các đơn vị cấp huyện về tỷ lệ đúng hạn"
    )
    assert "thấp hơn rõ rệt so với mức chung" in sentences[5]
    assert "giới hạn" not in sentences[5]  # the funnel's limits are in a footnote


def test_summary_sentences_english_and_all_targets_met():
    row = KIEN_THUY.copy()
    row["digitization_rate"] = 0.9
    sentences = summary_sentences(row, "Kiến Thụy District", "Q3 2023", "en")
    assert sentences[0] == "In Q3 2023, Kiến Thụy District handled 1,473 dossiers."
    assert sentences[1].startswith("99.80% of resolved dossiers were early or on time")
    assert "target met: 98%" in sentences[1]
    assert sentences[3] == "Every tracked indicator met or came close to its target."
    assert 3 <= len(sentences) <= 6


@pytest.mark.parametrize(
    ("metric", "value", "status"),
    [
        ("within_deadline_rate", 0.99, "met"),
        ("within_deadline_rate", 0.965, "near"),
        ("within_deadline_rate", 0.90, "missed"),
        ("digitization_rate", 0.80, "met"),
        ("digitization_rate", float("nan"), "none"),
        ("received_total_count", 100, "none"),
    ],
)
def test_target_status(metric, value, status):
    check = targets.check(metric, value)
    assert check.status == status
    assert check.text("vi") and check.text("en")


def test_targets_file_can_be_replaced(tmp_path):
    custom = tmp_path / "t.yaml"
    custom.write_text(
        "targets:\n  online_rate: {value: 0.99, direction: higher}\n", encoding="utf-8"
    )
    assert targets.check("online_rate", 0.98, str(custom)).status == "near"
    assert targets.check("online_rate", 0.90, str(custom)).status == "missed"


def test_index_estimate_threshold_rule_and_bands():
    table = pd.DataFrame([KIEN_THUY]).assign(unit_code="314", unit_name="Kiến Thụy")
    weak = table.copy().assign(unit_code="999")
    weak["online_rate"] = 0.25  # half the 50% threshold: half of 12 points
    weak["digitization_rate"] = 0.40
    scored = service_index.index_table(pd.concat([table, weak]), "vi")
    first, second = scored.iloc[0], scored.iloc[1]
    assert first["online_points"] == pytest.approx(12)
    assert second["online_points"] == pytest.approx(6)
    assert second["digitization_points"] == pytest.approx(0.4 / 0.8 * 22)
    # progress: (1465 + 5) / 1473 against a threshold of 100%
    assert first["progress_points"] == pytest.approx(1470 / 1473 * 20)
    # satisfaction 766: 1 - (3/1468 + 10/1468)
    assert first["satisfaction_rate"] == pytest.approx(1 - 13 / 1468)
    assert first["estimate_max_points"] == 82
    assert first["estimate_100"] == pytest.approx(first["estimate_points"] / 82 * 100)
    assert list(scored["rank"]) == [1, 2]
    assert service_index.band_label(92) == "Xuất sắc"
    assert service_index.band_label(71.4) == "Khá"  # Hà Giang 71.40 = khá (DOMAIN.md)
    assert service_index.band_label(49.9, "en") == "Weak"


def test_table_html_escapes_and_aligns_numbers():
    frame = pd.DataFrame(
        {"Đơn vị": ["<script>alert(1)</script>", "Kiến Thụy"], "Tỷ lệ": ["99,46%", "1.473"]}
    )
    html = table_html(frame)
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert html.count('class="num"') == 2
    badge = card("Tỷ lệ", "99%", status="missed", status_text="Chưa đạt")
    assert "badge-missed" in badge and "Chưa đạt" in badge  # words, not colour alone


def test_methodology_renders_in_both_languages_with_ordered_headings():
    vi, en = methodology_html("vi"), methodology_html("en")
    assert "Quy tắc đếm" in vi and "Counting rules" in en
    for text in (vi, en):
        assert "<h1" not in text and "<h2" not in text and "<h3" in text
        assert "<table" in text
        assert "766" in text and not math.isnan(len(text))


def test_points_change_has_a_sign_only_when_it_shows():
    from cchc_analysis.reports.formatting import fmt_points

    assert fmt_points(-0.0001) == "±0,0 điểm %"
    assert fmt_points(0.004) == "+0,4 điểm %"
    assert fmt_points(-0.012, "en") == "−1.2 pp"


# Trend sentences (the words around stats.trend_test)

MONTHS_18 = pd.date_range("2022-01-01", periods=18, freq="MS")


def _result(**overrides):
    base = {
        "n": 24,
        "tau": 0.62,
        "p_value": 0.0001,
        "slope": 0.004,
        "slope_low": 0.002,
        "slope_high": 0.006,
        "alpha": 0.05,
        "is_significant": True,
        "direction": "up",
    }
    return {**base, **overrides}


def test_describe_trend_sentences():
    vi_label, en_label = "Tỷ lệ giải quyết đúng hạn", "the within-deadline rate"
    up = _result()
    assert describe_trend(up, vi_label) == (
        "Tỷ lệ giải quyết đúng hạn tăng rõ rệt, khoảng 0,4 điểm % mỗi tháng."
    )
    assert describe_trend(up, en_label, lang="en") == (
        "The within-deadline rate rose clearly, by about 0.4 points a month."
    )
    assert trend_note(up, "vi") == (
        "Xu hướng: kiểm định Mann–Kendall, tau 0,62; p < 0,001; “rõ rệt” là có ý nghĩa thống kê "
        "ở mức 5%."
    )
    down = _result(tau=-0.5, slope=-0.0123, direction="down", alpha=0.1)
    assert describe_trend(down, en_label, lang="en") == (
        "The within-deadline rate fell clearly, by about 1.2 points a month."
    )
    assert describe_trend(down, vi_label, per="quarter") == (
        "Tỷ lệ giải quyết đúng hạn giảm rõ rệt, khoảng 1,2 điểm % mỗi quý."
    )
    flat = _result(tau=-0.05, p_value=0.7104, slope=-0.0001, is_significant=False)
    flat["direction"] = "flat"
    assert describe_trend(flat, en_label, lang="en") == (
        "The within-deadline rate was stable over the months, with no clear rise or fall."
    )
    assert describe_trend(flat, vi_label) == (
        "Tỷ lệ giải quyết đúng hạn ổn định qua các tháng, không tăng hay giảm rõ rệt."
    )
    assert "tau −0,05; p = 0,71" in trend_note(flat, "vi")  # the test goes to a footnote
    days = _result(slope=-1.25, direction="down", tau=-0.4)
    assert describe_trend(days, "median processing time", lang="en", unit="days") == (
        "Median processing time fell clearly, by about 1.2 days a month."
    )
    few = stats.trend_test([0.9, 0.91])
    assert describe_trend(few, vi_label) == (
        "Tỷ lệ giải quyết đúng hạn chưa đủ số liệu để đánh giá xu hướng (2 kỳ)."
    )
    assert describe_trend(few, en_label, lang="en") == (
        "The within-deadline rate has too few data points to judge a trend (2 periods)."
    )
    assert trend_note(few, "vi") == ""


def test_describe_trend_small_p_and_tiny_slope():
    tiny = _result(slope=0.0002)
    assert "0.02 points" in describe_trend(tiny, "x", lang="en")
    flat = _result(tau=0.1, p_value=0.0004, is_significant=False, direction="flat")
    assert "p < 0,001" in trend_note(flat, "vi")
    assert "p <" not in describe_trend(flat, "x")


def test_describe_trend_of_a_real_result_roundtrip():
    y = 0.9 - 0.002 * np.arange(18)
    text = describe_trend(stats.trend_test(y, MONTHS_18), "the late rate", lang="en")
    assert text == "The late rate fell clearly, by about 0.2 points a month."


def test_one_p_value_formatter_keeps_both_styles():
    assert fmt_p(0.7104) == "p = 0,710"
    assert fmt_p(0.7104, is_two_decimals_from_001=True) == "p = 0,71"
    assert fmt_p(0.0042, "en", is_two_decimals_from_001=True) == "p = 0.004"
    assert fmt_p(0.0004) == fmt_p(0.0004, is_two_decimals_from_001=True) == "p < 0,001"
    assert fmt_p(float("nan")) == "p = —"


def test_a_missing_value_is_one_mark_never_zero_or_a_broken_interval():
    """Issue 14: '—' for every missing value, never '0 (0––)'."""
    assert fmt_count(None) == fmt_rate(float("nan")) == MISSING_MARK == "—"
    assert fmt_days_interval(pd.Series({"time": 5.0, "low": 4.0, "high": 6.0}), "vi") == "5 (4–6)"
    assert fmt_days_interval(pd.Series({"time": 5.0, "low": 4.0, "high": np.nan}), "vi") == "5"
    assert fmt_days_interval(pd.Series({"time": np.nan, "low": 0.0, "high": 0.0}), "vi") == "—"


def test_every_listed_section_is_a_method_of_its_report():
    """The notebooks' cells come from SECTIONS (tools/make_notebooks.py): each must exist."""
    from cchc_analysis.reports.province_report import ProvinceReport
    from cchc_analysis.reports.unit_report import UnitReport

    for report in (UnitReport, ProvinceReport):
        assert len(set(report.SECTIONS)) == len(report.SECTIONS)
        for name in report.SECTIONS:
            assert callable(getattr(report, name, None)), (report.__name__, name)


def _peers(late_counts: list[int], resolved: int = 1000) -> pd.DataFrame:
    codes = [f"{100 + i}" for i in range(len(late_counts))]
    return pd.DataFrame(
        {
            "unit_code": codes,
            "short_name": [f"Xã {c}" for c in codes],
            "resolved_late_count": late_counts,
            "resolved_total_count": [resolved] * len(late_counts),
        }
    )


def test_overview_funnel_names_units_to_act_on_with_their_statistics_in_footnotes():
    from cchc_analysis.reports.sections.funnel import funnel_html

    peers = _peers([10, 11, 9, 10, 12, 8, 10, 150, 10, 0])  # 103 well above, 109 well below
    overview = funnel_html(peers, "commune", "vi", has_unit_notes=True)
    assert "Tỷ lệ quá hạn cao hơn rõ rệt so với mức chung: Xã 107." in overview
    notes = overview.split('<aside class="footnotes"')[1]
    assert "Xã 107: 150/1.000 hồ sơ giải quyết quá hạn (15,00%); với số hồ sơ này" in notes
    assert "Xã 109:" not in notes  # a clearly good result is named, not footnoted
    unit_report = funnel_html(peers, "commune", "vi")
    assert "Xã 107: 150/1.000" not in unit_report


def test_overview_trends_name_falling_units_first_with_the_test_in_a_footnote():
    from types import SimpleNamespace

    from cchc_analysis.reports.sections.trends import province_trends

    months = pd.date_range("2025-01-01", periods=12, freq="MS")
    series = {
        "100": np.linspace(0.99, 0.90, 12),  # falls about 0.8 points a month
        "101": np.linspace(0.95, 0.99, 12),  # rises
        "102": np.full(12, 0.97),  # flat
    }
    monthly = pd.concat(
        pd.DataFrame({"unit_code": code, "month": months, "within_deadline_rate": values})
        for code, values in series.items()
    )
    data = SimpleNamespace(
        lang="vi",
        peers=pd.DataFrame({"unit_code": list(series), "short_name": ["Đồ Sơn", "An Lão", "Tiên"]}),
        peer_level="district",
        monthly=monthly,
    )
    page = province_trends(data).data
    falls = page.index("giảm rõ rệt qua các tháng ở: Đồ Sơn (khoảng 0,8 điểm % mỗi tháng)")
    assert falls < page.index("tăng rõ rệt qua các tháng ở: An Lão")
    notes = page.split('<aside class="footnotes"')[1]
    assert "Mann–Kendall" in notes and "Đồ Sơn: tau −1,00; p &lt; 0,001" in notes
    assert "Tiên" not in notes and "tau" not in page.split("<aside")[0]  # no test in the text


def _savefig_svg(fig: object) -> bytes:
    """The figure as matplotlib's own ``savefig(bbox_inches="tight")`` writes it (the
    reference ``figure_svg`` must match byte for byte)."""
    import io

    import matplotlib.pyplot as plt

    from cchc_analysis.reports.matplotlib_svg import SVG_STYLE

    buffer = io.BytesIO()
    with plt.rc_context(SVG_STYLE):
        fig.savefig(buffer, format="svg", metadata={"Date": None}, bbox_inches="tight")  # type: ignore[attr-defined]
    plt.close(fig)  # type: ignore[arg-type]
    return buffer.getvalue()


def test_figure_svg_is_savefig_tight_drawn_once():
    """figure_svg lays a chart out and measures it once instead of savefig's extra draw: the
    bytes must be savefig's (constrained layout with a legend under the plot and a wrapped
    title, no layout engine, a tight layout)."""
    import matplotlib.pyplot as plt

    from cchc_analysis.reports import plots
    from cchc_analysis.reports.matplotlib_svg import figure_svg

    plots.apply_style()  # a researcher's figure in the reports' look

    def charts() -> list[object]:
        constrained, ax = plt.subplots(figsize=(plots.FIGURE_WIDTH_IN, 2.8), layout="constrained")
        ax.barh([0, 1], [0.9, 0.8], label="Hài lòng")
        constrained.suptitle("Một tiêu đề dài của biểu đồ,\nxuống dòng", x=0.01, ha="left")
        constrained.legend(loc="outside lower center")
        fig, ax = plt.subplots(figsize=(2, 1))  # no layout engine
        ax.plot([0, 1], [0, 1])
        tight, ax = plt.subplots(figsize=(3, 2))
        ax.set_title("Kiến Thụy")
        tight.tight_layout()
        return [constrained, fig, tight]

    for ours, reference in zip(charts(), charts(), strict=True):
        assert figure_svg(ours) == _savefig_svg(reference)  # type: ignore[arg-type]
    assert not plt.get_fignums()  # every figure closed


def test_rates_and_counts_read_the_same_with_babel_parsed_once():
    """The cached locale and patterns format as Babel's own calls do, in both languages."""
    from babel.numbers import format_decimal, format_percent

    for lang in ("vi", "en"):
        for value in (0.0, -0.0, 0.98, 0.975, 0.99456, 1.0, 1234567.891):
            assert fmt_rate(value, lang, 1) == format_percent(value, "#,##0.0%", locale=lang)
            assert fmt_rate(value, lang, 0) == format_percent(value, "#,##0%", locale=lang)
            assert fmt_count(value, lang) == format_decimal(int(round(value)), locale=lang)
    with pytest.raises(ValueError):
        fmt_rate(0.5, "fr")


def test_small_multiples_draw_one_panel_per_unit_under_the_title():
    """The overview's trend panels (one figure, no Axes per unit): every unit's name once, the
    shared tick labels in the first column only, a unit without data as an empty panel, and
    the title above the first row (it used to overlap it)."""
    import re

    from cchc_analysis.reports import plots

    months = pd.date_range("2025-01-01", periods=12, freq="MS")
    monthly = pd.concat(
        pd.DataFrame({"unit_code": code, "month": months, "rate": np.linspace(0.9, 1.0, 12)})
        for code in ("1", "2", "3", "4")
    )
    monthly.loc[monthly["unit_code"] == "4", "rate"] = np.nan  # no rate in any month
    names = {"1": "Đồ Sơn", "2": "An Lão", "3": "Tiên Lãng", "4": "Bạch Long Vĩ", "5": "Cát Hải"}
    svg = plots.small_multiples(monthly, names, "rate", "Tỷ lệ đúng hạn", "vi").svg().decode()
    texts = re.findall(r"<text [^>]*?y=\"([\d.]+)\"[^>]*>([^<]*)</text>", svg)
    shown = [text for _, text in texts]
    for name in names.values():
        assert shown.count(name) == 1, name
    labels = [text for text in shown if text.endswith("%")]
    assert labels and len(labels) % 2 == 0  # the same ticks on each of the two rows
    assert len(set(labels)) == len(labels) // 2
    title_y = next(float(y) for y, text in texts if text == "Tỷ lệ đúng hạn")
    first_name_y = min(float(y) for y, text in texts if text in names.values())
    assert first_name_y - title_y > plots.MIN_FONT_PT  # a line apart, never overlapping


def test_funnel_frame_is_computed_once_per_content_and_handed_out_as_copies():
    """Every commune report of a province places the same communes on the funnel: computed
    once, each caller gets its own copy; another count is another frame."""
    from cchc_analysis.reports.rate_tables import funnel_frame

    table = pd.DataFrame(
        {
            "unit_code": ["1", "2", "3", "4"],
            "short_name": ["Kiến Thụy", "An Lão", "Đồ Sơn", "Tiên Lãng"],
            "resolved_late_count": [40, 2, 3, 1],
            "resolved_total_count": [400, 500, 600, 300],
        }
    )
    first = funnel_frame(table)
    first.loc[0, "band"] = "changed"
    first.attrs["overdispersion"]["phi"] = -1.0
    again = funnel_frame(table)
    assert again.loc[0, "band"] != "changed" and again.attrs["overdispersion"]["phi"] != -1.0
    assert again["band"].tolist()[0] == "above_998"
    other = table.assign(resolved_late_count=[4, 2, 3, 1])
    assert funnel_frame(other)["band"].tolist()[0] != "above_998"
    with_missing = table.assign(resolved_late_count=pd.array([40, None, 3, 1], dtype="Int64"))
    assert len(funnel_frame(with_missing)) == 4  # a missing count keys without error


def test_a_researchers_matplotlib_figure_embeds_as_inline_svg_without_loading_it_in_reports():
    """``figure_html`` takes a matplotlib figure too (a researcher's, in the reports' look):
    inline SVG with its text as text and alt text. A report kernel's imports load neither
    pyplot nor the SVG backend (the report's charts are written directly as SVG)."""
    import subprocess
    import sys

    import matplotlib.pyplot as plt

    from cchc_analysis.reports import plots
    from cchc_analysis.reports.html_blocks import figure_html

    plots.apply_style()
    fig, ax = plt.subplots(figsize=(4, 2))
    ax.plot([0, 1, 2], [0.97, 0.98, 0.99])
    ax.set_title("Kiến Thụy")
    html = figure_html(fig, "Xu hướng của Kiến Thụy")
    svg = base64.b64decode(html.split("base64,")[1].split('"')[0]).decode()
    assert "<text" in svg and "Kiến Thụy" in svg and 'alt="Xu hướng của Kiến Thụy"' in html
    assert not plt.get_fignums()  # closed once embedded
    code = (
        "import sys, cchc_analysis.reports.unit_report, cchc_analysis.reports.province_report;"
        "print(sorted(m for m in ('matplotlib.pyplot', 'matplotlib.figure',"
        " 'matplotlib.backends.backend_svg') if m in sys.modules))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert loaded.stdout.strip() == "[]", loaded.stderr
