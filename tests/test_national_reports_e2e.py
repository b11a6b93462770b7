"""A national-format export without fee, digitisation or rating columns renders every report.

Issue 12's "Done when": a one-stop system's sync record (MaHoSo, MaTTHC, NgayTiepNhan,
TrangThaiHoSo, KenhThucHien, MucDo …) for three new communes of Hải Phòng in 2025-Q3, with no
HoSoCoThanhPhanSoHoa, DuocThanhToanTrucTuyen, fee or rating column, a totals line at its foot,
refused and registered-only dossiers, ingested as `cchc ingest --as-of` and rendered by
`cchc report` (real papermill and nbconvert). Every report renders; the indicators those columns
feed read "không có dữ liệu", never 0 % nor "Chưa đạt"; the titles say the snapshot's date.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from conftest import run_cchc
from ingest_helpers import write_csv

pytestmark = pytest.mark.e2e

COMMUNES = ("11443", "11680", "10972")  # Phường Kiến An, Xã Kiến Thụy, Xã Đường An (2025)
FIELDS = (
    ("1.001193", "Đăng ký khai sinh", "Hộ tịch"),
    ("1.004227", "Chứng thực bản sao", "Chứng thực"),
)


def _stamp(day: datetime) -> str:
    return day.strftime("%d/%m/%Y %H:%M:%S")


def _export(rng: np.random.Generator) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    start = datetime(2025, 7, 1, 8, 0)
    for commune in COMMUNES:
        for i in range(60):
            received = start + timedelta(days=int(rng.integers(0, 88)), hours=int(i % 7))
            due = received + timedelta(days=int(rng.integers(2, 10)))
            procedure, name, field = FIELDS[i % 2]
            status = int(rng.choice([10, 10, 10, 9, 4, 2, 3, 1]))
            closed = received + timedelta(days=int(rng.integers(0, 12)))
            rows.append(
                {
                    "MaHoSo": f"H15.{commune}-{i:04d}",
                    "MaDonViTiepNhan": commune,
                    "MaTTHC": procedure,
                    "TenTTHC": name,
                    "TenLinhVuc": field,
                    "NgayNopHoSo": _stamp(received),
                    "NgayTiepNhan": "" if status in (1, 3) else _stamp(received),
                    "NgayHenTra": "" if status in (1, 3) else _stamp(due),
                    "NgayKetThucXuLy": _stamp(closed) if status in (9, 10) else "",
                    "TrangThaiHoSo": str(status),
                    "KenhThucHien": str(rng.choice([1, 2])),
                    "MucDo": str(rng.choice([2, 3, 4])),
                }
            )
    rows.append({"MaHoSo": f"Tổng cộng: {len(rows)} hồ sơ"})  # the list's foot line
    return rows


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> tuple[Path, Path, dict]:
    root = tmp_path_factory.mktemp("national-reports")
    export = root / "dong-bo-quoc-gia-2025-09.csv"
    write_csv(export, _export(np.random.default_rng(12)))
    data, out = root / "data", root / "reports"
    ingest = run_cchc(
        "ingest", str(export), "--kind", "dossiers", "--out", str(data), "--province", "31",
        "--as-of", "2025-10-05", check=False,
    )  # fmt: skip
    assert ingest.returncode == 0, ingest.stdout + ingest.stderr
    run_cchc(
        "report", "--data", str(data), "--period", "2025-Q3", "--units", "all",
        "--out", str(out), "--workers", "2",
    )  # fmt: skip
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    account = json.loads((data / "ingest_report.json").read_text(encoding="utf-8"))
    return out, data, {"manifest": manifest, "account": account}


def _text(path: Path) -> str:
    html = path.read_text(encoding="utf-8")
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_export_is_read_whole(rendered):
    _, _, info = rendered
    account = info["account"]
    assert account["rows_read"] == account["rows_accepted"] == 3 * 60
    assert account["non_data_rows_skipped"] == 1  # the totals line


def test_every_report_renders(rendered):
    out, _, info = rendered
    reports = info["manifest"]["reports"]
    statuses = {r["unit_code"]: r["status"] for r in reports}
    assert set(COMMUNES) <= set(statuses), statuses
    assert all(s == "ok" for s in statuses.values()), statuses
    assert (out / "index.html").exists()
    assert list(out.glob("province-31-*.html"))


@pytest.mark.parametrize("commune", COMMUNES)
def test_missing_columns_read_no_data(rendered, commune):
    out, _, _ = rendered
    [page] = out.glob(f"{commune}-*.html")
    text = _text(page)
    assert "Số liệu tính đến ngày 05/10/2025" in text
    assert text.lower().count("không có dữ liệu") >= 3  # digitised, paid online, satisfaction
    for label in ("Tỷ lệ số hóa hồ sơ", "Tỷ lệ thanh toán trực tuyến"):
        at = text.find(label)
        assert at >= 0, label
        near = text[at : at + 160]
        assert "0,00%" not in near and "Chưa đạt" not in near, near
