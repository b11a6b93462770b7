"""Faults a scheduled run meets at night: two writers at once, a full or read-only disk, no
memory, a kill at a random point. Each must end in one line and a documented exit code, with
the data folder exactly as it was (or, for a second writer, serialised: no row lost or doubled).

Faults of the machine are injected (tests run as root in CI, where chmod stops nothing): an
``OSError`` with the errno the kernel gives, raised from the step where it would happen.
"""

from __future__ import annotations

import errno
import hashlib
import json
import multiprocessing
import os
import random
import signal
import time
from pathlib import Path

import pandas as pd
import pytest
from ingest_helpers import rows, write_csv

from cchc_analysis import cli, store
from cchc_analysis.core.locking import RunLock
from cchc_analysis.core.periods import parse_period
from cchc_analysis.core.schema import BIEU06_COUNT_COLUMNS
from cchc_analysis.ingest import bieu06
from cchc_analysis.ingest.run import INGEST_LOCK
from cchc_analysis.store.transaction import JOURNAL_DIR

TRIALS = 10
FORK = multiprocessing.get_context("fork")


def _tree(folder: Path) -> dict[str, str]:
    """Every file of the folder (lock files aside) and a digest of its content."""
    out = {}
    if not folder.exists():
        return out
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.name.endswith(".lock"):
            out[str(path.relative_to(folder))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def _stored_ids(folder: Path) -> list[str]:
    return store.read_dossiers(folder, columns=["dossier_id"])["dossier_id"].tolist()


def _run_cli(args: list[str], queue: multiprocessing.Queue) -> None:  # in a forked child
    import contextlib
    import io

    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = cli.main(args)
    queue.put((code, err.getvalue()))


def _concurrently(*commands: list[str]) -> list[tuple[int, str]]:
    """Run the commands in forked children at once (their parent warmed up: the registry and
    the alias tables are loaded once, so a trial costs the ingests, not the imports)."""
    queue: multiprocessing.Queue = FORK.Queue()
    children = [FORK.Process(target=_run_cli, args=(c, queue)) for c in commands]
    for child in children:
        child.start()
    results = [queue.get(timeout=300) for _ in children]
    for child in children:
        child.join(timeout=60)
    return results


# --- one folder, one writer ----------------------------------------------------------------------


def test_concurrent_dossier_ingests_store_each_dossier_once(tmp_path):
    a = write_csv(tmp_path / "a.csv", rows(600, start=1))
    b = write_csv(tmp_path / "b.csv", rows(600, start=301))  # 300 shared with a
    assert cli.main(["ingest", str(a), "--kind", "dossiers", "--out", str(tmp_path / "w")]) == 0
    for trial in range(TRIALS):
        out = tmp_path / f"out{trial}"
        results = _concurrently(
            ["ingest", str(a), "--kind", "dossiers", "--out", str(out), "--lock-timeout", "120"],
            ["ingest", str(b), "--kind", "dossiers", "--out", str(out), "--lock-timeout", "120"],
        )
        assert [code for code, _ in results] == [0, 0], results
        ids = _stored_ids(out)
        assert len(ids) == 900 and len(set(ids)) == 900, f"trial {trial}: {len(ids)} stored"
        accounts = sorted((out / "ingest_reports").glob("*.json"))
        assert len(accounts) == 2  # both runs' accounts kept
        reports = [json.loads(p.read_text(encoding="utf-8")) for p in accounts]
        assert sum(r["rows_added"] for r in reports) == 900
        assert sum(r["rows_duplicate"] for r in reports) == 300
        latest = json.loads((out / "ingest_report.json").read_text(encoding="utf-8"))
        assert latest == reports[-1]


def _bieu06(path: Path, period: str, received: int) -> Path:
    chosen = parse_period(period)
    counts = pd.DataFrame([{"unit_code": "314", **dict.fromkeys(BIEU06_COUNT_COLUMNS, 0)}])
    counts[["received_new_count", "received_total_count", "received_online_count"]] = received
    counts[["resolved_early_count", "resolved_total_count"]] = received
    return bieu06.write_bieu06_xlsx(counts, path, chosen.start, chosen.end, unit_column="unit_code")


def test_concurrent_period_report_ingests_keep_both_sheets(tmp_path):
    july = _bieu06(tmp_path / "bieu06-07.xlsx", "2023-07", 5)
    august = _bieu06(tmp_path / "bieu06-08.xlsx", "2023-08", 8)
    warm = ["ingest", str(july), "--kind", "period-report", "--out", str(tmp_path / "w")]
    assert cli.main(warm) == 0
    for trial in range(TRIALS):
        out = tmp_path / f"out{trial}"
        common = ["--kind", "period-report", "--out", str(out), "--lock-timeout", "120"]
        results = _concurrently(["ingest", str(july), *common], ["ingest", str(august), *common])
        assert [code for code, _ in results] == [0, 0], results
        table = store.read_table(out, store.PERIOD_REPORTS_FILE)
        assert table is not None
        assert sorted(table["received_new_count"].tolist()) == [5, 8], f"trial {trial}"


def test_a_second_ingest_without_timeout_exits_2_in_one_line(tmp_path, capsys):
    out = tmp_path / "out"
    path = write_csv(tmp_path / "a.csv", rows(5))
    with RunLock(out / INGEST_LOCK):
        code = cli.main(["ingest", str(path), "--kind", "dossiers", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "--lock-timeout" in err
    assert not store.has_dossiers(out)


def test_every_ingest_account_is_kept(tmp_path, capsys):
    out = tmp_path / "out"
    for n, start in ((3, 1), (4, 10)):
        path = write_csv(tmp_path / f"f{start}.csv", rows(n, start=start))
        assert cli.main(["ingest", str(path), "--kind", "dossiers", "--out", str(out)]) == 0
        time.sleep(0.01)
    accounts = sorted((out / "ingest_reports").glob("*.json"))
    assert [json.loads(p.read_text())["rows_added"] for p in accounts] == [3, 4]
    assert not (out / JOURNAL_DIR).exists() and not (out / INGEST_LOCK).exists()


# --- faults of the machine: one line, exit 3, the folder as it was ------------------------------


@pytest.fixture
def seeded(tmp_path, capsys):
    """A folder holding 5 dossiers (cube, account, rejects), and a new export of 5 more."""
    out = tmp_path / "out"
    first = write_csv(tmp_path / "first.csv", rows(5))
    assert cli.main(["ingest", str(first), "--kind", "dossiers", "--out", str(out)]) == 0
    bad = rows(1, start=1, **{"Mã đơn vị": "x"})  # rejected: the rerun exits 1
    new = write_csv(tmp_path / "new.csv", rows(5, start=100) + bad)
    capsys.readouterr()
    return out, new


def _assert_one_line_exit(capsys, code: int, expected: int, *words: str) -> str:
    err = capsys.readouterr().err
    assert code == expected, err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    for word in words:
        assert word in err, err
    return err


def _full_disk(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device", "cube.parquet")


@pytest.mark.parametrize(
    "target",
    [
        "cchc_analysis.counting.prepare.prepare_cube",  # the cube, after the new partitions
        "cchc_analysis.ingest.run.write_account",  # the account, after the cube
        "cchc_analysis.ingest.run.write_rejects",
        "cchc_analysis.store.write_dataset_info",
    ],
)
def test_a_full_disk_leaves_the_folder_as_it_was(seeded, capsys, monkeypatch, target):
    out, new = seeded
    before = _tree(out)
    monkeypatch.setattr(target, _full_disk)
    code = cli.main(["ingest", str(new), "--kind", "dossiers", "--out", str(out)])
    _assert_one_line_exit(capsys, code, 3, "disk is full")
    assert _tree(out) == before
    monkeypatch.undo()
    # the rerun's account is whole: nothing of the failed run counted as already present
    assert cli.main(["ingest", str(new), "--kind", "dossiers", "--out", str(out)]) == 1
    report = json.loads((out / "ingest_report.json").read_text(encoding="utf-8"))
    assert report["rows_added"] == 5 and report["rows_duplicate"] == 0
    assert len(set(_stored_ids(out))) == len(_stored_ids(out)) == 10


def test_out_of_memory_is_one_line_and_exit_3(seeded, capsys, monkeypatch):
    out, new = seeded
    before = _tree(out)

    def no_memory(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr("cchc_analysis.ingest.run.read_tabular", no_memory)
    code = cli.main(["ingest", str(new), "--kind", "dossiers", "--out", str(out)])
    _assert_one_line_exit(capsys, code, 3, "out of memory")
    assert _tree(out) == before


def test_a_read_only_folder_is_exit_3(seeded, capsys, monkeypatch):
    out, new = seeded
    before = _tree(out)

    def read_only(source, target):
        raise OSError(errno.EROFS, "Read-only file system", str(target))

    monkeypatch.setattr("cchc_analysis.store.transaction._keep", read_only)
    code = cli.main(["ingest", str(new), "--kind", "dossiers", "--out", str(out)])
    _assert_one_line_exit(capsys, code, 3, "read-only")
    assert _tree(out) == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes to read-only folders anyway")
def test_a_really_read_only_folder_is_exit_3(seeded, capsys):
    out, new = seeded
    before = _tree(out)
    os.chmod(out, 0o555)
    try:
        code = cli.main(["ingest", str(new), "--kind", "dossiers", "--out", str(out)])
    finally:
        os.chmod(out, 0o755)
    _assert_one_line_exit(capsys, code, 3, "permission denied")
    assert _tree(out) == before


def test_a_file_where_the_folder_should_be_is_exit_3(tmp_path, capsys):
    blocker = tmp_path / "data"
    blocker.write_text("not a folder")
    path = write_csv(tmp_path / "a.csv", rows(2))
    code = cli.main(["ingest", str(path), "--kind", "dossiers", "--out", str(blocker / "x")])
    _assert_one_line_exit(capsys, code, 3, "folder is expected")
    assert blocker.read_text() == "not a folder"


def test_debug_shows_the_traceback(seeded, monkeypatch):
    out, new = seeded
    monkeypatch.setattr("cchc_analysis.ingest.run.write_account", _full_disk)
    with pytest.raises(OSError):
        cli.main(["--debug", "ingest", str(new), "--kind", "dossiers", "--out", str(out)])


def test_an_unforeseen_error_is_one_line_without_its_text(seeded, capsys, monkeypatch):
    out, new = seeded

    def bug(*args, **kwargs):
        raise ValueError("secret cell content 0912345678")

    monkeypatch.setattr("cchc_analysis.ingest.run.read_tabular", bug)
    code = cli.main(["ingest", str(new), "--kind", "dossiers", "--out", str(out)])
    err = _assert_one_line_exit(capsys, code, 3, "internal error (ValueError)", "--debug")
    assert "secret" not in err


# --- kill -9 at random points, then a rerun ------------------------------------------------------


def _ingest_child(args: list[str]) -> None:  # in a forked child
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        os._exit(cli.main(args))


def test_a_killed_ingest_is_rolled_back_and_the_rerun_is_exact(tmp_path):
    chooser = random.Random(13)
    first = write_csv(tmp_path / "first.csv", rows(200))
    new = write_csv(tmp_path / "new.csv", rows(3000, start=150))  # 51 shared
    for trial in range(TRIALS):
        out = tmp_path / f"out{trial}"
        assert cli.main(["ingest", str(first), "--kind", "dossiers", "--out", str(out)]) == 0
        before = _tree(out)
        args = ["ingest", str(new), "--kind", "dossiers", "--out", str(out)]
        child = FORK.Process(target=_ingest_child, args=(args,))
        child.start()
        time.sleep(chooser.uniform(0.0, 2.5))
        os.kill(child.pid, signal.SIGKILL)
        child.join()
        killed = child.exitcode == -signal.SIGKILL
        assert cli.main(args) == 0
        ids = _stored_ids(out)
        assert len(ids) == len(set(ids)) == 3149, f"trial {trial}: {len(ids)} stored"
        report = json.loads((out / "ingest_report.json").read_text(encoding="utf-8"))
        if killed:  # the rerun either did the whole work or found it done, never half of it
            assert (report["rows_added"], report["rows_duplicate"]) in ((2949, 51), (0, 3000))
            if report["rows_added"] == 2949:
                assert len(list((out / "ingest_reports").glob("*.json"))) == 2
        assert not (out / JOURNAL_DIR).exists()
        assert set(before) <= set(_tree(out))


# --- bounded memory on any workbook --------------------------------------------------------------

# An address-space limit. The interpreter with numpy, pandas and pyarrow loaded already maps
# about 1.7 GB of address space for 0.2 GB resident, so the cap is 3 GB of address space and
# the resident peak is checked against 1 GB; a padded sheet would need tens of gigabytes.
MEMORY_CAP = 3 * 2**30
PEAK_LIMIT_MB = 1024

_CAPPED = """
import resource, sys, json
resource.setrlimit(resource.RLIMIT_AS, ({cap}, {cap}))
from cchc_analysis import cli
code = cli.main(sys.argv[1:])
# VmHWM: this process's own resident peak (ru_maxrss keeps the peak of the process it was
# started from, across exec: a large pytest would be counted as the child's).
status = open("/proc/self/status", encoding="ascii").read()
peak_kb = int(status.split("VmHWM:")[1].split()[0])
print(json.dumps({{"peak_mb": peak_kb // 1024}}), file=sys.stderr)
sys.exit(code)
"""


def _capped(*args: str) -> tuple[int, str]:
    """`cchc ARGS` in a child whose address space is capped (no timing: a padded sheet fails
    with MemoryError long before it could finish); its resident peak is under 1 GB."""
    import subprocess
    import sys

    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(
        [sys.executable, "-c", _CAPPED.format(cap=MEMORY_CAP), *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    *lines, last = proc.stderr.strip().splitlines() or [""]
    assert json.loads(last)["peak_mb"] < PEAK_LIMIT_MB, proc.stderr
    return proc.returncode, "\n".join(lines)


def _dossier_workbook(path: Path, stray: str) -> Path:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    records = rows(20)
    sheet.append(list(records[0]))
    for record in records:
        sheet.append(list(record.values()))
    sheet[stray] = "x"
    workbook.save(path)
    return path


def test_a_cell_at_xfd1048576_is_refused_in_bounded_memory(tmp_path):
    path = _dossier_workbook(tmp_path / "ho_so.xlsx", "XFD1048576")
    assert path.stat().st_size < 30_000
    code, err = _capped("ingest", str(path), "--kind", "dossiers", "--out", str(tmp_path / "o"))
    assert code == 2, err
    assert "XFD1048576" in err and "Traceback" not in err
    assert not (tmp_path / "o").exists()


def test_a_stray_cell_far_down_a_dossier_sheet_costs_nothing(tmp_path):
    path = _dossier_workbook(tmp_path / "ho_so.xlsx", "A1048576")
    code, err = _capped("ingest", str(path), "--kind", "dossiers", "--out", str(tmp_path / "o"))
    assert code == 1, err  # the stray "x" is one row, rejected with its reason
    assert len(_stored_ids(tmp_path / "o")) == 20


def test_a_biểu_06_sheet_with_a_cell_at_a1048576_is_refused_in_bounded_memory(tmp_path):
    from openpyxl import load_workbook

    path = _bieu06(tmp_path / "bieu06.xlsx", "2023-07", 5)
    workbook = load_workbook(path)
    workbook.active["A1048576"] = "x"
    workbook.save(path)
    assert path.stat().st_size < 30_000
    out = tmp_path / "o"
    code, err = _capped("ingest", str(path), "--kind", "period-report", "--out", str(out))
    assert code == 2, err
    assert "A1048576" in err and "Traceback" not in err


def test_the_dossier_sheet_is_found_behind_a_cover_sheet(tmp_path, capsys):
    from openpyxl import Workbook

    workbook = Workbook()
    cover = workbook.active
    cover.title = "Bìa"
    cover.append(["BÁO CÁO TÌNH HÌNH GIẢI QUYẾT HỒ SƠ"])
    cover.append(["Quý III năm 2023"])
    data = workbook.create_sheet("Danh sách")
    records = rows(4)
    data.append(list(records[0]))
    for record in records:
        data.append(list(record.values()))
    path = tmp_path / "ho_so.xlsx"
    workbook.save(path)
    out = tmp_path / "o"
    assert cli.main(["ingest", str(path), "--kind", "dossiers", "--out", str(out)]) == 0
    report = json.loads((out / "ingest_report.json").read_text(encoding="utf-8"))
    assert report["files"][0]["sheet"] == "Danh sách"
    # a workbook with no dossier sheet names every sheet and what it holds
    del workbook["Danh sách"]
    workbook.create_sheet("Ghi chú").append(["Mã hồ sơ", "Ghi chú"])
    workbook.save(path)
    capsys.readouterr()
    assert cli.main(["ingest", str(path), "--kind", "dossiers", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "'Bìa': no dossier header recognised" in err
    assert "'Ghi chú': no column for" in err
    assert "BÁO CÁO" not in err  # a row that is no header is never quoted


def test_the_biểu_06_sheet_is_found_behind_a_cover_sheet(tmp_path):
    from openpyxl import load_workbook

    path = _bieu06(tmp_path / "bieu06.xlsx", "2023-07", 5)
    workbook = load_workbook(path)
    cover = workbook.create_sheet("Bìa", 0)
    cover["A1"] = "Ủy ban nhân dân"
    workbook.save(path)
    out = tmp_path / "o"
    assert cli.main(["ingest", str(path), "--kind", "period-report", "--out", str(out)]) == 0
    table = store.read_table(out, store.PERIOD_REPORTS_FILE)
    assert table is not None and table["received_new_count"].tolist() == [5]


# --- small ones ----------------------------------------------------------------------------------


@pytest.mark.parametrize("param", ["lang=en", "data_dir=/tmp/x", "unit_code=313", "tier=commune"])
def test_runner_parameters_cannot_be_overridden(tmp_path, capsys, param):
    name = param.split("=")[0]
    code = cli.main(
        ["report", "--data", str(tmp_path), "--period", "2023-Q3", "--out", str(tmp_path / "r")]
        + ["--param", param]
    )
    err = capsys.readouterr().err
    assert code == 2 and f"--param {name}: set by the runner" in err


def test_a_due_date_years_ahead_is_rejected_with_its_reason(tmp_path, capsys):
    path = write_csv(
        tmp_path / "a.csv", rows(3) + rows(1, start=9, **{"Ngày hẹn trả": "05/07/2099"})
    )
    out = tmp_path / "out"
    assert cli.main(["ingest", str(path), "--kind", "dossiers", "--out", str(out)]) == 1
    report = json.loads((out / "ingest_report.json").read_text(encoding="utf-8"))
    assert report["rejected_by_reason"] == {"due_too_far": 1}
    assert len(_stored_ids(out)) == 3


def test_duplicate_and_conflicting_headers_are_named(tmp_path, capsys):
    records = [{**r, "NgayTiepNhan": "01/07/2023"} for r in rows(2)]
    path = write_csv(tmp_path / "a.csv", records)
    out = tmp_path / "out"
    assert cli.main(["ingest", str(path), "--kind", "dossiers", "--out", str(out)]) == 0
    stdout = capsys.readouterr().out
    assert "2 headers for received_at: Ngày tiếp nhận | NgayTiepNhan" in stdout
    entry = json.loads((out / "ingest_report.json").read_text(encoding="utf-8"))["files"][0]
    assert entry["header_conflicts"] == {"received_at": ["Ngày tiếp nhận", "NgayTiepNhan"]}


def test_a_mixed_encoding_names_the_first_bad_line(tmp_path, capsys):
    path = write_csv(tmp_path / "a.csv", rows(20_000, **{"Tên TTHC": "Cấp bản sao từ sổ gốc"}))
    with path.open("ab") as handle:
        handle.write("H-99999,314,Cấp,Hộ tịch\n".encode("cp1258", errors="replace"))
        handle.write(b"H-99998,314,C\xe2p\n")
    code = cli.main(["ingest", str(path), "--kind", "dossiers", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2 and "line 20,003 is not utf-8" in err


# --- the transaction itself ----------------------------------------------------------------------


def test_a_transaction_left_open_by_a_dead_run_is_rolled_back(tmp_path):
    from cchc_analysis.store.transaction import FolderTransaction, roll_back

    folder = tmp_path / "data"
    (folder / "dossiers" / "area=2024-314").mkdir(parents=True)
    (folder / "dossiers" / "area=2024-314" / "part-0.parquet").write_text("old rows")
    (folder / "cube.parquet").write_text("old cube")
    (folder / ".ingest-123").mkdir()  # a spool: not journaled, not removed
    before = _tree(folder)
    FolderTransaction(folder).__enter__()  # the run dies without leaving the block
    (folder / "dossiers" / "area=2024-314" / "part-1.parquet").write_text("new rows")
    (folder / "dossiers" / "area=2024-313").mkdir()
    (folder / "dossiers" / "area=2024-313" / "part-0.parquet").write_text("new area")
    tmp = folder / ".cube.parquet.tmp"
    tmp.write_text("new cube")
    tmp.replace(folder / "cube.parquet")
    assert roll_back(folder) is True
    assert _tree(folder) == before
    assert not (folder / "dossiers" / "area=2024-313").exists()
    assert (folder / ".ingest-123").is_dir() and not (folder / JOURNAL_DIR).exists()
    assert roll_back(folder) is False  # idempotent: nothing left to undo
