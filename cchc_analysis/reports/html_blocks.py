"""Small HTML building blocks shared by the reports: escaped tables, inline figures with alt
text, headings with anchors, KPI cards and the table of contents.

Everything is escaped here, once, so a unit or field name holding markup shows as text.
"""

from __future__ import annotations

import base64
import html
import math
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import pandas as pd
from IPython.display import HTML

from cchc_analysis.reports.svg_chart import SvgImage
from cchc_analysis.reports.xlsx import xlsx_bytes
from cchc_analysis.units import slugify

if TYPE_CHECKING:
    from matplotlib.figure import Figure

ESC = html.escape
# Formatted numbers (1.473 / 99,46% / +0,4 điểm % / —) are right-aligned in tables.
_NUMERIC = re.compile(r"^[+\-−±]?[\d.,\s]*\d[\d.,]*\s*(%|điểm %|pp)?$|^[–—]$")
SVG_DATA_PREFIX = "data:image/svg+xml;base64,"
# The smallest chart text a phone shows, in CSS px: a chart is never shrunk below the width
# that keeps its smallest text this size (its box scrolls sideways instead).
MIN_CHART_TEXT_PX = 9
_SVG_WIDTH = re.compile(rb'<svg[^>]*?\swidth="([\d.]+)pt"')
_SVG_HEIGHT = re.compile(rb'<svg[^>]*?\sheight="([\d.]+)pt"')
# A chart taller than this many times its width (a ranking of many units) may take a printed
# page rather than the usual few centimetres (the "tall" class in cchc.css).
TALL_CHART_RATIO = 1.2
# Taller still (a hundred units), a chart is not printed: its text would print at 3 pt.
VERY_TALL_CHART_RATIO = 3.0
_SVG_FONT = re.compile(rb"font(?:-size)?:\s*(?:[a-z]+\s+)*([\d.]+)px")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_TAG = re.compile(r"<[^>]+>")
# A run this long without a space (a pasted URL or code in a field name) gets break points.
_LONG_RUN = re.compile(r"\S{40,}")


def figure_html(fig: Figure | SvgImage, alt: str, caption: str | None = None) -> str:
    """Embed a chart (a matplotlib figure or a chart written as SVG) as an inline SVG image
    with alt text (no external file, no other host).

    Vector, so it is sharp on paper and scales to a phone's width; its text stays text
    (``svg.fonttype: none``), set in the reader's DejaVu Sans or fallback fonts.
    """
    if isinstance(fig, SvgImage):
        return svg_figure_html(fig.svg(), alt, caption)
    from cchc_analysis.reports.matplotlib_svg import figure_svg  # only for a matplotlib figure

    return svg_figure_html(figure_svg(fig), alt, caption)


def svg_figure_html(svg: bytes, alt: str, caption: str | None = None) -> str:
    """SVG bytes as an inline image with alt text (see :func:`figure_html`), never narrower
    than :func:`chart_min_width_px` on screen."""
    data = base64.b64encode(svg).decode("ascii")
    cap = f"<figcaption>{ESC(caption)}</figcaption>" if caption else ""
    least = chart_min_width_px(svg)
    style = f' style="--chart-min-width: {least}px"' if least else ""
    width, height = _SVG_WIDTH.search(svg), _SVG_HEIGHT.search(svg)
    ratio = float(height.group(1)) / float(width.group(1)) if width and height else 0.0
    css_class = "chart"
    if ratio > TALL_CHART_RATIO:
        css_class += " tall very-tall" if ratio > VERY_TALL_CHART_RATIO else " tall"
    return (
        f'<figure class="{css_class}"{style}><img src="{SVG_DATA_PREFIX}{data}" '
        f'alt="{ESC(alt)}">{cap}</figure>'
    )


def chart_min_width_px(svg: bytes) -> int | None:
    """The narrowest a chart may be shown for its smallest text to stay
    ``MIN_CHART_TEXT_PX`` CSS px (an SVG user unit is a point; at width W px a text of f
    units shows at f·W/width px); None when the SVG says neither."""
    width = _SVG_WIDTH.search(svg)
    sizes = [float(size) for size in _SVG_FONT.findall(svg)]
    if width is None or not sizes or min(sizes) <= 0:
        return None
    return math.ceil(MIN_CHART_TEXT_PX * float(width.group(1)) / min(sizes))


def html_block(markup: str) -> HTML:
    """``markup`` as the IPython display object every report section returns."""
    return HTML(markup)  # type: ignore[no-untyped-call]  # IPython's HTML has no type hints


def cell_text(text: str) -> str:
    """Escaped cell text; a run of 40+ characters with no space gets a <wbr> every 20
    characters, so a table cell can wrap it instead of widening the whole page."""
    parts, last = [], 0
    for match in _LONG_RUN.finditer(text):
        run = match.group()
        parts.append(ESC(text[last : match.start()]))
        parts.append("<wbr>".join(ESC(run[i : i + 20]) for i in range(0, len(run), 20)))
        last = match.end()
    parts.append(ESC(text[last:]))
    return "".join(parts)


def table_html(
    frame: pd.DataFrame,
    caption: str | None = None,
    css_class: str = "kpi",
    row_classes: Sequence[str] | None = None,
    *,
    markup_columns: Sequence[str] = (),
) -> str:
    """A plain, escaped HTML table; numeric-looking cells are right-aligned. Cells of
    ``markup_columns`` are the caller's markup (links), already escaped."""
    head = "".join(f'<th scope="col">{ESC(str(c))}</th>' for c in frame.columns)
    is_markup = [c in markup_columns for c in frame.columns]
    rows = []
    for i, (_, row) in enumerate(frame.iterrows()):
        cells = []
        for value, markup in zip(row, is_markup, strict=True):
            text = str(value)
            if markup:
                cells.append(f"<td>{text}</td>")
                continue
            cls = ' class="num"' if _NUMERIC.match(text.strip()) else ""
            cells.append(f"<td{cls}>{cell_text(text)}</td>")
        row_class = f' class="{ESC(row_classes[i])}"' if row_classes and row_classes[i] else ""
        rows.append(f"<tr{row_class}>{''.join(cells)}</tr>")
    cap = f"<caption>{ESC(caption)}</caption>" if caption else ""
    plain = frame.copy()
    for column in markup_columns:
        if column in plain:
            plain[column] = [html.unescape(_TAG.sub("", str(v))) for v in plain[column]]
    return scroll_box(
        f'<table class="{css_class}">{cap}<thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    ) + download_links(plain, caption or "bang")


def download_links(frame: pd.DataFrame, name: str) -> str:
    """Links that save ``frame`` as CSV (UTF-8 with BOM, so Excel reads Vietnamese) and XLSX,
    as the table shows it (Vietnamese headers, rates as %, codes as text); the files are inside
    the page (data: URLs), so they download offline and travel with the report."""
    text = frame.astype(str)
    csv = text.to_csv(index=False).encode("utf-8-sig")
    book = xlsx_bytes([("Bang", text)])
    stem = slugify(name)[:60] or "bang"
    return (
        '<p class="downloads">'
        f'<a download="{stem}.csv" href="data:text/csv;base64,{_b64(csv)}">CSV</a> · '
        f'<a download="{stem}.xlsx" href="data:{XLSX_TYPE};base64,{_b64(book)}">'
        "XLSX</a></p>"
    )


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def scroll_box(table: str) -> str:
    """A table in a box that scrolls sideways on its own (its first column stays in view), so a
    wide table never makes a phone's whole page scroll."""
    return f'<div class="table-scroll">{table}</div>'


def heading(title: str, level: int = 2, anchor: str | None = None) -> str:
    ident = f' id="{ESC(anchor)}"' if anchor else ""
    return f"<h{level}{ident}>{ESC(title)}</h{level}>"


def contents(entries: Sequence[tuple[str, str]], title: str) -> str:
    """Table of contents: (anchor, title) pairs, as a navigation list."""
    items = "".join(f'<li><a href="#{ESC(a)}">{ESC(t)}</a></li>' for a, t in entries)
    return (
        f'<nav class="toc" aria-label="{ESC(title)}"><h2 class="toc-title">{ESC(title)}</h2>'
        f"<ol>{items}</ol></nav>"
    )


def card(
    label: str,
    value: str,
    lines: Sequence[str] = (),
    status: str | None = None,
    status_text: str | None = None,
) -> str:
    """A KPI card; a target status shows as a coloured badge WITH its words."""
    badge = (
        f'<span class="badge badge-{ESC(status)}">{ESC(status_text or status)}</span>'
        if status and status != "none"
        else ""
    )
    extra = "".join(f'<span class="delta">{ESC(line)}</span>' for line in lines)
    return (
        f'<div class="card"><div class="card-label">{ESC(label)}</div>'
        f'<div class="card-value">{ESC(value)}</div>{badge}{extra}</div>'
    )


def footnotes(notes: Sequence[str], heading: str) -> str:
    """The statistics behind a section's plain sentences (tests, p-values, intervals), in
    small print under it; nothing when there are none."""
    kept = [n for n in notes if n]
    if not kept:
        return ""
    items = "".join(f"<li>{ESC(n)}</li>" for n in kept)
    return f'<aside class="footnotes" aria-label="{ESC(heading)}"><ol>{items}</ol></aside>'


def paragraph(text: str, css_class: str | None = None) -> str:
    cls = f' class="{ESC(css_class)}"' if css_class else ""
    return f"<p{cls}>{ESC(text)}</p>"


# dataset.json's mark of a folder written by the demo generator (``demo.synth``); older demo
# folders carry only their source's name.
SYNTHETIC_KEY = "is_synthetic"
SYNTHETIC_SOURCE = "synthetic demo"


def is_synthetic(dataset: Mapping[str, object]) -> bool:
    """Whether a data folder's dataset.json says its data are the demo's, not real exports."""
    return dataset.get(SYNTHETIC_KEY) is True or dataset.get("source") == SYNTHETIC_SOURCE


def _css_string(text: str) -> str:
    """``text`` as a CSS string literal that cannot close its <style> element."""
    body = text.replace("\\", "\\\\").replace('"', '\\"').replace("<", "\\3C ")
    return f'"{body}"'


def page_frame(running: str, *, demo_text: str | None, page_word: str) -> str:
    """What every printed page carries: ``running`` (unit and period) and the page number at
    its foot, and the demo banner at its head when the data are synthetic (CSS page margin
    boxes, which Chromium prints); on screen, the banner shows once, above the title."""
    top = (
        f"@top-center {{ content: {_css_string(demo_text)}; color: #9b1c1c; "
        "font-weight: bold; font-size: 9pt; }"
        if demo_text
        else ""
    )
    style = (
        "<style>@page { "
        f"@bottom-left {{ content: {_css_string(running)}; font-size: 8pt; color: #4a5561; }} "
        f'@bottom-right {{ content: {_css_string(page_word)} " " counter(page) " / " '
        "counter(pages); font-size: 8pt; color: #4a5561; } "
        f"{top} }}</style>"
    )
    banner = f'<p class="demo-banner" role="note">{ESC(demo_text)}</p>' if demo_text else ""
    return style + banner
