"""The package as a wheel: installed outside the checkout, it still renders a whole report.

A wheel install (or a Dask worker on another machine) has no checkout beside it: the
notebooks, the nbconvert template, the methodology texts and the YAML settings must travel
inside the package (cchc_analysis/resources, notebooks copied in by setup.py's build step).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("cchc_analysis", "notebooks", "pyproject.toml", "setup.py", "README.md")

pytestmark = pytest.mark.e2e


def _run(args: list[str], **options) -> subprocess.CompletedProcess:
    proc = subprocess.run(args, capture_output=True, text=True, timeout=600, **options)
    assert proc.returncode == 0, f"{' '.join(args)}:\n{proc.stdout}\n{proc.stderr}"
    return proc


@pytest.fixture(scope="module")
def wheel_venv(tmp_path_factory) -> Path:
    """A scratch venv with the wheel installed; the dependencies come from the project's venv
    (a path in a .pth file), never the checkout's own package."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    source.mkdir()
    for name in SOURCES:
        copy = shutil.copytree if (ROOT / name).is_dir() else shutil.copy2
        copy(ROOT / name, source / name)
    shutil.rmtree(source / "cchc_analysis" / "__pycache__", ignore_errors=True)
    dist = work / "dist"
    _run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
          "-w", str(dist), str(source)])  # fmt: skip
    [wheel] = dist.glob("cchc_workbook-*.whl")
    venv = work / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    site = Path(
        _run(
            [
                str(venv / "bin" / "python"),
                "-c",
                "import sysconfig; print(sysconfig.get_path('purelib'))",
            ]
        ).stdout.strip()
    )
    (site / "project-deps.pth").write_text(sysconfig.get_path("purelib") + "\n")
    # nbconvert's base templates are data files of its install (share/jupyter/nbconvert); the
    # project's kernel spec there is deliberately not shared (it runs the checkout's Python).
    share = venv / "share" / "jupyter"
    share.mkdir(parents=True)
    (share / "nbconvert").symlink_to(Path(sys.prefix) / "share" / "jupyter" / "nbconvert")
    _run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site),
          str(wheel)])  # fmt: skip
    return venv


def test_wheel_carries_notebooks_template_settings_and_methodology(wheel_venv):
    script = (
        "import cchc_analysis, pathlib\n"
        "from cchc_analysis.core import resources\n"
        "print(pathlib.Path(cchc_analysis.__file__).parent)\n"
        "print(resources.notebooks_dir())\n"
        "from cchc_analysis.reports.methodology import methodology_html\n"
        "print(len(methodology_html('vi')))\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("CCHC_NOTEBOOKS", "CCHC_DOCS")}
    env.pop("PYTHONPATH", None)
    out = _run([str(wheel_venv / "bin" / "python"), "-c", script], cwd="/", env=env).stdout
    package, notebooks, methodology_chars = out.split()
    assert str(wheel_venv) in package and str(ROOT) not in package
    assert notebooks.startswith(package)
    assert int(methodology_chars) > 1000


def test_report_renders_from_the_wheel_outside_the_checkout(wheel_venv, prepared_dir, tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("CCHC_NOTEBOOKS", "CCHC_DOCS")}
    env.pop("PYTHONPATH", None)
    env["PATH"] = f"{wheel_venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    out = tmp_path / "reports"
    python = str(wheel_venv / "bin" / "python")
    _run(
        [python, "-m", "cchc_analysis.cli", "report", "--data", str(prepared_dir), "--period",
         "2023-Q3", "--units", "314", "--out", str(out), "--workers", "1", "--quiet"],
        cwd=tmp_path, env=env,
    )  # fmt: skip
    page = (out / "314-kien-thuy.html").read_text(encoding="utf-8")
    assert "Huyện Kiến Thụy" in page and 'id="method"' in page
    methodology = ROOT / "cchc_analysis" / "resources" / "methodology" / "methodology.vi.md"
    first_heading = next(
        line[3:].strip()
        for line in methodology.read_text(encoding="utf-8").splitlines()
        if line.startswith("## ")
    )
    assert first_heading in page  # the methodology section came with the wheel
    assert str(ROOT) not in page.replace(str(prepared_dir), "")
