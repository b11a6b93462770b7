"""The method section: where this report's numbers came from, then the shared methodology."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from IPython.display import HTML

from cchc_analysis.core.version import __version__
from cchc_analysis.reports.formatting import period_dates
from cchc_analysis.reports.html_blocks import html_block, is_synthetic, paragraph
from cchc_analysis.reports.methodology import methodology_html
from cchc_analysis.reports.province_data import ProvinceData
from cchc_analysis.reports.sections.common import section_heading
from cchc_analysis.reports.unit_data import UnitData
from cchc_analysis.reports.wording import phrase


def _method_html(provenance: str, lang: str) -> HTML:
    return html_block(
        section_heading("method", lang)
        + paragraph(provenance, "provenance")
        + f'<div class="methodology">{methodology_html(lang)}</div>'
    )


def source_text(dataset: Mapping[str, Any], lang: str) -> str:
    """Where the data came from, in the reader's words (never a folder path)."""
    key = "method.source_demo" if is_synthetic(dataset) else "method.source_exports"
    return phrase("method.source", lang, source=phrase(key, lang))


def _input_hash(input_hash: str, lang: str) -> str:
    return phrase("method.input_hash", lang, input_hash=input_hash) if input_hash else ""


def unit_method(data: UnitData) -> HTML:
    """Provenance of this report, then the methodology shared by all reports."""
    lang = data.lang
    info = data.dataset
    generated = datetime.now()
    provenance = (
        source_text(info, lang)
        + phrase("method.folder_period", lang, dates=period_dates(data.period, lang))
        + phrase("method.generated", lang, version=__version__, generated=generated)
        + _input_hash(data.input_hash, lang)
    )
    return _method_html(provenance, lang)


def province_method(data: ProvinceData) -> HTML:
    """Provenance of the overview, then the methodology shared by all reports."""
    lang = data.lang
    provenance = (
        source_text(data.dataset, lang)
        + phrase("method.generated", lang, version=__version__, generated=datetime.now())
        + _input_hash(data.input_hash, lang)
    )
    return _method_html(provenance, lang)
