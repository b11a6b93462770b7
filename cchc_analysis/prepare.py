"""``cchc prepare``: build the monthly cube from a folder's dossiers.

This is the only step whose cost grows with the raw rows; reports then read the cube (for
trends and the province table) and their own district's partition (for exact period counts).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pandas as pd

from . import store
from .cube import build_cube
from .kpis import COUNT_READ_COLUMNS


def prepare_cube(data_dir: str | os.PathLike) -> dict[str, Any]:
    """Build ``cube.parquet`` one district partition at a time (bounded memory)."""
    started = time.perf_counter()
    path = store.check_data_dir(data_dir)
    codes = store.dossier_partitions(path)
    horizon = data_horizon(path, codes)
    parts = []
    rows = 0
    for code in codes:
        frame = store.read_dossiers(path, [code], columns=COUNT_READ_COLUMNS)
        rows += len(frame)
        parts.append(build_cube(frame, horizon=horizon))
    cube = pd.concat(parts, ignore_index=True) if parts else build_cube(pd.DataFrame())
    target = store.write_table(cube, path, store.CUBE_FILE)
    return {
        "dossier_rows": rows,
        "cube_rows": len(cube),
        "seconds": time.perf_counter() - started,
        "path": str(target),
    }


def data_horizon(data_dir: Path, codes: list[str]) -> pd.Timestamp | None:
    """The last date in the folder's dossiers (the export date), read from two columns only,
    so every partition's cube runs to the same month."""
    latest = None
    for code in codes:
        frame = store.read_dossiers(data_dir, [code], columns=["received_at", "resolved_at"])
        for column in ("received_at", "resolved_at"):
            value = frame[column].max()
            if pd.notna(value) and (latest is None or value > latest):
                latest = value
    return latest


def cube_is_current(data_dir: str | os.PathLike) -> bool:
    """True when the cube exists and is newer than every dossier partition file."""
    path = Path(data_dir)
    cube = path / store.CUBE_FILE
    if not cube.exists():
        return False
    newest = max(
        (p.stat().st_mtime for p in (path / store.DOSSIERS_DIR).glob("*/*.parquet")),
        default=0.0,
    )
    return cube.stat().st_mtime >= newest


def ensure_cube(data_dir: str | os.PathLike) -> None:
    """Build the cube when it is missing or older than the dossiers."""
    if store.has_dossiers(data_dir) and not cube_is_current(data_dir):
        prepare_cube(data_dir)
