"""Benchmark (c): one district report's time with the data set at 1x and 10x its size.

    .venv/bin/python bench/bench_scale.py

Two ways to be ten times larger: ten times the dossiers in the same 15 districts (tiled, new
ids, dates shifted by days), and ten times the districts (150: the demo's partitions copied
under other provinces' district codes). The report timed is Kiến Thụy's (314) for 2025-Q2, on a
warm kernel (An Lão's report runs first on the same worker), median of three runs; its wall
time and the cells' own time are both shown. Figures go to stdout and bench/out/bench_scale.json.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchdata import OUT, demo_dir, rows_in, tiled, with_districts  # noqa: E402

PERIOD = "2025-Q2"
UNIT = "314"
REPEATS = 3


def time_report(data: Path) -> dict:
    from cchc_analysis.batch.runner import render_reports
    from cchc_analysis.core.periods import parse_period
    from cchc_analysis.counting.prepare import prepare_folder

    prepare_folder(data)
    walls, cells = [], []
    for _ in range(REPEATS):
        with tempfile.TemporaryDirectory(prefix="cchc-scale-") as tmp:
            manifest = render_reports(
                data, parse_period(PERIOD), tmp, unit_codes=["313", UNIT], workers=1, quiet=True
            )
        [record] = [r for r in manifest["reports"] if r["unit_code"] == UNIT]
        assert record["status"] == "ok", record["error"]
        walls.append(record["seconds"])
        cells.append(record["cells_seconds"])
    return {
        "dossiers": rows_in(data),
        "districts": len(list((data / "dossiers").glob("area=2024-*"))),
        "cube_mb": round((data / "cube.parquet").stat().st_size / 2**20, 1),
        "report_s": round(statistics.median(walls), 3),
        "cells_s": round(statistics.median(cells), 3),
    }


def main() -> None:
    source = demo_dir()
    started = time.perf_counter()
    variants = {
        "1x": with_districts(source, OUT / "data-15", 0),
        "10x dossiers": tiled(source, OUT / "tiled-10x", 10 * rows_in(source)),
        "10x districts": with_districts(source, OUT / "data-150", 135),
    }
    print(f"data ready in {time.perf_counter() - started:.0f} s", flush=True)
    results = {}
    for name, data in variants.items():
        results[name] = time_report(data)
        print(f"{name:>14}: {json.dumps(results[name])}", flush=True)
    base = results["1x"]
    for name in ("10x dossiers", "10x districts"):
        row = results[name]
        row["ratio_report"] = round(row["report_s"] / base["report_s"], 2)
        row["ratio_cells"] = round(row["cells_s"] / base["cells_s"], 2)
        print(
            f"{name}: report {row['report_s']:.2f} s vs {base['report_s']:.2f} s -> "
            f"{row['ratio_report']:.2f}x (cells {row['ratio_cells']:.2f}x; target <= 1.2)"
        )
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "bench_scale.json").write_text(json.dumps(results, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
