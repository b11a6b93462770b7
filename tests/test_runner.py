"""The batch engine on small stand-in notebooks: failures, retries, skips, locks, kills.

The stand-ins declare the report notebooks' parameters and do almost nothing, so each run
costs a kernel start, not a report; files under ``<data>/control/`` make a unit's notebook
fail, sleep, kill its kernel or kill its worker.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import psutil
import pytest
from conftest import BIN

from cchc_analysis.batch.runner import LOCK_FILE, render_reports
from cchc_analysis.core.errors import ParameterError
from cchc_analysis.core.locking import LockBusyError, RunLock
from cchc_analysis.core.periods import parse_period

DISTRICT_PARAMS = (
    'unit_code: str = "314"\nperiod: str = "2023-Q3"\ndata_dir: str = "data/demo"\n'
    'lang: str = "vi"\ntier: str = "both"\ninput_hash: str = ""'
)
PROVINCE_PARAMS = (
    'period: str = "2023-Q3"\ndata_dir: str = "data/demo"\nlang: str = "vi"\n'
    'tier: str = "both"\ninput_hash: str = ""'
)
BODY = [
    "import os, pathlib, time\n"
    "who = globals().get('unit_code', 'province')\n"
    "ctl = pathlib.Path(data_dir) / 'control'\n"
    "def flag(name):\n    return (ctl / f'{who}.{name}').exists()",
    "assert 'leftover' not in globals(), 'namespace not reset'\nleftover = 1",
    "if flag('sleep'):\n    time.sleep(float((ctl / f'{who}.sleep').read_text()))",
    "if flag('fail'):\n    raise ValueError(f'boom in {who}')",
    "if flag('die'):\n    os._exit(1)",
    "if flag('killworker'):\n    os.kill(os.getppid(), 9)",
    "from IPython.display import HTML\n"
    "HTML(f'<p class=\"stand-in\">report {who} {period} VERSION hash {input_hash}</p>')",
]
UNITS = ("313", "314")
FILES = ("313-an-lao.html", "314-kien-thuy.html", "province-31-hai-phong.html")


def write_notebooks(folder: Path, version: str = "v1") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, params in (
        ("district_report.ipynb", DISTRICT_PARAMS),
        ("province_overview.ipynb", PROVINCE_PARAMS),
    ):
        nb = nbformat.v4.new_notebook()
        nb.metadata["kernelspec"] = {
            "name": "cchc-workbook",
            "display_name": "Python (cchc-workbook)",
            "language": "python",
        }
        cell = nbformat.v4.new_code_cell(params)
        cell.metadata["tags"] = ["parameters"]
        nb.cells = [cell] + [
            nbformat.v4.new_code_cell(src.replace("VERSION", version)) for src in BODY
        ]
        nbformat.write(nb, folder / name)
    return folder


@pytest.fixture
def setup(prepared_dir, tmp_path, monkeypatch):
    """A private copy of the prepared data, stand-in notebooks and an output folder."""
    data = tmp_path / "data"
    shutil.copytree(prepared_dir, data)
    (data / "control").mkdir()
    notebooks = write_notebooks(tmp_path / "notebooks")
    monkeypatch.setenv("CCHC_NOTEBOOKS", str(notebooks))
    return data, notebooks, tmp_path / "out"


def render(data, out, **options):
    """The runner in this process (the CLI costs a second or two of imports per call)."""
    options = {"workers": 1, "quiet": True, **options}
    return render_reports(data, parse_period("2023-Q3"), out, **options)


def control(data: Path, unit: str, what: str, text: str = "") -> Path:
    path = data / "control" / f"{unit}.{what}"
    path.write_text(text)
    return path


def cchc_env(notebooks: Path) -> dict:
    return {**os.environ, "PYTHONWARNINGS": "ignore", "CCHC_NOTEBOOKS": str(notebooks)}


def report(data, notebooks, out, *extra, check=None, timeout=300):
    args = [str(BIN / "cchc"), "report", "--data", str(data), "--period", "2023-Q3"]
    args += ["--out", str(out), "--workers", "2", *extra]
    proc = subprocess.run(
        args, capture_output=True, text=True, env=cchc_env(notebooks), timeout=timeout
    )
    if check is not None:
        assert proc.returncode == check, proc.stderr
    return proc


def manifest(out: Path) -> dict:
    return json.loads((out / "manifest.json").read_text(encoding="utf-8"))


def by_file(out: Path) -> dict:
    return {r["file"]: r for r in manifest(out)["reports"]}


def test_a_failing_unit_is_recorded_and_retry_failed_reruns_only_it(setup):
    data, notebooks, out = setup
    flag = control(data, "313", "fail")
    proc = report(data, notebooks, out, check=1)
    assert "boom in 313" in proc.stderr
    records = by_file(out)
    failed = records["313-an-lao.html"]
    assert failed["status"] == "failed" and failed["error"] == "ValueError: boom in 313"
    # cell 5 of the source notebook (parameters, setup, reset check, sleep, fail)
    assert failed["failed_cell"] == 5 and failed["failed_source"] == "if flag('fail'):"
    partial = nbformat.read(out / "failed" / "313-an-lao.ipynb", as_version=4)
    assert any(o.get("ename") == "ValueError" for c in partial.cells for o in c.get("outputs", []))
    assert records["314-kien-thuy.html"]["status"] == "ok"
    assert records["province-31-hai-phong.html"]["status"] == "ok"
    assert not (out / "313-an-lao.html").exists() and (out / "index.html").exists()
    assert manifest(out)["complete"] is True
    log = (out / manifest(out)["log"]).read_text(encoding="utf-8")
    assert "313-an-lao.html failed" in log and "cell 5" in log

    before = {name: (out / name).stat().st_mtime_ns for name in FILES[1:]}
    flag.unlink()
    render(data, out, retry_failed=True)
    records = by_file(out)
    assert records["313-an-lao.html"]["status"] == "ok"
    assert {r["status"] for r in records.values()} == {"ok", "skipped"}
    assert (out / "313-an-lao.html").exists() and not (out / "failed" / "313-an-lao.ipynb").exists()
    assert before == {name: (out / name).stat().st_mtime_ns for name in FILES[1:]}


def test_unchanged_inputs_are_skipped_and_the_hash_is_in_the_report(setup):
    data, notebooks, out = setup
    render(data, out)
    first = by_file(out)
    page = (out / "314-kien-thuy.html").read_text(encoding="utf-8")
    assert f"hash {first['314-kien-thuy.html']['input_hash']}" in page
    assert len({r["input_hash"] for r in first.values()}) == 3

    render(data, out)
    assert {r["status"] for r in by_file(out).values()} == {"skipped"}

    # Same dossiers, different bytes: reports count their data by content, so none changed.
    part = next((data / "dossiers" / "area=2024-313").glob("*.parquet"))
    import pyarrow.parquet as pq

    pq.write_table(pq.read_table(part), part, row_group_size=10_000)
    render(data, out)
    assert {r["status"] for r in by_file(out).values()} == {"skipped"}
    # One of 313's dossiers changed: its report and the province's are rendered again.
    table = pq.read_table(part).to_pandas()
    table.loc[table["received_at"].idxmin(), "procedure_name"] = "Thủ tục đã sửa tên"
    table.to_parquet(part, index=False)
    render(data, out)
    status = {f: r["status"] for f, r in by_file(out).items()}
    assert status == {
        "313-an-lao.html": "ok",
        "314-kien-thuy.html": "skipped",
        "province-31-hai-phong.html": "ok",
    }


def test_unknown_parameter_is_an_error(setup):
    data, notebooks, out = setup
    with pytest.raises(ParameterError, match=r"has no parameter\(s\) colour"):
        render(data, out, extra_parameters={"colour": "red"})
    assert not (out / "manifest.json").exists()


def test_dead_kernel_dead_worker_and_hung_cell_fail_their_unit_only(setup):
    """Each kind of trouble fails its own report; the batch goes on and ends in time."""
    data, notebooks, out = setup
    control(data, "313", "die")
    control(data, "314", "killworker")
    control(data, "province", "sleep", "120")
    started = time.monotonic()
    # The cell timeout leaves room for a loaded machine (CI beside other jobs), where a sound
    # cell of a restarted kernel has taken over 2 s; the run still ends long before the hung
    # cell's 120 s would.
    render(data, out, workers=2, cell_timeout_s=10)
    assert time.monotonic() - started < 100
    records = by_file(out)
    died = records["313-an-lao.html"]
    assert died["status"] == "failed" and "DeadKernelError" in died["error"]
    assert died["attempts"] == 2 and died["failed_cell"] == 6  # tried once more
    lost = records["314-kien-thuy.html"]
    assert lost["status"] == "failed" and "worker process died" in lost["error"]
    assert lost["attempts"] == 2
    hung = records["province-31-hai-phong.html"]
    assert "CellTimeoutError" in hung["error"] and hung["failed_cell"] == 4
    assert hung["attempts"] == 1  # a hung cell is not retried
    assert (out / "failed" / "province-31-hai-phong.ipynb").exists()
    assert (out / "index.html").exists() and manifest(out)["complete"] is True


def test_second_run_on_the_same_folder_exits_or_waits(setup):
    data, notebooks, out = setup
    out.mkdir()
    lock = RunLock(out / LOCK_FILE)
    with lock:
        with pytest.raises(LockBusyError, match=f"another run is writing to .*pid {os.getpid()}"):
            render(data, out)
        timer = threading.Timer(1.0, lambda: lock.__exit__(None, None, None))
        timer.start()
        render(data, out, lock_timeout_s=60)
        timer.join()
    assert manifest(out)["complete"] is True


def _complete(page: Path) -> bool:
    return page.read_text(encoding="utf-8").rstrip().endswith("</html>")


def _start_run(data: Path, out: Path, notebooks: Path) -> subprocess.Popen:
    """A one-worker CLI run whose reports take 1.5 s each; returns once it wrote its first one
    (313) and is busy with the next, with the list of its processes (workers, kernels)."""
    for unit in (*UNITS, "province"):
        control(data, unit, "sleep", "1.5")
    args = [str(BIN / "cchc"), "report", "--data", str(data), "--period", "2023-Q3"]
    args += ["--out", str(out), "--workers", "1", "--quiet"]
    proc = subprocess.Popen(args, env=cchc_env(notebooks), stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        first = out / FILES[0]
        if first.exists() and "v2" in first.read_text(encoding="utf-8"):
            break
        time.sleep(0.1)
    tree = psutil.Process(proc.pid).children(recursive=True)
    assert len(tree) >= 2  # the worker and its kernel
    return proc, tree


def _all_gone(processes: list[psutil.Process], within_s: float = 20.0) -> bool:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if not any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in processes):
            return True
        time.sleep(0.2)
    return False


def test_sigkill_mid_run_keeps_good_reports_and_rerun_finishes(setup):
    data, notebooks, out = setup
    render(data, out)
    old = {name: (out / name).read_text(encoding="utf-8") for name in FILES}

    write_notebooks(notebooks, version="v2")  # every report's inputs change
    proc, tree = _start_run(data, out, notebooks)
    proc.kill()
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    # Workers notice their parent's death (PR_SET_PDEATHSIG), kernels their worker's.
    assert _all_gone(tree)

    # Every report on disk is whole: the new one, or the previous good one.
    assert manifest(out)["complete"] is False
    for name in FILES:
        page = (out / name).read_text(encoding="utf-8")
        assert _complete(out / name) and (("v2" in page) or page == old[name])
    assert "v1" in (out / FILES[2]).read_text(encoding="utf-8")

    for unit in (*UNITS, "province"):
        (data / "control" / f"{unit}.sleep").unlink()
    render(data, out)  # the lock died with the killed run
    status = {f: r["status"] for f, r in by_file(out).items()}
    assert status == {FILES[0]: "skipped", FILES[1]: "ok", FILES[2]: "ok"}
    assert manifest(out)["complete"] is True
    assert all("v2" in (out / name).read_text(encoding="utf-8") for name in FILES)
    assert not list(out.glob(".*.tmp"))


def test_sigterm_stops_workers_and_kernels_and_frees_the_lock(setup):
    data, notebooks, out = setup
    write_notebooks(notebooks, version="v2")
    proc, tree = _start_run(data, out, notebooks)
    proc.terminate()
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM
    assert "interrupted (signal 15)" in stderr
    assert _all_gone(tree, within_s=5)
    records = by_file(out)
    assert records[FILES[0]]["status"] == "ok" and manifest(out)["complete"] is False
    with RunLock(out / LOCK_FILE, timeout_s=0):
        pass
    log = (out / manifest(out)["log"]).read_text(encoding="utf-8")
    assert "interrupted by signal 15" in log


def test_dask_executor_on_a_local_cluster_real_notebooks(prepared_dir, tmp_path):
    """The fan-out on a Dask cluster; the real notebooks; same layout; hash in provenance."""
    from distributed import LocalCluster

    out = tmp_path / "dask"
    with LocalCluster(
        n_workers=1, threads_per_worker=2, processes=True, dashboard_address=None
    ) as cluster:
        args = [str(BIN / "cchc"), "report", "--data", str(prepared_dir), "--period", "2023-Q3"]
        args += ["--units", "314", "--out", str(out), "--executor", "dask"]
        args += ["--scheduler", cluster.scheduler_address]
        env = {**os.environ, "PYTHONWARNINGS": "ignore"}
        proc = subprocess.run(args, capture_output=True, text=True, env=env, timeout=300)
        assert proc.returncode == 0, proc.stderr
    names = sorted(p.name for p in out.glob("*.html"))
    assert names == ["314-kien-thuy.html", "index.html", "province-31-hai-phong.html"]
    records = by_file(out)
    assert manifest(out)["executor"] == "dask"
    for name in ("314-kien-thuy.html", "province-31-hai-phong.html"):
        page = (out / name).read_text(encoding="utf-8")
        assert f"Mã băm dữ liệu đầu vào: {records[name]['input_hash']}" in page
        assert _complete(out / name)


def test_unreachable_scheduler_is_a_user_error(prepared_dir, tmp_path):
    args = [str(BIN / "cchc"), "report", "--data", str(prepared_dir), "--period", "2023-Q3"]
    args += ["--out", str(tmp_path / "x"), "--executor", "dask", "--scheduler"]
    args += ["tcp://127.0.0.1:9"]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "cannot reach the Dask scheduler" in proc.stderr


def test_parameter_values_are_typed_like_papermill():
    from cchc_analysis.batch.parameters import parse_parameter

    assert parse_parameter("n=3") == ("n", 3)
    assert parse_parameter("x=0.5") == ("x", 0.5)
    assert parse_parameter("flag=true") == ("flag", True)
    assert parse_parameter("code=001") == ("code", "001")  # a GSO code keeps its zeros
    assert parse_parameter("name=Kiến Thụy") == ("name", "Kiến Thụy")
    with pytest.raises(ParameterError):
        parse_parameter("novalue")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-v"]))
