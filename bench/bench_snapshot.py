"""A monthly snapshot into a long history: rows/s and peak memory, and a killed snapshot ingest.

    .venv/bin/python bench/bench_snapshot.py [--history 3000000] [--snapshot 1000000]
        [--tmp DIR] [--keep DIR [--repeat N]] [--only-upsert]

Builds a history of ``--history`` dossiers (the demo's Kiến Thụy district, tiled under new
ids, stored as a snapshot of 31/05/2025 would have stored them: current rows and versions),
then a monthly snapshot of ``--snapshot`` rows exported as a one-stop system does (Vietnamese
headers, dd/mm/yyyy): 80% dossiers already held (one in eight of them changed: a channel
corrected), 20% new. Then, each ``cchc ingest --as-of 2025-06-30`` as a separate process whose
peak RSS is sampled:

1. the snapshot into an empty folder (what a first ingest costs);
2. the snapshot into the history (the upsert);
3. the snapshot into a copy of the history, killed (SIGKILL) while it writes; what the folder
   holds then; a rerun; and whether the result equals (2)'s.

``--keep DIR`` builds the history and the snapshot file once in ``DIR`` (a 20M-row history
takes many minutes) and runs each ingest on a copy of it (hard links: the store never changes a
file in place, it writes new files and renames), so a rerun costs only the ingests;
``--repeat N`` runs the upsert N times and prints the median.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from ingest_helpers import export_dossiers_vi  # noqa: E402

from cchc_analysis import store  # noqa: E402
from cchc_analysis.demo import synth  # noqa: E402
from cchc_analysis.ingest.spool import SPOOL_PREFIX, WRITING_MARKER  # noqa: E402

CCHC = Path(sys.executable).parent / "cchc"
HISTORY_DATE = pd.Timestamp("2025-05-31")


def build_history(base: pd.DataFrame, rows: int, out: Path) -> int:
    """``rows`` dossiers: the base tiled under new ids, as current rows and as versions."""
    written, tile = 0, 0
    while written < rows:
        part = base.head(rows - written).copy()
        part["dossier_id"] = part["dossier_id"].astype(str) + f"-t{tile}"
        part["exported_at"] = HISTORY_DATE
        part["source_file"] = "hoso-2025-05.csv"
        store.append_dossiers(part, out)
        store.append_dossiers(part, out, root=store.VERSIONS_DIR)
        written += len(part)
        tile += 1
    return written


def snapshot(base: pd.DataFrame, rows: int, held_tiles: int) -> pd.DataFrame:
    """80% held dossiers (one in eight with its channel corrected), 20% new."""
    held = int(rows * 0.8)
    pieces, tile = [], 0
    while sum(len(p) for p in pieces) < held:
        part = base.head(held - sum(len(p) for p in pieces)).copy()
        part["dossier_id"] = part["dossier_id"].astype(str) + f"-t{tile % held_tiles}"
        pieces.append(part)
        tile += 1
    frame = pd.concat(pieces, ignore_index=True)
    changed = frame.index % 8 == 0
    frame["channel"] = frame["channel"].astype("string")
    frame.loc[changed, "channel"] = (
        frame.loc[changed, "channel"].map({"online": "in_person"}).fillna("online")
    )
    new = base.head(rows - len(frame)).copy()
    new["dossier_id"] = new["dossier_id"].astype(str) + "-new"
    return pd.concat([frame, new], ignore_index=True)


def prepared(base: pd.DataFrame, args: argparse.Namespace, root: Path) -> tuple[Path, int]:
    """The history (``root/history``) and the snapshot file, built unless ``root`` holds them
    for these sizes already; returns the file and its row count."""
    done = root / f"built-{args.history}-{args.snapshot}"
    source = root / "hoso-2025-06.csv"
    if done.exists():
        rows = int(done.read_text(encoding="utf-8"))
        print(f"history       {args.history:,} dossiers (kept in {root})")
        print(f"snapshot      {rows:,} rows, {source.stat().st_size / 1e6:.0f} MB")
        return source, rows
    for stale in root.glob("built-*"):
        stale.unlink()
    shutil.rmtree(root / "history", ignore_errors=True)
    started = time.perf_counter()
    history = build_history(base, args.history, root / "history")
    print(f"history       {history:,} dossiers ({time.perf_counter() - started:.0f} s)")
    frame = snapshot(base, args.snapshot, held_tiles=max(1, args.history // len(base)))
    export_dossiers_vi(frame).to_csv(source, index=False, encoding="utf-8-sig")
    print(f"snapshot      {len(frame):,} rows, {source.stat().st_size / 1e6:.0f} MB")
    done.write_text(str(len(frame)), encoding="utf-8")
    return source, len(frame)


def linked_copy(source: Path, target: Path) -> None:
    """A copy of a data folder whose files are hard links to the source's."""
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source, target, copy_function=os.link)


def run_ingest(source: Path, out: Path, *, kill_when_writing: bool = False) -> dict:
    args = [str(CCHC), "ingest", str(source), "--kind", "dossiers", "--out", str(out)]
    started = time.perf_counter()
    proc = subprocess.Popen([*args, "--as-of", "2025-06-30"], stdout=subprocess.PIPE, text=True)
    handle = psutil.Process(proc.pid)
    peak = 0
    killed_after = None
    stored_versions = len(list((out / store.VERSIONS_DIR).rglob("part-*.parquet")))
    while proc.poll() is None:
        try:
            rss = handle.memory_info().rss
            rss += sum(c.memory_info().rss for c in handle.children(recursive=True))
            peak = max(peak, rss)
        except psutil.NoSuchProcess:
            break
        if kill_when_writing and (out / WRITING_MARKER).exists():
            versions = list((out / store.VERSIONS_DIR).rglob("part-*.parquet"))
            if len(versions) > stored_versions:  # new versions being written: kill it
                time.sleep(0.5)
                proc.send_signal(signal.SIGKILL)
                killed_after = time.perf_counter() - started
                proc.wait()
                break
        time.sleep(0.05)
    stdout = proc.communicate()[0] or ""
    return {
        "code": proc.returncode,
        "seconds": time.perf_counter() - started,
        "peak_mb": peak / 1e6,
        "killed_after": killed_after,
        "stdout": stdout,
    }


def folder_state(out: Path) -> dict:
    current = pd.read_parquet(out / store.DOSSIERS_DIR, columns=["dossier_id", "channel"])
    versions = pd.read_parquet(
        out / store.VERSIONS_DIR, columns=["dossier_id", "exported_at", "channel"]
    )
    return {
        "current_rows": len(current),
        "current_ids": current["dossier_id"].nunique(),
        "version_rows": len(versions),
        "repeated_versions": int(
            versions.duplicated(["dossier_id", "exported_at", "channel"]).sum()
        ),
        "online_current": int((current["channel"] == "online").sum()),
        "marker": (out / WRITING_MARKER).exists(),
        "spool": [p.name for p in out.glob(f"{SPOOL_PREFIX}*")],
        "tmp_files": len(list(out.rglob("*.tmp"))),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--history", type=int, default=3_000_000)
    parser.add_argument("--snapshot", type=int, default=1_000_000)
    parser.add_argument("--tmp", default=None, help="work folder (default: a temporary one)")
    parser.add_argument(
        "--keep", default=None, help="folder that keeps the built history for the next run"
    )
    parser.add_argument("--repeat", type=int, default=1, help="upserts to run (median)")
    parser.add_argument("--only-upsert", action="store_true", help="skip steps 1 and 3")
    args = parser.parse_args()
    base = synth.generate_dossiers(district_codes=["314"], new_era=False)
    with tempfile.TemporaryDirectory(prefix="bench-snapshot-", dir=args.tmp) as tmp:
        kept = Path(args.keep) if args.keep else Path(tmp)
        kept.mkdir(parents=True, exist_ok=True)
        source, rows = prepared(base, args, kept)
        root = Path(tmp)
        if not args.only_upsert:
            fresh = run_ingest(source, root / "fresh")
            print(
                f"empty folder  {fresh['seconds']:.1f} s, {rows / fresh['seconds']:,.0f} "
                f"rows/s, peak RSS {fresh['peak_mb']:,.0f} MB (exit {fresh['code']})"
            )
        trials = []
        for _ in range(max(1, args.repeat)):
            linked_copy(kept / "history", root / "upsert")
            upsert = run_ingest(source, root / "upsert")
            trials.append(upsert)
            print(
                f"into history  {upsert['seconds']:.1f} s, {rows / upsert['seconds']:,.0f} "
                f"rows/s, peak RSS {upsert['peak_mb']:,.0f} MB (exit {upsert['code']})"
            )
        if len(trials) > 1:
            seconds = statistics.median(t["seconds"] for t in trials)
            peak = statistics.median(t["peak_mb"] for t in trials)
            print(
                f"median        {seconds:.1f} s, {rows / seconds:,.0f} rows/s, "
                f"peak RSS {peak:,.0f} MB ({len(trials)} upserts)"
            )
        for line in trials[-1]["stdout"].splitlines():
            if line.startswith(("dossiers:", "hoso-")):
                print(f"              {line}")
        expected = folder_state(root / "upsert")
        print(f"result        {expected}")
        if args.only_upsert:
            return

        linked_copy(kept / "history", root / "killed")
        before = folder_state(root / "killed")
        killed = run_ingest(source, root / "killed", kill_when_writing=True)
        print(f"killed        after {killed['killed_after']} s (exit {killed['code']})")
        print(f"left behind   {folder_state(root / 'killed')}")
        print(f"(before:      {before})")
        rerun = run_ingest(source, root / "killed")
        print(
            f"rerun         {rerun['seconds']:.1f} s (exit {rerun['code']}): "
            f"{folder_state(root / 'killed')}"
        )
        same = {k: v for k, v in folder_state(root / "killed").items()} == expected
        print(f"rerun equals the uninterrupted ingest: {same}")


if __name__ == "__main__":
    main()
