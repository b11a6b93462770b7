"""`cchc ingest`, `cchc units find` and aggregate-only folders, run as a data steward would."""

from __future__ import annotations

import json

from conftest import run_cchc
from ingest_helpers import rows, write_csv

from cchc_analysis import cli
from cchc_analysis.core.periods import parse_period
from cchc_analysis.ingest import bieu06


def test_fatal_file_is_one_line_exit_2(tmp_path):
    records = [{k: v for k, v in r.items() if k != "Ngày tiếp nhận"} for r in rows(3)]
    for record in records:
        record["Ngày nhận hs"] = "03/07/2023"
    path = write_csv(tmp_path / "thang7.csv", records)
    proc = run_cchc(
        "ingest", str(path), "--kind", "dossiers", "--out", str(tmp_path / "o"), check=False
    )
    assert proc.returncode == 2
    [line] = proc.stderr.strip().splitlines()
    assert line.startswith("cchc: error: ") and "thang7.csv" in line
    assert "no column for received_at" in line and "Ngày nhận hs" in line
    assert "closest: header 'Ngày nhận hs' ~ alias 'Ngày nhận hồ sơ'" in line
    assert "Traceback" not in proc.stderr and not (tmp_path / "o").exists()


def test_units_find(capsys):
    proc = run_cchc("units", "find", "Kiến Thuỵ")
    lines = proc.stdout.splitlines()
    assert lines[0].split() == [
        "code",
        "name",
        "level",
        "era",
        "parent_code",
        "parent_name",
        "score",
    ]
    assert lines[1].split()[:5] == ["314", "Huyện", "Kiến", "Thụy", "district"]
    assert "2024" in lines[1] and "Thành phố Hải Phòng" in lines[1]
    assert any(line.split()[0] == "11680" and "2025" in line for line in lines)
    # --province narrows a name that exists in many provinces
    assert cli.main(["units", "find", "Huyện Châu Thành", "--province", "82"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1].split()[0] == "821" and "Tiền Giang" in out[1]
    assert cli.main(["units", "find", "Hà Nội", "--era", "2025"]) == 0
    assert capsys.readouterr().out.splitlines()[1].split()[:2] == ["01", "Thành"]
    assert cli.main(["units", "find", "zzqqxx"]) == 2
    assert "no unit matches" in capsys.readouterr().err


def test_period_report_folder_answers_kpis_and_refuses_reports(tmp_path, capsys):
    period = parse_period("2023-Q3")
    import pandas as pd

    from cchc_analysis.core.schema import BIEU06_COUNT_COLUMNS

    counts = pd.DataFrame([{"unit_code": "314", **dict.fromkeys(BIEU06_COUNT_COLUMNS, 0)}])
    counts[["received_new_count", "received_total_count", "received_online_count"]] = 7
    counts[["resolved_early_count", "resolved_total_count"]] = 7
    path = bieu06.write_bieu06_xlsx(
        counts, tmp_path / "b.xlsx", period.start, period.end, unit_column="unit_code"
    )
    out = tmp_path / "agg"
    assert cli.main(["ingest", str(path), "--kind", "period-report", "--out", str(out)]) == 0
    capsys.readouterr()
    assert cli.main(["kpis", "--data", str(out), "--period", "2023-Q3", "--format", "json"]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert row["received_total_count"] == 7 and row["within_deadline_rate"] == 1.0
    assert row["digitization_rate"] is None
    assert cli.main(["kpis", "--data", str(out), "--period", "2023-Q4"]) == 2
    assert "no period report" in capsys.readouterr().err
    code = cli.main(
        ["report", "--data", str(out), "--period", "2023-Q3", "--out", str(tmp_path / "r")]
    )
    err = capsys.readouterr().err
    assert code == 2 and "period reports only" in err and err.count("\n") == 1
