"""Benchmark (b): ingest and prepare throughput (rows/s) and peak memory at 1M, 5M, 20M dossiers.

    .venv/bin/python bench/bench_prepare.py                       # prepare at 1M, 5M, 20M
    .venv/bin/python bench/bench_prepare.py --sizes "" --ingest 1000000,5000000,20000000

Data: the demo's dossiers tiled (new ids, dates shifted by days) into the same 15 district
partitions, each partition in date order as the store writes it (bench/out/tiled-<rows>/).
Ingest reads that folder exported as one CSV (canonical headers) into an empty folder. Each
measurement runs in a fresh process; peak memory is that process's maximum resident set
(sampled every 50 ms for ingest, which is stopped if it passes --max-rss-gb). Figures go to
stdout and bench/out/bench_prepare.json.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchdata import OUT, demo_dir, tiled  # noqa: E402

BIN = Path(sys.executable).parent
PREPARE = """
import json, resource, sys, time
from cchc_analysis.counting import prepare
summary = prepare.prepare_cube(sys.argv[1])
summary["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(summary))
"""


def measure_prepare(data: Path) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", PREPARE, str(data)], capture_output=True, text=True, check=True
    )
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    return {
        "rows": summary["dossier_rows"],
        "seconds": round(summary["seconds"], 2),
        "rows_per_s": round(summary["rows_per_s"]),
        "peak_mb": round(summary["peak_mb"]),
        "cube_rows": summary["cube_rows"],
    }


def export_csv(data: Path, path: Path) -> int:
    """A one-stop export of the folder's dossiers (canonical headers), written batch by batch."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    rows = 0
    writer = None
    for part in sorted((data / "dossiers").glob("area=2024-*")):
        for file in sorted(part.glob("*.parquet")):
            for batch in pq.ParquetFile(file).iter_batches(batch_size=200_000):
                table = pa.Table.from_batches([batch])
                table = table.cast(pa.schema([(f.name, _plain(f.type)) for f in table.schema]))
                if writer is None:
                    writer = pacsv.CSVWriter(path, table.schema)
                writer.write_table(table)
                rows += table.num_rows
    writer.close()
    return rows


def _plain(kind):
    import pyarrow as pa

    return pa.string() if pa.types.is_dictionary(kind) else kind


def measure_ingest(csv: Path, out: Path, max_rss_gb: float) -> dict:
    """`cchc ingest` of one CSV into an empty folder, RSS sampled; stopped past the limit."""
    import psutil

    started = time.perf_counter()
    proc = subprocess.Popen(
        [str(BIN / "cchc"), "ingest", str(csv), "--kind", "dossiers", "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    peak = 0
    stopped = False
    done = threading.Event()

    def sample() -> None:
        nonlocal peak, stopped
        handle = psutil.Process(proc.pid)
        while not done.is_set():
            try:
                rss = sum(p.memory_info().rss for p in [handle, *handle.children(True)])
            except psutil.Error:
                break
            peak = max(peak, rss)
            if rss > max_rss_gb * 2**30:
                stopped = True
                proc.kill()
                break
            time.sleep(0.05)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    stdout, stderr = proc.communicate()
    done.set()
    thread.join()
    seconds = time.perf_counter() - started
    report_path = out / "ingest_report.json"
    rows = json.loads(report_path.read_text())["rows_read"] if report_path.exists() else None
    return {
        "rows": rows,
        "seconds": round(seconds, 2),
        "rows_per_s": round(rows / seconds) if rows else None,
        "peak_mb": round(peak / 2**20),
        "exit_code": proc.returncode,
        "stopped_over_memory_limit": stopped,
        "stderr_tail": stderr.strip().splitlines()[-1:] if proc.returncode else [],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", default="1000000,5000000,20000000", help="dossier counts for prepare"
    )
    parser.add_argument("--ingest", default="", help="dossier counts for ingest (CSV)")
    parser.add_argument("--max-rss-gb", type=float, default=12.0)
    args = parser.parse_args()

    source = demo_dir()
    results: dict = {"prepare": [], "ingest": []}
    for size in [int(s) for s in args.sizes.split(",") if s]:
        started = time.perf_counter()
        data = tiled(source, OUT / f"tiled-{size}", size)
        made = time.perf_counter() - started
        row = measure_prepare(data)
        row["generate_s"] = round(made, 1)
        results["prepare"].append(row)
        print(
            f"prepare {row['rows']:>11,} dossiers: {row['seconds']:6.1f} s, "
            f"{row['rows_per_s']:>10,} rows/s, peak {row['peak_mb']:,} MB "
            f"(data made in {made:.0f} s)",
            flush=True,
        )
    for size in [int(s) for s in args.ingest.split(",") if s]:
        import shutil
        import tempfile

        data = tiled(source, OUT / f"tiled-{size}", size)
        with tempfile.TemporaryDirectory(prefix="cchc-ingest-", dir=OUT) as tmp:
            csv = Path(tmp) / "export.csv"
            rows = export_csv(data, csv)
            row = measure_ingest(csv, Path(tmp) / "data", args.max_rss_gb)
            row["csv_mb"] = round(csv.stat().st_size / 2**20)
            shutil.rmtree(Path(tmp) / "data", ignore_errors=True)
        row["rows_in_csv"] = rows
        results["ingest"].append(row)
        print(
            f"ingest  {rows:>11,} dossiers: {row['seconds']:6.1f} s, "
            f"{row['rows_per_s'] or 0:>10,} rows/s, peak {row['peak_mb']:,} MB"
            + (" (stopped: over the memory limit)" if row["stopped_over_memory_limit"] else "")
            + (f" exit {row['exit_code']}" if row["exit_code"] else ""),
            flush=True,
        )
    if len(results["prepare"]) > 1:
        first, last = results["prepare"][0], results["prepare"][-1]
        print(
            f"prepare memory {first['peak_mb']} -> {last['peak_mb']} MB while dossiers grow "
            f"{last['rows'] / first['rows']:.0f}x (target: >= 1M rows/s, bounded memory)"
        )
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / "bench_prepare.json"
    saved = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    saved.update({k: v for k, v in results.items() if v})  # keep the other part's figures
    path.write_text(json.dumps(saved, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
