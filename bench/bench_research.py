"""Benchmark: issue 15's task b, the top-10 procedures by late dossiers for a province-year.

    .venv/bin/python bench/bench_research.py                    # 6 Hải Phòng districts
    .venv/bin/python bench/bench_research.py --districts 303,304 --year 2024

Data: a demo folder generated for some districts of Hải Phòng
(``demo.synth.generate_demo(path, district_codes=...)``, under bench/out/research-<codes>/,
kept between runs) with its cube. Each way runs in a fresh process; the figures are the
wall time of the question (imports, interpreter start and the one-time load of the unit
registry excluded; the registry's load is printed apart) and the process's peak resident
memory (VmHWM):

* before: main's path, the cube functions on the province's dossier rows in pandas
  (``store.read_dossiers`` of the era-2024 areas, ``counting.cube.period_counts`` by
  procedure_code), as explore.ipynb did it;
* after: ``cchc.open(data).kpis(year, level="province", units="Hải Phòng", by="procedure")``
  (DuckDB over the Parquet files, the Biểu 06 macro);
* after, engine="python": the front door's pandas reference path (same numbers).

The three top-10 tables are checked equal. Figures go to stdout and bench/out/bench_research.json.

Measured 2026-12-02 on the shared 2-core machine (load average 11-14), year 2024:

    1.7M dossiers (6 districts, 18 MB):   before 4.1 s / 713 MB   after 1.8 s / 334 MB
    4.7M dossiers (15 districts, 50 MB):  before 16.8 s / 1573 MB after 2.4 s / 343 MB
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchdata import OUT  # noqa: E402

COMMON = """
import json, sys, time
data, year = sys.argv[1], sys.argv[2]
import pandas as pd
from cchc_analysis import units
started = time.perf_counter()
units.units_table("2024"), units.units_table("2025")  # the registry, once per process
registry_seconds = time.perf_counter() - started
"""
BEFORE = (
    COMMON
    + """
from cchc_analysis import store
from cchc_analysis.core.periods import parse_period
from cchc_analysis.counting.cube import COUNT_READ_COLUMNS, period_counts
started = time.perf_counter()
areas = [a for a in store.dossier_areas(data) if a.startswith("2024-")]
frame = store.read_dossiers(data, areas=areas, columns=[*COUNT_READ_COLUMNS, "procedure_code"])
counts = period_counts(frame, parse_period(year), by=["procedure_code"])
top = counts.nlargest(10, "resolved_late_count")
seconds = time.perf_counter() - started
rows = len(frame)
"""
)
AFTER = (
    COMMON
    + """
import cchc_analysis as cchc
import cchc_analysis.research  # the front door's modules (imported on first use otherwise)
engine = sys.argv[3]
started = time.perf_counter()
wb = cchc.open(data)
table = wb.kpis(year, level="province", units="Hải Phòng", by="procedure", engine=engine)
top = table.nlargest(10, "resolved_late_count")
seconds = time.perf_counter() - started
rows = None
"""
)
# VmHWM: this process's own peak (ru_maxrss would carry the parent's across fork and exec).
REPORT = """
peak_kb = next(int(line.split()[1]) for line in open("/proc/self/status")
               if line.startswith("VmHWM:"))
print(json.dumps({
    "seconds": seconds,
    "registry_seconds": registry_seconds,
    "peak_mb": peak_kb / 1024,
    "dossier_rows_read": rows,
    "top": top[["procedure_code", "resolved_late_count", "received_total_count",
                "carried_over_count", "pending_total_count"]].astype(str).values.tolist(),
}))
"""


def folder(districts: list[str]) -> Path:
    """The bench folder for these districts, generated and prepared once."""
    from cchc_analysis.counting.prepare import prepare_folder
    from cchc_analysis.demo import synth

    path = OUT / f"research-{'-'.join(districts)}"
    if not (path / "cube.parquet").exists():
        synth.generate_demo(path, district_codes=districts)
        prepare_folder(path)
    return path


def run(script: str, *args: str) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", script + REPORT, *args], capture_output=True, text=True, check=True
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--districts", default="", help="district codes (default: 6 of 31)")
    parser.add_argument("--year", default="2024")
    args = parser.parse_args()
    from cchc_analysis.demo.catalogue import province_districts

    districts = args.districts.split(",") if args.districts else province_districts("31")[:6]
    data = folder(sorted(districts))
    info = json.loads((data / "dataset.json").read_text(encoding="utf-8"))
    size_mb = sum(p.stat().st_size for p in data.rglob("*.parquet")) / 2**20
    print(
        f"folder {data}: {info['dossier_rows']:,} dossiers, {len(districts)} districts "
        f"({', '.join(districts)}), {size_mb:.0f} MB of Parquet; question: {args.year}"
    )
    figures = {
        "before (cube functions, pandas)": run(BEFORE, str(data), args.year),
        "after (cchc.open().kpis, DuckDB)": run(AFTER, str(data), args.year, "duckdb"),
        "after (engine='python')": run(AFTER, str(data), args.year, "python"),
    }
    tops = [f["top"] for f in figures.values()]
    if any(top != tops[0] for top in tops):
        sys.exit(f"the three paths disagree: {tops}")
    for name, figure in figures.items():
        print(
            f"{name:34s} {figure['seconds']:7.2f} s   peak {figure['peak_mb']:7.0f} MB"
            f"   (registry load {figure['registry_seconds']:.1f} s, not counted)"
        )
    print("top-10 tables identical (code, late, received, carried over, pending)")
    out = {
        "folder": str(data),
        "dossier_rows": info["dossier_rows"],
        "parquet_mb": round(size_mb, 1),
        "districts": districts,
        "year": args.year,
        "figures": {
            k: {"seconds": v["seconds"], "peak_mb": v["peak_mb"]} for k, v in figures.items()
        },
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "bench_research.json").write_text(json.dumps(out, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
