"""The province overview as the notebook calls it: every district side by side for one period.

Data loaded once (:mod:`~cchc_analysis.reports.province_data`), one method per section; the
sections live in :mod:`cchc_analysis.reports.sections` beside the district report's, whose
pieces (KPI cards, league columns, funnel plots) they share.
"""

from __future__ import annotations

from typing import ClassVar

from IPython.display import HTML

from cchc_analysis.reports.province_data import ProvinceData
from cchc_analysis.reports.sections import (
    attention,
    method,
    position,
    scorecard,
    service_index,
    summary,
    title,
    trends,
)
from cchc_analysis.reports.showing import show_sections


class ProvinceReport(ProvinceData):
    """The province overview: league table, funnel plots, trends and index ranking."""

    # The sections, in the order ``show`` displays them (the notebook's cell, bench/).
    SECTIONS: ClassVar[tuple[str, ...]] = (
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

    def show(self) -> None:
        """Every section in order: the notebook's one cell of output (``showing``)."""
        show_sections(self, self.SECTIONS)

    def title(self) -> HTML:
        return title.province_title(self)

    def contents(self) -> HTML:
        return title.province_contents(self)

    def summary(self) -> HTML:
        return summary.province_summary(self)

    def totals(self) -> HTML:
        return scorecard.province_totals(self)

    def attention(self) -> HTML:
        return attention.province_attention(self)

    def league_table(self) -> HTML:
        return position.league_table(self)

    def rankings(self) -> HTML:
        return position.rankings(self)

    def trends(self) -> HTML:
        return trends.province_trends(self)

    def service_index(self) -> HTML:
        return service_index.province_service_index(self)

    def method(self) -> HTML:
        return method.province_method(self)
