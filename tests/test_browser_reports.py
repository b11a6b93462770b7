"""The demo reports and their index in a real browser: Debian's Chromium, headless, offline.

One `cchc report` run of the two-district demo; every page is opened once as a file:// URL
with every request to another host aborted and counted. Screenshots of each page type are
kept under the run's folder and copied to reports/test-screenshots/ for people to look at.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from browser import harness

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

DISTRICT, OTHER_DISTRICT = "314-kien-thuy.html", "313-an-lao.html"
PROVINCE, INDEX = "province-31-hai-phong.html", "index.html"
PAGES = (DISTRICT, OTHER_DISTRICT, PROVINCE, INDEX)
REPORTS = (DISTRICT, OTHER_DISTRICT, PROVINCE)
SCREENSHOTS = {"district": DISTRICT, "province": PROVINCE, "index": INDEX}
RECEIVED_COLUMN = 7  # index.html: code, district, rank, rate, status, 2 changes, received


@pytest.fixture(scope="module")
def chromium(pytestconfig):
    with harness.launch(pytestconfig) as browser:
        yield browser


@pytest.fixture(scope="module")
def demo_run(chromium, province_reports) -> Path:
    """The demo's reports for 2023-Q3 (conftest.province_reports, rendered once per session)."""
    return province_reports


def _sort_index(page, visit: harness.Visit) -> None:
    """Click the received-total heading twice and press Enter on the code heading."""
    heading = page.locator("table.sortable thead th").nth(RECEIVED_COLUMN)
    codes_before = _column(page, 0)
    states = []
    for _ in range(2):
        heading.click()
        states.append((heading.get_attribute("aria-sort"), _column(page, RECEIVED_COLUMN)))
    code_heading = page.locator("table.sortable thead th").nth(0)
    code_heading.focus()
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")
    visit.extra["sort"] = {
        "codes_before": codes_before,
        "clicks": states,
        "keyboard": (code_heading.get_attribute("aria-sort"), _column(page, 0)),
        "codes_after": sorted(_column(page, 0)),
    }


def _column(page, index: int) -> list[str]:
    return page.eval_on_selector_all(
        "table.sortable tbody tr",
        f"rows => rows.map(r => r.cells[{index}].dataset.sort)",
    )


@pytest.fixture(scope="module")
def visits(chromium, demo_run, pytestconfig) -> dict[str, harness.Visit]:
    shots = {name: kind for kind, name in SCREENSHOTS.items()}
    results = {}
    for name in PAGES:
        kind = shots.get(name)
        results[name] = harness.visit(
            chromium,
            demo_run / name,
            screenshot=demo_run / "screenshots" / f"{kind}.png" if kind else None,
            axe=harness.AXE_JS.is_file() and name in (DISTRICT, PROVINCE, INDEX),
            interact=_sort_index if name == INDEX else None,
        )
    return results


def test_run_rendered_every_page(demo_run):
    assert sorted(p.name for p in demo_run.glob("*.html")) == sorted(PAGES)


@pytest.mark.parametrize("name", PAGES)
def test_no_request_leaves_the_machine_and_none_fails(visits, name):
    visit = visits[name]
    assert visit.blocked_requests == [], "requests to another host"
    assert visit.failed_requests == []


@pytest.mark.parametrize("name", PAGES)
def test_no_console_errors_and_nothing_runs_unasked(visits, name):
    visit = visits[name]
    assert visit.console_errors == [] and visit.page_errors == []
    assert visit.dialogs == [] and visit.executed == []
    assert visit.active_content == []
    assert visit.extra["overflow_px"] <= 0, "page wider than a 1280 px window"


@pytest.mark.parametrize("name", REPORTS)
def test_every_image_decodes_and_has_alt_text(visits, name):
    visit = visits[name]
    assert len(visit.images) >= (5 if name != PROVINCE else 3)
    assert visit.undecoded_images == []
    assert all(i["src"].startswith("data:image/svg+xml;base64,") for i in visit.images)
    assert all((i["alt"] or "").strip() for i in visit.images)


@pytest.mark.parametrize("name", REPORTS)
def test_table_of_contents_links_resolve(visits, name, demo_run):
    visit = visits[name]
    assert len(visit.toc_links) >= 5
    assert visit.missing_anchors == []
    # other links: the run's own reports (overview <-> unit reports, index), all present
    # and the tables' files in <report>_bang/ beside them
    files = [link for link in visit.other_links if not link.startswith("data:")]
    targets = {Path(link.removeprefix("file://")) for link in files}
    assert targets and all(demo_run in t.parents and t.is_file() for t in targets)
    assert INDEX in {t.name for t in targets}


def test_index_links_open_existing_reports(visits, demo_run):
    links = visits[INDEX].other_links
    assert links and all(link.startswith("file://") for link in links)
    targets = {Path(link.removeprefix("file://")).name for link in links}
    workbooks = {t for t in targets if t.endswith(".xlsx")}  # every unit's KPIs, one workbook
    assert len(workbooks) == 1 and targets - workbooks == set(REPORTS)
    assert all((demo_run / t).is_file() for t in targets)
    assert visits[INDEX].missing_anchors == []


def test_index_sorts_when_a_heading_is_clicked(visits):
    sort = visits[INDEX].extra["sort"]
    (first_state, first), (second_state, second) = sort["clicks"]
    numbers = [float(v) for v in first]
    assert first_state == "ascending" and numbers == sorted(numbers)
    assert second_state == "descending" and [float(v) for v in second] == sorted(
        numbers, reverse=True
    )
    assert second != first  # the rows really moved
    # keyboard: Enter on a focused heading sorts too (twice: ascending, then descending)
    state, codes = sort["keyboard"]
    assert state == "descending" and codes == sorted(codes, reverse=True)
    assert sort["codes_after"] == sorted(sort["codes_before"])  # no row lost


def test_screenshots_saved_for_each_page_type(visits, demo_run, pytestconfig):
    for kind in SCREENSHOTS:
        path = demo_run / "screenshots" / f"{kind}.png"
        assert path.is_file() and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert path.stat().st_size > 10_000
        copy = harness.publish_screenshot(pytestconfig, path)
        assert copy.read_bytes() == path.read_bytes()


@pytest.mark.parametrize("name", (DISTRICT, PROVINCE, INDEX))
def test_axe_finds_no_serious_or_critical_violation(visits, pytestconfig, name):
    harness.require_axe(pytestconfig)
    violations = visits[name].axe
    assert violations is not None
    assert harness.serious(violations) == [], harness.serious(violations)


def test_harness_sees_what_it_must_catch(chromium, pytestconfig, tmp_path):
    """Positive control: a page that misbehaves in every checked way is caught every time."""
    page = tmp_path / "bad.html"
    page.write_text(
        """<!DOCTYPE html><html><head><title>x</title></head><body>
<nav class="toc"><a href="#nowhere">?</a></nav>
<img src="data:image/png;base64,AAAA" alt="">
<img src="http://example.invalid/pixel.png" alt="remote">
<img src=x onerror="window.__pwned('img')">
<a href="javascript:alert(1)">link</a>
<script>alert('script'); console.error('boom');</script>
<script>throw new Error('uncaught');</script>
</body></html>""",
        encoding="utf-8",
    )
    visit = harness.visit(chromium, page, axe=harness.AXE_JS.is_file())
    assert "__pwned(img)" in visit.executed and "alert(script)" in visit.executed
    assert any("onerror" in a for a in visit.active_content)
    assert any("javascript:" in a for a in visit.active_content)
    assert visit.blocked_requests == ["http://example.invalid/pixel.png"]
    assert any("example.invalid" in f for f in visit.failed_requests)
    assert "boom" in " ".join(visit.console_errors)
    assert "uncaught" in " ".join(visit.page_errors)
    assert visit.missing_anchors == ["#nowhere"]
    assert len(visit.undecoded_images) == 3
    if visit.axe is not None:
        assert "image-alt" in {v["id"] for v in harness.serious(visit.axe)}
