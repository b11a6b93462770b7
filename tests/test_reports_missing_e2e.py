"""End to end on exports that lack an optional column each (issue 12 §2): real papermill and
nbconvert renders of district reports, new communes' reports, the province overviews and the
index pages, from one folder whose units' exports each lack a different column
(tests/missing_columns_fixture.py), with no survey at all and, in 2024-Q1, no previous period.

Every report renders; an indicator without data reads "không có dữ liệu" with its reason, never
0,00%, and has no target badge; the 766 estimate names the criteria it left out."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import _built_once, run_cchc
from missing_columns_fixture import MISSING, NO_DATA_RATES, write_bare_export

from cchc_analysis.reports.formatting import label

pytestmark = pytest.mark.e2e

ZERO_RATE = re.compile(r"(?<![\d.,])0,00%")  # 0,00% itself, not 100,00%

DISTRICTS = {"313": "313-an-lao.html", "314": "314-kien-thuy.html"}
COMMUNES = {
    "11680": "11680-kien-thuy.html",
    "11629": "11629-an-lao.html",
    "11635": "11635-an-truong.html",
    "11647": "11647-an-quang.html",
    "11668": "11668-an-khanh.html",
}
# The 766 component of each rate (data/index766.yaml), as the index section names it.
COMPONENTS = {
    "online_rate": "Dịch vụ công trực tuyến",
    "online_payment_rate": "Thanh toán trực tuyến",
    "digitization_rate": "Số hóa hồ sơ",
    "satisfaction_rate": "Mức độ hài lòng",
}
CARD_RATES = {  # the scorecard shows these
    "online_rate",
    "digitization_rate",
    "online_payment_rate",
    "satisfaction_rate",
}


@pytest.fixture(scope="module")
def rendered(missing_columns_dir, tmp_path_factory) -> Path:
    """2024-Q1 (first quarter of the data): both districts, the overview and the index; and
    2026-Q3: five new communes, each lacking a column, with their overview and index."""

    def build(path: Path) -> None:
        data = str(missing_columns_dir)
        run_cchc(
            "report", "--data", data, "--period", "2024-Q1", "--units", "all",
            "--out", str(path / "2024-Q1"), "--workers", "2",
        )  # fmt: skip
        run_cchc(
            "report", "--data", data, "--period", "2026-Q3", "--units", ",".join(COMMUNES),
            "--out", str(path / "2026-Q3"), "--workers", "2",
        )  # fmt: skip

    return _built_once(tmp_path_factory, "missing-columns-reports", build)


def _text(page: str) -> str:
    page = re.sub(r"<(style|script)[^>]*>.*?</\1>", " ", page, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))


def _page(rendered: Path, period: str, name: str) -> str:
    return (rendered / period / name).read_text(encoding="utf-8")


def _card(page: str, title: str) -> str:
    """The markup of the KPI card titled ``title`` ('' when there is none)."""
    start = page.find(f'<div class="card-label">{title}</div>')
    if start < 0:
        return ""
    end = page.find('<div class="card">', start)
    return page[start : end if end > 0 else start + 2000]


def _section(page: str, anchor: str) -> str:
    start = page.index(f'id="{anchor}"')
    end = page.find("<h2", start + 10)
    return page[start : end if end > 0 else len(page)]


def _cases() -> list[tuple[str, str, str]]:
    cases = [("2024-Q1", DISTRICTS[u], u) for u in DISTRICTS]
    return cases + [("2026-Q3", COMMUNES[u], u) for u in COMMUNES]


def test_every_report_renders(rendered):
    for period, files in (("2024-Q1", DISTRICTS), ("2026-Q3", COMMUNES)):
        manifest = json.loads((rendered / period / "manifest.json").read_text(encoding="utf-8"))
        status = {r["file"]: r["status"] for r in manifest["reports"]}
        assert status == {**{f: "ok" for f in files.values()}, "province-31-hai-phong.html": "ok"}
        index = _page(rendered, period, "index.html")
        assert all(f'href="{f}"' in index for f in files.values())


@pytest.mark.parametrize(("period", "file", "unit"), _cases())
def test_an_indicator_without_data_says_so_and_why(rendered, period, file, unit):
    page = _page(rendered, period, file)
    text = _text(page)
    for column in MISSING[unit]:
        for rate in NO_DATA_RATES[column]:
            title = label(rate, "vi")
            if rate in CARD_RATES:
                card = _card(page, title)
                assert "Không có dữ liệu" in card, (rate, card)
                reason = "chưa ai đánh giá" if rate == "satisfaction_rate" else "không có cột"
                assert reason in card
                assert "badge" not in card and "Chưa đạt" not in card
                assert not ZERO_RATE.search(card)
            for match in re.finditer(re.escape(title), text):
                after = text[match.end() : match.end() + 40]
                assert not ZERO_RATE.search(after), (rate, file, after)
            if rate in COMPONENTS:
                index = _text(_section(page, "index"))
                assert "Chưa tính, vì không có dữ liệu" in index and COMPONENTS[rate] in index
                row = index[index.rindex(COMPONENTS[rate]) :][:60]
                assert "Không có dữ liệu" in row and "0,00 /" not in row
    assert "Khảo sát người dân: không có dữ liệu" in text  # the folder has no survey


def test_a_first_period_has_nothing_to_compare_with(rendered):
    text = _text(_page(rendered, "2024-Q1", DISTRICTS["314"]))
    assert "So với kỳ trước: —" in text and "So với cùng kỳ năm trước: —" in text
    counts = _text(_section(_page(rendered, "2024-Q1", DISTRICTS["314"]), "counts"))
    assert "Quý I/2024" in counts and "Quý IV/2023" not in counts


def test_absent_channel_and_field_are_shown_as_unknown(rendered):
    channel = _page(rendered, "2026-Q3", COMMUNES["11647"])
    counts = _text(_section(channel, "counts"))
    assert re.search(r"Trực tuyến — — —", counts)  # no 0 online dossiers either
    field = _text(_section(_page(rendered, "2026-Q3", COMMUNES["11668"]), "processing-time"))
    assert "Không rõ lĩnh vực" in field
    partly = _text(_section(_page(rendered, "2024-Q1", DISTRICTS["313"]), "counts"))
    assert "bưu chính: tính trên" in partly  # an old commune of 313 gave no channel
    e_result = _text(_page(rendered, "2026-Q3", COMMUNES["11629"]))
    # The folder names no applicant's home unit: that sentence says so (tests/test_out_of_area.py)
    e_result = re.sub(r"Hồ sơ của người dân ngoài địa bàn [^.]*\.", "", e_result)
    assert "không có dữ liệu (" not in e_result.split("Khảo sát người dân")[0]  # unused column


def test_the_overview_rates_the_units_with_data_and_says_over_how_many(rendered):
    page = _page(rendered, "2024-Q1", "province-31-hai-phong.html")
    card = _text(_card(page, label("digitization_rate", "vi")))
    assert "Tính trên" in card and "hồ sơ có thông tin" in card
    index = _text(_section(page, "index"))
    assert "Kiến Thụy (Số hóa hồ sơ)" in index and "An Lão (Thanh toán trực tuyến)" in index
    league = _text(_section(page, "league"))
    assert not ZERO_RATE.search(league)
    communes = _text(_page(rendered, "2026-Q3", "province-31-hai-phong.html"))
    assert "An Quang (Dịch vụ công trực tuyến)" in communes
    assert "An Trường (Mức độ hài lòng)" in communes


def test_an_ingested_export_without_optional_columns_renders(tmp_path):
    """The issue's case: ingest an export lacking fee, digitisation and rating, then report."""
    data = tmp_path / "data"
    run_cchc(
        "ingest",
        "--kind",
        "dossiers",
        str(write_bare_export(tmp_path / "x.csv")),
        "--out",
        str(data),
    )
    out = tmp_path / "out"
    args = ("--period", "2023-Q3", "--units", "314", "--out", str(out), "--workers", "1")
    run_cchc("report", "--data", str(data), *args)
    page = (out / "314-kien-thuy.html").read_text(encoding="utf-8")
    for rate in ("digitization_rate", "online_payment_rate", "satisfaction_rate"):
        card = _card(page, label(rate, "vi"))
        assert "Không có dữ liệu" in card and "badge" not in card, rate
    assert not ZERO_RATE.search(_text(page))
    assert "province-31-hai-phong.html" in (out / "index.html").read_text(encoding="utf-8")
