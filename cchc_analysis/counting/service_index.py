"""An ESTIMATE of the service index of Quyết định 766/QĐ-TTg from dossier counts.

Only the components computable from dossier data are scored (progress, online dossiers,
online payment, digitisation, satisfaction: 82 of 100 points); publicity/transparency is not.
Weights, thresholds and band cut-offs live in ``data/index766.yaml`` with their sources, and
several are unconfirmed, so every place that shows the result calls it an estimate.

A component whose rate has no data (an export without the digitised or fee-bearing column, no
portal ratings) is left out, never scored 0: the estimate is the points of the components
present out of their maximum (``estimate_max_points`` is per unit), rescaled to 100, and
``missing_components`` names the ones left out, so units are ranked on what each can be scored
on and every report says which criteria it lacks.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import yaml

from cchc_analysis.core.resources import INDEX766_FILE

CONFIG_FILE = INDEX766_FILE


@cache
def index_config(path: str | None = None) -> dict[str, Any]:
    config: dict[str, Any] = yaml.safe_load(Path(path or CONFIG_FILE).read_text(encoding="utf-8"))
    return config


def _numbers(table: pd.DataFrame, name: str) -> pd.Series:
    return pd.to_numeric(table[name], errors="coerce").astype(float)


def satisfaction_766_rate(table: pd.DataFrame) -> pd.Series:
    """100% − (late share + dissatisfied-rating share), shares of resolved dossiers; NaN
    without ratings (an export without the rating column), whose share cannot be known."""
    resolved = _numbers(table, "resolved_total_count").replace(0, np.nan)
    rated = _numbers(table, "rated_count")
    dissatisfied = rated - _numbers(table, "satisfied_count")
    rate = 1 - (_numbers(table, "resolved_late_count") / resolved + dissatisfied / resolved)
    return rate.where(rated > 0, np.nan)


def component_points(
    rate: npt.ArrayLike, max_points: float, threshold: float
) -> npt.NDArray[np.float64]:
    """Threshold rule: full points at or above the threshold, else rate × max ÷ threshold."""
    return np.clip(np.asarray(rate, dtype=float) / threshold, 0, 1) * max_points


def band_label(score_100: float, lang: str = "vi", path: str | None = None) -> str:
    for band in index_config(path)["bands"]:
        if score_100 >= band["min"]:
            label: str = band["label_vi"] if lang == "vi" else band["label_en"]
            return label
    return ""


def index_table(kpis: pd.DataFrame, lang: str = "vi", path: str | None = None) -> pd.DataFrame:
    """Per unit: rate and points per component (NaN without data), the estimate out of the
    maximum of the components present, rescaled to 100, its band and its rank, and the
    components left out (``missing_components``, comma-separated names; "" when none).
    ``kpis`` is a kpi_table (counts + rates)."""
    config = index_config(path)
    table = kpis.copy()
    table["satisfaction_766_rate"] = satisfaction_766_rate(table)
    out = pd.DataFrame({"unit_code": table["unit_code"]})
    if "unit_name" in table:
        out["unit_name"] = table["unit_name"]
    max_points = pd.Series(0.0, index=out.index)
    missing: list[list[str]] = [[] for _ in range(len(out))]
    for name, spec in config["components"].items():
        rate = _numbers(table, spec["metric"]).to_numpy(dtype=float)
        out[f"{name}_rate"] = rate
        out[f"{name}_points"] = component_points(rate, spec["max_points"], spec["threshold"])
        present = ~np.isnan(rate)
        max_points += np.where(present, float(spec["max_points"]), 0.0)
        for i in np.flatnonzero(~present):
            missing[i].append(name)
    points = out[[f"{n}_points" for n in config["components"]]]
    out["estimate_points"] = points.sum(axis=1, min_count=1)
    out["estimate_max_points"] = max_points.to_numpy()
    out["estimate_100"] = out["estimate_points"] / max_points.replace(0, np.nan) * 100
    out["missing_components"] = [",".join(names) for names in missing]
    out["band"] = [band_label(v, lang, path) if v == v else "" for v in out["estimate_100"]]
    out["rank"] = out["estimate_100"].rank(ascending=False, method="min").astype("Int64")
    return out
