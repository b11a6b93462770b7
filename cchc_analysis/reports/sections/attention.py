"""The "Cần chỉ đạo" box near the top of every report: what a leader should act on.

Targets the unit missed; how many dossiers were resolved late and how many are pending past
their deadline (and for how long); every unit below the within-deadline target by name; and
where the late dossiers come from (receiving office or commune, field, procedure), worst first.
The counts are :mod:`cchc_analysis.counting.late_sources`'s: each table ends with the unit's
own totals, so every late dossier is attributed to one row of each table.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pandas as pd
from IPython.display import HTML

from cchc_analysis import units
from cchc_analysis.core import targets as target_rules
from cchc_analysis.core.metrics import add_metrics
from cchc_analysis.counting.late_sources import OFFICE_SOURCE, UNKNOWN, overdue_summary
from cchc_analysis.reports.formatting import fmt_count, fmt_date, fmt_rate, is_missing, label
from cchc_analysis.reports.html_blocks import ESC, html_block, table_html
from cchc_analysis.reports.links import province_kind, unit_report_file
from cchc_analysis.reports.province_data import ProvinceData
from cchc_analysis.reports.sections.common import section_heading, unit_kinds
from cchc_analysis.reports.summary import SCORED_METRICS
from cchc_analysis.reports.unit_data import UnitData, short_name
from cchc_analysis.reports.wording import phrase

TOP_ROWS = 5  # rows shown per table; the rest are summed in one "others" row
BELOW = ("near", "missed")  # "gần đạt" is below the target too


def unit_attention(data: UnitData) -> HTML:
    lang = data.lang
    lines = [ESC(_missed_line(data.current, lang, phrase("attention.who.unit", lang)))]
    lines.append(ESC(_late_line(data.current, data.period.end, lang)))
    overdue = _overdue_line(data.overdue, lang)
    if overdue:
        lines.append(ESC(overdue))
    if data.has_communes and len(data.commune_table):
        table = data.commune_table
        names = [ESC(short_name(c, "commune", data.era)) for c in table["unit_code"]]
        kinds = unit_kinds(table["unit_code"], "commune", data.era, lang)
        lines.append(_below_target_line(table, names, kinds, lang))
    office = "former" if data.is_new_unit else "district"
    resolved = data.current.get("resolved_total_count")
    tables = []
    if data.level == "district":
        tables.append(
            _late_table(
                data.late_by["source"],
                "source",
                lang,
                _source_namer(office, lang),
                resolved_total=resolved,
            )
        )
    for grouping in ("field", "procedure"):
        rows = data.late_by[grouping]
        tables.append(
            _late_table(rows, grouping, lang, _plain_namer(lang), resolved_total=resolved)
        )
    return _box(lines, tables, lang)


def province_attention(data: ProvinceData) -> HTML:
    lang = data.lang
    every = pd.concat([data.peers, data.offices]) if len(data.offices) else data.peers
    sums = every[[c for c in every.columns if c.endswith("_count")]].sum()
    total = add_metrics(sums.to_frame().T).iloc[0]
    who = phrase("attention.who.province", lang, province_kind=province_kind(data.province))
    lines = [ESC(_missed_line(total, lang, who)), ESC(_late_line(total, data.period.end, lang))]
    peers = data.peers
    names = [
        f'<a href="{ESC(unit_report_file(c, data.level, data.era))}">{ESC(n)}</a>'
        for c, n in zip(peers["unit_code"], peers["short_name"], strict=True)
    ]
    kinds = (
        phrase("attention.kinds.former", lang)
        if data.era == units.ERA_2025 and data.level == "district"
        else unit_kinds(peers["unit_code"], data.level, data.era, lang)
    )
    lines.append(_below_target_line(peers, names, kinds, lang))
    by_code = dict(zip(peers["unit_code"].astype(str), peers["short_name"], strict=True))

    def namer(code: str) -> str:
        if code == OFFICE_SOURCE:
            return phrase("attention.offices.province", lang)
        return str(by_code.get(code, code))

    resolved = total.get("resolved_total_count")
    tables = [
        _late_table(
            data.late_by["source"],
            "source",
            lang,
            lambda row: namer(row["source"]),
            resolved_total=resolved,
        ),
        _late_table(
            data.late_by["field"], "field", lang, _plain_namer(lang), resolved_total=resolved
        ),
        f'<p class="note">{ESC(phrase("attention.procedures_in_units", lang))}</p>',
    ]
    return _box(lines, tables, lang)


def _box(lines: Sequence[str], tables: Sequence[str], lang: str) -> HTML:
    """The box: ``lines`` (markup) as a list, then the tables."""
    items = "".join(f"<li>{line}</li>" for line in lines)
    note = f'<p class="note">{ESC(phrase("attention.sort_note", lang))}</p>'
    return html_block(
        '<section class="attention sheet-part" aria-labelledby="attention">'
        + section_heading("attention", lang)
        + f'<ul class="attention-lines">{items}</ul>'
        + f'<div class="attention-tables">{"".join(tables)}</div>{note}</section>'
    )


def _missed_line(current: pd.Series, lang: str, who: str) -> str:
    """The unit's own indicators below their targets, or that ``who`` ("Đơn vị", "Toàn thành
    phố") met them all."""
    items = []
    for name in SCORED_METRICS:
        value = current.get(name)
        check = target_rules.check(name, None if is_missing(value) else value)
        if check.status in BELOW and check.target is not None:
            items.append(
                phrase(
                    "attention.missed_item",
                    lang,
                    label=label(name, lang),
                    rate=fmt_rate(value, lang),
                    target=fmt_rate(check.target.value, lang, 0),
                )
            )
    if not items:
        return phrase("attention.all_met", lang, who=who)
    return phrase("attention.missed", lang, items="; ".join(items))


def _late_line(current: pd.Series, end: object, lang: str) -> str:
    late, pending = current.get("resolved_late_count"), current.get("pending_late_count")
    if not is_missing(late) and not is_missing(pending) and late == 0 and pending == 0:
        return phrase("attention.no_late", lang)
    return phrase(
        "attention.late",
        lang,
        late=fmt_count(late, lang),
        pending_late=fmt_count(pending, lang),
        end=fmt_date(end, lang),  # type: ignore[arg-type]
    )


def _overdue_line(overdue: pd.DataFrame, lang: str) -> str | None:
    """How long the dossiers pending past their deadline have waited, in bands."""
    if overdue.empty:
        return None
    bands = overdue_summary(overdue)
    parts = [
        phrase(f"attention.band.{band}", lang, count=fmt_count(count, lang))
        for band, count in zip(bands["band"], bands["pending_late_count"], strict=True)
        if count
    ]
    longest = fmt_count(int(overdue["overdue_days"].max()), lang)
    return phrase("attention.overdue", lang, bands="; ".join(parts), longest=longest)


def _below_target_line(table: pd.DataFrame, names: Sequence[str], kinds: str, lang: str) -> str:
    """Every unit below the within-deadline target (``names``: markup), worst first."""
    rule = target_rules.check("within_deadline_rate", 0.0)
    target = fmt_rate(rule.target.value, lang, 0) if rule.target else ""
    below = []
    for name, rate in zip(names, table["within_deadline_rate"], strict=True):
        if is_missing(rate):
            continue
        if target_rules.check("within_deadline_rate", float(rate)).status in BELOW:
            text = phrase("attention.name_rate", lang, name=name, rate=ESC(fmt_rate(rate, lang)))
            below.append((float(rate), text))
    if not below:
        return ESC(
            phrase("attention.all_above_target", lang, kinds_lower=kinds.lower(), target=target)
        )
    below.sort(key=lambda item: item[0])
    return phrase(
        "attention.below_target",
        lang,
        kinds=ESC(kinds),
        target=ESC(target),
        names=", ".join(text for _, text in below),
    )


def _source_namer(office: str, lang: str) -> Callable[[pd.Series], str]:
    def name(row: pd.Series) -> str:
        code = str(row["source"])
        if code == OFFICE_SOURCE:
            return phrase(f"attention.offices.{office}", lang)
        if code == UNKNOWN:
            return phrase("attention.unknown", lang)
        return short_name(code, "commune", str(row.get("source_era", units.ERA_PRE_2025)))

    return name


def _plain_namer(lang: str) -> Callable[[pd.Series], str]:
    def name(row: pd.Series) -> str:
        key = "procedure_name" if "procedure_name" in row else "field"
        value = str(row[key])
        return phrase("attention.unknown", lang) if value == UNKNOWN else value

    return name


def _late_table(
    rows: pd.DataFrame,
    grouping: str,
    lang: str,
    namer: Callable[[pd.Series], str],
    *,
    resolved_total: object,
) -> str:
    """The worst ``TOP_ROWS`` sources, one row for the others, and the unit's total (its
    late rate over all the dossiers it resolved: ``resolved_total``)."""
    if rows.empty:
        return ""
    head_key = {"source": "attention.column.source", "procedure": "attention.column.procedure"}
    name_column = (
        phrase(head_key[grouping], lang) if grouping in head_key else phrase("field", lang)
    )
    shown = rows.head(TOP_ROWS)
    names = [namer(row) for _, row in shown.iterrows()]
    late = list(shown["resolved_late_count"])
    pending = list(shown["pending_late_count"])
    resolved = list(shown["resolved_total_count"])
    rest = rows.iloc[TOP_ROWS:]
    if len(rest):
        names.append(phrase(f"attention.others.{grouping}", lang, count=fmt_count(len(rest), lang)))
        late.append(rest["resolved_late_count"].sum())
        pending.append(rest["pending_late_count"].sum())
        resolved.append(rest["resolved_total_count"].sum())
    names.append(phrase("attention.total", lang))
    late.append(rows["resolved_late_count"].sum())
    pending.append(rows["pending_late_count"].sum())
    resolved.append(resolved_total)
    frame = pd.DataFrame(
        {
            name_column: names,
            phrase("attention.column.late", lang): [fmt_count(v, lang) for v in late],
            phrase("attention.column.late_rate", lang): [
                fmt_rate(k / float(n), lang) if not is_missing(n) and n else "—"
                for k, n in zip(late, resolved, strict=True)
            ],
            phrase("attention.column.pending_late", lang): [fmt_count(v, lang) for v in pending],
        }
    )
    row_classes = [""] * (len(frame) - 1) + ["total"]
    return table_html(
        frame,
        caption=phrase(f"attention.table.{grouping}", lang),
        css_class="kpi attention-table",
        row_classes=row_classes,
    )
