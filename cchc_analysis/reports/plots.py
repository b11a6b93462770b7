"""Charts for the reports, in one style: calm colours, Vietnamese number formats, no chartjunk.

Every chart is written directly as SVG (:mod:`svg_chart`: an ``SvgChart``, or ``SvgPanels``
for small multiples); the report layer embeds it inline with alt text. ``STYLE`` and
:func:`apply_style` give a researcher's own matplotlib figures the same look.

Charts are drawn at a phone's width (``FIGURE_WIDTH_IN``) with no text under ``MIN_FONT_PT``:
on a 390 px phone a chart fills the column at about its own size, so its smallest text reads
at 9 CSS px or more, and legends sit under the plot rather than over a third of it; a laptop
shows the same drawing enlarged.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator
from matplotlib.typing import RcKeyType

from cchc_analysis.reports import svg_chart
from cchc_analysis.reports.formatting import fmt_count, fmt_month, fmt_number, fmt_rate
from cchc_analysis.reports.svg_chart import SvgChart
from cchc_analysis.reports.wording import phrase

PALETTE = {
    "primary": "#1f5f8b",
    "secondary": "#e07b39",
    "tertiary": "#5a9e6f",
    "muted": svg_chart.MUTED_COLOUR,
    "highlight": "#1a5276",  # the report's own unit, in every chart (the pages' accent)
    "good": "#2e7d32",
    "bad": "#b71c1c",
    "grid": svg_chart.GRID_COLOUR,
    "text": svg_chart.TEXT_COLOUR,
}
CHANNEL_COLOURS = {
    "online": "#1f5f8b",
    "in_person": "#e07b39",
    "postal": "#5a9e6f",
    "unknown": "#b0b0b0",  # no channel in the export: grey, named in the legend
}

# A phone's column (390 px less the margins) holds a chart this wide at 1 user unit per CSS px.
FIGURE_WIDTH_IN = svg_chart.WIDTH_PT / 72
MIN_FONT_PT = svg_chart.SMALL_FONT_PT  # the smallest text of a chart: 9 CSS px at that size
SMALL_FONT_PT = MIN_FONT_PT  # legends, value labels, notes under an axis
# A title longer than this many characters wraps (11 pt bold at the figure's width).
TITLE_CHARS = svg_chart.TITLE_CHARS
# Month labels under a time axis, at most.
MAX_MONTH_TICKS = 8
# The plot areas' heights, in points, of the charts written directly as SVG (svg_chart): each
# chart as tall for its width as matplotlib drew it (print caps a chart's height at 7 cm).
VOLUME_PLOT_PT = 143.0
TREND_PLOT_PT = 144.0
COMPLETION_PLOT_PT = 170.0
FUNNEL_PLOT_PT = 167.0
# One colour per group (matplotlib's tab10), in the order the groups are drawn.
CATEGORY_COLOURS = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)
# A ranking chart gives each unit a row this high (and its plot area at least the minimum).
RANKING_ROW_PT = 0.22 * 72
RANKING_MIN_PLOT_PT = 80.0
# A satisfaction chart's rows (one per aspect), likewise.
LIKERT_ROW_PT = 0.45 * 72
LIKERT_MIN_PLOT_PT = 80.0
# Units named inside a funnel plot, at most (the text under it names every one).
MAX_FUNNEL_LABELS = 6
# A log axis spanning more decades than this labels its powers of ten only.
MAX_MINOR_LABELLED_DECADES = 1.5

STYLE: dict[RcKeyType, Any] = {
    "font.family": svg_chart.FONT,  # ships with matplotlib; covers Vietnamese diacritics
    "font.size": 9.5,
    "xtick.labelsize": 9.5,
    "ytick.labelsize": 9.5,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.edgecolor": "#b0b8c1",
    "axes.labelcolor": PALETTE["text"],
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.axisbelow": True,
    "grid.color": PALETTE["grid"],
    "grid.linewidth": 0.8,
    "xtick.color": PALETTE["text"],
    "ytick.color": PALETTE["text"],
    "legend.frameon": False,
    "figure.dpi": 100,
    "savefig.dpi": 110,
    "savefig.bbox": "tight",
}


def apply_style() -> None:
    """Apply the workbook's chart style to matplotlib (idempotent): for a researcher's own
    matplotlib figures, in the reports' look (the reports' charts are ``svg_chart``'s)."""
    matplotlib.rcParams.update(STYLE)


def plain_label(text: object, limit: int = 48) -> str:
    """A label from the data (a field name) for a legend, on one line and shortened: tables
    show it in full, and a very long one would make the chart wider than a page."""
    label = " ".join(str(text).split())
    return label if len(label) <= limit else label[: limit - 1].rstrip() + "…"


@functools.lru_cache(maxsize=4096)  # the same ticks on every chart of every report
def rate_tick(value: float, lang: str, digits: int = 0) -> str:
    """A rate tick as its exact value: "98%" at 0.98, "97,5%" at 0.975 (never rounded to a
    neighbour's label)."""
    points = value * 100
    for shown in range(digits, 3):
        if abs(points - round(points, shown)) < 1e-6:
            return fmt_rate(value, lang, shown)
    return fmt_rate(value, lang, 2)


def axis_start_note(start: float, lang: str) -> str:
    """Said under a rate axis that does not start at zero."""
    return phrase("chart.axis_start", lang, start=rate_tick(start, lang))


def volume_by_channel(
    monthly: pd.DataFrame, labels: dict[str, str], title: str, lang: str = "vi"
) -> SvgChart:
    """Stacked monthly bars of new dossiers by channel (columns month + one per channel)."""
    x = np.arange(len(monthly), dtype=float)
    bottom = np.zeros(len(monthly))
    layers = []
    for channel in ("online", "in_person", "postal", "unknown"):
        if channel not in monthly:
            continue
        values = monthly[channel].to_numpy(dtype=float)
        layers.append((channel, values, bottom.copy()))
        bottom = bottom + np.nan_to_num(values)
    height = VOLUME_PLOT_PT
    y_low, y_high = svg_chart.data_limits(np.append(bottom, 0.0), sticky=(0.0,))
    y_ticks = svg_chart.auto_ticks(y_low, y_high, height, 2 * svg_chart.TICK_FONT_PT)
    chart = SvgChart(
        title,
        height,
        _month_scale(monthly["month"], lang, (-0.4, len(monthly) - 0.6)),
        svg_chart.Scale(
            low=y_low, high=y_high, ticks=y_ticks, labels=[fmt_count(v, lang) for v in y_ticks]
        ),
    )
    for channel, values, base in layers:
        chart.bars(x, values, base, CHANNEL_COLOURS[channel], label=plain_label(labels[channel]))
    chart.legend_columns = 2
    return chart


def _month_scale(months: pd.Series, lang: str, extent: tuple[float, float]) -> svg_chart.Scale:
    """A time axis of months at 0, 1, 2 …: at most ``MAX_MONTH_TICKS`` labels, at 45°."""
    positions = np.arange(len(months))
    step = max(1, math.ceil(len(months) / MAX_MONTH_TICKS))
    low, high = svg_chart.data_limits(np.array(extent, dtype=float))
    return svg_chart.Scale(
        low=low,
        high=high,
        ticks=[float(p) for p in positions[::step]],
        labels=[fmt_month(m, lang) for m in months.iloc[::step]],
        is_rotated=True,
    )


def rate_trend(
    monthly: pd.DataFrame,
    series: dict[str, str],
    title: str,
    lang: str = "vi",
    target: float | None = None,
    target_label: str | None = None,
    bands: dict[str, tuple[str, str]] | None = None,
) -> SvgChart:
    """Monthly rate lines (columns month + the rates named in ``series``: column -> label),
    with optional confidence bands (``bands``: column -> (low column, high column))."""
    x = np.arange(len(monthly), dtype=float)
    lowest = np.nanmin(monthly[list(series)].to_numpy(dtype=float)) if len(monthly) else 0
    start = max(0.0, float(np.floor((min(lowest, target or 1.0) - 0.05) * 100) / 100))
    height = TREND_PLOT_PT
    y_ticks = svg_chart.auto_ticks(start, 1.005, height, 2 * svg_chart.TICK_FONT_PT)
    chart = SvgChart(
        title,
        height,
        _month_scale(monthly["month"], lang, (0.0, max(len(monthly) - 1, 0))),
        svg_chart.Scale(
            low=start,
            high=1.005,
            ticks=y_ticks,
            labels=[rate_tick(v, lang) for v in y_ticks],
            title=axis_start_note(start, lang) if start > 0 else "",
            title_colour=PALETTE["muted"],
            title_size=SMALL_FONT_PT,
        ),
    )
    colours = [PALETTE["primary"], PALETTE["secondary"], PALETTE["tertiary"]]
    for (column, name), colour in zip(series.items(), colours, strict=False):
        if bands and column in bands:
            low, high = bands[column]
            chart.band(
                x, monthly[low].to_numpy(float), monthly[high].to_numpy(float), colour, opacity=0.15
            )
        chart.line(
            x,
            monthly[column].to_numpy(dtype=float),
            colour,
            marker_radius=1.5,
            label=plain_label(name),
        )
    if target is not None:
        chart.hline(target, PALETTE["muted"], dash="--")
        if target_label:
            chart.note(0.0, target, target_label, offset=(2, 3), colour=PALETTE["muted"])
    return chart


def ranking_bars(
    table: pd.DataFrame,
    value_column: str,
    name_column: str,
    highlight_code: str | None,
    title: str,
    lang: str = "vi",
    *,
    target: float | None = None,
) -> SvgChart:
    """Units sorted by a rate, the unit of the report highlighted, the target as a line."""
    ordered = table.sort_values(value_column, ascending=True)
    values = ordered[value_column].to_numpy(dtype=float)
    finite = values[np.isfinite(values)]
    low = float(finite.min()) if finite.size else 0.0
    if target is not None:
        low = min(low, target)
    start = max(0.0, float(np.floor((low - 0.05) * 100) / 100))
    ticks = rate_ticks(start)  # round values, none beyond 100%
    rows = len(ordered)
    y_high = rows + (0.9 if target is not None else -0.4)  # room for the target's label
    chart = SvgChart(
        title,
        max(RANKING_MIN_PLOT_PT, RANKING_ROW_PT * (y_high + 0.6)),
        svg_chart.Scale(
            low=start,
            high=1.08,  # room for the value labels
            ticks=ticks,
            labels=[rate_tick(v, lang) for v in ticks],
            title=axis_start_note(start, lang) if start > 0 else "",
            title_colour=PALETTE["muted"],
            title_size=SMALL_FONT_PT,
        ),
        svg_chart.Scale(
            low=-0.6,
            high=y_high,
            ticks=[float(i) for i in range(rows)],
            labels=[str(name) for name in ordered[name_column]],
            has_grid=False,
        ),
    )
    colours = [
        PALETTE["highlight"] if code == highlight_code else PALETTE["muted"]
        for code in ordered["unit_code"]
    ]
    chart.hbars(np.arange(rows, dtype=float), values, colours)
    for i, value in enumerate(values):
        chart.note(value, float(i), fmt_rate(value, lang, 1), offset=(3, 0), is_centred=True)
    if target is not None:
        chart.vline(target, PALETTE["bad"], dash="--")
        chart.note(
            target,
            rows - 0.5,
            phrase("chart.target", lang, target=rate_tick(target, lang)),
            offset=(-3, 2 + SMALL_FONT_PT * svg_chart.DESCENT_SHARE),  # its lowest point 2 pt above
            colour=PALETTE["bad"],
            anchor="end",
        )
    return chart


def rate_ticks(start: float, most: int = 5) -> list[float]:
    """Round rate ticks from ``start`` to 100% (at most ``most``): 85%, 90%, 95%, 100%."""
    for step in (0.01, 0.02, 0.025, 0.05, 0.1, 0.2, 0.25):
        first = math.ceil(round(start / step, 6)) * step
        ticks = [round(first + i * step, 6) for i in range(int((1 - first) / step + 1e-6) + 1)]
        if len(ticks) <= most:
            return ticks
    return [0.0, 0.5, 1.0]


def small_multiples(
    monthly: pd.DataFrame,
    unit_names: dict[str, str],
    value_column: str,
    title: str,
    lang: str = "vi",
    ncols: int = 3,
) -> svg_chart.SvgPanels:
    """One small line chart per unit of a monthly rate (columns unit_code, month, value), on
    shared scales, ``ncols`` to a row (``svg_chart.SvgPanels``). The limits are matplotlib's
    autoscale of every point (each series against 0, 1, 2 …); the y ticks its
    ``MaxNLocator(3)``'s, within them."""
    codes = list(unit_names)
    by_code = {
        str(code): part.sort_values("month")[value_column].to_numpy(dtype=float)
        for code, part in monthly.groupby("unit_code", sort=False)
    }
    series = [by_code.get(str(code), np.empty(0)) for code in codes]
    finite = [np.isfinite(v) for v in series]
    xs = np.concatenate(
        [np.arange(len(v), dtype=float)[f] for v, f in zip(series, finite, strict=True)]
        or [np.empty(0)]
    )
    ys = np.concatenate([v[f] for v, f in zip(series, finite, strict=True)] or [np.empty(0)])
    x_limits = svg_chart.data_limits(xs)
    y_low, y_high = svg_chart.data_limits(ys)
    tolerance = 1e-10 * (y_high - y_low)
    ticks = [
        float(t) + 0.0
        for t in MaxNLocator(3).tick_values(y_low, y_high)
        if y_low - tolerance <= t <= y_high + tolerance
    ]
    y = svg_chart.Scale(
        low=y_low, high=y_high, ticks=ticks, labels=[rate_tick(t, lang) for t in ticks]
    )
    names = [plain_label(unit_names[code], 18) for code in codes]
    return svg_chart.SvgPanels(
        title, names, series, y, x_limits, colour=PALETTE["primary"], columns=ncols
    )


def funnel_plot(
    units: pd.DataFrame,
    limits: pd.DataFrame,
    target: float,
    title: str,
    x_label: str,
    y_label: str,
    lang: str = "vi",
    highlight_code: str | None = None,
    label_band_prefixes: tuple[str, ...] = ("above_998",),
) -> SvgChart:
    """Funnel plot: each unit's rate against its size, with binomial control limits.

    ``units`` has unit_code, short_name, trials, rate, band; ``limits`` comes from
    stats.funnel_limits. The highlighted unit and the ``MAX_FUNNEL_LABELS`` highest of the
    units above the 99.8% limits are labelled by name (more would pile up on a phone); the
    text beside the chart names them all.
    """
    trials = units["trials"].to_numpy(dtype=float)
    rates = units["rate"].to_numpy(dtype=float)
    grid = limits["trials"].to_numpy(dtype=float)
    x_low, x_high = svg_chart.data_limits(np.concatenate([grid, trials]), is_log=True)
    majors, minors = svg_chart.log_ticks(x_low, x_high)
    has_minor_labels = x_high / max(x_low, 1e-9) <= 10**MAX_MINOR_LABELLED_DECADES
    finite = rates[np.isfinite(rates)]
    top = max(float(finite.max()) if finite.size else target, target) * 1.15 + 0.002
    y_high = min(1.0, top)
    height = FUNNEL_PLOT_PT
    y_ticks = svg_chart.auto_ticks(0.0, y_high, height, 2 * svg_chart.TICK_FONT_PT)
    chart = SvgChart(
        title,
        height,
        svg_chart.Scale(
            is_log=True,
            low=x_low,
            high=x_high,
            ticks=majors,
            labels=[fmt_count(v, lang) for v in majors],  # 300, never 3×10²
            minor_ticks=minors,
            minor_labels=[
                fmt_count(v, lang) if has_minor_labels and f"{v:.0f}"[:1] in "25" else ""
                for v in minors
            ],
            title=x_label,
        ),
        svg_chart.Scale(
            low=0.0,
            high=y_high,
            ticks=y_ticks,
            labels=[rate_tick(v, lang, 1) for v in y_ticks],
            title=y_label,
        ),
    )
    for column, colour, dash, key in (
        ("upper_998", PALETTE["bad"], "--", "funnel.legend_998"),
        ("lower_998", PALETTE["bad"], "--", None),
        ("upper_95", PALETTE["muted"], ":", "funnel.legend_95"),
        ("lower_95", PALETTE["muted"], ":", None),
    ):
        chart.line(
            grid,
            limits[column].to_numpy(dtype=float),
            colour,
            width=1.0,
            dash=dash,  # type: ignore[arg-type]
            label=phrase(key, lang) if key else None,
        )
    chart.hline(
        target,
        PALETTE["text"],
        width=0.8,
        label=phrase("funnel.legend_target", lang, target=fmt_rate(target, lang)),
    )
    codes = units["unit_code"].tolist()
    colours = [PALETTE["highlight"] if c == highlight_code else PALETTE["primary"] for c in codes]
    chart.points(trials, rates, colours, radius=math.sqrt(22) / 2)  # matplotlib's s=22
    flagged = units[units["band"].isin(label_band_prefixes)].nlargest(MAX_FUNNEL_LABELS, "rate")
    labelled = set(flagged["unit_code"]) | {highlight_code}
    for code, name, x, y in zip(codes, units["short_name"], trials, rates, strict=True):
        if code in labelled:
            chart.note(x, y, plain_label(name, 24), offset=(4, 3))
    return chart


def completion_curves(
    curves: dict[str, pd.DataFrame],
    deadlines: dict[str, float],
    title: str,
    x_label: str,
    lang: str = "vi",
    max_days: float | None = None,
) -> SvgChart:
    """Share of dossiers finished by working day t (1 − Kaplan–Meier), one line per group,
    with each group's statutory deadline marked."""
    if max_days:
        x_low, x_high = 0.0, float(max_days)
    else:
        times = [c["time"].to_numpy(dtype=float) for c in curves.values()]
        x_low, x_high = svg_chart.data_limits(np.concatenate(times) if times else np.empty(0))
    height = COMPLETION_PLOT_PT
    x_ticks = svg_chart.auto_ticks(
        x_low, x_high, svg_chart.PLOT_WIDTH_PT, 3 * svg_chart.TICK_FONT_PT
    )
    y_ticks = svg_chart.auto_ticks(0.0, 1.01, height, 2 * svg_chart.TICK_FONT_PT)
    chart = SvgChart(
        title,
        height,
        svg_chart.Scale(
            low=x_low,
            high=x_high,
            ticks=x_ticks,
            labels=[_plain_number(v, lang) for v in x_ticks],
            title=x_label,
        ),
        svg_chart.Scale(
            low=0.0, high=1.01, ticks=y_ticks, labels=[rate_tick(v, lang) for v in y_ticks]
        ),
    )
    for (name, curve), colour in zip(curves.items(), CATEGORY_COLOURS, strict=False):
        time = curve["time"].to_numpy(dtype=float)
        chart.line(
            time,
            1 - curve["survival"].to_numpy(dtype=float),
            colour,
            width=1.3,
            step_post=True,
            label=plain_label(name),
        )
        chart.band(
            time,
            1 - curve["high"].fillna(1).to_numpy(dtype=float),
            1 - curve["low"].to_numpy(dtype=float),
            colour,
            opacity=0.12,
            step_post=True,
        )
        if name in deadlines and np.isfinite(deadlines[name]):
            chart.vline(deadlines[name], colour, width=0.8, dash=":")
    return chart


def _plain_number(value: float, lang: str) -> str:
    """An axis tick as a number: whole where it is whole."""
    return fmt_count(value, lang) if float(value).is_integer() else fmt_number(value, lang, 1)


LIKERT_COLOURS = {1: "#b2182b", 2: "#ef8a62", 3: "#bababa", 4: "#67a9cf", 5: "#2166ac"}


def likert_diverging(
    shares: pd.DataFrame, level_labels: dict[int, str], title: str, lang: str = "vi"
) -> SvgChart:
    """Diverging stacked bars: dissatisfied levels left of zero, satisfied right, the neutral
    level split across zero (rows: aspects, the first on top; columns: levels 1–5 as shares)."""
    rows = len(shares)
    y = -np.arange(rows, dtype=float)  # the first aspect on top
    left_start = -(shares[1] + shares[2] + shares[3] / 2).to_numpy(dtype=float)
    right_end = left_start + shares[[1, 2, 3, 4, 5]].sum(axis=1).to_numpy(dtype=float)
    # matplotlib's limits: each bar's left edge is sticky, so the lowest start is the limit
    x_low, x_high = svg_chart.data_limits(
        np.concatenate([left_start, right_end]), sticky=tuple(left_start.tolist())
    )
    finite = [v for v in (x_low, x_high) if math.isfinite(v)]
    x_ticks = [
        float(v)
        for v in MaxNLocator(5).tick_values(*finite)
        if x_low - 1e-12 <= v <= x_high + 1e-12
    ]
    y_low, y_high = svg_chart.data_limits(np.array([-(rows - 1) - 0.4, 0.4]))
    chart = SvgChart(
        title,
        max(LIKERT_MIN_PLOT_PT, LIKERT_ROW_PT * rows + 20),
        svg_chart.Scale(
            low=x_low,
            high=x_high,
            ticks=x_ticks,
            labels=[fmt_rate(abs(v), lang, 0) for v in x_ticks],
        ),
        svg_chart.Scale(
            low=y_low,
            high=y_high,
            ticks=y.tolist(),
            labels=[str(name) for name in shares.index],
            has_grid=False,
        ),
    )
    start = left_start.copy()
    for level in (1, 2, 3, 4, 5):
        width = shares[level].to_numpy(dtype=float)
        colours = [LIKERT_COLOURS[level]] * rows
        chart.hbars(y, width, colours, lefts=start, label=plain_label(level_labels[level]))
        start = start + width
    chart.vline(0.0, PALETTE["text"], width=0.8)
    chart.legend_columns = 2
    return chart
