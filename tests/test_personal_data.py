"""Personal data never published: an export seeded with applicant identity, ingested and reported.

A one-stop export carries the applicant's name, CCCD (12 digits), CMND (9 digits), phone
(0xxxxxxxxx and +84 …), e-mail, address and birth date in columns (CSV headers in words, XLSX
headers in CamelCase), and ID, phone and e-mail patterns typed into free text (a notes column,
the procedure and field names), applicants' names in the national summary field (TrichYeuHoSo),
and officials' names under the signature lines at the foot of the list. Some rows are rejected
(unknown unit), so the rejects file sees them too. Afterwards no file the run wrote — HTML,
manifest, logs, ingest report, rejects, dataset.json, Parquet — nor anything the commands
printed (stdout and stderr) holds one of those values or an ID-number, phone or e-mail pattern.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from browser import harness
from conftest import run_cchc

pytestmark = pytest.mark.e2e

FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi")
MIDDLE = ("Thị Bích", "Văn Quyết", "Đức Thắng", "Thị Thu", "Minh Khôi")
GIVEN = ("Ngọc", "Hằng", "Toàn", "Dũng", "Phượng", "Khánh", "Thảo")
STREETS = ("Trần Nhân Tông", "Lạch Tray", "Tô Hiệu", "Văn Cao", "Nguyễn Văn Linh")
N_PEOPLE = 36
OFFICIALS = ("Đỗ Mạnh Cường", "Lương Thị Huyền Trang")  # who sign the foot of the list
# Patterns checked in every output, independent of the masking code under test. Digits glued
# to a word, a decimal point, '-', '/' or ':' are not a number of their own (log file names
# hold times and process ids: run-20261123-044433-1530.log).
PHONE = re.compile(r"(?<![\w.,/:\-])(?:\+84|0)(?:[ .\-]?\d){9}(?![\w]|[.,:/\-]\d)")
ID_NUMBER = re.compile(
    r"(?<![\w.,/:\-])(?:\d{12}|\d{9}|\d{3}[ .]\d{3}[ .]\d{3}(?:[ .]\d{3})?)"
    r"(?![\w]|[.,:/\-]\d)"
)
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
DATA_URI = re.compile(r"data:image/[a-z+]+;base64,[A-Za-z0-9+/=]+")


def _people() -> pd.DataFrame:
    rows = []
    for i in range(N_PEOPLE):
        name = f"{FAMILY[i % 8]} {MIDDLE[i % 5]} {GIVEN[i % 7]}"
        phone = f"09{(i * 7919 + 1234567) % 10**8:08d}"
        rows.append(
            {
                "name": name,
                "cccd": f"0310{85 + i % 10:02d}{(i * 104729) % 10**6:06d}",
                "cmnd": f"03{(i * 7331 + 555) % 10**7:07d}",
                "phone": phone if i % 2 else f"+84 {phone[1:4]} {phone[4:7]} {phone[7:]}",
                "email": f"nguoinop{i:02d}.hoso@example.vn",
                "address": f"Số {i + 3} ngõ {40 + i} đường {STREETS[i % 5]}, Hải Phòng",
                "birth": f"{1 + i % 28:02d}/{1 + i % 12:02d}/19{60 + i % 40:02d}",
            }
        )
    return pd.DataFrame(rows)


PEOPLE = _people()
CSV_HEADERS = {
    "name": "Họ và tên người nộp",
    "cccd": "Số CCCD",
    "cmnd": "Số CMND",
    "phone": "Số điện thoại",
    "email": "Thư điện tử",
    "address": "Địa chỉ thường trú",
    "birth": "Ngày sinh",
}
XLSX_HEADERS = {
    "name": "HoTen",
    "cccd": "SoCCCD",
    "cmnd": "SoCMND",
    "phone": "SoDienThoai",
    "email": "Email",
    "address": "DiaChi",
    "birth": "NgaySinh",
}


def _note(person: pd.Series, i: int) -> str:
    spaced = (
        f"{person['cccd'][:3]} {person['cccd'][3:6]} {person['cccd'][6:9]} {person['cccd'][9:]}"
    )
    notes = (
        f"Đã gọi {person['phone']} hẹn bổ sung",
        f"CCCD {person['cccd']}",
        f"Số CMND: {person['cmnd']}, liên hệ {person['email']}",
        f"Giấy tờ {spaced}",
        "Hồ sơ đầy đủ",
    )
    return notes[i % len(notes)]


def _seeded_export(base: pd.DataFrame, headers: dict[str, str]) -> pd.DataFrame:
    base, n = base.reset_index(drop=True), len(base)
    people = PEOPLE.iloc[[i % N_PEOPLE for i in range(n)]].reset_index(drop=True)
    # IDs and phones typed into kept free text: the field (shown in the report) and procedure
    base["field"] = [
        f"{f} - liên hệ {people.at[i, 'phone']}" if i % 4 == 0 else f
        for i, f in enumerate(base["field"].astype(str))
    ]
    base["procedure_name"] = [
        f"{p} (CCCD {people.at[i, 'cccd']})" if i % 3 == 0 else p
        for i, p in enumerate(base["procedure_name"].astype(str))
    ]
    export = harness.one_stop_export(base)
    for key, header in headers.items():
        export[header] = people[key].to_numpy()
    export["Ghi chú"] = [_note(people.iloc[i], i) for i in range(n)]
    # the national summary field names the applicant in words no pattern can find
    export["TrichYeuHoSo"] = [f"Hồ sơ của ông/bà {people.at[i, 'name']}" for i in range(n)]
    export.loc[n - 5 :, ["Mã đơn vị", "Đơn vị tiếp nhận"]] = ["99999", "Phòng không có thật"]
    return pd.concat([export, _signed_foot(export.columns)], ignore_index=True)


def _signed_foot(columns: pd.Index) -> pd.DataFrame:
    """Totals and signature lines as staff add them under the list, officials' names included."""
    width = len(columns)

    def line(*cells: str) -> list[str]:
        out = [""] * width
        for i, cell in enumerate(cells):
            out[i * 3] = cell
        return out

    lines = [
        line("Tổng cộng: 1800 hồ sơ"),
        line("", "Hải Phòng, ngày 05 tháng 10 năm 2023"),
        line("Người lập biểu", "Thủ trưởng đơn vị"),
        line("(Ký, ghi rõ họ tên)", "(Ký, ghi rõ họ tên)"),
        line(*OFFICIALS),
    ]
    return pd.DataFrame(lines, columns=columns)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("personal")
    base = harness.sample_dossiers("314", n=2400)
    harness.write_csv(_seeded_export(base.iloc[:1800], CSV_HEADERS), folder / "mot-cua.csv")
    harness.write_xlsx(
        _seeded_export(base.iloc[1800:], XLSX_HEADERS), folder / "mot-cua.xlsx", title="Sổ"
    )
    data, out = folder / "data", folder / "reports"
    commands = [
        run_cchc(
            "ingest",
            str(folder / "mot-cua.csv"),
            str(folder / "mot-cua.xlsx"),
            "--kind",
            "dossiers",
            "--out",
            str(data),
            check=False,
        ),
        run_cchc(
            "report",
            "--data",
            str(data),
            "--period",
            "2023-Q3",
            "--units",
            "all",
            "--out",
            str(out),
            "--workers",
            "2",
            check=False,
        ),
    ]
    return data, out, commands


def _texts(data: Path, out: Path, commands) -> dict[str, str]:
    """Every file the run wrote, as text (Parquet: its string cells), plus what was printed."""
    texts = {}
    for root in (data, out):
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            if path.suffix == ".parquet":
                table = pq.read_table(path)
                cells = []
                for column in table.column_names:
                    if str(table.schema.field(column).type) in ("string", "large_string"):
                        cells.extend(str(v) for v in table.column(column).to_pylist())
                        cells.append(column)
                texts[str(path)] = "\n".join(cells)
            elif path.suffix in (".xlsx", ".png"):
                continue
            else:
                raw = path.read_bytes().decode("utf-8-sig", errors="replace")
                texts[str(path)] = DATA_URI.sub("data:…", raw)
    for i, proc in enumerate(commands):
        texts[f"command {i}: {' '.join(proc.args[1:3])}"] = proc.stdout + proc.stderr
    return texts


def test_commands_succeed_and_drop_the_personal_columns(run):
    data, out, (ingest, report) = run
    assert ingest.returncode == 1, ingest.stderr  # the unknown-unit rows are rejected
    assert report.returncode == 0, report.stderr
    summary = json.loads((data / "ingest_report.json").read_text(encoding="utf-8"))
    dropped = {
        f["file"].rsplit("/", 1)[-1]: f["personal_data_columns_dropped"] for f in summary["files"]
    }
    # The national summary field is free text that may name the applicant: set apart as well.
    assert sorted(dropped["mot-cua.csv"]) == sorted([*CSV_HEADERS.values(), "TrichYeuHoSo"])
    assert sorted(dropped["mot-cua.xlsx"]) == sorted([*XLSX_HEADERS.values(), "TrichYeuHoSo"])
    assert summary["rows_rejected"] == 10 and summary["rows_accepted"] == 2390
    assert summary["non_data_rows_skipped"] == 2 * 5  # each file's totals and signatures
    assert all(f["masked_values_count"] > 0 for f in summary["files"])
    assert (data / "rejects" / "dossiers.csv").is_file()
    assert {r["status"] for r in json.loads((out / "manifest.json").read_text())["reports"]} == {
        "ok"
    }
    assert list((out / "logs").glob("*.log")), "the run wrote no log"


def test_no_personal_value_in_any_output(run):
    texts = _texts(*run)
    kinds = {Path(name).suffix for name in texts}
    assert {".html", ".json", ".log", ".csv", ".parquet"} <= kinds
    scanned = {Path(name).name for name in texts} | {n for n in texts if n.startswith("command")}
    assert {"dossiers.csv", "ingest_report.json"} <= scanned  # the rejects and the account
    assert len([n for n in texts if n.startswith("command")]) == 2  # stdout + stderr of each
    values = {v for column in PEOPLE.columns for v in PEOPLE[column]} | set(OFFICIALS)
    digits = {re.sub(r"\D", "", v) for v in PEOPLE[["cccd", "cmnd", "phone"]].to_numpy().ravel()}
    leaks = [
        (name, value)
        for name, text in texts.items()
        for value in sorted(values | digits)
        if value in text
    ]
    assert leaks == []


def test_no_id_phone_or_email_pattern_in_any_output(run):
    leaks = [
        (name, match.group())
        for name, text in _texts(*run).items()
        for pattern in (PHONE, ID_NUMBER, EMAIL)
        for match in pattern.finditer(text)
    ]
    assert leaks == []


def test_masked_free_text_still_reads(run):
    """The report still names the fields whose text carried a phone number, masked."""
    _, out, _ = run
    page = (out / "314-kien-thuy.html").read_text(encoding="utf-8")
    assert "liên hệ ***" in page
    rejects = (run[0] / "rejects" / "dossiers.csv").read_text(encoding="utf-8-sig")
    assert "CCCD ***" in rejects or "Đã gọi *** hẹn bổ sung" in rejects
    header = next(csv.reader(io.StringIO(rejects)))
    assert not set(header) & {*CSV_HEADERS.values(), *XLSX_HEADERS.values()}


def test_the_scan_finds_what_it_looks_for(run):
    """Positive control: the same scan over the steward's CSV export finds every value."""
    data, _, _ = run
    text = (data.parent / "mot-cua.csv").read_text(encoding="utf-8-sig")
    values = {v for column in PEOPLE.columns for v in PEOPLE[column]} | set(OFFICIALS)
    assert [v for v in values if v not in text] == []
    for pattern in (PHONE, ID_NUMBER, EMAIL):
        assert len(pattern.findall(text)) >= N_PEOPLE, pattern.pattern
