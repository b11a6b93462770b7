"""The cut-off convention (15th to 14th) end to end: `cchc kpis --convention cutoff15` counts
from the dossier rows, exactly, on a case counted by hand; the data-start flag."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from conftest import run_cchc
from ingest_helpers import rows, write_csv

from cchc_analysis import cli
from cchc_analysis.batch.scheduled import SAMPLE_CONFIG, load_config, resolve_period
from cchc_analysis.core.errors import ConfigError
from cchc_analysis.core.periods import parse_period

# Kiến Thụy (314), dossiers around 2023-Q3. Cut-off Q3: 15/06/2023 - 14/09/2023.
#  id    received    due         resolved    cutoff15 Q3           calendar Q3 (01/07-30/09)
#  H0    02/05       05/05       04/05       before                before
#  H1    10/06       20/06       13/06       before                before
#  H2    12/06       30/06       25/06       carried, early        before
#  H3    20/06       05/07       05/07       new, on time          carried, on time
#  H4    10/09       12/09       13/09       new, late             new, late
#  H5    12/09       20/09       -           new, pending in time  new, pending late
#  H6    20/09       25/09       22/09       after                 new, early
#  H7    01/08       05/08       -           new, pending late     new, pending late
#  H8    01/06       05/06       16/06       carried, late         before
CASES = [
    ("H0", "02/05/2023", "05/05/2023", "04/05/2023"),
    ("H1", "10/06/2023", "20/06/2023", "13/06/2023"),
    ("H2", "12/06/2023", "30/06/2023", "25/06/2023"),
    ("H3", "20/06/2023", "05/07/2023", "05/07/2023"),
    ("H4", "10/09/2023", "12/09/2023", "13/09/2023"),
    ("H5", "12/09/2023", "20/09/2023", ""),
    ("H6", "20/09/2023", "25/09/2023", "22/09/2023"),
    ("H7", "01/08/2023", "05/08/2023", ""),
    ("H8", "01/06/2023", "05/06/2023", "16/06/2023"),
]
CUTOFF15_Q3 = {
    "carried_over_count": 2,
    "received_new_count": 4,
    "received_total_count": 6,
    "resolved_early_count": 1,
    "resolved_on_time_count": 1,
    "resolved_late_count": 2,
    "resolved_total_count": 4,
    "pending_in_time_count": 1,
    "pending_late_count": 1,
    "pending_total_count": 2,
}
CALENDAR_Q3 = {
    "carried_over_count": 1,
    "received_new_count": 4,
    "received_total_count": 5,
    "resolved_early_count": 1,
    "resolved_on_time_count": 1,
    "resolved_late_count": 1,
    "resolved_total_count": 3,
    "pending_in_time_count": 0,
    "pending_late_count": 2,
    "pending_total_count": 2,
}


def _records() -> list[dict]:
    out = []
    for dossier_id, received, due, resolved in CASES:
        row = rows(1)[0]
        row.update(
            {
                "Mã hồ sơ": dossier_id,
                "Ngày tiếp nhận": received,
                "Ngày hẹn trả": due,
                "Ngày có kết quả": resolved,
                "Trạng thái": "Đã trả kết quả" if resolved else "Đang xử lý",
                # every optional column, so that the report has each section's data
                "Số hóa": "Có",
                "Kết quả điện tử": "Có",
                "Có phí/lệ phí": "Có",
                "Thanh toán trực tuyến": "Không",
                "Đánh giá": "Hài lòng" if resolved else "",
            }
        )
        out.append(row)
    return out


@pytest.fixture(scope="module")
def hand_folder(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("convention")
    source = write_csv(root / "hoso.csv", _records())
    out = root / "data"
    assert cli.main(["ingest", str(source), "--kind", "dossiers", "--out", str(out)]) == 0
    return out


def _kpis(capsys, folder: Path, *args: str) -> dict:
    code = cli.main(["kpis", "--data", str(folder), "--unit", "314", "--format", "json", *args])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    (record,) = json.loads(captured.out)
    return record


def test_cutoff_period_dates():
    period = parse_period("2023-Q3", "cutoff15")
    assert (period.start.isoformat(), period.end.isoformat()) == ("2023-06-15", "2023-09-14")
    assert not period.is_month_aligned  # so counted from dossier rows, never the monthly cube


def test_kpis_cutoff15_counts_by_hand(capsys, hand_folder):
    record = _kpis(capsys, hand_folder, "--period", "2023-Q3", "--convention", "cutoff15")
    assert {k: record[k] for k in CUTOFF15_Q3} == CUTOFF15_Q3
    assert (record["period_start"], record["period_end"]) == ("2023-06-15", "2023-09-14")
    assert record["convention"] == "cutoff15"
    assert record["within_deadline_rate"] == pytest.approx(2 / 4)


def test_kpis_calendar_stays_the_default(capsys, hand_folder):
    record = _kpis(capsys, hand_folder, "--period", "2023-Q3")
    assert {k: record[k] for k in CALENDAR_Q3} == CALENDAR_Q3
    assert record["convention"] == "calendar"
    assert record["period_start"] == "2023-07-01"


def test_data_starting_inside_the_period_is_flagged(capsys, hand_folder):
    # The data starts on 02/05/2023: Q2 (from 01/04) has no history, Q3 has.
    assert _kpis(capsys, hand_folder, "--period", "2023-Q2")["has_full_history"] is False
    assert _kpis(capsys, hand_folder, "--period", "2023-Q3")["has_full_history"] is True
    # Cut-off Q3 starts on 15/06; the data before it (May) is enough.
    cutoff = _kpis(capsys, hand_folder, "--period", "2023-Q3", "--convention", "cutoff15")
    assert cutoff["has_full_history"] is True


def test_unknown_convention_is_a_usage_error(capsys, hand_folder):
    with pytest.raises(SystemExit) as exc:
        cli.main(["kpis", "--data", str(hand_folder), "--period", "2023-Q3", "--convention", "x"])
    assert exc.value.code == 2
    capsys.readouterr()


def test_report_names_the_convention_and_unknown_carry_over(hand_folder, tmp_path):
    """One render: cut-off Q2 (15/03 - 14/06/2023) of a unit whose data starts on 02/05."""
    out = tmp_path / "reports"
    run_cchc(
        "report", "--data", str(hand_folder), "--period", "2023-Q2", "--convention", "cutoff15",
        "--units", "314", "--out", str(out), "--workers", "1",
    )  # fmt: skip
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["convention"] == "cutoff15"
    assert (manifest["period_start"], manifest["period_end"]) == ("2023-03-15", "2023-06-14")
    (page,) = [r["file"] for r in manifest["reports"] if r["kind"] == "district"]
    html = (out / page).read_text(encoding="utf-8")
    assert "15/03/2023 – 14/06/2023, quy ước chốt số liệu ngày 14" in html
    assert "chưa biết số hồ sơ từ kỳ trước chuyển sang" in html


def test_run_config_takes_convention_and_level(tmp_path):
    config = tmp_path / "cchc.toml"
    text = SAMPLE_CONFIG.replace('# level = "commune"', 'level = "district"')
    config.write_text(text.replace('convention = "calendar"', 'convention = "cutoff15"'))
    loaded = load_config(config)
    assert (loaded.convention, loaded.level) == ("cutoff15", "district")
    assert load_config(_sample(tmp_path)).convention == "calendar"
    config.write_text(text.replace('convention = "calendar"', 'convention = "15th"'))
    with pytest.raises(ConfigError, match="convention must be calendar or cutoff15"):
        load_config(config)
    config.write_text(text.replace('level = "district"', 'level = "ward"'))
    with pytest.raises(ConfigError, match="level must be"):
        load_config(config)


def _sample(folder: Path) -> Path:
    path = folder / "sample.toml"
    path.write_text(SAMPLE_CONFIG, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("rule", "today", "label", "start"),
    [
        # cut-off months close on the 14th: on the 20th, this month's period is complete
        ("previous-month", date(2025, 10, 20), "2025-10", "2025-09-15"),
        ("previous-month", date(2025, 10, 10), "2025-09", "2025-08-15"),
        ("previous-quarter", date(2025, 9, 20), "2025-Q3", "2025-06-15"),
        ("previous-quarter", date(2025, 9, 10), "2025-Q2", "2025-03-15"),
        ("previous-year", date(2026, 1, 5), "2025", "2024-12-15"),
    ],
)
def test_cutoff_period_rules(rule, today, label, start):
    period = resolve_period(rule, today, "cutoff15")
    assert (str(period), period.start.isoformat(), period.convention) == (label, start, "cutoff15")
    assert period.end < today


def test_cli_run_and_report_take_the_options():
    parser = cli.build_parser()
    run = parser.parse_args(
        ["run", "--config", "x", "--convention", "cutoff15", "--level", "commune"]
    )
    assert (run.convention, run.level) == ("cutoff15", "commune")
    assert parser.parse_args(["run", "--config", "x"]).convention is None  # the config's
    report = parser.parse_args(["report", "--data", "d", "--period", "2025-Q3", "--out", "o"])
    assert report.convention == "calendar"


def test_scheduled_run_passes_convention_and_level(tmp_path, monkeypatch):
    """`cchc run`: the config's convention and level reach the reports, the options override
    them; a cut-off period's reports get their own folder."""
    from cchc_analysis.batch import scheduled

    asked = []

    def render(data_dir, period, out_dir, **options):
        asked.append((period, Path(out_dir), options["level"]))
        return {"reports": []}

    monkeypatch.setattr(scheduled, "render_reports", render)
    (tmp_path / "inbox").mkdir()
    write_csv(tmp_path / "inbox" / "hoso.csv", _records())
    config = tmp_path / "cchc.toml"
    text = SAMPLE_CONFIG.replace("settle_seconds = 60", "settle_seconds = 0")
    config.write_text(text.replace('# level = "commune"', 'level = "district"'), encoding="utf-8")
    summary = scheduled.run_scheduled(
        load_config(config), today=date(2023, 10, 20), convention="cutoff15", quiet=True
    )
    assert summary.exit_code == 0
    period, out, level = asked[-1]
    assert (period.start, period.end) == (date(2023, 9, 15), date(2023, 10, 14))
    assert out.name == "2023-10-cutoff15" and level == "district"
    scheduled.run_scheduled(
        load_config(config), today=date(2023, 10, 20), level="province", quiet=True
    )
    period, out, level = asked[-1]
    assert (period.start, out.name, level) == (date(2023, 9, 1), "2023-09", "province")


def test_cutoff15_on_the_units_of_the_reform(tmp_path):
    """Era 2025 (new communes, provinces, former districts' areas): a cut-off quarter that
    straddles the reform counts from the dossier rows like the same day range, by hand too."""
    from test_new_units import _frame

    from cchc_analysis import store
    from cchc_analysis.counting import CountQuery, kpi_table, prepare_folder

    store.write_dossiers(_frame(), tmp_path)
    prepare_folder(tmp_path)
    cutoff = parse_period("2025-Q3", "cutoff15")
    days = parse_period("2025-06-15:2025-09-14")
    for level, unit in (("commune", "11443"), ("province", "31"), ("district", "307")):
        asked = CountQuery(cutoff, level=level, era="2025", unit_codes=[unit])
        [row] = kpi_table(tmp_path, asked).to_dict(orient="records")
        [same] = kpi_table(tmp_path, asked.with_options(period=days, source="dossiers")).to_dict(
            orient="records"
        )
        assert {k: v for k, v in row.items() if k.endswith("_count")} == {
            k: v for k, v in same.items() if k.endswith("_count")
        }, level
        assert row["convention"] == "cutoff15" and same["convention"] == "calendar"
        if level == "commune":  # o1 carried over (resolved on the 15th); o2, o3, n1-n3 new
            counts = (
                row["carried_over_count"],
                row["received_new_count"],
                row["resolved_early_count"],
                row["resolved_on_time_count"],
                row["resolved_late_count"],
                row["pending_late_count"],
                row["pending_in_time_count"],
            )
            assert counts == (1, 5, 2, 1, 1, 2, 0)
