"""Writing one rendered report: its HTML and, in ``<report>_bang/`` beside it, its tables as
CSV and XLSX (:mod:`cchc_analysis.reports.downloads`).

Like every file of a run, nothing is written in place: the tables go to a temporary folder,
which then takes the old folder's place, and the HTML is renamed over the old page. A run
killed at any moment leaves the old report with its tables, or the new tables beside a page
whose links name the same files (names are stable), never a half-written file; the next run
removes what the killed one left (``manifest.clean_stale_temporaries``). A re-rendered report
replaces its whole folder, so a table it no longer has leaves no stale file behind.
"""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

from cchc_analysis.batch.manifest import write_atomic
from cchc_analysis.reports.downloads import extract_downloads, tables_folder


def write_report(out_dir: Path, file: str, page: str, lang: str) -> list[str]:
    """Write report ``file`` (its rendered ``page``) and its table files into ``out_dir``;
    return the table files' paths relative to ``out_dir`` (for the manifest)."""
    page, files = extract_downloads(page, file, lang)
    folder = out_dir / tables_folder(file)
    tag = f"{os.getpid()}.{threading.get_ident()}"
    staged = folder.with_name(f".{folder.name}.{tag}.tmp")
    retired = folder.with_name(f".{folder.name}.{tag}.old.tmp")
    try:
        if files:
            staged.mkdir()
            for relative, content in files.items():
                _write_synced(out_dir / staged.name / Path(relative).name, content)
        if folder.exists():
            folder.rename(retired)
        if files:
            staged.rename(folder)
    except BaseException:
        if retired.exists() and not folder.exists():
            retired.rename(folder)  # the old report keeps its tables
        shutil.rmtree(staged, ignore_errors=True)
        raise
    write_atomic(out_dir / file, page)
    shutil.rmtree(retired, ignore_errors=True)
    return sorted(files)


def _write_synced(path: Path, content: bytes) -> None:
    with open(path, "wb") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
