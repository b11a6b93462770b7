"""The built unit registry kept on disk between processes.

Building a registry era (official names, matching keys) takes about a second, and every ``cchc``
command that reads a unit pays it: a national ingest, each report runner. The records it builds
depend only on the package's database and on the code that builds them, so they are written
once to a JSON file named by a hash of both, and read back (a few milliseconds) by every later
process. A new package version or a change to the naming code gives another name: a stale file
is never read. Nothing here is needed: a cache folder that cannot be written, or a file that
cannot be read, only means the records are built again.

Where: ``$CCHC_CACHE_DIR``, else ``$XDG_CACHE_HOME/cchc_analysis``, else
``~/.cache/cchc_analysis``; ``CCHC_CACHE_DIR=none`` turns the cache off.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Final

OFF: Final = "none"


def cache_dir() -> Path | None:
    """The folder of the cache files, or None when the cache is off."""
    chosen = os.environ.get("CCHC_CACHE_DIR")
    if chosen is not None:
        return None if chosen.strip().lower() in (OFF, "") else Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "cchc_analysis"


def fingerprint(paths: Iterable[Path]) -> str:
    """A hash of the files' bytes (the inputs and the code of what is cached)."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:20]


def cached_records(
    name: str, inputs: Iterable[Path], build: Callable[[], list[dict[str, Any]]]
) -> list[dict[str, Any]]:
    """``build()``'s records, read from the cache file of ``name`` and ``inputs`` when one
    exists, else built and written there (atomically; a failure to write is ignored)."""
    folder = cache_dir()
    if folder is None:
        return build()
    try:
        path = folder / f"{name}-{fingerprint(inputs)}.json"
    except OSError:
        return build()
    with contextlib.suppress(OSError, ValueError):
        records = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(records, list) and all(isinstance(r, dict) for r in records):
            return records
    records = build()
    with contextlib.suppress(OSError):
        folder.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{name}-", suffix=".tmp")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(records, out, ensure_ascii=False)
            os.replace(temporary, path)
        finally:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
    return records
