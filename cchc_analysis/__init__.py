"""cchc_analysis: ingest, validate and report on Vietnamese administrative-procedure data.

The package is the single home of every computation; notebooks only call into it. It reads as
its pipeline, one subpackage per stage, each importing only from the stages below it:

    ingest   raw one-stop exports and Biểu 06 sheets -> canonical rows in the store
    store    the data folder: dossier partitions by era and area, tables, dataset.json
    counting Biểu 06 counts and rates of any unit, level, tier and period (``kpi_table``)
    stats    intervals, funnels, trends, survival, survey scales (numbers only)
    reports  the sections of the unit report, the province overview and the index page
    batch    papermill + nbconvert for every unit of a period; ``cchc run`` for cron
    demo     the calibrated demo province
    units, core   the two-era registry and crosswalks; schema, periods, metrics, errors

``cchc_analysis.cli`` is the ``cchc`` command on top.
"""

from cchc_analysis.core.version import __version__

__all__ = ["__version__"]
