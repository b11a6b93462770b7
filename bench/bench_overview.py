"""Benchmark (issue 16, one province): the province overview's cells and the index page.

The overview is the longest job of a quarter's run (on 2 workers it runs beside the commune
reports), so its cells are timed alone, in one warm process (imports done, one overview
rendered first, as in a worker's kernel): ``load`` is the notebook's load cell, each section
one cell after it; the median of ``--repeats``. Also timed: the pieces that used to dominate
it (the monthly counts of every unit, the trend panels, the trend tests) and the index page
with its all-units workbook (``write_index``, as the runner calls it after the reports).

    .venv/bin/python bench/bench_overview.py --data data/demo                       # 2026-Q3
    .venv/bin/python bench/bench_overview.py --data data/demo --period 2025-Q2      # districts

Figures go to stdout and bench/out/bench_overview.json (never a timed test).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
TARGET_OVERVIEW_S = 4.0  # this helper's aim for the overview's cells (demo 2026-Q3, warm)


def _median_seconds(call: Callable[[], Any], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def overview_cells(data: Path, period: str, level: str, repeats: int) -> dict[str, float]:
    """Median seconds of the load cell and of each section cell, after one warm-up overview."""
    from cchc_analysis.reports.province_report import ProvinceReport

    def load() -> ProvinceReport:
        return ProvinceReport.load(period, str(data), "vi", "both", "", level, "")

    warm = load()
    for name in ProvinceReport.SECTIONS:
        getattr(warm, name)()
    runs: dict[str, list[float]] = {name: [] for name in ("load", *ProvinceReport.SECTIONS)}
    for _ in range(repeats):
        started = time.perf_counter()
        report = load()
        runs["load"].append(time.perf_counter() - started)
        for name in ProvinceReport.SECTIONS:
            started = time.perf_counter()
            getattr(report, name)()
            runs[name].append(time.perf_counter() - started)
    return {name: statistics.median(times) for name, times in runs.items()}


def pieces(data: Path, period: str, level: str, repeats: int) -> dict[str, float]:
    """The overview's formerly dominant pieces, each alone."""
    from cchc_analysis import stats
    from cchc_analysis.counting import monthly_counts
    from cchc_analysis.reports import plots
    from cchc_analysis.reports.province_report import ProvinceReport

    report = ProvinceReport.load(period, str(data), "vi", "both", "", level, "")
    names = dict(zip(report.peers["unit_code"], report.peers["short_name"], strict=True))
    start = report.monthly["month"].min()
    return {
        "monthly counts of every unit": _median_seconds(
            lambda: monthly_counts(report.data_dir, report.query, since=start), repeats
        ),
        f"trend panels ({len(names)} units, SVG)": _median_seconds(
            lambda: plots.small_multiples(report.monthly, names, "within_deadline_rate", "t").svg(),
            repeats,
        ),
        "trend tests of every unit": _median_seconds(
            lambda: stats.trend_tests(report.monthly, "within_deadline_rate", "unit_code"),
            repeats,
        ),
    }


def index_seconds(data: Path, period: str, repeats: int) -> tuple[float, int]:
    """Median seconds of ``write_index`` for every unit report of the period (and the
    overview), into a scratch folder; the number of units."""
    from cchc_analysis.batch.plan import plan_jobs
    from cchc_analysis.core.periods import parse_period
    from cchc_analysis.reports.index_page import write_index

    parsed = parse_period(period)
    jobs = plan_jobs(data, parsed, unit_codes=None, lang="vi", tier="both")
    results = [
        SimpleNamespace(
            kind=job.kind,
            unit_code=job.unit_code,
            unit_name=job.unit_name,
            file=job.html_name,
            status="ok",
        )
        for job in jobs
    ]
    with tempfile.TemporaryDirectory(prefix="bench-index-") as tmp:
        out = Path(tmp)
        write_index(out, data, parsed, results, "vi", "both")  # warm-up
        seconds = _median_seconds(
            lambda: write_index(out, data, parsed, results, "vi", "both"), repeats
        )
    return seconds, sum(job.kind != "province" for job in jobs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--period", default="2026-Q3")
    parser.add_argument("--level", default=None, help="commune (2026) or district (default)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    data = args.data.resolve()
    level = args.level or ("district" if args.period < "2025-07" else "commune")
    started = time.perf_counter()
    import cchc_analysis.reports.province_report  # noqa: F401  # the kernel's import cell

    figures: dict[str, Any] = {
        "period": args.period,
        "level": level,
        "imports_s": time.perf_counter() - started,
    }
    cells = overview_cells(data, args.period, level, args.repeats)
    figures["overview_cells"] = cells
    total = sum(cells.values())
    print(f"province overview {args.period} ({level}), warm, median of {args.repeats}:")
    for name, seconds in sorted(cells.items(), key=lambda kv: -kv[1]):
        print(f"  {name:<16} {seconds:6.3f} s  {seconds / total:6.1%}")
    print(
        f"  cells in all     {total:6.3f} s: {total / TARGET_OVERVIEW_S:.2f}x the "
        f"{TARGET_OVERVIEW_S:.0f} s aim"
    )
    parts = pieces(data, args.period, level, args.repeats)
    figures["pieces"] = parts
    print("pieces, each alone:")
    for name, seconds in parts.items():
        print(f"  {name:<34} {seconds:6.3f} s")
    index_s, units_count = index_seconds(data, args.period, args.repeats)
    figures["index_s"] = index_s
    print(f"index page and workbook, {units_count} units: {index_s:.3f} s")
    OUT.mkdir(parents=True, exist_ok=True)
    name = f"bench_overview-{args.period}.json"
    (OUT / name).write_text(json.dumps(figures, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
