"""Accepted dossier rows on disk while an ingest runs, and their de-duplication.

An export can hold more rows than memory. Ingest validates it chunk by chunk and hands each
chunk of accepted rows to a :class:`DossierSpool`, which writes the rows to a folder inside the
output folder, split by district, and each row's key and content hashes to hash buckets. Then
:meth:`DossierSpool.classify` settles every row as added, duplicate (same dossier id and same
content as a row before it, or in the folder) or conflict (same id, other content) one bucket
at a time, and :meth:`DossierSpool.write` adds the new rows to their area partitions as
new files in date order, never rewriting what is stored. Memory is bounded by one bucket, one
chunk and one run of new rows, plus one byte per row for its status.

Dossier ids are compared through two independent 64-bit hashes: a false match needs both to
collide, about 1e-26 for 20 million ids.
"""

from __future__ import annotations

import math
import os
import shutil
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Final, cast

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from cchc_analysis import store
from cchc_analysis.core.schema import DOSSIER_COLUMNS, coerce_dossiers

SPOOL_PREFIX: Final = ".ingest-"
BUCKET_ROWS: Final = 2_000_000  # rows per hash bucket: what one classification step holds
RUN_ROWS: Final = 500_000  # most new rows of one district sorted and written as one file
ADDED, DUPLICATE, CONFLICT = 0, 1, 2
STATUS_NAMES: Final = {ADDED: "added", DUPLICATE: "duplicate", CONFLICT: "conflict"}
_KEY_SALTS: Final = ("cchc.dossier.k1", "cchc.dossier.k2")  # 16 bytes each, as pandas wants
_HASH_COLUMNS: Final = ("k1", "k2", "h", "seq")


def key_hashes(ids: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Two independent 64-bit hashes of each dossier id."""
    values = ids.astype("string").fillna("")
    return tuple(  # type: ignore[return-value]
        pd.util.hash_pandas_object(values, index=False, hash_key=salt.ljust(16)[:16]).to_numpy()
        for salt in _KEY_SALTS
    )


def content_hash(frame: pd.DataFrame) -> np.ndarray:
    """One 64-bit hash per row over every canonical column (same values, same hash, whatever
    the categories of a categorical column)."""
    if frame.empty:
        return np.zeros(0, dtype=np.uint64)
    return pd.util.hash_pandas_object(frame[list(DOSSIER_COLUMNS)], index=False).to_numpy()


def remove_stale_spools(out: Path) -> None:
    """Spool folders left by an ingest that was killed (its process is gone)."""
    for folder in out.glob(f"{SPOOL_PREFIX}*"):
        try:
            pid = int(folder.name[len(SPOOL_PREFIX) :])
            os.kill(pid, 0)
        except (ValueError, ProcessLookupError):
            shutil.rmtree(folder, ignore_errors=True)
        except PermissionError:
            pass  # another user's live process


def _chunk_number(path: Path) -> int:
    """Spool files are named f<file>-c<chunk>; chunks number the rows in file order."""
    return int(path.stem.rsplit("-c", 1)[1])


class DossierSpool:
    """Accepted dossier rows of one ingest run, kept on disk until they are written."""

    def __init__(self, out: Path, expected_rows: int) -> None:
        self.out = Path(out)
        self.out.mkdir(parents=True, exist_ok=True)
        remove_stale_spools(self.out)
        self.root = self.out / f"{SPOOL_PREFIX}{os.getpid()}"
        shutil.rmtree(self.root, ignore_errors=True)
        self.root.mkdir()
        self.bucket_count = max(1, math.ceil(expected_rows / BUCKET_ROWS))
        self.row_count = 0  # sequence number of the next row: file order, row order
        self.ranges: dict[int, tuple[int, int]] = {}  # file index -> [first seq, end seq)
        self.status = np.zeros(0, dtype=np.int8)
        self.conflicts: dict[int, int] = {}  # seq -> the row it repeats (see ``row_of``)
        self._existing_areas: list[str] = []
        self._existing_starts = np.zeros(1, dtype=np.int64)
        self._chunk = 0

    # --- filling --------------------------------------------------------------------------

    def add(self, file_index: int, frame: pd.DataFrame) -> None:
        """Spool one chunk: canonical dossier rows plus ``_pos`` and ``_row`` in their file."""
        first = self.row_count
        start = self.ranges.get(file_index, (first, first))[0]
        self.row_count += len(frame)
        self.ranges[file_index] = (start, self.row_count)
        if frame.empty:
            return
        seq = np.arange(first, self.row_count, dtype=np.int64)
        tag = f"f{file_index}-c{self._chunk}"
        self._chunk += 1
        k1, k2 = key_hashes(frame["dossier_id"])
        self._write_hashes(tag, k1, k2, content_hash(frame), seq)
        rows = frame[list(DOSSIER_COLUMNS)].reset_index(drop=True)
        rows["_seq"] = seq
        rows["_pos"] = frame["_pos"].to_numpy(dtype=np.int64)
        rows["_row"] = frame["_row"].to_numpy(dtype=np.int64)
        areas = store.row_areas(rows).to_numpy()
        for area in pd.unique(areas):
            folder = self.root / "rows" / f"area={area}"
            folder.mkdir(parents=True, exist_ok=True)
            part = rows[areas == area]
            pq.write_table(pa.Table.from_pandas(part, preserve_index=False), folder / f"{tag}.pq")

    def discard(self, file_index: int) -> None:
        """Forget what one file spooled (it is being read again from the start)."""
        for path in self.root.glob(f"*/*/f{file_index}-c*.pq"):
            path.unlink()
        self.ranges.pop(file_index, None)

    def _write_hashes(
        self, tag: str, k1: np.ndarray, k2: np.ndarray, h: np.ndarray, seq: np.ndarray
    ) -> None:
        bucket = (k1 % np.uint64(self.bucket_count)).astype(np.int64)
        for b in np.unique(bucket):
            chosen = bucket == b
            folder = self.root / "hashes" / f"b={b}"
            folder.mkdir(parents=True, exist_ok=True)
            table = pa.table(
                {"k1": k1[chosen], "k2": k2[chosen], "h": h[chosen], "seq": seq[chosen]}
            )
            pq.write_table(table, folder / f"{tag}.pq")

    # --- settling -------------------------------------------------------------------------

    def classify(self) -> None:
        """Status of every spooled row against the rows before it and the folder's dossiers."""
        index = 0
        starts = []
        self._existing_areas = store.dossier_areas(self.out)
        for area in self._existing_areas:
            starts.append(index)
            for number, frame in enumerate(store.iter_dossier_batches(self.out, area)):
                k1, k2 = key_hashes(frame["dossier_id"])
                seq = -(np.arange(index, index + len(frame), dtype=np.int64) + 1)
                self._write_hashes(f"existing-{area}-{number}", k1, k2, content_hash(frame), seq)
                index += len(frame)
        self._existing_starts = np.array([*starts, index], dtype=np.int64)
        self.status = np.full(self.row_count, ADDED, dtype=np.int8)
        for folder in sorted((self.root / "hashes").glob("b=*")):
            table = ds.dataset(folder, format="parquet").to_table(columns=list(_HASH_COLUMNS))
            k1, k2, h, seq = (table[c].to_numpy() for c in _HASH_COLUMNS)
            order = np.lexsort((seq, k2, k1))  # by key, then existing rows, then file order
            k1, k2, h, seq = k1[order], k2[order], h[order], seq[order]
            starts_group = np.ones(len(seq), dtype=bool)
            starts_group[1:] = (k1[1:] != k1[:-1]) | (k2[1:] != k2[:-1])
            first = np.maximum.accumulate(np.where(starts_group, np.arange(len(seq)), 0))
            later = (seq >= 0) & ~starts_group
            same = h == h[first]
            self.status[seq[later & same]] = DUPLICATE
            conflicting = later & ~same
            self.status[seq[conflicting]] = CONFLICT
            self.conflicts.update(
                zip(seq[conflicting].tolist(), seq[first[conflicting]].tolist(), strict=True)
            )

    def file_counts(self, file_index: int) -> Counter[str]:
        """added / duplicate / conflict counts of one file's accepted rows."""
        start, end = self.ranges.get(file_index, (0, 0))
        values, counts = np.unique(self.status[start:end], return_counts=True)
        return Counter({STATUS_NAMES[int(v)]: int(c) for v, c in zip(values, counts, strict=True)})

    def conflict_rows(self) -> tuple[pd.DataFrame, Callable[[int], tuple[pd.Series, int | None]]]:
        """The conflicting rows (index ``_seq``, with ``_pos``, ``_row``, ``_file``) and a
        lookup from a reference to (that row, its file index or None for the folder)."""
        wanted = set(self.conflicts) | {r for r in self.conflicts.values() if r >= 0}
        batch = self._spooled_rows(wanted)
        existing = self._existing_rows(sorted(-r - 1 for r in self.conflicts.values() if r < 0))
        starts = {start: index for index, (start, end) in self.ranges.items() if end > start}
        ordered = sorted(starts)

        def file_of(seq: int) -> int:
            return starts[ordered[int(np.searchsorted(ordered, seq, side="right")) - 1]]

        def lookup(reference: int) -> tuple[pd.Series, int | None]:
            if reference < 0:
                return existing[-reference - 1], None
            # _seq labels are unique, so one label selects one row (a Series).
            return cast(pd.Series, batch.loc[reference]), file_of(reference)

        frame = batch.loc[sorted(self.conflicts)] if self.conflicts else batch.iloc[:0]
        frame = frame.assign(_file=[file_of(int(s)) for s in frame.index])
        return frame, lookup

    def _spooled_rows(self, seqs: Iterable[int]) -> pd.DataFrame:
        seqs = sorted(seqs)
        folder = self.root / "rows"
        if not seqs or not folder.is_dir():
            return pd.DataFrame(columns=[*DOSSIER_COLUMNS, "_pos", "_row"])
        dataset = ds.dataset(folder, format="parquet", partitioning=None)
        frame = dataset.to_table(filter=ds.field("_seq").isin(seqs)).to_pandas()
        out = coerce_dossiers(frame)
        out[["_pos", "_row"]] = frame[["_pos", "_row"]]
        out.index = frame["_seq"].to_numpy()
        return out

    def _existing_rows(self, indexes: list[int]) -> dict[int, pd.Series]:
        found: dict[int, pd.Series] = {}
        if not indexes:
            return found
        wanted = np.array(indexes, dtype=np.int64)
        partition = np.searchsorted(self._existing_starts, wanted, side="right") - 1
        for p in np.unique(partition):
            area = self._existing_areas[p]
            local = wanted[partition == p] - self._existing_starts[p]
            offset = 0
            for frame in store.iter_dossier_batches(self.out, area):
                inside = local[(local >= offset) & (local < offset + len(frame))]
                for i in inside:
                    found[int(i + self._existing_starts[p])] = frame.iloc[int(i - offset)]
                offset += len(frame)
        return found

    # --- writing --------------------------------------------------------------------------

    def added_count(self) -> int:
        return int((self.status == ADDED).sum()) if len(self.status) else 0

    def write(self) -> list[str]:
        """Add the new rows to their area partitions, in runs of at most
        :data:`RUN_ROWS` rows, each a new file in date order (:func:`store.append_dossiers`);
        the stored files are left as they are. Returns the areas written."""
        written = []
        for folder in sorted((self.root / "rows").glob("area=*")):
            code = folder.name.split("=", 1)[1]
            pieces: list[pd.DataFrame] = []
            pending = 0
            for path in sorted(folder.glob("*.pq"), key=_chunk_number):
                frame = pq.read_table(path).to_pandas()
                keep = self.status[frame["_seq"].to_numpy()] == ADDED
                if keep.any():
                    pieces.append(frame[keep])
                    pending += int(keep.sum())
                if pending >= RUN_ROWS:
                    self._append(pieces)
                    pieces, pending = [], 0
                    written.append(code)
            if pieces:
                self._append(pieces)
                written.append(code)
        return sorted(set(written))

    def _append(self, pieces: list[pd.DataFrame]) -> None:
        added = pd.concat(pieces, ignore_index=True)
        store.append_dossiers(coerce_dossiers(added), self.out)

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
