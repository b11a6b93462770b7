"""How a report run starts (issue 16: the first report starts at once): the command imports
no pandas before its workers start, their kernels boot while the run checks the data and
plans, a kernel runs the reports' imports (the prelude) before its first report and warms up
further only while no report waits, and a run stopped by its checks leaves nothing behind.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from multiprocessing import Pipe
from pathlib import Path

import nbformat
import psutil
import pytest

from cchc_analysis import cli, store
from cchc_analysis.batch.execute import execute_job, kernel_name
from cchc_analysis.batch.job import ReportJob
from cchc_analysis.batch.kernels import WARM_UP_STEPS, WarmKernel
from cchc_analysis.batch.parameters import check_extra_parameters, parse_parameter
from cchc_analysis.core.errors import ParameterError

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("pandas", "numpy", "pyarrow", "duckdb", "scipy", "matplotlib", "jupyter_client")


def test_the_command_line_imports_no_heavy_library():
    code = (
        "import sys, json\n"
        "import cchc_analysis.cli, cchc_analysis.batch.runner, cchc_analysis.batch.parameters\n"
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert json.loads(done.stdout) == []


def test_parameters_are_typed_like_papermill_and_the_runner_keeps_its_own():
    assert parse_parameter("n=3") == ("n", 3)
    assert parse_parameter(" x =0.5") == ("x", 0.5)
    assert parse_parameter("flag=False") == ("flag", False)
    assert parse_parameter("nothing=none") == ("nothing", None)
    assert parse_parameter("code=001") == ("code", "001")  # a GSO code keeps its zeros
    assert parse_parameter("note=a=b") == ("note", "a=b")
    for text in ("novalue", "=3"):
        with pytest.raises(ParameterError):
            parse_parameter(text)
    check_extra_parameters({"threshold": 3})
    with pytest.raises(ParameterError, match="--period"):
        check_extra_parameters({"period": "2023-Q3"})


PROBE = (
    "import sys\n"
    "from cchc_analysis.counting import shared\n"
    "assert 'leftover' not in globals(), 'namespace not reset'\n"
    "leftover = 1\n"
    "imported = [m for m in ('pandas', 'cchc_analysis.reports.unit_report',\n"
    "    'cchc_analysis.reports.province_report') if m in sys.modules]\n"
    "assert len(imported) == 3, imported\n"
    "assert shared._held is not None, 'states not held'\n"
    "print(who, 'ok')"
)


def _probe_job(who: str) -> ReportJob:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": kernel_name(),
        "display_name": "Python",
        "language": "python",
    }
    params = nbformat.v4.new_code_cell('who = ""')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(PROBE)]
    return ReportJob(
        "district",
        who,
        who,
        "probe.ipynb",
        f"{who}.html",
        {"who": who},
        notebook_text=nbformat.writes(nb),
    )


@pytest.fixture(scope="module")
def kernel():
    warm = WarmKernel(kernel_name(), 120, warm_up_when_idle=True)
    try:
        yield warm
    finally:
        warm.close()


def test_the_prelude_runs_before_the_first_report_and_the_warm_up_waits(kernel):
    kernel.ensure()
    assert kernel.warm_up_pending == list(WARM_UP_STEPS)  # none run: no idle moment yet
    output = execute_job(_probe_job("first"), kernel, lang="vi", cell_timeout_s=120)
    assert output.result.status == "ok", output.result.error
    assert output.html is not None and "first ok" in output.html


def test_the_warm_up_does_not_delay_a_waiting_report(kernel):
    kernel.ensure()
    step_s = 0.5
    kernel.warm_up_pending = [f"import time; time.sleep({step_s})"] * 40
    waiting, sender = Pipe(duplex=False)
    sent: list[float] = []

    def report_arrives() -> None:
        time.sleep(1.2)
        sent.append(time.monotonic())
        sender.send("job")

    thread = threading.Thread(target=report_arrives)
    thread.start()
    kernel.warm_up_while(lambda: not waiting.poll())
    returned = time.monotonic()
    thread.join()
    # at most the step under way (and a round trip) between the report's arrival and its start
    assert returned - sent[0] < step_s + 1.5
    assert 20 < len(kernel.warm_up_pending) < 40
    # idle again: the real steps run to the end, and the kernel still takes reports
    kernel.warm_up_pending = list(WARM_UP_STEPS)
    kernel.warm_up_while(lambda: True)
    assert kernel.warm_up_pending == []
    assert not [e for e in kernel.start_errors if e.startswith("warm-up")]
    output = execute_job(_probe_job("second"), kernel, lang="vi", cell_timeout_s=120)
    assert output.result.status == "ok", output.result.error


def _children() -> set[int]:
    return {child.pid for child in psutil.Process().children(recursive=True)}


def _no_processes_left(before: set[int], timeout_s: float = 20.0) -> bool:
    """No process started since ``before`` is left (the workers and their kernels)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not _children() - before:
            return True
        time.sleep(0.2)
    return False


def _one_line(capsys) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


def test_an_unusable_data_or_output_folder_is_one_line_exit_2_and_leaves_nothing(tmp_path, capsys):
    report = ["report", "--period", "2026-Q3", "--workers", "2"]
    before = _children()
    # no data folder: the run's workers had started; they are gone, the folder it made too
    out = tmp_path / "new" / "out"
    assert cli.main([*report, "--data", str(tmp_path / "nope"), "--out", str(out)]) == 2
    assert "data folder not found" in _one_line(capsys)
    assert not (tmp_path / "new").exists()
    assert _no_processes_left(before)
    # a folder of period reports only, into an existing output folder: left as it was
    only_reports = tmp_path / "reports-only"
    only_reports.mkdir()
    (only_reports / store.PERIOD_REPORTS_FILE).write_bytes(b"")
    existing = tmp_path / "existing"
    existing.mkdir()
    (existing / "keep.txt").write_text("mine")
    assert cli.main([*report, "--data", str(only_reports), "--out", str(existing)]) == 2
    assert "period reports only" in _one_line(capsys)
    assert sorted(p.name for p in existing.iterdir()) == ["keep.txt"]
    assert _no_processes_left(before)
    # --out names a file: usage, before anything starts
    a_file = tmp_path / "a-file"
    a_file.write_text("not a folder")
    assert cli.main([*report, "--data", str(only_reports), "--out", str(a_file)]) == 2
    assert "is a file" in _one_line(capsys)
    assert a_file.read_text() == "not a folder"


# What the run is doing when its pool starts and when it plans, recorded in a fresh process.
OVERLAP = """\
import json, sys, psutil
from cchc_analysis.batch import runner
seen = {}
start_pool = runner._start_pool
def recording_plan(*args, **kwargs):
    seen["processes_at_plan"] = len(psutil.Process().children(recursive=True))
    return plan_jobs(*args, **kwargs)
def recording_start(*args, **kwargs):
    global plan_jobs
    seen["pandas_at_pool_start"] = "pandas" in sys.modules
    pool = start_pool(*args, **kwargs)
    from cchc_analysis.batch import plan
    plan_jobs, plan.plan_jobs = plan.plan_jobs, recording_plan
    return pool
runner._start_pool = recording_start
from cchc_analysis import cli
seen["exit"] = cli.main(sys.argv[1:])
print(json.dumps(seen))
"""


def test_the_kernels_start_before_pandas_is_imported_and_boot_while_the_run_plans(
    prepared_dir, tmp_path
):
    data = tmp_path / "data"
    shutil.copytree(prepared_dir, data)
    out = tmp_path / "out"
    args = ["report", "--data", str(data), "--period", "2023-Q3", "--units", "314"]
    args += ["--out", str(out), "--workers", "2", "--quiet"]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONWARNINGS": "ignore"}
    done = subprocess.run(
        [sys.executable, "-c", OVERLAP, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["exit"] == 0
    assert seen["pandas_at_pool_start"] is False
    assert seen["processes_at_plan"] >= 2  # the workers (and their kernels) are under way
    statuses = {
        r["file"]: r["status"] for r in json.loads((out / "manifest.json").read_text())["reports"]
    }
    assert set(statuses.values()) == {"ok"}, statuses


def test_jobs_go_to_ready_workers_only_the_first_free_first():
    """A job is never queued behind a kernel still starting: a worker gets one once it said
    it is ready, so the overview (handed out second) goes to whichever worker is free first."""
    from collections import deque

    from cchc_analysis.batch.pool import LocalPool, _Worker

    pool = LocalPool.__new__(LocalPool)
    ends = [Pipe() for _ in range(2)]
    ready, starting = (_Worker(None, parent) for parent, _child in ends)  # type: ignore[arg-type]
    ready.ready = True
    pool.workers = [starting, ready]
    pool._is_exhausted = False
    jobs = iter([_probe_job("a"), _probe_job("b")])
    pool._hand_out(jobs, deque())
    assert ready.job is not None and ready.job.unit_code == "a"
    assert starting.job is None and not ends[1][1].poll()
    assert ends[0][1].recv().unit_code == "a"
    assert next(jobs).unit_code == "b"  # still waiting for a free, ready worker
