"""Digests kept across runs (store.digests) are reused only while their files are unchanged:
a file rewritten with the same size, replaced, or with its times set back is hashed again, and
a corrupt or missing cache file costs a recomputation, never a wrong digest."""

import json
import os
import time
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from cchc_analysis import store
from cchc_analysis.batch.job import ReportJob
from cchc_analysis.batch.plan import input_hash
from cchc_analysis.store import digests
from cchc_analysis.store.digests import DigestCache


@pytest.fixture
def settle(monkeypatch):
    """Files count as settled 50 ms after their last write (instead of 2 s): the tests wait
    that long before the first digest, so that it is kept."""
    monkeypatch.setattr(digests, "RACY_S", 0.05)

    def wait() -> None:
        time.sleep(0.1)

    return wait


def _counting(path: Path):
    calls = []

    def compute() -> str:
        calls.append(1)
        return path.read_bytes().hex()

    return compute, calls


def test_a_digest_is_reused_while_the_file_is_unchanged_and_across_processes(tmp_path, settle):
    path = tmp_path / "a.bin"
    path.write_bytes(b"one")
    settle()
    compute, calls = _counting(path)
    cache = DigestCache(tmp_path)
    assert cache.digest("x", [path], compute) == b"one".hex()
    assert cache.digest("x", [path], compute) == b"one".hex()
    assert len(calls) == 1
    assert cache.save()
    # a new run (a new cache object) reads the saved digest; another "what" is another digest
    again = DigestCache(tmp_path)
    assert again.digest("x", [path], compute) == b"one".hex()
    assert len(calls) == 1
    again.digest("y", [path], compute)
    assert len(calls) == 2


def test_same_size_rewrite_replaced_file_and_times_set_back_are_recomputed(tmp_path, settle):
    path = tmp_path / "a.bin"
    path.write_bytes(b"one")
    settle()
    compute, calls = _counting(path)
    cache = DigestCache(tmp_path)
    cache.digest("x", [path], compute)
    old = path.stat()
    # rewritten in place, same size, its modification time set back (as cp -p does)
    with path.open("r+b") as handle:
        handle.write(b"two")
    os.utime(path, ns=(old.st_atime_ns, old.st_mtime_ns))
    assert path.stat().st_size == old.st_size and path.stat().st_mtime_ns == old.st_mtime_ns
    assert cache.digest("x", [path], compute) == b"two".hex()
    # replaced by another file (a rename), same size and times
    settle()
    other = tmp_path / "b.bin"
    other.write_bytes(b"six")
    os.utime(other, ns=(old.st_atime_ns, old.st_mtime_ns))
    other.replace(path)
    assert cache.digest("x", [path], compute) == b"six".hex()
    assert len(calls) == 3


def test_a_file_written_just_before_is_not_trusted(tmp_path, monkeypatch):
    """A write within the file system's clock tick may leave every time as it was: a digest
    of a file younger than RACY_S is not kept."""
    monkeypatch.setattr(digests, "RACY_S", 3600.0)
    path = tmp_path / "a.bin"
    path.write_bytes(b"one")
    compute, calls = _counting(path)
    cache = DigestCache(tmp_path)
    cache.digest("x", [path], compute)
    cache.digest("x", [path], compute)
    assert len(calls) == 2
    assert not cache.save()  # nothing to keep


@pytest.mark.parametrize(
    "content",
    ["{not json", json.dumps({"format": 0, "entries": {}}), json.dumps({"format": 1}), "[]"],
)
def test_a_corrupt_or_foreign_cache_file_is_recomputed(tmp_path, settle, content):
    path = tmp_path / "a.bin"
    path.write_bytes(b"one")
    settle()
    compute, calls = _counting(path)
    cache = DigestCache(tmp_path)
    cache.digest("x", [path], compute)
    assert cache.save()
    (tmp_path / digests.CACHE_FILE).write_text(content, encoding="utf-8")
    assert DigestCache(tmp_path).digest("x", [path], compute) == b"one".hex()
    assert len(calls) == 2


def test_a_wrong_saved_entry_is_never_used_for_a_changed_file(tmp_path, settle):
    """The key is the files' state: an entry saved for the file's earlier state (here made
    to lie) is not the entry of its new state."""
    path = tmp_path / "a.bin"
    path.write_bytes(b"one")
    settle()
    compute, _calls = _counting(path)
    cache = DigestCache(tmp_path)
    cache.digest("x", [path], compute)
    cache.save()
    saved = json.loads((tmp_path / digests.CACHE_FILE).read_text(encoding="utf-8"))
    for entry in saved["entries"].values():
        entry[0] = "a lie"
    (tmp_path / digests.CACHE_FILE).write_text(json.dumps(saved), encoding="utf-8")
    path.write_bytes(b"two")
    assert DigestCache(tmp_path).digest("x", [path], compute) == b"two".hex()


def test_a_read_only_folder_still_gives_digests(tmp_path, settle):
    path = tmp_path / "a.bin"
    path.write_bytes(b"one")
    settle()
    compute, _calls = _counting(path)
    cache = DigestCache(tmp_path / "not-there")
    assert cache.digest("x", [path], compute) == b"one".hex()
    assert not cache.save()
    assert not (tmp_path / "not-there").exists()


def _area(root: Path, area: str, ids: list[str]) -> Path:
    folder = root / store.DOSSIERS_DIR / f"area={area}"
    folder.mkdir(parents=True, exist_ok=True)
    frame = pd.DataFrame(
        {"dossier_id": ids, "received_at": pd.to_datetime(["2026-08-01"] * len(ids))}
    )
    path = folder / "part-0.parquet"
    frame.to_parquet(path, index=False)
    return path


def test_an_input_hash_follows_a_same_size_change_of_one_dossier_across_runs(tmp_path, settle):
    """The report's input hash (through the saved digests of a second run) changes when one
    dossier changes and the file keeps its size and modification time."""
    data = tmp_path / "data"
    path = _area(data, "2025-10507", ["A-1", "A-2"])
    settle()
    job = ReportJob("commune", "10507", "x", "nb.ipynb", "x.html", {}, areas=("2025-10507",))
    end = date(2026, 9, 30)
    before = input_hash(job, data, period_end=end)
    store.folder_digests(data).save()
    assert (data / store.DIGESTS_FILE).exists()
    assert input_hash(job, data, period_end=end) == before
    old = path.stat()
    _area(data, "2025-10507", ["A-1", "A-3"])
    os.utime(path, ns=(old.st_atime_ns, old.st_mtime_ns))
    assert path.stat().st_size == old.st_size
    assert input_hash(job, data, period_end=end) != before
    digests._caches.clear()  # a new process: digests from the file only
    assert input_hash(job, data, period_end=end) != before


def test_an_area_rewritten_in_place_is_read_again_by_the_threads_connection(tmp_path):
    """The rows' digest uses one DuckDB connection per thread (opening one costs more than
    hashing an area): a file rewritten in place, same size and same second, is read anew."""
    from cchc_analysis.batch.plan import _rows_digest_of

    path = tmp_path / "part-0.parquet"

    def write(status: str) -> None:
        frame = pd.DataFrame(
            {
                "dossier_id": ["a", "b"],
                "received_at": pd.to_datetime(["2026-07-01", "2026-07-02"]),
                "status": [status, "resolved"],
            }
        )
        frame.to_parquet(path, index=False)

    write("received")
    first = _rows_digest_of([str(path)], date(2026, 9, 30))
    size, mtime = path.stat().st_size, path.stat().st_mtime_ns
    write("resolvex")  # the same length of text: the same file size
    os.utime(path, ns=(mtime, mtime))
    assert path.stat().st_size == size
    second = _rows_digest_of([str(path)], date(2026, 9, 30))
    assert second != first
    write("received")
    assert _rows_digest_of([str(path)], date(2026, 9, 30)) == first
