"""A chart written directly as SVG: one plot area with its axes, a wrapped title over it and a
legend under it, in the workbook's chart style.

Why: a report's line, bar, step and funnel charts drawn through matplotlib's Axes, layout
engine and SVG backend cost about 0.15 s each, most of a commune report's cells. Written here
as a few hundred SVG elements they cost a few milliseconds. The scales, ticks and tick labels
are matplotlib's own choices (its ``MaxNLocator`` on the same axis length, the same margins),
the text stays text in DejaVu Sans, measured with matplotlib's font metrics, and the page
embeds the bytes as it embeds any chart (``html_blocks.svg_figure_html``). A chart shows
itself in JupyterLab (``_repr_svg_``).
"""

from __future__ import annotations

import functools
import math
import re
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal
from xml.sax.saxutils import escape, quoteattr

import numpy as np
from matplotlib.font_manager import FontProperties
from matplotlib.textpath import text_to_path
from matplotlib.ticker import MaxNLocator

# The charts' style, here and in plots.STYLE: sizes in points, one SVG user unit per point.
WIDTH_PT = 4.8 * 72  # a phone's column (plots.FIGURE_WIDTH_IN)
FONT = "DejaVu Sans"  # ships with matplotlib; covers Vietnamese diacritics
TICK_FONT_PT = 9.5
SMALL_FONT_PT = 9.0
TITLE_FONT_PT = 11.0
TITLE_CHARS = 44
TEXT_COLOUR = "#1b2631"
MUTED_COLOUR = "#9aa5b1"
SPINE_COLOUR = "#b0b8c1"
GRID_COLOUR = "#e3e7eb"
GRID_WIDTH = 0.8
TICK_LENGTH = 3.5
TICK_PAD = 3.5
OUTER_PAD = 6.0  # around everything
LABEL_PAD = 4.0  # between tick labels and an axis label
LINE_SPACING = 1.2
MARGIN = 0.05  # matplotlib's axes.xmargin / ymargin
STEPS = (1, 2, 2.5, 5, 10)  # AutoLocator's steps
# About the width of a plot area (the chart less its tick labels): the x axis's tick spacing.
PLOT_WIDTH_PT = WIDTH_PT - 60.0
# matplotlib's dash patterns at a line width of 1, in points (lines.dashed_pattern etc.).
DASHES = {"-": None, "--": (3.7, 1.6), ":": (1.0, 1.65)}
# A text's centre sits this far above its baseline, in multiples of its size (DejaVu Sans's
# x-height and cap height average).
MIDDLE_ABOVE_BASELINE = 0.36
DESCENT_SHARE = 0.24  # DejaVu Sans's descent below the baseline, in multiples of the size

# Characters XML 1.0 does not allow in text (a field name may hold them): never written.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")

Dash = Literal["-", "--", ":"]
Anchor = Literal["start", "middle", "end"]


@functools.lru_cache(maxsize=8192)  # the same labels in every chart of every report
def text_width(text: str, size: float, bold: bool = False) -> float:
    """Width in points of one line of text in DejaVu Sans (matplotlib's metrics)."""
    prop = FontProperties(family=FONT, size=size, weight="bold" if bold else "normal")
    width, _height, _descent = text_to_path.get_text_width_height_descent(text, prop, ismath=False)
    return float(width)


def _num(value: float) -> str:
    """A coordinate as short, fixed text (the same chart gives the same bytes)."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


@dataclass
class Scale:
    """One axis: linear or log, its limits, ticks and their labels."""

    is_log: bool = False
    low: float = 0.0
    high: float = 1.0
    ticks: list[float] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    minor_ticks: list[float] = field(default_factory=list)
    minor_labels: list[str] = field(default_factory=list)
    title: str = ""
    title_colour: str = TEXT_COLOUR
    title_size: float = TICK_FONT_PT
    is_rotated: bool = False  # tick labels at 45°, as month labels are
    has_grid: bool = True

    def fraction(self, values: np.ndarray) -> np.ndarray:
        """Where values fall between the limits, 0 to 1."""
        values = np.asarray(values, dtype=float)
        if self.is_log:
            with np.errstate(divide="ignore", invalid="ignore"):
                logs: np.ndarray = np.log10(values)
            return (logs - math.log10(self.low)) / (math.log10(self.high) - math.log10(self.low))
        return (values - self.low) / (self.high - self.low)


def data_limits(
    values: Sequence[float] | np.ndarray, *, is_log: bool = False, sticky: Sequence[float] = ()
) -> tuple[float, float]:
    """matplotlib's autoscaled limits: the data's range widened by 5% on each side (in log
    space on a log axis), never past a sticky edge (a bar's base) that the data touches."""
    finite = np.asarray(values, dtype=float)
    finite = finite[np.isfinite(finite) & ((finite > 0) if is_log else True)]
    if not finite.size:
        return (1.0, 10.0) if is_log else (0.0, 1.0)
    low, high = float(finite.min()), float(finite.max())
    if is_log:
        low, high = math.log10(low), math.log10(high)
    if low == high:  # matplotlib's nonsingular: a point gets a range around it
        delta = abs(low) * 0.05 if low else 0.1 if is_log else 0.1
        low, high = low - delta, high + delta
    span = high - low
    wide_low, wide_high = low - MARGIN * span, high + MARGIN * span
    if is_log:
        return 10**wide_low, 10**wide_high
    for edge in sticky:
        if low >= edge > wide_low:
            wide_low = edge
        if high <= edge < wide_high:
            wide_high = edge
    return wide_low, wide_high


def auto_ticks(low: float, high: float, length_pt: float, per_tick_pt: float) -> list[float]:
    """matplotlib's AutoLocator ticks within [low, high] on an axis ``length_pt`` long, a
    tick per ``per_tick_pt`` at most (3 label heights along x, 2 along y)."""
    bins = int(np.clip(math.floor(length_pt / per_tick_pt), 1, 9))
    values = MaxNLocator(nbins=bins, steps=list(STEPS)).tick_values(low, high)
    tolerance = 1e-10 * (high - low)
    return [float(v) + 0.0 for v in values if low - tolerance <= v <= high + tolerance]


def log_ticks(low: float, high: float) -> tuple[list[float], list[float]]:
    """A log axis's decades and, between them, its 2…9 minor ticks, within the limits."""
    majors: list[float] = []
    minors: list[float] = []
    for power in range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1):
        decade = 10.0**power
        if low <= decade <= high:
            majors.append(decade)
        minors.extend(m * decade for m in range(2, 10) if low <= m * decade <= high)
    return majors, minors


def wrapped_title(title: str) -> list[str]:
    """The title's lines at the chart's width (11 pt bold)."""
    return textwrap.wrap(title, TITLE_CHARS, break_long_words=False) or [""]


@dataclass
class _LegendEntry:
    label: str
    colour: str
    kind: Literal["line", "patch"]
    dash: Dash = "-"
    width: float = 1.5
    has_marker: bool = False


Mapper = Callable[[np.ndarray], np.ndarray]  # data values to SVG coordinates
Drawer = Callable[[Mapper, Mapper], str]  # a mark, given the x and y mappers


class SvgImage:
    """A chart that writes itself as SVG bytes (the page embeds them; JupyterLab shows them)."""

    _svg: bytes | None = None

    def svg(self) -> bytes:
        """The chart as SVG bytes (the same chart, the same bytes)."""
        if self._svg is None:
            self._svg = self._write().encode("utf-8")
        return self._svg

    def _repr_svg_(self) -> str:
        return self.svg().decode("utf-8")

    def _write(self) -> str:
        raise NotImplementedError


class SvgChart(SvgImage):
    """A chart built mark by mark, in data coordinates, then written as SVG bytes."""

    def __init__(self, title: str, plot_height_pt: float, x: Scale, y: Scale) -> None:
        self.title = title
        self.plot_height_pt = plot_height_pt
        self.x, self.y = x, y
        self._marks: list[tuple[float, Drawer]] = []  # (z order, drawer), clipped to the plot
        self._notes: list[Drawer] = []  # texts over the plot, never clipped
        self._legend: list[_LegendEntry] = []
        self.legend_columns = 1
        self._svg: bytes | None = None

    # --- marks, in data coordinates --------------------------------------------------------
    def line(
        self,
        xs: np.ndarray,
        ys: np.ndarray,
        colour: str,
        *,
        width: float = 1.5,
        dash: Dash = "-",
        marker_radius: float = 0.0,
        step_post: bool = False,
        label: str | None = None,
        z: float = 2.0,
    ) -> None:
        """A line through the points (broken at missing values); with ``step_post`` it holds
        each value until the next x."""

        def draw(fx: Mapper, fy: Mapper) -> str:
            px, py = fx(np.asarray(xs, dtype=float)), fy(np.asarray(ys, dtype=float))
            d = _polyline(px, py, step_post)
            out = _path(d, stroke=colour, width=width, dash=dash) if d else ""
            if marker_radius:
                keep = np.isfinite(px) & np.isfinite(py)
                out += "".join(
                    _circle(a, b, marker_radius, colour)
                    for a, b in zip(px[keep], py[keep], strict=True)
                )
            return out

        self._marks.append((z, draw))
        if label is not None:
            self._legend.append(
                _LegendEntry(label, colour, "line", dash, width, has_marker=marker_radius > 0)
            )

    def band(
        self,
        xs: np.ndarray,
        low: np.ndarray,
        high: np.ndarray,
        colour: str,
        *,
        opacity: float,
        step_post: bool = False,
        z: float = 1.0,
    ) -> None:
        """A shaded area between two lines (a confidence band)."""

        def draw(fx: Mapper, fy: Mapper) -> str:
            return _band(
                fx(np.asarray(xs, dtype=float)),
                fy(np.asarray(low, dtype=float)),
                fy(np.asarray(high, dtype=float)),
                colour,
                opacity,
                step_post,
            )

        self._marks.append((z, draw))

    def bars(
        self,
        xs: np.ndarray,
        heights: np.ndarray,
        bottoms: np.ndarray,
        colour: str,
        *,
        width: float = 0.8,
        label: str | None = None,
        z: float = 1.0,
    ) -> None:
        """Vertical bars centred on ``xs``."""

        def draw(fx: Mapper, fy: Mapper) -> str:
            centres = np.asarray(xs, dtype=float)
            x0, x1 = fx(centres - width / 2), fx(centres + width / 2)
            base = np.asarray(bottoms, dtype=float)
            y0, y1 = fy(base), fy(base + np.asarray(heights, dtype=float))
            rects = [
                f'<rect x="{_num(a)}" y="{_num(min(c, d))}" width="{_num(b - a)}" '
                f'height="{_num(abs(c - d))}"/>'
                for a, b, c, d in zip(x0, x1, y0, y1, strict=True)
                if np.isfinite(c) and np.isfinite(d) and c != d
            ]
            return f'<g fill="{colour}">' + "".join(rects) + "</g>\n"

        self._marks.append((z, draw))
        if label is not None:
            self._legend.append(_LegendEntry(label, colour, "patch"))

    def points(self, xs: np.ndarray, ys: np.ndarray, colours: list[str], radius: float) -> None:
        """A scatter of dots, each its own colour."""

        def draw(fx: Mapper, fy: Mapper) -> str:
            px, py = fx(np.asarray(xs, dtype=float)), fy(np.asarray(ys, dtype=float))
            return "".join(
                _circle(a, b, radius, c)
                for a, b, c in zip(px, py, colours, strict=True)
                if np.isfinite(a) and np.isfinite(b)
            )

        self._marks.append((3.0, draw))

    def hline(
        self,
        y: float,
        colour: str,
        *,
        width: float = 1.0,
        dash: Dash = "-",
        label: str | None = None,
    ) -> None:
        """A horizontal line across the plot (a target)."""

        def draw(_fx: Mapper, fy: Mapper) -> str:
            at = float(fy(np.array([y], dtype=float))[0])
            return _path(f"M0 {_num(at)}H{_num(WIDTH_PT)}", stroke=colour, width=width, dash=dash)

        self._marks.append((2.0, draw))
        if label is not None:
            self._legend.append(_LegendEntry(label, colour, "line", dash, width))

    def vline(self, x: float, colour: str, *, width: float = 1.0, dash: Dash = "-") -> None:
        """A vertical line across the plot (a deadline)."""

        def draw(fx: Mapper, _fy: Mapper) -> str:
            at = float(fx(np.array([x], dtype=float))[0])
            return _path(f"M{_num(at)} 0V100000", stroke=colour, width=width, dash=dash)

        self._marks.append((2.0, draw))

    def hbars(
        self,
        ys: np.ndarray,
        widths: np.ndarray,
        colours: list[str],
        *,
        lefts: np.ndarray | None = None,
        label: str | None = None,
    ) -> None:
        """Horizontal bars from ``lefts`` (zero when None), centred on ``ys``, each its own
        colour; with ``label``, a legend entry in the first bar's colour."""

        def draw(fx: Mapper, fy: Mapper) -> str:
            centres = np.asarray(ys, dtype=float)
            starts = np.zeros(len(centres)) if lefts is None else np.asarray(lefts, dtype=float)
            y0, y1 = fy(centres + 0.4), fy(centres - 0.4)
            x0, x1 = fx(starts), fx(starts + np.asarray(widths, dtype=float))
            return (
                "".join(
                    f'<rect x="{_num(min(a, b))}" y="{_num(min(c, d))}" '
                    f'width="{_num(abs(b - a))}" height="{_num(abs(d - c))}" fill="{colour}"/>'
                    for a, b, c, d, colour in zip(x0, x1, y0, y1, colours, strict=True)
                    if np.isfinite(a) and np.isfinite(b)
                )
                + "\n"
            )

        self._marks.append((1.0, draw))
        if label is not None and colours:
            self._legend.append(_LegendEntry(label, colours[0], "patch"))

    def note(
        self,
        x: float,
        y: float,
        text: str,
        *,
        offset: tuple[float, float] = (0.0, 0.0),
        colour: str = TEXT_COLOUR,
        size: float = SMALL_FONT_PT,
        anchor: Anchor = "start",
        is_centred: bool = False,
    ) -> None:
        """Text whose baseline starts (``anchor``: or ends) ``offset`` points right of and above
        a data point, or is centred on it in height (``is_centred``). A text starting there
        that would run past the chart's right edge ends left of the point instead. A point
        without a value has no text."""

        def draw(fx: Mapper, fy: Mapper) -> str:
            point_x = float(fx(np.array([x], dtype=float))[0])
            point_y = float(fy(np.array([y], dtype=float))[0])
            if not (math.isfinite(point_x) and math.isfinite(point_y)):
                return ""
            at_y = point_y - offset[1] + (MIDDLE_ABOVE_BASELINE * size if is_centred else 0.0)
            fits = point_x + offset[0] + text_width(text, size) <= WIDTH_PT - OUTER_PAD
            if anchor == "start" and not fits:
                left = point_x - offset[0]
                return _text(text, left, at_y, size=size, colour=colour, anchor="end")
            at_x = point_x + offset[0]
            return _text(text, at_x, at_y, size=size, colour=colour, anchor=anchor)

        self._notes.append(draw)

    # --- layout and writing ------------------------------------------------------------------
    def _write(self) -> str:
        x, y = self.x, self.y
        title_lines = wrapped_title(self.title)
        title_height = len(title_lines) * LINE_SPACING * TITLE_FONT_PT
        y_label_width = max(
            (text_width(t, TICK_FONT_PT) for t in [*y.labels, *y.minor_labels] if t), default=0.0
        )
        left = OUTER_PAD + y_label_width + TICK_PAD + TICK_LENGTH
        if y.title:
            left += y.title_size * LINE_SPACING + LABEL_PAD
        x_texts = [t for t in [*x.labels, *x.minor_labels] if t]
        right_overhang = 0.0
        if x.is_rotated:
            widest = max((text_width(t, TICK_FONT_PT) for t in x_texts), default=0.0)
            x_label_height = (widest + TICK_FONT_PT) * math.sqrt(0.5)
        else:
            x_label_height = TICK_FONT_PT * LINE_SPACING if x_texts else 0.0
            if x.labels and x.ticks:
                right_overhang = text_width(x.labels[-1], TICK_FONT_PT) / 2
        right = WIDTH_PT - OUTER_PAD - max(right_overhang, 4.0)
        top = OUTER_PAD + title_height + 8.0
        plot_bottom = top + self.plot_height_pt
        below = TICK_LENGTH + TICK_PAD + x_label_height
        if x.title:
            below += LABEL_PAD + x.title_size * LINE_SPACING
        legend, legend_height = self._legend_svg(plot_bottom + below + 6.0)
        height = plot_bottom + below + (6.0 + legend_height if legend else 0.0) + OUTER_PAD

        def to_x(values: np.ndarray) -> np.ndarray:
            return left + x.fraction(values) * (right - left)

        def to_y(values: np.ndarray) -> np.ndarray:
            return plot_bottom - y.fraction(values) * self.plot_height_pt

        clip = (
            f'<clipPath id="plot"><rect x="{_num(left)}" y="{_num(top)}" '
            f'width="{_num(right - left)}" height="{_num(self.plot_height_pt)}"/></clipPath>'
        )
        out = [_svg_start(height, clip)]
        # Grid lines under the data.
        grid = []
        if y.has_grid:
            grid += [f"M{_num(left)} {_num(v)}H{_num(right)}" for v in to_y(np.array(y.ticks))]
        if x.has_grid:
            grid += [f"M{_num(v)} {_num(top)}V{_num(plot_bottom)}" for v in to_x(np.array(x.ticks))]
        if grid:
            out.append(_path("".join(grid), stroke=GRID_COLOUR, width=GRID_WIDTH, cap="square"))
        out.append('<g clip-path="url(#plot)">\n')
        for _z, draw in sorted(self._marks, key=lambda item: item[0]):
            out.append(draw(to_x, to_y))
        out.append("</g>\n")
        out.extend(draw(to_x, to_y) for draw in self._notes)
        # Spines (left and bottom) and ticks.
        out.append(
            _path(
                f"M{_num(left)} {_num(top)}V{_num(plot_bottom)}H{_num(right)}",
                stroke=SPINE_COLOUR,
                width=0.8,
                cap="square",
            )
        )
        out.append(self._y_ticks_svg(left, to_y))
        out.append(self._x_ticks_svg(plot_bottom, to_x))
        if y.title:
            centre = (top + plot_bottom) / 2
            at = OUTER_PAD + y.title_size * 0.9
            out.append(
                _text(
                    y.title,
                    at,
                    centre,
                    size=y.title_size,
                    colour=y.title_colour,
                    anchor="middle",
                    rotate=-90,
                )
            )
        if x.title:
            baseline = plot_bottom + below - x.title_size * 0.25
            out.append(
                _text(
                    x.title,
                    (left + right) / 2,
                    baseline,
                    size=x.title_size,
                    colour=x.title_colour,
                    anchor="middle",
                )
            )
        for i, line in enumerate(title_lines):
            baseline = OUTER_PAD + (i + 1) * LINE_SPACING * TITLE_FONT_PT - 0.25 * TITLE_FONT_PT
            out.append(_text(line, OUTER_PAD, baseline, size=TITLE_FONT_PT, bold=True))
        out.append(legend)
        out.append("</svg>\n")
        return "".join(out)

    def _y_ticks_svg(self, left: float, to_y: Mapper) -> str:
        y = self.y
        positions = to_y(np.array(y.ticks, dtype=float))
        marks = "".join(f"M{_num(left - TICK_LENGTH)} {_num(v)}H{_num(left)}" for v in positions)
        parts = [_path(marks, stroke=TEXT_COLOUR, width=0.8)] if marks else []
        for v, text in zip(positions, y.labels, strict=True):
            baseline = v + MIDDLE_ABOVE_BASELINE * TICK_FONT_PT
            parts.append(_text(text, left - TICK_LENGTH - TICK_PAD, baseline, anchor="end"))
        return "".join(parts)

    def _x_ticks_svg(self, bottom: float, to_x: Mapper) -> str:
        x = self.x
        parts = []
        for ticks, labels, length in (
            (x.ticks, x.labels, TICK_LENGTH),
            (x.minor_ticks, x.minor_labels, TICK_LENGTH * 0.6),
        ):
            positions = to_x(np.array(ticks, dtype=float))
            marks = "".join(f"M{_num(v)} {_num(bottom)}V{_num(bottom + length)}" for v in positions)
            if marks:
                parts.append(_path(marks, stroke=TEXT_COLOUR, width=0.8 if length else 0.6))
            for v, text in zip(positions, labels, strict=False):
                if not text:
                    continue
                if x.is_rotated:
                    at_y = bottom + TICK_LENGTH + TICK_PAD
                    parts.append(
                        _text(
                            text,
                            v + 0.3 * TICK_FONT_PT,
                            at_y + 0.6 * TICK_FONT_PT,
                            anchor="end",
                            rotate=-45,
                        )
                    )
                else:
                    baseline = bottom + TICK_LENGTH + TICK_PAD + 0.8 * TICK_FONT_PT
                    parts.append(_text(text, v, baseline, anchor="middle"))
        return "".join(parts)

    def _legend_svg(self, top: float) -> tuple[str, float]:
        """The legend's entries in columns, centred under the plot, and its height."""
        if not self._legend:
            return "", 0.0
        handle, gap, column_gap = 20.0, 6.0, 14.0
        widths = [handle + gap + text_width(e.label, SMALL_FONT_PT) for e in self._legend]
        columns = max(1, min(self.legend_columns, len(widths)))
        while True:  # fewer columns when they would not fit the chart's width
            rows = math.ceil(len(widths) / columns)
            column_widths = [
                max(widths[c * rows : (c + 1) * rows], default=0.0) for c in range(columns)
            ]
            total = sum(column_widths) + column_gap * (columns - 1)
            if total <= WIDTH_PT - 2 * OUTER_PAD or columns == 1:
                break
            columns -= 1
        row_height = SMALL_FONT_PT * 1.55
        start = max(OUTER_PAD, (WIDTH_PT - total) / 2)
        parts = []
        for i, entry in enumerate(self._legend):
            column, row = divmod(i, rows)
            at_x = start + sum(column_widths[:column]) + column_gap * column
            middle = top + (row + 0.5) * row_height
            if entry.kind == "patch":
                parts.append(
                    f'<rect x="{_num(at_x + 4)}" y="{_num(middle - 3.5)}" width="12" height="7" '
                    f'fill="{entry.colour}"/>'
                )
            else:
                parts.append(
                    _path(
                        f"M{_num(at_x)} {_num(middle)}H{_num(at_x + handle)}",
                        stroke=entry.colour,
                        width=entry.width,
                        dash=entry.dash,
                    )
                )
                if entry.has_marker:
                    parts.append(_circle(at_x + handle / 2, middle, 1.5, entry.colour))
            baseline = middle + MIDDLE_ABOVE_BASELINE * SMALL_FONT_PT
            parts.append(_text(entry.label, at_x + handle + gap, baseline, size=SMALL_FONT_PT))
        return "".join(parts) + "\n", rows * row_height


class SvgPanels(SvgImage):
    """Small multiples: one small line chart per unit, ``columns`` to a row, on shared scales
    (``y``; x from ``x_low`` to ``x_high``, each series drawn against 0, 1, 2 …), under a
    wrapped title. Each panel has a y grid, left and bottom spines, tick marks, the unit's name
    over it and, in the first column, the tick labels.

    Why: a province's hundred units as a hundred matplotlib Axes cost seconds; as one drawing
    with one shared layout, milliseconds."""

    ROW_PITCH_PT = 1.15 * 72  # each row of panels
    NAME_PAD_PT = 6.0  # between a panel and its name (matplotlib's axes.titlepad)
    GAP_PT = 1.08 * TICK_FONT_PT  # tight_layout's padding, between panels and under a row

    def __init__(
        self,
        title: str,
        names: Sequence[str],
        series: Sequence[np.ndarray],
        y: Scale,
        x_limits: tuple[float, float],
        *,
        colour: str,
        columns: int = 3,
        line_width: float = 1.2,
    ) -> None:
        self.title = title
        self.names, self.series = list(names), list(series)
        self.y, self.x_limits = y, x_limits
        self.colour, self.columns, self.line_width = colour, columns, line_width

    def _write(self) -> str:
        y, columns = self.y, self.columns
        rows = max(1, math.ceil(len(self.names) / columns))
        title_lines = wrapped_title(self.title)
        rows_top = OUTER_PAD + len(title_lines) * LINE_SPACING * TITLE_FONT_PT + 8.0
        label_width = max((text_width(t, SMALL_FONT_PT) for t in y.labels), default=0.0)
        name_width = max((text_width(t, SMALL_FONT_PT) for t in self.names), default=0.0)
        left = OUTER_PAD + label_width + TICK_PAD + TICK_LENGTH
        usable = WIDTH_PT - OUTER_PAD - left
        gap = self.GAP_PT + TICK_LENGTH
        panel_width = (usable - (columns - 1) * gap) / columns
        overflow = max(0.0, name_width - panel_width)
        if overflow:  # a name wider than its panel: room for it before the next panel
            gap += overflow
            panel_width = (usable - overflow - (columns - 1) * gap) / columns
        above = self.NAME_PAD_PT + SMALL_FONT_PT * (1 - DESCENT_SHARE)  # the name's line
        panel_height = self.ROW_PITCH_PT - self.GAP_PT - above
        height = rows_top + (rows - 1) * self.ROW_PITCH_PT + above + panel_height + OUTER_PAD
        x_low, x_high = self.x_limits
        out = [_svg_start(height)]
        grid, spines, marks, lines, texts = [], [], [], [], []
        fractions = y.fraction(np.array(y.ticks, dtype=float))
        for i, (name, values) in enumerate(zip(self.names, self.series, strict=True)):
            row, column = divmod(i, columns)
            x0 = left + column * (panel_width + gap)
            top = rows_top + row * self.ROW_PITCH_PT + above
            bottom = top + panel_height
            ticks_at = bottom - fractions * panel_height
            grid += [f"M{_num(x0)} {_num(v)}h{_num(panel_width)}" for v in ticks_at]
            spines.append(f"M{_num(x0)} {_num(top)}V{_num(bottom)}h{_num(panel_width)}")
            marks += [f"M{_num(x0 - TICK_LENGTH)} {_num(v)}H{_num(x0)}" for v in ticks_at]
            if column == 0:
                for v, text in zip(ticks_at, y.labels, strict=True):
                    baseline = v + MIDDLE_ABOVE_BASELINE * SMALL_FONT_PT
                    at = x0 - TICK_LENGTH - TICK_PAD
                    texts.append(_text(text, at, baseline, size=SMALL_FONT_PT, anchor="end"))
            texts.append(_text(name, x0, top - self.NAME_PAD_PT, size=SMALL_FONT_PT))
            values = np.asarray(values, dtype=float)
            px = x0 + (np.arange(len(values)) - x_low) / (x_high - x_low) * panel_width
            lines.append(_polyline(px, bottom - y.fraction(values) * panel_height, False))
        if grid:
            out.append(_path("".join(grid), stroke=GRID_COLOUR, width=GRID_WIDTH, cap="square"))
        if any(lines):
            out.append(_path("".join(lines), stroke=self.colour, width=self.line_width))
        if marks:
            out.append(_path("".join(marks), stroke=TEXT_COLOUR, width=0.8))
        if spines:
            out.append(_path("".join(spines), stroke=SPINE_COLOUR, width=0.8, cap="square"))
        out.extend(texts)
        for i, line in enumerate(title_lines):
            baseline = OUTER_PAD + (i + 1) * LINE_SPACING * TITLE_FONT_PT - 0.25 * TITLE_FONT_PT
            out.append(_text(line, OUTER_PAD, baseline, size=TITLE_FONT_PT, bold=True))
        out.append("</svg>\n")
        return "".join(out)


def _svg_start(height: float, defs: str = "") -> str:
    """The opening of a chart's SVG at the chart width: its style, ``defs`` (a clip path) and
    the white page under everything."""
    return (
        '<?xml version="1.0" encoding="utf-8" standalone="no"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_num(WIDTH_PT)}pt" '
        f'height="{_num(height)}pt" viewBox="0 0 {_num(WIDTH_PT)} {_num(height)}" '
        'version="1.1">\n'
        '<defs><style type="text/css">*{stroke-linejoin: round; stroke-linecap: butt}'
        "</style>" + ("\n" + defs if defs else "") + "</defs>\n"
        f'<rect width="{_num(WIDTH_PT)}" height="{_num(height)}" fill="#ffffff"/>\n'
    )


def _polyline(px: np.ndarray, py: np.ndarray, step_post: bool) -> str:
    """Path data through the finite points, a new piece after each missing one."""
    parts, pen_down = [], False
    previous_y = 0.0
    for a, b in zip(px, py, strict=True):
        if not (np.isfinite(a) and np.isfinite(b)):
            pen_down = False
            continue
        if not pen_down:
            parts.append(f"M{_num(a)} {_num(b)}")
            pen_down = True
        elif step_post:
            parts.append(f"H{_num(a)}V{_num(b)}" if b != previous_y else f"H{_num(a)}")
        else:
            parts.append(f"L{_num(a)} {_num(b)}")
        previous_y = b
    return "".join(parts)


def _band(
    px: np.ndarray, low: np.ndarray, high: np.ndarray, colour: str, opacity: float, step: bool
) -> str:
    """Filled polygons between ``low`` and ``high``, one per run of finite points."""
    keep = np.isfinite(px) & np.isfinite(low) & np.isfinite(high)
    pieces, run = [], []
    for i in range(len(px)):
        if keep[i]:
            run.append(i)
        if run and (not keep[i] or i == len(px) - 1):
            pieces.append(run)
            run = []
    paths = []
    for run in pieces:
        xs = px[run]
        lows, highs = low[run], high[run]
        if step:  # hold each value until the next x
            xs = np.repeat(xs, 2)[1:]
            lows, highs = np.repeat(lows, 2)[:-1], np.repeat(highs, 2)[:-1]
        top = [f"{_num(a)} {_num(b)}" for a, b in zip(xs, highs, strict=True)]
        bottom = [f"{_num(a)} {_num(b)}" for a, b in zip(xs[::-1], lows[::-1], strict=True)]
        paths.append("M" + "L".join(top + bottom) + "Z")
    if not paths:
        return ""
    return f'<path d="{"".join(paths)}" fill="{colour}" fill-opacity="{opacity}"/>\n'


def _path(d: str, *, stroke: str, width: float, dash: Dash = "-", cap: str | None = None) -> str:
    pattern = DASHES[dash]
    style = f"fill: none; stroke: {stroke}; stroke-width: {_num(width)}"
    if pattern:
        style += f"; stroke-dasharray: {_num(pattern[0] * width)},{_num(pattern[1] * width)}"
    if cap:
        style += f"; stroke-linecap: {cap}"
    return f'<path d="{d}" style="{style}"/>\n'


def _circle(x: float, y: float, radius: float, colour: str) -> str:
    return f'<circle cx="{_num(x)}" cy="{_num(y)}" r="{_num(radius)}" fill="{colour}"/>'


def _text(
    text: str,
    x: float,
    y: float,
    *,
    size: float = TICK_FONT_PT,
    colour: str = TEXT_COLOUR,
    anchor: Anchor = "start",
    bold: bool = False,
    rotate: float = 0.0,
) -> str:
    """One line of text whose baseline starts (or ends, or centres) at x, y."""
    weight = "font-weight: bold; " if bold else ""
    style = f"font-size: {_num(size)}px; font-family: '{FONT}'; {weight}fill: {colour}" + (
        f"; text-anchor: {anchor}" if anchor != "start" else ""
    )
    place = (
        f'transform="translate({_num(x)} {_num(y)}) rotate({_num(rotate)})"'
        if rotate
        else f'x="{_num(x)}" y="{_num(y)}"'
    )
    return f"<text style={quoteattr(style)} {place}>{escape(_NOT_XML.sub('', text))}</text>\n"
