"""The index page of a report run: links to every report and a sortable KPI table.

Self-contained (inline CSS and script, nothing from another host) so it opens offline.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

import pandas as pd

from cchc_analysis import store, units
from cchc_analysis.core.periods import Period
from cchc_analysis.core.resources import TEMPLATE_DIR
from cchc_analysis.core.version import __version__
from cchc_analysis.counting import CountQuery, kpi_table
from cchc_analysis.counting.query import Level, Tier
from cchc_analysis.reports.formatting import format_value, is_missing, label, period_label
from cchc_analysis.reports.html_blocks import is_synthetic, page_frame
from cchc_analysis.reports.scoreboard import (
    SCORED,
    changes,
    comparison_tables,
    ranks,
    scorecard_headers,
    status_label,
)
from cchc_analysis.reports.wording import peer_phrase, phrase
from cchc_analysis.reports.xlsx import Percent, xlsx_bytes

ESC = html.escape

INDEX_COLUMNS = (
    "received_total_count",
    "resolved_late_count",
    "pending_total_count",
    "within_deadline_rate",
    "within_deadline_of_received_rate",
    "online_rate",
    "digitization_rate",
)

SORT_SCRIPT = """
document.querySelectorAll('table.sortable th').forEach(function (th, col) {
  th.setAttribute('tabindex', '0');  // no role=button: aria-sort needs a column header
  function sort() {
    var table = th.closest('table'), body = table.tBodies[0];
    var asc = th.getAttribute('aria-sort') !== 'ascending';
    table.querySelectorAll('th').forEach(function (h) { h.removeAttribute('aria-sort'); });
    th.setAttribute('aria-sort', asc ? 'ascending' : 'descending');
    Array.from(body.rows).sort(function (a, b) {
      var x = a.cells[col].dataset.sort, y = b.cells[col].dataset.sort;
      var nx = parseFloat(x), ny = parseFloat(y);
      var cmp = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : String(x).localeCompare(String(y), 'vi');
      return asc ? cmp : -cmp;
    }).forEach(function (row) { body.appendChild(row); });
  }
  th.addEventListener('click', sort);
  th.addEventListener('keydown', function (e) {
    if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); sort(); }
  });
});
"""


def _css() -> str:
    css_path = TEMPLATE_DIR / "cchc" / "static" / "cchc.css"
    return css_path.read_text(encoding="utf-8")


class IndexedReport(Protocol):
    """What the index reads of one report of the run (a ``batch.manifest.ReportResult``)."""

    kind: str
    unit_code: str
    unit_name: str
    file: str
    status: str


def _number_cell(column: str, value: float, lang: str) -> str:
    sort_key = "" if value != value else f"{float(value):.6f}"  # NaN sorts first
    return f'<td class="num" data-sort="{sort_key}">{ESC(format_value(column, value, lang))}</td>'


def _write_workbook(
    out_dir: Path, period: Period, table: pd.DataFrame, header: Sequence[str], lang: str
) -> str:
    """Every unit's KPIs of the run as one XLSX beside index.html (the index's columns and
    headers: codes as text, rates as numbers shown as percentages, counts as whole numbers,
    no data as an empty cell); its file name."""
    rate = SCORED
    values: list[list[object]] = [
        [str(v) for v in table["unit_code"]],
        [str(v) for v in table["unit_name"]],
        list(table["rank_text"]),
        [_typed(rate, v) for v in table[rate]],
        list(table["status_text"]),
        list(table["previous_text"]),
        list(table["year_text"]),
        *[[_typed(c, v) for v in table[c]] for c in INDEX_COLUMNS if c != rate],
    ]
    frame = pd.DataFrame(dict(zip(header, values, strict=True)), dtype=object)  # keep Percent
    name = f"chi-so-{period.start:%Y%m%d}-{period.end:%Y%m%d}.xlsx"
    tmp = out_dir / f".{name}.tmp"
    tmp.write_bytes(xlsx_bytes([(period_label(period, lang), frame)]))
    tmp.replace(out_dir / name)
    return name


def _typed(column: str, value: object) -> object:
    """A KPI as the workbook holds it: a rate as a :class:`Percent`, a count as an int."""
    if is_missing(value):
        return None
    number = float(value)  # type: ignore[arg-type]  # a KPI table's numbers
    if column.endswith(("_rate", "_share")):
        return Percent(number)
    return int(round(number)) if column.endswith("_count") else number


@dataclass(frozen=True)
class IndexTables:
    """The index's KPIs of the units reported on (``unit_kinds``: code -> report kind, in
    the run's order): the period's, the previous period's and a year before's."""

    unit_kinds: tuple[tuple[str, str], ...]
    table: pd.DataFrame
    previous: pd.DataFrame | None
    year_before: pd.DataFrame | None


def index_tables(
    data_dir: Path, period: Period, unit_kinds: Sequence[tuple[str, str]], tier: Tier
) -> IndexTables:
    """The counting behind the index page, apart from its writing: a batch run computes it
    while its last reports render (it depends on the units, not on how their reports went)."""
    by_code = dict(unit_kinds)
    level: Level = "commune" if "commune" in by_code.values() else "district"
    era = units.era_of_period(period)
    previous = year_before = None
    if not by_code:
        table = pd.DataFrame(columns=["unit_code", "unit_name", *INDEX_COLUMNS])
    else:
        if era == units.ERA_PRE_2025:
            query = CountQuery(period, tier=tier, unit_codes=list(by_code))
        else:
            unit_tier: Tier = "both" if level == "commune" else tier
            query = CountQuery(
                period, level=level, tier=unit_tier, unit_codes=list(by_code), era=era
            )
        table = kpi_table(data_dir, query)
        previous, year_before = comparison_tables(
            lambda other: kpi_table(data_dir, query.with_period(other)), period
        )
    return IndexTables(tuple(unit_kinds), table, previous, year_before)


def write_index(
    out_dir: Path,
    data_dir: Path,
    period: Period,
    results: Sequence[IndexedReport],
    lang: str,
    tier: Tier,
    tables: IndexTables | None = None,
) -> Path:
    """Write ``index.html`` linking every report of the run, with the units' KPIs (districts
    before the reform; new communes or former districts' areas after it). ``tables``: those
    :func:`index_tables` computed ahead for the same units (recomputed for any other)."""
    by_code = {r.unit_code: r for r in results if r.kind != "province"}
    unit_kinds = tuple((r.unit_code, r.kind) for r in by_code.values())
    level: Level = "commune" if "commune" in dict(unit_kinds).values() else "district"
    era = units.era_of_period(period)
    if tables is None or tables.unit_kinds != unit_kinds:
        tables = index_tables(data_dir, period, unit_kinds, tier)
    table, previous, year_before = tables.table.copy(), tables.previous, tables.year_before
    rate = SCORED
    table = table.assign(
        rank_text=ranks(table) if len(table) else [],
        status_text=[status_label(rate, v, lang) for v in table[rate]],
        previous_text=changes(table, previous, rate, lang) if len(table) else [],
        year_text=changes(table, year_before, rate, lang) if len(table) else [],
    )
    peers = level if era == units.ERA_PRE_2025 or level == "commune" else "former"
    rank_head, status_head, previous_head, year_head = scorecard_headers(lang)
    header = [
        phrase("unit_code", lang),
        phrase(level, lang),
        rank_head,
        label(rate, lang),
        status_head,
        previous_head,
        year_head,
    ] + [label(c, lang) for c in INDEX_COLUMNS if c != rate]
    rows = []
    for _, row in table.iterrows():
        result = by_code.get(row["unit_code"])
        name = ESC(str(row["unit_name"]))
        if result is not None and result.status in ("ok", "skipped"):
            name_cell = f'<a href="{ESC(result.file)}">{name}</a>'
        else:
            name_cell = f"{name} ({phrase('index_page.failed', lang)})"
        cells = [
            f'<td data-sort="{ESC(str(row["unit_code"]))}">{ESC(str(row["unit_code"]))}</td>',
            f'<td data-sort="{name}">{name_cell}</td>',
            f'<td class="num" data-sort="{ESC(row["rank_text"])}">{ESC(row["rank_text"])}</td>',
            _number_cell(rate, row[rate], lang),
            f'<td data-sort="{ESC(row["status_text"])}">{ESC(row["status_text"])}</td>',
            f'<td class="num" data-sort="{ESC(row["previous_text"])}">'
            f"{ESC(row['previous_text'])}</td>",
            f'<td class="num" data-sort="{ESC(row["year_text"])}">{ESC(row["year_text"])}</td>',
        ]
        for column in (c for c in INDEX_COLUMNS if c != rate):
            value = row[column]
            sort_key = "" if is_missing(value) else f"{float(value):.6f}"  # no data sorts first
            shown = ESC(format_value(column, value, lang))
            cells.append(f'<td class="num" data-sort="{sort_key}">{shown}</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    provinces = [r for r in results if r.kind == "province"]
    overview = "".join(
        f'<li><a href="{ESC(r.file)}">{ESC(phrase("overview_title", lang))}: '
        f"{ESC(r.unit_name)}</a></li>"
        for r in provinces
        if r.status in ("ok", "skipped")
    )
    title = f"{phrase('index_title', lang)} — {period_label(period, lang)}"
    demo = phrase("demo.banner", lang) if is_synthetic(store.read_dataset_info(data_dir)) else None
    frame = page_frame(title, demo_text=demo, page_word=phrase("print.page", lang))
    hint = phrase("index_page.sort_hint", lang)
    workbook = _write_workbook(out_dir, period, table, header, lang)
    workbook_link = (
        f'<p class="downloads"><a href="{ESC(workbook)}" download>'
        f"{ESC(phrase('index_page.workbook', lang))}</a></p>"
    )
    body = f"""<!DOCTYPE html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>{ESC(title)}</title>
<style>{_css()}
table.sortable th {{ cursor: pointer; }}
table.sortable th[aria-sort=ascending]::after {{ content: " ▲"; }}
table.sortable th[aria-sort=descending]::after {{ content: " ▼"; }}
</style>
</head>
<body class="cchc-report">
<main>
{frame}
<h1>{ESC(title)}</h1>
<p class="period">{ESC(f"{period.start:%d/%m/%Y} – {period.end:%d/%m/%Y}")}</p>
<h2>{ESC(phrase("overview_title", lang))}</h2>
<ul>{overview}</ul>
<h2>{ESC(peer_phrase("index_page.districts", peers, lang))}</h2>
<p>{ESC(hint)}</p>
{workbook_link}
<div class="table-scroll"><table class="kpi sortable" id="kpi-table">
<thead><tr>{"".join(f'<th scope="col">{ESC(h)}</th>' for h in header)}</tr></thead>
<tbody>
{"".join(rows)}
</tbody>
</table></div>
<p class="provenance">{ESC(phrase("generated", lang))}: {datetime.now():%d/%m/%Y %H:%M} ·
cchc-workbook {ESC(__version__)}</p>
</main>
<script>{SORT_SCRIPT}</script>
</body>
</html>
"""
    path = out_dir / "index.html"
    tmp = path.with_name(".index.html.tmp")
    tmp.write_text(body, encoding="utf-8")
    tmp.replace(path)
    return path
