"""The charts written directly as SVG (reports/svg_chart.py): matplotlib's scales and ticks,
every text of the chart present as text, marks where their data puts them."""

from __future__ import annotations

import re
from xml.etree import ElementTree

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from cchc_analysis import stats
from cchc_analysis.reports import plots, svg_chart
from cchc_analysis.reports.html_blocks import chart_min_width_px, figure_html

SVG = "{http://www.w3.org/2000/svg}"


def _tree(chart: svg_chart.SvgChart) -> ElementTree.Element:
    return ElementTree.fromstring(chart.svg())


def _texts(chart: svg_chart.SvgChart) -> list[str]:
    return [t.text or "" for t in _tree(chart).iter(SVG + "text")]


def _monthly(rates: list[float]) -> pd.DataFrame:
    months = pd.date_range("2025-10-01", periods=len(rates), freq="MS")
    return pd.DataFrame({"month": months, "rate": rates})


@pytest.mark.parametrize("seed", range(6))
def test_limits_are_matplotlibs_autoscale(seed):
    """A line's limits, a log axis's and bars' (sticky at zero) are matplotlib's."""
    rng = np.random.default_rng(seed)
    values = rng.uniform(-5, 50, 12) * 10 ** rng.integers(0, 4)
    fig, ax = plt.subplots()
    ax.plot(np.arange(12), values)
    assert svg_chart.data_limits(values) == pytest.approx(ax.get_ylim(), rel=1e-12)
    assert svg_chart.data_limits(np.arange(12.0)) == pytest.approx(ax.get_xlim(), rel=1e-12)
    sizes = rng.uniform(3, 40_000, 30)
    fig, ax = plt.subplots()
    ax.plot(sizes, np.ones(30))
    ax.set_xscale("log")
    assert svg_chart.data_limits(sizes, is_log=True) == pytest.approx(ax.get_xlim(), rel=1e-9)
    heights = rng.uniform(0, 2_000, 8)
    fig, ax = plt.subplots()
    ax.bar(np.arange(8), heights)
    assert svg_chart.data_limits(np.append(heights, 0.0), sticky=(0.0,)) == pytest.approx(
        ax.get_ylim(), rel=1e-12
    )
    plt.close("all")


@pytest.mark.parametrize(
    ("low", "high", "length_pt"),
    [
        (0.0, 2_400.0, 150.0),
        (0.93, 1.005, 150.0),
        (0.0, 0.107, 185.0),
        (0.0, 17.0, 60.0),
        (0, 9, 400),
    ],
)
def test_ticks_are_matplotlibs_on_an_axis_as_long(low, high, length_pt):
    """AutoLocator's ticks for the same limits on a y axis of the same length."""
    fig = plt.figure(figsize=(4, 6), dpi=72)
    ax = fig.add_axes((0.2, 0.1, 0.7, length_pt / (6 * 72)))
    plt.rcParams["ytick.labelsize"] = svg_chart.TICK_FONT_PT
    ax.tick_params(labelsize=svg_chart.TICK_FONT_PT)
    ax.set_ylim(low, high)
    expected = [t for t in ax.get_yticks() if low - 1e-12 <= t <= high + 1e-12]
    ours = svg_chart.auto_ticks(low, high, length_pt, 2 * svg_chart.TICK_FONT_PT)
    assert ours == pytest.approx(expected, abs=1e-12)
    plt.close(fig)


def test_log_ticks_are_the_decades_and_their_multiples():
    majors, minors = svg_chart.log_ticks(35.0, 4_200.0)
    assert majors == [100.0, 1_000.0]
    assert minors[:3] == [40.0, 50.0, 60.0] and minors[-1] == 4_000.0
    assert 100.0 not in minors and min(minors) > 35.0


def test_funnel_chart_names_every_text_and_marks_its_unit():
    units = pd.DataFrame(
        {
            "unit_code": ["1", "2", "3", "4"],
            "short_name": ["Kiến Thụy", "An Lão", "Đồ Sơn & <Cát Hải>", "Bạch Long Vĩ"],
            "trials": [40.0, 900.0, 12_000.0, np.nan],
            "rate": [0.1, 0.02, 0.011, np.nan],
            "band": ["above_998", "inside", "inside", "inside"],
        }
    )
    limits = stats.funnel_limits(0.01, np.geomspace(20, 18_000, 30).round())
    chart = plots.funnel_plot(
        units, limits, 0.01, "Tỷ lệ quá hạn", "Số hồ sơ", "Tỷ lệ", "vi", highlight_code="3"
    )
    texts = _texts(chart)
    assert "Tỷ lệ quá hạn" in texts and "Số hồ sơ" in texts and "Tỷ lệ" in texts
    assert "Kiến Thụy" in texts  # above the 99.8% limits: named
    assert "Đồ Sơn & <Cát Hải>" in texts  # the report's own unit, escaped, shown as written
    assert "An Lão" not in texts  # inside the limits: the text beside the chart names it
    assert {"100", "1.000", "10.000"} <= set(texts)  # decades in plain numbers, never 10²
    legend = [t for t in texts if t.startswith("Mức chung")]
    assert legend == ["Mức chung 1,00%"]
    dots = list(_tree(chart).iter(SVG + "circle"))
    assert len(dots) == 3  # the unit without dossiers has no dot
    colours = [d.get("fill") for d in dots]
    assert colours.count(plots.PALETTE["highlight"]) == 1
    assert colours[2] == plots.PALETTE["highlight"]
    assert (
        chart.svg()
        == plots.funnel_plot(
            units, limits, 0.01, "Tỷ lệ quá hạn", "Số hồ sơ", "Tỷ lệ", "vi", highlight_code="3"
        ).svg()
    )  # the same chart, the same bytes


def test_a_label_near_the_right_edge_turns_left_and_stays_in_the_chart():
    units = pd.DataFrame(
        {
            "unit_code": ["1", "2"],
            "short_name": ["Một tên đơn vị khá dài", "Thành Đông"],
            "trials": [50.0, 30_000.0],
            "rate": [0.02, 0.2],
            "band": ["inside", "above_998"],
        }
    )
    limits = stats.funnel_limits(0.02, np.geomspace(20, 40_000, 30).round())
    chart = plots.funnel_plot(units, limits, 0.02, "t", "x", "y", "vi")
    label = next(t for t in _tree(chart).iter(SVG + "text") if t.text == "Thành Đông")
    assert "text-anchor: end" in label.get("style", "")
    assert float(label.get("x", "0")) < svg_chart.WIDTH_PT


def test_a_point_on_a_tick_sits_on_its_grid_line():
    """Data and axes share one mapping: a month at exactly 98% is drawn on the 98% line."""
    chart = plots.rate_trend(_monthly([0.96, 0.98, 0.97, 1.0]), {"rate": "Tỷ lệ"}, "t", "vi")
    tree = _tree(chart)
    dots = [(float(c.get("cx", 0)), float(c.get("cy", 0))) for c in tree.iter(SVG + "circle")]
    dots = dots[:4]  # the legend's marker follows the line's
    labels = {t.text: float(t.get("y", 0)) for t in tree.iter(SVG + "text")}
    assert "98%" in labels and "96%" in labels
    grid = next(p.get("d", "") for p in tree.iter(SVG + "path"))
    rows = [float(y) for y in re.findall(r"M[\d.]+ ([\d.]+)H", grid)]
    at_98 = rows[[round(v, 2) for v in chart.y.ticks].index(0.98)]
    assert dots[1][1] == pytest.approx(at_98, abs=0.01)
    assert dots[0][0] < dots[1][0] < dots[2][0] < dots[3][0]  # months left to right
    assert dots[3][1] < dots[1][1] < dots[2][1] < dots[0][1]  # higher rates higher up


def test_a_missing_month_breaks_the_line():
    chart = plots.rate_trend(_monthly([0.9, 0.95, np.nan, 0.97, 0.99]), {"rate": "r"}, "t")
    lines = [
        p.get("d", "")
        for p in _tree(chart).iter(SVG + "path")
        if "stroke: #1f5f8b" in p.get("style", "") and "L" in p.get("d", "")
    ]
    assert len(lines) == 1 and lines[0].count("M") == 2


def test_stacked_bars_stack_and_the_legend_names_each_channel():
    monthly = pd.DataFrame(
        {
            "month": pd.date_range("2026-01-01", periods=3, freq="MS"),
            "online": [100, 0, 50],
            "in_person": [20, 30, 0],
        }
    )
    labels = {"online": "Trực tuyến", "in_person": "Trực tiếp"}
    chart = plots.volume_by_channel(monthly, labels, "Hồ sơ", "vi")
    texts = _texts(chart)
    assert "Trực tuyến" in texts and "Trực tiếp" in texts
    assert {"01/2026", "02/2026", "03/2026"} <= set(texts)
    groups = {g.get("fill"): list(g) for g in _tree(chart).iter(SVG + "g") if g.get("fill")}
    online = groups[plots.CHANNEL_COLOURS["online"]]
    in_person = groups[plots.CHANNEL_COLOURS["in_person"]]
    assert len(online) == 2 and len(in_person) == 2  # a zero draws no bar
    first_online, first_person = online[0], in_person[0]
    top_of_online = float(first_online.get("y", 0))
    bottom_of_person = float(first_person.get("y", 0)) + float(first_person.get("height", 0))
    assert bottom_of_person == pytest.approx(top_of_online, abs=0.02)  # stacked on it
    assert float(first_online.get("height", 0)) == pytest.approx(
        5 * float(first_person.get("height", 0)), rel=1e-3
    )


def test_completion_curves_step_and_mark_each_deadline():
    curve = pd.DataFrame(
        {
            "time": [0.0, 2.0, 5.0],
            "survival": [1.0, 0.4, 0.0],
            "low": [1.0, 0.3, 0.0],
            "high": [1.0, 0.5, np.nan],
        }
    )
    chart = plots.completion_curves({"Hộ tịch": curve}, {"Hộ tịch": 3.0}, "t", "Ngày", "vi", 8)
    colour = plots.CATEGORY_COLOURS[0]
    step, handle = [  # the curve, then its legend's handle
        p.get("d", "")
        for p in _tree(chart).iter(SVG + "path")
        if p.get("style", "").startswith(f"fill: none; stroke: {colour}; stroke-width: 1.3")
    ]
    assert re.fullmatch(r"M[\d.]+ [\d.]+H[\d.]+V[\d.]+H[\d.]+V[\d.]+", step)
    assert re.fullmatch(r"M[\d.]+ [\d.]+H[\d.]+", handle)
    assert chart.x.low == 0 and chart.x.high == 8
    assert "Hộ tịch" in _texts(chart) and "Ngày" in _texts(chart)
    dotted = [p for p in _tree(chart).iter(SVG + "path") if "dasharray" in p.get("style", "")]
    assert len(dotted) == 1  # the deadline


def test_charts_read_at_nine_px_on_a_phone_and_embed_with_alt_text():
    chart = plots.rate_trend(_monthly([0.9, 0.95]), {"rate": "r"}, "t", target=0.98)
    least = chart_min_width_px(chart.svg())
    assert least is not None and least <= 390  # fits a phone's column at 9 px text
    sizes = {float(s) for s in re.findall(r"font-size: ([\d.]+)px", chart.svg().decode())}
    assert min(sizes) >= plots.MIN_FONT_PT
    html = figure_html(chart, "Xu hướng")
    assert 'alt="Xu hướng"' in html and "data:image/svg+xml;base64," in html
    assert chart._repr_svg_().startswith("<?xml")


def test_ranking_bars_sorted_own_unit_accented_a_unit_without_a_rate_drawn_empty():
    peers = pd.DataFrame(
        {
            "unit_code": ["10507", "10525", "10532", "10537"],
            "short_name": ["Thành Đông", "Hải Dương", "Lê Thanh Nghị", "Tân Hưng"],
            "rate": [0.97, np.nan, 0.5, 1.0],
        }
    )
    chart = plots.ranking_bars(peers, "rate", "short_name", "10507", "t", "vi", target=0.95)
    tree = _tree(chart)
    names = {t.text: float(t.get("y", 0)) for t in tree.iter(SVG + "text")}
    # lowest rate at the bottom (largest y), the unit without a rate (sorted last) on top
    assert names["Lê Thanh Nghị"] > names["Thành Đông"] > names["Tân Hưng"] > names["Hải Dương"]
    bars = [r for r in tree.iter(SVG + "rect") if r.get("y") and r.get("fill")]
    assert len(bars) == 3  # no bar without a rate
    assert [b.get("fill") for b in bars].count(plots.PALETTE["highlight"]) == 1
    widths = [float(b.get("width", 0)) for b in bars]
    assert widths[0] < widths[1] < widths[2]  # 50%, 97%, 100% from the bottom up
    values = [t for t in names if t and t.endswith("%") and "," in t]
    assert sorted(values) == ["100,0%", "50,0%", "97,0%"]  # no label without a rate
    assert "mục tiêu 95%" in names


def test_likert_chart_has_matplotlibs_scale_and_every_level_in_its_legend():
    from matplotlib.ticker import MaxNLocator

    shares = pd.DataFrame(
        {1: [0.1, 0.0, 0.05], 2: [0.1, 0.2, 0.05], 3: [0.2, 0.1, 0.1], 4: [0.3, 0.3, 0.4]},
        index=["Thời gian", "Thái độ", "Chi phí"],
    ).assign(**{"5": [0.3, 0.4, 0.4]})
    shares = shares.rename(columns={"5": 5})
    levels = {1: "Rất không hài lòng", 2: "Không", 3: "Bình thường", 4: "Hài lòng", 5: "Rất"}
    chart = plots.likert_diverging(shares, levels, "Mức độ hài lòng", "vi")
    fig, ax = plt.subplots()
    start = -(shares[1] + shares[2] + shares[3] / 2).to_numpy(dtype=float)
    for level in (1, 2, 3, 4, 5):
        ax.barh(np.arange(3), shares[level], left=start)
        start = start + shares[level].to_numpy(dtype=float)
    assert (chart.x.low, chart.x.high) == pytest.approx(ax.get_xlim(), rel=1e-12)
    ax.xaxis.set_major_locator(MaxNLocator(5))
    low, high = ax.get_xlim()
    expected = [t for t in ax.get_xticks() if low - 1e-12 <= t <= high + 1e-12]
    assert chart.x.ticks == pytest.approx(expected)
    plt.close(fig)
    texts = _texts(chart)
    assert all(label in texts for label in levels.values())
    assert "Thời gian" in texts and "0%" in texts
    tree = _tree(chart)
    names = {t.text: float(t.get("y", 0)) for t in tree.iter(SVG + "text")}
    assert names["Thời gian"] < names["Thái độ"] < names["Chi phí"]  # the first on top
    bars = [r for r in tree.iter(SVG + "rect") if r.get("y") and r.get("fill")]
    assert len(bars) == 15 + 5  # a bar per aspect and level (a zero share an empty one), 5 keys


def _panels_reference(series: list[np.ndarray]) -> tuple[tuple, tuple, list[float]]:
    """matplotlib's limits and y ticks for Axes sharing both scales, each series drawn against
    0, 1, 2 … (the overview's panels as they were drawn), with ``MaxNLocator(3)`` on y."""
    from matplotlib.ticker import MaxNLocator

    fig, ax = plt.subplots()
    for values in series:
        ax.plot(np.arange(len(values)), values)
    ax.yaxis.set_major_locator(MaxNLocator(3))
    low, high = ax.get_ylim()
    ticks = [t for t in ax.get_yticks() if low - 1e-10 <= t <= high + 1e-10]
    plt.close(fig)
    return ax.get_xlim(), (low, high), ticks


@pytest.mark.parametrize("seed", range(5))
def test_small_multiples_have_matplotlibs_shared_scales(seed):
    """The overview's panels: limits and ticks are those of matplotlib's Axes sharing both
    scales, over units of different lengths, gaps, and one unit without any rate."""
    rng = np.random.default_rng(seed)
    series = [np.clip(rng.normal(0.95, 0.04, 12), 0, 1) for _ in range(7)]
    series[2][[3, 4]] = np.nan  # months without a rate
    series[5] = series[5][:9]  # a unit with fewer months
    series[6] = np.full(12, np.nan)  # no rate at all
    months = pd.date_range("2025-10-01", periods=12, freq="MS")
    monthly = pd.concat(
        pd.DataFrame({"unit_code": str(i), "month": months[: len(v)], "rate": v})
        for i, v in enumerate(series)
    )
    names = {str(i): f"Xã {i}" for i in range(len(series))}
    chart = plots.small_multiples(monthly, names, "rate", "Tỷ lệ đúng hạn")
    x_limits, y_limits, ticks = _panels_reference(series)
    assert chart.x_limits == pytest.approx(x_limits, rel=1e-12)
    assert (chart.y.low, chart.y.high) == pytest.approx(y_limits, rel=1e-12)
    assert chart.y.ticks == pytest.approx(ticks, rel=1e-12)
    assert len(chart.y.ticks) >= 2


def test_small_multiples_put_each_line_in_its_panel_on_its_ticks():
    """Each unit's line lies within its own panel, a month at a tick's value on that tick's
    grid line; names and the tick labels (first column only) are text; a gap breaks a line."""
    months = pd.date_range("2025-10-01", periods=6, freq="MS")
    rates = {"1": [0.9, 0.95, 1.0, 0.95, 0.9, 0.95], "2": [1.0, np.nan, 0.9, 0.9, 1.0, 0.95]}
    rates["3"] = [0.95] * 6
    rates["4"] = [0.96] * 6
    monthly = pd.concat(
        pd.DataFrame({"unit_code": code, "month": months, "rate": v}) for code, v in rates.items()
    )
    names = {"1": "Đồ Sơn", "2": "An Lão", "3": "Tiên Lãng", "4": "Cát Hải"}
    chart = plots.small_multiples(monthly, names, "rate", "Tỷ lệ đúng hạn", ncols=3)
    tree = ElementTree.fromstring(chart.svg())
    texts = [t.text for t in tree.iter(SVG + "text")]
    assert [t for t in texts if t in names.values()] == list(names.values())
    assert chart.y.labels == ["92%", "96%", "100%"]
    assert texts.count("96%") == 2 and texts.count("100%") == 2  # two rows, first column
    paths = [p.get("d") for p in tree.iter(SVG + "path")]
    grid, line = paths[0], paths[1]
    grid_ys = {float(m) for m in re.findall(r"M[\d.]+ ([\d.]+)h", grid)}
    pieces = re.findall(r"M[^M]+", line)
    assert len(pieces) == 5  # four units, one broken by its missing month
    points = [
        [tuple(map(float, xy)) for xy in re.findall(r"([\d.]+) ([\d.]+)", piece)]
        for piece in pieces
    ]
    # Unit 1's top month (100%) and 4's every month (96%) lie on grid lines.
    assert round(min(y for _, y in points[0]), 2) in {round(y, 2) for y in grid_ys}
    assert {round(y, 2) for _, y in points[4]} <= {round(y, 2) for y in grid_ys}
    # Unit 4 (second row, first column) is under unit 1 and left of unit 2's panel.
    assert min(y for _, y in points[4]) > max(y for _, y in points[0])
    assert max(x for x, _ in points[4]) < min(x for x, _ in points[1])
