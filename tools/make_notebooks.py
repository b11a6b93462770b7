"""Write the report notebooks from this one definition (run after editing, then commit).

Keeping the notebooks generated avoids hand-edited JSON drifting from the package's API; the
committed .ipynb files are what papermill and JupyterLab open.
"""

import subprocess
import sys
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
            'input_hash: str = ""  # set by cchc report: hash of the inputs, for provenance\n'
            'level: str = "district"  # district, or commune (a new commune, from 2025-07-01)',
            metadata={"tags": ["parameters"]},
        ),
        new_code_cell(
            "from cchc_analysis.reports.unit_report import UnitReport\n\n"
            "report = UnitReport.load(unit_code, period, data_dir, lang, tier, input_hash, level)"
        ),
        *[
            new_code_cell(f"report.{section}()")
            for section in (
                "title",
                "contents",
                "summary",
                "attention",
                "scorecard",
                "summary_table",
                "volumes",
                "timeliness",
                "processing_time",
                "online",
                "satisfaction",
                "communes",
                "position",
                "service_index",
                "method",
            )
        ],
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
            'input_hash: str = ""  # set by cchc report: hash of the inputs, for provenance\n'
            'level: str = "district"  # units ranked: district, or commune (from 2025-07-01)\n'
            'province_code: str = ""  # the province (from 2025-07-01); empty: the data\'s',
            metadata={"tags": ["parameters"]},
        ),
        new_code_cell(
            "from cchc_analysis.reports.province_report import ProvinceReport\n\n"
            "report = ProvinceReport.load(\n"
            "    period, data_dir, lang, tier, input_hash, level, province_code\n"
            ")"
        ),
        *[
            new_code_cell(f"report.{section}()")
            for section in (
                "title",
                "contents",
                "summary",
                "totals",
                "attention",
                "league_table",
                "rankings",
                "trends",
                "service_index",
                "method",
            )
        ],
    ]
)


explore = notebook(
    [
        new_markdown_cell(
            "# Exploring CCHC data with `cchc_analysis`\n\n"
            "A guided tour for researchers: load dossiers, filter them, build your own "
            "aggregation, compare two districts with honest statistics and draw a custom chart. "
            "Everything below calls the same functions the reports use, so your numbers match "
            "theirs. Run it top to bottom after `make demo` (or point `data_dir` at an ingested "
            "folder)."
        ),
        new_code_cell(
            'data_dir: str = "data/demo"  # data folder (dossiers/, cube.parquet, survey.parquet)\n'
            'period: str = "2023-Q3"  # 2023-Q3, 2023-09, 2023-H1, 2023 or a day range A:B\n'
            'district_a: str = "314"  # first district to compare (Kiến Thụy)\n'
            'district_b: str = "313"  # second district to compare (An Lão)',
            metadata={"tags": ["parameters"]},
        ),
        new_code_cell(
            "import matplotlib.pyplot as plt\n\n"
            "from cchc_analysis import stats, store, units\n"
            "from cchc_analysis.core import metrics, periods\n"
            "from cchc_analysis.counting import CountQuery, cube, kpis, monthly_counts\n"
            "from cchc_analysis.reports import plots\n"
            "from cchc_analysis.reports.trend_sentence import describe_trend\n\n"
            "data = store.resolve_data_dir(data_dir)\n"
            "q = periods.parse_period(period)\n"
            "q.start, q.end, units.get_unit(district_a).name, units.get_unit(district_b).name"
        ),
        new_markdown_cell(
            "## 1. Load one district's dossiers\n\n"
            "Dossiers are stored partitioned by district, so this reads only one slice."
        ),
        new_code_cell(
            "dossiers = store.read_dossiers(data, [district_a])\n"
            'print(f"{len(dossiers):,} dossiers, columns: {list(dossiers.columns)}")\n'
            "dossiers.head()"
        ),
        new_markdown_cell("## 2. Filter\n\nDossiers received in the period, online, by field."),
        new_code_cell(
            "in_period = dossiers[dossiers['received_at'].between(str(q.start), str(q.end))]\n"
            "online = in_period[in_period['channel'] == 'online']\n"
            "online['field'].value_counts()"
        ),
        new_markdown_cell(
            "## 3. A custom aggregation\n\n"
            "Form-06 counts per field and tier with the official counting rules, then every "
            "catalogue rate."
        ),
        new_code_cell(
            "by_field = cube.period_counts(dossiers, q, by=('unit_level', 'field'))\n"
            "by_field = metrics.add_metrics(by_field)\n"
            "by_field[['unit_level', 'field', 'received_total_count', 'resolved_late_count',\n"
            "          'within_deadline_rate', 'online_rate']].sort_values('resolved_late_count',\n"
            "                                                          ascending=False)"
        ),
        new_markdown_cell(
            "## 4. Compare two districts\n\n"
            "Late rates with Wilson 95% intervals and a chi-square test of homogeneity: is the "
            "difference more than chance?"
        ),
        new_code_cell(
            "pair = kpis.kpi_table(data, CountQuery(q, unit_codes=[district_a, district_b]))\n"
            "low, high = stats.wilson_interval(pair['resolved_late_count'],\n"
            "                                  pair['resolved_total_count'])\n"
            "pair = pair.assign(late_low=low, late_high=high)\n"
            "test = stats.homogeneity_test(pair['resolved_late_count'], "
            "pair['resolved_total_count'])\n"
            "print(f\"chi-square p = {test['p_value']:.4f}\")\n"
            "pair[['unit_code', 'unit_name', 'resolved_total_count', 'resolved_late_count',\n"
            "      'late_rate', 'late_low', 'late_high']]"
        ),
        new_markdown_cell(
            "## 5. A custom chart\n\n"
            "Monthly online share of both districts, in the reports' chart style."
        ),
        new_code_cell(
            "both = CountQuery(q, unit_codes=[district_a, district_b])\n"
            "monthly = monthly_counts(data, both, since='2022-07-01')\n"
            "plots.apply_style()\n"
            "fig, ax = plt.subplots(figsize=(8, 3))\n"
            "for code, part in monthly.groupby('unit_code'):\n"
            "    ax.plot(part['month'], part['online_new_rate'], label=units.get_unit(code).name)\n"
            "ax.set_title('Online share of new dossiers')\n"
            "ax.legend()\n"
            "mine = monthly[monthly['unit_code'] == district_a]\n"
            "trend = stats.trend_test(mine['online_new_rate'], mine['month'])\n"
            "print(describe_trend(trend, 'The online share', lang='en'))"
        ),
    ]
)

root = Path(__file__).resolve().parent.parent / "notebooks"
nbformat.write(district, root / "district_report.ipynb")
nbformat.write(province, root / "province_overview.ipynb")
nbformat.write(explore, root / "explore.ipynb")
# The code cells follow the project's formatter, so `ruff format --check .` stays clean.
subprocess.run([sys.executable, "-m", "ruff", "format", "--quiet", str(root)], check=True)
print("wrote", root / "district_report.ipynb", root / "province_overview.ipynb")
