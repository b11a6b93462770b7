"""The demo reports as a leader opens them: on a 390 px phone, on a 1366 px laptop and on A4.

The same 2023-Q3 run as test_browser_reports (conftest.province_reports). Screenshots of each
page type at both widths and of its first printed page are listed at the end of pytest's output.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from browser import harness

from cchc_analysis import store
from cchc_analysis.core.periods import parse_period
from cchc_analysis.counting import CountQuery, kpi_table
from cchc_analysis.counting.late_sources import (
    LATE_SOURCE_COLUMNS,
    OFFICE_SOURCE,
    in_scope_window,
    late_sources,
)
from cchc_analysis.reports.unit_data import short_name

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

DISTRICT, PROVINCE, INDEX = "314-kien-thuy.html", "province-31-hai-phong.html", "index.html"
KINDS = {"district": DISTRICT, "province": PROVINCE, "index": INDEX}
Q3 = parse_period("2023-Q3")
MAX_UNIT_PAGES = 6  # a unit report without its methodology appendix
MIN_CHART_TEXT_PX = 9  # the smallest chart text a phone shows
# The page's own width vs the widest element outside a box that scrolls on its own (a wide
# table's, or a chart's kept at its readable width).
OVERFLOW_JS = """() => {
  const width = document.documentElement.clientWidth;
  let widest = null, right = 0;
  for (const el of document.querySelectorAll('body *')) {
    if (el.closest('.table-scroll') || el.closest('figure.chart')) continue;
    const r = el.getBoundingClientRect();
    if (r.right > right) { right = r.right; widest = el.tagName + '.' + el.className; }
  }
  return {scroll: document.documentElement.scrollWidth, width, right, widest};
}"""
# Each chart's SVG laid over its image at the same box: the rendered size of every text, from
# its font size and the screen transform (rotated month labels too), the smallest per chart.
CHART_TEXT_JS = """() => {
  const out = [];
  for (const img of document.querySelectorAll('figure.chart img')) {
    const raw = atob(img.getAttribute('src').split(',')[1]);
    const bytes = Uint8Array.from(raw, (c) => c.charCodeAt(0));
    const doc = new DOMParser().parseFromString(new TextDecoder().decode(bytes), 'image/svg+xml');
    const svg = document.importNode(doc.documentElement, true);
    const box = img.getBoundingClientRect();
    svg.setAttribute('width', box.width);
    svg.setAttribute('height', box.height);
    Object.assign(svg.style, {position: 'absolute', left: (box.left + scrollX) + 'px',
                              top: (box.top + scrollY) + 'px'});
    document.body.appendChild(svg);
    let smallest = Infinity, text = null;
    for (const t of svg.querySelectorAll('text')) {
      if (!t.textContent.trim()) continue;
      const m = t.getScreenCTM();
      const px = parseFloat(getComputedStyle(t).fontSize) * Math.hypot(m.a, m.b);
      if (px < smallest) { smallest = px; text = t.textContent; }
      const r = t.getBoundingClientRect();  // a rendered glyph box, not only a computed size
      if (r.height > 0 && r.height < smallest) { smallest = r.height; text = t.textContent; }
    }
    svg.remove();
    out.push({alt: img.alt, width: box.width, smallest, text});
  }
  return out;
}"""
HIDE_METHOD_JS = """() => {
  const h = document.getElementById('method');
  if (h) (h.closest('.jp-Cell') || h.parentElement).style.display = 'none';
}"""


@pytest.fixture(scope="module")
def chromium(pytestconfig):
    with harness.launch(pytestconfig) as browser:
        yield browser


@pytest.fixture(scope="module")
def run(chromium, province_reports) -> Path:
    return province_reports


def _page(chromium, path: Path, width: int, height: int = 844):
    context = chromium.new_context(viewport={"width": width, "height": height}, offline=True)
    page = context.new_page()
    page.goto(path.as_uri())
    return context, page


def _pdf_pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf))


@pytest.fixture(scope="module")
def layouts(chromium, run, pytestconfig) -> dict[str, dict]:
    """Per page type: overflow at 390 px, screenshots at 390 and 1366 px, the printed PDF."""
    shots = run / "screenshots"
    shots.mkdir(exist_ok=True)
    out = {}
    for kind, name in KINDS.items():
        result: dict = {}
        for width in (390, 1366):
            context, page = _page(chromium, run / name, width)
            result[width] = page.evaluate(OVERFLOW_JS)
            result[f"charts-{width}"] = page.evaluate(CHART_TEXT_JS)
            shot = shots / f"{kind}-{width}.png"
            page.screenshot(path=str(shot))
            harness.publish_screenshot(pytestconfig, shot)
            if width == 1366:
                result["pdf"] = page.pdf(format="A4", print_background=True)
                page.evaluate(HIDE_METHOD_JS)
                result["pdf_without_method"] = page.pdf(format="A4", print_background=True)
                page.emulate_media(media="print")
                first = shots / f"{kind}-print.png"
                page.set_viewport_size({"width": 794, "height": 1123})  # A4 at 96 dpi
                page.screenshot(path=str(first))
                harness.publish_screenshot(pytestconfig, first)
            context.close()
        out[kind] = result
    return out


@pytest.mark.parametrize("kind", KINDS)
def test_no_page_level_horizontal_scroll_on_a_phone(layouts, kind):
    phone = layouts[kind][390]
    assert phone["scroll"] <= phone["width"], phone
    assert phone["right"] <= phone["width"] + 1, phone  # wide tables scroll inside their box


@pytest.mark.parametrize("kind", ("district", "province"))
def test_chart_text_is_readable_on_a_phone(layouts, kind):
    """Every chart's smallest text renders at 9 CSS px or more at 390 px (SVG text measured)."""
    charts = layouts[kind]["charts-390"]
    assert len(charts) >= 3
    small = [c for c in charts if c["smallest"] < MIN_CHART_TEXT_PX]
    assert not small, small


@pytest.mark.parametrize("kind", KINDS)
def test_printed_pages(layouts, kind):
    pages = _pdf_pages(layouts[kind]["pdf"])
    assert pages >= 1
    if kind == "district":
        assert _pdf_pages(layouts[kind]["pdf_without_method"]) <= MAX_UNIT_PAGES
    if kind == "index":
        assert pages <= 2


@pytest.mark.parametrize("kind", KINDS)
def test_every_printed_page_carries_unit_period_page_and_demo_banner(layouts, kind, tmp_path):
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed: printed text not read")
    pdf = tmp_path / "page.pdf"
    pdf.write_bytes(layouts[kind]["pdf"])
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    pages = [p for p in text.split("\f") if p.strip()]
    running = {"district": "Huyện Kiến Thụy · Quý III/2023", "province": "Hải Phòng · Quý III/2023"}
    for number, page in enumerate(pages, start=1):
        assert f"Trang {number} / {len(pages)}" in page
        assert "DỮ LIỆU MÔ PHỎNG — không phải số liệu chính thức" in page
        if kind in running:
            assert running[kind] in page


@pytest.mark.parametrize("kind", KINDS)
def test_demo_banner_on_the_first_screen(chromium, run, kind):
    context, page = _page(chromium, run / KINDS[kind], 390)
    banner = page.locator("p.demo-banner")
    assert banner.inner_text() == "DỮ LIỆU MÔ PHỎNG — không phải số liệu chính thức"
    assert banner.bounding_box()["y"] < 844
    context.close()


@pytest.mark.parametrize("name", (DISTRICT, PROVINCE))
def test_every_table_downloads_as_csv_and_xlsx(run, name):
    page = (run / name).read_text(encoding="utf-8")
    tables = page.count('<div class="table-scroll">')
    csv = re.findall(r'download="([^"]+\.csv)" href="([^"]+)"', page)  # files beside the page
    xlsx = re.findall(r'download="([^"]+\.xlsx)" href="([^"]+)"', page)
    assert tables >= 3 and len(csv) == tables and len(xlsx) == tables
    for _, href in csv:
        text = (run / href).read_text(encoding="utf-8-sig")
        assert text.splitlines()[0]  # a Vietnamese header row
    for _, href in xlsx:
        book = zipfile.ZipFile(run / href)
        assert "xl/worksheets/sheet1.xml" in book.namelist()
    league = next(h for f, h in xlsx if re.match(r"\d+-bang", f))  # one sheet read by pandas
    frame = pd.read_excel(run / league, dtype=str)
    assert len(frame.columns) >= 2


def test_index_workbook_resolves(run):
    page = (run / INDEX).read_text(encoding="utf-8")
    (name,) = re.findall(r'<a href="([^"]+\.xlsx)" download>', page)
    frame = pd.read_excel(run / name, dtype=str)
    assert set(frame["Mã"]) == {"313", "314"}
    assert "Thứ hạng" in frame.columns


def _first_row(chromium, path: Path, caption: str) -> str:
    context, page = _page(chromium, path, 1366)
    table = page.locator("section.attention table", has=page.locator(f"caption:text('{caption}')"))
    text = table.locator("tbody tr").first.locator("td").first.inner_text()
    context.close()
    return text


def test_needs_action_box_names_the_worst_sources(chromium, run, prepared_dir):
    """The first row of each "where" table is the one the data make worst."""
    rows = store.read_dossiers(
        prepared_dir,
        columns=LATE_SOURCE_COLUMNS,
        received_between=in_scope_window(Q3),
        areas=["2024-314"],
    )
    worst = late_sources(rows, Q3, "source").iloc[0]["source"]
    expected = (
        "Các cơ quan cấp huyện" if worst == OFFICE_SOURCE else short_name(worst, "commune", "2024")
    )
    assert _first_row(chromium, run / DISTRICT, "Nơi có nhiều hồ sơ quá hạn nhất") == expected
    peers = kpi_table(prepared_dir, CountQuery(Q3, unit_codes=["313", "314"]))
    peers = peers.assign(load=peers["resolved_late_count"] + peers["pending_late_count"])
    top = peers.sort_values(["load", "late_rate"], ascending=False).iloc[0]["unit_code"]
    province_first = _first_row(chromium, run / PROVINCE, "Nơi có nhiều hồ sơ quá hạn nhất")
    assert province_first == short_name(top, "district")


@pytest.mark.parametrize("name", (DISTRICT, PROVINCE))
def test_summary_sheet_prints_on_one_page(chromium, run, name, pytestconfig):
    """The "Phiếu tóm tắt" link shows the title, summary, key indicators and "Cần chỉ đạo" only."""
    context, page = _page(chromium, run / name, 1366)
    page.click("a.sheet-on")
    assert page.locator("section.attention").is_visible()
    assert not page.locator("#method").is_visible()
    assert _pdf_pages(page.pdf(format="A4", print_background=True)) == 1
    page.click("a.sheet-off")
    assert page.locator("#method").is_visible()
    context.close()
