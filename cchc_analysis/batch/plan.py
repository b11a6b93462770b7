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
from cchc_analysis.core import resources, targets
from cchc_analysis.core.errors import ParameterError, UnitNotInDataError
from cchc_analysis.core.periods import Period
from cchc_analysis.core.resources import notebooks_dir
from cchc_analysis.core.version import __version__
from cchc_analysis.counting.former_districts import former_district_name


@dataclass
class ReportJob:
    """One notebook to execute and render; carries the notebook's text so that a remote
    (Dask) worker needs only the package and the data folder, not this checkout."""

    kind: str  # district | commune | province
    unit_code: str
    unit_name: str
    notebook: str
    html_name: str
    parameters: dict[str, Any]
    input_hash: str = ""
    notebook_text: str = ""
    areas: tuple[str, ...] = ()  # the dossier areas the report reads (none: the overview's all)


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
    digest.update(f"waiting:{targets.count_waiting_as_on_time()}".encode())  # the convention
    digest.update(job.notebook_text.encode())
    root = data_dir / store.DOSSIERS_DIR
    if job.areas:
        slices = [path for area in job.areas for path in store.area_files(data_dir, area)]
    else:
        slices = sorted(root.glob("*/*.parquet"))
    # Reports compare a district with the province, so the cube and survey count for all.
    shared = [data_dir / name for name in (store.CUBE_FILE, store.SURVEY_FILE, store.DATASET_FILE)]
    for path in [*slices, *shared]:
        if path.exists():
            _file_digest(path, digest)
    return digest.hexdigest()[:16]


def default_level(period: Period) -> str:
    """The reports' level when none is asked for: communes for a period of the 2025 reform's
    units (ending on or after 1 July 2025), districts before."""
    return "commune" if units.era_of_period(period) == units.ERA_2025 else "district"


@dataclass(frozen=True)
class PlannedUnit:
    """One unit to report on: its code, name, file name and the dossier areas it reads."""

    code: str
    name: str
    html_name: str
    areas: tuple[str, ...]


def _missing(codes: Sequence[str], available: Sequence[str], data_dir: Path, what: str) -> None:
    missing = [c for c in codes if c not in available]
    if missing or not codes:
        raise UnitNotInDataError(
            f"unknown {what}(s) {', '.join(missing) or '(none given)'}: no dossiers in "
            f"{data_dir} ({what}s present: {', '.join(available) or 'none'})"
        )


def _districts(data_dir: Path, unit_codes: Sequence[str] | None) -> list[PlannedUnit]:
    """Districts of the pre-2025 era with dossiers (as before the reform)."""
    available = store.dossier_partitions(data_dir)
    codes = list(unit_codes) if unit_codes else available
    _missing(codes, available, data_dir, "unit")
    planned = []
    for code in codes:
        name = units.get_unit(code, level="district").name
        area = store.area_key(units.ERA_PRE_2025, code)
        planned.append(PlannedUnit(code, name, f"{code}-{units.slugify(name)}.html", (area,)))
    return planned


def _new_communes(data_dir: Path, unit_codes: Sequence[str] | None) -> list[PlannedUnit]:
    """The new communes with dossiers in the folder's era-2025 areas."""
    era = units.ERA_2025
    available = [
        code
        for area_era, code in map(store.area_parts, store.dossier_areas(data_dir))
        if area_era == era and len(code) == 5
    ]
    codes = list(unit_codes) if unit_codes else available
    _missing(codes, available, data_dir, "commune")
    planned = []
    for code in codes:
        name = units.get_unit(code, era=era, level="commune").name
        area = store.area_key(era, code)
        planned.append(PlannedUnit(code, name, f"{code}-{units.slugify(name)}.html", (area,)))
    return planned


def _former_districts(data_dir: Path, unit_codes: Sequence[str] | None) -> list[PlannedUnit]:
    """Former districts' areas: districts with old dossiers or new communes within them."""
    places = units.former_districts()
    new_areas = {
        code
        for era, code in map(store.area_parts, store.dossier_areas(data_dir))
        if era == units.ERA_2025
    }
    within = places[places["new_code"].isin(new_areas)]
    available = sorted(set(store.dossier_partitions(data_dir)) | set(within["district_code"]))
    codes = list(unit_codes) if unit_codes else available
    _missing(codes, available, data_dir, "former district")
    planned = []
    for code in codes:
        district = units.get_unit(code, era=units.ERA_PRE_2025, level="district")
        communes = within.loc[within["district_code"] == code, "new_code"]
        areas = (
            store.area_key(units.ERA_PRE_2025, code),
            *(store.area_key(units.ERA_2025, c) for c in sorted(communes)),
        )
        name = former_district_name(code)
        planned.append(
            PlannedUnit(code, name, f"{code}-{units.slugify(district.name)}.html", areas)
        )
    return planned


def _province_of(planned: PlannedUnit, level: str, era: str) -> units.Unit:
    if era == units.ERA_PRE_2025:
        code = units.get_unit(planned.code, level="district").province_code
        return units.get_unit(code, level="province")
    if level == "commune":
        code = units.get_unit(planned.code, era=era, level="commune").province_code
    else:
        old = units.get_unit(planned.code, era=units.ERA_PRE_2025, level="district")
        walk = units.crosswalk_provinces().set_index("old_code")["new_code"]
        code = str(walk[old.province_code])
    return units.get_unit(code, era=era, level="province")


def plan_jobs(
    data_dir: Path,
    period: Period,
    *,
    unit_codes: Sequence[str] | None,
    lang: str,
    tier: str,
    extra_parameters: dict[str, Any] | None = None,
    level: str | None = None,
) -> list[ReportJob]:
    """One job per unit of the level asked for (all units with data by default) plus the
    overview of their province.

    ``level`` (default: :func:`default_level`): "district" (a district before the reform, a
    former district's area after it), "commune" (the new communes, periods from 1 July 2025)
    or "province" (only the overview: the districts before the reform, the communes after).
    """
    era = units.era_of_period(period)
    level = level or default_level(period)
    if level not in ("district", "commune", "province"):
        raise ParameterError(f"level must be district, commune or province, not {level!r}")
    if level == "commune" and era != units.ERA_2025:
        raise ParameterError(
            "commune reports are on the new communes: the period must end on or after "
            "2025-07-01 (use --level district before)"
        )
    unit_level = level if level != "province" else default_level(period)
    if era == units.ERA_PRE_2025:
        planned = _districts(data_dir, unit_codes if level != "province" else None)
    elif unit_level == "commune":
        planned = _new_communes(data_dir, unit_codes if level != "province" else None)
    else:
        planned = _former_districts(data_dir, unit_codes)
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
    # The pre-reform district reports keep their parameters (and so their input hashes).
    by_level = {} if era == units.ERA_PRE_2025 else {"level": unit_level}
    check_parameters(
        nb_dir / "district_report.ipynb",
        {**common, **by_level, "unit_code": "", "input_hash": ""},
    )
    check_parameters(nb_dir / "province_overview.ipynb", {**common, "input_hash": ""})
    jobs = []
    kind = "district" if unit_level == "district" else "commune"
    for unit in planned if level != "province" else []:
        jobs.append(
            ReportJob(
                kind,
                unit.code,
                unit.name,
                str(nb_dir / "district_report.ipynb"),
                unit.html_name,
                {"unit_code": unit.code, **common, **by_level},
                notebook_text=texts["district_report.ipynb"],
                areas=unit.areas,
            )
        )
    provinces: dict[str, units.Unit] = {}
    for unit in planned:
        province = _province_of(unit, unit_level, era)
        provinces.setdefault(province.code, province)
    for province in provinces.values():
        overview = (
            {"province_code": province.code}
            if era == units.ERA_PRE_2025
            else {"level": unit_level, "province_code": province.code}
        )
        jobs.append(
            ReportJob(
                "province",
                province.code,
                province.name,
                str(nb_dir / "province_overview.ipynb"),
                f"province-{province.code}-{units.slugify(province.name)}.html",
                {**common, **overview},
                notebook_text=texts["province_overview.ipynb"],
            )
        )
    for job in jobs:
        job.input_hash = input_hash(job, data_dir)
        job.parameters["input_hash"] = job.input_hash  # shown in the report's provenance
    return jobs
