"""The district report as the notebook calls it: data loaded once, one method per section.

The notebook is thin: a parameters cell, ``UnitReport.load(...)``, then ``report.show()``,
which displays every section in order (``report.volumes()`` shows one). Each section returns
an ``IPython.display.HTML`` block (headings, tables, charts as inline SVG with alt text), so
the rendered HTML needs nothing from any other host and reads the same offline. The loading
lives in :mod:`~cchc_analysis.reports.unit_data`, the sections (numbers, words, chart, HTML)
in :mod:`cchc_analysis.reports.sections`; this class only names them.
"""

from __future__ import annotations

from typing import ClassVar

from IPython.display import HTML

from cchc_analysis.reports.sections import (
    attention,
    communes,
    method,
    online,
    position,
    processing_time,
    satisfaction,
    scorecard,
    service_index,
    summary,
    timeliness,
    title,
    volumes,
)
from cchc_analysis.reports.showing import show_sections
from cchc_analysis.reports.unit_data import UnitData


class UnitReport(UnitData):
    """Everything one district's report needs, loaded once, and its sections in order."""

    # The sections, in the order ``show`` displays them (the notebook's cell, bench/).
    SECTIONS: ClassVar[tuple[str, ...]] = (
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

    def show(self) -> None:
        """Every section in order: the notebook's one cell of output (``showing``)."""
        show_sections(self, self.SECTIONS)

    def title(self) -> HTML:
        return title.unit_title(self)

    def contents(self) -> HTML:
        return title.unit_contents(self)

    def summary(self) -> HTML:
        return summary.summary(self)

    def attention(self) -> HTML:
        return attention.unit_attention(self)

    def scorecard(self) -> HTML:
        return scorecard.scorecard(self)

    def summary_table(self) -> HTML:
        return scorecard.counts_table(self)

    def volumes(self) -> HTML:
        return volumes.volumes(self)

    def timeliness(self) -> HTML:
        return timeliness.timeliness(self)

    def processing_time(self) -> HTML:
        return processing_time.processing_time(self)

    def online(self) -> HTML:
        return online.online(self)

    def satisfaction(self) -> HTML:
        return satisfaction.satisfaction(self)

    def communes(self) -> HTML:
        return communes.communes(self)

    def position(self) -> HTML:
        return position.position(self)

    def service_index(self) -> HTML:
        return service_index.unit_service_index(self)

    def method(self) -> HTML:
        return method.unit_method(self)
