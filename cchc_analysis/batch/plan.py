"""Planning a batch: which notebooks to run with which parameters, and what their inputs hash to.

A :class:`ReportJob` is one notebook for one unit, carrying the notebook's text so that a
remote worker needs only the package and the data folder. Parameters typed on the command line
are parsed as papermill's ``-p`` does and checked against what the notebooks declare, before
anything runs. :func:`input_hash` is what makes reruns incremental: a report whose data slice,
notebook, parameters and package code are unchanged is not rendered again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from cchc_analysis import store, units
from cchc_analysis.core import resources
from cchc_analysis.core.errors import ParameterError, UnitNotInDataError
from cchc_analysis.core.periods import Period
from cchc_analysis.core.resources import notebooks_dir
from cchc_analysis.core.version import __version__


@dataclass
class ReportJob:
    """One notebook to execute and render; carries the notebook's text so that a remote
    (Dask) worker needs only the package and the data folder, not this checkout."""

    kind: str  # district | province
    unit_code: str
    unit_name: str
    notebook: str
    html_name: str
    parameters: dict[str, Any]
    input_hash: str = ""
    notebook_text: str = ""


def parse_parameter(text: str) -> tuple[str, Any]:
    """``NAME=VALUE`` from the command line; the value typed as papermill's ``-p`` does."""
    name, sep, raw = text.partition("=")
    if not sep or not name.strip():
        raise ParameterError(f"parameter {text!r} is not NAME=VALUE")
    value: Any = raw
    lowered = raw.strip().lower()
    if lowered in ("true", "false"):
        value = lowered == "true"
    elif lowered in ("none", "null"):
        value = None
    elif not (len(raw) > 1 and raw.startswith("0") and raw.isdigit()):  # codes keep "001"
        for cast in (int, float):
            try:
                value = cast(raw)
                break
            except ValueError:
                continue
    return name.strip(), value


def check_parameters(notebook: str | Path, parameters: dict[str, Any]) -> None:
    """Raise ParameterError for a parameter the notebook does not declare."""
    import papermill as pm

    declared = set(pm.inspect_notebook(str(notebook)))
    unknown = sorted(set(parameters) - declared)
    if unknown:
        raise ParameterError(
            f"{Path(notebook).name} has no parameter(s) {', '.join(unknown)}; "
            f"it declares {', '.join(sorted(declared))}"
        )


def _file_digest(path: Path, digest: Any) -> None:
    digest.update(path.name.encode())
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)


@lru_cache(maxsize=1)
def code_digest() -> str:
    """Hash of everything the package brings to a report (code at any depth, templates,
    settings, methodology): a report made by other code or other settings is redone even
    when the version number did not change (as during development)."""
    digest = hashlib.sha256(__version__.encode())
    for path in resources.package_files():
        digest.update(path.relative_to(resources.PACKAGE_DIR).as_posix().encode())
        _file_digest(path, digest)
    return digest.hexdigest()


def input_hash(job: ReportJob, data_dir: Path) -> str:
    """Hash of everything a report depends on: its data slice, notebook, parameters, code."""
    digest = hashlib.sha256()
    digest.update(code_digest().encode())
    digest.update(json.dumps(job.parameters, sort_keys=True, default=str).encode())
    digest.update(job.notebook_text.encode())
    root = data_dir / store.DOSSIERS_DIR
    if job.kind == "district":
        slices = store.area_files(data_dir, store.area_key("2024", job.unit_code))
    else:
        slices = sorted(root.glob("*/*.parquet"))
    # Reports compare a district with the province, so the cube and survey count for all.
    shared = [data_dir / name for name in (store.CUBE_FILE, store.SURVEY_FILE, store.DATASET_FILE)]
    for path in [*slices, *shared]:
        if path.exists():
            _file_digest(path, digest)
    return digest.hexdigest()[:16]


def plan_jobs(
    data_dir: Path,
    period: Period,
    *,
    unit_codes: Sequence[str] | None,
    lang: str,
    tier: str,
    extra_parameters: dict[str, Any] | None = None,
) -> list[ReportJob]:
    """One job per district asked for (all districts with data by default) plus the overview."""
    available = store.dossier_partitions(data_dir)
    codes = list(unit_codes) if unit_codes else available
    missing = [c for c in codes if c not in available]
    if missing or not codes:
        raise UnitNotInDataError(
            f"unknown unit(s) {', '.join(missing) or '(none given)'}: no dossiers in {data_dir} "
            f"(units present: {', '.join(available) or 'none'})"
        )
    nb_dir = notebooks_dir()
    texts = {
        name: (nb_dir / name).read_text(encoding="utf-8")
        for name in ("district_report.ipynb", "province_overview.ipynb")
    }
    common = {
        "period": str(period),
        "data_dir": str(data_dir.resolve()),
        "lang": lang,
        "tier": tier,
        **(extra_parameters or {}),
    }
    check_parameters(
        nb_dir / "district_report.ipynb", {**common, "unit_code": "", "input_hash": ""}
    )
    check_parameters(nb_dir / "province_overview.ipynb", {**common, "input_hash": ""})
    jobs = []
    for code in codes:
        unit = units.get_unit(code, level="district")
        jobs.append(
            ReportJob(
                "district",
                code,
                unit.name,
                str(nb_dir / "district_report.ipynb"),
                f"{code}-{units.slugify(unit.name)}.html",
                {"unit_code": code, **common},
                notebook_text=texts["district_report.ipynb"],
            )
        )
    province_code = units.get_unit(codes[0], level="district").province_code
    province = units.get_unit(province_code, level="province")
    jobs.append(
        ReportJob(
            "province",
            province.code,
            province.name,
            str(nb_dir / "province_overview.ipynb"),
            f"province-{province.code}-{units.slugify(province.name)}.html",
            dict(common),
            notebook_text=texts["province_overview.ipynb"],
        )
    )
    for job in jobs:
        job.input_hash = input_hash(job, data_dir)
        job.parameters["input_hash"] = job.input_hash  # shown in the report's provenance
    return jobs
