"""Which stored rows an ingest must compare with: those whose dossier id the run gives too.

A month's export of one province touches a few of the nation's 3,355 areas, while the folder
holds tens of millions of rows. Testing each stored id costs reading it and hashing it; here the
tests are ordered from cheapest to dearest:

1. a stored row group whose ids' range (the Parquet statistics: real ids begin with the unit's
   code, so an area's ids share a narrow range) holds none of the run's ids is not read at all;
2. otherwise its id column alone is read and looked up (Arrow's ``is_in``) among the run's ids
   that lie within its range;
3. a run too large to hold its ids (more than :data:`RUN_IDS_LIMIT`) tests the first key hash
   of each stored id against the run's (:class:`KeySet`), as the spool's buckets do.

Only a row so chosen is read whole, hashed and spooled; a stored row no run row shares an id
with stays current as it is.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from typing import Final

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

KEY_SALTS: Final = ("cchc.dossier.k1", "cchc.dossier.k2")  # 16 bytes each, as pandas wants
RUN_IDS_LIMIT: Final = 1_000_000  # the run's ids held for the lookups (~30 MB of Arrow text)
ID_COLUMN: Final = "dossier_id"


def first_key_hashes(ids: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """The first of the spool's key hashes of ids as Arrow holds them: the ids made Python
    strings by Arrow directly (a missing id as ""), one salt only."""
    texts = pc.fill_null(ids.cast(pa.large_string()), "").to_numpy(zero_copy_only=False)
    return pd.util.hash_array(texts, hash_key=KEY_SALTS[0].ljust(16)[:16], categorize=False)


def has_key(sorted_keys: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """True where ``keys`` is one of ``sorted_keys`` (sorted, unique)."""
    if not len(sorted_keys):
        return np.zeros(len(keys), dtype=bool)
    at = np.minimum(np.searchsorted(sorted_keys, keys), len(sorted_keys) - 1)
    return np.asarray(sorted_keys[at] == keys)


class KeySet:
    """The run's first key hashes, for testing the folder's millions of stored rows: a table
    of one byte per slot, indexed by a key's top bits, rules out most keys at the cost of one
    lookup; only the rest are searched for in the sorted keys."""

    MIN_BITS: Final = 16
    MAX_BITS: Final = 25  # 32 MB: a 20M-row run still filters, with more keys searched

    def __init__(self, sorted_keys: np.ndarray) -> None:
        self.keys = sorted_keys
        wanted = max(int(len(sorted_keys)) * 16, 1).bit_length()  # ~16 slots a key
        self.bits = min(max(wanted, self.MIN_BITS), self.MAX_BITS)
        self.slots = np.zeros(1 << self.bits, dtype=bool)
        self.slots[self._slot(sorted_keys)] = True

    def _slot(self, keys: np.ndarray) -> np.ndarray:
        return np.asarray(keys >> np.uint64(64 - self.bits)).astype(np.intp)

    def contains(self, keys: np.ndarray) -> np.ndarray:
        """True where ``keys`` is one of the set's."""
        out: np.ndarray = self.slots[self._slot(keys)]
        maybe = np.flatnonzero(out)
        if len(maybe):
            out[maybe] = has_key(self.keys, keys[maybe])
        return out


class RunMatch:
    """The run's dossier ids (sorted, distinct) when there are at most :data:`RUN_IDS_LIMIT`,
    else its first key hashes; :meth:`rows_wanted` tells a stored file's rows to compare."""

    def __init__(self, ids: pa.Array | None, keys: KeySet | None) -> None:
        if ids is None and keys is None:
            raise ValueError("a run is matched by its ids or by its key hashes")
        self.ids = None if ids is None else pc.unique(ids.cast(pa.large_string())).sort()
        self.keys = keys

    def rows_wanted(self, handle: pq.ParquetFile) -> np.ndarray:
        """Which rows of a stored file have a dossier id the run gives too."""
        meta = handle.metadata
        column = handle.schema_arrow.get_field_index(ID_COLUMN)
        wanted = np.zeros(meta.num_rows, dtype=bool)
        start = 0
        for group in range(meta.num_row_groups):
            rows = meta.row_group(group).num_rows
            candidates = self._candidates(meta.row_group(group).column(column))
            if candidates is None or len(candidates):
                ids = handle.read_row_group(group, columns=[ID_COLUMN]).column(0)
                wanted[start : start + rows] = self._contains(ids, candidates)
            start += rows
        return wanted

    def _contains(self, ids: pa.ChunkedArray, candidates: pa.Array | None) -> np.ndarray:
        if candidates is None:
            assert self.keys is not None  # no ids held: the key hashes are
            return self.keys.contains(first_key_hashes(ids))
        found = pc.is_in(ids.cast(pa.large_string()), value_set=candidates)
        return np.asarray(pc.fill_null(found, False).to_numpy(zero_copy_only=False), dtype=bool)

    def _candidates(self, chunk: pq.ColumnChunkMetaData) -> pa.Array | None:
        """The run's ids a row group may hold: those within its exact id range (Parquet
        statistics), all of them without a range; None when the run holds no ids."""
        if self.ids is None:
            return None
        stats = chunk.statistics
        if stats is None or not stats.has_min_max or stats.null_count:
            return self.ids
        low, high = stats.min, stats.max
        exact = getattr(stats, "is_min_value_exact", True) and getattr(
            stats, "is_max_value_exact", True
        )
        if not exact or not isinstance(low, str) or not isinstance(high, str):
            return self.ids
        ids = self.ids
        first = bisect_left(range(len(ids)), low, key=lambda i: ids[i].as_py())
        last = bisect_right(range(len(ids)), high, key=lambda i: ids[i].as_py())
        return ids.slice(first, max(last - first, 0))
