"""Exports in the national format: its field names and codes, supplements, statuses that are
not received dossiers, withdrawn/stopped dossiers without a date, VNeID; and the 766 rule.

One small export of district 314 (Kiến Thụy) for 2023-Q3, as a national sync record (CSV and
XLSX) and with the Vietnamese labels of the same fields. Each dossier has a role; the expected
counts below are worked out by hand from the roles (working days: DOMAIN.md, no holiday in
July or late September 2023).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from ingest_helpers import ingest_cli, rejects, report, write_csv, write_xlsx

from cchc_analysis import cli, store
from cchc_analysis.core.metrics import add_metrics, rate_parts
from cchc_analysis.core.periods import parse_period
from cchc_analysis.core.schema import DOSSIER_COLUMNS, DOSSIER_DTYPES, coerce_dossiers
from cchc_analysis.counting.cube import build_cube, period_counts, period_counts_from_cube
from cchc_analysis.counting.deadline766 import ALWAYS_LATE, NEVER_LATE, due_766

APPLICANT = "Nguyễn Văn Bình"  # in TrichYeuHoSo: personal data that must never be stored


def _dossier(code: str, status: int, received: str, due: str, **fields: object) -> dict:
    row: dict[str, object] = {
        "MaHoSo": f"H15.22.314-230703-{code}",
        "MaDonViTiepNhan": "314",
        "MaTTHC": "1.001193",
        "TenTTHC": "Đăng ký khai sinh",
        "MaLinhVuc": "HT",
        "TenLinhVuc": "Hộ tịch",
        "NgayNopHoSo": received,
        "NgayTiepNhan": received,
        "NgayHenTra": due,
        "NgayKetThucXuLy": "",
        "NgayTra": "",
        "TrangThaiHoSo": status,
        "KenhThucHien": 1,
        "MucDo": 2,
        "HoSoCoThanhPhanSoHoa": 0,
        "DuocThanhToanTrucTuyen": "Không",
        "TaiKhoanDuocXacThucVoiVNeID": 0,
        "NgayYeuCauBoSung": "",
        "NgayCongDanBoSung": "",
        "XaPhuongDiaBan": "",
        "TrichYeuHoSo": f"Đăng ký khai sinh cho con ông {APPLICANT}",
    }
    row.update(fields)
    return row


def _t(day: str) -> str:
    return f"{day}/2023 08:30:00"  # dd/MM/yyyy HH:mm:ss, as the sync record writes dates


NATIONAL_ROWS = [
    # A: early; online, full level, digitised, paid online, VNeID.
    _dossier(
        "A",
        10,
        _t("03/07"),
        _t("05/07"),
        NgayKetThucXuLy=_t("04/07"),
        NgayTra=_t("04/07"),
        KenhThucHien=2,
        MucDo=4,
        HoSoCoThanhPhanSoHoa=1,
        DuocThanhToanTrucTuyen="Có",
        TaiKhoanDuocXacThucVoiVNeID=1,
    ),
    # B: on the due date.
    _dossier("B", 9, _t("03/07"), _t("05/07"), NgayKetThucXuLy=_t("05/07")),
    # C: late, no supplement.
    _dossier("C", 10, _t("03/07"), _t("05/07"), NgayKetThucXuLy=_t("07/07")),
    # D: one request Wed 5/7, returned Mon 10/7 (3 working days waited): due 7/7 moves to
    # Wed 12/7 for the 766 rule, so the resolution on 11/7 is late for Biểu 06, on time for 766.
    _dossier(
        "D",
        10,
        _t("03/07"),
        _t("07/07"),
        NgayKetThucXuLy=_t("11/07"),
        NgayYeuCauBoSung=_t("05/07"),
        NgayCongDanBoSung=_t("10/07"),
    ),
    # E: two requests (the cell lists both): early for Biểu 06, late for 766.
    _dossier(
        "E",
        10,
        _t("03/07"),
        _t("14/07"),
        NgayKetThucXuLy=_t("13/07"),
        NgayYeuCauBoSung="05/07/2023; 10/07/2023",
        NgayCongDanBoSung=_t("12/07"),
    ),
    # F: refused at intake (3): no receipt or due date, dated by its submission.
    _dossier("F", 3, "", "", NgayNopHoSo=_t("04/07")),
    # G: registered online, not yet received (1).
    _dossier("G", 1, "", "", NgayNopHoSo=_t("28/09"), KenhThucHien=2),
    # H: withdrawn (7) without a date: accepted, closes on its receipt day.
    _dossier("H", 7, _t("05/07"), _t("10/07")),
    # I: stopped (8) with its end date.
    _dossier("I", 8, _t("06/07"), _t("20/07"), NgayKetThucXuLy=_t("12/07")),
    # J: waiting for the citizen at the period's end (one request before the due date):
    # pending late for Biểu 06, within the deadline for 766 (the clock is stopped).
    _dossier("J", 5, _t("18/09"), _t("25/09"), NgayYeuCauBoSung=_t("20/09")),
    # K: waiting after two requests: late for both; on time only under the waiting switch.
    _dossier(
        "K",
        5,
        _t("18/09"),
        _t("22/09"),
        NgayYeuCauBoSung="19/09/2023, 21/09/2023",
        XaPhuongDiaBan="11704",
    ),
    # L: processing, due after the period: pending in time.
    _dossier("L", 4, _t("25/09"), _t("05/10")),
]

EXPECTED = {
    "received_new_count": 10,
    "carried_over_count": 0,
    "received_total_count": 10,
    "received_online_count": 1,
    "resolved_early_count": 2,  # A, E
    "resolved_on_time_count": 1,  # B
    "resolved_late_count": 2,  # C, D
    "resolved_total_count": 5,
    "withdrawn_count": 2,  # H (no date), I (stopped)
    "pending_in_time_count": 1,  # L
    "pending_late_count": 2,  # J, K
    "pending_total_count": 3,
    "refused_count": 1,  # F
    "awaiting_intake_count": 1,  # G
    "timely_766_count": 5,  # A, B, D resolved; J, L pending
    "waiting_late_766_count": 1,  # K
    "digitized_count": 1,
}

# The Vietnamese labels of the same fields, as provincial systems head their exports.
VI_LABELS = {
    "MaHoSo": "Mã hồ sơ",
    "MaDonViTiepNhan": "Mã đơn vị tiếp nhận",
    "MaTTHC": "Mã TTHC",
    "TenTTHC": "Tên TTHC",
    "MaLinhVuc": "Mã lĩnh vực",
    "TenLinhVuc": "Tên lĩnh vực",
    "NgayNopHoSo": "Ngày nộp hồ sơ",
    "NgayTiepNhan": "Ngày tiếp nhận",
    "NgayHenTra": "Ngày hẹn trả",
    "NgayKetThucXuLy": "Ngày kết thúc xử lý",
    "NgayTra": "Ngày trả",
    "TrangThaiHoSo": "Trạng thái hồ sơ",
    "KenhThucHien": "Kênh thực hiện",
    "MucDo": "Mức độ",
    "HoSoCoThanhPhanSoHoa": "Hồ sơ có thành phần số hóa",
    "DuocThanhToanTrucTuyen": "Được thanh toán trực tuyến",
    "TaiKhoanDuocXacThucVoiVNeID": "Tài khoản được xác thực với VNeID",
    "NgayYeuCauBoSung": "Ngày yêu cầu bổ sung",
    "NgayCongDanBoSung": "Ngày công dân bổ sung",
    "XaPhuongDiaBan": "Xã, phường địa bàn",
    "TrichYeuHoSo": "Trích yếu hồ sơ",
}
STATUS_LABELS = {
    1: "Mới đăng ký",
    3: "Không được tiếp nhận",
    4: "Đang xử lý",
    5: "Yêu cầu bổ sung",
    7: "Rút hồ sơ",
    8: "Dừng xử lý",
    9: "Đã xử lý xong",
    10: "Đã trả kết quả",
}


def _labelled(records: list[dict]) -> list[dict]:
    out = []
    for record in records:
        row = {VI_LABELS[k]: v for k, v in record.items()}
        row["Trạng thái hồ sơ"] = STATUS_LABELS[record["TrangThaiHoSo"]]
        row["Kênh thực hiện"] = {1: "Trực tiếp", 2: "Trực tuyến"}[record["KenhThucHien"]]
        row["Mức độ"] = {2: "Mức độ 2", 4: "Toàn trình"}[record["MucDo"]]
        row["Hồ sơ có thành phần số hóa"] = "Có" if record["HoSoCoThanhPhanSoHoa"] else "Không"
        out.append(row)
    return out


def _write(kind: str, tmp_path):
    if kind == "national_csv":
        return write_csv(tmp_path / "dongbo_q3.csv", NATIONAL_ROWS)
    if kind == "national_xlsx":  # codes as numbers, as a spreadsheet holds them
        return write_xlsx(tmp_path / "dongbo_q3.xlsx", NATIONAL_ROWS, sheet="DanhSachHoSo")
    return write_csv(tmp_path / "nhan_q3.csv", _labelled(NATIONAL_ROWS))


def _kpis(capsys, data, *extra: str) -> dict:
    args = ["kpis", "--data", str(data), "--period", "2023-Q3", "--unit", "314"]
    assert cli.main([*args, *extra, "--format", "json"]) == 0
    [row] = json.loads(capsys.readouterr().out)
    return row


@pytest.mark.parametrize("kind", ["national_csv", "national_xlsx", "vietnamese_labels"])
def test_national_export_ingests_and_counts_exactly(kind, tmp_path, capsys):
    source = _write(kind, tmp_path)
    out = tmp_path / "data"
    code, stdout, stderr = ingest_cli(capsys, source, "--kind", "dossiers", "--out", out)
    assert code == 0, stdout + stderr
    result = report(out)
    assert result["rows_read"] == result["rows_accepted"] == len(NATIONAL_ROWS)
    mapping = result["column_mapping"]
    header = (lambda h: h) if kind != "vietnamese_labels" else VI_LABELS.get
    for source_header, column in {
        "MaHoSo": "dossier_id",
        "NgayNopHoSo": "submitted_at",
        "NgayKetThucXuLy": "resolved_at",
        "TrangThaiHoSo": "status",
        "KenhThucHien": "channel",
        "HoSoCoThanhPhanSoHoa": "is_digitized",
        "DuocThanhToanTrucTuyen": "is_paid_online",
        "TaiKhoanDuocXacThucVoiVNeID": "is_vneid_authenticated",
        "NgayYeuCauBoSung": "supplement_requested_at",
        "NgayCongDanBoSung": "supplement_returned_at",
        "TenLinhVuc": "field",
    }.items():
        assert mapping[header(source_header)] == column
    [entry] = result["files"]
    assert header("TrichYeuHoSo") in entry["personal_data_columns_dropped"]

    stored = store.read_dossiers(out).set_index("dossier_id").sort_index()
    assert len(stored) == len(NATIONAL_ROWS)
    assert APPLICANT not in stored.astype(str).to_string()
    by_role = {i[-1]: row for i, row in stored.iterrows()}
    assert by_role["A"]["is_vneid_authenticated"] is True
    assert by_role["B"]["is_vneid_authenticated"] is False
    assert by_role["A"]["submitted_at"] == pd.Timestamp("2023-07-03 08:30")
    assert by_role["D"]["supplement_requested_at"] == pd.Timestamp("2023-07-05 08:30")
    assert by_role["D"]["supplement_returned_at"] == pd.Timestamp("2023-07-10 08:30")
    assert by_role["D"]["supplement_count"] == 1
    assert by_role["E"]["supplement_count"] == 2  # two dates in the cell
    assert by_role["E"]["supplement_requested_at"] == pd.Timestamp("2023-07-05")
    assert pd.isna(by_role["A"]["supplement_count"]) or by_role["A"]["supplement_count"] == 0
    statuses = {role: row["status"] for role, row in by_role.items()}
    assert statuses["F"] == "refused" and statuses["G"] == "awaiting_intake"
    assert statuses["H"] == "withdrawn" and statuses["I"] == "stopped"
    assert pd.isna(by_role["H"]["resolved_at"])  # no date invented at ingest
    assert by_role["F"]["received_at"] == pd.Timestamp("2023-07-04 08:30")  # its submission
    assert pd.isna(by_role["F"]["due_at"])

    row = _kpis(capsys, out)
    assert {k: row[k] for k in EXPECTED} == EXPECTED
    assert row["timeliness_766_rate"] == pytest.approx(5 / 10)
    assert row["within_deadline_rate"] == pytest.approx(3 / 5)
    waiting = _kpis(capsys, out, "--count-waiting-as-on-time")
    assert {k: waiting[k] for k in EXPECTED} == EXPECTED  # the counts do not change
    assert waiting["timeliness_766_rate"] == pytest.approx((5 + 1 + 2) / 10)


def test_national_export_counts_agree_from_rows_and_cube(tmp_path, capsys):
    out = tmp_path / "data"
    source = _write("national_csv", tmp_path)
    assert ingest_cli(capsys, source, "--kind", "dossiers", "--out", out)[0] == 0
    frame = store.read_dossiers(out)
    period = parse_period("2023-Q3")
    rows = period_counts(frame, period, by=())
    cube = period_counts_from_cube(build_cube(frame, horizon=period.end), period, by=())
    for column, value in EXPECTED.items():
        assert rows[column].iloc[0] == value, column
        assert cube[column].iloc[0] == value, column
    # July alone: F refused in July, G (September) not yet; H and I closed in July.
    july = period_counts(frame, parse_period("2023-07"), by=())
    assert july["refused_count"].iloc[0] == 1 and july["awaiting_intake_count"].iloc[0] == 0
    assert july["withdrawn_count"].iloc[0] == 2


def _one(**columns: object) -> pd.DataFrame:
    base = {
        "dossier_id": ["x"],
        "unit_code": ["314"],
        "received_at": [pd.Timestamp("2024-07-01")],  # Monday
        "due_at": [pd.Timestamp("2024-07-05")],  # Friday
        "resolved_at": [pd.Timestamp("2024-07-10")],  # Wednesday
        "status": ["returned"],
    }
    base.update({k: [v] for k, v in columns.items()})
    return coerce_dossiers(pd.DataFrame(base))


def _closed(frame: pd.DataFrame) -> np.ndarray:
    return frame["resolved_at"].to_numpy(dtype="datetime64[D]")


def test_766_rule_leaves_out_the_wait_for_the_citizen():
    # Request Tuesday 2/7, citizen back Monday 8/7: Wed 3, Thu 4, Fri 5, Mon 8 = 4 working
    # days; due Friday 5/7 + 4 working days = Thursday 11/7. Resolved 10/7: on time for 766.
    frame = _one(
        supplement_requested_at=pd.Timestamp("2024-07-02"),
        supplement_returned_at=pd.Timestamp("2024-07-08"),
        supplement_count=1,
    )
    [deadline] = due_766(frame, closed_at=_closed(frame))
    assert deadline == np.datetime64("2024-07-11")
    counts = period_counts(frame, parse_period("2024-07"), by=())
    assert counts["resolved_late_count"].iloc[0] == 1  # Biểu 06: the system's due date
    assert counts["timely_766_count"].iloc[0] == 1
    # Without the supplement dates the same dossier is late under both rules.
    plain = period_counts(_one(), parse_period("2024-07"), by=())
    assert plain["timely_766_count"].iloc[0] == 0


def test_766_rule_two_requests_are_late():
    frame = _one(
        resolved_at=pd.Timestamp("2024-07-03"),  # before the due date
        supplement_requested_at=pd.Timestamp("2024-07-02"),
        supplement_returned_at=pd.Timestamp("2024-07-03"),
        supplement_count=2,
    )
    [deadline] = due_766(frame, closed_at=_closed(frame))
    assert deadline == ALWAYS_LATE
    counts = period_counts(frame, parse_period("2024-07"), by=())
    assert counts["resolved_early_count"].iloc[0] == 1
    assert counts["timely_766_count"].iloc[0] == 0
    rates = add_metrics(counts, count_waiting_as_on_time=False).iloc[0]
    assert rates["timeliness_766_rate"] == 0.0


def test_766_rule_request_after_the_deadline_does_not_help():
    frame = _one(
        supplement_requested_at=pd.Timestamp("2024-07-08"),  # after the due date 5/7
        supplement_returned_at=pd.Timestamp("2024-07-09"),
        supplement_count=1,
    )
    [deadline] = due_766(frame, closed_at=_closed(frame))
    assert deadline == np.datetime64("2024-07-05")


def test_766_rule_open_wait_stops_the_clock():
    frame = _one(
        resolved_at=pd.NaT,
        status="supplement_requested",
        supplement_requested_at=pd.Timestamp("2024-07-03"),
        supplement_count=1,
    )
    [deadline] = due_766(frame, closed_at=_closed(frame))
    assert deadline == NEVER_LATE
    counts = period_counts(frame, parse_period("2024-Q3"), by=())
    assert counts["pending_late_count"].iloc[0] == 1
    assert counts["timely_766_count"].iloc[0] == 1
    assert counts["waiting_late_766_count"].iloc[0] == 0


def test_waiting_switch_counts_waiting_and_withdrawn_as_on_time():
    counts = pd.DataFrame(
        [
            {
                "received_total_count": 10,
                "resolved_early_count": 4,
                "resolved_on_time_count": 1,
                "pending_in_time_count": 1,
                "timely_766_count": 5,
                "waiting_late_766_count": 2,
                "withdrawn_count": 1,
            }
        ]
    )
    assert add_metrics(counts, count_waiting_as_on_time=False).iloc[0][
        "timeliness_766_rate"
    ] == pytest.approx(0.5)
    assert add_metrics(counts, count_waiting_as_on_time=True).iloc[0][
        "timeliness_766_rate"
    ] == pytest.approx(0.8)
    assert rate_parts(counts.iloc[0], "timeliness_766_rate", count_waiting_as_on_time=True) == (
        8,
        10,
    )
    # A Biểu 06 table has no supplement data: the form's within-deadline parts stand in.
    form = counts.drop(columns=["timely_766_count", "waiting_late_766_count"])
    assert add_metrics(form, count_waiting_as_on_time=False).iloc[0][
        "timeliness_766_rate"
    ] == pytest.approx(0.6)


def test_waiting_switch_from_the_targets_file(tmp_path, monkeypatch):
    from cchc_analysis.core import targets

    custom = tmp_path / "targets.yaml"
    custom.write_text("targets: {}\nrules:\n  count_waiting_as_on_time: true\n", encoding="utf-8")
    monkeypatch.delenv(targets.COUNT_WAITING_ENV, raising=False)
    assert targets.count_waiting_as_on_time() is False  # the shipped default
    monkeypatch.setenv("CCHC_TARGETS", str(custom))
    assert targets.count_waiting_as_on_time() is True
    monkeypatch.setenv(targets.COUNT_WAITING_ENV, "0")
    assert targets.count_waiting_as_on_time() is False


def test_older_folders_without_the_new_columns_still_read(tmp_path):
    new = ("submitted_at", "supplement_requested_at", "supplement_returned_at")
    old = _one().drop(columns=[*new, "supplement_count", "is_vneid_authenticated"])
    frame = coerce_dossiers(old)
    assert list(frame.columns) == list(DOSSIER_COLUMNS)
    assert frame[list(new)].isna().all().all()
    assert str(frame["supplement_count"].dtype) == DOSSIER_DTYPES["supplement_count"]
    assert frame["is_vneid_authenticated"].isna().all()
    # An old Parquet file (status categories of its time) reads with the new categories.
    path = tmp_path / "old.parquet"
    old.assign(status=pd.Categorical(["returned"], categories=["received", "returned"])).to_parquet(
        path
    )
    back = coerce_dossiers(pd.read_parquet(path))
    assert back["status"].iloc[0] == "returned" and "refused" in back["status"].cat.categories


def test_refused_and_withdrawn_rows_need_no_dates_but_others_do(tmp_path, capsys):
    records = [
        _dossier("R", 3, "", "", NgayNopHoSo=""),  # refused with no date at all: rejected
        _dossier("S", 9, _t("03/07"), _t("05/07")),  # resolved without a date: rejected
        _dossier("T", 7, _t("03/07"), _t("05/07")),  # withdrawn without a date: accepted
        _dossier("U", 2, "", _t("05/07"), NgayNopHoSo=_t("03/07")),  # received, no receipt
    ]
    source = write_csv(tmp_path / "in.csv", records)
    out = tmp_path / "data"
    code, _, _ = ingest_cli(capsys, source, "--kind", "dossiers", "--out", out)
    assert code == 1
    result = report(out)
    assert result["rows_accepted"] == 1 and result["rows_rejected"] == 3
    reasons = {row["MaHoSo"][-1]: row["reason_code"] for row in rejects(out)}
    assert reasons == {"R": "missing_value", "S": "missing_resolution_date", "U": "missing_value"}
    assert all(APPLICANT not in json.dumps(row, ensure_ascii=False) for row in rejects(out))


def test_waiting_switch_without_supplement_data_is_no_data():
    # A Biểu 06 table: no count of dossiers waiting for the citizen, so the switch cannot
    # count them; the rate is missing rather than a figure that leaves them out.
    form = pd.DataFrame(
        [
            {
                "received_total_count": 10,
                "resolved_early_count": 4,
                "resolved_on_time_count": 1,
                "pending_in_time_count": 1,
                "withdrawn_count": 1,
                "waiting_late_766_count": pd.NA,
            }
        ]
    ).astype("Int64")
    rates = add_metrics(form, count_waiting_as_on_time=True).iloc[0]
    assert pd.isna(rates["timeliness_766_rate"])
    assert add_metrics(form, count_waiting_as_on_time=False).iloc[0][
        "timeliness_766_rate"
    ] == pytest.approx(0.6)


def test_waiting_switch_for_a_block_is_restored(monkeypatch):
    from cchc_analysis.core import targets

    monkeypatch.delenv(targets.COUNT_WAITING_ENV, raising=False)
    monkeypatch.delenv("CCHC_TARGETS", raising=False)
    with targets.counting_waiting_as_on_time(True):
        assert targets.count_waiting_as_on_time() is True
    assert targets.count_waiting_as_on_time() is False
    with targets.counting_waiting_as_on_time(None):
        assert targets.count_waiting_as_on_time() is False
