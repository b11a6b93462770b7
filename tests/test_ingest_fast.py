"""The column-wise reading of date cells gives what the row path gives, to the byte.

Plain date cells (dd/mm/yyyy HH:MM:SS and the like) are read column-wise with Arrow; every
other cell still goes through :func:`parsing.parse_datetime`. ``parsing.COLUMN_WISE = False``
(``CCHC_INGEST_ROW_PATH=1``) reads every cell through the parser: the row path. A generated
50,000-row national export with bad rows mixed in (impossible and unreadable dates, dates in
other forms, unknown units, duplicate and conflicting ids, blank required cells, personal
columns, a totals line) and a workbook with a cover sheet must give the same processed data,
rejects file and ingest report both ways.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from ingest_helpers import write_xlsx

from cchc_analysis.ingest import parsing
from cchc_analysis.ingest.run import ingest

UNITS = ("314", "11680", "11725", "11749", "11713", "11728")
# Cells the column-wise reading must leave to the parser, or refuse as the parser does.
ODD_DATES = (
    "31/02/2024 10:00:00",  # no such day (Arrow would roll it over to 02/03)
    "30/04/2024 10:00:60",  # a leap second
    "15/05/2024 24:00:00",
    "05/07/1980 09:00:00",  # before 1990
    "2024/13/01",
    "không rõ",
    "3/7/2024",  # one-digit day and month: the parser's
    "2024-07-03",
    "2024-07-03 10:11:12",
    "03-07-2024 10:11",
    " 04/07/2024 08:00:00 ",
    "45500",  # an Excel serial number
)


def _national(rows: int, seed: int = 16) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    received = pd.Timestamp("2023-01-02") + pd.to_timedelta(
        rng.integers(0, 540, rows) * 86400 + rng.integers(7 * 3600, 17 * 3600, rows), unit="s"
    )
    due = received + pd.to_timedelta(rng.integers(1, 20, rows), unit="D")
    resolved = received + pd.to_timedelta(rng.integers(0, 25 * 86400, rows), unit="s")
    status = rng.choice(["10", "9", "4", "5", "7"], rows, p=[0.6, 0.2, 0.1, 0.05, 0.05])
    is_open = np.isin(status, ["4", "5", "7"])

    def stamps(values: pd.Series | pd.DatetimeIndex, blank: np.ndarray) -> np.ndarray:
        text = pd.Series(values).dt.strftime("%d/%m/%Y %H:%M:%S").to_numpy(dtype=object)
        text[blank] = ""
        return text

    none = np.zeros(rows, dtype=bool)
    return pd.DataFrame(
        {
            "MaHoSo": [f"H15.22-{i:06d}" for i in range(rows)],
            "MaDonViTiepNhan": rng.choice(UNITS, rows),
            "MaTTHC": rng.choice(["1.001193", "1.009994", "2.000889"], rows),
            "TenTTHC": "Đăng ký khai sinh",
            "TenLinhVuc": "Hộ tịch",
            "NgayNopHoSo": stamps(received, none),
            "NgayTiepNhan": stamps(received, none),
            "NgayHenTra": stamps(due, none),
            "NgayKetThucXuLy": stamps(resolved, is_open),
            "NgayTra": stamps(resolved, is_open),
            "TrangThaiHoSo": status,
            "KenhThucHien": rng.choice(["1", "2", "3"], rows),
            "MucDo": rng.choice(["2", "3", "4"], rows),
            "HoSoCoThanhPhanSoHoa": rng.choice(["0", "1"], rows),
            "DuocThanhToanTrucTuyen": rng.choice(["Có", "Không"], rows),
            "TaiKhoanDuocXacThucVoiVNeID": rng.choice(["0", "1"], rows),
            "NgayYeuCauBoSung": "",
            "NgayCongDanBoSung": "",
            "XaPhuongDiaBan": "",
            "ChuHoSo": "Nguyễn Văn Bình",
            "TrichYeuHoSo": "Hồ sơ của ông Nguyễn Văn Bình, 0912345678",
        }
    )


def _spoil(frame: pd.DataFrame, seed: int = 7) -> pd.DataFrame:
    """Bad and odd rows mixed in at random positions."""
    rng = np.random.default_rng(seed)
    frame = frame.copy()
    spots = iter(rng.permutation(len(frame)).tolist())
    for text in ODD_DATES:
        for column in ("NgayTiepNhan", "NgayHenTra", "NgayKetThucXuLy", "NgayNopHoSo"):
            for _ in range(3):
                frame.loc[next(spots), column] = text
    for _ in range(20):
        frame.loc[next(spots), "MaDonViTiepNhan"] = "99999"  # no such unit
    for column in ("MaHoSo", "NgayHenTra", "TrangThaiHoSo"):
        for _ in range(10):
            frame.loc[next(spots), column] = ""
    for _ in range(10):
        frame.loc[next(spots), "TrangThaiHoSo"] = "42"
    for _ in range(10):  # the same dossier again: identical, then with other content
        a, b, c = next(spots), next(spots), next(spots)
        frame.loc[b] = frame.loc[a]
        frame.loc[c] = frame.loc[a]
        frame.loc[c, "KenhThucHien"] = "3" if frame.loc[a, "KenhThucHien"] != "3" else "1"
    total = pd.DataFrame([{"MaHoSo": f"Tổng cộng: {len(frame)} hồ sơ"}])
    return pd.concat([frame, total], ignore_index=True).fillna("")


def _run(source: Path, out: Path, column_wise: bool, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(parsing, "COLUMN_WISE", column_wise)
    ingest([source], "dossiers", out, today=pd.Timestamp("2025-06-30").date())
    return out


def _same_outputs(fast: Path, rows: Path) -> None:
    for root in ("dossiers", "dossier_versions"):
        a = pd.read_parquet(fast / root).sort_values("dossier_id", ignore_index=True)
        b = pd.read_parquet(rows / root).sort_values("dossier_id", ignore_index=True)
        pd.testing.assert_frame_equal(a, b)
    assert (fast / "rejects" / "dossiers.csv").read_bytes() == (
        rows / "rejects" / "dossiers.csv"
    ).read_bytes()

    def account(folder: Path) -> dict:
        report = json.loads((folder / "ingest_report.json").read_text(encoding="utf-8"))
        for key in ("seconds", "finished_at", "out_dir", "outputs"):
            report.pop(key)
        return report

    assert account(fast) == account(rows)


def test_national_csv_same_both_ways(tmp_path, monkeypatch):
    source = tmp_path / "dongbo.csv"
    export = _spoil(_national(50_000))
    export.to_csv(source, index=False, encoding="utf-8-sig")
    fast = _run(source, tmp_path / "fast", True, monkeypatch)
    rows = _run(source, tmp_path / "rows", False, monkeypatch)
    _same_outputs(fast, rows)
    report = json.loads((fast / "ingest_report.json").read_text(encoding="utf-8"))
    # the bad rows are there to compare: the run found them
    reasons = report["rejected_by_reason"]
    for code in ("impossible_date", "bad_date", "unknown_unit", "missing_dossier_id"):
        assert reasons.get(code, 0) > 0, code
    assert reasons.get("duplicate_conflict", 0) >= 10
    assert report["rows_read"] == report["rows_accepted"] + report["rows_rejected"] == 50_000
    assert report["non_data_rows_skipped"] == 1
    assert report["files"][0]["personal_data_columns_dropped"] == ["ChuHoSo", "TrichYeuHoSo"]
    text = (fast / "rejects" / "dossiers.csv").read_text(encoding="utf-8-sig")
    assert "Nguyễn Văn Bình" not in text and "0912345678" not in text


def test_workbook_with_cover_sheet_same_both_ways(tmp_path, monkeypatch):
    export = _spoil(_national(2_000), seed=3).iloc[:-1]  # no totals line in the workbook
    source = write_xlsx(
        tmp_path / "dongbo.xlsx",
        export.to_dict("records"),
        sheet="DanhSachHoSo",
        extra_sheets=("Bìa",),
    )
    fast = _run(source, tmp_path / "fast", True, monkeypatch)
    rows = _run(source, tmp_path / "rows", False, monkeypatch)
    _same_outputs(fast, rows)
    report = json.loads((fast / "ingest_report.json").read_text(encoding="utf-8"))
    assert report["rows_rejected"] > 0
