"""Cell values, headers and encodings as Vietnamese exports write them."""

from __future__ import annotations

import codecs
import datetime as dt

import pandas as pd
import pytest

from cchc_analysis.core.errors import ParseError
from cchc_analysis.ingest import headers, parsing, sources


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("33.653", 33653),
        ("1.234,5", 1234.5),
        ("1.234.567", 1234567),
        ("99,46", 99.46),
        ("1,234", 1.234),
        ("12.5", 12.5),
        ("12", 12),
        (" 1 234 ", 1234),
        ("-", 0),
        (12.0, 12.0),
        ("", None),
    ],
)
def test_vietnamese_numbers(text, value):
    assert parsing.parse_number(text) == value


def test_counts_and_rates():
    assert parsing.parse_count("1.473") == 1473
    assert parsing.parse_count("1,473") == 1473  # English thousands in a count
    assert parsing.parse_rate("99,46%") == pytest.approx(0.9946)
    assert parsing.parse_rate("0,9925") == pytest.approx(0.9925)
    for bad, code in (
        ("-3", "negative_count"),
        ("abc", "non_numeric_count"),
        ("1,5", "non_numeric_count"),
        ("33.65", "non_numeric_count"),
    ):
        with pytest.raises(parsing.ParseError) as info:
            parsing.parse_count(bad)
        assert info.value.code == code


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("15/08/2023", "2023-08-15 00:00"),
        ("15-08-2023", "2023-08-15 00:00"),
        ("2023-08-15", "2023-08-15 00:00"),
        ("5/8/2023 14:30", "2023-08-05 14:30"),
        ("15/08/2023 02:30 CH", "2023-08-15 14:30"),
        ("2023-08-15T14:30:00.123Z", "2023-08-15 14:30"),
        ("14:30 15/08/2023", "2023-08-15 14:30"),
        ("45153", "2023-08-15 00:00"),
        (45153.75, "2023-08-15 18:00"),
        (dt.datetime(2023, 8, 15, 9, 5), "2023-08-15 09:05"),
        (dt.date(2023, 8, 15), "2023-08-15 00:00"),
        ("20230815", "2023-08-15 00:00"),
    ],
)
def test_dates(raw, expected):
    assert parsing.parse_datetime(raw).strftime("%Y-%m-%d %H:%M") == expected


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("31/02/2024", "impossible_date"),
        ("29/02/2023", "impossible_date"),
        ("15/13/2023", "impossible_date"),
        ("01/01/1900", "impossible_date"),
        ("hôm qua", "bad_date"),
        ("15/08/23", "bad_date"),
        ("25:00 15/08/2023", "impossible_date"),
    ],
)
def test_bad_dates(raw, code):
    with pytest.raises(parsing.ParseError) as info:
        parsing.parse_datetime(raw)
    assert info.value.code == code


def test_codes_and_labels():
    assert [parsing.parse_channel(v) for v in ("1", "2", "3", 2.0)] == [
        "in_person",
        "online",
        "postal",
        "online",
    ]
    assert parsing.parse_channel("DỊCH VỤ BƯU CHÍNH CÔNG ÍCH") == "postal"
    assert parsing.parse_channel("Trực tuyến") == "online"
    codes = {str(i): parsing.parse_status(str(i)) for i in range(1, 11)}
    assert codes == {
        "1": "awaiting_intake",
        "2": "received",
        "3": "refused",
        "4": "processing",
        "5": "supplement_requested",
        "6": "processing",
        "7": "withdrawn",
        "8": "stopped",
        "9": "resolved",
        "10": "returned",
    }
    assert parsing.parse_status("Đã trả kết quả") == "returned"
    assert parsing.parse_status("da tra ket qua") == "returned"
    assert parsing.parse_status("Đang xử lý") == "processing"
    assert parsing.parse_status("Mới đăng ký") == "awaiting_intake"
    assert parsing.parse_status("KHÔNG ĐƯỢC TIẾP NHẬN") == "refused"
    assert parsing.parse_status("Dừng xử lý") == "stopped"
    assert parsing.parse_status("Từ chối giải quyết") == "rejected"
    assert parsing.parse_status(3.0) == "refused"  # Excel stores codes as numbers
    assert [
        parsing.parse_online_level(v) for v in ("4", "3", "2", "Mức độ 4", "Toàn trình", "Một phần")
    ] == ["full", "partial", "none", "full", "full", "partial"]
    assert [parsing.parse_bool(v) for v in ("Có", "x", "1", "Không", "0", "Đã số hóa", "")] == [
        True,
        True,
        True,
        False,
        False,
        True,
        None,
    ]
    assert parsing.parse_rating("Rất hài lòng") == "very_satisfied"
    assert parsing.parse_rating("Chưa đánh giá") is None
    with pytest.raises(parsing.ParseError):
        parsing.parse_status("chưa rõ")


def test_periods_in_text():
    cases = {
        "Kỳ báo cáo: từ ngày 01/7/2023 đến ngày 30/9/2023": ("2023-07-01", "2023-09-30"),
        "QUÝ III NĂM 2023": ("2023-07-01", "2023-09-30"),
        "Quý 4/2024": ("2024-10-01", "2024-12-31"),
        "Tháng 9/2023": ("2023-09-01", "2023-09-30"),
        "6 tháng đầu năm 2024": ("2024-01-01", "2024-06-30"),
        "Năm 2023": ("2023-01-01", "2023-12-31"),
        "2023-Q3": ("2023-07-01", "2023-09-30"),
    }
    for text, (start, end) in cases.items():
        period = parsing.find_period(text)
        assert (period.start.isoformat(), period.end.isoformat()) == (start, end), text
    assert parsing.find_period("Biểu số 06") is None


def test_header_keys_ignore_case_spacing_punctuation_and_marks():
    for spelling in (
        "NGÀY TIẾP NHẬN",
        "Ngày tiếp nhận",
        "ngay_tiep_nhan",
        "NgayTiepNhan",
        "Ngày  tiếp\nnhận",
        "Ngày tiếp nhận:",
    ):
        assert headers.canonical_for(spelling, "dossiers") == "received_at", spelling
    assert headers.canonical_for("Số hoá", "dossiers") == "is_digitized"  # old tone placement
    match = headers.match_headers(["Ngày nộp", "Ngày tiếp nhận", "Họ tên", "Ghi chú"], "dossiers")
    assert match.columns == {"received_at": 1}  # the earlier alias wins over "Ngày nộp"
    assert match.personal == ["Họ tên"] and match.ignored == ["Ngày nộp", "Ghi chú"]


@pytest.mark.parametrize(
    ("raw", "encoding"),
    [
        (codecs.BOM_UTF8 + "Mã hồ sơ".encode(), "utf-8-sig"),
        ("Mã hồ sơ".encode("utf-16"), "utf-16"),
        ("Mã hồ sơ".encode("utf-16-le"), "utf-16-le"),
        ("Mã hồ sơ".encode(), "utf-8"),
        ("Ma ho so \u00e2".encode("cp1258"), "windows-1258"),
    ],
)
def test_decoding(raw, encoding):
    text, found = sources.decode_bytes(raw)
    assert found == encoding and text.startswith("Ma" if encoding == "windows-1258" else "Mã")


def test_delimiter_sniffing():
    assert sources.sniff_delimiter("a;b;c\n1;2,5;3\n") == ";"
    assert sources.sniff_delimiter("a\tb\tc\n1\t2\t3\n") == "\t"
    assert sources.sniff_delimiter('a,b,c\n1,"x; y",3\n') == ","


def test_parse_column_maps_each_value_once():
    calls = []

    def parser(value):
        calls.append(value)
        return parsing.parse_datetime(value)

    values = pd.Series(["15/08/2023"] * 1000 + [None, "31/02/2024"])
    parsed, codes, _ = parsing.parse_column(values, parser, as_datetime=True)
    assert len(calls) == 3 and parsed.dtype == "datetime64[ms]"
    assert codes.iloc[-1] == "impossible_date" and codes.iloc[-2] is None


@pytest.mark.parametrize(
    ("cell", "status"), [("10.0", "returned"), ("3.0", "refused"), ("4.00", "processing")]
)
def test_status_codes_written_as_whole_numbers_are_read(cell, status):
    """A code column a spreadsheet or pandas wrote as numbers ("10.0") is the code itself."""
    assert parsing.parse_status(cell) == status


def test_a_fractional_status_code_is_still_unknown():
    with pytest.raises(ParseError):
        parsing.parse_status("10.5")
