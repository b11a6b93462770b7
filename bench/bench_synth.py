"""Time ``synth.generate_demo`` for the whole demo province (the brief: under 60 s).

Usage: ``python bench/bench_synth.py [--seed N] [--districts 314,317] [--keep DIR]``.
Writes into a temporary folder (removed afterwards unless ``--keep`` is given) and prints
rows, seconds, rows/s and the size on disk, plus the time of each step.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from cchc_analysis.demo import synth
from cchc_analysis.demo.catalogue import check_districts
from cchc_analysis.store.dossiers import write_dossiers


def folder_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=synth.DEFAULT_SEED)
    parser.add_argument("--districts", default=None, help="comma-separated district codes")
    parser.add_argument("--keep", default=None, help="write here and keep the folder")
    parser.add_argument("--steps", action="store_true", help="also time generate vs write")
    args = parser.parse_args()
    codes = args.districts.split(",") if args.districts else None

    check_districts(codes)  # warm the unit registry (a one-off cost of any session)
    with tempfile.TemporaryDirectory(prefix="bench-synth-") as tmp:
        out = Path(args.keep) if args.keep else Path(tmp) / "demo"
        started = time.perf_counter()
        summary = synth.generate_demo(out, seed=args.seed, district_codes=codes)
        seconds = time.perf_counter() - started
        size = folder_size(out)
        rows = summary["dossier_rows"]
        print(f"districts     {len(summary['district_codes'])}")
        print(f"units         {summary['unit_count']}")
        print(f"dossier rows  {rows:,}")
        print(f"survey rows   {summary['survey_rows']:,}")
        print(f"seconds       {seconds:.1f}")
        print(f"rows/s        {rows / seconds:,.0f}")
        print(f"on disk       {size / 2**20:.1f} MB")
        if args.steps:
            t0 = time.perf_counter()
            frame = synth.generate_dossiers(args.seed, codes)
            t1 = time.perf_counter()
            write_dossiers(frame, Path(tmp) / "again")
            t2 = time.perf_counter()
            print(f"  generate_dossiers {t1 - t0:.1f} s, write_dossiers {t2 - t1:.1f} s")


if __name__ == "__main__":
    main()
