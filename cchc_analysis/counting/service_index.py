"""An ESTIMATE of the service index of Quyết định 766/QĐ-TTg from dossier counts.

Only the components computable from dossier data are scored (progress, online dossiers,
online payment, digitisation, satisfaction: 82 of 100 points); publicity/transparency is not.
Weights, thresholds and band cut-offs live in ``data/index766.yaml`` with their sources, and
several are unconfirmed, so every place that shows the result calls it an estimate.
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


def satisfaction_766_rate(table: pd.DataFrame) -> pd.Series:
    """100% − (late share + dissatisfied-rating share), shares of resolved dossiers."""
    resolved = table["resolved_total_count"].astype(float).replace(0, np.nan)
    dissatisfied = (table["rated_count"] - table["satisfied_count"]).astype(float)
    return 1 - (table["resolved_late_count"] / resolved + dissatisfied / resolved)


def component_points(
    rate: pd.Series | float, max_points: float, threshold: float
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
    """Per unit: points per component, the estimate out of the computable maximum, rescaled to
    100, its band and its rank. ``kpis`` is a kpi_table (counts + rates)."""
    config = index_config(path)
    table = kpis.copy()
    table["satisfaction_766_rate"] = satisfaction_766_rate(table)
    out = pd.DataFrame({"unit_code": table["unit_code"]})
    if "unit_name" in table:
        out["unit_name"] = table["unit_name"]
    max_total = 0.0
    for name, spec in config["components"].items():
        out[f"{name}_rate"] = table[spec["metric"]].to_numpy(dtype=float)
        out[f"{name}_points"] = component_points(
            out[f"{name}_rate"], spec["max_points"], spec["threshold"]
        )
        max_total += spec["max_points"]
    points = out[[f"{n}_points" for n in config["components"]]]
    out["estimate_points"] = points.sum(axis=1, min_count=len(config["components"]))
    out["estimate_max_points"] = max_total
    out["estimate_100"] = out["estimate_points"] / max_total * 100
    out["band"] = [band_label(v, lang, path) if v == v else "" for v in out["estimate_100"]]
    out["rank"] = out["estimate_100"].rank(ascending=False, method="min").astype("Int64")
    return out
