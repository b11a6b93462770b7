"""The index's counting done ahead (a run counts it while its last reports render) gives the
same page as counting it when the page is written; tables counted for other units are not
used."""

import re

from cchc_analysis.batch.manifest import ReportResult
from cchc_analysis.core.periods import parse_period
from cchc_analysis.reports.index_page import index_tables, write_index

PERIOD = parse_period("2023-Q3")


def _results() -> list[ReportResult]:
    return [
        ReportResult("district", "313", "Huyện An Lão", "313-an-lao.html", "ok", 1.0),
        ReportResult("district", "314", "Huyện Kiến Thụy", "314-kien-thuy.html", "failed", 1.0),
        ReportResult("province", "31", "Hải Phòng", "province-31-hai-phong.html", "ok", 1.0),
    ]


def _page(out) -> str:
    text = (out / "index.html").read_text(encoding="utf-8")
    return re.sub(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}", "<time>", text)  # the generation time


def test_tables_counted_ahead_give_the_same_index(prepared_dir, tmp_path):
    ahead, now, stale = tmp_path / "ahead", tmp_path / "now", tmp_path / "stale"
    for folder in (ahead, now, stale):
        folder.mkdir()
    tables = index_tables(prepared_dir, PERIOD, [("313", "district"), ("314", "district")], "both")
    write_index(ahead, prepared_dir, PERIOD, _results(), "vi", "both", tables)
    write_index(now, prepared_dir, PERIOD, _results(), "vi", "both")
    assert _page(ahead) == _page(now)
    assert "Huyện Kiến Thụy" in _page(now) and "Huyện An Lão" in _page(now)
    # counted for one unit only: the page is counted again for both
    one = index_tables(prepared_dir, PERIOD, [("313", "district")], "both")
    write_index(stale, prepared_dir, PERIOD, _results(), "vi", "both", one)
    assert _page(stale) == _page(now)
