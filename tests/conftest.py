"""Shared fixtures: a small slice of the calibrated demo province, generated once per run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from cchc_analysis.demo import synth

# Kiến Thụy (calibrated) and An Lão: enough for comparisons, small enough to be quick.
FIXTURE_DISTRICTS = ("313", "314")
BIN = Path(sys.executable).parent


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory) -> Path:
    """Demo data for two districts (both tiers), without a cube."""
    path = tmp_path_factory.mktemp("demo")
    synth.generate_demo(path, district_codes=FIXTURE_DISTRICTS)
    return path


@pytest.fixture(scope="session")
def prepared_dir(demo_dir, tmp_path_factory) -> Path:
    """The same data with its monthly cube built by `cchc prepare`."""
    import shutil

    path = tmp_path_factory.mktemp("prepared") / "data"
    shutil.copytree(demo_dir, path)
    run_cchc("prepare", "--data", str(path))
    return path


def run_cchc(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run the installed `cchc` console script as a user would."""
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    proc = subprocess.run(
        [str(BIN / "cchc"), *args], capture_output=True, text=True, env=env, timeout=600
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"cchc {' '.join(args)} exited {proc.returncode}:\n{proc.stderr}")
    return proc
