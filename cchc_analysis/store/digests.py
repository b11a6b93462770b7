"""Digests of data files kept across runs, trusted while the files show the state they had.

A report run hashes what each report reads (its areas' dossier rows, the cube, the survey) to
decide which reports to redo; on a province's folder that costs seconds of every run, though
the files rarely change between runs. So a digest is saved, in ``.cchc-digests.json`` in the
data folder, under the state of the files it was computed from: for each file its path,
device, inode, size, modification and change times (nanoseconds). It is reused while every
file shows that state, and recomputed otherwise.

Never a wrong digest:

- writing a file changes its modification and change times; replacing it (a rename) changes
  its inode and change time; setting its times back (``cp -p``, ``touch -d``) still changes
  its change time, which no user can set. So a changed file shows another state...
- ...except when written within the same tick of the file system's clock as its state was
  read (times are stamped coarsely): a digest is kept only when its files' times were at least
  :data:`RACY_S` old when read, and the files show the same state after the digest was
  computed as before (git's rule for "racily clean" files);
- a cache file that is missing, corrupt, of another format or not writable costs a
  recomputation, never a wrong digest. Saving is atomic (temporary file, then rename) and
  merges what other runs saved meanwhile.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

CACHE_FILE = ".cchc-digests.json"
FORMAT = 1
# A file whose times are younger than this when read may still change within the same tick.
RACY_S = 2.0
MAX_ENTRIES = 50_000  # the least recently used beyond this are dropped when saving
MAX_IDLE_DAYS = 90  # entries unused this long are dropped when saving

FileState = tuple[str, int, int, int, int, int]


def file_state(path: Path) -> FileState:
    """What identifies a file's content without reading it: path, device, inode, size,
    modification and change times (FileNotFoundError when it is gone)."""
    stat = path.stat()
    return (
        str(path.resolve()),
        stat.st_dev,
        stat.st_ino,
        stat.st_size,
        stat.st_mtime_ns,
        stat.st_ctime_ns,
    )


def _is_settled(states: Sequence[FileState], now_ns: int) -> bool:
    """True when every file's times are old enough that a later write changes them."""
    limit = now_ns - int(RACY_S * 1e9)
    return all(max(state[4], state[5]) < limit for state in states)


class DigestCache:
    """Digests by the state of the files they were computed from, in memory and (when
    ``folder`` is given and writable) in ``folder / CACHE_FILE``."""

    def __init__(self, folder: Path | None) -> None:
        self.path = None if folder is None else Path(folder) / CACHE_FILE
        self._entries: dict[str, list[Any]] = self._load()  # key -> [digest, last used (s)]
        self._changed = False
        self._lock = threading.Lock()
        self.hits_count = 0
        self.misses_count = 0

    def _load(self) -> dict[str, list[Any]]:
        if self.path is None:
            return {}
        try:
            saved = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):  # missing, unreadable or corrupt: start afresh
            return {}
        if not isinstance(saved, dict) or saved.get("format") != FORMAT:
            return {}
        entries = saved.get("entries")
        if not isinstance(entries, dict):
            return {}
        return {
            key: value
            for key, value in entries.items()
            if isinstance(value, list)
            and len(value) == 2
            and isinstance(value[0], str)
            and isinstance(value[1], int | float)
        }

    def digest(self, what: str, paths: Sequence[Path], compute: Callable[[], str]) -> str:
        """``compute()``, or the digest it gave before for ``what`` of the same files in the
        same state. ``what`` names the computation and every input that is not a file (a
        period's end, the columns read)."""
        before = [file_state(path) for path in paths]
        key = hashlib.sha256(json.dumps([what, before]).encode()).hexdigest()
        now_ns = time.time_ns()
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                entry[1] = now_ns // 10**9
                self._changed = True
                self.hits_count += 1
                return str(entry[0])
        value = compute()
        with self._lock:
            self.misses_count += 1
            try:
                after = [file_state(path) for path in paths]
            except FileNotFoundError:
                return value
            if after == before and _is_settled(before, now_ns):
                self._entries[key] = [value, now_ns // 10**9]
                self._changed = True
        return value

    def save(self) -> bool:
        """Write the cache (merged with what other runs saved meanwhile); False, and nothing
        written, when there is nothing new or the folder is not writable."""
        if self.path is None or not self._changed:
            return False
        with self._lock:
            merged = {**self._load(), **self._entries}
            oldest = time.time() - MAX_IDLE_DAYS * 86_400
            kept = sorted(
                ((k, v) for k, v in merged.items() if v[1] >= oldest),
                key=lambda item: item[1][1],
            )[-MAX_ENTRIES:]
            text = json.dumps({"format": FORMAT, "entries": dict(kept)}, separators=(",", ":"))
            tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
            try:
                tmp.write_text(text, encoding="utf-8")
                tmp.replace(self.path)
            except OSError:  # a read-only data folder: the digests are recomputed next time
                with contextlib.suppress(OSError):
                    tmp.unlink(missing_ok=True)
                return False
            self._entries = dict(kept)
            self._changed = False
        return True


_caches: dict[str, DigestCache] = {}
_caches_lock = threading.Lock()


def folder_digests(data_dir: Path) -> DigestCache:
    """The process's cache of one data folder (loaded from it once)."""
    key = str(Path(data_dir).resolve())
    with _caches_lock:
        cache = _caches.get(key)
        if cache is None:
            cache = _caches[key] = DigestCache(Path(data_dir))
        return cache
