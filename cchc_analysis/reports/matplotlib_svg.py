"""A matplotlib figure as SVG bytes (text kept as text), as ``savefig`` writes it, drawn once.

The report's own charts are written directly as SVG (:mod:`svg_chart`); this is for a figure
a researcher draws with matplotlib and embeds with ``html_blocks.figure_html``. Imported only
then: a report kernel does not load matplotlib's figure and backend modules.
"""

from __future__ import annotations

import codecs
import io
from typing import Any, ClassVar

import matplotlib.pyplot as plt
from matplotlib import cbook
from matplotlib.backends.backend_mixed import MixedModeRenderer
from matplotlib.backends.backend_svg import FigureCanvasSVG, RendererSVG
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.typing import RcKeyType

# Charts are SVG images whose text stays text, in the page's fonts.
SVG_STYLE: dict[RcKeyType, Any] = {"svg.fonttype": "none", "svg.hashsalt": "cchc"}
SVG_DPI = 72  # the SVG backend draws at 72 dpi: one user unit per point


class _RememberingRendererSVG(RendererSVG):
    """The SVG renderer, remembering the size of each text it measures across figures.

    Why: matplotlib keeps text sizes per renderer, and every chart has two renderers (its
    layout's and its file's), so each text was measured twice a chart and again in the next
    report, at about a millisecond a text with FreeType. The size of a plain text in the SVG
    backend depends only on the text, its font properties and the hinting settings (the
    backend draws at 72 dpi), so those are the key. Mathtext and TeX are measured as ever.
    """

    _sizes: ClassVar[dict[tuple[object, ...], tuple[float, float, float]]] = {}
    _MAX_SIZES: ClassVar[int] = 20_000

    def get_text_width_height_descent(
        self, s: str, prop: FontProperties, ismath: bool | str
    ) -> tuple[float, float, float]:
        if ismath:
            return super().get_text_width_height_descent(s, prop, ismath)  # type: ignore[no-any-return,no-untyped-call]
        key = (
            s,
            tuple(prop.get_family()),
            prop.get_style(),
            prop.get_variant(),
            prop.get_weight(),
            prop.get_stretch(),
            prop.get_size_in_points(),
            prop.get_file(),
            plt.rcParams["text.hinting"],
            plt.rcParams["text.hinting_factor"],
        )
        size = self._sizes.get(key)
        if size is None:
            size = super().get_text_width_height_descent(s, prop, ismath)  # type: ignore[no-untyped-call]
            if len(self._sizes) >= self._MAX_SIZES:
                self._sizes.clear()
            self._sizes[key] = size
        return size


class _DrawingCanvas(FigureCanvasSVG):
    """matplotlib's SVG canvas (``print_svg``, as in matplotlib 3.11) drawing with the
    remembering renderer."""

    def print_svg(
        self,
        filename: Any,
        *,
        bbox_inches_restore: Any = None,
        metadata: Any = None,
        **_ignored: Any,  # dpi, colours, orientation: print_figure's, which SVG ignores
    ) -> None:
        with cbook.open_file_cm(filename, "w", encoding="utf-8") as file:
            fh: Any = file if cbook.file_requires_unicode(file) else codecs.getwriter("utf-8")(file)
            dpi = self.figure.dpi
            self.figure.dpi = 72
            width, height = self.figure.get_size_inches()
            svg = _RememberingRendererSVG(  # type: ignore[no-untyped-call]
                width * 72, height * 72, fh, image_dpi=dpi, metadata=metadata
            )
            renderer: Any = MixedModeRenderer(  # type: ignore[no-untyped-call]
                self.figure, width, height, dpi, svg, bbox_inches_restore=bbox_inches_restore
            )
            self.figure.draw(renderer)
            renderer.finalize()


class _MeasuringCanvas(FigureCanvasSVG):
    """An SVG canvas whose layout engine and tight box share one renderer (and so its cache
    of text sizes): the renderer the SVG backend draws with (``print_svg``), at its 72 dpi."""

    _renderer: Any = None  # a MixedModeRenderer (matplotlib's backends have no type hints)

    def get_renderer(self) -> Any:
        figure = self.figure
        figure.dpi = SVG_DPI
        if self._renderer is None:
            width, height = figure.get_size_inches()
            svg = _RememberingRendererSVG(  # type: ignore[no-untyped-call]
                width * SVG_DPI, height * SVG_DPI, io.StringIO(), image_dpi=SVG_DPI
            )
            self._renderer = MixedModeRenderer(  # type: ignore[no-untyped-call]
                figure, width, height, SVG_DPI, svg
            )
        return self._renderer


def figure_svg(fig: Figure) -> bytes:
    """The figure as SVG (text kept as text, no date: the same figure gives the same bytes);
    the figure is closed.

    The same bytes as ``savefig(bbox_inches="tight")``, drawn once instead of twice: savefig
    with a layout engine or a tight box first draws the whole figure without output (to lay
    it out and measure it), then draws it again into the file. Here the layout runs once and
    the box is measured, both with the SVG backend's renderer at its 72 dpi, as savefig does;
    the single draw then writes the file (tests/test_report_parts.py checks the bytes).
    """
    buffer = io.BytesIO()
    with plt.rc_context(SVG_STYLE):
        measuring = _MeasuringCanvas(fig)  # it becomes fig.canvas
        engine = fig.get_layout_engine()
        if engine is not None:
            engine.execute(fig)
        box = fig.get_tightbbox(measuring.get_renderer())
        fig.set_layout_engine(None)  # laid out: savefig must not draw it once more to do so
        _DrawingCanvas(fig)
        # dpi: the SVG backend's own, at which savefig crops to the box (the file's
        # coordinates are in points whatever the dpi; the charts hold no raster images).
        fig.savefig(
            buffer,
            format="svg",
            metadata={"Date": None},
            bbox_inches=box.padded(plt.rcParams["savefig.pad_inches"]),
            dpi=SVG_DPI,
        )
    plt.close(fig)
    return buffer.getvalue()
