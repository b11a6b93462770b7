"""cchc_analysis: ingest, validate and report on Vietnamese administrative-procedure data.

Start here (a researcher, in JupyterLab)::

    import cchc_analysis as cchc

    wb = cchc.open("data/demo")                     # or CCHC_DATA, or the working directory
    wb.kpis("2023", units="Kiến Thụy", freq="month")  # monthly counts and rates, exact stocks
    wb.kpis("2024", level="province", by="procedure")  # any grouping, names attached
    wb.compare("Kiến Thụy", "An Lão", "online_rate", period="2023-Q3")  # difference, CI, test
    cchc.with_intervals(wb.kpis("2023-Q3", level="commune"), "late_rate")
    wb.kpis("2023-Q3").cchc.to_excel("kpis.xlsx")     # Vietnamese labels, rates as %
    frame, rejects = cchc.read_export("export.xlsx")  # ingest's checks, in memory
    cchc.sql("data/demo").sql("SELECT * FROM bieu06('2023-07-01', '2023-09-30', field)")
    wb.definitions                                    # the metric catalogue

The front door (``open``, ``Workbook``, ``read_export``, ``sql``, ``with_intervals``,
``compare_rates``, ``funnel``, ``definitions``, ``to_excel``, ``to_csv``) is loaded on first
use, so ``import cchc_analysis`` stays fast.

The package is the single home of every computation; notebooks only call into it. It reads as
its pipeline, one subpackage per stage, each importing only from the stages below it:

    research the front door above: a folder or an export in, frames, files and SQL out
    batch    papermill + nbconvert for every unit of a period; ``cchc run`` for cron
    demo     the calibrated demo province
    reports  the sections of the unit report, the province overview and the index page
    ingest   raw one-stop exports and Biểu 06 sheets -> canonical rows in the store
    counting Biểu 06 counts and rates of any unit, level, tier and period (``kpi_table``)
    stats    intervals, funnels, trends, survival, survey scales (numbers only)
    store    the data folder: dossier partitions by era and area, tables, dataset.json
    units, core   the two-era registry and crosswalks; schema, periods, metrics, errors

``cchc_analysis.cli`` is the ``cchc`` command on top.
"""

from __future__ import annotations

import importlib
from typing import Any

from cchc_analysis.core.version import __version__

# name -> (module, attribute): the research front door, imported when first asked for.
_FRONT_DOOR = {
    "open": ("cchc_analysis.research.workbook", "open"),
    "Workbook": ("cchc_analysis.research.workbook", "Workbook"),
    "read_export": ("cchc_analysis.research.export_reader", "read_export"),
    "Export": ("cchc_analysis.research.export_reader", "Export"),
    "sql": ("cchc_analysis.research.sql", "connect"),
    "with_intervals": ("cchc_analysis.research.compare", "with_intervals"),
    "compare_rates": ("cchc_analysis.research.compare", "compare_rates"),
    "funnel": ("cchc_analysis.research.compare", "funnel"),
    "definitions": ("cchc_analysis.research.results", "definitions"),
    "to_excel": ("cchc_analysis.research.results", "to_excel"),
    "to_csv": ("cchc_analysis.research.results", "to_csv"),
}

__all__ = ["__version__", *_FRONT_DOOR]


def __getattr__(name: str) -> Any:
    """PEP 562: the front door's names load their module on first use."""
    if name in _FRONT_DOOR:
        module, attribute = _FRONT_DOOR[name]
        value = getattr(importlib.import_module(module), attribute)
        globals()[name] = value  # later look-ups skip this function
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_FRONT_DOOR})
