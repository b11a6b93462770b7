"""Shared fixtures: a small slice of the calibrated demo province, generated once per run.

Under pytest-xdist every worker is its own process; the expensive fixtures (the demo data, its
cube, the rendered 2023-Q3 province) are built once per test session all the same, by the first
worker that needs them, under a file lock in the session's common temporary folder.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from filelock import FileLock

from cchc_analysis.demo import synth

# Kiến Thụy (calibrated) and An Lão: enough for comparisons, small enough to be quick.
FIXTURE_DISTRICTS = ("313", "314")
BIN = Path(sys.executable).parent


def _built_once(tmp_path_factory, name: str, build: Callable[[Path], None]) -> Path:
    """``build(path)`` once per test session, shared by every xdist worker."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # the folder all workers of this session share
    path = root / f"shared-{name}"
    with FileLock(str(path) + ".lock"):
        if not (path / ".built").exists():
            shutil.rmtree(path, ignore_errors=True)
            path.mkdir(parents=True)
            build(path)
            (path / ".built").touch()
    return path


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory) -> Path:
    """Demo data for two districts (both tiers), without a cube."""

    def build(path: Path) -> None:
        synth.generate_demo(path / "data", district_codes=FIXTURE_DISTRICTS)

    return _built_once(tmp_path_factory, "demo", build) / "data"


@pytest.fixture(scope="session")
def prepared_dir(demo_dir, tmp_path_factory) -> Path:
    """The same data with its monthly cube built by `cchc prepare`."""

    def build(path: Path) -> None:
        shutil.copytree(demo_dir, path / "data")
        run_cchc("prepare", "--data", str(path / "data"))

    return _built_once(tmp_path_factory, "prepared", build) / "data"


@pytest.fixture(scope="session")
def province_reports(prepared_dir, tmp_path_factory) -> Path:
    """`cchc report` of both fixture districts, the overview and the index for 2023-Q3, as a
    user runs it; rendered once and read by the end-to-end and browser tests."""

    def build(path: Path) -> None:
        out = path / "2023-Q3"
        run_cchc(
            "report", "--data", str(prepared_dir), "--period", "2023-Q3", "--units", "all",
            "--out", str(out), "--workers", "2",
        )  # fmt: skip

    return _built_once(tmp_path_factory, "province-reports", build) / "2023-Q3"


@pytest.fixture(scope="session")
def reform_dir(demo_dir, tmp_path_factory) -> Path:
    """The demo slice plus its era-2025 copy (2025-07-01..2026-09-30), prepared."""
    from reform_fixture import build_reform_folder

    def build(path: Path) -> None:
        build_reform_folder(demo_dir, path / "data")

    return _built_once(tmp_path_factory, "reform", build) / "data"


@pytest.fixture(scope="session")
def missing_columns_dir(demo_dir, tmp_path_factory) -> Path:
    """The demo slice from 2024 on, each of several units' exports lacking an optional column
    (``missing_columns_fixture``), prepared; no survey."""
    from missing_columns_fixture import build_missing_columns_folder

    def build(path: Path) -> None:
        build_missing_columns_folder(demo_dir, path / "data")

    return _built_once(tmp_path_factory, "missing-columns", build) / "data"


def run_cchc(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run the installed `cchc` console script as a user would."""
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    proc = subprocess.run(
        [str(BIN / "cchc"), *args], capture_output=True, text=True, env=env, timeout=600
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"cchc {' '.join(args)} exited {proc.returncode}:\n{proc.stderr}")
    return proc
