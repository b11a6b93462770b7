"""Files as a province's staff make them: totals and signature lines at the foot of a dossier
list, personal data kept out of the rejects file, the unit of a Biểu 06 sheet read from its
title block."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from ingest_helpers import BASE_ROW, ingest_cli, rejects, report, rows, write_xlsx

from cchc_analysis.ingest.foot import HELD_ROWS, FootLines, is_marker_text

SIGNERS = ("Nguyễn Văn Tèo", "Trần Thị Bưởi")
HEADERS = list(BASE_ROW)


def _foot(width: int) -> list[list[str]]:
    """The foot of a list as staff type it: totals, place and date, titles, names."""

    def line(*cells: str, at: int = 0) -> list[str]:
        out = [""] * width
        for i, cell in enumerate(cells):
            out[at + i * 4] = cell
        return out

    return [
        [""] * width,
        line("Tổng cộng: 5 hồ sơ"),
        line("Hải Phòng, ngày 05 tháng 10 năm 2025", at=4),
        line("Người lập biểu", "Thủ trưởng đơn vị"),
        line("(Ký, ghi rõ họ tên)", "(Ký, ghi rõ họ tên)"),
        [""] * width,
        line(*SIGNERS),
    ]


def _csv_text(records: list[list[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HEADERS)
    writer.writerows(records)
    return buffer.getvalue()


def _body(n: int = 5) -> list[list[str]]:
    return [[r[h] for h in HEADERS] for r in rows(n)]


def _everything_written(out: Path, printed: str) -> str:
    texts = [printed]
    for path in out.rglob("*"):
        if path.is_file() and path.suffix in (".csv", ".json", ".txt", ".log"):
            texts.append(path.read_text(encoding="utf-8-sig"))
        elif path.is_file() and path.suffix == ".parquet":
            texts.append(pd.read_parquet(path).to_csv())
    return "\n".join(texts)


@pytest.mark.parametrize(
    ("text", "is_marker"),
    [
        ("Tổng cộng: 300 hồ sơ", True),
        ("TỔNG SỐ", True),
        ("Cộng", True),
        ("Cộng: 12", True),
        ("Người lập biểu", True),
        ("THỦ TRƯỞNG ĐƠN VỊ", True),
        ("(Ký, ghi rõ họ tên)", True),
        ("Hải Phòng, ngày 05 tháng 10 năm 2025", True),
        ("Kiến Thụy, ngày 5 tháng 1 năm 2024", True),
        ("Tong cong", True),  # diacritics lost
        ("Công chứng bản sao", False),  # "cong" is also a word of procedure names
        ("Cộng đồng dân cư", False),
        ("H-0001", False),
        ("Nguyễn Văn Tèo", False),  # a name alone is foot only under a marker
        ("", False),
    ],
)
def test_foot_markers(text, is_marker):
    assert is_marker_text(text) is is_marker


def test_csv_foot_lines_are_counted_not_rejected(tmp_path, capsys):
    source = tmp_path / "hoso.csv"
    source.write_text(_csv_text(_body() + _foot(len(HEADERS))), encoding="utf-8")
    out = tmp_path / "out"
    code, printed, err = ingest_cli(capsys, source, "--kind", "dossiers", "--out", out)
    assert code == 0, err
    found = report(out)
    assert (found["rows_read"], found["rows_accepted"], found["rows_rejected"]) == (5, 5, 0)
    assert found["non_data_rows_skipped"] == 5  # totals, date, titles, signing line, names
    assert found["files"][0]["non_data_rows"] == [8, 9, 10, 11, 13]
    assert "5 totals/signature lines skipped" in printed
    written = _everything_written(out, printed + err)
    for text in (*SIGNERS, "Người lập biểu", "Tổng cộng"):
        assert text not in written


def test_xlsx_foot_lines_are_counted_not_rejected(tmp_path, capsys):
    records = rows(5)
    source = write_xlsx(tmp_path / "hoso.xlsx", records, above=["DANH SÁCH HỒ SƠ"])
    from openpyxl import load_workbook

    workbook = load_workbook(source)
    sheet = workbook.active
    for line in _foot(len(HEADERS)):
        sheet.append([cell or None for cell in line])
    workbook.save(source)
    out = tmp_path / "out"
    code, printed, err = ingest_cli(capsys, source, "--kind", "dossiers", "--out", out)
    assert code == 0, err
    found = report(out)
    assert (found["rows_read"], found["rows_accepted"], found["non_data_rows_skipped"]) == (5, 5, 5)
    written = _everything_written(out, printed + err)
    assert not any(name in written for name in SIGNERS)


def test_real_rows_are_never_swallowed(tmp_path, capsys):
    """A dossier without an id inside the list or at its very end (no marker above it) is
    rejected with its reason; a subtotal line inside the list is skipped; a dossier whose
    procedure name starts like a marker is a dossier."""
    width = len(HEADERS)
    body = _body(6)
    body[1][HEADERS.index("Mã hồ sơ")] = ""  # missing id, inside the list
    body[3][HEADERS.index("Tên TTHC")] = "Tổng số hóa hồ sơ"  # marker-like text, full row
    subtotal = [""] * width
    subtotal[0] = "Cộng: 3"
    last = _body(7)[6]
    last[HEADERS.index("Mã hồ sơ")] = ""  # the last line of the file: a dossier without id
    source = tmp_path / "hoso.csv"
    source.write_text(_csv_text([*body[:3], subtotal, *body[3:], last]), encoding="utf-8")
    out = tmp_path / "out"
    code, _, err = ingest_cli(capsys, source, "--kind", "dossiers", "--out", out)
    assert code == 1, err
    found = report(out)
    assert (found["rows_read"], found["rows_accepted"], found["rows_rejected"]) == (7, 5, 2)
    assert found["non_data_rows_skipped"] == 1
    assert [r["row"] for r in rejects(out)] == ["3", "9"]


def test_names_under_the_signatures_after_the_last_chunk(tmp_path, capsys, monkeypatch):
    """Foot lines split across chunks of the stream are found all the same."""
    from cchc_analysis.ingest import tabular

    monkeypatch.setattr(tabular, "CHUNK_ROWS", 3)
    source = tmp_path / "hoso.csv"
    source.write_text(_csv_text(_body(7) + _foot(len(HEADERS))), encoding="utf-8")
    out = tmp_path / "out"
    code, _, err = ingest_cli(capsys, source, "--kind", "dossiers", "--out", out)
    assert code == 0, err
    found = report(out)
    assert (found["rows_accepted"], found["non_data_rows_skipped"]) == (7, 5)


# --- the unit of a Biểu 06 sheet from its title block -------------------------------------------

FIELD_ROWS = """STT;Lĩnh vực;Tổng số hồ sơ tiếp nhận;Tiếp nhận trực tuyến;Tiếp nhận trực tiếp;\
Tồn kỳ trước;Đã giải quyết trước hạn;Đã giải quyết đúng hạn;Đã giải quyết quá hạn;\
Đang giải quyết trong hạn;Đang giải quyết quá hạn
1;Hộ tịch;1.200;1.100;95;5;1.190;3;2;5;0
2;Đất đai;300;250;48;2;280;10;5;4;1
;Tổng cộng;1.500;1.350;143;7;1.470;13;7;9;1
;;;;;;Người lập biểu;;;;
;;;;;;Lê Văn Ký;;;;
"""


def _field_sheet(tmp_path: Path, *title: str) -> Path:
    """A Biểu 06 by field of one unit: no unit column, the unit only in the title block."""
    path = tmp_path / "bieu06.csv"
    path.write_text("\n".join(title) + "\n" + FIELD_ROWS, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("title", "period", "unit_code", "era"),
    [
        ("Đơn vị báo cáo: UBND huyện Cần Giuộc", "2024-Q3", "807", "2024"),  # Long An
        ("UBND HUYỆN KIẾN THỤY", "2023-Q3", "314", "2024"),
        ("UBND XÃ KIẾN THỤY", "2025-Q3", "11680", "2025"),
        ("ỦY BAN NHÂN DÂN PHƯỜNG KIẾN AN", "2025-Q4", "11443", "2025"),
    ],
)
def test_bieu06_unit_from_its_title(tmp_path, capsys, title, period, unit_code, era):
    source = _field_sheet(tmp_path, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", title, "BÁO CÁO")
    out = tmp_path / "out"
    code, printed, err = ingest_cli(
        capsys, source, "--kind", "period-report", "--out", out, "--period", period
    )
    assert code == 0, err
    stored = pd.read_parquet(out / "period_reports.parquet")
    assert set(stored["unit_code"].astype(str)) == {unit_code}
    assert len(stored) == 2 and set(stored["field"]) == {"Hộ tịch", "Đất đai"}
    entry = report(out)["files"][0]
    assert entry["unit_from_title"]["unit_code"] == unit_code
    assert "Lê Văn Ký" not in printed + err + (out / "ingest_report.json").read_text("utf-8")


def test_bieu06_title_unit_and_option(tmp_path, capsys):
    source = _field_sheet(tmp_path, "Đơn vị báo cáo: UBND huyện Kiến Thụy")
    args = ("--kind", "period-report", "--period", "2023-Q3")
    same = ingest_cli(capsys, source, *args, "--out", tmp_path / "a", "--unit", "314")
    assert same[0] == 0, same[2]
    code, _, err = ingest_cli(capsys, source, *args, "--out", tmp_path / "b", "--unit", "313")
    assert code == 2 and not (tmp_path / "b").exists()
    assert len(err.strip().splitlines()) == 1
    assert "--unit 313 contradicts the title's unit 'UBND huyện Kiến Thụy'" in err
    # the recipient is not the reporter: no unit, so --unit is asked for
    recipient = _field_sheet(tmp_path, "Đơn vị nhận báo cáo: UBND thành phố Hải Phòng")
    code, _, err = ingest_cli(capsys, recipient, *args, "--out", tmp_path / "c")
    assert code == 2 and "--unit" in err
    unknown = _field_sheet(tmp_path, "Đơn vị báo cáo: UBND xã Không Có Thật")
    code, _, err = ingest_cli(capsys, unknown, *args, "--out", tmp_path / "d")
    assert code == 2 and "title's unit 'UBND xã Không Có Thật' is not resolved" in err


def _chunks(lines: list[list[str]], size: int):
    frame = pd.DataFrame(lines, dtype=object)
    rows = np.arange(2, 2 + len(frame))
    for start in range(0, len(frame), size):
        yield frame.iloc[start : start + size], rows[start : start + size]


@pytest.mark.parametrize("size", [1, 2, 50])
def test_foot_filter_keeps_order_and_holds_only_under_a_marker(size):
    data = ["H-1", "01/07/2023", "x"]
    lines = [
        data,
        ["", "02/07/2023", "no id"],  # a dossier without id: kept for validation
        data,
        ["Cộng: 2", "", ""],  # a subtotal inside the list: skipped
        data,
        ["", "", "no id, no date"],  # after the last dossier, above the foot: kept
        ["Tổng cộng: 3 hồ sơ", "", ""],
        ["", "", "Người lập biểu"],
        ["Nguyễn Văn Tèo", "", ""],  # a name in the id column, under the titles
    ]
    foot = FootLines([0, 1])
    kept = np.concatenate([rows for _, rows in foot.filter(_chunks(lines, size))])
    assert kept.tolist() == [2, 3, 4, 6, 7]
    assert sorted(foot.rows) == [5, 8, 9, 10] and foot.count == 4


def test_a_long_run_under_a_marker_is_not_a_foot():
    lines = [["H-1", "01/07/2023"], ["Tổng cộng", ""], *[["", "x"]] * (HELD_ROWS + 5)]
    foot = FootLines([0, 1])
    kept = np.concatenate([rows for _, rows in foot.filter(_chunks(lines, 100))])
    assert len(kept) == 1 + HELD_ROWS + 5 and foot.count == 1  # only the marker line
