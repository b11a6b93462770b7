"""The column-wise reading of date cells, and Arrow's CSV reader, give what the row path gives,
to the byte.

Plain date cells (dd/mm/yyyy HH:MM:SS and the like) are read column-wise from their bytes with
numpy (:func:`parsing._day_first_stamps`); every other cell still goes through
:func:`parsing.parse_datetime`. UTF-8 CSV files are read with Arrow's CSV reader
(:func:`sources._arrow_chunks`), whose cells stay Arrow text through validation
(:func:`parsing.factorize_cells`, :func:`parsing.text_column`); others, and any file it cannot
take as it is, with pandas. ``parsing.COLUMN_WISE = sources.ARROW_READER = False``
(``CCHC_INGEST_ROW_PATH=1``) reads every file with pandas and every cell through the parser:
the row path. A generated
50,000-row national export with bad rows mixed in (impossible and unreadable dates, dates in
other forms, unknown units, duplicate and conflicting ids, blank required cells, personal
columns, a totals line) and a workbook with a cover sheet must give the same processed data,
rejects file and ingest report both ways; and tricky cells (blank, NBSP, 29/02 of a common
year, 31/04, two-digit years, clocks, ISO forms) must be read cell for cell as the parsers do.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from ingest_helpers import write_xlsx

from cchc_analysis.ingest import parsing, sources, stored_match
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
    monkeypatch.setattr(sources, "ARROW_READER", column_wise)
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


@pytest.mark.parametrize("title", [False, True])
def test_vietnamese_csv_same_both_ways(tmp_path, monkeypatch, title):
    """Vietnamese headers and labels, decomposed tone marks (NFC both ways), a quoted cell with a
    line break, a missing optional column, bad rows, a totals line; with a title row above the
    header the Arrow reader gives the file to pandas, which must change nothing either."""
    from ingest_helpers import export_dossiers_vi

    from cchc_analysis.demo import synth

    frame = synth.generate_dossiers(district_codes=["314"]).head(3_000)
    export = export_dossiers_vi(frame, date_format="%d/%m/%Y %H:%M:%S").astype(object)
    export = export.drop(columns=[c for c in export.columns if "đánh giá" in c.lower()])
    export.loc[5, "Ngày tiếp nhận"] = "31/02/2024 10:00:00"
    export.loc[6, "Ngày tiếp nhận"] = "không rõ"
    export.loc[8, "Mã đơn vị"] = "99999"
    export.iloc[7, 0] = ""
    export["Họ tên người nộp"] = "Trần Thị Hoa"
    export.loc[10, "Họ tên người nộp"] = "Trần\nThị Hoa"  # a line break inside quotes
    text = export.to_csv(index=False, lineterminator="\r\n")
    assert "Thụy" in text  # tone marks as Windows-1258 tools write them: decomposed
    text = text.replace("Thụy", "Thu\u0323y")
    text += f"Tổng cộng: {len(export)} hồ sơ{',' * (export.shape[1] - 1)}\r\n"
    if title:
        text = "BÁO CÁO HỒ SƠ\r\n" + text
    source = tmp_path / "hoso.csv"
    source.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    whole_reads = []
    arrow_chunks = sources._arrow_chunks

    def spy(*args, **kwargs):
        yield from arrow_chunks(*args, **kwargs)
        whole_reads.append(args[0])

    monkeypatch.setattr(sources, "_arrow_chunks", spy)
    fast = _run(source, tmp_path / "fast", True, monkeypatch)
    assert bool(whole_reads) is not title  # a title row: the file is pandas'
    rows = _run(source, tmp_path / "rows", False, monkeypatch)
    _same_outputs(fast, rows)
    report = json.loads((fast / "ingest_report.json").read_text(encoding="utf-8"))
    reasons = report["rejected_by_reason"]
    for code in ("impossible_date", "bad_date", "unknown_unit", "missing_dossier_id"):
        assert reasons.get(code, 0) > 0, code
    assert report["non_data_rows_skipped"] == 1


# Files the Arrow reader must read as pandas does, or give to pandas.
_ODD_CSV = {
    "bom_crlf": b'\xef\xbb\xbfMa,Ten,Ngay\r\n1,"Thu\xcc\xa3y ""x""",01/02/2024\r\n'
    b'2,"two\nlines",\r\n3,,02/03/2024\r\n',
    "short_row": b"a;b;c\n1;2;3\n4;5\n6;7;8\n",
    "long_row": b"a,b,c\n1,2,3\n4,5,6,7\n6,7,8\n",
    "blank_lines": b"a,b,c\n1,2,3\n\n6,7,8\n\n",
    "title_row": b"Bao cao\na,b,c\n1,2,3\n",
    "cp1258": b"a,b,c\n1,Thu\xf2y,3\n",
    "tab_no_eol": b'a\tb\tc\n1\t"q"x\t3\n4\t x \t6',
    "quoted_blank": b'a,b,c\n"1","",3\n',
    "cr_only": b"a,b,c\r1,2,3\r4,5,6\r",
    "nul": b"a,b,c\n1,\x002,3\n",
}


def _chunks(
    path: Path, arrow: bool, chunk_rows: int, monkeypatch: pytest.MonkeyPatch, again: list[bool]
) -> list[tuple[pd.DataFrame, np.ndarray]] | str:
    """A file's raw chunks with the Arrow reader or pandas, read again as ingest does when the
    first guess was wrong (``again`` gets one entry per time); a SourceError's text."""
    monkeypatch.setattr(sources, "ARROW_READER", arrow)
    hints: dict = {}
    while True:
        try:
            return list(sources.stream_source(path, None, chunk_rows, **hints).chunks())
        except sources.ReadAgain as signal:
            again.append(arrow)
            hints = signal.hints
        except sources.SourceError as exc:
            return str(exc)


@pytest.mark.parametrize("name", sorted(_ODD_CSV))
def test_arrow_reader_gives_the_cells_pandas_gives(tmp_path, monkeypatch, name):
    path = tmp_path / f"{name}.csv"
    path.write_bytes(_ODD_CSV[name])
    arrow = _chunks(path, True, 2, monkeypatch, [])
    pandas = _chunks(path, False, 2, monkeypatch, [])
    if isinstance(pandas, str):
        assert arrow == pandas
        return
    assert isinstance(arrow, list) and len(arrow) == len(pandas)
    for (cells_a, rows_a), (cells_p, rows_p) in zip(arrow, pandas, strict=True):
        assert rows_a.tolist() == rows_p.tolist()
        pd.testing.assert_frame_equal(
            cells_a.astype(object), cells_p, check_column_type=False, check_index_type=False
        )


def test_a_record_longer_than_a_block_is_read_as_pandas_reads_it(tmp_path, monkeypatch):
    """Arrow's reader takes a record in one block: a cell longer than a block (a long narrative
    with line breaks) makes it refuse the file, which pandas then reads, cell for cell alike."""
    monkeypatch.setattr(sources, "ARROW_BLOCK_BYTES", 1 << 10)
    long_cell = '"' + "Hồ sơ dài,\n" * 400 + '"'
    lines = ["Ma,Ten,Ngay"] + [f"{i},x{i},01/02/2024" for i in range(300)]
    lines[150] = f"150,{long_cell},01/02/2024"
    path = tmp_path / "long.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    refused: list[bool] = []
    arrow = _chunks(path, True, 100, monkeypatch, refused)
    pandas = _chunks(path, False, 100, monkeypatch, refused)
    assert refused == [True]
    assert isinstance(arrow, list) and isinstance(pandas, list)
    assert [len(c) for c, _ in arrow] == [len(c) for c, _ in pandas] == [100, 100, 100, 1]
    for (cells_a, rows_a), (cells_p, rows_p) in zip(arrow, pandas, strict=True):
        assert rows_a.tolist() == rows_p.tolist()
        pd.testing.assert_frame_equal(cells_a.astype(object), cells_p)
    assert arrow[1][0].iloc[50, 1].count("Hồ sơ dài") == 400


@pytest.mark.parametrize(
    "odd",
    [
        [],
        ["  x  y ", " a\x1fb", "a\x0b\x0bb"],  # runs of spaces: the general branch's
        [" z ", "", None, float("nan"), "\tq"],
        ["Hồ sơ 1"],  # not ASCII: the general branch's
    ],
)
def test_ascii_text_column_is_the_general_one(monkeypatch, odd):
    values = pd.Series([f"H15.22-{i:06d}" for i in range(2_000)] + odd, dtype=object)
    fast = parsing.text_column(values)
    monkeypatch.setattr(parsing, "_ascii_text_column", lambda _, **__: None)
    pd.testing.assert_series_equal(fast, parsing.text_column(values))


# Cells the numpy reading of dates (parsing._day_first_stamps) must read exactly as
# parse_datetime does, or leave to it.
TRICKY_DATES = (
    "",
    " ",
    "\t",
    "\u00a0",
    "01/02/2024",
    "29/02/2024",  # a leap day
    "29/02/2023",  # not a leap year
    "29/02/1900",  # not a leap year (a century), and before 1990
    "29/02/2000",  # a leap year (400)
    "31/04/2024",  # April has 30 days
    "31/12/1989",  # before 1990
    "01/01/1990",
    "00/03/2024",
    "15/00/2024",
    "15/13/2024",
    "01/02/24",  # a two-digit year
    "1/2/2024",
    "01-02-2024",
    "01.02.2024",
    "2024/02/01",
    "2024-02-29",
    "2023-02-29",
    "2024-02-29 23:59:59",
    "2024-02-29T10:11:12",
    "2024-02-29 24:00:00",
    "15/03/2024 00:00:00",
    "15/03/2024 23:59:59",
    "15/03/2024 24:00:00",
    "15/03/2024 10:61:00",
    "15/03/2024 10:11:60",  # a leap second
    "15/03/2024 10:11",
    "15/03/2024 07:05:09 PM",
    "15/03/2024\u00a010:11:12",  # a no-break space before the clock
    "\u00a015/03/2024",
    " 15/03/2024",
    "15/03/2024 ",
    "0a/03/2024",
    "15/03/2024 10:11:1x",
    "\u0661\u0665/03/2024",  # Arabic-Indic digits: the parser's
    "15/03/9999 23:59:59",
    "20240315",
    "45300",
)


# Dates the parser reads that are not of a plain form (dd/mm/yyyy[ hh:mm:ss], ISO).
OTHER_FORMS = frozenset(
    (
        "1/2/2024",
        "01-02-2024",
        "01.02.2024",
        "2024/02/01",
        "2024-02-29T10:11:12",
        "15/03/2024 10:11",
        "15/03/2024 07:05:09 PM",
        "15/03/2024\u00a010:11:12",
        "\u00a015/03/2024",
        " 15/03/2024",
        "15/03/2024 ",
        "\u0661\u0665/03/2024",
        "20240315",
        "45300",
    )
)


def _parsed(value: str | None) -> object:
    try:
        return parsing.parse_datetime(value)
    except parsing.ParseError as exc:
        return exc.code


def test_day_first_stamps_read_as_parse_datetime():
    import pyarrow as pa

    grid = [
        f"{d:02d}/{m:02d}/{y}{clock}"
        for y in (1989, 1990, 1900, 2000, 2023, 2024, 2100)
        for d in range(0, 33)
        for m in range(0, 14)
        for clock in ("", " 23:59:59")
    ]
    values = [*TRICKY_DATES, None, *grid]
    read, stamps = parsing._day_first_stamps(pa.array(values, type=pa.string()))
    for value, is_read, stamp in zip(values, read.tolist(), stamps, strict=True):
        expected = _parsed(value)
        if is_read:
            assert pd.Timestamp(stamp) == expected, value
        else:  # left to the parser: a cell it refuses, or one of another form
            assert not isinstance(expected, pd.Timestamp) or value in OTHER_FORMS, value
    # every plain date that exists from 1990 on is read column-wise (else the speed is lost)
    days = pd.date_range("1990-01-01", "2100-12-31", freq="D")
    for form in ("%d/%m/%Y", "%Y-%m-%d", "%d/%m/%Y %H:%M:%S", "%Y-%m-%d %H:%M:%S"):
        text = pd.Series(days + pd.Timedelta(seconds=86399)).dt.strftime(form)
        read, stamps = parsing._day_first_stamps(pa.array(text, type=pa.string()))
        assert read.all(), form
        expected = pd.to_datetime(text, format=form).to_numpy().astype("datetime64[ms]")
        assert (stamps == expected).all(), form


@pytest.mark.parametrize("parser", [parsing.parse_datetime, parsing.parse_first_datetime])
def test_parse_column_on_arrow_text_is_the_row_path(monkeypatch, parser):
    cells = [*TRICKY_DATES, "01/07/2024; 15/07/2024", "xx; 01/07/2024", None]
    values = list(np.random.default_rng(5).choice(np.array(cells, dtype=object), 3_000))
    values += [f"{1 + i % 28:02d}/0{1 + i % 9}/2024 10:{i % 60:02d}:00" for i in range(3_000)]
    arrow = pd.Series(pd.array(values, dtype=sources.ARROW_TEXT))
    fast = parsing.parse_column(arrow, parser, as_datetime=True)
    monkeypatch.setattr(parsing, "COLUMN_WISE", False)
    rows = parsing.parse_column(pd.Series(values, dtype=object), parser, as_datetime=True)
    for a, b in zip(fast, rows, strict=True):
        pd.testing.assert_series_equal(a, b)


def test_factorize_cells_is_pd_factorize():
    values = ["b", "a", "", " a", None, "b", "Hồ sơ", "a", None]
    expected_codes, expected_uniques = pd.factorize(
        pd.Series(values, dtype=object), use_na_sentinel=True
    )
    for series in (
        pd.Series(values, dtype=object),
        pd.Series(pd.array(values, dtype=sources.ARROW_TEXT)),
        pd.Series(values, dtype="string"),
    ):
        codes, uniques = parsing.factorize_cells(series)
        assert codes.tolist() == expected_codes.tolist()
        assert uniques.tolist() == list(expected_uniques)


@pytest.mark.parametrize("repeat", [1, 50])
def test_text_column_on_arrow_text_is_the_object_path(repeat):
    odd = [
        " z ",
        "",
        "\u00a0x\u00a0",
        "a  b",
        "Ho\u0323 ti\u0323ch",
        "\tq",
        "nan",
        "None",
        "Hồ sơ 1",
    ]
    values = [f"H15.22-{i % (2_000 // repeat):06d}" for i in range(2_000)] + odd
    arrow = parsing.text_column(pd.Series(pd.array(values, dtype=sources.ARROW_TEXT)))
    objects = parsing.text_column(pd.Series(values, dtype=object))
    pd.testing.assert_series_equal(arrow, objects)
    assert arrow.iloc[-9:].tolist()[:3] == ["z", None, "x"]


# Cells of the coded columns (status, channel, online level, rating, yes/no flags) that the
# parsers read, refuse or leave blank.
CODED_CELLS = (
    "",
    " ",
    "\u00a0",
    None,
    "1",
    "2",
    "3",
    "4",
    "10",
    "42",
    "0",
    "Có",
    "Không",
    "có lẽ",
    " Trực tuyến ",
    "Toàn trình",
    "Đã trả kết quả",
    "Rút hồ sơ",
    "Hài lòng",
    "x",
)


@pytest.mark.parametrize(
    ("column", "parser"),
    [
        ("status", parsing.parse_status),
        ("channel", parsing.parse_channel),
        ("online_level", parsing.parse_online_level),
        ("rating", parsing.parse_rating),
        ("is_digitized", parsing.parse_bool),
    ],
)
@pytest.mark.parametrize("arrow", [False, True])
def test_parse_column_into_a_dtype_is_the_objects_cast(column, parser, arrow):
    """``dtype``: the values ``pd.array(objects, dtype)`` gives (validation reads the coded
    columns straight into the canonical dtypes, which coerce_dossiers then leaves alone)."""
    from cchc_analysis.core.schema import CATEGORY_VALUES, DOSSIER_DTYPES

    dtype = (
        pd.CategoricalDtype(CATEGORY_VALUES[column])
        if column in CATEGORY_VALUES
        else DOSSIER_DTYPES[column]
    )
    values = list(np.random.default_rng(9).choice(np.array(CODED_CELLS, dtype=object), 5_000))
    values[:2] = ["", None]  # a blank and a missing cell among the first (code -1)
    series = pd.Series(values, dtype=sources.ARROW_TEXT if arrow else object)
    typed, codes, messages = parsing.parse_column(series, parser, dtype=dtype)
    objects, expected_codes, expected_messages = parsing.parse_column(series, parser)
    assert typed.dtype == dtype
    pd.testing.assert_series_equal(typed, pd.Series(pd.array(objects, dtype=dtype)))
    pd.testing.assert_series_equal(codes, expected_codes)
    pd.testing.assert_series_equal(messages, expected_messages)
    assert typed.isna().any() and typed.notna().any()  # both kinds of cell were there


def test_parse_cells_of_a_missing_column_into_a_dtype():
    from cchc_analysis.ingest.problems import Problems, parse_cells

    raw = pd.DataFrame({"other": ["a", "b", "c"]})
    for dtype in ("boolean", pd.CategoricalDtype(("online", "postal"))):
        found = parse_cells(
            raw, "channel", parsing.parse_channel, Problems(), header="K", dtype=dtype
        )
        expected = pd.Series(pd.array([None] * 3, dtype=dtype))
        pd.testing.assert_series_equal(found, expected)


@pytest.mark.parametrize("repeat", [1, 50])
@pytest.mark.parametrize("arrow", [False, True])
@pytest.mark.parametrize("odd", [[], ["a  b", "Hồ sơ 1", " z ", "", None, "\u00a0x\u00a0"]])
def test_text_column_as_string_is_the_objects_cast(repeat, arrow, odd):
    """``as_string``: the canonical ``string`` column that ``.astype("string")`` makes of the
    objects, on each branch (repeated values, ASCII ids, the general one)."""
    values = [f"H15.22-{i % (2_000 // repeat):06d} " for i in range(2_000)] + odd
    series = pd.Series(values, dtype=sources.ARROW_TEXT if arrow else object)
    typed = parsing.text_column(series, as_string=True)
    objects = parsing.text_column(series)
    assert str(typed.dtype) == "string"
    pd.testing.assert_series_equal(typed, objects.astype("string"))
    blank = pd.Series([None, "", " "], dtype=sources.ARROW_TEXT if arrow else object)
    pd.testing.assert_series_equal(
        parsing.text_column(blank, as_string=True), parsing.text_column(blank).astype("string")
    )


@pytest.mark.parametrize("dtype", [object, "string", sources.ARROW_TEXT])
def test_key_hashes_are_the_salted_pandas_hashes(dtype):
    """The spool's key hashes are the values hash_pandas_object gives the ids as text (the
    stored rows' and the run's ids must hash alike, whichever way they were read)."""
    from cchc_analysis.ingest import spool

    ids = ["H15.22-000001", "", "Hồ sơ 1", "H15.22-000001", "a\u00a0b", None, "x" * 300]
    ids += [f"H15.22-{i:06d}" for i in range(1_000)]
    series = pd.Series(ids, dtype=dtype)
    found = spool.key_hashes(series)
    text = pd.Series(ids, dtype="string").fillna("")
    for salt, hashes in zip(stored_match.KEY_SALTS, found, strict=True):
        expected = pd.util.hash_pandas_object(text, index=False, hash_key=salt.ljust(16)[:16])
        assert hashes.tolist() == expected.to_numpy().tolist()
    assert found[0].tolist() != found[1].tolist()
    arrow = pa.array(ids)  # as a stored file's id column is read: plain, dictionary, chunked
    for column in (arrow, arrow.dictionary_encode(), pa.chunked_array([arrow[:3], arrow[3:]])):
        assert stored_match.first_key_hashes(column).tolist() == found[0].tolist()


def test_the_run_keys_find_exactly_the_stored_rows_of_their_dossiers():
    """The stored rows a run's ids test against: no key missed, none taken in excess, with
    the slot table sparse (few run keys) or crowded (more keys than it has slots)."""

    rng = np.random.default_rng(7)
    stored = rng.integers(0, np.iinfo(np.uint64).max, 400_000, dtype=np.uint64, endpoint=True)
    for run_count in (0, 1, 5_000, 3_000_000):
        run = np.unique(
            np.concatenate(
                [
                    stored[: run_count // 2],
                    rng.integers(
                        0,
                        np.iinfo(np.uint64).max,
                        run_count - run_count // 2,
                        dtype=np.uint64,
                        endpoint=True,
                    ),
                ]
            )
        )
        keys = stored_match.KeySet(run)
        assert keys.contains(stored).tolist() == np.isin(stored, run).tolist()
        assert keys.contains(run).all()


@pytest.mark.parametrize("how", ["ids", "key hashes"])
def test_a_stored_file_s_rows_wanted_are_those_of_the_run_s_dossiers(tmp_path, how):
    """A stored file of four row groups, each one unit's ids (as real ids begin with the unit's
    code): the rows whose id the run gives are found, and by ids a row group whose id range
    holds none of the run's is not read at all."""
    import pyarrow.parquet as pq

    ids = [
        f"{unit}-260{month}01-{i:04d}"
        for unit in ("03388", "03391", "10507", "11443")
        for month in (7, 8)
        for i in range(500)
    ]
    path = tmp_path / "part-0.parquet"
    pq.write_table(pa.table({"dossier_id": ids, "n": range(len(ids))}), path, row_group_size=1_000)
    run = ["03391-260801-0007", "03391-260701-0499", "11443-260801-0000", "99999-x", "03389"]
    keys = stored_match.KeySet(np.unique(stored_match.first_key_hashes(pa.array(run))))
    match = stored_match.RunMatch(pa.array(run) if how == "ids" else None, keys)
    handle = pq.ParquetFile(path)
    read: list[int] = []
    real = handle.read_row_group
    handle.read_row_group = lambda group, **kw: read.append(group) or real(group, **kw)
    wanted = match.rows_wanted(handle)
    assert np.flatnonzero(wanted).tolist() == [ids.index(i) for i in sorted(run) if i in ids]
    assert read == ([1, 3] if how == "ids" else [0, 1, 2, 3])


def test_stable_letters_are_nfc_alone_and_in_any_pair():
    """The characters the byte test (sources._only_stable_letters) passes without decoding:
    each is its own NFC form with combining class 0, and no two of them (nor one and an ASCII
    character) compose, so any text of them is NFC. Checked for every one, and every pair."""
    import unicodedata

    stable = [chr(c) for c in [*range(0x80, 0x280), *range(0x1E00, 0x1F00)]]
    for char in stable:
        assert sources._only_stable_letters(char.encode()), hex(ord(char))
        assert unicodedata.combining(char) == 0, hex(ord(char))
        assert unicodedata.normalize("NFC", char) == char, hex(ord(char))
    every = stable + [chr(c) for c in range(0x20, 0x7F)]
    for first in every:
        for second in every:
            pair = first + second
            assert unicodedata.is_normalized("NFC", pair), (hex(ord(first)), hex(ord(second)))
    # the next characters out are left to the full check
    for char in ("\u0280", "\u0300", "\u0323", "\u1dff", "\u1f00", "\u2013", "\u201c", "Ω"):
        assert not sources._only_stable_letters(char.encode()), hex(ord(char))


def test_is_nfc_is_unicodedata_on_vietnamese_text():
    import unicodedata

    rng = np.random.default_rng(11)
    pieces = ["Hồ sơ", "Thu\u0323y", "Kiến Thụy", "ỷ", "a\u0300", "Đ", "“x” – …", "ABC", "ǅ", " "]
    for _ in range(3_000):
        text = "".join(rng.choice(pieces, rng.integers(1, 6)))
        assert sources._is_nfc(text.encode()) == unicodedata.is_normalized("NFC", text), text


@pytest.mark.parametrize("form", ["%d/%m/%Y %H:%M:%S", "%Y-%m-%d"])
def test_day_first_stamps_of_one_form_among_blank_cells(form):
    """A date column of one form whose other cells are blank ("" or missing: a resolution
    date of open dossiers) is read from its bytes as they lie; each cell as the parser reads
    it, impossible dates (31/04, 29/02/2023) left to it."""
    import pyarrow as pa

    rng = np.random.default_rng(2)
    days = pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 900, 4_000), unit="D")
    values = list(pd.Series(days).dt.strftime(form))
    impossible = "31/04/2024 10:00:00" if "H" in form else "2023-02-29"
    for i in rng.choice(len(values), 1_500, replace=False):
        values[i] = ["", None, impossible][i % 3]
    read, stamps = parsing._day_first_stamps(pa.array(values, type=pa.string()))
    for value, is_read, stamp in zip(values, read.tolist(), stamps, strict=True):
        if value in ("", None, impossible):
            assert not is_read, value
        else:
            assert is_read and pd.Timestamp(stamp) == parsing.parse_datetime(value), value


@pytest.mark.parametrize("stamped", [False, True])
def test_content_hash_from_id_texts_is_the_frame_hash(stamped):
    """The spool's content hash with the ids given as Python strings is the value
    hash_pandas_object gives the canonical columns (missing values, categories, booleans,
    dates; rows closed on their snapshot hash as undated)."""
    from cchc_analysis.core.schema import coerce_dossiers
    from cchc_analysis.ingest import spool

    rng = np.random.default_rng(6)
    n = 3_000
    frame = coerce_dossiers(
        pd.DataFrame(
            {
                "dossier_id": [f"H15.22-{i:06d}" if i % 7 else f"Hồ sơ {i}" for i in range(n)],
                "unit_code": rng.choice(["314", "11680", None], n).astype(object),
                "channel": rng.choice(["online", "postal", None], n).astype(object),
                "status": rng.choice(["resolved", "withdrawn", "received"], n).astype(object),
                "received_at": pd.Timestamp("2024-01-01")
                + pd.to_timedelta(rng.integers(0, 300, n), unit="D"),
                "resolved_at": rng.choice([pd.Timestamp("2024-12-01"), pd.NaT], n),
                "is_digitized": rng.choice([True, False, None], n).astype(object),
                "supplement_count": rng.choice([0, 2, None], n).astype(object),
            }
        )
    )
    # masked free text comes as Python objects (privacy.mask_series), not the string dtype
    masked = rng.choice(["Hộ tịch", "[đã ẩn]", None], n)
    frame["procedure_name"] = pd.Series(masked, index=frame.index, dtype=object)
    assert frame["procedure_name"].dtype == object
    if stamped:
        frame = spool.close_on_snapshot(frame, pd.Series(pd.Timestamp("2025-01-31"), range(n)))
    texts = frame["dossier_id"].to_numpy(dtype=object)
    found = spool.content_hash(frame, id_texts=texts)
    assert found.tolist() == spool.content_hash(frame).tolist()
    rows = frame[list(spool.DOSSIER_COLUMNS)].copy()
    if stamped:
        rows.loc[frame["is_closed_on_snapshot"].to_numpy(), "resolved_at"] = pd.NaT
    expected = pd.util.hash_pandas_object(rows, index=False).to_numpy()
    assert found.tolist() == expected.tolist()
    assert len(set(found.tolist())) == n
