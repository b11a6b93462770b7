"""reports: the district report, the province overview and the index page of a run.

In: a data folder and a period (through :mod:`cchc_analysis.counting`, :mod:`~cchc_analysis.store`
and :mod:`cchc_analysis.stats`). Out: ``IPython.display.HTML`` sections that the report
notebooks display (:class:`~cchc_analysis.reports.unit_report.UnitReport`,
:class:`~cchc_analysis.reports.province_report.ProvinceReport`), and ``index.html``.

Layout: ``unit_data``/``province_data`` load once; ``sections/`` hold one module per topic,
each assembling numbers, words, a chart and HTML; ``wording`` is the one catalogue of
reader-facing phrases (vi, en); ``formatting`` the one place numbers become text;
``trend_sentence`` words a trend test; ``plots`` draws; ``html_blocks`` escapes.

This stage never counts dossiers itself (counting does), never computes a statistic by hand
(stats does), never writes a sentence outside ``wording`` and never fetches anything from
another host: the HTML reads the same offline.
"""
