"""Record what the product shows, to prove a refactor changed nothing.

    python tools/snapshot_outputs.py SNAPSHOT_DIR [--data data/demo] [--reports reports/demo]

Writes `cchc kpis` output (JSON and table) for every unit, level and tier of three periods,
and the demo's rendered HTML with run-specific values (timestamps, seconds, input hashes)
blanked. Compare two snapshots with `diff -r BEFORE AFTER`.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from pathlib import Path

PERIODS = ("2023-Q3", "2024-H1", "2025-04")
QUERIES = (
    ("district-both", ["--level", "district", "--tier", "both"]),
    ("district-district", ["--level", "district", "--tier", "district"]),
    ("district-commune", ["--level", "district", "--tier", "commune"]),
    ("district-fields", ["--level", "district", "--by-field"]),
    ("commune", ["--level", "commune"]),
    ("era2025-province", ["--level", "province", "--era", "2025"]),
    ("era2025-commune", ["--level", "commune", "--era", "2025"]),
)
# Values that differ between two runs of the same code on the same data.
VOLATILE = (
    re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?"),
    re.compile(r"\b\d{2}/\d{2}/\d{4} \d{2}:\d{2}\b"),
    re.compile(r"\b[0-9a-f]{16}\b"),
    re.compile(r'"seconds": [0-9.]+|"cells_seconds": [0-9.]+'),
    re.compile(r"cell-id=[0-9a-f]{8}\b"),  # papermill's injected-parameters cell
)


def _blank(text: str) -> str:
    for pattern in VOLATILE:
        text = pattern.sub("<volatile>", text)
    return text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--data", default="data/demo")
    parser.add_argument("--reports", default="reports/demo")
    args = parser.parse_args()
    out = Path(args.out)
    shutil.rmtree(out, ignore_errors=True)
    (out / "kpis").mkdir(parents=True)
    cchc = str(Path(sys.executable).with_name("cchc"))
    for period in PERIODS:
        for name, options in QUERIES:
            for fmt in ("json", "table"):
                command = [cchc, "kpis", "--data", args.data, "--period", period, *options]
                done = subprocess.run(
                    [*command, "--format", fmt], capture_output=True, text=True, check=False
                )
                target = out / "kpis" / f"{period}-{name}.{fmt}"
                target.write_text(f"exit {done.returncode}\n{done.stdout}{done.stderr}")
    for html in sorted(Path(args.reports).rglob("*.html")):
        target = out / "html" / html.relative_to(args.reports)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(_blank(html.read_text(encoding="utf-8")), encoding="utf-8")
    print(f"snapshot in {out}: {sum(1 for _ in out.rglob('*') if _.is_file())} files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
