"""Accepted dossier rows on disk while an ingest runs, and the upsert of a snapshot.

An export can hold more rows than memory. Ingest validates it chunk by chunk and hands each
chunk of accepted rows to a :class:`DossierSpool`, which writes the rows to a folder inside the
output folder, split by area, and each row's key and content hashes to hash buckets. Then
:meth:`DossierSpool.classify` adds the folder's current rows that share a dossier id with a row
of the run (the others cannot change) to the buckets and settles every row one bucket at a time,
against the other rows of the run and those current rows, ordered by snapshot date (each file's
``exported_at``):

- added: a dossier id the folder does not hold;
- unchanged (``duplicate``): the same content as the version before it (nothing is written);
- updated: other content in a snapshot as new as the current row or newer: it becomes the
  current row, the one it replaces stays in the versions' store;
- corrected: an update that takes a dossier from a closed status back to an open one (kept as
  the current row, as any update, and listed in the ingest report);
- older: other content from a snapshot older than the current row: kept as a version only;
- conflict: one file giving one dossier id twice with different content (rejected).

:meth:`DossierSpool.write` then writes, in this order, so that a killed run loses nothing and a
rerun completes it: (1) every new version to ``dossier_versions/`` (new files), (2) the new
current rows to ``dossiers/`` (new files; copies of the files of (1) when they are the same
rows), (3) the replaced rows out of their files in ``dossiers/`` (each file rewritten under a
temporary name, one row group at a time, then renamed). A marker file says a write is under
way; a run that finds a dead run's marker checks every version against the stored ones, so none
is stored twice, and a dossier found twice among the current rows (killed between (2) and (3))
keeps its newest row. Memory is bounded by one bucket, one chunk, one row group and one run of
new rows, plus a few bytes per row of the run (not of the history: a month's snapshot into years
of dossiers holds what the month touches).

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
from typing import Any, Final, cast

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.feather as feather
import pyarrow.parquet as pq

from cchc_analysis import store
from cchc_analysis.core.schema import (
    CLOSED_WITHOUT_RESULT_STATUSES,
    DOSSIER_COLUMNS,
    RESULT_STATUSES,
    coerce_dossiers,
)
from cchc_analysis.ingest.stored_match import (
    KEY_SALTS,
    RUN_IDS_LIMIT,
    KeySet,
    RunMatch,
)

SPOOL_PREFIX: Final = ".ingest-"
WRITING_MARKER: Final = ".snapshot-writing"  # present while (or if killed while) writing
BUCKET_ROWS: Final = 2_000_000  # rows per hash bucket: what one classification step holds
STORED_BATCH_ROWS: Final = 500_000  # stored rows read at once when hashing the folder's rows
RUN_ROWS: Final = 250_000  # most new rows of one area sorted and written as one file (~80 MB)
ADDED, DUPLICATE, CONFLICT, UPDATED, CORRECTED, OLDER = 0, 1, 2, 3, 4, 5
STATUS_NAMES: Final = {
    ADDED: "added",
    DUPLICATE: "duplicate",
    CONFLICT: "conflict",
    UPDATED: "updated",
    CORRECTED: "corrected",
    OLDER: "older",
}
CLOSED_STATUSES: Final = RESULT_STATUSES | CLOSED_WITHOUT_RESULT_STATUSES
NO_DATE: Final = np.iinfo(np.int64).min  # a row stored before snapshots were dated (NaT)
_HASH_COLUMNS: Final = ("k1", "k2", "h", "seq", "t", "c")
# Spool files live for one run and are read back whole, by this process: Arrow IPC files
# (Feather v2), uncompressed. Writing and reading them costs a copy of the buffers (Parquet
# cost 3x more to write: encoding, pages, statistics) and they give back the Arrow types
# written, dictionaries included (LZ4 makes them smaller but costs more CPU).
SPOOL_SUFFIX: Final = ".arrow"
SPOOL_FORMAT: Final = "ipc"


def _write_spool(table: pa.Table, path: Path) -> None:
    feather.write_feather(table, path, compression="uncompressed")


def _read_spool(path: Path, columns: list[str] | None = None) -> pa.Table:
    return feather.read_table(path, columns=columns, memory_map=False)


def key_hashes(ids: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Two independent 64-bit hashes of each dossier id: ``pd.util.hash_pandas_object`` of
    the ids as text (a missing id as ""), salted. Ids are distinct, so they are hashed one by
    one (``categorize=False``, the same value per id) from one array of Python strings."""
    return _salted_hashes(ids.astype("string").fillna("").to_numpy(dtype=object))


def _salted_hashes(texts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`key_hashes` of ids given as an array of Python strings."""
    return tuple(  # type: ignore[return-value]
        pd.util.hash_array(texts, hash_key=salt.ljust(16)[:16], categorize=False)
        for salt in KEY_SALTS
    )


def content_hash(frame: pd.DataFrame, *, id_texts: np.ndarray | None = None) -> np.ndarray:
    """One 64-bit hash per row over every canonical column (same values, same hash, whatever
    the categories of a categorical column): ``pd.util.hash_pandas_object`` of the columns.

    A stored row whose closing date is the date of the first snapshot showing it closed (set
    by :func:`close_on_snapshot`) hashes as the undated row of the export it came from, so the
    next snapshot showing it closed still is "unchanged" and keeps that first date.

    ``id_texts``: the dossier ids as Python strings (none missing), when the caller has them:
    the id column's hash is then taken from them, the value it would have anyway.
    """
    if frame.empty:
        return np.zeros(0, dtype=np.uint64)
    rows = frame[list(DOSSIER_COLUMNS)]
    if "is_closed_on_snapshot" in frame:
        stamped = frame["is_closed_on_snapshot"].to_numpy(dtype=bool)
        if stamped.any():
            rows = rows.copy()
            rows.loc[stamped, "resolved_at"] = pd.NaT
    if id_texts is None:
        return pd.util.hash_pandas_object(rows, index=False).to_numpy()
    columns = [
        pd.util.hash_array(id_texts, categorize=False)
        if name == "dossier_id"
        else pd.util.hash_pandas_object(rows[name], index=False).to_numpy()
        for name in DOSSIER_COLUMNS
    ]
    return _combine_hashes(columns)


def _combine_hashes(hashes: list[np.ndarray]) -> np.ndarray:
    """The row hash of a frame's column hashes (at least one), as ``pd.util.hash_pandas_object``
    combines them (CPython's tuple hash, in uint64 arithmetic)."""
    multiplier = np.uint64(1000003)
    out = np.zeros_like(hashes[0]) + np.uint64(0x345678)
    for number, values in enumerate(hashes):
        left = len(hashes) - number
        out ^= values
        out *= multiplier
        multiplier += np.uint64(82520 + left + left)
    return out + np.uint64(97531)


def is_closed(frame: pd.DataFrame) -> np.ndarray:
    """True for rows whose status is a closed one (resolved, returned, rejected, withdrawn)."""
    return frame["status"].isin(CLOSED_STATUSES).to_numpy(dtype=bool)


def close_on_snapshot(frame: pd.DataFrame, exported_at: pd.Series) -> pd.DataFrame:
    """A dossier closed without a result (withdrawn, stopped) and no closing date closes on the
    date of the snapshot that shows it closed: the first such snapshot, as an unchanged later
    one is not written again (see :func:`content_hash`)."""
    undated = frame["status"].isin(CLOSED_WITHOUT_RESULT_STATUSES) & frame["resolved_at"].isna()
    frame = frame.copy(deep=False)  # copy-on-write: only the columns changed below are copied
    frame["is_closed_on_snapshot"] = undated.to_numpy(dtype=bool)
    if undated.any():
        day = pd.to_datetime(exported_at).dt.normalize().astype("datetime64[ms]")
        frame.loc[undated, "resolved_at"] = day[undated]
    return frame


def _stamps(values: pd.Series) -> np.ndarray:
    """Snapshot dates as int64 milliseconds; a missing date (NaT) is :data:`NO_DATE`."""
    return np.asarray(values.to_numpy(dtype="datetime64[ms]").view(np.int64))


def _millis(stamp: pd.Timestamp | None) -> int:
    """A snapshot date as the int64 milliseconds the hash buckets sort by."""
    return NO_DATE if stamp is None or pd.isna(stamp) else int(pd.Timestamp(stamp).value // 10**6)


def bucket_count(run_rows: int, stored_rows: int, is_recovering: bool = False) -> int:
    """Hash buckets for a run of about ``run_rows`` rows into a folder of ``stored_rows``
    current rows, so that one bucket holds about :data:`BUCKET_ROWS` rows.

    A bucket holds the run's rows and the stored rows that share a key with one of them (at
    most one per dossier id): at most twice the run's rows, however long the history. After a
    run killed while writing every stored row is settled (see :meth:`DossierSpool.classify`)."""
    held = run_rows + stored_rows if is_recovering else 2 * run_rows
    return max(1, math.ceil(held / BUCKET_ROWS))


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
        self.recovering = (self.out / WRITING_MARKER).exists()  # a run died while writing
        stored_rows = (
            sum(
                pq.ParquetFile(path).metadata.num_rows
                for area in store.dossier_areas(self.out)
                for path in store.area_files(self.out, area)
            )
            if self.recovering
            else 0
        )
        self.bucket_count = bucket_count(expected_rows, stored_rows, self.recovering)
        self.row_count = 0  # sequence number of the next row: file order, row order
        self.ranges: dict[int, tuple[int, int]] = {}  # file index -> [first seq, end seq)
        self.exported: dict[int, pd.Timestamp] = {}  # file index -> its snapshot date
        self.names: dict[int, str] = {}  # file index -> its name, without folders
        self.status = np.zeros(0, dtype=np.int8)
        self.versioned = np.zeros(0, dtype=bool)  # the row is stored as a new version
        self.current = np.zeros(0, dtype=bool)  # the row becomes its dossier's current row
        self.superseded = np.zeros(0, dtype=np.int64)  # stored current rows it replaces
        # Content hashes of the rows whose stored versions are checked (see _check_versions),
        # by sequence number: only those, not 8 bytes for every row of the run.
        self._checked_seqs = np.zeros(0, dtype=np.int64)
        self._checked_hashes = np.zeros(0, dtype=np.uint64)
        self.conflicts: dict[int, int] = {}  # seq -> the row it repeats (see ``row_of``)
        self.changed_months: Counter[tuple[str, str]] = Counter()  # closed periods changed
        self._existing_files: list[tuple[str, Path, int, int]] = []  # area, file, first, rows
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
        ids = frame["dossier_id"]
        if ids.isna().any():  # never after validation; hashed as key_hashes does
            k1, k2 = key_hashes(ids)
            h = content_hash(frame)
        else:  # the ids made Python strings once, for their three hashes
            texts = ids.to_numpy(dtype=object)
            k1, k2 = _salted_hashes(texts)
            h = content_hash(frame, id_texts=texts)
        t = np.zeros(len(frame), dtype=np.int64)  # the file's date, known once it is read
        closed = is_closed(frame).astype(np.int8)
        self._write_hashes(tag, k1, k2, h, seq, t, closed)
        rows = frame[list(DOSSIER_COLUMNS)].reset_index(drop=True)
        rows["_seq"] = seq
        rows["_pos"] = frame["_pos"].to_numpy(dtype=np.int64)
        rows["_row"] = frame["_row"].to_numpy(dtype=np.int64)
        table = pa.Table.from_pandas(rows, preserve_index=False)
        areas = pc.dictionary_encode(store.row_area_array(rows))
        for number, area in enumerate(areas.dictionary.to_pylist()):
            folder = self.root / "rows" / f"area={area}"
            folder.mkdir(parents=True, exist_ok=True)
            part = table.filter(pc.equal(areas.indices, number))
            _write_spool(part, folder / f"{tag}{SPOOL_SUFFIX}")

    def discard(self, file_index: int) -> None:
        """Forget what one file spooled (it is being read again from the start)."""
        for path in self.root.glob(f"*/*/f{file_index}-c*{SPOOL_SUFFIX}"):
            path.unlink()
        self.ranges.pop(file_index, None)

    def set_snapshot(self, file_index: int, exported_at: pd.Timestamp, name: str) -> None:
        """The snapshot date of one file's rows (``--as-of``, its title, or its mtime)."""
        self.exported[file_index] = pd.Timestamp(exported_at)
        self.names[file_index] = name

    def _write_hashes(
        self,
        tag: str,
        k1: np.ndarray,
        k2: np.ndarray,
        h: np.ndarray,
        seq: np.ndarray,
        t: np.ndarray,
        closed: np.ndarray,
    ) -> None:
        bucket = (k1 % np.uint64(self.bucket_count)).astype(np.int64)
        for b in np.unique(bucket):
            chosen = bucket == b
            folder = self.root / "hashes" / f"b={b}"
            folder.mkdir(parents=True, exist_ok=True)
            columns = (k1, k2, h, seq, t, closed)
            table = pa.table({n: c[chosen] for n, c in zip(_HASH_COLUMNS, columns, strict=True)})
            _write_spool(table, folder / f"{tag}{SPOOL_SUFFIX}")

    # --- settling -------------------------------------------------------------------------

    def classify(self) -> None:
        """Status of every spooled row against the rows before it and the folder's current
        rows, in snapshot order (see the module docstring)."""
        self._hash_stored_rows()
        n = self.row_count
        file_millis = np.array(
            [_millis(self.exported.get(f)) for f in range(max(self.ranges, default=0) + 1)],
            dtype=np.int64,
        )
        self.status = np.full(n, ADDED, dtype=np.int8)
        self.versioned = np.zeros(n, dtype=bool)
        self.current = np.zeros(n, dtype=bool)
        superseded = [np.zeros(0, dtype=np.int64)]
        checked: list[tuple[np.ndarray, np.ndarray]] = []
        for folder in sorted((self.root / "hashes").glob("b=*")):
            table = ds.dataset(folder, format=SPOOL_FORMAT).to_table(columns=list(_HASH_COLUMNS))
            k1, k2, h, seq, t, closed = (table[c].to_numpy() for c in _HASH_COLUMNS)
            del table
            batch = seq >= 0
            fil = np.where(batch, self.files_of(np.where(batch, seq, 0)), -1)
            t = np.where(batch, file_millis[np.maximum(fil, 0)], t)
            # by key, then snapshot date (stored rows first), then file order
            order = np.lexsort((np.where(batch, seq, -seq), batch, t, k2, k1))
            superseded.append(
                self._settle(k1[order], k2[order], h[order], seq[order], closed[order], fil[order])
            )
            own = seq[batch]  # statuses of a bucket are final here: keep the hashes checked later
            is_checked = self.versioned[own] & ((self.status[own] == OLDER) | self.recovering)
            checked.append((own[is_checked], h[batch][is_checked]))
        self.superseded = np.sort(np.concatenate(superseded))
        if checked:
            seqs = np.concatenate([s for s, _ in checked])
            order = np.argsort(seqs)
            self._checked_seqs = seqs[order]
            self._checked_hashes = np.concatenate([d for _, d in checked])[order]
        self._check_versions()

    def files_of(self, seqs: np.ndarray) -> np.ndarray:
        """The file index of each spooled row (by sequence number): rows are numbered in file
        order, so a row's file is the range it falls in (no array of a number per row)."""
        spans = sorted((start, end, index) for index, (start, end) in self.ranges.items())
        if not spans:
            return np.zeros(len(seqs), dtype=np.int32)
        starts = np.array([start for start, _, _ in spans], dtype=np.int64)
        files = np.array([index for _, _, index in spans], dtype=np.int32)
        at = np.searchsorted(starts, np.asarray(seqs, dtype=np.int64), side="right") - 1
        return np.asarray(files[np.maximum(at, 0)])

    def _hash_stored_rows(self) -> None:
        """The folder's current rows into the hash buckets, numbered -1, -2, ... in file order.

        Only the rows whose dossier id the run gives too (``stored_match``) are hashed
        and spooled: a stored row no run row shares a key with stays current as it is. After a
        run killed while writing every row is, as a dossier may then be stored twice."""
        self._existing_files = []
        areas = store.dossier_areas(self.out)
        if not areas:
            return
        match = None
        if not self.recovering:
            ids = self._run_ids()  # the key hashes are read only when the ids are not held
            match = RunMatch(ids, None if ids is not None else KeySet(self._run_keys()))
        index = 0
        for area in areas:
            for number, path in enumerate(store.area_files(self.out, area)):
                first = index
                handle = pq.ParquetFile(path)
                wanted = None if match is None else match.rows_wanted(handle)
                if wanted is not None and not wanted.any():  # the ids only were read
                    index += handle.metadata.num_rows
                    self._existing_files.append((area, path, first, index - first))
                    continue
                for part, batch in enumerate(handle.iter_batches(batch_size=STORED_BATCH_ROWS)):
                    rows = np.arange(index, index + batch.num_rows, dtype=np.int64)
                    index += batch.num_rows
                    if wanted is not None:
                        chosen = wanted[rows - first]
                        if not chosen.any():
                            continue
                        batch = batch.filter(pa.array(chosen))
                        rows = rows[chosen]
                    frame = store.dossier_frame(batch.to_pandas(), area)
                    k1, k2 = key_hashes(frame["dossier_id"])
                    t = _stamps(frame["exported_at"])
                    closed = is_closed(frame).astype(np.int8)
                    tag = f"existing-{area}-{number}-{part}"
                    self._write_hashes(tag, k1, k2, content_hash(frame), -(rows + 1), t, closed)
                self._existing_files.append((area, path, first, index - first))

    def _run_ids(self) -> pa.Array | None:
        """The run's dossier ids, read back from the spooled rows; None past RUN_IDS_LIMIT."""
        if self.row_count > RUN_IDS_LIMIT:
            return None
        parts = [
            _read_spool(path, columns=["dossier_id"])["dossier_id"].combine_chunks()
            for path in (self.root / "rows").glob(f"area=*/f*{SPOOL_SUFFIX}")
        ]
        if not parts:
            return pa.array([], type=pa.large_string())
        return pa.concat_arrays([part.cast(pa.large_string()) for part in parts])

    def _run_keys(self) -> np.ndarray:
        """The sorted first key hashes of the run's rows (8 bytes a row)."""
        keys = [
            _read_spool(path, columns=["k1"])["k1"].to_numpy()
            for path in (self.root / "hashes").glob(f"b=*/f*{SPOOL_SUFFIX}")
        ]
        return np.unique(np.concatenate(keys)) if keys else np.zeros(0, dtype=np.uint64)

    def _settle(
        self,
        k1: np.ndarray,
        k2: np.ndarray,
        h: np.ndarray,
        seq: np.ndarray,
        closed: np.ndarray,
        fil: np.ndarray,
    ) -> np.ndarray:
        """One bucket's statuses (rows sorted by key and snapshot order); returns the indexes
        of the stored current rows that are replaced."""
        batch = seq >= 0
        pos = np.arange(len(seq))
        new_key = np.ones(len(seq), dtype=bool)
        new_key[1:] = (k1[1:] != k1[:-1]) | (k2[1:] != k2[:-1])
        # 1. a dossier given again by the same file: the same row (duplicate) or a conflict
        run_start = new_key.copy()
        run_start[1:] |= (fil[1:] != fil[:-1]) | ~batch[1:]
        first = np.maximum.accumulate(np.where(run_start, pos, 0))
        repeat = batch & ~run_start
        same = h == h[first]
        self.status[seq[repeat & same]] = DUPLICATE
        conflicting = repeat & ~same
        self.status[seq[conflicting]] = CONFLICT
        self.conflicts.update(
            zip(seq[conflicting].tolist(), seq[first[conflicting]].tolist(), strict=True)
        )
        # 2. one row per dossier and file (or stored row), in snapshot order
        keep = ~repeat
        h, seq, closed, batch, new_key = (
            h[keep],
            seq[keep],
            closed[keep],
            batch[keep],
            new_key[keep],
        )
        if not len(seq):
            return np.zeros(0, dtype=np.int64)
        pos = np.arange(len(seq))
        group = np.cumsum(new_key) - 1
        starts = np.flatnonzero(new_key)
        last_stored = np.maximum.reduceat(np.where(batch, -1, pos), starts)[group]
        older = batch & (pos < last_stored)
        prev = np.maximum(pos - 1, 0)
        later = batch & ~older & ~new_key
        unchanged = later & (h == h[prev])
        corrected = later & ~unchanged & (closed[prev] == 1) & (closed == 0)
        updated = later & ~unchanged & ~corrected
        added = batch & ~older & new_key
        for mask, value in ((unchanged, DUPLICATE), (corrected, CORRECTED), (updated, UPDATED)):
            self.status[seq[mask]] = value
        self.status[seq[older]] = OLDER
        material = ~batch | added | updated | corrected
        current = np.maximum.reduceat(np.where(material, pos, -1), starts)[group] == pos
        self.current[seq[batch & current]] = True
        self.versioned[seq[added | updated | corrected | older]] = True
        replaced: np.ndarray = -seq[~batch & ~current] - 1
        return replaced

    def _check_versions(self) -> None:
        """An older row is unchanged when the stored version it follows (the newest exported
        on or before it) has its content; after a run killed while writing, every new version
        already stored (same snapshot date and content) is not stored again."""
        wanted = self.versioned & ((self.status == OLDER) | self.recovering)
        if not wanted.any():
            return
        for folder in sorted((self.root / "rows").glob("area=*")):
            area = folder.name.split("=", 1)[1]
            files = store.area_files(self.out, area, root=store.VERSIONS_DIR)
            if not files:
                continue
            seqs = np.concatenate(
                [
                    _read_spool(p, columns=["_seq"])["_seq"].to_numpy()
                    for p in folder.glob(f"*{SPOOL_SUFFIX}")
                ]
            )
            seqs = seqs[wanted[seqs]]
            if not len(seqs):
                continue
            rows = self._spooled_rows(seqs.tolist())
            ids = rows["dossier_id"].astype(str).tolist()
            stored: dict[str, list[tuple[int, int]]] = {}
            for path in files:
                for frame in store.iter_file_batches(
                    path, area, filter=ds.field("dossier_id").isin(ids)
                ):
                    found = zip(
                        frame["dossier_id"].astype(str),
                        _stamps(frame["exported_at"]).tolist(),
                        content_hash(frame).tolist(),
                        strict=True,
                    )
                    for dossier, when, digest in found:
                        stored.setdefault(dossier, []).append((when, digest))
            seqs = rows.index.to_numpy(dtype=np.int64)
            whens = [_millis(self.exported.get(f)) for f in self.files_of(seqs).tolist()]
            digests = self._checked_hashes[np.searchsorted(self._checked_seqs, seqs)].tolist()
            for row, dossier, when, digest in zip(seqs.tolist(), ids, whens, digests, strict=True):
                versions = stored.get(dossier, [])
                if self.status[row] == OLDER:
                    before = [v for v in versions if v[0] <= when]
                    if before and max(before, key=lambda v: v[0])[1] == digest:
                        self.versioned[row] = False
                        self.status[row] = DUPLICATE
                elif (when, digest) in versions:
                    self.versioned[row] = False

    def file_counts(self, file_index: int) -> Counter[str]:
        """added / duplicate / updated / corrected / older / conflict counts of one file's
        accepted rows."""
        start, end = self.ranges.get(file_index, (0, 0))
        values, counts = np.unique(self.status[start:end], return_counts=True)
        return Counter({STATUS_NAMES[int(v)]: int(c) for v, c in zip(values, counts, strict=True)})

    def corrections(self, limit: int = 1000) -> pd.DataFrame:
        """The corrected rows (closed before, open now): dossier id, unit, status, _file."""
        seqs = np.flatnonzero(self.status == CORRECTED)[:limit]
        rows = self._spooled_rows(seqs.tolist())
        rows["_file"] = self.files_of(rows.index.to_numpy(dtype=np.int64))
        return rows[["dossier_id", "unit_code", "status", "_file"]]

    def conflict_rows(self) -> tuple[pd.DataFrame, Callable[[int], tuple[pd.Series, int | None]]]:
        """The conflicting rows (index ``_seq``, with ``_pos``, ``_row``, ``_file``) and a
        lookup from a reference to (that row, its file index or None for the folder)."""
        wanted = set(self.conflicts) | {r for r in self.conflicts.values() if r >= 0}
        batch = self._spooled_rows(wanted)

        def lookup(reference: int) -> tuple[pd.Series, int | None]:
            # _seq labels are unique, so one label selects one row (a Series).
            return cast(pd.Series, batch.loc[reference]), int(
                self.files_of(np.array([reference]))[0]
            )

        frame = batch.loc[sorted(self.conflicts)] if self.conflicts else batch.iloc[:0]
        frame = frame.assign(_file=self.files_of(frame.index.to_numpy(dtype=np.int64)))
        return frame, lookup

    def _spooled_rows(self, seqs: Iterable[int]) -> pd.DataFrame:
        seqs = sorted(seqs)
        folder = self.root / "rows"
        if not seqs or not folder.is_dir():
            return pd.DataFrame(columns=[*DOSSIER_COLUMNS, "_pos", "_row"])
        dataset = ds.dataset(folder, format=SPOOL_FORMAT, partitioning=None)
        frame = dataset.to_table(filter=ds.field("_seq").isin(seqs)).to_pandas()
        out = coerce_dossiers(frame)
        out[["_pos", "_row"]] = frame[["_pos", "_row"]]
        out.index = frame["_seq"].to_numpy()
        return out

    # --- writing --------------------------------------------------------------------------

    def added_count(self) -> int:
        return int((self.status == ADDED).sum()) if len(self.status) else 0

    def has_changes(self) -> bool:
        """Anything to write: a new version, a new current row or a row to take out."""
        return bool(self.versioned.any() or self.current.any() or len(self.superseded))

    def write(self) -> None:
        """(1) new versions, (2) new current rows, (3) replaced rows out (module docstring)."""
        marker = self.out / WRITING_MARKER
        marker.write_text(str(os.getpid()), encoding="utf-8")
        versions = self._write_rows(self.versioned, store.VERSIONS_DIR)
        if np.array_equal(self.versioned, self.current):  # no older snapshot among the rows
            store.copy_dossier_files(versions, self.out, root=store.DOSSIERS_DIR)
        else:
            self._write_rows(self.current, store.DOSSIERS_DIR)
        self._drop_superseded()
        marker.unlink()

    def _write_rows(self, chosen: np.ndarray, root: str) -> list[Path]:
        """The chosen spooled rows to ``root``'s area partitions, in runs of at most
        :data:`RUN_ROWS` rows, each a new file in date order; returns the files written."""
        written: list[Path] = []
        for folder in sorted((self.root / "rows").glob("area=*")):
            pieces: list[pd.DataFrame] = []
            pending = 0
            for path in sorted(folder.glob(f"*{SPOOL_SUFFIX}"), key=_chunk_number):
                frame = _read_spool(path).to_pandas()
                keep = chosen[frame["_seq"].to_numpy()]
                if keep.any():
                    pieces.append(frame[keep])
                    pending += int(keep.sum())
                if pending >= RUN_ROWS:
                    written += self._append(pieces, root)
                    pieces, pending = [], 0
            if pieces:
                written += self._append(pieces, root)
        return written

    def _stamped(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Spooled rows as stored: canonical columns, snapshot date and file name."""
        files = self.files_of(frame["_seq"].to_numpy())
        rows = coerce_dossiers(frame)
        count = int(files.max(initial=0)) + 1
        dates = pd.Series([self.exported.get(f, pd.NaT) for f in range(count)])
        names = np.array([self.names.get(f) for f in range(count)], dtype=object)
        rows["exported_at"] = pd.Series(
            dates.astype("datetime64[ms]").to_numpy()[files], index=rows.index
        )
        rows["source_file"] = pd.Series(names[files], index=rows.index, dtype="string")
        return close_on_snapshot(rows, rows["exported_at"])

    def _append(self, pieces: list[pd.DataFrame], root: str) -> list[Path]:
        """The pieces (emptied: their rows are not held twice while written) as new files."""
        rows = pd.concat(pieces, ignore_index=True)
        pieces.clear()
        rows = self._stamped(rows)
        return store.append_dossiers(rows, self.out, root=root)

    def _drop_superseded(self) -> None:
        """Take the replaced rows out of their files, one row group at a time; a row stored
        before snapshots were dated goes to the versions first (it has no version yet). The
        closed months whose counts the replacement changes are tallied per area."""
        if not len(self.superseded):
            return
        starts = np.array([first for _, _, first, _ in self._existing_files], dtype=np.int64)
        which = np.searchsorted(starts, self.superseded, side="right") - 1
        old_by_area: dict[str, list[pd.DataFrame]] = {}
        for file_number in np.unique(which).tolist():
            area, path, first, _ = self._existing_files[file_number]
            local = self.superseded[which == file_number] - first
            old_by_area.setdefault(area, []).append(self._rewrite_without(path, area, local))
        for area, pieces in old_by_area.items():
            self._tally_changes(area, pd.concat(pieces, ignore_index=True))

    def _rewrite_without(self, path: Path, area: str, local: np.ndarray) -> pd.DataFrame:
        """One file without the rows at ``local``, rewritten a row group at a time under a
        temporary name, then renamed; returns the rows taken out."""
        handle = pq.ParquetFile(path)
        drop = np.zeros(handle.metadata.num_rows, dtype=bool)
        drop[local] = True
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        gone: list[pa.Table] = []
        writer = None
        offset = 0
        try:
            for group in range(handle.num_row_groups):
                table = handle.read_row_group(group)
                here = drop[offset : offset + table.num_rows]
                offset += table.num_rows
                if here.any():
                    gone.append(table.filter(pa.array(here)))
                    table = table.filter(pa.array(~here))
                if writer is None:
                    writer = pq.ParquetWriter(tmp, table.schema)
                writer.write_table(table)
        finally:
            if writer is not None:
                writer.close()
        old = store.dossier_frame(pa.concat_tables(gone).to_pandas(), area)
        undated = old[old["exported_at"].isna()]
        if len(undated):  # no version yet: stored before its file is rewritten
            store.append_dossiers(undated, self.out, root=store.VERSIONS_DIR)
        if offset == int(drop.sum()):
            path.unlink()
            tmp.unlink(missing_ok=True)
        else:
            tmp.replace(path)
        return old

    def _tally_changes(self, area: str, old: pd.DataFrame) -> None:
        folder = self.root / "rows" / f"area={area}"
        pieces = []
        if folder.is_dir():
            for path in folder.glob(f"*{SPOOL_SUFFIX}"):
                frame = _read_spool(path).to_pandas()
                seqs = frame["_seq"].to_numpy()
                keep = self.current[seqs] & np.isin(self.status[seqs], (UPDATED, CORRECTED))
                if keep.any():
                    pieces.append(self._stamped(frame[keep]))
        new = pd.concat(pieces, ignore_index=True) if pieces else old.iloc[:0]
        last = max(self.exported.values(), default=pd.Timestamp.now())
        self.changed_months.update(changed_closed_months(old, new, last))

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


_OPEN: Final = 10**9  # the month "never" of a dossier still open
_STATUS_DATES: Final = ("resolved_at", "returned_at", "status")


def _month(values: pd.Series) -> np.ndarray:
    stamps = pd.to_datetime(values)
    month = (stamps.dt.year * 12 + stamps.dt.month - 1).to_numpy(dtype="float64")
    return np.where(np.isnan(month), _OPEN, month).astype(np.int64)


def _differs(a: pd.Series, b: pd.Series) -> np.ndarray:
    """True where two columns differ (two missing values are equal): as their texts differ.

    Columns of one dtype whose values equal exactly when their texts do (text, booleans,
    integers, dates; categories with the same categories, by code) are compared as they are,
    without making every value a string; any other pair, as text."""
    if a.dtype == b.dtype and isinstance(a.dtype, pd.CategoricalDtype):
        if a.cat.categories.equals(b.cat.categories):
            return np.asarray(a.cat.codes.to_numpy() != b.cat.codes.to_numpy())
    elif a.dtype == b.dtype and _is_exact(a.dtype):
        both_missing = (a.isna() & b.isna()).to_numpy(dtype=bool)
        equal = (a == b).fillna(False).to_numpy(dtype=bool)
        return ~(equal | both_missing)
    x, y = (v.astype("string").fillna("\x00") for v in (a, b))
    return np.asarray((x != y).to_numpy(dtype=bool))


def _is_exact(dtype: np.dtype[Any] | pd.api.extensions.ExtensionDtype) -> bool:
    """A dtype whose equal values are exactly those with equal texts (not floats: -0.0)."""
    types = pd.api.types
    return (
        isinstance(dtype, pd.StringDtype | pd.BooleanDtype)
        or types.is_bool_dtype(dtype)
        or types.is_integer_dtype(dtype)
        or types.is_datetime64_dtype(dtype)
    )


def changed_closed_months(
    old: pd.DataFrame, new: pd.DataFrame, last_snapshot: pd.Timestamp
) -> Counter[tuple[str, str]]:
    """(unit, period) -> dossiers whose replacement changes that closed month's or quarter's
    counts: periods that ended before the month of the replacing snapshot.

    A change of closing (status, resolution or return date) touches the months between the two
    closing months (an open dossier closes "never"); any other change (receipt or due date,
    unit, channel...) the months from receipt to closing. These are the periods in which the
    dossier's counts can differ: a superset of those whose figures moved, never fewer.
    """
    merged = old.merge(new, on="dossier_id", how="outer", suffixes=("_old", "_new"))
    if merged.empty:
        return Counter()
    has_old = merged["unit_code_old"].notna().to_numpy()
    has_new = merged["unit_code_new"].notna().to_numpy()
    default = last_snapshot.year * 12 + last_snapshot.month - 1
    snap = _month(merged["exported_at_new"])
    snap = np.where(has_new & (snap != _OPEN), snap, default)
    closing = {
        side: np.minimum(
            _month(merged[f"resolved_at_{side}"]), _month(merged[f"returned_at_{side}"])
        )
        for side in ("old", "new")
    }
    receipt = {side: _month(merged[f"received_at_{side}"]) for side in ("old", "new")}
    paired = has_old & has_new
    broad = ~paired  # a dossier that moved to another area: all its months
    for column in DOSSIER_COLUMNS:
        if column not in _STATUS_DATES and f"{column}_old" in merged:
            broad |= paired & _differs(merged[f"{column}_old"], merged[f"{column}_new"])
    lo = np.where(
        broad,
        np.minimum(
            np.where(has_old, receipt["old"], _OPEN), np.where(has_new, receipt["new"], _OPEN)
        ),
        np.minimum(closing["old"], closing["new"]),
    )
    hi = np.maximum(np.where(has_old, closing["old"], -1), np.where(has_new, closing["new"], -1))
    hi = np.minimum(hi, snap - 1)
    lengths = np.where(lo <= hi, hi - lo + 1, 0)
    row = np.repeat(np.arange(len(merged)), lengths)
    month = (
        np.repeat(lo, lengths)
        + np.arange(len(row))
        - np.repeat(np.cumsum(lengths) - lengths, lengths)
    )
    unit = merged["unit_code_new"].fillna(merged["unit_code_old"]).astype(str).to_numpy()[row]
    out: Counter[tuple[str, str]] = Counter()
    for u, m in zip(unit.tolist(), month.tolist(), strict=True):
        out[(u, f"{m // 12:04d}-{m % 12 + 1:02d}")] += 1
    quarter = month // 3
    whole = quarter * 3 + 2 < snap[row]  # the quarter ended before the snapshot's month
    triples = zip(unit[whole].tolist(), row[whole].tolist(), quarter[whole].tolist(), strict=True)
    for u, _, q in set(triples):
        out[(u, f"{q // 4:04d}-Q{q % 4 + 1}")] += 1
    return out
