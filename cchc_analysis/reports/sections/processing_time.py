"""Processing time: Kaplan–Meier share finished by working day, per field, pending censored."""

from __future__ import annotations

from typing import cast

import numpy as np
import pandas as pd
from IPython.display import HTML

from cchc_analysis import stats
from cchc_analysis.core.schema import CLOSED_WITHOUT_RESULT_STATUSES, NOT_RECEIVED_STATUSES
from cchc_analysis.core.workdays import working_days_between
from cchc_analysis.reports import plots
from cchc_analysis.reports.formatting import fmt_count, fmt_days_interval, fmt_number
from cchc_analysis.reports.html_blocks import figure_html, html_block, paragraph, table_html
from cchc_analysis.reports.sections.common import section_heading
from cchc_analysis.reports.unit_data import UnitData
from cchc_analysis.reports.wording import phrase


def processing_time(data: UnitData) -> HTML:
    """Kaplan–Meier share finished by working day, per field, pending dossiers censored.

    Per-dossier work is vectorised (numpy arrays, integer field codes) and each field's
    curve is estimated once, from counts per distinct duration, and read for its quantiles:
    the period's dossiers are many more than the section's outputs.
    """
    lang = data.lang
    frame = data.period_dossiers
    frame = frame[~frame["status"].isin(NOT_RECEIVED_STATUSES).fillna(False)]  # never received
    end = pd.Timestamp(data.period.end)
    parts = [section_heading("processing-time", lang)]
    if frame.empty:
        return html_block("".join(parts) + paragraph(phrase("no_data", lang)))
    closed = frame["resolved_at"].where(frame["resolved_at"] <= end)
    without_result = frame["status"].isin(CLOSED_WITHOUT_RESULT_STATUSES).fillna(False)
    is_event = (closed.notna() & ~without_result).to_numpy(dtype=bool)
    days = working_days_between(frame["received_at"], closed.fillna(end))
    deadline = working_days_between(frame["received_at"], frame["due_at"])
    # An export without the field column still has its dossiers' times, under one label.
    field = frame["field"].astype("string").fillna(phrase("field_unknown", lang))
    fields = field.value_counts().index[:6]
    field_codes, field_names = pd.factorize(field)
    curves, deadlines, rows = {}, {}, []
    for name, code in zip(fields, pd.Index(field_names).get_indexer(fields), strict=True):
        mine = field_codes == code
        curves[name] = stats.kaplan_meier(days[mine], is_event[mine])
        deadlines[name] = float(np.nanmedian(deadline[mine]))
        quantiles = stats.curve_quantiles(curves[name]).set_index("probability")
        # one row per probability, so each label selects a row (a Series)
        median, p90 = cast(pd.Series, quantiles.loc[0.5]), cast(pd.Series, quantiles.loc[0.9])
        rows.append(
            {
                phrase("field", lang): name,
                phrase("dossiers", lang): fmt_count(int(mine.sum()), lang),
                phrase("processing.deadline_column", lang): fmt_number(deadlines[name], lang, 0),
                phrase("processing.median_column", lang): fmt_days_interval(median, lang),
                phrase("processing.p90_column", lang): fmt_days_interval(p90, lang),
            }
        )
    finite_deadlines = [d for d in deadlines.values() if np.isfinite(d)]
    horizon = max([float(np.nanpercentile(days, 99)), *finite_deadlines]) + 2
    fig = plots.completion_curves(
        curves,
        deadlines,
        phrase("processing.chart_title", lang),
        phrase("processing.x_label", lang),
        lang,
        max_days=horizon,
    )
    alt = phrase("processing.alt", lang, fields=len(curves))
    return html_block(
        "".join(parts)
        + paragraph(phrase("processing.note", lang))
        + table_html(pd.DataFrame(rows))
        + figure_html(fig, alt)
    )
