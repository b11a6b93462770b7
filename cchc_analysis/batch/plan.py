"""Planning a batch: which notebooks to run with which parameters, and what their inputs hash to.

A :class:`ReportJob` is one notebook for one unit, carrying the notebook's text so that a
remote worker needs only the package and the data folder. The parameters are checked against
what the notebooks declare (:mod:`.parameters`) before anything runs. :func:`input_hash` is
what makes reruns incremental: a report whose data slice, notebook, parameters and package
code are unchanged is not rendered again.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from cchc_analysis import store, units
from cchc_analysis.batch.job import ReportJob
from cchc_analysis.batch.parameters import check_extra_parameters, check_parameters
from cchc_analysis.core import resources, targets
from cchc_analysis.core.errors import ParameterError, UnitNotInDataError
from cchc_analysis.core.periods import Period
from cchc_analysis.core.resources import notebooks_dir
from cchc_analysis.core.schema import DOSSIER_COLUMNS
from cchc_analysis.core.version import __version__
from cchc_analysis.counting.former_districts import former_district_name


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


def input_hash(job: ReportJob, data_dir: Path, *, period_end: date | None = None) -> str:
    """Hash of everything a report depends on: its data slice, notebook, parameters, code.

    With ``period_end`` the data count by content, up to the period's end: the dossiers of the
    report's areas received by then and the cube's months up to it. So a monthly snapshot that
    changes nothing a report shows (other units' dossiers, later months, rows rewritten with the
    same content) leaves its hash, and the report is not rendered again; a snapshot that
    changes one dossier of the unit, or the province's figures it is compared with, does.
    dataset.json counts without its ingest times and snapshot date.
    """
    digest = hashlib.sha256()
    digest.update(code_digest().encode())
    digest.update(json.dumps(job.parameters, sort_keys=True, default=str).encode())
    digest.update(f"waiting:{targets.count_waiting_as_on_time()}".encode())  # the convention
    digest.update(job.notebook_text.encode())
    if job.areas is None:
        raise ValueError(f"{job.html_name}: areas not found yet (hash it with hash_job)")
    areas = list(job.areas) or store.dossier_areas(data_dir)
    if period_end is None:
        slices = [path for area in areas for path in store.area_files(data_dir, area)]
        for path in slices:
            _file_digest(path, digest)
        shared = [store.CUBE_FILE, store.SURVEY_FILE, store.DATASET_FILE]
    else:
        for area in areas:
            rows = _rows_digest(data_dir, area, period_end)
            if rows != "0:0":  # an area whose dossiers all came after the period: none
                digest.update(f"{area}:{rows}".encode())
        digest.update(f"cube:{_cube_digest(data_dir, period_end)}".encode())
        info = store.read_dataset_info(data_dir)
        stable = {k: v for k, v in info.items() if k not in _VOLATILE_INFO}
        stable["start"] = (info.get("date_range") or {}).get("start")
        digest.update(json.dumps(stable, sort_keys=True, default=str).encode())
        shared = [store.SURVEY_FILE]
    # Reports compare a district with the province, so the cube and survey count for all.
    for path in (data_dir / name for name in shared):
        if not path.exists():
            continue
        if period_end is None:
            _file_digest(path, digest)
        else:  # the file's own digest, kept by its state (the same for every job)
            digest.update(path.name.encode())
            digest.update(_whole_file_digest(data_dir, path).encode())
    return digest.hexdigest()[:16]


def _whole_file_digest(data_dir: Path, path: Path) -> str:
    def compute() -> str:
        digest = hashlib.sha256()
        _file_digest(path, digest)
        return digest.hexdigest()

    return store.folder_digests(data_dir).digest("sha256", [path], compute)


# dataset.json keys an ingest rewrites without changing any figure
_VOLATILE_INFO = ("last_ingest", "snapshot_date", "export_date", "dossier_rows", "date_range")


def _unordered_digest(frame: pd.DataFrame) -> str:
    """The rows' content whatever their order (the sum of their hashes) and their number."""
    hashes = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    return f"{len(frame)}:{int(hashes.sum(dtype=np.uint64))}"


def _rows_digest(data_dir: Path, area: str, period_end: date) -> str:
    files = store.area_files(data_dir, area)
    if not files:
        return "0:0"
    # The digest depends on the files, the period's end, the columns hashed and DuckDB's hash.
    what = f"rows {period_end} duckdb {duckdb.__version__} {','.join(DOSSIER_COLUMNS)}"
    return store.folder_digests(data_dir).digest(
        what, files, lambda: _rows_digest_of([str(path) for path in files], period_end)
    )


def _rows_digest_of(paths: list[str], period_end: date) -> str:
    """The rows of an area's files received by ``period_end``: their number and the sum of
    their hashes (whatever their order), over every dossier column the files have.

    DuckDB hashes the rows in C straight from Parquet (about 10 times faster than pandas); the
    digest is kept by the files' state (:mod:`cchc_analysis.store.digests`), within a run (the
    overview reads every area the communes did) and across runs.
    """
    source = "read_parquet(?, union_by_name = true)"
    end = (pd.Timestamp(period_end) + pd.Timedelta(days=1)).to_pydatetime()
    con = _connection()
    names = {row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {source}", [paths]).fetchall()}
    columns = ", ".join(f'"{c}"' for c in DOSSIER_COLUMNS if c in names)
    query = (
        f"SELECT count(*), coalesce(sum(hash({columns})::HUGEINT), 0) FROM {source} "
        "WHERE received_at < ?"
    )
    row = con.execute(query, [paths, end]).fetchone()
    count, total = row if row is not None else (0, 0)
    return f"{count}:{int(total) % 2**64}"


_connections = threading.local()


def _connection() -> duckdb.DuckDBPyConnection:
    """This thread's DuckDB connection, opened once: opening one costs about 30 ms, hashing a
    commune's area about 9 ms, and a national run hashes 3,355 areas. (A connection is not
    shared between threads; the run hashes on one thread.)"""
    con: duckdb.DuckDBPyConnection | None = getattr(_connections, "con", None)
    if con is None:
        con = _connections.con = duckdb.connect()
        # Each query reads the files as they are now: no blocks kept from an earlier query
        # (a file rewritten in place within the same second could otherwise be read stale).
        con.execute("SET enable_external_file_cache = false")
    return con


def _cube_digest(data_dir: Path, period_end: date) -> str:
    path = data_dir / store.CUBE_FILE
    if not path.exists():
        return "-"
    return store.folder_digests(data_dir).digest(
        f"cube {period_end}", [path], lambda: _cube_digest_of(path, period_end)
    )


def _cube_digest_of(path: Path, period_end: date) -> str:
    cube = pd.read_parquet(path)
    months = pd.to_datetime(cube["month"])
    return _unordered_digest(cube[(months <= pd.Timestamp(period_end)).to_numpy()])


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


def _province_areas(data_dir: Path, province: units.Unit, era: str) -> tuple[str, ...]:
    """The dossier areas of one province, in either era: its communes' and own offices' after
    the reform, and (through the province crosswalk) the old provinces' districts' and own
    offices' before it. An overview's input hash reads these, not every area of the folder
    (3,356 in the nation): the other provinces' figures reach it through the cube only."""
    walk = units.crosswalk_provinces().set_index("old_code")["new_code"]

    def province_of(area: str) -> str | None:
        area_era, code = store.area_parts(area)
        if len(code) != 2:
            level = "commune" if area_era == units.ERA_2025 else "district"
            try:
                code = units.get_unit(code, era=area_era, level=level).province_code
            except LookupError:  # a code the registry does not know: counted for every province
                return None
        if era == units.ERA_2025 and area_era != units.ERA_2025:
            return str(walk.get(code, code))
        return code

    chosen = []
    for area in store.dossier_areas(data_dir):
        owner = province_of(area)
        if owner is None or owner == province.code:
            chosen.append(area)
    return tuple(chosen)


def plan_jobs(
    data_dir: Path,
    period: Period,
    *,
    unit_codes: Sequence[str] | None,
    lang: str,
    tier: str,
    extra_parameters: dict[str, Any] | None = None,
    level: str | None = None,
    hash_inputs: bool = True,
) -> list[ReportJob]:
    """One job per unit of the level asked for (all units with data by default) plus the
    overview of their province; with ``hash_inputs`` each with its input hash (without, the
    caller hashes each job with :func:`hash_job` when it needs it).

    ``level`` (default: :func:`default_level`): "district" (a district before the reform, a
    former district's area after it), "commune" (the new communes, periods from 1 July 2025)
    or "province" (only the overview: the districts before the reform, the communes after).
    """
    check_extra_parameters(extra_parameters or {})
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
    if period.convention != "calendar":  # calendar reports keep their parameters (and hashes)
        common["convention"] = period.convention
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
                areas=None,  # its province's: found as it is hashed (hash_job)
            )
        )
    if hash_inputs:
        for job in jobs:
            hash_job(job, data_dir, period.end)
        store.folder_digests(data_dir).save()  # the next run reuses them
    return jobs


def hash_job(job: ReportJob, data_dir: Path, period_end: date) -> ReportJob:
    """The job with its :func:`input_hash`, also passed to the notebook (shown in the report's
    provenance). An overview's areas are found here, not while planning: a first run hashes
    on a thread while its first report runs, so the plan is done (and a worker busy) sooner."""
    if job.areas is None:
        era = units.era_of(period_end)
        province = units.get_unit(job.unit_code, era=era, level="province")
        job.areas = _province_areas(data_dir, province, era)
    job.input_hash = input_hash(job, data_dir, period_end=period_end)
    job.parameters["input_hash"] = job.input_hash
    return job
