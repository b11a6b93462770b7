"""All or nothing for a data folder: a run that fails, or is killed, leaves it as it was.

An ingest writes several files (dossier partitions, period_reports/survey tables, the cube,
dataset.json, rejects, the ingest account). Each is written atomically (temporary file, then
rename), but together they are not: a full disk at the cube would leave new partitions with a
stale cube and no account of the rows. :class:`FolderTransaction` makes them one commit.

Before the first write it hard-links every file of the folder into a journal
(``.cchc-journal/``). A rename-based write gives the file a new inode, so the journal keeps the
old content at no cost in disk space. On success the journal is removed; on failure every file
that was not there is removed and every replaced file is put back. A run killed by ``kill -9``
leaves its journal behind: the next transaction on the folder (taken under the same lock) rolls
it back first. Rolling back is idempotent, so a kill during a rollback is also safe.

Files never journaled: lock files (``*.lock``: another process may hold them), the ingest
spool (``.ingest-<pid>/``: owned by its run, removed by the next) and the journal itself.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Final

JOURNAL_DIR: Final = ".cchc-journal"
_OPEN, _BUILDING = "open", "building"
_LIST = "files.json"
_SKIPPED_PREFIXES: Final = (JOURNAL_DIR, ".ingest-")  # the journal; an ingest's spool


def _is_skipped(relative: Path) -> bool:
    first = relative.parts[0] if relative.parts else ""
    return first.startswith(_SKIPPED_PREFIXES) or relative.name.endswith(".lock")


def _files(folder: Path) -> Iterator[Path]:
    """Relative paths of the folder's regular files (links included), skipped ones left out."""
    for root, dirs, names in os.walk(folder):
        here = Path(root).relative_to(folder)
        dirs[:] = [d for d in dirs if not _is_skipped(here / d)]
        for name in names:
            relative = here / name
            if not _is_skipped(relative):
                yield relative


def _dirs(folder: Path) -> list[str]:
    out: list[str] = []
    for root, dirs, _ in os.walk(folder):
        here = Path(root).relative_to(folder)
        dirs[:] = [d for d in dirs if not _is_skipped(here / d)]
        out.extend(str(here / d) for d in dirs)
    return out


def _keep(source: Path, target: Path) -> None:
    """``target`` becomes a second name of ``source`` (a copy where links are not allowed)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target, follow_symlinks=False)
    except OSError:
        shutil.copy2(source, target, follow_symlinks=False)


def roll_back(folder: str | os.PathLike[str]) -> bool:
    """Undo a dead or failed run's writes from its journal; False when there is none."""
    folder = Path(folder)
    journal = folder / JOURNAL_DIR
    opened = journal / _OPEN
    if not opened.is_dir():
        shutil.rmtree(journal, ignore_errors=True)  # building, or committed: nothing written
        return False
    kept = json.loads((opened / _LIST).read_text(encoding="utf-8"))
    files, dirs = set(kept["files"]), set(kept["dirs"])
    for relative in list(_files(folder)):
        if str(relative) not in files:
            (folder / relative).unlink()
    for name in sorted(files):
        saved, target = opened / "data" / name, folder / name
        if not saved.exists() and not saved.is_symlink():
            continue
        with contextlib.suppress(FileNotFoundError):
            if os.lstat(saved).st_ino == os.lstat(target).st_ino:
                continue
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.restore")
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        _keep(saved, tmp)
        tmp.replace(target)
    for name in sorted(_dirs(folder), key=lambda d: -d.count(os.sep)):
        if name not in dirs:
            with contextlib.suppress(OSError):
                (folder / name).rmdir()
    shutil.rmtree(journal)
    return True


class FolderTransaction:
    """``with FolderTransaction(folder):`` everything written inside is kept only on success.

    Hold the folder's writer lock around it: the journal belongs to one writer at a time.
    """

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)
        self.journal = self.folder / JOURNAL_DIR

    def __enter__(self) -> FolderTransaction:
        roll_back(self.folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        building = self.journal / _BUILDING
        shutil.rmtree(building, ignore_errors=True)
        building.mkdir(parents=True)
        files = sorted(str(p) for p in _files(self.folder))
        for name in files:
            _keep(self.folder / name, building / "data" / name)
        listing = {"files": files, "dirs": _dirs(self.folder)}
        (building / _LIST).write_text(json.dumps(listing), encoding="utf-8")
        building.rename(self.journal / _OPEN)  # from here on, a failure rolls back
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.commit()
            return
        # A rollback that fails too (the disk gone read-only) leaves the journal: the next
        # writer rolls back; the run's own error is the one to report.
        with contextlib.suppress(OSError):
            roll_back(self.folder)

    def commit(self) -> None:
        """Keep what was written: the journal goes (renamed first, so a kill here is safe)."""
        opened = self.journal / _OPEN
        if opened.is_dir():
            done = self.journal / "done"
            opened.rename(done)
        shutil.rmtree(self.journal, ignore_errors=True)
