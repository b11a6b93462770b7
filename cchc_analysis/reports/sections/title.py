"""The title block and the table of contents of both reports."""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd
from IPython.display import HTML

from cchc_analysis import units
from cchc_analysis.reports.formatting import fmt_date, is_missing, period_dates, period_label
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
        f"({ESC(period_dates(data.period, lang))}){ESC(tier_note)}</p>"
        f"{data_as_of(data.dataset, lang)}{''.join(_scope_notes(data))}"
        f"{_back_links(data.province, lang)}</header>"
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


def data_as_of(dataset: dict[str, Any], lang: str) -> str:
    """ "Số liệu tính đến ngày dd/mm/yyyy": the day asked for (``cchc report --as-of``), else
    the newest snapshot ingested; nothing when the folder does not know it (the demo)."""
    day = dataset.get("as_of") or dataset.get("snapshot_date")
    if not day:
        return ""
    shown = fmt_date(date.fromisoformat(str(day)[:10]), lang)
    return f'<p class="data-date">{ESC(phrase("title.data_as_of", lang, day=shown))}</p>'


def _scope_notes(data: UnitData) -> list[str]:
    """What a unit of the reform's figures are: a commune's (and its old communes'), or a
    former district's area summed from new communes; approximate where the crosswalk is;
    whether its carried-over count is unknown (its data starts within the period)."""
    lang = data.lang
    history = [] if _has_full_history(data.current) else [phrase("title.no_history", lang)]
    history_notes = [f'<p class="scope-note">{ESC(note)}</p>' for note in history]
    if not data.is_new_unit:
        return history_notes
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
    return [f'<p class="scope-note">{ESC(note)}</p>' for note in notes] + history_notes


def _has_full_history(row: pd.Series) -> bool:
    """False only when counting said the unit's data starts within the period."""
    value = row.get("has_full_history")
    return value is None or is_missing(value) or bool(value)


def unit_contents(data: UnitData) -> HTML:
    """The table of contents; no communes entry for a commune, or when only district offices
    count."""
    anchors = [a for a in UNIT_SECTIONS if data.has_communes or a != "communes"]
    entries = [
        (
            a,
            communes_title(data)
            if a == "communes"
            else phrase(f"section.{a}", data.lang, province_kind=province_kind(data.province)),
        )
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
    overview = phrase("overview_title", lang)  # "Báo cáo tổng quan: Thành phố Hải Phòng"
    return html_block(
        _page_frame(data.dataset, running, lang)
        + f'<header class="report-title sheet-part" id="{WHOLE_ANCHOR}">'
        f"<h1>{ESC(overview)}: "
        f"{ESC(data.province.name)}</h1>{''.join(_overview_notes(data))}"
        f'<p class="period">{ESC(phrase("period", lang))}: {ESC(period_label(data.period, lang))}'
        f" ({ESC(period_dates(data.period, lang))})</p>"
        f"{data_as_of(data.dataset, lang)}"
        f'<nav class="report-links"><a href="{INDEX_FILE}">{ESC(phrase("nav.index", lang))}</a>'
        f"{_sheet_links(lang)}</nav></header>"
    )


def _overview_notes(data: ProvinceData) -> list[str]:
    """A former districts' overview says on its first screen what its rows sum; an overview
    says how many units' carried-over counts are unknown (their data starts in the period)."""
    notes = []
    if data.era == "2025" and data.level == "district":
        notes.append(phrase("title.former_districts", data.lang))
    short = sum(not _has_full_history(row) for _, row in data.peers.iterrows())  # a few rows
    if short:
        notes.append(phrase("title.no_history_units", data.lang, count=short))
    return [f'<p class="scope-note">{ESC(note)}</p>' for note in notes]


def province_contents(data: ProvinceData) -> HTML:
    level = data.peer_level
    kind = province_kind(data.province)
    entries = [
        (a, peer_phrase(f"section.{a}", level, data.lang, province_kind=kind))
        for a in PROVINCE_SECTIONS
    ]
    return html_block(contents(entries, phrase("contents", data.lang)))
