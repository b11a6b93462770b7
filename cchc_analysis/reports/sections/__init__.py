"""The sections of the district report and the province overview, one module per topic.

In: a loaded :class:`~cchc_analysis.reports.unit_data.UnitData` or
:class:`~cchc_analysis.reports.province_data.ProvinceData`. Out: one ``IPython.display.HTML``
block per section (heading, sentences, tables, inline charts with alt text). Each section
function assembles numbers (from the loaded data and :mod:`cchc_analysis.stats`), words (from
:mod:`cchc_analysis.reports.wording`, never written inline), a chart
(:mod:`cchc_analysis.reports.plots`) and HTML (:mod:`cchc_analysis.reports.html_blocks`).
Sections never read files nor count dossiers: that happened once, at load.
"""
