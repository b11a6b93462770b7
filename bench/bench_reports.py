"""Benchmark (issue 16, per report): where a commune report's and the overview's time goes.

Three figures, printed with their ratios to the issue's targets (never timed tests):

1. Per-section cell time of a commune report and of the province overview, in one warm
   process (imports done and a first report loaded, as in a worker's kernel after its first
   report): ``load`` is the notebook's second cell, each section one cell after it.
2. Wall time of ``cchc report`` for N commune reports (``--force``, fresh output folder), with
   the runner's own per-report seconds and cell seconds from the manifest: overhead = wall −
   cells; and, from the run log, the seconds from the command to the plan being done
   (``plan_done_s``), to the first report's first cell executing (``first_cell_s``, issue 16's
   start target: 2 s) and to the first report done (``first_report_done_s``).
3. Optionally (``--all``) the whole quarter: every commune report + overview + index.

    .venv/bin/python bench/bench_reports.py --data /tmp/perf-demo/data            # 2026-Q3
    .venv/bin/python bench/bench_reports.py --data DIR --reports 20 --workers 2
    .venv/bin/python bench/bench_reports.py --data DIR --all                      # 114 + 1
    .venv/bin/python bench/bench_reports.py --data DIR --runner-only --runs 5     # medians

``--runs N`` repeats the ``cchc report`` runs and prints each figure's median (a shared machine
is noisy); ``--runner-only`` skips the in-process figures.

The data folder is the demo's (``cchc demo --data DIR``: the new Hải Phòng). Figures go to
stdout and bench/out/bench_reports.json.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
BIN = Path(sys.executable).parent

TARGET_CELLS_S = 0.6
TARGET_OVERHEAD_S = 0.2
TARGET_FIRST_START_S = 2.0
TARGET_PROVINCE_S = 60.0


def _timed(call: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    value = call()
    return time.perf_counter() - started, value


def section_times(load: Callable[[], Any], sections: tuple[str, ...]) -> dict[str, float]:
    """Seconds of the load cell and of each section cell (the HTML is built, as in a cell)."""
    times: dict[str, float] = {}
    times["load"], report = _timed(load)
    for name in sections:
        times[name], _ = _timed(getattr(report, name))
    return times


def commune_codes(data: Path, period: str) -> list[str]:
    """The unit reports the runner would render for ``period``, in its order (communes after
    the reform, districts before it)."""
    return [code for code, _kind in unit_jobs(data, period)]


def unit_jobs(data: Path, period: str) -> list[tuple[str, str]]:
    """(unit code, level) of each unit report the runner would render for ``period``."""
    from cchc_analysis.batch.plan import plan_jobs
    from cchc_analysis.core.periods import parse_period

    jobs = plan_jobs(data, parse_period(period), unit_codes=None, lang="vi", tier="both")
    return [(job.unit_code, job.kind) for job in jobs if job.kind != "province"]


def in_process(
    data: Path, period: str, codes: list[str], repeats: int, level: str = "commune"
) -> dict[str, Any]:
    """Per-section seconds for a unit report of ``level`` (median over ``repeats`` units after
    one warm-up report) and the overview (second load)."""
    started = time.perf_counter()
    from cchc_analysis.reports.province_report import ProvinceReport
    from cchc_analysis.reports.unit_report import UnitReport

    imports_s = time.perf_counter() - started
    from cchc_analysis.counting import shared

    shared.hold_states()  # as a batch kernel: the folder's state taken once per report

    def unit(code: str) -> Callable[[], Any]:
        def load() -> Any:
            shared.forget_states()  # the kernel's reset between two reports
            return UnitReport.load(code, period, str(data), "vi", "both", "", level)

        return load

    first = section_times(unit(codes[0]), UnitReport.SECTIONS)
    runs = [section_times(unit(code), UnitReport.SECTIONS) for code in codes[1 : 1 + repeats]]
    unit_median = {k: statistics.median(r[k] for r in runs) for k in first}

    def province() -> Any:
        shared.forget_states()
        return ProvinceReport.load(period, str(data), "vi", "both", "", level, "")

    province_first = section_times(province, ProvinceReport.SECTIONS)
    province_warm = section_times(province, ProvinceReport.SECTIONS)
    return {
        "imports_s": imports_s,
        "unit_first": first,
        "unit_warm": unit_median,
        "province_first": province_first,
        "province_warm": province_warm,
    }


def cchc_report(
    data: Path, period: str, codes: list[str] | None, workers: int, keep_warm_s: float = 0.0
) -> dict[str, Any]:
    """Wall seconds of ``cchc report`` into a fresh folder, and the manifest's figures.
    ``keep_warm_s``: the run leaves its workers warm and takes those an earlier one left."""
    with tempfile.TemporaryDirectory(prefix="bench-reports-") as tmp:
        out = Path(tmp) / "out"
        command = [
            str(BIN / "cchc"),
            "report",
            "--data",
            str(data),
            "--period",
            period,
            "--out",
            str(out),
            "--workers",
            str(workers),
            "--quiet",
        ]
        if codes is not None:
            command += ["--units", ",".join(codes)]
        if keep_warm_s:
            command += ["--keep-warm", str(keep_warm_s)]
        started = time.time()
        subprocess.run(command, check=True, capture_output=True)
        wall = time.time() - started
        manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
        reports = [r for r in manifest["reports"] if r.get("status") == "ok"]
        log_text = "\n".join(p.read_text(encoding="utf-8") for p in (out / "logs").glob("*.log"))
    units = [r for r in reports if not r["file"].startswith("province-")]
    # After each worker's first report (the first `workers` to finish carry the cold imports).
    warm = units[workers:] or units
    return {
        "reports": len(reports),
        "wall_s": wall,
        "plan_done_s": _plan_done(log_text, started),
        "first_cell_s": _first_execution(log_text, started),
        "first_report_done_s": _first_report_done(log_text, started),
        "unit_seconds_median": statistics.median(r["seconds"] for r in warm),
        "unit_cells_median": statistics.median(r["cells_seconds"] for r in warm),
        "unit_overhead_median": statistics.median(r["seconds"] - r["cells_seconds"] for r in warm),
        "first_reports_seconds": [r["seconds"] for r in units[:workers]],
        "took_over_warm_workers": "took over" in log_text,
    }


def _plan_done(log_text: str, started: float) -> float | None:
    """Seconds from the command to the run's "N reports to render" line (the plan is done and
    the workers, started beside the planning, take the first reports)."""
    return _log_time(log_text, "reports to render", started)


def _first_report_done(log_text: str, started: float) -> float | None:
    """Seconds from the command to the first report rendered (its "<file>.html ok" line)."""
    return _log_time(log_text, ".html ok ", started)


def _first_execution(log_text: str, started: float) -> float | None:
    """Seconds from the command to the first cell of the first report, sent to a kernel."""
    match = re.search(r"first report started executing at (\S+ \S+)", log_text)
    if match is None:
        return None
    return _parse_stamp(match.group(1)) - started


def _log_time(log_text: str, needle: str, started: float) -> float | None:
    for line in log_text.splitlines():
        if needle in line:
            match = re.match(r"(\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?)", line)
            if match:
                return _parse_stamp(match.group(1)) - started
    return None


def _parse_stamp(text: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(text.replace(",", ".")).timestamp()


def _print_sections(title: str, times: dict[str, float]) -> None:
    cells = sum(times.values())
    print(f"\n{title}: {cells:.2f} s in cells")
    for name, seconds in sorted(times.items(), key=lambda kv: -kv[1]):
        print(f"  {name:<16} {seconds:6.3f} s  {seconds / cells:6.1%}")


STARTS = ("plan_done_s", "first_cell_s", "first_report_done_s")


def repeated(run: Callable[[], dict[str, Any]], runs: int) -> dict[str, Any]:
    """``run()`` ``runs`` times: the median of each figure (lists: the first run's), and each
    run's start figures and wall time under ``runs``."""
    results = [run() for _ in range(max(1, runs))]
    figures: dict[str, Any] = {}
    for key, value in results[0].items():
        if isinstance(value, list):
            figures[key] = value
            continue
        numbers = [r[key] for r in results if isinstance(r[key], int | float)]
        figures[key] = statistics.median(numbers) if numbers else None
    figures["runs"] = [
        {key: r[key] for key in (*STARTS, "wall_s") if r.get(key) is not None} for r in results
    ]
    return figures


def _print_starts(figures: dict[str, Any], runs: int) -> None:
    of = f" (median of {runs})" if runs > 1 else ""
    plan, cell, done = (figures.get(k) for k in STARTS)
    if plan is not None:
        print(f"  plan done {plan:.1f} s after the command{of}")
    if cell is not None:
        print(
            f"  first report's first cell runs {cell:.1f} s after the command{of} "
            f"({cell / TARGET_FIRST_START_S:.2f}x the {TARGET_FIRST_START_S} s target)"
        )
    if done is not None:
        print(f"  first report done {done:.1f} s after the command{of}")
    if runs > 1:
        for i, run in enumerate(figures["runs"], 1):
            shown = ", ".join(f"{k} {v:.1f}" for k, v in run.items() if v is not None)
            print(f"    run {i}: {shown}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--period", default="2026-Q3")
    parser.add_argument("--repeats", type=int, default=5, help="communes timed in-process")
    parser.add_argument("--reports", type=int, default=20, help="communes for `cchc report`")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--all", action="store_true", help="also render the whole quarter")
    parser.add_argument("--skip-runner", action="store_true")
    parser.add_argument(
        "--runner-only", action="store_true", help="only `cchc report` (no in-process figures)"
    )
    parser.add_argument(
        "--runs", type=int, default=1, help="repeat each `cchc report` run; print medians"
    )
    parser.add_argument(
        "--keep-warm",
        action="store_true",
        help="also time runs that take over the workers the run before left warm "
        "(`cchc report --keep-warm`): the first report's start with a warm kernel",
    )
    args = parser.parse_args()
    data = args.data.resolve()
    jobs = unit_jobs(data, args.period)
    codes = [code for code, _kind in jobs]
    level = jobs[0][1] if jobs else "commune"  # district reports before the reform
    figures: dict[str, Any] = {"period": args.period, "communes": len(codes), "runs": args.runs}

    if not args.runner_only:
        sections = in_process(data, args.period, codes, args.repeats, level)
        figures["in_process"] = sections
        print(f"imports of the report stack: {sections['imports_s']:.2f} s")
        _print_sections(f"{level} report, first in the process", sections["unit_first"])
        _print_sections(f"{level} report, warm (median of {args.repeats})", sections["unit_warm"])
        _print_sections("province overview, first", sections["province_first"])
        _print_sections("province overview, warm", sections["province_warm"])
        warm_cells = sum(sections["unit_warm"].values())
        print(
            f"\n{level} cell time {warm_cells:.2f} s: {warm_cells / TARGET_CELLS_S:.2f}x "
            f"the {TARGET_CELLS_S} s target"
        )

    if not args.skip_runner:
        few = repeated(
            lambda: cchc_report(data, args.period, codes[: args.reports], args.workers), args.runs
        )
        figures["runner"] = few
        overhead = few["unit_overhead_median"]
        print(
            f"\ncchc report, {few['reports']} reports (communes and the overview), "
            f"{args.workers} workers: "
            f"{few['wall_s']:.1f} s wall, {few['wall_s'] / max(few['reports'], 1):.2f} s/report"
        )
        print(
            f"  per report after each worker's first: {few['unit_seconds_median']:.2f} s "
            f"(cells {few['unit_cells_median']:.2f} s, overhead "
            f"{overhead:.2f} s: {overhead / TARGET_OVERHEAD_S:.2f}x the {TARGET_OVERHEAD_S} s "
            "target)"
        )
        print(f"  each worker's first report: {few['first_reports_seconds']}")
        _print_starts(few, args.runs)
    if args.keep_warm:
        # One run leaves its workers warm; each timed run takes them over and leaves them
        # again (they exit a minute after the last).
        def warm_run() -> dict[str, Any]:
            return cchc_report(data, args.period, codes[: args.reports], args.workers, 60.0)

        warm_run()
        warm = repeated(warm_run, args.runs)
        figures["runner_warm"] = warm
        print(
            f"\ncchc report --keep-warm, {warm['reports']} reports, {args.workers} workers "
            f"taken over from the run before: {warm['wall_s']:.1f} s wall"
            + ("" if warm["took_over_warm_workers"] else " (NO warm worker was taken over)")
        )
        _print_starts(warm, args.runs)
    if args.all:
        whole = repeated(lambda: cchc_report(data, args.period, None, args.workers), args.runs)
        figures["quarter"] = whole
        print(
            f"\ncchc report, whole quarter ({whole['reports']} reports + index): "
            f"{whole['wall_s']:.1f} s wall{' (median)' * (args.runs > 1)}: "
            f"{whole['wall_s'] / TARGET_PROVINCE_S:.2f}x the {TARGET_PROVINCE_S:.0f} s target"
        )
        _print_starts(whole, args.runs)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "bench_reports.json").write_text(json.dumps(figures, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
