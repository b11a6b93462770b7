"""Report tables as files beside the report (issue 14, "Downloads"): the runner turns each
table's inline CSV/XLSX into files in ``<report>_bang/`` linked relatively, writing them like
every other file of a run (all or nothing, stale files removed)."""

from __future__ import annotations

import base64
import io
import re
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from cchc_analysis.batch import report_files
from cchc_analysis.batch.manifest import clean_stale_temporaries
from cchc_analysis.reports.downloads import extract_downloads, shown_value, tables_folder
from cchc_analysis.reports.html_blocks import table_html
from cchc_analysis.reports.xlsx import Percent

SHOWN = pd.DataFrame(
    {
        "Mã": ["00314", "313"],
        "Đơn vị": ['<a href="314-kien-thuy.html">Kiến Thụy</a>', "An Lão"],
        "Tiếp nhận": ["1.473", "14"],
        "Tỷ lệ đúng hạn": ["99,46%", "–"],
        "Thay đổi": ["+0,4 điểm %", "−1,2 điểm %"],
    }
)


def _page(*tables: str) -> str:
    return "<html><body>" + "<p>giữa</p>".join(tables) + "</body></html>"


def _two_tables() -> str:
    first = table_html(SHOWN, caption="Bảng xếp hạng", markup_columns=["Đơn vị"])
    second = table_html(SHOWN.iloc[:1], caption=None)  # no caption: "bang"
    third = table_html(SHOWN.iloc[1:], caption=None)  # the same name again
    return _page(first, second, third)


def test_links_become_relative_files_numbered_in_page_order():
    page, files = extract_downloads(_two_tables(), "314-kien-thuy.html", "vi")
    assert "data:" not in page
    folder = "314-kien-thuy_bang"
    assert tables_folder("314-kien-thuy.html") == folder
    assert sorted(files) == [
        f"{folder}/01-bang-xep-hang.csv",
        f"{folder}/01-bang-xep-hang.xlsx",
        f"{folder}/02-bang.csv",
        f"{folder}/02-bang.xlsx",
        f"{folder}/03-bang.csv",
        f"{folder}/03-bang.xlsx",
    ]
    hrefs = re.findall(r'<p class="downloads"><a download="([^"]+)" href="([^"]+)">CSV</a>', page)
    assert hrefs[0] == ("01-bang-xep-hang.csv", f"{folder}/01-bang-xep-hang.csv")
    links = re.findall(r'href="(314-kien-thuy_bang/[^"]+)"', page)
    assert sorted(links) == sorted(files)  # every file linked once, every link a file
    again, _ = extract_downloads(_two_tables(), "314-kien-thuy.html", "vi")
    assert again == page  # stable from one run to the next


def test_csv_is_the_table_as_shown_with_a_bom():
    inline = _two_tables()
    csv_link = r'download="bang-xep-hang\.csv" href="data:text/csv;base64,([^"]+)"'
    (encoded,) = re.findall(csv_link, inline)
    _, files = extract_downloads(inline, "x.html", "vi")
    csv = files["x_bang/01-bang-xep-hang.csv"]
    assert csv == base64.b64decode(encoded) and csv.startswith(b"\xef\xbb\xbf")
    frame = pd.read_csv(io.BytesIO(csv), dtype=str, encoding="utf-8-sig", keep_default_na=False)
    assert list(frame.columns) == list(SHOWN.columns)  # Vietnamese headers
    assert frame["Mã"].tolist() == ["00314", "313"]  # codes as text, leading zero kept
    assert frame["Đơn vị"].tolist() == ["Kiến Thụy", "An Lão"]  # a link's text, not its markup
    assert frame["Tỷ lệ đúng hạn"].tolist() == ["99,46%", "–"]


def test_xlsx_holds_rates_as_percentages_counts_as_numbers_codes_as_text():
    _, files = extract_downloads(_two_tables(), "x.html", "vi")
    sheet = openpyxl.load_workbook(io.BytesIO(files["x_bang/01-bang-xep-hang.xlsx"])).active
    rows = [[(c.value, c.number_format) for c in row] for row in sheet.iter_rows()]
    assert [v for v, _ in rows[0]] == list(SHOWN.columns)
    assert rows[1] == [
        ("00314", "General"),
        ("Kiến Thụy", "General"),
        (1473, "#,##0"),
        (0.9946, "0.00%"),
        ("+0,4 điểm %", "General"),  # a change in points stays as shown
    ]
    assert rows[2][0] == ("313", "General")  # a code column stays text even when it is digits
    assert rows[2][3] == ("–", "General")  # no data stays "–", never 0
    assert sheet.cell(row=1, column=1).font.b  # a bold header row


@pytest.mark.parametrize(
    ("shown", "lang", "value"),
    [
        ("99,46%", "vi", Percent(0.9946)),
        ("100%", "vi", Percent(1.0)),
        ("−5,00%", "vi", Percent(-0.05)),
        ("99.46%", "en", Percent(0.9946)),
        ("1.473", "vi", 1473),
        ("1,473", "en", 1473),
        ("2,5", "vi", 2.5),
        ("0", "vi", 0),
        ("00314", "vi", "00314"),
        ("012", "vi", "012"),
        ("1.4730", "vi", "1.4730"),
        ("–", "vi", "–"),
        ("0 (0–0)", "vi", "0 (0–0)"),
        ("19,89 / 20", "vi", "19,89 / 20"),
        ("Quý III/2026", "vi", "Quý III/2026"),
    ],
)
def test_shown_values_read_back_in_their_language(shown, lang, value):
    got = shown_value(shown, lang)
    assert got == value and type(got) is type(value)


def test_markup_that_only_looks_like_a_download_is_left_alone():
    fake = '<p class="downloads"><a download="../../x.csv" href="data:">'
    hostile = pd.DataFrame({"Tên": [fake]})
    page = _page(table_html(hostile, caption="../../etc/passwd <b>"))
    out, files = extract_downloads(page, "x.html", "vi")
    assert list(files) == ["x_bang/01-etc-passwd-b.csv", "x_bang/01-etc-passwd-b.xlsx"]
    assert "&lt;p class=&quot;downloads&quot;&gt;" in out  # the cell's text, still escaped
    assert extract_downloads("<p>no table</p>", "x.html", "vi") == ("<p>no table</p>", {})


def test_write_report_replaces_the_tables_folder_and_removes_stale_files(tmp_path):
    stale = tmp_path / "x_bang" / "09-old.csv"
    stale.parent.mkdir()
    stale.write_text("old")
    tables = report_files.write_report(tmp_path, "x.html", _two_tables(), "vi")
    assert len(tables) == 6 and all((tmp_path / t).is_file() for t in tables)
    assert not stale.exists()
    page = (tmp_path / "x.html").read_text(encoding="utf-8")
    for href in re.findall(r'href="([^"]+)"', page):
        if not href.endswith(".html"):
            assert (tmp_path / href).is_file()
    assert report_files.write_report(tmp_path, "x.html", _page("<p>none</p>"), "vi") == []
    assert not (tmp_path / "x_bang").exists()  # a report with no table keeps no folder
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.html"]  # nothing temporary left


def test_a_failed_write_leaves_the_old_report_and_its_tables(tmp_path, monkeypatch):
    report_files.write_report(tmp_path, "x.html", _two_tables(), "vi")
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    calls = []

    def fail_on_third(path: Path, content: bytes) -> None:
        calls.append(path)
        if len(calls) == 3:
            raise OSError("disk full")
        path.write_bytes(content)

    monkeypatch.setattr(report_files, "_write_synced", fail_on_third)
    changed = _two_tables().replace("Kiến Thụy", "Kiến Thụy mới")
    with pytest.raises(OSError, match="disk full"):
        report_files.write_report(tmp_path, "x.html", changed, "vi")
    after = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    assert after == before


def test_a_killed_runs_temporary_table_folders_are_removed(tmp_path):
    left = tmp_path / ".x_bang.123.456.tmp"
    left.mkdir()
    (left / "01-bang.csv").write_text("half")
    (tmp_path / ".x_bang.123.456.old.tmp").mkdir()
    (tmp_path / "x_bang").mkdir()
    assert clean_stale_temporaries(tmp_path) == 2
    assert [p.name for p in tmp_path.iterdir()] == ["x_bang"]


def test_sheet_names_are_ones_excel_accepts():
    from cchc_analysis.reports.xlsx import sheet_name, xlsx_bytes

    assert sheet_name("Quý III/2023") == "Quý III-2023"
    assert sheet_name("a" * 40) == "a" * 31
    book = xlsx_bytes([("Quý III/2023", SHOWN)])
    assert openpyxl.load_workbook(io.BytesIO(book)).sheetnames == ["Quý III-2023"]


def test_workbook_keeps_its_header_in_view_and_columns_readable():
    _, files = extract_downloads(_two_tables(), "x.html", "vi")
    sheet = openpyxl.load_workbook(io.BytesIO(files["x_bang/01-bang-xep-hang.xlsx"])).active
    assert sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["E"].width == len("+0,4 điểm %") + 2
    assert sheet.column_dimensions["A"].width == 12
