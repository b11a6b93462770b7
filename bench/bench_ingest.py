"""Time ``cchc ingest`` on an export as a one-stop system writes it.

Usage:

    python bench/bench_ingest.py --rows 1000000 [--repeat 2] [--keep DIR]
    python bench/bench_ingest.py --rows 20000000   # the peak-memory target (a 5.9 GB CSV)
    python bench/bench_ingest.py [--district 314] [--format csv|xlsx] [--limit N]

``--rows N``: a national-format CSV of N dossiers (MaHoSo, MaTTHC, NgayTiepNhan, ... with
codes, dd/MM/yyyy HH:mm:ss stamps and the personal columns ChuHoSo and TrichYeuHoSo; the demo's
Kiến Thụy dossiers tiled under new ids, :mod:`national_export`). The installed ``cchc ingest``
runs as its own process into an empty folder (validation, privacy, spool and snapshot upsert,
cube); its peak RSS is sampled. Then DuckDB's bare CSV -> Parquet on the same file (read_csv,
the five dates parsed, COPY TO parquet): the ceiling of a reader with no checks. Prints rows/s,
peak MB, CPU seconds (user + system of the process and its children), DuckDB's seconds and
the ratio. Best of ``--repeat`` runs. ``--stages``: one more run, in this process, with the
wall and CPU seconds (``time.process_time``) of each stage (read, validate, spool, settle,
write, cube, the unit registry) timed around the functions that do them. CPU seconds are the
figure to compare on a shared machine: wall seconds wait for the other processes.

Without ``--rows``: the demo dossiers of one district exported with Vietnamese labels and
dd/mm/yyyy dates, ingested fresh and again (everything a duplicate).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from ingest_helpers import export_dossiers_vi  # noqa: E402
from national_export import DATE_FORMAT, write_national_csv  # noqa: E402

CCHC = Path(sys.executable).parent / "cchc"
DATE_COLUMNS = ("NgayNopHoSo", "NgayTiepNhan", "NgayHenTra", "NgayKetThucXuLy", "NgayTra")


def _children_cpu() -> float:
    """User + system CPU seconds of this process's children that have ended."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_ingest(source: Path, out: Path) -> tuple[float, float, int, str]:
    """(wall seconds, CPU seconds, peak RSS bytes, last line of the summary) of one
    ``cchc ingest``."""
    args = [str(CCHC), "ingest", str(source), "--kind", "dossiers", "--out", str(out)]
    cpu_before = _children_cpu()
    started = time.perf_counter()
    proc = subprocess.Popen(
        [*args, "--as-of", "2025-06-30"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    handle = psutil.Process(proc.pid)
    peak = 0
    while proc.poll() is None:
        try:
            rss = handle.memory_info().rss
            rss += sum(c.memory_info().rss for c in handle.children(recursive=True))
            peak = max(peak, rss)
        except psutil.NoSuchProcess:
            break
        time.sleep(0.05)
    stdout, stderr = proc.communicate()
    seconds = time.perf_counter() - started
    cpu_seconds = _children_cpu() - cpu_before  # the child is waited for: its whole time
    if proc.returncode not in (0, 1):
        raise SystemExit(stderr)
    totals = [line for line in stdout.splitlines() if line.startswith("total:")]
    return seconds, cpu_seconds, peak, totals[-1] if totals else ""


def duckdb_bare(source: Path, target: Path) -> float:
    """Seconds of DuckDB's CSV -> Parquet with the dates parsed, nothing checked."""
    import duckdb

    dates = ", ".join(f"try_strptime({c}, '{DATE_FORMAT}') AS {c}" for c in DATE_COLUMNS)
    started = time.perf_counter()
    with duckdb.connect() as con:
        con.execute("SET enable_progress_bar = false")
        con.execute(
            f"COPY (SELECT * REPLACE ({dates}) FROM read_csv('{source}', all_varchar = true)) "
            f"TO '{target}' (FORMAT parquet)"
        )
    return time.perf_counter() - started


# (label, module, attribute): the functions each stage's seconds are measured around.
STAGES = (
    ("unit registry", "cchc_analysis.units.registry", "cached_records"),
    ("validate", "cchc_analysis.ingest.tabular", "validate_dossiers"),
    ("spool rows", "cchc_analysis.ingest.spool", "DossierSpool.add"),
    ("settle", "cchc_analysis.ingest.spool", "DossierSpool.classify"),
    ("write store", "cchc_analysis.ingest.spool", "DossierSpool.write"),
    ("cube", "cchc_analysis.counting.prepare", "prepare_folder"),
    ("read + validate + spool", "cchc_analysis.ingest.run", "read_files"),
)


def stage_seconds(source: Path, out: Path) -> dict[str, tuple[float, float]]:
    """One ``cchc ingest`` in this process: (wall, CPU) seconds spent in each of
    :data:`STAGES`, and in all (``total``). CPU is ``time.process_time`` (every thread)."""
    import importlib
    from unittest import mock

    from cchc_analysis import cli

    wall = dict.fromkeys([label for label, _, _ in STAGES], 0.0)
    cpu = dict(wall)
    patches = []
    for label, module_name, attribute in STAGES:
        owner: object = importlib.import_module(module_name)
        *path, name = attribute.split(".")
        for part in path:
            owner = getattr(owner, part)
        original = getattr(owner, name)

        def timed(*a: object, _f: object = original, _label: str = label, **k: object) -> object:
            started, started_cpu = time.perf_counter(), time.process_time()
            try:
                return _f(*a, **k)  # type: ignore[operator]
            finally:
                wall[_label] += time.perf_counter() - started
                cpu[_label] += time.process_time() - started_cpu

        patches.append(mock.patch.object(owner, name, timed))
    started, started_cpu = time.perf_counter(), time.process_time()
    with contextlib.ExitStack() as stack:
        for patch in patches:
            stack.enter_context(patch)
        args = [str(source), "--kind", "dossiers", "--out", str(out), "--as-of", "2025-06-30"]
        with contextlib.redirect_stdout(io.StringIO()):
            cli.main(["ingest", *args])
    wall["total"] = time.perf_counter() - started
    cpu["total"] = time.process_time() - started_cpu
    return {label: (wall[label], cpu[label]) for label in wall}


def national(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-ingest-", dir=args.tmp) as tmp:
        folder = Path(args.keep or tmp)
        folder.mkdir(parents=True, exist_ok=True)
        source = folder / f"dongbo-{args.rows}.csv"
        if not source.exists():
            write_national_csv(source, args.rows)
        print(f"rows          {args.rows:,} (national format)")
        print(f"file          csv, {source.stat().st_size / 1e6:.1f} MB")
        best, best_cpu, peak_max, line = float("inf"), float("inf"), 0, ""
        for _ in range(args.repeat):
            out = Path(tmp) / "out"
            shutil.rmtree(out, ignore_errors=True)
            seconds, cpu_seconds, peak, line = run_ingest(source, out)
            best, peak_max = min(best, seconds), max(peak_max, peak)
            best_cpu = min(best_cpu, cpu_seconds)
            print(
                f"  ingest      {seconds:.1f} s, {args.rows / seconds:,.0f} rows/s; "
                f"CPU {cpu_seconds:.1f} s, {args.rows / cpu_seconds:,.0f} rows/CPU-s, "
                f"peak {peak / 1e6:,.0f} MB"
            )
        bare = min(duckdb_bare(source, Path(tmp) / "bare.parquet") for _ in range(args.repeat))
        print(
            f"ingest        {best:.1f} s, {args.rows / best:,.0f} rows/s, "
            f"peak {peak_max / 1e6:,.0f} MB"
        )
        print(f"ingest CPU    {best_cpu:.1f} s, {args.rows / best_cpu:,.0f} rows/CPU-s")
        print(f"              {line}")
        print(f"duckdb bare   {bare:.1f} s, {args.rows / bare:,.0f} rows/s")
        print(f"ratio         ingest takes {best / bare:.1f}x DuckDB's bare CSV -> Parquet")
        if args.stages:
            out = Path(tmp) / "out"
            shutil.rmtree(out, ignore_errors=True)
            spent = stage_seconds(source, out)
            read = tuple(
                spent["read + validate + spool"][i] - spent["validate"][i] - spent["spool rows"][i]
                for i in (0, 1)
            )
            wall_total, cpu_total = spent["total"]
            print(
                f"stages        (one run in this process: {wall_total:.1f} s wall, "
                f"{cpu_total:.1f} s CPU)"
            )
            print(f"  read CSV    {read[0]:.1f} s, CPU {read[1]:.1f} s (reading, header, blank")
            print("              and foot lines)")
            for label in ("validate", "spool rows", "settle", "write store", "cube"):
                print(f"  {label:<11} {spent[label][0]:.1f} s, CPU {spent[label][1]:.1f} s")
            registry = spent["unit registry"]
            print(f"  (registry   {registry[0]:.1f} s, CPU {registry[1]:.1f} s, inside validate)")


def district(args: argparse.Namespace) -> None:
    from cchc_analysis.demo import synth

    frame = synth.generate_dossiers(district_codes=[args.district])
    if args.limit:
        frame = frame.head(args.limit)
    export = export_dossiers_vi(frame)
    with tempfile.TemporaryDirectory(prefix="bench-ingest-", dir=args.tmp) as tmp:
        source = Path(tmp) / f"export.{args.format}"
        if args.format == "csv":
            export.to_csv(source, index=False, encoding="utf-8-sig")
        else:
            export.to_excel(source, index=False, sheet_name="Hồ sơ")
        size = source.stat().st_size
        print(f"rows          {len(export):,}")
        print(f"file          {args.format}, {size / 1e6:.1f} MB")
        for label in ("ingest", "re-ingest"):
            seconds, cpu_seconds, peak, _ = run_ingest(source, Path(tmp) / "out")
            print(
                f"{label:<13} {seconds:.1f} s, {len(export) / seconds:,.0f} rows/s, "
                f"CPU {cpu_seconds:.1f} s, peak {peak / 1e6:,.0f} MB"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=None, help="national-format CSV of N rows")
    parser.add_argument("--repeat", type=int, default=1, help="runs; the best is printed")
    parser.add_argument("--keep", default=None, help="folder to keep the generated CSV in")
    parser.add_argument("--tmp", default=None, help="where temporary folders go")
    parser.add_argument("--district", default="314")
    parser.add_argument("--format", choices=["csv", "xlsx"], default="csv")
    parser.add_argument("--limit", type=int, default=None, help="first N rows only")
    parser.add_argument("--stages", action="store_true", help="seconds per stage (--rows)")
    args = parser.parse_args()
    if args.rows:
        national(args)
    else:
        district(args)


if __name__ == "__main__":
    main()
