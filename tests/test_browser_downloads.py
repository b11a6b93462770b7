"""Download links as Chromium reads them (offline, ``file://``): under every table of the
district report and the overview, and the index's KPI workbook, each link resolves, relative
to the page, to a file the run wrote; clicking one saves that file under its own name.

The same 2023-Q3 run as test_browser_reports (conftest.province_reports).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
from browser import harness

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

PAGES = ("314-kien-thuy.html", "province-31-hai-phong.html", "index.html")
LINKS_JS = """() => Array.from(document.querySelectorAll('p.downloads a')).map(a => ({
  href: a.href, download: a.getAttribute('download'), text: a.textContent.trim(),
  tables: document.querySelectorAll('div.table-scroll table').length
}))"""


@pytest.fixture(scope="module")
def chromium(pytestconfig):
    with harness.launch(pytestconfig) as browser:
        yield browser


def _links(chromium, page_path: Path) -> list[dict]:
    context = chromium.new_context(offline=True)
    page = context.new_page()
    page.goto(page_path.as_uri())
    links = page.evaluate(LINKS_JS)
    context.close()
    return links


def _file(href: str) -> Path:
    url = urlparse(href)
    assert url.scheme == "file", href  # nothing inline, nothing from another host
    return Path(unquote(url.path))


@pytest.mark.parametrize("name", PAGES)
def test_every_download_link_resolves_to_a_file_beside_the_page(chromium, province_reports, name):
    links = _links(chromium, province_reports / name)
    assert links
    for link in links:
        target = _file(link["href"])
        assert target.is_file(), link
        assert province_reports in target.parents
        assert link["download"] in (None, "", target.name)  # saved under its own name
    if name != "index.html":
        tables = links[0]["tables"]
        assert [link["text"] for link in links] == ["CSV", "XLSX"] * tables
        assert {_file(link["href"]).parent.name for link in links} == {
            name.replace(".html", "_bang")
        }


def test_clicking_a_table_link_saves_its_file(chromium, province_reports, tmp_path):
    context = chromium.new_context(offline=True, accept_downloads=True)
    page = context.new_page()
    page.goto((province_reports / "314-kien-thuy.html").as_uri())
    link = page.locator("p.downloads a").first
    href = link.evaluate("a => a.href")
    with page.expect_download() as info:
        link.click()
    download = info.value
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    context.close()
    assert saved.name == _file(href).name
    assert saved.read_bytes() == _file(href).read_bytes()
