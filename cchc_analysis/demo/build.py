"""``cchc demo``: the calibrated demo province end to end (data, cube, reports); ``cchc demo
--national`` the same for the whole nation tiled from it (``national``).

Generates the demo data folder when it holds no dossiers yet, or demo data of an older
generator version (any other folder is used as it is), brings its cube up to date, then renders
one quarter's reports with the batch runner: by default the latest complete quarter, 2026-Q3,
on the units of the 2025 reform (the new communes, the province overview, the index); an
earlier quarter (``--period 2025-Q2``) renders the district reports of its day.
"""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path
from typing import Any

from cchc_analysis import store
from cchc_analysis.batch.runner import render_reports
from cchc_analysis.core.periods import parse_period
from cchc_analysis.counting.prepare import prepare_folder
from cchc_analysis.demo.national import (
    NATIONAL_PERIOD,
    NATIONAL_SOURCE,
    NATIONAL_VERSION,
    check_target,
    generate_national,
)
from cchc_analysis.demo.synth import GENERATOR_VERSION, SOURCE, generate_demo

DEMO_PERIOD = "2026-Q3"  # the latest complete quarter of the demo data


def _is_outdated_demo(data_dir: Path) -> bool:
    """A demo folder written by another version of the generator (regenerated, not mixed)."""
    info = store.read_dataset_info(data_dir)
    return info.get("source") == SOURCE and info.get("generator_version") != GENERATOR_VERSION


def run_demo(
    data_dir: Path = Path("data/demo"),
    reports_dir: Path = Path("reports/demo"),
    workers: int | None = None,
    lang: str = "vi",
    period: str = DEMO_PERIOD,
) -> dict[str, Any]:
    """Generate the demo data if absent or outdated, build the cube, render one quarter."""
    if store.has_dossiers(data_dir) and _is_outdated_demo(data_dir):
        print(f"demo data in {data_dir} is of an older generator: regenerating", file=sys.stderr)
        for name in (store.DOSSIERS_DIR,):
            shutil.rmtree(data_dir / name, ignore_errors=True)
        for name in (store.CUBE_FILE, store.SURVEY_FILE, store.DATASET_FILE):
            (data_dir / name).unlink(missing_ok=True)
    ensure_demo(data_dir)
    prepare_folder(data_dir)
    return _render(data_dir, reports_dir, period, workers, lang)


def ensure_demo(data_dir: Path) -> None:
    """Generate the demo province into ``data_dir`` unless it holds dossiers already."""
    if not store.has_dossiers(data_dir):
        started = time.perf_counter()
        print(f"generating demo data into {data_dir} ...", file=sys.stderr, flush=True)
        summary = generate_demo(data_dir)
        print(
            f"demo data: {summary.get('dossier_rows', '?'):,} dossiers in "
            f"{time.perf_counter() - started:.1f} s",
            file=sys.stderr,
        )


def run_national_demo(
    data_dir: Path = Path("data/national"),
    reports_dir: Path = Path("reports/national"),
    source_dir: Path = Path("data/demo"),
    workers: int | None = None,
    lang: str = "vi",
    period: str = NATIONAL_PERIOD,
    provinces: list[str] | None = None,
) -> dict[str, Any]:
    """The national data set (generated from the demo province when absent or made for
    another quarter, provinces or generator version), then its quarter's reports: every
    commune of the provinces and each province's overview."""
    quarter = parse_period(period)
    info = store.read_dataset_info(data_dir)
    asked = sorted(p.zfill(2) for p in provinces) if provinces else None
    is_current = (
        store.has_dossiers(data_dir)
        and info.get("source") == NATIONAL_SOURCE
        and info.get("generator_version") == NATIONAL_VERSION
        and info.get("period") == str(quarter)
        and (asked is None or (info.get("provinces") or {}).get("2025") == asked)
        and (asked is not None or info.get("province_count") == 34)
    )
    if not is_current:
        check_target(data_dir)  # before anything is made: never another folder's data
        ensure_demo(source_dir)
        started = time.perf_counter()
        print(f"generating national data into {data_dir} ...", file=sys.stderr, flush=True)
        summary = generate_national(data_dir, source_dir, period=str(quarter), provinces=asked)
        print(
            f"national data: {summary['dossier_rows']:,} dossiers, "
            f"{summary['new_commune_count']:,} communes of {summary['province_count']} "
            f"provinces in {time.perf_counter() - started:.1f} s",
            file=sys.stderr,
        )
    prepare_folder(data_dir)
    return _render(data_dir, reports_dir, period, workers, lang)


def _render(
    data_dir: Path, reports_dir: Path, period: str, workers: int | None, lang: str
) -> dict[str, Any]:
    quarter = parse_period(period)
    out = reports_dir / str(quarter)
    manifest = render_reports(data_dir, quarter, out, workers=workers, lang=lang)
    ok = sum(r["status"] == "ok" for r in manifest["reports"])
    print(
        f"{ok}/{len(manifest['reports'])} reports in {manifest['seconds']:.1f} s -> "
        f"{out / 'index.html'}"
    )
    return manifest
