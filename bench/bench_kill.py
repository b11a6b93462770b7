"""Kill a real run halfway (by signal) and run it again: what is left, what is redone.

    .venv/bin/python bench/bench_kill.py --signal KILL
    .venv/bin/python bench/bench_kill.py --signal TERM

Renders the 30 districts of bench/out/data-30 once (the "previous good" reports), changes
every report's inputs (dataset.json, which every input hash covers), starts a second run,
sends the signal once half of the reports are rewritten, then checks every HTML file, the
manifest and the run's processes, and reruns. Prints what it saw.
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchdata import OUT, demo_dir, with_districts  # noqa: E402

BIN = Path(sys.executable).parent


def run(data: Path, out: Path, *extra: str) -> tuple[int, float]:
    started = time.perf_counter()
    proc = subprocess.run(
        [str(BIN / "cchc"), "report", "--data", str(data), "--period", "2025-Q2"]
        + ["--out", str(out), "--quiet", *extra],
        capture_output=True,
        text=True,
    )
    return proc.returncode, time.perf_counter() - started


def manifest(out: Path) -> dict:
    return json.loads((out / "manifest.json").read_text(encoding="utf-8"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--signal", choices=["KILL", "TERM", "INT"], default="KILL")
    args = parser.parse_args()
    signum = getattr(signal, f"SIG{args.signal}")

    from cchc_analysis.counting.prepare import prepare_folder

    data = with_districts(demo_dir(), OUT / "data-30", 15)
    prepare_folder(data)
    out = OUT / f"kill-{args.signal.lower()}"
    code, seconds = run(data, out)
    print(f"first run: exit {code}, {seconds:.1f} s, {len(manifest(out)['reports'])} reports")
    before = {p.name: p.stat().st_mtime_ns for p in out.glob("*.html")}

    # New inputs for every report: dataset.json is part of each report's input hash.
    info_path = data / "dataset.json"
    info = json.loads(info_path.read_text(encoding="utf-8"))
    info["bench_kill"] = time.time()
    info_path.write_text(json.dumps(info, ensure_ascii=False), encoding="utf-8")

    proc = subprocess.Popen(
        [str(BIN / "cchc"), "report", "--data", str(data), "--period", "2025-Q2"]
        + ["--out", str(out), "--quiet"],
        stderr=subprocess.PIPE,
        text=True,
    )
    started = time.perf_counter()
    half = len(before) // 2
    while True:
        rewritten = [n for n, t in before.items() if (out / n).stat().st_mtime_ns != t]
        if len(rewritten) >= half or proc.poll() is not None:
            break
        time.sleep(0.05)
    tree = psutil.Process(proc.pid).children(recursive=True)
    proc.send_signal(signum)
    _, stderr = proc.communicate(timeout=120)
    killed_after = time.perf_counter() - started
    time.sleep(3)
    alive = [p for p in tree if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    pages = sorted(out.glob("*.html"))
    whole = [p for p in pages if p.read_text(encoding="utf-8").rstrip().endswith("</html>")]
    temporaries = list(out.glob(".*.tmp"))
    record = manifest(out)
    redone = [n for n, t in before.items() if (out / n).stat().st_mtime_ns != t]
    print(
        f"second run, SIG{args.signal} after {killed_after:.1f} s: exit {proc.returncode}; "
        f"{len(redone)}/{len(before)} reports rewritten before the signal; "
        f"{len(whole)}/{len(pages)} HTML files whole (the rest: none truncated = "
        f"{len(whole) == len(pages)}); manifest parses, complete={record['complete']}; "
        f"{len(temporaries)} temporary files left; {len(alive)} of its {len(tree)} worker/kernel "
        f"processes still alive 3 s later; stderr: {stderr.strip()[-80:]!r}"
    )
    code, seconds = run(data, out)
    statuses: dict[str, int] = {}
    for r in manifest(out)["reports"]:
        statuses[r["status"]] = statuses.get(r["status"], 0) + 1
    print(
        f"rerun: exit {code}, {seconds:.1f} s, {statuses}; complete={manifest(out)['complete']}; "
        f"temporary files left: {len(list(out.glob('.*.tmp')))}"
    )


if __name__ == "__main__":
    main()
