"""Write the report notebooks from this one definition (run after editing, then commit).

Keeping the notebooks generated avoids hand-edited JSON drifting from the package's API; the
committed .ipynb files are what papermill and JupyterLab open.
"""

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

KERNELSPEC = {
    "name": "cchc-workbook",
    "display_name": "Python (cchc-workbook)",
    "language": "python",
}
HIDDEN = {"tags": ["remove-in-report"]}


def notebook(cells):
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = KERNELSPEC
    nb.metadata["language_info"] = {"name": "python"}
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i:02d}"  # stable ids keep regenerated notebooks diff-free
    return nb


district = notebook(
    [
        new_markdown_cell(
            "# District report (báo cáo cấp huyện)\n\n"
            "One report per district for one period. `cchc report` runs this notebook with "
            "papermill once per district and renders it with nbconvert (code hidden). "
            "Every number comes from `cchc_analysis`; this notebook only calls it. "
            "Cells tagged `remove-in-report` (like this one) are left out of the HTML.",
            metadata=HIDDEN,
        ),
        new_code_cell(
            'unit_code: str = "314"  # GSO code of the district (3 digits), e.g. 314: Kiến Thụy\n'
            'period: str = "2023-Q3"  # 2023-Q3, 2023-09, 2023-H1, 2023 or 2023-07-01:2023-09-30\n'
            'data_dir: str = "data/demo"  # data folder (dossiers/, cube.parquet, survey.parquet)\n'
            'lang: str = "vi"  # report language: vi (default) or en\n'
            'tier: str = "both"  # whose dossiers count: district offices, commune, or both\n'
            'input_hash: str = ""  # set by cchc report: hash of the inputs, for provenance',
            metadata={"tags": ["parameters"]},
        ),
        new_code_cell(
            "from cchc_analysis.report import UnitReport\n\n"
            "report = UnitReport.load(unit_code, period, data_dir, lang, tier, input_hash)"
        ),
        new_code_cell("report.title()"),
        new_code_cell("report.scorecard()"),
        new_code_cell("report.summary_table()"),
        new_code_cell("report.volumes()"),
        new_code_cell("report.timeliness()"),
        new_code_cell("report.online()"),
        new_code_cell("report.satisfaction()"),
        new_code_cell("report.communes()"),
        new_code_cell("report.position()"),
        new_code_cell("report.method()"),
    ]
)

province = notebook(
    [
        new_markdown_cell(
            "# Province overview (tổng quan toàn tỉnh)\n\n"
            "All districts of the data folder side by side for one period. Rendered by "
            "`cchc report` next to the district reports.",
            metadata=HIDDEN,
        ),
        new_code_cell(
            'period: str = "2023-Q3"  # 2023-Q3, 2023-09, 2023-H1, 2023 or 2023-07-01:2023-09-30\n'
            'data_dir: str = "data/demo"  # data folder (dossiers/, cube.parquet)\n'
            'lang: str = "vi"  # report language: vi (default) or en\n'
            'tier: str = "both"  # whose dossiers count: district offices, commune, or both\n'
            'input_hash: str = ""  # set by cchc report: hash of the inputs, for provenance',
            metadata={"tags": ["parameters"]},
        ),
        new_code_cell(
            "from cchc_analysis.report import ProvinceReport\n\n"
            "report = ProvinceReport.load(period, data_dir, lang, tier, input_hash)"
        ),
        new_code_cell("report.title()"),
        new_code_cell("report.totals()"),
        new_code_cell("report.league_table()"),
        new_code_cell("report.rankings()"),
        new_code_cell("report.trends()"),
        new_code_cell("report.method()"),
    ]
)

root = Path(__file__).resolve().parent.parent / "notebooks"
nbformat.write(district, root / "district_report.ipynb")
nbformat.write(province, root / "province_overview.ipynb")
print("wrote", root / "district_report.ipynb", root / "province_overview.ipynb")
