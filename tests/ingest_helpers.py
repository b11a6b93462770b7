"""Builders of awkward input files for the ingest tests (written into tmp_path, never committed)."""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from pathlib import Path

import pandas as pd

from cchc_analysis import cli

# Canonical dossier columns -> the Vietnamese headers a one-stop export uses.
VI_HEADERS = {
    "dossier_id": "Mã hồ sơ",
    "unit_code": "Mã đơn vị",
    "unit_name": "Đơn vị tiếp nhận",
    "procedure_code": "Mã TTHC",
    "procedure_name": "Tên TTHC",
    "field": "Lĩnh vực",
    "channel": "Kênh nộp",
    "online_level": "Mức độ",
    "received_at": "Ngày tiếp nhận",
    "due_at": "Ngày hẹn trả",
    "resolved_at": "Ngày có kết quả",
    "returned_at": "Ngày trả kết quả",
    "status": "Trạng thái",
    "is_digitized": "Số hóa",
    "has_e_result": "Kết quả điện tử",
    "is_fee_bearing": "Có phí/lệ phí",
    "is_paid_online": "Thanh toán trực tuyến",
    "rating": "Đánh giá",
}
CHANNEL_VI = {
    "in_person": "Trực tiếp",
    "online": "Trực tuyến",
    "postal": "Dịch vụ bưu chính công ích",
}
LEVEL_VI = {"full": "Toàn trình", "partial": "Một phần", "none": "Mức độ 2"}
STATUS_VI = {
    "received": "Đã tiếp nhận",
    "processing": "Đang xử lý",
    "supplement_requested": "Yêu cầu bổ sung",
    "resolved": "Đã xử lý xong",
    "returned": "Đã trả kết quả",
    "rejected": "Từ chối",
    "withdrawn": "Rút hồ sơ",
}
RATING_VI = {
    "very_satisfied": "Rất hài lòng",
    "satisfied": "Hài lòng",
    "dissatisfied": "Không hài lòng",
}

BASE_ROW = {
    "Mã hồ sơ": "H-0001",
    "Mã đơn vị": "314",
    "Tên TTHC": "Cấp bản sao từ sổ gốc",
    "Lĩnh vực": "Hộ tịch",
    "Kênh nộp": "Trực tuyến",
    "Mức độ": "Toàn trình",
    "Ngày tiếp nhận": "03/07/2023",
    "Ngày hẹn trả": "05/07/2023",
    "Ngày có kết quả": "04/07/2023",
    "Trạng thái": "Đã trả kết quả",
}


def rows(n: int, start: int = 1, **overrides) -> list[dict]:
    """``n`` valid dossier rows with Vietnamese headers, ids H-<start>..."""
    out = []
    for i in range(start, start + n):
        row = dict(BASE_ROW)
        row["Mã hồ sơ"] = f"H-{i:04d}"
        row.update(overrides)
        out.append(row)
    return out


def write_csv(
    path: Path, records: list[dict], encoding: str = "utf-8", sep: str = ",", above: list[str] = ()
) -> Path:
    """Write records as CSV text; ``above`` lines (titles) go before the header."""
    buffer = io.StringIO()
    for line in above:
        buffer.write(line + "\n")
    frame = pd.DataFrame(records)
    frame.to_csv(buffer, index=False, sep=sep, lineterminator="\r\n" if sep == "\t" else "\n")
    text = buffer.getvalue()
    if encoding == "cp1258":
        path.write_bytes(to_cp1258(text))
    else:
        path.write_bytes(text.encode(encoding))
    return path


def to_cp1258(text: str) -> bytes:
    """Encode as Windows-1258 does: base letters precomposed, tone marks as combining marks."""
    tones = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}
    out = []
    for ch in unicodedata.normalize("NFC", text):
        decomposed = unicodedata.normalize("NFD", ch)
        marks = [c for c in decomposed if c in tones]
        base = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in tones))
        out.append(base + "".join(marks))
    return "".join(out).encode("cp1258")


def write_xlsx(
    path: Path,
    records: list[dict],
    sheet: str = "Hồ sơ",
    above: list[str] = (),
    extra_sheets: tuple[str, ...] = (),
) -> Path:
    from openpyxl import Workbook

    workbook = Workbook()
    first = workbook.active
    first.title = extra_sheets[0] if extra_sheets else sheet
    if extra_sheets:
        first.append(["nothing here"])
        for name in extra_sheets[1:]:
            workbook.create_sheet(name).append(["nothing"])
        target = workbook.create_sheet(sheet)
    else:
        target = first
    for line in above:
        target.append([line])
    headers = list(records[0])
    target.append(headers)
    for record in records:
        target.append([record.get(h) for h in headers])
    workbook.save(path)
    return path


def ingest_cli(capsys, *args: str) -> tuple[int, str, str]:
    """Run `cchc ingest ...` in-process (same code path as the console script)."""
    code = cli.main(["ingest", *map(str, args)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def report(out_dir: Path) -> dict:
    return json.loads((out_dir / "ingest_report.json").read_text(encoding="utf-8"))


def rejects(out_dir: Path, kind: str = "dossiers") -> list[dict]:
    path = out_dir / "rejects" / f"{kind}.csv"
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def export_dossiers_vi(frame: pd.DataFrame, date_format: str = "%d/%m/%Y") -> pd.DataFrame:
    """Canonical dossiers as a one-stop system exports them: Vietnamese headers and labels."""
    out = frame.drop(columns=["district_code", "unit_level"]).copy()
    # Fields of the national format the demo does not fill: a system without them has no such
    # column (a blank request-date column would say "no supplement requested").
    national = ["submitted_at", "supplement_requested_at", "supplement_returned_at"]
    national += ["supplement_count", "is_vneid_authenticated"]
    out = out.drop(columns=[c for c in national if c in out and out[c].isna().all()])
    out["channel"] = out["channel"].astype("string").map(CHANNEL_VI)
    out["online_level"] = out["online_level"].astype("string").map(LEVEL_VI)
    out["status"] = out["status"].astype("string").map(STATUS_VI)
    out["rating"] = out["rating"].astype("string").map(RATING_VI)
    for column in ("is_digitized", "has_e_result", "is_fee_bearing", "is_paid_online"):
        out[column] = out[column].map({True: "Có", False: "Không"})
    for column in ("received_at", "due_at", "resolved_at", "returned_at"):
        out[column] = pd.to_datetime(out[column]).dt.strftime(date_format)
    return out.rename(columns=VI_HEADERS)
