"""The funnel plot block: late rates of communes or districts against their size, the units
outside the limits named, the homogeneity test and a word on overdispersion."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cchc_analysis import stats
from cchc_analysis.reports import plots
from cchc_analysis.reports.formatting import (
    fmt_count,
    fmt_interval,
    fmt_number,
    fmt_p,
    fmt_rate,
    is_missing,
    label,
)
from cchc_analysis.reports.html_blocks import figure_html, footnotes, paragraph
from cchc_analysis.reports.rate_tables import funnel_frame
from cchc_analysis.reports.wording import phrase

# A dispersion factor above this is worth telling the reader about.
OVERDISPERSION_WARNING_PHI = 2


def funnel_html(
    table: pd.DataFrame,
    level: str,
    lang: str,
    *,
    highlight_code: str | None = None,
    has_unit_notes: bool = False,
) -> str:
    """Funnel plot of late rates, units outside the limits named, chi-square test; with
    ``has_unit_notes`` (the overview) a footnote per named unit gives its counts and the
    limits at its size."""
    funnel = funnel_frame(table)
    trials = funnel["trials"].to_numpy(dtype=float)
    if funnel.empty or np.nansum(trials) == 0:
        return ""
    target = funnel.attrs["target"]
    grid = np.unique(
        np.geomspace(max(1, trials[trials > 0].min() / 2), trials.max() * 1.5, 80).round()
    )
    limits = stats.funnel_limits(target, grid)
    who = phrase("funnel.who.commune" if level == "commune" else "funnel.who.district", lang)
    fig = plots.funnel_plot(
        funnel,
        limits,
        target,
        phrase("funnel.chart_title", lang, who=who),
        phrase("funnel.x_label", lang),
        label("late_rate", lang),
        lang,
        highlight_code=highlight_code,
    )
    high = funnel[funnel["band"].isin(["above_998"])]["short_name"].tolist()
    low = funnel[funnel["band"].isin(["below_998"])]["short_name"].tolist()
    phi = funnel.attrs.get("overdispersion", {}).get("phi", np.nan)
    homogeneity = stats.homogeneity_test(
        table["resolved_late_count"].to_numpy(), table["resolved_total_count"].to_numpy()
    )
    sentences = []
    if high:
        sentences.append(phrase("funnel.high", lang, units=", ".join(high)))
    if low:
        sentences.append(phrase("funnel.low", lang, units=", ".join(low)))
    if not high and not low:
        sentences.append(phrase("funnel.none_outside", lang, who=who))
    notes = [phrase("funnel.note", lang)]
    if not is_missing(homogeneity.get("p_value")):
        key = "funnel.homogeneity_sparse" if homogeneity.get("sparse") else "funnel.homogeneity"
        notes.append(phrase(key, lang, p=fmt_p(homogeneity["p_value"], lang)))
    if not is_missing(phi) and phi > OVERDISPERSION_WARNING_PHI:
        notes.append(phrase("funnel.overdispersed", lang, phi=fmt_number(phi, lang, 1)))
    if has_unit_notes:
        notes.extend(_unit_notes(funnel, table, target, lang))
    alt = phrase("funnel.alt", lang, units=len(funnel), who=who, target=fmt_rate(target, lang))
    return (
        figure_html(fig, alt)
        + "".join(paragraph(s) for s in sentences)
        + footnotes(notes, phrase("footnote.heading", lang))
    )


def _unit_notes(funnel: pd.DataFrame, table: pd.DataFrame, target: float, lang: str) -> list[str]:
    """Per unit above the 99.8% limits (the ones to act on), highest late rate first: its late
    and resolved counts, its rate and the limits at its number of dossiers. Units clearly
    below are named by the sentence only: a good result needs no statistics to act on."""
    late = dict(zip(table["unit_code"], table["resolved_late_count"], strict=True))
    named = funnel[funnel["band"] == "above_998"]
    named = named.sort_values("rate", ascending=False)
    if named.empty:
        return []
    limits = stats.funnel_limits(target, named["trials"].to_numpy(dtype=float))
    bounds = {
        int(n): (float(lo), float(hi))
        for n, lo, hi in zip(
            limits["trials"], limits["lower_998"], limits["upper_998"], strict=True
        )
    }
    notes = []
    for _, row in named.iterrows():
        size = round(float(row["trials"]))
        notes.append(
            phrase(
                "funnel.unit_note",
                lang,
                unit=row["short_name"],
                late=fmt_count(late.get(row["unit_code"]), lang),
                resolved=fmt_count(row["trials"], lang),
                rate=fmt_rate(row["rate"], lang),
                limits=fmt_interval(*bounds[size], lang),
            )
        )
    return notes
