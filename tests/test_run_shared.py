"""Province-wide tables computed once per batch run, not once per worker: the processes of a
run that ask for the same table at once compute it once and read the same frame; without the
run's folder nothing is shared or written; the run's folder goes with the run."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

from cchc_analysis import store
from cchc_analysis.core import run_shared
from cchc_analysis.counting import shared

# A process of a run asking for one table: it computes it slowly (so that the other process
# asks meanwhile), notes each computation in a log, and prints what it got.
ASK = textwrap.dedent(
    """
    import json, os, sys, time
    import pandas as pd
    from cchc_analysis.counting import shared

    data_dir, log = sys.argv[1], sys.argv[2]
    while not os.path.exists(log + ".go"):  # both processes start together
        time.sleep(0.01)

    def compute():
        time.sleep(0.8)
        with open(log, "a") as handle:
            handle.write(f"{os.getpid()}\\n")
        return pd.DataFrame({
            "unit_code": pd.Categorical(["10507", "10525"]),
            "received_count": pd.array([5, None], dtype="Int64"),
            "on_time_rate": [0.5, float("nan")],
            "computed_by": [os.getpid(), os.getpid()],
        })

    frame = shared.shared_frame(data_dir, ("province_units", "2026-Q3", "31"), compute)
    print(json.dumps({
        "pid": os.getpid(),
        "dtypes": [str(t) for t in frame.dtypes],
        "records": frame.astype(object).where(frame.notna(), None).to_dict("records"),
    }))
    """
)


def _data_dir(tmp_path: Path) -> Path:
    area = tmp_path / "data" / store.DOSSIERS_DIR / "area=2025-10507"
    area.mkdir(parents=True)
    (area / "part-0.parquet").write_bytes(b"rows")
    return tmp_path / "data"


def _ask_together(data_dir: Path, log: Path, env: dict[str, str]) -> list[dict]:
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", ASK, str(data_dir), str(log)],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    time.sleep(0.5)  # both interpreters up and waiting
    Path(f"{log}.go").write_text("")
    outputs = [json.loads(p.communicate(timeout=120)[0]) for p in processes]
    assert all(p.returncode == 0 for p in processes)
    Path(f"{log}.go").unlink()
    return outputs


def test_processes_of_a_run_compute_a_table_once(tmp_path):
    data_dir = _data_dir(tmp_path)
    folder = run_shared.make_folder()
    assert folder is not None and oct(folder.stat().st_mode & 0o777) == "0o700"
    try:
        env = {**os.environ, run_shared.ENV: str(folder)}
        log = tmp_path / "computed.log"
        first, second = _ask_together(data_dir, log, env)
        computed = log.read_text().split()
        assert len(computed) == 1  # one process computed it; the other waited and read it
        assert first["records"] == second["records"]
        assert first["records"][0]["computed_by"] == int(computed[0])
        assert first["dtypes"] == second["dtypes"] == ["category", "Int64", "float64", "int64"]
        assert first["records"][1]["received_count"] is None  # a gap stays a gap

        # The data changed (a re-ingest during the run): the table is computed again, once.
        (data_dir / store.DOSSIERS_DIR / "area=2025-10507" / "part-1.parquet").write_bytes(b"x")
        _ask_together(data_dir, log, env)
        assert len(log.read_text().split()) == 2
    finally:
        run_shared.remove_folder(folder)
    assert not folder.exists()


def test_without_a_run_folder_each_process_computes_its_own(tmp_path):
    data_dir = _data_dir(tmp_path)
    env = {k: v for k, v in os.environ.items() if k != run_shared.ENV}
    log = tmp_path / "computed.log"
    first, second = _ask_together(data_dir, log, env)
    assert len(log.read_text().split()) == 2
    assert first["records"][0]["computed_by"] != second["records"][0]["computed_by"]


def test_a_stored_result_is_used_only_for_its_own_key(tmp_path):
    calls = []

    def compute(value):
        def run():
            calls.append(value)
            return value

        return run

    assert run_shared.computed_once(tmp_path, "key one", compute(1)) == 1
    assert run_shared.computed_once(tmp_path, "key one", compute(2)) == 1
    assert calls == [1]
    # A file that holds another key's result (a hash collision) or is damaged is not used.
    (path,) = tmp_path.glob("*.pickle")
    shutil.copy(path, tmp_path / "copy")
    path.write_bytes(b"damaged")
    assert run_shared.computed_once(tmp_path, "key one", compute(3)) == 3
    shutil.copy(tmp_path / "copy", path)
    os.replace(path, tmp_path / f"{run_shared._name('key two')}.pickle")
    assert run_shared.computed_once(tmp_path, "key two", compute(4)) == 4
    assert calls == [1, 3, 4]


def test_a_key_naming_an_object_address_is_not_shared(tmp_path, monkeypatch):
    """Another process's object could sit at the same address: such a key stays per process."""
    data_dir = _data_dir(tmp_path)
    folder = tmp_path / "run"
    folder.mkdir()
    monkeypatch.setenv(run_shared.ENV, str(folder))
    shared.clear()
    frame = shared.shared_frame(data_dir, ("q", object()), lambda: pd.DataFrame({"n": [1]}))
    assert frame["n"].tolist() == [1]
    assert not list(folder.iterdir())
    shared.shared_frame(data_dir, ("q", "text"), lambda: pd.DataFrame({"n": [1]}))
    assert len(list(folder.glob("*.pickle"))) == 1
    # across_run=False: kept in this process only
    shared.shared_frame(data_dir, "cube", lambda: pd.DataFrame({"n": [1]}), across_run=False)
    assert len(list(folder.glob("*.pickle"))) == 1
    shared.clear()


@pytest.mark.e2e
@pytest.mark.parametrize("executor", ["process", "dask"])
def test_a_run_shares_its_province_tables_and_removes_them(
    reform_dir, tmp_path, monkeypatch, executor
):
    """``render_reports`` with two workers (local processes, or a local Dask cluster): their
    kernels write the province's tables to the run's folder, named in their environment, and
    the folder is gone when the run ends."""
    from cchc_analysis.batch.runner import render_reports
    from cchc_analysis.core.periods import parse_period

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    kept = tmp_path / "kept"
    remove = run_shared.remove_folder

    def keep_then_remove(folder):
        if folder is not None:
            shutil.copytree(folder, kept)
        remove(folder)

    monkeypatch.setattr(run_shared, "remove_folder", keep_then_remove)
    from cchc_analysis.batch.plan import plan_jobs

    jobs = plan_jobs(reform_dir, parse_period("2026-Q3"), unit_codes=None, lang="vi", tier="both")
    codes = [job.unit_code for job in jobs if job.kind == "commune"][:3]
    manifest = render_reports(
        reform_dir, parse_period("2026-Q3"), tmp_path / "out", unit_codes=codes, workers=2,
        quiet=True, executor=executor,
    )  # fmt: skip
    assert [r["status"] for r in manifest["reports"]] == ["ok"] * 4
    assert not list((tmp_path / "tmp").glob("cchc-run-shared-*"))  # removed with the run
    keys = []
    for path in kept.glob("*.pickle"):
        key_text, frame = pd.read_pickle(path)
        keys.append(key_text.split(" ", 1)[1])
        assert isinstance(frame, pd.DataFrame)
    assert any(k.startswith("('rollup'") for k in keys)
    assert any(k.startswith("('province_units'") for k in keys)
    assert not any("keyed cube" in k for k in keys)  # read by each process from the cube file
    assert len(keys) == len(set(keys))


def test_the_run_loads_its_first_reports_tables_into_the_shared_folder(prepared_dir, tmp_path):
    """While its first kernel starts, the run loads the first unit report's data itself, so
    the province-wide tables are in the run's folder when the report asks; a notebook that
    does not load a unit report is left alone; without a folder nothing is loaded."""
    from cchc_analysis.batch.plan import plan_jobs
    from cchc_analysis.batch.prefetch import start_prefetch
    from cchc_analysis.core.periods import parse_period

    jobs = plan_jobs(prepared_dir, parse_period("2023-Q3"), unit_codes=None, lang="vi", tier="both")
    unit = next(job for job in jobs if job.kind != "province")
    overview = next(job for job in jobs if job.kind == "province")
    folder = tmp_path / "shared"
    folder.mkdir()
    assert start_prefetch(unit, None) is None
    assert start_prefetch(overview, folder) is None
    shared.clear()
    with run_shared.named(folder):
        thread = start_prefetch(unit, folder)
        assert thread is not None
        thread.join(timeout=120)
        assert os.environ[run_shared.ENV] == str(folder)
    assert run_shared.ENV not in os.environ or os.environ[run_shared.ENV] != str(folder)
    written = sorted(p.name for p in folder.glob("*.pickle"))
    assert len(written) >= 2, written  # its districts' table and its communes' at least
    # What a report of the run then reads is what it would have computed alone.
    shared.clear()
    with run_shared.named(folder):
        from cchc_analysis.reports.unit_data import UnitData

        read = UnitData.load(unit.unit_code, "2023-Q3", prepared_dir)
    shared.clear()
    alone = UnitData.load(unit.unit_code, "2023-Q3", prepared_dir)
    pd.testing.assert_frame_equal(read.peers, alone.peers)
    pd.testing.assert_frame_equal(read.commune_table, alone.commune_table)
    pd.testing.assert_series_equal(read.current, alone.current)
