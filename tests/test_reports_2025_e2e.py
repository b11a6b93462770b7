"""End to end on the units of the 2025 reform: real papermill and nbconvert renders of a new
commune's report, the province overview of its communes and provincial offices, a former
district's report, and a pre-reform district report from the same folder."""

import json
import re
from pathlib import Path

import pytest
from conftest import run_cchc

from cchc_analysis.batch.plan import plan_jobs
from cchc_analysis.core.periods import parse_period

pytestmark = pytest.mark.e2e

UNIT_HEADINGS = (
    "Tóm tắt",
    "Chỉ số chính",
    "Số liệu theo Biểu 06",
    "Khối lượng hồ sơ",
    "Tiến độ giải quyết",
    "Thời gian giải quyết",
    "Dịch vụ công trực tuyến",
    "Mức độ hài lòng",
    "Vị trí trong thành phố",  # Hải Phòng is a centrally-run city
    "Phương pháp và nguồn dữ liệu",
)


def _text(page: str) -> str:
    page = re.sub(r"<(style|script)[^>]*>.*?</\1>", " ", page, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))


def _render(reform_dir: Path, out: Path, *args: str) -> dict:
    run_cchc("report", "--data", str(reform_dir), "--out", str(out), "--workers", "1", *args)
    return json.loads((out / "manifest.json").read_text(encoding="utf-8"))


def test_plan_defaults_to_new_communes_from_july_2025(reform_dir):
    jobs = plan_jobs(reform_dir, parse_period("2026-Q3"), unit_codes=None, lang="vi", tier="both")
    communes = [j for j in jobs if j.kind == "commune"]
    assert len(communes) == 10 and all(len(j.unit_code) == 5 for j in communes)
    assert "11680-kien-thuy.html" in {j.html_name for j in communes}
    assert [j.html_name for j in jobs if j.kind == "province"] == ["province-31-hai-phong.html"]
    before = plan_jobs(reform_dir, parse_period("2025-Q2"), unit_codes=None, lang="vi", tier="both")
    assert [j.html_name for j in before] == [
        "313-an-lao.html",
        "314-kien-thuy.html",
        "province-31-hai-phong.html",
    ]
    assert "level" not in before[0].parameters  # pre-reform jobs are planned as before


def test_commune_report_and_overview(reform_dir, tmp_path):
    out = tmp_path / "commune"
    manifest = _render(reform_dir, out, "--period", "2026-Q3", "--units", "11680")
    assert {r["file"]: r["status"] for r in manifest["reports"]} == {
        "11680-kien-thuy.html": "ok",
        "province-31-hai-phong.html": "ok",
    }
    page = _text((out / "11680-kien-thuy.html").read_text(encoding="utf-8"))
    for heading in UNIT_HEADINGS:
        assert heading in page
    assert "Các xã, thị trấn" not in page  # a commune has no communes section
    assert "Xã Kiến Thụy — Thành phố Hải Phòng" in page
    assert "hồ sơ do xã tiếp nhận" in page  # worded by the unit's type
    assert "Xã xếp thứ" in page and "xã, phường, đặc khu về tỷ lệ đúng hạn" in page
    assert "của tỉnh" not in page.split("Quy tắc đếm")[0]  # Hải Phòng is a city, not a "tỉnh"
    overview = _text((out / "province-31-hai-phong.html").read_text(encoding="utf-8"))
    assert "Bảng xếp hạng các xã, phường, đặc khu" in overview
    for name in ("Kiến Thụy", "An Lão", "Kiến Hải", "Nghi Dương"):
        assert name in overview
    assert "Cơ quan cấp tỉnh" in overview  # the province's own offices, one row
    index = (out / "index.html").read_text(encoding="utf-8")
    for name in ("11680-kien-thuy.html", "province-31-hai-phong.html"):
        assert f'href="{name}"' in index
    assert "Các xã, phường, đặc khu" in index


def test_former_district_report_says_it_sums_new_communes(reform_dir, tmp_path):
    out = tmp_path / "former"
    args = ("--period", "2026-Q3", "--level", "district", "--units", "314")
    manifest = _render(reform_dir, out, *args)
    assert [r["status"] for r in manifest["reports"]] == ["ok", "ok"]
    page = _text((out / "314-kien-thuy.html").read_text(encoding="utf-8"))
    first_screen = page[: page.index("Mục lục")]
    assert "Địa bàn huyện Kiến Thụy cũ" in first_screen
    assert "xã, phường mới trên địa bàn" in first_screen
    assert ">Các xã<" in (out / "314-kien-thuy.html").read_text(encoding="utf-8")  # new communes
    index = (out / "index.html").read_text(encoding="utf-8")
    assert 'href="314-kien-thuy.html"' in index and "Địa bàn các huyện cũ" in index


def test_pre_reform_district_report_keeps_its_structure(reform_dir, tmp_path):
    out = tmp_path / "district"
    manifest = _render(reform_dir, out, "--period", "2025-Q2", "--units", "314")
    assert {r["file"] for r in manifest["reports"]} == {
        "314-kien-thuy.html",
        "province-31-hai-phong.html",
    }
    page = _text((out / "314-kien-thuy.html").read_text(encoding="utf-8"))
    for heading in (*UNIT_HEADINGS, "Các xã, thị trấn"):
        assert heading in page
    assert "Huyện Kiến Thụy — Thành phố Hải Phòng" in page
    first_screen = page[: page.index("Mục lục")]
    assert "Địa bàn huyện" not in first_screen and "Báo cáo cấp xã" not in first_screen
    overview = _text((out / "province-31-hai-phong.html").read_text(encoding="utf-8"))
    assert "Bảng xếp hạng các đơn vị cấp huyện" in overview and "Cơ quan cấp tỉnh" not in overview
