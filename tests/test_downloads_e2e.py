"""End to end (real runner): every download link of every page type resolves to a file beside
the page, the CSV and XLSX open with Vietnamese headers, codes as text and rates as
percentages, the manifest lists the files, and a re-render replaces them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import openpyxl
import pytest
from conftest import run_cchc

pytestmark = pytest.mark.e2e

LINK = re.compile(r'<a (?:download(?:="[^"]*")? )?href="([^"#]+\.(?:csv|xlsx))"')
PERCENT = "0.00%"


@pytest.fixture(scope="module")
def commune_run(reform_dir, tmp_path_factory) -> Path:
    """A new commune's report and the overview of 2026-Q3 (after the 2025 reform)."""
    out = tmp_path_factory.mktemp("downloads") / "2026-Q3"
    run_cchc(
        "report", "--data", str(reform_dir), "--period", "2026-Q3", "--units", "11680",
        "--out", str(out), "--workers", "1",
    )  # fmt: skip
    return out


def _links(folder: Path, page: str) -> list[str]:
    return LINK.findall((folder / page).read_text(encoding="utf-8"))


def _check_table_files(folder: Path, page: str) -> list[str]:
    """Every table link of ``page`` names a file in ``<stem>_bang/`` that opens as it must."""
    html = (folder / page).read_text(encoding="utf-8")
    links = _links(folder, page)
    tables = html.count('<div class="table-scroll">')
    assert tables >= 3 and len(links) == 2 * tables  # a CSV and an XLSX under every table
    assert "data:text/csv" not in html and "spreadsheetml" not in html  # none left inline
    stem = page.removesuffix(".html")
    assert all(link.startswith(f"{stem}_bang/") for link in links)
    assert len(set(links)) == len(links)  # unique names
    for link in links:
        path = folder / link
        assert path.is_file(), link
        if link.endswith(".csv"):
            raw = path.read_bytes()
            assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM, for Excel
            header = raw.decode("utf-8-sig").splitlines()[0]
            assert not header.isascii()  # Vietnamese headers
        else:
            sheet = openpyxl.load_workbook(path).active
            header = [c.value for c in next(sheet.iter_rows(max_row=1))]
            csv = (folder / link.removesuffix(".xlsx")).with_suffix(".csv")
            assert ",".join(map(str, header)) in csv.read_text(encoding="utf-8-sig")
    return links


def _formats(path: Path, column: str) -> list[tuple[object, str]]:
    sheet = openpyxl.load_workbook(path).active
    rows = list(sheet.iter_rows())
    at = [c.value for c in rows[0]].index(column)
    return [(row[at].value, row[at].number_format) for row in rows[1:]]


def _csv_of(xlsx: Path) -> str:
    return xlsx.with_suffix(".csv").read_text(encoding="utf-8-sig")


def _manifest(folder: Path) -> dict[str, list[str]]:
    records = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["reports"]
    return {r["file"]: r["tables"] for r in records}


@pytest.mark.parametrize(
    "page", ["314-kien-thuy.html", "313-an-lao.html", "province-31-hai-phong.html"]
)
def test_pre_reform_district_and_overview_tables_resolve(province_reports, page):
    links = _check_table_files(province_reports, page)
    assert sorted(_manifest(province_reports)[page]) == sorted(links)
    folder = province_reports / page.replace(".html", "_bang")
    assert sorted(f"{folder.name}/{p.name}" for p in folder.iterdir()) == sorted(links)


@pytest.mark.parametrize("page", ["11680-kien-thuy.html", "province-31-hai-phong.html"])
def test_commune_report_and_overview_tables_resolve(commune_run, page):
    links = _check_table_files(commune_run, page)
    assert sorted(_manifest(commune_run)[page]) == sorted(links)


def test_rates_are_percentages_and_codes_text(province_reports, commune_run):
    overview = province_reports / "province-31-hai-phong_bang"
    rate = "Tỷ lệ giải quyết đúng hạn"
    (ranking,) = [p for p in overview.glob("*.xlsx") if f",{rate}," in _csv_of(p)]
    rates = _formats(ranking, rate)
    assert len(rates) == 2 and all(f == PERCENT and 0 <= v <= 1 for v, f in rates)
    assert re.search(r'"\d{1,3},\d\d%"', _csv_of(ranking))  # the CSV as shown: "99,46%"
    index = (province_reports / "index.html").read_text(encoding="utf-8")
    (workbook,) = re.findall(r'<a href="([^"]+\.xlsx)" download>', index)
    assert (province_reports / workbook).is_file()
    codes = _formats(province_reports / workbook, "Mã")
    assert sorted(v for v, _ in codes) == ["313", "314"]  # codes as text
    kpis = _formats(province_reports / workbook, "Tỷ lệ hồ sơ trực tuyến")
    assert len(kpis) == 2 and all(f == PERCENT for _, f in kpis)
    counts = _formats(province_reports / workbook, "Tổng số hồ sơ tiếp nhận")
    assert all(isinstance(v, int) and f == "#,##0" for v, f in counts)
    commune_index = (commune_run / "index.html").read_text(encoding="utf-8")
    (workbook,) = re.findall(r'<a href="([^"]+\.xlsx)" download>', commune_index)
    assert [v for v, _ in _formats(commune_run / workbook, "Mã")] == ["11680"]


def test_rerun_keeps_unchanged_tables_and_force_replaces_stale_ones(commune_run, reform_dir):
    args = ("report", "--data", str(reform_dir), "--period", "2026-Q3", "--units", "11680")
    folder = commune_run / "11680-kien-thuy_bang"
    stale = folder / "99-bang-cu.csv"
    stale.write_text("a table the report no longer has")
    run_cchc(*args, "--out", str(commune_run), "--workers", "1")
    manifest = json.loads((commune_run / "manifest.json").read_text(encoding="utf-8"))
    assert {r["status"] for r in manifest["reports"]} == {"skipped"}
    assert stale.exists()  # a skipped report's folder is not touched
    assert all((commune_run / t).is_file() for r in manifest["reports"] for t in r["tables"])
    run_cchc(*args, "--out", str(commune_run), "--workers", "1", "--force")
    assert not stale.exists()  # the re-rendered report's folder holds its tables only
    links = _check_table_files(commune_run, "11680-kien-thuy.html")
    assert sorted(f"{folder.name}/{p.name}" for p in folder.iterdir()) == sorted(links)
    assert not list(commune_run.glob(".*.tmp"))
    lost = commune_run / links[0]
    lost.unlink()  # a table file deleted by hand: the report is rendered again
    run_cchc(*args, "--out", str(commune_run), "--workers", "1")
    manifest = json.loads((commune_run / "manifest.json").read_text(encoding="utf-8"))
    assert {r["file"]: r["status"] for r in manifest["reports"]} == {
        "11680-kien-thuy.html": "ok",
        "province-31-hai-phong.html": "skipped",
    }
    assert lost.is_file()
