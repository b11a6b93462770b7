"""The title block and the table of contents of both reports."""

from __future__ import annotations

from typing import Any

from IPython.display import HTML

from cchc_analysis import units
from cchc_analysis.reports.formatting import fmt_date_range, period_label
from cchc_analysis.reports.html_blocks import ESC, contents, html_block, is_synthetic, page_frame
from cchc_analysis.reports.links import INDEX_FILE, overview_file, province_kind
from cchc_analysis.reports.province_data import ProvinceData
from cchc_analysis.reports.sections.communes import communes_title
from cchc_analysis.reports.unit_data import UnitData
from cchc_analysis.reports.wording import peer_phrase, phrase, unit_kind

# Section anchors in reading order; their titles are the catalogue's ``section.<anchor>``.
SHEET_ANCHOR = "phieu-tom-tat"  # the one-page summary view's anchor
WHOLE_ANCHOR = "bao-cao"  # the title's: back to the whole report
UNIT_SECTIONS = (
    "summary",
    "attention",
    "scorecard",
    "counts",
    "volumes",
    "timeliness",
    "processing-time",
    "online",
    "satisfaction",
    "communes",
    "position",
    "index",
    "method",
)
PROVINCE_SECTIONS = (
    "summary",
    "totals",
    "attention",
    "league",
    "comparison",
    "trends",
    "index",
    "method",
)


def unit_title(data: UnitData) -> HTML:
    """Report title, unit and province, the period with its dates and whose dossiers count;
    for a unit of the reform, what its figures sum (on the first screen)."""
    lang = data.lang
    subtitle = f"{data.unit_name} — {data.province.name}"
    tier_note = "" if data.level == "commune" else f" · {_tier_words(data)}"
    frame = _page_frame(data.dataset, f"{data.unit_name} · {period_label(data.period, lang)}", lang)
    return html_block(
        frame + f'<header class="report-title sheet-part" id="{WHOLE_ANCHOR}">'
        f"<h1>{ESC(phrase('report_title', lang))}</h1>"
        f'<p class="subtitle">{ESC(subtitle)}</p>'
        f'<p class="period">{ESC(phrase("period", lang))}: '
        f"{ESC(period_label(data.period, lang))} "
        f"({ESC(fmt_date_range(data.period, lang))}){ESC(tier_note)}</p>"
        f"{''.join(_scope_notes(data))}{_back_links(data.province, lang)}</header>"
    )


def _back_links(province: units.Unit, lang: str) -> str:
    """Links from a unit report to its overview and to the run's index (same folder)."""
    overview = phrase("nav.overview", lang, province_kind=province_kind(province))
    return (
        f'<nav class="report-links"><a href="{ESC(overview_file(province))}">{ESC(overview)}</a>'
        f' · <a href="{INDEX_FILE}">{ESC(phrase("nav.index", lang))}</a>'
        f"{_sheet_links(lang)}</nav>"
    )


def _sheet_links(lang: str) -> str:
    """The one-page "Phiếu tóm tắt" view: the same page with only the title, the summary, the
    key indicators and "Cần chỉ đạo" shown (CSS on the #phieu-tom-tat target, no script); and
    the way back to the whole report."""
    return (
        f' · <a id="{SHEET_ANCHOR}" class="sheet-on" href="#{SHEET_ANCHOR}">'
        f"{ESC(phrase('nav.sheet', lang))}</a>"
        f'<a class="sheet-off" href="#{WHOLE_ANCHOR}">{ESC(phrase("nav.whole_report", lang))}</a>'
    )


def _tier_words(data: UnitData) -> str:
    """Whose dossiers count, with the communes' own types ("các phường" of a quận)."""
    lang = data.lang
    if data.tier == "district" or data.commune_table.empty:
        return phrase(f"tier.{data.tier}", lang)
    communes = communes_title(data).lower()
    return phrase(f"tier.{data.tier}.of", lang, communes=communes)


def _scope_notes(data: UnitData) -> list[str]:
    """What a unit of the reform's figures are: a commune's (and its old communes'), or a
    former district's area summed from new communes; approximate where the crosswalk is."""
    if not data.is_new_unit:
        return []
    lang = data.lang
    if data.level == "commune":
        kind = unit_kind(data.unit.unit_type, lang)
        notes = [
            phrase(
                "title.commune_scope",
                lang,
                kind=kind,
                peers=len(data.peers),
                province=data.province.name,
            )
        ]
    else:
        notes = [phrase("title.former_district", lang, communes=len(data.commune_codes))]
    if data.is_approximate:
        notes.append(phrase("title.approximate", lang))
    return [f'<p class="scope-note">{ESC(note)}</p>' for note in notes]


def unit_contents(data: UnitData) -> HTML:
    """The table of contents; no communes entry for a commune, or when only district offices
    count."""
    anchors = [a for a in UNIT_SECTIONS if data.has_communes or a != "communes"]
    entries = [
        (a, communes_title(data) if a == "communes" else phrase(f"section.{a}", data.lang))
        for a in anchors
    ]
    return html_block(contents(entries, phrase("contents", data.lang)))


def _page_frame(dataset: dict[str, Any], running: str, lang: str) -> str:
    """The printed pages' foot (unit, period, page) and the demo banner for synthetic data."""
    demo = phrase("demo.banner", lang) if is_synthetic(dataset) else None
    return page_frame(running, demo_text=demo, page_word=phrase("print.page", lang))


def province_title(data: ProvinceData) -> HTML:
    lang = data.lang
    running = f"{data.province.name} · {period_label(data.period, lang)}"
    overview = phrase("nav.overview", lang, province_kind=province_kind(data.province))
    return html_block(
        _page_frame(data.dataset, running, lang)
        + f'<header class="report-title sheet-part" id="{WHOLE_ANCHOR}">'
        f"<h1>{ESC(overview)}: "
        f"{ESC(data.province.name)}</h1>{''.join(_overview_notes(data))}"
        f'<p class="period">{ESC(phrase("period", lang))}: {ESC(period_label(data.period, lang))}'
        f" ({ESC(fmt_date_range(data.period, lang))})</p>"
        f'<nav class="report-links"><a href="{INDEX_FILE}">{ESC(phrase("nav.index", lang))}</a>'
        f"{_sheet_links(lang)}</nav></header>"
    )


def _overview_notes(data: ProvinceData) -> list[str]:
    """A former districts' overview says on its first screen what its rows sum."""
    if data.era == "2025" and data.level == "district":
        note = phrase("title.former_districts", data.lang)
        return [f'<p class="scope-note">{ESC(note)}</p>']
    return []


def province_contents(data: ProvinceData) -> HTML:
    level = data.peer_level
    entries = [(a, peer_phrase(f"section.{a}", level, data.lang)) for a in PROVINCE_SECTIONS]
    return html_block(contents(entries, phrase("contents", data.lang)))
