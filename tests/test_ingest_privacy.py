"""Personal data never leaves ingest: dropped columns, masked free text, safe rejects."""

from __future__ import annotations

import pandas as pd
import pytest
from ingest_helpers import ingest_cli, rejects, report, rows, write_csv

from cchc_analysis import store
from cchc_analysis.ingest.privacy import mask_text, neutralize_formula, personal_category

NAME, CCCD, PHONE, EMAIL, STREET = (
    "Nguyễn Văn An",
    "001203004567",
    "0912345678",
    "an.nguyen@example.vn",
    "Số 12 ngõ 34 Lê Lợi",
)


@pytest.mark.parametrize(
    ("header", "category"),
    [
        ("Họ tên người nộp", "name"),
        ("HoTenNguoiNop", "name"),
        ("Chủ hồ sơ", "name"),
        ("Số CCCD", "id_number"),
        ("CMND/CCCD", "id_number"),
        ("Số định danh cá nhân", "id_number"),
        ("Số điện thoại", "phone"),
        ("SDT", "phone"),
        ("Email", "email"),
        ("Địa chỉ thường trú", "address"),
        ("diachi", "address"),
        ("Ngày sinh", "birth_date"),
        ("Địa chỉ đơn vị", None),
        ("Mã hồ sơ", None),
        ("Ngày tiếp nhận", None),
        ("Ghi chú", None),
    ],
)
def test_personal_headers(header, category):
    assert personal_category(header) == category


def test_masking_free_text():
    text = f"Gọi {PHONE} hoặc +84 912 345 678, CCCD {CCCD}, CMND 123456789, thư {EMAIL}"
    masked, count = mask_text(text)
    for secret in (PHONE, "912 345 678", CCCD, "123456789", EMAIL):
        assert secret not in masked
    assert count == 5
    # dossier codes, dates and amounts are left alone
    assert mask_text("Hồ sơ 313-220613-0001 ngày 15/08/2023, lệ phí 50.000đ")[1] == 0


def test_formula_prefixes_are_neutralised():
    for value in ("=1+1", "+84", "-5", "@SUM(A1)", "\tx", "\rx"):
        assert neutralize_formula(value) == "'" + value
    assert neutralize_formula("Hộ tịch") == "Hộ tịch" and neutralize_formula(5) == 5


def test_personal_data_reaches_no_output(tmp_path, capsys):
    records = rows(4)
    for record in records:
        record.update(
            {
                "Họ và tên": NAME,
                "Số CCCD": CCCD,
                "Số điện thoại": PHONE,
                "Email": EMAIL,
                "Địa chỉ": STREET,
                "Ghi chú": f"Liên hệ {PHONE}, CCCD {CCCD}",
            }
        )
    records[1]["Ngày tiếp nhận"] = "31/02/2023"  # one reject, so the rejects file has values
    records[2]["Tên TTHC"] = '=HYPERLINK("http://x")'
    records[1]["Ghi chú"] = f"Nộp thay cho bà {NAME} {PHONE}"  # a name no pattern finds
    records[2]["Trạng thái"] = "không rõ"
    records[0]["Tên TTHC"] = f"Chứng thực (gọi {PHONE})"
    out = tmp_path / "out"
    code, stdout, _ = ingest_cli(
        capsys, write_csv(tmp_path / "in.csv", records), "--kind", "dossiers", "--out", out
    )
    assert code == 1
    entry = report(out)["files"][0]
    assert entry["personal_data_columns_dropped"] == [
        "Họ và tên",
        "Số CCCD",
        "Số điện thoại",
        "Email",
        "Địa chỉ",
    ]
    assert "Ghi chú" in entry["ignored_columns"]
    assert "personal data dropped" in stdout
    rejected = rejects(out)
    assert len(rejected) == 2
    assert not {"Họ và tên", "Số CCCD", "Số điện thoại", "Email", "Địa chỉ"} & set(rejected[0])
    # notes and other ignored free text are left out of the rejects: no pattern finds a name
    assert "Ghi chú" not in rejected[0] and "Tên TTHC" in rejected[0]
    assert rejected[1]["Tên TTHC"].startswith("'=HYPERLINK")
    stored = store.read_dossiers(out)
    assert list(stored["procedure_name"])[0] == "Chứng thực (gọi ***)"
    for path in out.rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            for secret in (NAME, CCCD, PHONE, EMAIL, STREET):
                assert secret.encode() not in content, (path, secret)
    assert not set(pd.read_parquet(out / "cube.parquet").columns) & {"Họ và tên", "Email"}


def test_rejects_csv_is_safe_in_a_spreadsheet(tmp_path, capsys):
    """Formula prefixes in headers and cells are neutralised; a CR inside a cell stays inside."""
    import csv

    records = rows(2, **{"Mã đơn vị": "99999"})
    for record in records:
        record['=HYPERLINK("http://x")'] = "x"
    records[0]["Tên TTHC"] = "\r=A1"
    records[1]["Tên TTHC"] = "dòng 1\ndòng 2"
    path = tmp_path / "in.csv"
    pd.DataFrame(records).to_csv(path, index=False, lineterminator="\r\n")  # CR quoted
    out = tmp_path / "out"
    assert ingest_cli(capsys, path, "--kind", "dossiers", "--out", out)[0] == 1
    with open(out / "rejects" / "dossiers.csv", encoding="utf-8-sig", newline="") as handle:
        table = list(csv.reader(handle))
    assert len(table) == 3
    cells = [cell for row in table for cell in row]
    assert not [c for c in cells if c.startswith(("=", "+", "-", "@", "\t", "\r"))]
    assert not [h for h in table[0] if "HYPERLINK" in h]  # an ignored column: left out
    assert "'\r=A1" in cells and "dòng 1\ndòng 2" in cells
    # a second run reads the file back and keeps its columns
    other = write_csv(tmp_path / "other.csv", rows(1, 9, **{"Mã đơn vị": "99999"}))
    ingest_cli(capsys, other, "--kind", "dossiers", "--out", out)
    assert len(rejects(out)) == 3
