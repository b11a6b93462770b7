"""Benchmark (a): 30 district reports, this runner against the naive loop.

The naive loop is what one writes first: per district, the papermill CLI, then the
`jupyter nbconvert` CLI, on the same notebook. The per-report overhead is a report's wall time
minus the cells' own execution time that papermill records, beside the floor: one bare
kernel start and shutdown.

    .venv/bin/python bench/bench_runner.py            # 30 districts, 2 workers (the cores)
    .venv/bin/python bench/bench_runner.py --naive 10 # time the naive loop on 10 of them

Data: the demo province's 15 districts plus 15 districts of the neighbouring provinces whose
partitions are copies of the demo's (bench/out/data-30/). Figures go to stdout and
bench/out/bench_runner.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchdata import OUT, ROOT, demo_dir, with_districts  # noqa: E402

BIN = Path(sys.executable).parent
PERIOD = "2025-Q2"


def kernel_floor(repeats: int = 3) -> float:
    """Median seconds of one bare kernel start (until it answers) and shutdown."""
    from jupyter_client import KernelManager

    from cchc_analysis.batch.execute import kernel_name

    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        km = KernelManager(kernel_name=kernel_name())
        km.start_kernel()
        kc = km.client()
        kc.start_channels()
        kc.wait_for_ready(timeout=60)
        kc.stop_channels()
        km.shutdown_kernel(now=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def cells_seconds(path: Path) -> float:
    nb = json.loads(path.read_text(encoding="utf-8"))
    return sum(
        float(c.get("metadata", {}).get("papermill", {}).get("duration") or 0) for c in nb["cells"]
    )


def naive_loop(data: Path, codes: list[str], out: Path) -> dict:
    """papermill CLI then jupyter nbconvert CLI per district, one after the other."""
    from cchc_analysis.batch.execute import kernel_name

    notebook = ROOT / "notebooks" / "district_report.ipynb"
    out.mkdir(parents=True, exist_ok=True)
    per_report, cells = [], []
    started = time.perf_counter()
    for code in codes:
        t0 = time.perf_counter()
        executed = out / f"{code}.ipynb"
        subprocess.run(
            [str(BIN / "papermill"), str(notebook), str(executed), "-k", kernel_name()]
            + ["-p", "unit_code", code, "-p", "period", PERIOD, "-p", "data_dir", str(data)]
            + ["--no-progress-bar"],
            check=True,
            capture_output=True,
        )
        subprocess.run(
            [str(BIN / "jupyter"), "nbconvert", "--to", "html", "--no-input", "--no-prompt"]
            + [str(executed)],
            check=True,
            capture_output=True,
        )
        per_report.append(time.perf_counter() - t0)
        cells.append(cells_seconds(executed))
    total = time.perf_counter() - started
    return {
        "reports": len(codes),
        "wall_s": round(total, 2),
        "per_report_s": round(total / len(codes), 3),
        "cells_s_mean": round(statistics.mean(cells), 3),
        "overhead_s_mean": round(
            statistics.mean(p - c for p, c in zip(per_report, cells, strict=True)), 3
        ),
    }


def this_runner(data: Path, codes: list[str], out: Path, workers: int) -> dict:
    from cchc_analysis.batch.runner import render_reports
    from cchc_analysis.core.periods import parse_period

    started = time.perf_counter()
    manifest = render_reports(
        data, parse_period(PERIOD), out, unit_codes=codes, workers=workers, quiet=True, force=True
    )
    total = time.perf_counter() - started
    reports = manifest["reports"]
    assert all(r["status"] == "ok" for r in reports), [r["error"] for r in reports]
    districts = [r for r in reports if r["kind"] == "district"]
    overhead = [r["seconds"] - r["cells_seconds"] for r in districts]
    # Seen from the batch: worker-seconds spent per report beyond the cells' own time
    batch_overhead = (total * workers - sum(r["cells_seconds"] for r in reports)) / len(reports)
    return {
        "reports": len(reports),
        "district_reports": len(districts),
        "workers": workers,
        "wall_s": round(total, 2),
        "per_report_s": round(total / len(reports), 3),
        "cells_s_mean": round(statistics.mean(r["cells_seconds"] for r in districts), 3),
        "overhead_s_mean": round(statistics.mean(overhead), 3),
        "overhead_s_median": round(statistics.median(overhead), 3),
        "overhead_s_first_per_worker": round(max(overhead), 3),
        "batch_overhead_s_per_report": round(batch_overhead, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--districts", type=int, default=30)
    parser.add_argument("--naive", type=int, default=None, help="districts for the naive loop")
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args()

    from cchc_analysis import store
    from cchc_analysis.batch.pool import default_workers
    from cchc_analysis.counting.prepare import prepare_folder

    data = with_districts(demo_dir(), OUT / "data-30", max(0, args.districts - 15))
    prepare_folder(data)
    codes = store.dossier_partitions(data)[: args.districts]
    workers = args.workers or default_workers()
    naive_codes = codes[: args.naive or len(codes)]
    print(f"{len(codes)} districts, period {PERIOD}, {workers} workers", flush=True)

    floor = kernel_floor()
    print(f"floor: bare kernel start + shutdown {floor:.2f} s", flush=True)
    with tempfile.TemporaryDirectory(prefix="cchc-bench-") as tmp:
        ours = this_runner(data, codes, Path(tmp) / "runner", workers)
        print(f"this runner: {json.dumps(ours)}", flush=True)
        naive = naive_loop(data, naive_codes, Path(tmp) / "naive")
        print(f"naive loop:  {json.dumps(naive)}", flush=True)
    naive_total_30 = naive["per_report_s"] * len(codes)
    speedup = naive_total_30 / ours["wall_s"] * ours["reports"] / len(codes)
    result = {
        "districts": len(codes),
        "floor_kernel_start_shutdown_s": round(floor, 3),
        "runner": ours,
        "naive": naive,
        "speedup_per_report": round(naive["per_report_s"] / ours["per_report_s"], 2),
        "speedup_30_reports": round(speedup, 2),
    }
    print(
        f"\nper report: runner {ours['per_report_s']:.2f} s, naive {naive['per_report_s']:.2f} s"
        f" -> {result['speedup_per_report']:.1f}x faster (target >= 5x on 4 reports, "
        ">= 15x on 30)\n"
        f"overhead per report (wall - cells): runner {ours['overhead_s_mean']:.2f} s mean "
        f"({ours['overhead_s_median']:.2f} median, first on each worker "
        f"{ours['overhead_s_first_per_worker']:.2f}), naive {naive['overhead_s_mean']:.2f} s; "
        f"floor {floor:.2f} s (target <= 1.0 s)"
    )
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "bench_runner.json").write_text(json.dumps(result, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
