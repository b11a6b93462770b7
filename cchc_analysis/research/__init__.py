"""research: the researcher's front door over a data folder, in Python and in SQL.

In: a data folder (``cchc demo``/``cchc ingest``), or an export file for
:func:`read_export`; periods and units as a researcher types them (:mod:`.arguments`).
Out: pandas frames in the order asked, with unit names (:class:`Workbook`: ``kpis``,
``dossiers``, ``survey``, ``compare``), intervals and funnels on rates (:mod:`.compare`),
labelled Excel and CSV files (:mod:`.results`), a DuckDB connection with the Biểu 06 rules as
macros (:mod:`.sql`).

Modules: ``arguments`` (what a researcher types), ``sql`` (DuckDB views and macros),
``grouped`` (counts by procedure, channel, ... through DuckDB or pandas), ``compare``,
``results``, ``export_reader`` (an export in memory), ``workbook`` (the front door).

The stage computes nothing of its own: every count comes from ``counting``'s rules (or their
SQL form, tested equal), every interval from ``stats``, every label from the catalogues. It
never writes into a data folder (the store's one-time renaming of a pre-era layout aside).

Where DuckDB is used: ``Workbook.kpis(by=...)`` for groupings the cube does not hold
(procedure, channel, online level, tier): the ``bieu06_flags`` macro over the Parquet files
(``grouped``). For a province-year by procedure on 4.7 million dossiers it took 2.4 s and
340 MB where the pandas path took 17 s and 1.6 GB (bench/bench_research.py, a loaded 2-core
machine). Per unit (× field), ``counting.kpi_table`` (the cube)
is already the fast path and is used as is.
"""

from cchc_analysis.research.compare import compare_rates, funnel, with_intervals
from cchc_analysis.research.export_reader import Export, read_export
from cchc_analysis.research.results import definitions, to_csv, to_excel
from cchc_analysis.research.sql import connect
from cchc_analysis.research.workbook import Workbook, open

__all__ = [
    "Workbook",
    "open",
    "connect",
    "read_export",
    "Export",
    "with_intervals",
    "compare_rates",
    "funnel",
    "definitions",
    "to_excel",
    "to_csv",
]
