"""Benchmark (issue 14, downloads): what writing the tables as files beside a report saves.

Reads a folder of reports rendered with the tables inline (data: links, as the kernel emits
them and as runs before issue 14 wrote them), runs the runner's extraction
(``reports.downloads.extract_downloads``) on each page in memory, and prints per page type
the HTML bytes before and after, the table files' bytes and the extraction's milliseconds
(best of ``--repeat``). Nothing is written.

    .venv/bin/python bench/bench_downloads.py reports/demo/2026-Q3
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cchc_analysis.reports.downloads import extract_downloads  # noqa: E402


def measure(page: Path, lang: str, repeat: int) -> tuple[int, int, int, int, float]:
    text = page.read_text(encoding="utf-8")
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        after, files = extract_downloads(text, page.name, lang)
        best = min(best, time.perf_counter() - started)
    before_bytes = len(text.encode("utf-8"))
    return before_bytes, len(after.encode("utf-8")), len(files), sum(map(len, files.values())), best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--lang", default="vi")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    pages = sorted(p for p in args.folder.glob("*.html") if p.name != "index.html")
    if not pages:
        raise SystemExit(f"cchc: error: no report in {args.folder}")
    rows = {p.name: measure(p, args.lang, args.repeat) for p in pages}
    inline = [n for n, r in rows.items() if r[2]]
    if not inline:
        raise SystemExit("cchc: error: these reports carry no inline tables (already extracted)")
    overview = [n for n in inline if n.startswith("province-")]
    units = [n for n in inline if n not in overview]
    print(f"{'page':<36} {'html before':>12} {'html after':>11} {'saved':>7} "
          f"{'files':>6} {'file bytes':>11} {'ms':>7}")  # fmt: skip
    for name in [*overview, *([statistics.median_low(units)] if units else [])]:
        before, after, count, size, seconds = rows[name]
        print(
            f"{name:<36} {before:>12,} {after:>11,} {1 - after / before:>7.1%} "
            f"{count:>6} {size:>11,} {seconds * 1000:>7.1f}"
        )
    if units:
        before = sum(rows[n][0] for n in units)
        after = sum(rows[n][1] for n in units)
        ms = statistics.median(rows[n][4] * 1000 for n in units)
        print(
            f"{len(units)} unit reports: {before:,} -> {after:,} bytes "
            f"({1 - after / before:.1%} smaller); extraction median {ms:.1f} ms per report"
        )


if __name__ == "__main__":
    main()
