"""What a cube file records about the dossiers it was counted from, so the next build counts
only the areas whose files changed.

A monthly snapshot of one province, or one province's export into the nation's folder, touches
a few hundred of the folder's areas; counting all 3,355 again after it cost minutes. The cube
file's footer holds, per area: a fingerprint of the area's dossier files (name, size,
modification time and inode of each), where its rows lie in the cube, its dossier count and its
latest date. An area's rows are taken over from the previous cube only when its fingerprint, the
counting rules (the source of the modules that count, and the holiday calendar's version) and
the month the cube runs to are all the same; anything else is counted again.
"""

from __future__ import annotations

import hashlib
import importlib
import json
from collections.abc import Mapping
from dataclasses import astuple, dataclass
from functools import cache
from importlib.metadata import version
from pathlib import Path
from typing import Any, Final

import pyarrow as pa
import pyarrow.parquet as pq

from cchc_analysis import store

RECORD_KEY: Final = b"cchc.cube_areas"
RECORD_FORMAT: Final = 1
# The modules whose code decides a cube row's counts: an edit to any makes every row stale.
RULE_MODULES: Final = (
    "cchc_analysis.core.schema",
    "cchc_analysis.core.metrics",
    "cchc_analysis.core.workdays",
    "cchc_analysis.counting.deadline766",
    "cchc_analysis.counting.cube",
    "cchc_analysis.counting.prepare",
)


@cache
def rules_digest() -> str:
    """A digest of the counting rules: the counting modules' source and the holiday calendar."""
    digest = hashlib.blake2b(digest_size=8)
    for name in RULE_MODULES:
        source = importlib.import_module(name).__file__
        assert source is not None
        digest.update(Path(source).read_bytes())
    digest.update(version("holidays").encode())
    return digest.hexdigest()


def area_fingerprint(data_dir: Path, area: str) -> str:
    """A digest of an area's dossier files as the file system describes them: any write to
    the area (a new part, a file rewritten or removed) changes it."""
    digest = hashlib.blake2b(digest_size=8)
    for path in store.area_files(data_dir, area):
        stat = path.stat()
        digest.update(f"{path.name}\0{stat.st_size}\0{stat.st_mtime_ns}\0{stat.st_ino}\n".encode())
    return digest.hexdigest()


@dataclass(frozen=True)
class AreaEntry:
    """One area in the cube: its files' fingerprint and where its rows lie."""

    fingerprint: str
    first_row: int
    cube_rows: int
    dossier_rows: int
    latest: str | None  # the area's latest received/resolved date (ISO), None without dates


@dataclass(frozen=True)
class CubeRecord:
    """The footer record of a cube file."""

    rules: str
    horizon_month: str | None  # the month the cube's rows run to ("2026-09")
    areas: Mapping[str, AreaEntry]

    def to_metadata(self) -> dict[bytes, bytes]:
        payload = {
            "format": RECORD_FORMAT,
            "rules": self.rules,
            "horizon_month": self.horizon_month,
            "areas": {area: astuple(entry) for area, entry in self.areas.items()},
        }
        return {RECORD_KEY: json.dumps(payload, separators=(",", ":")).encode()}


def read_record(cube_path: Path) -> CubeRecord | None:
    """The record in a cube file's footer; None when there is no file, no record (a cube
    written before records), a record of other rules, or one that cannot be read."""
    try:
        metadata = pq.read_metadata(cube_path).metadata or {}
        payload: dict[str, Any] = json.loads(metadata[RECORD_KEY])
        if payload.get("format") != RECORD_FORMAT or payload.get("rules") != rules_digest():
            return None
        areas = {area: AreaEntry(*values) for area, values in payload["areas"].items()}
        return CubeRecord(payload["rules"], payload["horizon_month"], areas)
    except (OSError, KeyError, TypeError, ValueError, pa.ArrowException):
        return None


class UnreadableCubeError(ValueError):
    """The previous cube's rows could not be read: count every area instead."""


class StoredRows:
    """Rows of a previous cube file read in the order they lie, one row group at a time, so
    taking over the areas of a cube larger than memory holds at most a few groups."""

    def __init__(self, path: Path) -> None:
        try:
            self._file = pq.ParquetFile(path)
        except (OSError, pa.ArrowException) as error:
            raise UnreadableCubeError(str(error)) from error
        self._next_group = 0
        self._held: list[pa.Table] = []  # the groups read and not yet passed
        self._held_start = self._held_end = 0  # the rows they span

    def take(self, first_row: int, row_count: int) -> pa.Table:
        """Rows [first_row, first_row + row_count) of the file; calls must come in increasing
        ``first_row``."""
        end = first_row + row_count
        while self._held_end < end and self._next_group < self._file.num_row_groups:
            try:
                table = self._file.read_row_group(self._next_group)
            except (OSError, pa.ArrowException) as error:
                raise UnreadableCubeError(f"row group {self._next_group}: {error}") from error
            self._next_group += 1
            self._held.append(table)
            self._held_end += table.num_rows
        while self._held and self._held_start + self._held[0].num_rows <= first_row:
            self._held_start += self._held.pop(0).num_rows  # passed: let it go
        if first_row < self._held_start or end > self._held_end:
            raise UnreadableCubeError(f"the cube file holds no rows {first_row}..{end} in order")
        return pa.concat_tables(self._held).slice(first_row - self._held_start, row_count)
