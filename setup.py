"""Build step beside pyproject.toml: the wheel carries copies of the report notebooks.

The notebooks' home is the top-level notebooks/ folder (the layout the project was asked
for); a wheel installed elsewhere, or a Dask worker on another machine, finds the copies in
cchc_analysis/resources/notebooks/ (see cchc_analysis.core.resources.notebooks_dir).
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

REPORT_NOTEBOOKS = ("district_report.ipynb", "province_overview.ipynb")


class BuildWithNotebooks(build_py):
    def run(self) -> None:
        super().run()
        if self.editable_mode:  # a checkout reads notebooks/ directly
            return
        target = Path(self.build_lib) / "cchc_analysis" / "resources" / "notebooks"
        target.mkdir(parents=True, exist_ok=True)
        for name in REPORT_NOTEBOOKS:
            shutil.copy2(Path("notebooks") / name, target / name)


setup(cmdclass={"build_py": BuildWithNotebooks})
