"""Satisfaction: portal ratings, the citizen survey by aspect (Likert), and how the
province's districts differ (Kruskal–Wallis)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from IPython.display import HTML

from cchc_analysis import stats
from cchc_analysis.core.metrics import rate_parts
from cchc_analysis.core.schema import SURVEY_ASPECTS, SURVEY_SATISFIED_MIN_SCORE
from cchc_analysis.reports import plots
from cchc_analysis.reports.formatting import (
    fmt_count,
    fmt_interval,
    fmt_number,
    fmt_p,
    fmt_rate,
    is_missing,
    label,
    no_data_reason,
)
from cchc_analysis.reports.html_blocks import (
    figure_html,
    footnotes,
    html_block,
    paragraph,
    table_html,
)
from cchc_analysis.reports.sections.common import section_heading
from cchc_analysis.reports.unit_data import UnitData
from cchc_analysis.reports.wording import phrase

LIKERT_LEVELS = (1, 2, 3, 4, 5)
# Below this many answers in the period, the survey window widens to 12 months.
MIN_PERIOD_ANSWERS = 30


def satisfaction(data: UnitData) -> HTML:
    lang = data.lang
    cur = data.current
    parts = [section_heading("satisfaction", lang)]
    if is_missing(cur.get("satisfaction_rate")):  # no ratings: no rate, and the reason
        reason = no_data_reason(cur, "satisfaction_rate", lang)
        label_text = label("satisfaction_rate", lang)
        portal = phrase("no_data.indicator", lang, label=label_text, reason=reason)
    else:
        k, n = rate_parts(cur, "satisfaction_rate")
        low, high = stats.wilson_interval(k, n)
        portal = phrase(
            "satisfaction.portal",
            lang,
            rated=fmt_count(cur["rated_count"], lang),
            rate=fmt_rate(cur["satisfaction_rate"], lang),
            interval=fmt_interval(low, high, lang),
        )
    parts.append(paragraph(portal))
    window = survey_window(data)
    if window is None or window[0].empty:
        parts.append(paragraph(phrase("satisfaction.no_survey", lang)))
        return html_block("".join(parts))
    frame, window_note = window
    parts.append(paragraph(window_note))
    rows, likert, alphas = [], {}, []
    for aspect in SURVEY_ASPECTS:
        cols = [c for c in frame.columns if c.startswith(f"{aspect}__")]
        scores = frame[cols].to_numpy(dtype=float).ravel()
        share, low, high, n_answers = stats.satisfied_share(
            scores, threshold=SURVEY_SATISFIED_MIN_SCORE
        )
        alpha = stats.cronbach_alpha(frame[cols])
        name = phrase(f"aspect.{aspect}", lang)
        rows.append(
            {
                phrase("satisfaction.aspect_column", lang): name,
                phrase("satisfaction.answers_column", lang): fmt_count(n_answers, lang),
                phrase("satisfaction.satisfied_column", lang): fmt_rate(share, lang, 1),
                phrase("column.ci_95", lang): fmt_interval(low, high, lang),
            }
        )
        alphas.append(f"{name} {fmt_number(alpha, lang, 2)}")
        dist = stats.likert_distribution(scores[~np.isnan(scores)])
        likert[name] = dist["share"]
    parts.append(table_html(pd.DataFrame(rows)))
    shares = pd.DataFrame(likert).T
    level_labels = {level: phrase(f"likert.{level}", lang) for level in LIKERT_LEVELS}
    fig = plots.likert_diverging(
        shares, level_labels, phrase("satisfaction.chart_title", lang), lang
    )
    parts.append(figure_html(fig, phrase("satisfaction.alt", lang)))
    sentence, note = kruskal_sentence(data)
    if sentence:
        parts.append(paragraph(sentence))
    notes = [note, phrase("satisfaction.alpha_note", lang, items="; ".join(alphas))]
    parts.append(footnotes(notes, phrase("footnote.heading", lang)))
    return html_block("".join(parts))


def kruskal_sentence(data: UnitData) -> tuple[str, str]:
    """Do the province's units differ in mean satisfaction over 12 months? The plain sentence
    and its test for a footnote; ('', '') if untestable."""
    lang = data.lang
    survey = data.province_survey
    if survey is None or survey.empty:
        return "", ""
    when = pd.to_datetime(survey["surveyed_at"])
    end = pd.Timestamp(data.period.end)
    recent = survey[(when > end - pd.DateOffset(months=12)) & (when <= end)]
    items = [c for c in recent.columns if "__" in c]
    score = recent[items].mean(axis=1)
    groups = {
        code: score[recent["unit_code"].astype(str) == code].to_numpy()
        for code in recent["unit_code"].astype(str).unique()
    }
    result = stats.kruskal_test(groups)
    if is_missing(result.get("p_value")):
        return "", ""
    is_significant = result["p_value"] < 0.05
    key = (
        "satisfaction.kruskal_significant"
        if is_significant
        else "satisfaction.kruskal_not_significant"
    )
    p_text = fmt_p(result["p_value"], lang)
    return (
        phrase(key, lang, groups=len(groups)),
        phrase("satisfaction.kruskal_note", lang, p=p_text),
    )


def survey_window(data: UnitData) -> tuple[pd.DataFrame, str] | None:
    """Survey answers in the period; the 12 months to its end when the period has < 30."""
    if data.survey is None:
        return None
    when = pd.to_datetime(data.survey["surveyed_at"])
    start, end = pd.Timestamp(data.period.start), pd.Timestamp(data.period.end)
    frame = data.survey[(when >= start) & (when <= end)]
    lang = data.lang
    if len(frame) >= MIN_PERIOD_ANSWERS:
        note = phrase("satisfaction.window_period", lang, respondents=fmt_count(len(frame), lang))
        return frame, note
    start = end - pd.DateOffset(months=12) + pd.Timedelta(days=1)
    frame = data.survey[(when >= start) & (when <= end)]
    note = phrase("satisfaction.window_12_months", lang, respondents=fmt_count(len(frame), lang))
    return frame, note
