"""Counting: the Biểu 06 counts and rates of any unit and period, from a prepared data folder.

In: a data folder as ``store`` lays it out (dossier partitions, period reports, the cube) and a
:class:`CountQuery` (period, level, tier, units, era). Out: tables of counts and rates per unit
(``kpi_table``), per unit × month (``monthly_counts``), the monthly cube and the folder's derived
data (``prepare_folder``), and the estimate of the 766 service index (``service_index``).

Modules, bottom up: ``query`` (the options, checked once), ``cube`` (the counting rules on
dossier rows and the monthly cube), ``aggregates`` (counts from Biểu 06 period reports),
``prepare`` (the one owner of the cube file and dataset.json's dates), ``monthly`` (dense monthly
series from cube rows), ``counts`` (counts of the recorded units, era 2024), ``rollup`` and
``rollup_monthly`` (era 2025: the same counts summed along the crosswalks, per period and per
month), ``kpis`` (dispatch on the era, rates and names), ``service_index``.

Counting never reads raw exports (that is ``ingest``'s job: it reads only canonical tables
through ``store``), never renders anything, and never changes dossier rows.
"""

from cchc_analysis.counting.kpis import count_table, kpi_records, kpi_table, monthly_counts
from cchc_analysis.counting.prepare import PrepareResult, prepare_folder
from cchc_analysis.counting.query import CountQuery

__all__ = [
    "CountQuery",
    "count_table",
    "kpi_table",
    "kpi_records",
    "monthly_counts",
    "PrepareResult",
    "prepare_folder",
]
