"""A corpus of bad and awkward input files, each with its expected outcome.

Every case writes its file(s) into tmp_path and runs `cchc ingest` (in-process: the same
``cli.main`` the console script calls). Outcomes: exit code, accepted rows and rejects per
reason, or the one-line fatal message (exit 2, nothing written).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest
from ingest_helpers import (
    BASE_ROW,
    ingest_cli,
    rejects,
    report,
    rows,
    to_cp1258,
    write_csv,
    write_xlsx,
)

from cchc_analysis import store
from cchc_analysis.ingest import bieu06


@dataclass
class Case:
    build: Callable[[Path], list[Path]]
    kind: str = "dossiers"
    args: tuple[str, ...] = ()
    exit: int = 0
    accepted: int | None = None
    reasons: dict[str, int] = field(default_factory=dict)
    fatal: tuple[str, ...] = ()  # substrings of the stderr line when exit == 2
    duplicates: int = 0


# The foot of a list as staff type it (key columns empty; a name under the titles).
FOOT = [
    {"Mã hồ sơ": "Tổng cộng: 5 hồ sơ"},
    {"Tên TTHC": "Kiến Thụy, ngày 05 tháng 10 năm 2023"},
    {"Mã hồ sơ": "Người lập biểu", "Tên TTHC": "Thủ trưởng đơn vị"},
    {"Mã hồ sơ": "Nguyễn Văn Tèo", "Tên TTHC": "Trần Thị Bưởi"},
]


def _csv(records, **kw):
    return lambda tmp: [write_csv(tmp / "in.csv", records, **kw)]


def _with(**cells):
    """Five rows, the third one altered."""
    records = rows(5)
    records[2].update(cells)
    return records


# --- Biểu 06 builders -----------------------------------------------------------------------

UNITS = [("Huyện Kiến Thụy", "314"), ("Thị trấn Núi Đối", "11680"), ("Xã Đại Đồng", "11704")]


def _counts(n_units: int = 3) -> pd.DataFrame:
    records = []
    for i, (name, code) in enumerate(UNITS[:n_units]):
        early, on_time, late = 100 + i, 5, 1 + i
        in_time, pending_late = 3, i
        resolved = early + on_time + late
        pending = in_time + pending_late
        carried = 4 + i
        new = resolved + pending - carried
        records.append(
            {
                "unit_name": name,
                "unit_code": code,
                "received_total_count": new + carried,
                "received_online_count": new - 10,
                "received_offline_count": 10,
                "carried_over_count": carried,
                "resolved_total_count": resolved,
                "resolved_early_count": early,
                "resolved_on_time_count": on_time,
                "resolved_late_count": late,
                "pending_total_count": pending,
                "pending_in_time_count": in_time,
                "pending_late_count": pending_late,
            }
        )
    return pd.DataFrame(records)


def _bieu06(
    edit: Callable | None = None,
    unit_column: str = "unit_name",
    name: str = "b06.xlsx",
    drop: tuple[str, ...] = (),
):
    def build(tmp: Path) -> list[Path]:
        path = bieu06.write_bieu06_xlsx(
            _counts().drop(columns=list(drop)),
            tmp / name,
            pd.Timestamp("2023-07-01").date(),
            pd.Timestamp("2023-09-30").date(),
            unit_column=unit_column,
            reporter="UBND huyện Kiến Thụy",
        )
        if edit is not None:
            from openpyxl import load_workbook

            workbook = load_workbook(path)
            edit(workbook.active)
            workbook.save(path)
        return [path]

    return build


def _bieu06_csv(tmp: Path) -> list[Path]:
    """A CSV copy of a merged header: parent labels only in their first column."""
    counts = _counts()
    lines = [
        "Biểu số 06/VPCP/KSTT,,,,,,,,,,,,",
        "Kỳ báo cáo: Quý III năm 2023,,,,,,,,,,,,",
        "STT,Tên đơn vị,Số hồ sơ nhận giải quyết,,,,Số hồ sơ đã giải quyết,,,,"
        "Số hồ sơ đang giải quyết,,",
        ",,Tổng số,Trực tuyến,Trực tiếp,Từ kỳ trước chuyển sang,Tổng số,Trước hạn,Đúng hạn,"
        "Quá hạn,Tổng số,Trong hạn,Quá hạn",
        "(1),(2),(3),(4),(5),(6),(7),(8),(9),(10),(11),(12),(13)",
    ]
    columns = [
        "received_total_count",
        "received_online_count",
        "received_offline_count",
        "carried_over_count",
        "resolved_total_count",
        "resolved_early_count",
        "resolved_on_time_count",
        "resolved_late_count",
        "pending_total_count",
        "pending_in_time_count",
        "pending_late_count",
    ]
    for i, record in enumerate(counts.to_dict(orient="records"), start=1):
        values = [f"{int(record[c]):,}".replace(",", ".") for c in columns]
        lines.append(",".join([str(i), record["unit_name"], *(f'"{v}"' for v in values)]))
    totals = [f'"{int(counts[c].sum())}"' for c in columns]
    lines.append(",".join(["Tổng cộng", "", *totals]))
    lines.append(",Người lập biểu,,,,,,,,,Thủ trưởng đơn vị,,")
    path = tmp / "b06.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
    return [path]


def _set(cell: str, value) -> Callable:
    def edit(sheet):
        sheet[cell] = value

    return edit


# The unit rows of the written sheet start at row 10; columns: A STT, B unit, C received total,
# D online, E offline, F carried, G resolved total, H early, I on time, J late, K pending total,
# L in time, M late; the totals row is 13.
PROVINCE = ("--province", "31")

CASES: dict[str, Case] = {
    # --- encodings and shapes of dossier exports ---
    "utf8_plain": Case(_csv(rows(6)), accepted=6),
    "utf8_bom": Case(_csv(rows(6), encoding="utf-8-sig"), accepted=6),
    "utf16_tab_unicode_text": Case(_csv(rows(6), encoding="utf-16", sep="\t"), accepted=6),
    "windows_1258": Case(
        _csv(rows(6, **{"Đơn vị tiếp nhận": "Huyện Kiến Thụy"}), encoding="cp1258"), accepted=6
    ),
    "semicolon_separated": Case(_csv(rows(6), sep=";"), accepted=6),
    "title_rows_above_header": Case(
        _csv(rows(6), above=["DANH SÁCH HỒ SƠ TIẾP NHẬN", "Tháng 7 năm 2023", ""]), accepted=6
    ),
    "header_spellings": Case(
        lambda tmp: [
            write_csv(
                tmp / "in.csv",
                [
                    {
                        "MaHoSo": r["Mã hồ sơ"],
                        "MA DON VI": r["Mã đơn vị"],
                        "ngay_tiep_nhan": r["Ngày tiếp nhận"],
                        "NGÀY HẸN TRẢ": r["Ngày hẹn trả"],
                        "NgayKetThucXuLy": r["Ngày có kết quả"],
                        "TrangThai": "10",
                        "KenhThucHien": "2",
                    }
                    for r in rows(4)
                ],
            )
        ],
        accepted=4,
    ),
    "date_formats_and_serials": Case(
        _csv(
            [
                *rows(1, 1, **{"Ngày tiếp nhận": "03-07-2023", "Ngày hẹn trả": "2023-07-05"}),
                *rows(1, 2, **{"Ngày tiếp nhận": "03/07/2023 08:15", "Ngày hẹn trả": "05/07/2023"}),
                *rows(1, 3, **{"Ngày tiếp nhận": "45110", "Ngày hẹn trả": "45112.5"}),
                *rows(
                    1, 4, **{"Ngày tiếp nhận": "2023-07-03T08:15:00", "Ngày hẹn trả": "5/7/2023"}
                ),
            ]
        ),
        accepted=4,
    ),
    "national_codes_and_labels": Case(
        _csv(
            [
                *rows(1, 1, **{"Kênh nộp": "1", "Trạng thái": "9", "Mức độ": "4"}),
                *rows(1, 2, **{"Kênh nộp": "3", "Trạng thái": "10", "Mức độ": "3"}),
                *rows(1, 3, **{"Kênh nộp": "Trực tiếp", "Trạng thái": "Đã xử lý xong"}),
                *rows(1, 4, **{"Kênh nộp": "DỊCH VỤ BƯU CHÍNH CÔNG ÍCH", "Mức độ": "Một phần"}),
                *rows(1, 5, **{"Trạng thái": "4", "Ngày có kết quả": ""}),
            ]
        ),
        accepted=5,
    ),
    "blank_rows_between": Case(
        lambda tmp: [
            write_csv(tmp / "in.csv", [*rows(2), dict.fromkeys(BASE_ROW, ""), *rows(2, 3)])
        ],
        accepted=4,
    ),
    "unit_names_instead_of_codes": Case(
        _csv(
            [
                *rows(1, 1, **{"Mã đơn vị": "", "Đơn vị tiếp nhận": "UBND huyện Kiến Thuỵ"}),
                *rows(1, 2, **{"Mã đơn vị": "", "Đơn vị tiếp nhận": "Xã Đại Đồng"}),
            ]
        ),
        args=PROVINCE,
        accepted=2,
    ),
    # totals and signature lines under the list: skipped, counted, never rejected
    "foot_lines_csv": Case(_csv(rows(5) + FOOT), accepted=5),
    "foot_lines_xlsx": Case(lambda tmp: [write_xlsx(tmp / "in.xlsx", rows(5) + FOOT)], accepted=5),
    "foot_after_a_dossier_without_id": Case(
        _csv([*rows(4), {**rows(1, 5)[0], "Mã hồ sơ": ""}, *FOOT]),
        exit=1,
        accepted=4,
        reasons={"missing_dossier_id": 1},
    ),
    "xlsx_named_sheet_with_title": Case(
        lambda tmp: [
            write_xlsx(
                tmp / "in.xlsx",
                rows(5),
                sheet="Hồ sơ",
                above=["DANH SÁCH"],
                extra_sheets=("Ghi chú",),
            )
        ],
        args=("--sheet", "Hồ sơ"),
        accepted=5,
    ),
    "several_monthly_files": Case(
        lambda tmp: [
            write_csv(tmp / "t7.csv", rows(3, 1)),
            write_csv(
                tmp / "t8.csv",
                rows(
                    4,
                    4,
                    **{
                        "Ngày tiếp nhận": "02/08/2023",
                        "Ngày hẹn trả": "04/08/2023",
                        "Ngày có kết quả": "03/08/2023",
                    },
                ),
            ),
        ],
        accepted=7,
    ),
    # --- row rejects ---
    "impossible_date": Case(
        _csv(_with(**{"Ngày tiếp nhận": "31/02/2024"})),
        exit=1,
        accepted=4,
        reasons={"impossible_date": 1},
    ),
    "unreadable_date": Case(
        _csv(_with(**{"Ngày hẹn trả": "sáng mai"})), exit=1, accepted=4, reasons={"bad_date": 1}
    ),
    "due_before_receipt": Case(
        _csv(_with(**{"Ngày hẹn trả": "01/07/2023"})),
        exit=1,
        accepted=4,
        reasons={"due_before_received": 1},
    ),
    "resolution_before_receipt": Case(
        _csv(_with(**{"Ngày có kết quả": "01/07/2023"})),
        exit=1,
        accepted=4,
        reasons={"resolved_before_received": 1},
    ),
    "future_date": Case(
        _csv(_with(**{"Ngày có kết quả": "04/07/2099"})),
        exit=1,
        accepted=4,
        reasons={"future_date": 1},
    ),
    "missing_dossier_id": Case(
        _csv(_with(**{"Mã hồ sơ": " "})), exit=1, accepted=4, reasons={"missing_dossier_id": 1}
    ),
    "unknown_status_and_channel": Case(
        _csv(
            [
                *rows(3),
                *rows(1, 4, **{"Trạng thái": "Đang ngủ"}),
                *rows(1, 5, **{"Kênh nộp": "Bồ câu"}),
            ]
        ),
        exit=1,
        accepted=3,
        reasons={"unknown_status": 1, "unknown_channel": 1},
    ),
    "closed_without_resolution_date": Case(
        _csv(_with(**{"Ngày có kết quả": ""})),
        exit=1,
        accepted=4,
        reasons={"missing_resolution_date": 1},
    ),
    "unknown_unit": Case(
        _csv(_with(**{"Mã đơn vị": "", "Đơn vị tiếp nhận": "Huyện Kiến Thủy X"})),
        exit=1,
        accepted=4,
        reasons={"unknown_unit": 1},
    ),
    "ambiguous_unit_without_province": Case(
        _csv(_with(**{"Mã đơn vị": "", "Đơn vị tiếp nhận": "Huyện Châu Thành"})),
        exit=1,
        accepted=4,
        reasons={"ambiguous_unit": 1},
    ),
    "unit_outside_province": Case(
        _csv(_with(**{"Mã đơn vị": "821"})),
        args=PROVINCE,
        exit=1,
        accepted=4,
        reasons={"unknown_unit": 1},
    ),
    "duplicate_ids": Case(
        _csv([*rows(3), *rows(1, 1), *rows(1, 2, **{"Trạng thái": "Rút hồ sơ"})]),
        exit=1,
        accepted=4,
        duplicates=1,
        reasons={"duplicate_conflict": 1},
    ),
    # --- files that cannot be used at all ---
    "missing_required_column": Case(
        lambda tmp: [
            write_csv(
                tmp / "in.csv",
                [
                    {k if k != "Ngày hẹn trả" else "Ngay hen tra kq": v for k, v in r.items()}
                    for r in rows(3)
                ],
            )
        ],
        exit=2,
        fatal=(
            "in.csv",
            "no column for due_at",
            "headers found",
            "Ngay hen tra kq",
            "closest",
            "Ngày hẹn trả",
        ),
    ),
    "no_unit_column": Case(
        _csv([{k: v for k, v in r.items() if k != "Mã đơn vị"} for r in rows(3)]),
        exit=2,
        fatal=("in.csv", "no column for the unit"),
    ),
    "empty_file": Case(
        lambda tmp: [_bytes(tmp / "in.csv", b"")], exit=2, fatal=("in.csv", "empty")
    ),
    "old_xls_workbook": Case(
        lambda tmp: [_bytes(tmp / "in.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600)],
        exit=2,
        fatal=("in.xls", ".xls", "save as .xlsx"),
    ),
    "corrupt_xlsx": Case(
        lambda tmp: [_bytes(tmp / "in.xlsx", b"PK\x03\x04garbage")],
        exit=2,
        fatal=("in.xlsx", "not a readable .xlsx"),
    ),
    "binary_garbage": Case(
        lambda tmp: [_bytes(tmp / "in.csv", bytes(range(256)) * 8)], exit=2, fatal=("in.csv",)
    ),
    "missing_sheet": Case(
        lambda tmp: [write_xlsx(tmp / "in.xlsx", rows(2))],
        args=("--sheet", "Tháng 8"),
        exit=2,
        fatal=("in.xlsx", "no sheet named 'Tháng 8'", "Hồ sơ"),
    ),
    "one_bad_file_among_several": Case(
        lambda tmp: [write_csv(tmp / "good.csv", rows(3)), _bytes(tmp / "bad.csv", b"")],
        exit=2,
        fatal=("bad.csv", "empty"),
    ),
    # --- Biểu 06 sheets ---
    "bieu06_merged_header": Case(_bieu06(), kind="period-report", args=PROVINCE, accepted=3),
    "bieu06_by_code": Case(_bieu06(unit_column="unit_code"), kind="period-report", accepted=3),
    "bieu06_names_without_province": Case(
        _bieu06(), kind="period-report", exit=1, accepted=2, reasons={"ambiguous_unit": 1}
    ),
    "bieu06_csv_copy_text_numbers": Case(
        _bieu06_csv, kind="period-report", args=PROVINCE, accepted=3
    ),
    "bieu06_parts_do_not_add_up": Case(
        _bieu06(_set("H11", 999)),
        kind="period-report",
        args=PROVINCE,
        exit=1,
        accepted=2,
        reasons={"parts_do_not_add_up": 1},
    ),
    "bieu06_received_total_differs": Case(
        _bieu06(_set("C11", 5000)),  # total ≠ (online + offline) + carried over
        kind="period-report",
        args=PROVINCE,
        exit=1,
        accepted=2,
        reasons={"parts_do_not_add_up": 1},
    ),
    "bieu06_negative_and_text_counts": Case(
        _bieu06(lambda s: (s.__setitem__("L10", -3), s.__setitem__("E11", "mười"))),
        kind="period-report",
        args=PROVINCE,
        exit=1,
        accepted=1,
        reasons={"negative_count": 1, "non_numeric_count": 1},
    ),
    "bieu06_unknown_unit": Case(
        _bieu06(_set("B12", "Xã Không Có Thật")),
        kind="period-report",
        args=PROVINCE,
        exit=1,
        accepted=2,
        reasons={"unknown_unit": 1},
    ),
    "bieu06_missing_pending_column": Case(
        _bieu06(drop=("pending_in_time_count", "pending_total_count")),
        kind="period-report",
        args=PROVINCE,
        exit=2,
        fatal=("b06.xlsx", "pending_in_time_count"),
    ),
    "bieu06_period_from_option": Case(
        _bieu06(_set("A3", "")),
        kind="period-report",
        args=(*PROVINCE, "--period", "2023-Q3"),
        accepted=3,
    ),
    "bieu06_no_period": Case(
        _bieu06(_set("A3", "")),
        kind="period-report",
        args=PROVINCE,
        exit=2,
        fatal=("b06.xlsx", "no reporting period", "--period"),
    ),
    "bieu06_fields_of_one_unit": Case(
        lambda tmp: [_text(tmp / "linhvuc.csv", FIELD_SHEET, "utf-8")],
        kind="period-report",
        args=("--unit", "314"),
        accepted=2,
    ),
    "bieu06_fields_without_unit": Case(
        lambda tmp: [_text(tmp / "linhvuc.csv", FIELD_SHEET, "utf-8")],
        kind="period-report",
        exit=2,
        fatal=("linhvuc.csv", "no unit column", "--unit"),
    ),
    # --- surveys ---
    "survey_scores": Case(
        lambda tmp: [
            write_csv(
                tmp / "s.csv",
                [
                    {
                        "Mã phiếu": f"P{i}",
                        "Mã đơn vị": "314",
                        "Ngày khảo sát": "10/08/2023",
                        "Tiếp cận dịch vụ 1": score,
                        "Công chức 2": "4",
                    }
                    for i, score in enumerate(["5", "4", "7", "x", "1"])
                ],
            )
        ],
        kind="survey",
        exit=1,
        accepted=3,
        reasons={"bad_score": 1, "non_numeric_count": 1},
    ),
}


FIELD_SHEET = """BÁO CÁO TÌNH HÌNH GIẢI QUYẾT TTHC QUÝ III NĂM 2023
STT;Lĩnh vực;Tổng số hồ sơ tiếp nhận;Tiếp nhận trực tuyến;Tiếp nhận trực tiếp;Tồn kỳ trước;\
Đã giải quyết trước hạn;Đã giải quyết đúng hạn;Đã giải quyết quá hạn;Đang giải quyết trong hạn;\
Đang giải quyết quá hạn;Tỷ lệ đúng hạn
1;Hộ tịch;1.200;1.100;95;5;1.190;3;2;5;0;99,58%
2;Đất đai;300;250;48;2;280;10;5;4;1;96,55%
;Tổng cộng;1.500;1.350;143;7;1.470;13;7;9;1;
;;;;;;Người lập biểu;;;;;
"""


def _text(path: Path, text: str, encoding: str) -> Path:
    path.write_text(text, encoding=encoding)
    return path


def _bytes(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    return path


def test_corpus_is_large_enough():
    assert len(CASES) >= 25


@pytest.mark.parametrize("name", list(CASES))
def test_corpus(name, tmp_path, capsys):
    case = CASES[name]
    sources = tmp_path / "in"
    sources.mkdir()
    paths = case.build(sources)
    out = tmp_path / "out"
    code, stdout, stderr = ingest_cli(capsys, *paths, "--kind", case.kind, "--out", out, *case.args)
    assert code == case.exit, stderr or stdout
    if case.exit == 2:
        lines = stderr.strip().splitlines()
        assert len(lines) == 1, stderr
        for part in case.fatal:
            assert part in lines[0], lines[0]
        assert not out.exists() or not any(out.iterdir()), "nothing is written on a fatal error"
        return
    assert stderr == ""
    result = report(out)
    assert result["rows_read"] == result["rows_accepted"] + result["rows_rejected"]
    assert result["rows_accepted"] == case.accepted
    assert result["rejected_by_reason"] == case.reasons
    assert result["rows_duplicate"] == case.duplicates
    assert result["rows_added"] == case.accepted - case.duplicates
    rejected = rejects(out, "dossiers" if case.kind == "dossiers" else case.kind)
    assert len(rejected) == result["rows_rejected"]
    for row in rejected:
        assert row["file"] and int(row["row"]) >= 2 and row["reason"]
    if case.kind == "dossiers":
        stored = store.read_dossiers(out)
        assert len(stored) == result["rows_added"]
        assert stored["dossier_id"].is_unique


def test_windows_1258_is_decoded_and_reported(tmp_path, capsys):
    path = write_csv(
        tmp_path / "in.csv", rows(2, **{"Đơn vị tiếp nhận": "Huyện Kiến Thụy"}), encoding="cp1258"
    )
    assert "Thụy".encode("cp1258", errors="ignore") != "Thụy".encode()  # really legacy bytes
    assert to_cp1258("Thụy") in path.read_bytes()
    code, _, _ = ingest_cli(capsys, path, "--kind", "dossiers", "--out", tmp_path / "out")
    assert code == 0
    entry = report(tmp_path / "out")["files"][0]
    assert entry["encoding"] == "windows-1258"
    assert entry["columns"]["unit_name"] == "Đơn vị tiếp nhận"


def test_reject_rows_name_file_row_and_column(tmp_path, capsys):
    records = rows(4)
    records[1]["Ngày tiếp nhận"] = "31/02/2024"
    path = write_csv(tmp_path / "in.csv", records, above=["DANH SÁCH HỒ SƠ", ""])
    code, stdout, _ = ingest_cli(capsys, path, "--kind", "dossiers", "--out", tmp_path / "out")
    assert code == 1
    [row] = rejects(tmp_path / "out")
    # two title lines, the header on line 3, the second data row on line 5
    assert (row["file"], row["row"], row["column"]) == (str(path), "5", "Ngày tiếp nhận")
    assert row["reason_code"] == "impossible_date" and "31/02/2024" in row["reason"]
    assert row["Mã hồ sơ"] == "H-0002"
    assert "1 rejected" in stdout and "rejects:" in stdout


def test_unknown_unit_reason_lists_closest_names(tmp_path, capsys):
    path = write_csv(
        tmp_path / "in.csv", _with(**{"Mã đơn vị": "", "Đơn vị tiếp nhận": "Huyện Kiến Thủy X"})
    )
    ingest_cli(capsys, path, "--kind", "dossiers", "--out", tmp_path / "out")
    [row] = rejects(tmp_path / "out")
    assert "closest" in row["reason"] and "Huyện Kiến Thụy (district 314)" in row["reason"]


def test_duplicate_conflict_says_what_differs(tmp_path, capsys):
    path = write_csv(tmp_path / "in.csv", [*rows(2), *rows(1, 2, **{"Trạng thái": "Rút hồ sơ"})])
    ingest_cli(capsys, path, "--kind", "dossiers", "--out", tmp_path / "out")
    [row] = rejects(tmp_path / "out")
    assert row["reason_code"] == "duplicate_conflict"
    assert "H-0002" in row["reason"] and "status" in row["reason"] and "row 3" in row["reason"]


def test_reingest_adds_nothing_and_a_later_snapshot_updates(tmp_path, capsys):
    out = tmp_path / "out"
    first = write_csv(tmp_path / "t7.csv", rows(5))
    as_of = ("--as-of", "2023-07-31")
    assert ingest_cli(capsys, first, "--kind", "dossiers", "--out", out, *as_of)[0] == 0
    code, stdout, _ = ingest_cli(capsys, first, "--kind", "dossiers", "--out", out, *as_of)
    assert code == 0 and "5 already present" in stdout
    assert report(out)["rows_duplicate"] == 5 and len(store.read_dossiers(out)) == 5
    changed = write_csv(tmp_path / "t7b.csv", rows(1, 3, **{"Trạng thái": "Từ chối"}))
    code, stdout, _ = ingest_cli(
        capsys, changed, "--kind", "dossiers", "--out", out, "--as-of", "2023-08-31"
    )
    assert code == 0 and "1 updated" in stdout and not rejects(out)
    stored = store.read_dossiers(out).set_index("dossier_id")
    assert len(stored) == 5 and stored.loc["H-0003", "status"] == "rejected"


def test_bieu06_totals_row_is_excluded_and_checked(tmp_path, capsys):
    [path] = _bieu06(_set("C13", 1))(tmp_path)
    code, stdout, stderr = ingest_cli(
        capsys, path, "--kind", "period-report", "--out", tmp_path / "out", *PROVINCE
    )
    assert code == 1  # a totals mismatch is a problem of the input: exit 1, the column named
    assert "totals row 13 differs from its rows in received_total_count" in stdout
    entry = report(tmp_path / "out")["files"][0]
    [check] = entry["totals_check"]
    assert check["status"] == "mismatch" and check["rows_covered"] == 3
    expected = int(_counts()["received_total_count"].sum())
    assert check["differences"]["received_total_count"] == {"sheet": 1, "rows": expected}
    assert entry["rows_skipped"]["totals"] == 1 and entry["rows_skipped"]["footer"] >= 1
    stored = pd.read_parquet(tmp_path / "out" / "period_reports.parquet")
    assert sorted(stored["unit_code"]) == ["11680", "11704", "314"]
    assert stored["received_total_count"].sum() == expected


def test_bieu06_columns_combine_parent_and_child_labels(tmp_path, capsys):
    [path] = _bieu06()(tmp_path)
    ingest_cli(capsys, path, "--kind", "period-report", "--out", tmp_path / "out", *PROVINCE)
    columns = report(tmp_path / "out")["files"][0]["columns"]
    assert columns["resolved_total_count"] == "Số hồ sơ đã giải quyết / Tổng số"
    assert columns["pending_total_count"] == "Số hồ sơ đang giải quyết / Tổng số"
    assert columns["received_online_count"] == "Số hồ sơ nhận giải quyết / Trong kỳ / Trực tuyến"
    period = report(tmp_path / "out")["files"][0]["period"]
    assert period == {"start": "2023-07-01", "end": "2023-09-30"}  # from the title row


def test_bieu06_by_field_answers_kpis_per_field(tmp_path, capsys):
    path = _text(tmp_path / "linhvuc.csv", FIELD_SHEET, "utf-8")
    out = tmp_path / "out"
    assert (
        ingest_cli(capsys, path, "--kind", "period-report", "--out", out, "--unit", "314")[0] == 0
    )
    entry = report(out)["files"][0]
    assert entry["period"] == {"start": "2023-07-01", "end": "2023-09-30"}  # from the title
    assert entry["ignored_columns"] == ["Tỷ lệ đúng hạn"]
    assert entry["totals_check"][0]["status"] == "ok"
    from cchc_analysis.core.periods import parse_period
    from cchc_analysis.counting import CountQuery, kpis

    [total] = kpis.kpi_records(kpis.kpi_table(out, CountQuery(parse_period("2023-Q3"))))
    assert (total["received_total_count"], total["received_new_count"]) == (1500, 1493)
    assert total["digitization_rate"] is None
    fields = kpis.kpi_table(out, CountQuery(parse_period("2023-Q3"), by_field=True))
    assert list(fields["field"]) == ["Hộ tịch", "Đất đai"]
    assert list(fields["resolved_late_count"]) == [2, 5]


def test_survey_rows_are_stored_once_with_plain_scores(tmp_path, capsys):
    records = [
        {
            "Mã phiếu": f"P{i}",
            "Mã đơn vị": "11680",
            "Ngày khảo sát": "10/08/2023",
            "Tiếp cận dịch vụ 1": str(1 + i % 5),
            "Kết quả câu 2": "" if i == 0 else "4",
        }
        for i in range(6)
    ]
    path = write_csv(tmp_path / "s.csv", records)
    out = tmp_path / "out"
    assert ingest_cli(capsys, path, "--kind", "survey", "--out", out)[0] == 0
    assert ingest_cli(capsys, path, "--kind", "survey", "--out", out)[0] == 0
    survey = pd.read_parquet(out / "survey.parquet")
    assert len(survey) == 6 and report(out)["rows_duplicate"] == 6
    assert set(survey["district_code"]) == {"314"}
    assert survey["access__item1"].dtype == "int64"
    assert survey["result__item2"].dtype == "float64" and survey["result__item2"].isna().sum() == 1
