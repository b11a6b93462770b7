"""Workers kept warm between runs (``cchc report --keep-warm``, issue 16: the first report starts
at once): a run like the last one takes its warm workers over, a different run does not, a
worker that waited long enough exits with its kernel, and a killed one harms no later run.
"""

from __future__ import annotations

import contextlib
import difflib
import os
import re
import shutil
import signal
import socket
import tempfile
import threading
import time
from pathlib import Path

import nbformat
import psutil
import pytest
from test_runner import FILES, by_file, manifest, render, report, setup  # noqa: F401 - a fixture

from cchc_analysis.batch import standby
from cchc_analysis.batch.execute import CELL_TIMEOUT_S
from cchc_analysis.batch.runner import render_reports
from cchc_analysis.core import run_shared
from cchc_analysis.core.periods import parse_period

# A cell each stand-in report runs: the run's own shared folder, told to a taken-over kernel.
SHARED_CHECK = (
    "import os\n"
    f"assert os.path.isdir(os.environ[{run_shared.ENV!r}]), os.environ.get({run_shared.ENV!r})"
)


def _waiting(folder: Path) -> dict[int, Path]:
    """The workers waiting in ``folder``: pid -> socket."""
    return {int(p.stem.rsplit("-", 1)[1]): p for p in folder.glob("*.sock")}


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _all_gone(pids: list[int], within_s: float) -> bool:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if all(_gone(pid) for pid in pids):
            return True
        time.sleep(0.1)
    return False


def _refuses(path: Path, within_s: float) -> bool:
    """True once nothing listens on the socket ``path`` any more."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
            try:
                probe.connect(str(path))
            except OSError:
                return True
        time.sleep(0.05)
    return False


def _tree(pid: int) -> list[int]:
    process = psutil.Process(pid)
    return [pid, *(child.pid for child in process.children(recursive=True))]


def _first_difference(expected: str, got: str) -> str:
    lines = difflib.unified_diff(
        expected.replace("><", ">\n<").splitlines(),
        got.replace("><", ">\n<").splitlines(),
        lineterm="",
        n=1,
    )
    return "\n".join(line[:300] for line in list(lines)[:40])


def _run_log(out: Path) -> str:
    return (out / manifest(out)["log"]).read_text(encoding="utf-8")


@pytest.fixture
def warm(request, monkeypatch):
    """The runner's stand-ins, each checking the run's shared folder, and a private folder for
    waiting workers (short: a socket's path has a limit); any worker left is stopped after."""
    data, notebooks, out = request.getfixturevalue("setup")
    for path in notebooks.glob("*.ipynb"):
        nb = nbformat.read(path, as_version=4)
        nb.cells.append(nbformat.v4.new_code_cell(SHARED_CHECK))
        nbformat.write(nb, path)
    folder = Path(tempfile.mkdtemp(prefix="sb", dir="/tmp"))
    monkeypatch.setenv(standby.FOLDER_ENV, str(folder))
    yield data, notebooks, out, folder
    for pid in _waiting(folder):
        with contextlib.suppress(psutil.Error, OSError):
            for member in _tree(pid):
                os.kill(member, signal.SIGKILL)
    shutil.rmtree(folder, ignore_errors=True)


def _pages(out: Path, names: tuple[str, ...] = FILES) -> dict[str, str]:
    """The pages, apart from the injected parameters cell's id (papermill draws it anew) and
    the minute a report says it was made."""
    pages = {}
    for name in names:
        text = (out / name).read_text(encoding="utf-8")
        text = re.sub(r'id="cell-id=[0-9a-f]+"', "", text)
        pages[name] = re.sub(r"lúc \d\d/\d\d/\d{4} \d\d:\d\d", "lúc", text)
    return pages


def test_a_run_kept_warm_hands_its_workers_and_kernels_to_the_next(warm, tmp_path):
    data, _, out, folder = warm
    render(data, out, workers=2, keep_warm_s=60)
    waiting = _waiting(folder)
    assert len(waiting) == 2, "both workers wait for the next run"
    trees = {pid: _tree(pid) for pid in waiting}
    assert all(len(tree) == 2 for tree in trees.values()), "each with its kernel"
    assert "left warm at" in _run_log(out)

    second = tmp_path / "second"
    render(data, second, workers=2)
    log = _run_log(second)
    assert "took over 2 warm worker(s)" in log
    assert {r["status"] for r in by_file(second).values()} == {"ok"}
    # The same pages (the stand-ins print the period, the version and the input hash).
    assert _pages(second) == _pages(out)
    # Not kept warm this time: the workers and their kernels end with the run.
    assert _all_gone([pid for tree in trees.values() for pid in tree], within_s=15)
    assert _waiting(folder) == {}


def test_a_worker_taken_over_is_left_warm_again_and_its_namespace_is_clean(warm, tmp_path):
    data, _, out, folder = warm
    render(data, out, workers=1, keep_warm_s=60)
    (pid,) = _waiting(folder)
    for n in range(2):  # the stand-ins fail when a variable of the previous report is seen
        again = tmp_path / f"again{n}"
        render(data, again, workers=1, keep_warm_s=60)
        assert f"took over 1 warm worker(s) left by an earlier run (pid {pid})" in _run_log(again)
        assert {r["status"] for r in by_file(again).values()} == {"ok"}
        assert list(_waiting(folder)) == [pid]


def test_a_different_run_does_not_take_a_warm_worker(warm, tmp_path, monkeypatch):
    data, _, out, folder = warm
    render(data, out, workers=1, keep_warm_s=60)
    (pid,) = _waiting(folder)
    for n, options in enumerate(({"cell_timeout_s": 77.0}, {"lang": "en"})):
        other = tmp_path / f"other{n}"
        render(data, other, workers=1, **options)
        assert "took over" not in _run_log(other)
        assert list(_waiting(folder)) == [pid], "left waiting for a run like its own"
    monkeypatch.setenv("CCHC_SOMETHING_ELSE", "1")  # a run in another environment
    render(data, tmp_path / "other-env", workers=1)
    assert "took over" not in _run_log(tmp_path / "other-env")
    monkeypatch.delenv("CCHC_SOMETHING_ELSE")
    monkeypatch.setenv("OLDPWD", "/somewhere")  # a shell's bookkeeping changes nothing
    render(data, tmp_path / "same", workers=1)
    assert "took over 1 warm worker(s)" in _run_log(tmp_path / "same")
    assert _all_gone([pid], within_s=15)


def test_a_warm_worker_exits_with_its_kernel_when_its_wait_is_over(warm):
    data, _, out, folder = warm
    render(data, out, workers=1, keep_warm_s=1.0)
    (pid,) = _waiting(folder)
    tree = _tree(pid)
    assert _all_gone(tree, within_s=15)
    assert _waiting(folder) == {}


def test_a_killed_warm_worker_harms_no_later_run(warm, tmp_path):
    data, _, out, folder = warm
    render(data, out, workers=2, keep_warm_s=60)
    waiting = _waiting(folder)
    for pid in waiting:
        for member in _tree(pid):
            os.kill(member, signal.SIGKILL)
    # Gone for good: a killed process's threads may still hold its socket a moment after it
    # shows as a zombie (a run that connects then is reset, and leaves the socket be).
    assert _all_gone(list(waiting), within_s=10)
    assert all(_refuses(path, within_s=10) for path in waiting.values())
    later = tmp_path / "later"
    render(data, later, workers=2)
    assert "took over" not in _run_log(later)
    assert {r["status"] for r in by_file(later).values()} == {"ok"}
    assert _waiting(folder) == {}, "the dead workers' sockets are removed"


def test_no_worker_waits_in_a_folder_others_can_open(warm, tmp_path):
    data, _, out, folder = warm
    folder.chmod(0o755)
    render(data, out, workers=1, keep_warm_s=60)
    assert {r["status"] for r in by_file(out).values()} == {"ok"}
    assert _waiting(folder) == {}
    assert "could not be left warm" in _run_log(out)


def test_the_command_line_keeps_workers_warm_for_the_next_command(warm, tmp_path):
    data, notebooks, out, folder = warm
    report(data, notebooks, out, "--keep-warm", "60", check=0)
    pids = set(_waiting(folder))
    assert len(pids) == 2
    second = tmp_path / "second"
    report(data, notebooks, second, check=0)
    assert "took over 2 warm worker(s)" in _run_log(second)
    assert _all_gone(list(pids), within_s=15)


def test_keep_warm_takes_seconds_and_local_workers_only(warm):
    data, notebooks, out, folder = warm
    for extra in (["--keep-warm", "-1"], ["--keep-warm", "30", "--executor", "dask"]):
        proc = report(data, notebooks, out, *extra, check=2)
        assert "--keep-warm" in proc.stderr.strip().splitlines()[-1]
    assert not out.exists() and _waiting(folder) == {}


def test_two_runs_starting_at_once_never_share_a_warm_worker(warm):
    data, _, out, folder = warm
    render(data, out, workers=1, keep_warm_s=60)
    (pid,) = _waiting(folder)
    fingerprint = standby.fingerprint("vi", CELL_TIMEOUT_S)
    results: list[list[standby.Adopted]] = []

    def take() -> None:
        results.append(standby.adopt(fingerprint, 1, shared_dir=None, log_path=None))

    threads = [threading.Thread(target=take) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    taken = [a for found in results for a in found]
    assert [a.pid for a in taken] == [pid], "one run takes it, the other starts its own"
    taken[0].conn.close()  # that run ends: the worker ends with it
    assert _all_gone([pid], within_s=15)


def test_a_warm_kernel_sees_new_data_in_the_same_folder(
    prepared_dir, missing_columns_dir, tmp_path, monkeypatch
):
    """The real reports: a warm worker's kernel keeps its caches between runs, keyed by the
    folder's state, so another export put in the same folder gives the pages a fresh run
    gives, not the last run's figures."""
    folder = Path(tempfile.mkdtemp(prefix="sb", dir="/tmp"))
    monkeypatch.setenv(standby.FOLDER_ENV, str(folder))
    data = tmp_path / "data"
    shutil.copytree(prepared_dir, data)
    try:
        options = {"unit_codes": ["314"], "workers": 1}
        render_reports(
            data,
            parse_period("2024-Q3"),
            tmp_path / "before",
            **options,
            quiet=True,
            keep_warm_s=60,
        )
        assert len(_waiting(folder)) == 1
        shutil.rmtree(data)
        shutil.copytree(missing_columns_dir, data)  # the next export, optional columns missing
        warm = tmp_path / "warm"
        render_reports(data, parse_period("2024-Q3"), warm, **options, quiet=True)
        assert "took over 1 warm worker(s)" in _run_log(warm)
        fresh = tmp_path / "fresh"
        render_reports(data, parse_period("2024-Q3"), fresh, **options, quiet=True)
        assert "took over" not in _run_log(fresh)
        names = ("314-kien-thuy.html", "province-31-hai-phong.html")
        for name in names:  # the first lines that differ, when they do
            assert _pages(warm, (name,)) == _pages(fresh, (name,)), _first_difference(
                _pages(fresh, (name,))[name], _pages(warm, (name,))[name]
            )
        assert _pages(warm, names) != _pages(tmp_path / "before", names)
    finally:
        for pid in _waiting(folder):
            with contextlib.suppress(psutil.Error, OSError):
                for member in _tree(pid):
                    os.kill(member, signal.SIGKILL)
        shutil.rmtree(folder, ignore_errors=True)
