"""Time ``cchc ingest`` on a demo partition exported as a one-stop system would export it.

Usage: ``python bench/bench_ingest.py [--district 314] [--format csv|xlsx] [--limit N]``.
Exports the demo dossiers of one district (both tiers) with Vietnamese headers, labels and
dd/mm/yyyy dates, then runs the installed ``cchc ingest`` twice into a temporary folder: a
fresh ingest (validation, partitions, cube) and a re-ingest of the same file (everything a
duplicate). Prints rows, seconds and rows/s for each.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from ingest_helpers import export_dossiers_vi  # noqa: E402

from cchc_analysis.demo import synth  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--district", default="314")
    parser.add_argument("--format", choices=["csv", "xlsx"], default="csv")
    parser.add_argument("--limit", type=int, default=None, help="first N rows only")
    args = parser.parse_args()
    frame = synth.generate_dossiers(district_codes=[args.district])
    if args.limit:
        frame = frame.head(args.limit)
    export = export_dossiers_vi(frame)
    cchc = Path(sys.executable).parent / "cchc"
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        source = Path(tmp) / f"export.{args.format}"
        if args.format == "csv":
            export.to_csv(source, index=False, encoding="utf-8-sig")
        else:
            export.to_excel(source, index=False, sheet_name="Hồ sơ")
        size = source.stat().st_size
        print(f"rows          {len(export):,}")
        print(f"file          {args.format}, {size / 1e6:.1f} MB")
        for label in ("ingest", "re-ingest"):
            started = time.perf_counter()
            proc = subprocess.run(
                [cchc, "ingest", source, "--kind", "dossiers", "--out", Path(tmp) / "out"],
                capture_output=True,
                text=True,
            )
            seconds = time.perf_counter() - started
            if proc.returncode not in (0, 1):
                raise SystemExit(proc.stderr)
            print(f"{label:<13} {seconds:.1f} s, {len(export) / seconds:,.0f} rows/s")


if __name__ == "__main__":
    main()
