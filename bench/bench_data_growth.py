"""Benchmark (issue 16, data growth): a report's seconds on the national folder vs the demo's.

    .venv/bin/python bench/bench_data_growth.py --data bench/out/national --province 12
    .venv/bin/python bench/bench_data_growth.py --data data/demo --province 31

Plans (the jobs' input hashes, in a fresh process) and renders the first ``--communes`` new
communes of ``--province`` and its overview on the local pool (2 workers), into a fresh folder
under ``--out``. Prints the planning seconds and each report kind's mean seconds (from the
manifest); the data-growth ratio is the national figure over the demo's (target <= 1.2).
Timings on a shared machine are noisy: run it 2-3 times and keep the best.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import time
from pathlib import Path

PERIOD = "2026-Q3"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--province", required=True, help="new province code (2025)")
    parser.add_argument("--communes", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("/tmp/cchc-data-growth"))
    args = parser.parse_args()

    from cchc_analysis import store, units
    from cchc_analysis.batch.plan import plan_jobs
    from cchc_analysis.batch.runner import render_reports
    from cchc_analysis.core.periods import parse_period

    period = parse_period(PERIOD)
    codes = [
        code
        for era, code in map(store.area_parts, store.dossier_areas(args.data))
        if era == units.ERA_2025
        and len(code) == 5
        and units.get_unit(code, era=era, level="commune").province_code == args.province
    ][: args.communes]
    started = time.perf_counter()
    jobs = plan_jobs(args.data, period, unit_codes=codes, lang="vi", tier="both")
    plan_s = time.perf_counter() - started
    out = args.out / f"{args.data.name}-{args.province}"
    shutil.rmtree(out, ignore_errors=True)
    started = time.perf_counter()
    manifest = render_reports(
        args.data, period, out, unit_codes=codes, workers=args.workers, quiet=True
    )
    wall = time.perf_counter() - started
    reports = manifest["reports"]
    communes = [r["seconds"] for r in reports if r["kind"] != "province"]
    overviews = [r["seconds"] for r in reports if r["kind"] == "province"]
    result = {
        "data": str(args.data),
        "jobs": len(jobs),
        "plan_s": round(plan_s, 2),
        "wall_s": round(wall, 2),
        "failed": sum(r["status"] != "ok" for r in reports),
        "commune_s_mean": round(statistics.mean(communes), 2),
        "commune_s_median": round(statistics.median(communes), 2),
        "commune_s_first": round(communes[0], 2),
        "overview_s": round(overviews[0], 2) if overviews else None,
    }
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
