"""``cchc demo``: the calibrated demo province end to end (data, cube, reports).

Generates the demo data folder only when it holds no dossiers yet (an existing folder is used
as it is), brings its cube up to date, then renders the 2025-Q2 reports with the batch runner.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from cchc_analysis import store
from cchc_analysis.batch.runner import render_reports
from cchc_analysis.core.periods import parse_period
from cchc_analysis.counting.prepare import prepare_folder
from cchc_analysis.demo.synth import generate_demo

DEMO_PERIOD = "2025-Q2"  # the latest complete quarter of the demo data


def run_demo(
    data_dir: Path = Path("data/demo"),
    reports_dir: Path = Path("reports/demo"),
    workers: int | None = None,
    lang: str = "vi",
) -> dict[str, Any]:
    """Generate the demo data if absent, build the cube, render the 2025-Q2 reports."""

    if not store.has_dossiers(data_dir):
        started = time.perf_counter()
        print(f"generating demo data into {data_dir} ...", file=sys.stderr, flush=True)
        summary = generate_demo(data_dir)
        print(
            f"demo data: {summary.get('dossier_rows', '?'):,} dossiers in "
            f"{time.perf_counter() - started:.1f} s",
            file=sys.stderr,
        )
    prepare_folder(data_dir)
    out = reports_dir / DEMO_PERIOD
    manifest = render_reports(data_dir, parse_period(DEMO_PERIOD), out, workers=workers, lang=lang)
    ok = sum(r["status"] == "ok" for r in manifest["reports"])
    print(
        f"{ok}/{len(manifest['reports'])} reports in {manifest['seconds']:.1f} s -> "
        f"{out / 'index.html'}"
    )
    return manifest
