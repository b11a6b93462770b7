"""`cchc run --config`: inbox → ingest → archive → prepare → reports → index, as cron runs it."""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path

import pytest
from conftest import run_cchc
from test_runner import write_notebooks

from cchc_analysis import store
from cchc_analysis.batch.scheduled import (
    SAMPLE_CONFIG,
    ConfigError,
    load_config,
    resolve_period,
    scan_inbox,
)

CONFIG = """
[paths]
inbox = "inbox"
archive = "archive"
rejected = "rejected"
data = "data"
reports = "reports"

[ingest]
settle_seconds = 0

[[ingest.files]]
pattern = "hoso-*.csv"
kind = "dossiers"

[report]
period = "previous-month"
workers = 2
"""


@pytest.mark.parametrize(
    ("rule", "today", "label"),
    [
        ("previous-month", date(2025, 7, 3), "2025-06"),
        ("previous-month", date(2025, 1, 31), "2024-12"),
        ("previous-quarter", date(2025, 7, 1), "2025-Q2"),
        ("previous-quarter", date(2025, 2, 10), "2024-Q4"),
        ("previous-half", date(2025, 7, 1), "2025-H1"),
        ("previous-half", date(2025, 6, 30), "2024-H2"),
        ("previous-year", date(2025, 3, 1), "2024"),
        ("2023-Q3", date(2025, 3, 1), "2023-Q3"),
    ],
)
def test_period_rules(rule, today, label):
    assert str(resolve_period(rule, today)) == label


def test_config_errors_are_clear(tmp_path):
    path = tmp_path / "cchc.toml"
    path.write_text(CONFIG.replace('"dossiers"', '"invoices"'), encoding="utf-8")
    with pytest.raises(ConfigError, match="kind 'invoices' is not one of"):
        load_config(path)
    path.write_text(CONFIG.replace("previous-month", "last-week"), encoding="utf-8")
    with pytest.raises(ConfigError, match="period 'last-week'"):
        load_config(path)
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "missing.toml")
    sample = tmp_path / "sample.toml"
    sample.write_text(SAMPLE_CONFIG, encoding="utf-8")
    config = load_config(sample)
    assert config.rejected == tmp_path / "rejected" and config.settle_seconds == 60


def test_inbox_scan_skips_unsettled_unmatched_and_partial_files(tmp_path):
    path = tmp_path / "cchc.toml"
    path.write_text(CONFIG.replace("settle_seconds = 0", "settle_seconds = 60"), encoding="utf-8")
    config = load_config(path)
    config.inbox.mkdir()
    old = config.inbox / "hoso-old.csv"
    for name in ("hoso-old.csv", "hoso-new.csv", "notes.txt", "hoso-x.csv.part", ".hidden"):
        (config.inbox / name).write_text("x")
    os.utime(old, (old.stat().st_mtime - 600,) * 2)
    found, left = scan_inbox(config)
    assert [(f.path.name, f.kind) for f in found] == [("hoso-old.csv", "dossiers")]
    assert sorted(p.name for p, _ in left) == ["hoso-new.csv", "notes.txt"]


def _export(demo_dir: Path, path: Path) -> int:
    """A one-stop export (canonical headers) of two months of both fixture districts."""
    frame = store.read_dossiers(demo_dir)
    frame = frame[frame["received_at"] >= "2025-05-01"].drop(columns=["district_code"])
    frame.to_csv(path, index=False)
    return len(frame)


def test_scheduled_run_end_to_end(demo_dir, tmp_path, monkeypatch):
    # Stand-in notebooks keep this quick; the real ones run in test_runner's Dask test.
    monkeypatch.setenv("CCHC_NOTEBOOKS", str(write_notebooks(tmp_path / "notebooks")))
    config = tmp_path / "cchc.toml"
    config.write_text(CONFIG, encoding="utf-8")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    rows = _export(demo_dir, inbox / "hoso-2025-06.csv")
    (inbox / "hoso-broken.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    (inbox / "notes.txt").write_text("not an export", encoding="utf-8")

    proc = run_cchc("run", "--config", str(config), "--today", "2025-07-15", check=False)
    assert proc.returncode == 1, proc.stderr  # a file was rejected and one left behind
    assert "2025-06: 1 files ingested, 1 rejected, 1 left in the inbox" in proc.stderr

    archived = tmp_path / "archive" / "2025-07-15" / "hoso-2025-06.csv"
    assert archived.exists() and not (inbox / "hoso-2025-06.csv").exists()
    account = json.loads(archived.with_name(archived.name + ".ingest.json").read_text("utf-8"))
    assert account["rows_read"] == rows and account["rows_accepted"] == rows
    rejected = tmp_path / "rejected" / "2025-07-15" / "hoso-broken.csv"
    assert rejected.exists() and rejected.with_name("hoso-broken.csv.error.txt").read_text()
    assert (inbox / "notes.txt").exists()

    out = tmp_path / "reports" / "2025-06"
    names = sorted(p.name for p in out.glob("*.html"))
    assert names == [
        "313-an-lao.html",
        "314-kien-thuy.html",
        "index.html",
        "province-31-hai-phong.html",
    ]
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert {r["status"] for r in manifest["reports"]} == {"ok"}
    assert manifest["complete"] is True
    log = next((tmp_path / "reports" / "logs").glob("cchc-run-*.log")).read_text("utf-8")
    assert "ingested hoso-2025-06.csv" in log and "rejected hoso-broken.csv" in log
    assert "left in the inbox: notes.txt" in log

    # Next month's cron run with nothing new: exit 0, nothing re-rendered, nothing moved.
    (inbox / "notes.txt").unlink()
    proc = run_cchc("run", "--config", str(config), "--today", "2025-07-20", "--quiet")
    assert proc.stdout == "" and proc.stderr == ""
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert {r["status"] for r in manifest["reports"]} == {"skipped"}
    assert archived.exists() and rejected.exists()
