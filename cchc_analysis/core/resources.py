"""Where the files that ship with the package live: the report notebooks, the nbconvert
template, the methodology texts and the YAML settings (targets, the 766 index).

Everything a report depends on besides the data is found here, as package data, so that a
wheel install or a Dask worker on another machine renders the same report as a checkout, and
the runner's incremental hash can cover all of it (`package_files`).
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent.parent
RESOURCES_DIR = PACKAGE_DIR / "resources"
TEMPLATE_DIR = RESOURCES_DIR / "templates"
METHODOLOGY_DIR = RESOURCES_DIR / "methodology"
TARGETS_FILE = RESOURCES_DIR / "targets.yaml"
INDEX766_FILE = RESOURCES_DIR / "index766.yaml"
# The wheel carries copies of the report notebooks here (setup.py's build step); a checkout
# (editable install) reads them from their top-level home, notebooks/.
_PACKAGED_NOTEBOOKS = RESOURCES_DIR / "notebooks"
_CHECKOUT_NOTEBOOKS = PACKAGE_DIR.parent / "notebooks"
REPORT_NOTEBOOKS = ("district_report.ipynb", "province_overview.ipynb")


def notebooks_dir() -> Path:
    """The report notebooks: $CCHC_NOTEBOOKS, else the package's copies, else the checkout's."""
    env = os.environ.get("CCHC_NOTEBOOKS")
    if env:
        return Path(env)
    if (_PACKAGED_NOTEBOOKS / REPORT_NOTEBOOKS[0]).exists():
        return _PACKAGED_NOTEBOOKS
    return _CHECKOUT_NOTEBOOKS


def methodology_dir() -> Path:
    """The methodology texts: $CCHC_DOCS (a province's own wording), else the package's."""
    return Path(os.environ.get("CCHC_DOCS", METHODOLOGY_DIR))


def package_files() -> list[Path]:
    """Every file of the package a report's look or numbers can depend on: code at any depth,
    templates, settings and methodology texts. (The notebook a report runs is hashed with the
    report's own job, as the text that was run.)"""
    return sorted(
        path
        for path in PACKAGE_DIR.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    )
