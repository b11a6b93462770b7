"""End to end: real papermill executes the notebooks, real nbconvert renders the HTML."""

import json
import re
import subprocess
from pathlib import Path

import pytest
from conftest import BIN, run_cchc

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def vi_run(province_reports):
    """The shared 2023-Q3 render (conftest.province_reports): `cchc report --units all`."""
    return province_reports, None


def test_run_writes_reports_index_and_manifest(vi_run):
    out, proc = vi_run
    names = sorted(p.name for p in out.glob("*.html"))
    assert names == [
        "313-an-lao.html",
        "314-kien-thuy.html",
        "index.html",
        "province-31-hai-phong.html",
    ]
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["period"] == "2023-Q3"
    assert {r["unit_code"]: r["status"] for r in manifest["reports"]} == {
        "313": "ok",
        "314": "ok",
        "31": "ok",
    }
    assert all(r["seconds"] > 0 and r["error"] is None for r in manifest["reports"])
    assert not (out / "failed").exists() or not any((out / "failed").iterdir())
    index = (out / "index.html").read_text(encoding="utf-8")
    for name in names:
        if name != "index.html":
            assert f'href="{name}"' in index
    assert "1.473" not in index  # both tiers by default: district + communes
    assert "Kiến Thụy" in index and "An Lão" in index
    # The run loaded the first report's province-wide tables while its kernels started.
    log = (out / manifest["log"]).read_text(encoding="utf-8")
    assert re.search(r"\d{3}-[a-z-]+\.html: province-wide tables loaded ahead in", log), log


def test_district_report_content_vietnamese(vi_run):
    out, _ = vi_run
    page = (out / "314-kien-thuy.html").read_text(encoding="utf-8")
    for heading in (
        "Tóm tắt",
        "Chỉ số chính",
        "Số liệu theo Biểu 06",
        "Khối lượng hồ sơ",
        "Tiến độ giải quyết",
        "Thời gian giải quyết",
        "Dịch vụ công trực tuyến",
        "Mức độ hài lòng",
        "Các xã, thị trấn",
        "Vị trí trong thành phố",  # Hải Phòng is a centrally-run city
        "Ước tính Bộ chỉ số (QĐ 766)",
        "Phương pháp và nguồn dữ liệu",
    ):
        assert heading in page, heading
    # the table of contents points at anchors that exist
    for anchor in re.findall(r'<a href="#([^"]+)"', page):
        assert f'id="{anchor}"' in page, anchor
    # summary of 3-6 sentences, target badges with words, an estimate labelled as such
    summary = page.split('<ul class="summary sheet-part">')[1].split("</ul>")[0]
    assert 3 <= summary.count("<li>") <= 6
    assert "Đạt mục tiêu" in page or "Chưa đạt" in page
    assert "ƯỚC TÍNH" in page and "Không phải điểm chính thức" in page
    assert "Quy tắc đếm" in page  # the methodology closes the report
    assert "95%" in page and "Kaplan" in page and "phễu" in page
    assert len(page.encode("utf-8")) <= 1.5 * 1024 * 1024
    assert "Huyện Kiến Thụy" in page and "Quý III/2023" in page
    # both tiers: 1.473 + 19.497 received; Vietnamese grouping and decimal comma
    assert "20.970" in page
    assert re.search(r"\d+,\d{2}%", page)
    assert "So với cùng kỳ năm trước" in page
    # no code, no prompts, nothing from another host, every chart inline with alt text
    assert "UnitReport.load" not in page and "jp-InputPrompt" not in page
    assert "remove-in-report" not in page and "papermill" not in page.lower()
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
    images = re.findall(r"<img [^>]*>", page)
    assert len(images) >= 5
    assert all('src="data:image/svg+xml;base64,' in img and 'alt="' in img for img in images)
    assert '<html lang="vi"' in page


def test_commune_table_lists_all_16_communes(vi_run):
    out, _ = vi_run
    page = (out / "314-kien-thuy.html").read_text(encoding="utf-8")
    section = page.split('id="communes"')[1].split('id="position"')[0]
    table = section.split("<table")[1].split("</table>")[0]
    assert table.count("<tr") == 16 + 1  # header + one row per commune


def test_english_report_single_unit(prepared_dir, tmp_path):
    out = tmp_path / "en"
    run_cchc(
        "report",
        "--data",
        str(prepared_dir),
        "--period",
        "2023-07-01:2023-09-30",
        "--units",
        "314",
        "--out",
        str(out),
        "--lang",
        "en",
        "--tier",
        "district",
    )
    page = (out / "314-kien-thuy.html").read_text(encoding="utf-8")
    assert "Key indicators" in page and "Timeliness" in page and "Summary" in page
    assert 'id="communes"' not in page  # district offices only: no commune section
    assert "ESTIMATE" in page and "Counting rules" in page
    assert "1,473" in page and "99.46%" in page and "99.25%" in page
    assert '<html lang="en"' in page
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "314-kien-thuy.html" in index and "313-an-lao.html" not in index


def test_failure_is_recorded_and_exit_code_nonzero(prepared_dir, tmp_path):
    out = tmp_path / "old"
    proc = run_cchc(
        "report",
        "--data",
        str(prepared_dir),
        "--period",
        "2019-Q1",
        "--units",
        "314",
        "--out",
        str(out),
        "--workers",
        "1",
        check=False,
    )
    assert proc.returncode == 1
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    failed = [r for r in manifest["reports"] if r["status"] == "failed"]
    assert failed and all(r["error"] for r in failed)
    assert any("no dossiers" in r["error"] for r in failed)
    assert (out / "failed").is_dir() and any((out / "failed").glob("*.ipynb"))
    assert (out / "index.html").exists()


def test_plain_papermill_cli_runs_the_notebook(prepared_dir, tmp_path):
    out = tmp_path / "out.ipynb"
    proc = subprocess.run(
        [
            str(BIN / "papermill"),
            str(ROOT / "notebooks" / "district_report.ipynb"),
            str(out),
            "-p",
            "unit_code",
            "314",
            "-p",
            "period",
            "2023-Q3",
            "-p",
            "data_dir",
            str(prepared_dir),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    executed = json.loads(out.read_text(encoding="utf-8"))
    html_outputs = [
        "".join(o["data"]["text/html"])
        for c in executed["cells"]
        if c["cell_type"] == "code"
        for o in c.get("outputs", [])
        if "text/html" in o.get("data", {})
    ]
    assert any("Kiến Thụy" in h for h in html_outputs)
    help_text = subprocess.run(
        [
            str(BIN / "papermill"),
            "--help-notebook",
            str(ROOT / "notebooks" / "district_report.ipynb"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    for name in ("unit_code", "period", "data_dir", "lang", "tier"):
        assert name in help_text
    assert "GSO code of the district" in help_text


def test_notebooks_are_committed_without_outputs():
    for path in (ROOT / "notebooks").glob("*.ipynb"):
        nb = json.loads(path.read_text(encoding="utf-8"))
        assert nb["metadata"]["kernelspec"]["name"] == "cchc-workbook"
        for cell in nb["cells"]:
            if cell["cell_type"] == "code":
                assert not cell["outputs"] and cell["execution_count"] is None, path
            if cell["cell_type"] == "code" and "parameters" in cell["metadata"].get("tags", []):
                # papermill cannot parse a parameter line holding a second "=" (in its help)
                lines = "".join(cell["source"]).splitlines()
                assert lines and all(line.count("=") == 1 for line in lines), path
