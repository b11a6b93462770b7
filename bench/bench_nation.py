"""Benchmark (issue 16): the nation, on the local pool and on a Dask LocalCluster.

    .venv/bin/python bench/bench_nation.py            # the whole nation, 80-report sample
    .venv/bin/python bench/bench_nation.py --quick    # its sample provinces only, 16 reports
    .venv/bin/python bench/bench_nation.py --full     # and all 3,355 reports (~1 h here)

1. Generation: ``demo.national.generate_national`` from the demo province (``data/demo``, or
   $CCHC_DEMO_DATA) into bench/out/national (--quick: bench/out/national-quick, the sample
   provinces only; a subset holds exactly its rows of the whole nation): seconds to generate
   and to prepare the cube, rows, rows of the quarter, size on disk.
2. Sample on the local pool (2 workers): every report of Lai Châu (12, 38 communes) and Huế
   (46, 40 communes) and their overviews, 80 reports (--quick: the first 15 communes of 12 and
   its overview). Per-report figures from the manifest, and the national time extrapolated:
   3,321 communes and 34 overviews, with the formula printed.
   Planning (the jobs' input hashes) is timed first, on its own; the renders after it reuse
   the hashes kept in this process, so their times are the runs' own.
3. The quick sample (15 communes of Lai Châu and its overview, 16 reports) on a Dask
   LocalCluster of N = 1, 2, 4 workers (one thread each): time and speedup against N = 1.
   This machine has 2 cores: N = 4 cannot beat N = 2 here.

Each render goes to a fresh folder (nothing skipped as unchanged). Figures go to stdout and
bench/out/bench_nation.json. Timings on a shared machine are noisy: run it 2–3 times.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchdata import OUT, demo_dir  # noqa: E402

PERIOD = "2026-Q3"
SAMPLE_PROVINCES = ("12", "46")
QUICK_COMMUNES = 15
NATION_COMMUNES = 3321
NATION_PROVINCES = 34
POOL_WORKERS = 2
KERNEL_RUNS = 200  # a warm kernel serves this many reports, then is replaced
DASK_WORKERS = (1, 2, 4)


def generate(out: Path, provinces: list[str] | None) -> dict[str, Any]:
    from cchc_analysis import store
    from cchc_analysis.demo.national import NATIONAL_SOURCE, folder_bytes, generate_national

    info = store.read_dataset_info(out)
    wanted = sorted(provinces) if provinces else None
    has_provinces = (
        (info.get("provinces") or {}).get("2025") == wanted
        if wanted
        else info.get("province_count") == NATION_PROVINCES
    )
    is_there = store.has_dossiers(out) and info.get("source") == NATIONAL_SOURCE and has_provinces
    if is_there and (out / store.CUBE_FILE).exists() and not os.environ.get("CCHC_REGENERATE"):
        print(f"national data already in {out} (CCHC_REGENERATE=1 to time its generation)")
        return {**info, "bytes": folder_bytes(out), "reused": True}
    started = time.perf_counter()
    summary = generate_national(out, demo_dir(), period=PERIOD, provinces=provinces)
    summary["total_seconds"] = round(time.perf_counter() - started, 3)
    summary["bytes"] = folder_bytes(out)
    print(
        f"generated {summary['dossier_rows']:,} dossiers ({summary['period_dossier_rows']:,} "
        f"received in {PERIOD}, {summary['carried_in_rows']:,} carried in), "
        f"{summary['new_commune_count']:,} communes of {summary['province_count']} provinces: "
        f"{summary['generate_seconds']:.1f} s to generate + {summary['prepare_seconds']:.1f} s "
        f"to prepare the cube = {summary['total_seconds']:.1f} s; "
        f"{summary['bytes'] / 2**20:,.0f} MiB on disk "
        f"({summary['dossier_rows'] / summary['total_seconds']:,.0f} rows/s)",
        flush=True,
    )
    return summary


def sample_units(quick: bool, communes: int = QUICK_COMMUNES) -> list[str]:
    from cchc_analysis.demo.national import national_communes

    if quick:
        return list(national_communes([SAMPLE_PROVINCES[0]], communes)["code"])
    return list(national_communes(list(SAMPLE_PROVINCES))["code"])


def plan_seconds(data: Path, codes: list[str]) -> dict[str, Any]:
    """Planning alone (the jobs and their input hashes), as the run's first step does it: a
    commune hashes its partition's rows, an overview every area it reads. The hashes are kept
    per process, so the renders after it plan in a fraction of this."""
    from cchc_analysis import store
    from cchc_analysis.batch.plan import plan_jobs
    from cchc_analysis.core.periods import parse_period
    from cchc_analysis.counting.prepare import prepare_folder

    prepare_folder(data)
    started = time.perf_counter()
    jobs = plan_jobs(data, parse_period(PERIOD), unit_codes=codes, lang="vi", tier="both")
    seconds = time.perf_counter() - started
    hashed = {area for job in jobs for area in job.areas}
    if any(not job.areas for job in jobs):  # an overview: every area of the folder
        hashed |= set(store.dossier_areas(data))
    return {"jobs": len(jobs), "areas_hashed": len(hashed), "plan_s": round(seconds, 2)}


def render(data: Path, codes: list[str], executor: str, workers: int) -> dict[str, Any]:
    from cchc_analysis.batch.runner import render_reports
    from cchc_analysis.core.periods import parse_period

    with tempfile.TemporaryDirectory(prefix="cchc-nation-") as tmp:
        started, started_at = time.perf_counter(), time.time()
        manifest = render_reports(
            data,
            parse_period(PERIOD),
            Path(tmp) / "out",
            unit_codes=codes,
            workers=workers,
            executor=executor,
            quiet=True,
        )
        wall = time.perf_counter() - started
        log_text = (Path(tmp) / "out" / manifest["log"]).read_text(encoding="utf-8")
    first = re.search(r"first report started executing at (\S+ \S+)", log_text)
    # Until the first report's first cell: the workers (a Dask cluster: its processes) and
    # kernels starting, the plan; after it, the rendering, which N workers share.
    first_s = datetime.fromisoformat(first.group(1)).timestamp() - started_at if first else None
    reports = manifest["reports"]
    failed = [r["file"] for r in reports if r["status"] != "ok"]
    if failed:
        print(f"  {len(failed)} report(s) failed: {failed[:5]}", flush=True)
    communes = [r["seconds"] for r in reports if r["kind"] != "province"]
    overviews = [r["seconds"] for r in reports if r["kind"] == "province"]
    return {
        "executor": executor,
        "workers": workers,
        "reports": len(reports),
        "failed": len(failed),
        "wall_s": round(wall, 2),
        "first_start_s": None if first_s is None else round(first_s, 2),
        "rendering_s": None if first_s is None else round(wall - first_s, 2),
        "report_s_sum": round(sum(communes) + sum(overviews), 2),
        "commune_s_mean": round(statistics.mean(communes), 3) if communes else None,
        "commune_s_median": round(statistics.median(communes), 3) if communes else None,
        "overview_s_mean": round(statistics.mean(overviews), 3) if overviews else None,
    }


def extrapolate(
    run: dict[str, Any], plan: dict[str, Any], sample_communes_per_province: float
) -> dict[str, Any]:
    """The national time from the sample: planning (the input hashes; the sample's overviews
    already hash every area of the folder, so the nation's planning is about the sample's), a
    fixed part (kernel starts, index: the wall time the reports' own seconds do not explain)
    and every report's seconds shared by the workers; an overview's seconds grow with its
    province's communes (every unit's row and trend), scaled from the sample's provinces to
    the nation's mean."""
    workers = run["workers"]
    planning = plan["plan_s"]
    fixed = max(0.0, run["wall_s"] - run["report_s_sum"] / workers)
    # ``fixed`` is mostly each kernel's first report (the shared counts of the whole folder);
    # a kernel is replaced after KERNEL_RUNS reports, so the nation pays it again.
    lives = math.ceil((NATION_COMMUNES + NATION_PROVINCES) / (KERNEL_RUNS * workers))
    nation_mean = NATION_COMMUNES / NATION_PROVINCES
    overview = (run["overview_s_mean"] or 0.0) * nation_mean / sample_communes_per_province
    work = NATION_COMMUNES * run["commune_s_mean"] + NATION_PROVINCES * overview
    total = planning + lives * fixed + work / workers
    formula = (
        f"T = plan + ceil(3355 / ({KERNEL_RUNS} x workers)) x fixed + (3321 x t_commune + 34 x "
        f"t_overview) / workers = {planning:.0f} s + {lives} x {fixed:.1f} s + "
        f"(3321 x {run['commune_s_mean']:.2f} s + 34 x {overview:.1f} s) / {workers} "
        f"= {total:.0f} s = {total / 60:.1f} min (target <= 30 min)"
    )
    return {
        "plan_s": planning,
        "fixed_s": round(fixed, 1),
        "kernel_lives": lives,
        "t_commune_s": run["commune_s_mean"],
        "t_overview_s": round(overview, 1),
        "per_report_wall_s": round(run["wall_s"] / run["reports"], 3),
        "nation_s": round(total, 1),
        "formula": formula,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="sample provinces only, 16 reports")
    parser.add_argument("--full", action="store_true", help="also render all 3,355 reports")
    parser.add_argument("--no-dask", action="store_true", help="skip the LocalCluster runs")
    parser.add_argument(
        "--dask-reports",
        type=int,
        default=QUICK_COMMUNES + 1,
        help="reports of the Dask runs: Lai Châu's first communes and its overview (at most 39)",
    )
    args = parser.parse_args()
    if args.quick and args.full:
        parser.error("--full needs the whole nation (not --quick)")
    results: dict[str, Any] = {"mode": "quick" if args.quick else "default"}
    data = OUT / ("national-quick" if args.quick else "national")
    provinces = [SAMPLE_PROVINCES[0]] if args.quick else None
    results["generation"] = generate(data, provinces)
    codes = sample_units(args.quick)
    # An overview covers every commune of its province in the folder (all 38 of Lai Châu in
    # --quick too): its seconds are scaled from that number.
    from cchc_analysis.demo.national import national_communes

    shown = [SAMPLE_PROVINCES[0]] if args.quick else list(SAMPLE_PROVINCES)
    per_province = len(national_communes(shown)) / len(shown)
    print(f"sample: {len(codes)} communes and their overview(s), period {PERIOD}", flush=True)

    plan = plan_seconds(data, codes)
    results["plan"] = plan
    print(
        f"planning {plan['jobs']} jobs: {plan['plan_s']:.1f} s (input hashes of "
        f"{plan['areas_hashed']:,} areas: an overview hashes every area of the folder)",
        flush=True,
    )
    pool = render(data, codes, "process", POOL_WORKERS)
    results["pool"] = pool
    print(
        f"local pool, {POOL_WORKERS} workers: {pool['reports']} reports in {pool['wall_s']:.1f} s "
        f"({pool['wall_s'] / pool['reports']:.2f} s per report wall; a commune report "
        f"{pool['commune_s_mean']:.2f} s mean / {pool['commune_s_median']:.2f} s median, "
        f"an overview {pool['overview_s_mean']:.1f} s)",
        flush=True,
    )
    estimate = extrapolate(pool, plan, per_province)
    results["estimate"] = estimate
    print(f"national estimate: {estimate['formula']}", flush=True)

    if not args.no_dask:
        dask_runs = []
        # Lai Châu's communes and its overview: --dask-reports of them (16 by default; the
        # cluster's and kernels' start is most of so short a run, so the rendering after the
        # first report's start is timed apart, and is what N workers share).
        small = sample_units(quick=True, communes=args.dask_reports - 1)
        print(f"dask sample: {len(small)} communes and their overview", flush=True)
        for n in DASK_WORKERS:
            run = render(data, small, "dask", n)
            dask_runs.append(run)
            base = dask_runs[0]
            run["speedup"] = round(base["wall_s"] / run["wall_s"], 2)
            if run["rendering_s"] and base["rendering_s"]:
                run["rendering_speedup"] = round(base["rendering_s"] / run["rendering_s"], 2)
            print(
                f"dask LocalCluster N={n}: {run['reports']} reports in {run['wall_s']:.1f} s, "
                f"speedup {run['speedup']:.2f}x vs N=1 (ideal {n}x); first report "
                f"{run['first_start_s']} s after the start, rendering after it "
                f"{run['rendering_s']} s, speedup {run.get('rendering_speedup')}x",
                flush=True,
            )
        results["dask"] = dask_runs
        cores = os.cpu_count() or 1
        print(
            f"this machine has {cores} cores: beyond N={cores} workers share them, so N=4 "
            f"cannot beat N={cores} here; on a cluster each machine adds its own cores "
            "(docs/scale-out.md)"
        )

    if args.full:
        from cchc_analysis.batch.runner import render_reports
        from cchc_analysis.core.periods import parse_period

        with tempfile.TemporaryDirectory(prefix="cchc-nation-full-") as tmp:
            started = time.perf_counter()
            manifest = render_reports(
                data, parse_period(PERIOD), Path(tmp) / "out", workers=POOL_WORKERS, quiet=True
            )
            wall = time.perf_counter() - started
        ok = sum(r["status"] == "ok" for r in manifest["reports"])
        results["full"] = {"reports": len(manifest["reports"]), "ok": ok, "wall_s": round(wall)}
        print(
            f"full national run: {ok}/{len(manifest['reports'])} reports in {wall:.0f} s "
            f"= {wall / 60:.1f} min, its planning's hashes already made by the sample's "
            f"(estimate without them {(estimate['nation_s'] - plan['plan_s']) / 60:.1f} min)"
        )
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "bench_nation.json").write_text(json.dumps(results, indent=2, default=str))


if __name__ == "__main__":
    main()
