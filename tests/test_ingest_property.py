"""Row accounting as a property: whatever the input, every row read is accepted or rejected."""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ingest_helpers import write_csv

from cchc_analysis import ingest, store

CELLS = {
    "Mã hồ sơ": ["H-1", "H-2", "H-3", "H-4", "H-5", "H-6", "", " "],
    "Mã đơn vị": ["314", "11680", "313", "999", "31", "", "Huyện Kiến Thụy"],
    "Ngày tiếp nhận": ["03/07/2023", "2023-07-03", "45110", "31/02/2024", "abc", ""],
    "Ngày hẹn trả": ["05/07/2023", "05-07-2023 17:00", "01/07/2023", ""],
    "Ngày có kết quả": ["04/07/2023", "", "02/07/2023", "04/07/2099"],
    "Trạng thái": ["10", "Đã trả kết quả", "4", "Rút hồ sơ", "xyz", ""],
    "Kênh nộp": ["1", "2", "3", "Trực tuyến", "", "??"],
    "Ghi chú": ["", "gọi 0912345678", "=1+1"],
}

row_strategy = st.one_of(
    st.fixed_dictionaries({k: st.sampled_from(v) for k, v in CELLS.items()}),
    st.just(dict.fromkeys(CELLS, "")),  # a blank line: skipped, not a row
)


def _check(report: dict) -> None:
    for entry in [report, *report["files"]]:
        assert entry["rows_read"] == entry["rows_accepted"] + entry["rows_rejected"]
        assert sum(entry["rejected_by_reason"].values()) == entry["rows_rejected"]
        assert entry["rows_accepted"] == sum(
            entry[f"rows_{name}"]
            for name in ("added", "duplicate", "updated", "corrected", "older")
        )


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    files=st.lists(st.lists(row_strategy, min_size=1, max_size=12), min_size=1, max_size=3),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1258"]),
)
def test_rows_read_equals_accepted_plus_rejected(files, encoding):
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        paths = []
        for i, records in enumerate(files):
            sep = "\t" if encoding == "utf-16" else ","
            paths.append(write_csv(tmp_path / f"f{i}.csv", records, encoding=encoding, sep=sep))
        out = tmp_path / "out"
        data_rows = sum(1 for rows in files for r in rows if any(v.strip() for v in r.values()))
        first = ingest.ingest(paths, "dossiers", out)
        _check(first)
        assert first["rows_read"] == data_rows
        assert first["exit_code"] == (1 if first["rows_rejected"] else 0)
        assert len(store.read_dossiers(out)) == first["rows_added"]
        rejects = (out / "rejects" / "dossiers.csv").read_text(encoding="utf-8-sig")
        assert len(list(csv.DictReader(io.StringIO(rejects)))) == first["rows_rejected"]
        assert "0912345678" not in rejects

        again = ingest.ingest(paths, "dossiers", out)
        _check(again)
        assert again["rows_added"] == 0
        assert again["rows_accepted"] == first["rows_accepted"]
        assert again["rows_rejected"] == first["rows_rejected"]
        assert len(store.read_dossiers(out)) == first["rows_added"]
