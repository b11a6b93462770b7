"""Exports read as a stream: chunk by chunk, spooled to disk, de-duplicated bucket by bucket.

A large export must give exactly what a small one gives: the same rows stored, the same
rejects, the same counts. These tests shrink the chunk, the encoding sniff and the hash
buckets to a few rows or bytes, so every boundary falls inside the test files.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ingest_helpers import rows, to_cp1258, write_csv, write_xlsx
from test_ingest_property import row_strategy

from cchc_analysis import ingest, store
from cchc_analysis.counting.prepare import prepare_folder
from cchc_analysis.ingest import sources, spool


def _small_everything(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("cchc_analysis.ingest.tabular.CHUNK_ROWS", 3)
    monkeypatch.setattr(sources, "HEAD_BYTES", 64)
    monkeypatch.setattr(spool, "BUCKET_ROWS", 2)


def _outcome(out: Path, report: dict) -> dict:
    """What a run leaves: counts per file, the rejects file and the stored dossiers."""
    files = [
        {k: v for k, v in entry.items() if k not in ("file",)} | {"file": Path(entry["file"]).name}
        for entry in report["files"]
    ]
    rejects_path = out / "rejects" / "dossiers.csv"
    rejects = pd.read_csv(rejects_path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    rejects["file"] = rejects["file"].map(lambda p: Path(p).name)
    rejects["reason"] = rejects["reason"].str.replace(str(out), "OUT", regex=False)
    stored = store.read_dossiers(out).sort_values("dossier_id").reset_index(drop=True)
    return {
        "counts": {k: report[k] for k in ("rows_read", "rows_accepted", "rows_rejected")},
        "added": report["rows_added"],
        "reasons": report["rejected_by_reason"],
        "files": files,
        "rejects": rejects.to_dict("records"),
        "stored": stored.astype(str).to_dict("records"),
        "cube": store.read_table(out, store.CUBE_FILE).astype(str).to_dict("records")
        if (out / store.CUBE_FILE).exists()
        else None,
    }


def _ingest_and_prepare(paths: list[Path], out: Path) -> dict:
    """What `cchc ingest` does: ingest, then bring the cube and dataset.json up to date."""
    report = ingest.ingest(paths, "dossiers", out)
    prepare_folder(out, has_new_dossiers=report["rows_added"] > 0)
    return report


def _run_twice(paths: list[Path], out: Path, later: list[Path]) -> list[dict]:
    first = _ingest_and_prepare(paths, out)
    outcomes = [_outcome(out, first)]
    second = _ingest_and_prepare(later, out)
    outcomes.append(_outcome(out, second))
    return outcomes


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)
@given(
    files=st.lists(st.lists(row_strategy, min_size=1, max_size=14), min_size=1, max_size=3),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1258"]),
)
def test_small_chunks_give_what_one_chunk_gives(files, encoding, monkeypatch):
    """Rows, rejects (with reasons, duplicates and conflicts) and the cube do not depend on
    where chunks, the encoding sniff and the hash buckets end."""
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        paths = []
        for i, records in enumerate(files):
            sep = "\t" if encoding == "utf-16" else ","
            paths.append(write_csv(tmp_path / f"f{i}.csv", records, encoding=encoding, sep=sep))
        # A later export of the same dossiers: some repeated, some changed (conflicts).
        changed = [dict(r, **{"Trạng thái": "Rút hồ sơ"}) for r in files[0][::2]]
        later = [write_csv(tmp_path / "later.csv", files[0] + changed, encoding=encoding)]
        whole = _run_twice(paths, tmp_path / "whole", later)
        with monkeypatch.context() as patch:
            _small_everything(patch)
            streamed = _run_twice(paths, tmp_path / "streamed", later)
        assert streamed == whole
        assert not list((tmp_path / "streamed").glob(".ingest-*"))  # the spool is removed


def test_updates_across_chunks_and_conflicts_within_a_file_are_named(tmp_path, monkeypatch):
    """A dossier the folder holds, exported again changed, is an update (a later snapshot); one
    file giving an id twice with other content is still a conflict."""
    _small_everything(monkeypatch)
    first = write_csv(tmp_path / "a.csv", rows(10))
    ingest.ingest([first], "dossiers", tmp_path / "out", as_of=date(2023, 7, 31))
    again = rows(10, **{"Trạng thái": "Rút hồ sơ"})[:2] + rows(4, start=20) + rows(4, start=20)
    again[-1]["Lĩnh vực"] = "Đất đai"  # H-0023 repeats earlier in the same file, changed
    later = write_csv(tmp_path / "b.csv", again)
    report = ingest.ingest([later], "dossiers", tmp_path / "out", as_of=date(2023, 8, 31))
    assert report["rows_read"] == 10
    assert report["rows_added"] == 4 and report["rows_duplicate"] == 3
    assert report["rows_updated"] == 2
    assert report["rejected_by_reason"] == {"duplicate_conflict": 1}
    rejects = pd.read_csv(tmp_path / "out" / "rejects" / "dossiers.csv", dtype=str)
    assert rejects["row"].tolist() == ["11"]
    assert "b.csv row 7" in rejects["reason"].iat[0] and "field" in rejects["reason"].iat[0]
    assert rejects["Mã hồ sơ"].tolist() == ["H-0023"]  # the source cells
    stored = store.read_dossiers(tmp_path / "out")
    assert len(stored) == 14 and stored["dossier_id"].is_unique
    status = stored.set_index("dossier_id")["status"]
    assert status["H-0001"] == status["H-0002"] == "withdrawn" and status["H-0003"] == "returned"


def test_the_buckets_are_sized_by_the_run_not_the_history():
    """A month's snapshot into years of history holds its own rows and the stored rows that
    share a key with them (at most one each): the history's length does not add buckets, unless
    a dead run's rows must all be settled again."""
    month = 1_000_000
    assert spool.bucket_count(month, 0) == spool.bucket_count(month, 20_000_000)
    assert spool.bucket_count(month, 0) == -(-2 * month // spool.BUCKET_ROWS)
    assert spool.bucket_count(5 * spool.BUCKET_ROWS, 0) == 10
    recovering = spool.bucket_count(month, 20_000_000, is_recovering=True)
    assert recovering == -(-21_000_000 // spool.BUCKET_ROWS)
    assert spool.bucket_count(0, 0) == 1


def test_only_the_stored_rows_the_run_gives_again_are_settled(tmp_path, monkeypatch):
    """Stored rows whose dossier id the run does not give are neither hashed nor held: they
    stay current as they are, and the ones it gives are settled as before."""
    _small_everything(monkeypatch)
    first = write_csv(tmp_path / "a.csv", rows(40))
    ingest.ingest([first], "dossiers", tmp_path / "out", as_of=date(2023, 7, 31))
    before = store.read_dossiers(tmp_path / "out").set_index("dossier_id").sort_index()
    spooled: list[int] = []
    write_hashes = spool.DossierSpool._write_hashes

    def count(self, tag, k1, *args):
        if tag.startswith("existing-"):
            spooled.append(len(k1))
        return write_hashes(self, tag, k1, *args)

    monkeypatch.setattr(spool.DossierSpool, "_write_hashes", count)
    withdrawn = rows(40, **{"Trạng thái": "Rút hồ sơ"})[5:8]  # H-0006..H-0008
    again = withdrawn + rows(2, start=7) + rows(3, start=100)  # H-0007, H-0008: conflicts
    later = write_csv(tmp_path / "b.csv", again)
    report = ingest.ingest([later], "dossiers", tmp_path / "out", as_of=date(2023, 8, 31))
    assert sum(spooled) == 3  # the stored H-0006..H-0008 only, not the other 37
    assert report["rows_added"] == 3 and report["rows_updated"] == 3
    assert report["rejected_by_reason"] == {"duplicate_conflict": 2}
    after = store.read_dossiers(tmp_path / "out").set_index("dossier_id").sort_index()
    assert len(after) == 43 and after.index.is_unique
    assert (after.loc[["H-0006", "H-0007", "H-0008"], "status"] == "withdrawn").all()
    kept = before.index.difference(["H-0006", "H-0007", "H-0008"])
    pd.testing.assert_frame_equal(after.loc[kept], before.loc[kept])


def test_a_row_wider_than_the_first_rows_reads_the_file_again(tmp_path, monkeypatch):
    _small_everything(monkeypatch)
    records = rows(100)
    path = write_csv(tmp_path / "wide.csv", records)
    text = path.read_text(encoding="utf-8").splitlines()
    text[90] += ",extra cell,another"  # past the first lines sniffed
    path.write_text("\n".join(text) + "\n", encoding="utf-8")
    measured = []
    widest = sources._widest_row
    monkeypatch.setattr(
        sources, "_widest_row", lambda *a: measured.append(widest(*a)) or measured[-1]
    )
    report = ingest.ingest([path], "dossiers", tmp_path / "out")
    assert measured == [len(records[0]) + 2]  # the whole file measured once, read again
    assert report["rows_read"] == 100 and report["rows_added"] == 100


def test_rows_are_told_to_their_file_after_a_file_read_again(tmp_path, monkeypatch):
    """Spooled rows are numbered in file order and a row's file is found from the files' ranges
    (no number per row is kept): with a file read again from the start (its first rows dropped,
    their numbers left unused) between two others, every file keeps its counts and a conflict
    names its own file and row."""
    _small_everything(monkeypatch)
    monkeypatch.setattr(sources, "ARROW_BLOCK_BYTES", 1 << 10)  # rows read before the wide one
    first = write_csv(tmp_path / "a.csv", rows(10))
    records = rows(100, start=100)
    records[35] = dict(records[30], **{"Lĩnh vực": "Đất đai"})  # H-0130 again, changed
    wide = write_csv(tmp_path / "b.csv", records)
    text = wide.read_text(encoding="utf-8").splitlines()
    text[90] += ",extra cell"  # past the sniffed lines: read again once rows are spooled
    wide.write_text("\n".join(text) + "\n", encoding="utf-8")
    changed = rows(1, start=203, **{"Lĩnh vực": "Đất đai"})  # H-0203 again, changed
    last = write_csv(tmp_path / "c.csv", rows(5, start=200) + changed)
    discarded = []
    discard = spool.DossierSpool.discard
    monkeypatch.setattr(
        spool.DossierSpool,
        "discard",
        lambda self, i: discarded.append(self.ranges[i]) or discard(self, i),
    )
    report = ingest.ingest([first, wide, last], "dossiers", tmp_path / "out")
    assert discarded and discarded[0][1] > discarded[0][0] > 0  # b.csv's rows were spooled
    counts = [(f["rows_read"], f["rows_added"], f["rows_rejected"]) for f in report["files"]]
    assert counts == [(10, 10, 0), (100, 99, 1), (6, 5, 1)]
    rejects = pd.read_csv(tmp_path / "out" / "rejects" / "dossiers.csv", dtype=str)
    assert rejects["file"].map(lambda f: Path(f).name).tolist() == ["b.csv", "c.csv"]
    assert rejects["row"].tolist() == ["37", "7"]
    assert "b.csv row 32" in rejects["reason"].iat[0]
    assert "c.csv row 5" in rejects["reason"].iat[1]
    stored = pd.read_parquet(tmp_path / "out" / "dossiers", columns=["dossier_id", "source_file"])
    assert len(stored) == 114 and stored["dossier_id"].is_unique
    expected = stored["dossier_id"].str[3].map({"0": "a.csv", "1": "b.csv", "2": "c.csv"})
    assert stored["source_file"].astype(str).tolist() == expected.tolist()


def test_a_windows_1258_byte_after_the_sniffed_head_switches_encoding(tmp_path, monkeypatch):
    _small_everything(monkeypatch)
    ascii_rows = rows(100, **{"Tên TTHC": "Cap ban sao", "Lĩnh vực": "Ho tich"})
    text = pd.DataFrame(ascii_rows).to_csv(index=False)
    lines = text.splitlines()
    lines[90] = lines[90].replace("Ho tich", "Hộ tịch")
    (tmp_path / "legacy.csv").write_bytes(to_cp1258("\n".join(lines) + "\n"))
    report = ingest.ingest([tmp_path / "legacy.csv"], "dossiers", tmp_path / "out")
    assert report["files"][0]["encoding"] == "windows-1258"
    assert report["rows_added"] == 100
    fields = set(store.read_dossiers(tmp_path / "out")["field"])
    assert fields == {"Ho tich", "Hộ tịch"}  # tone marks composed again (NFC)


def test_tone_marks_are_never_cut_from_their_letter():
    decomposed = "Thủ tục hành chính, Hộ tịch; " * 50
    import unicodedata

    raw = io.StringIO(unicodedata.normalize("NFD", decomposed), newline="")
    stream = sources._NfcText(raw, Path("x.csv"))
    pieces = []
    while piece := stream.read(1):
        pieces.append(piece)
    assert "".join(pieces) == unicodedata.normalize("NFC", decomposed)
    assert all(unicodedata.is_normalized("NFC", p) for p in pieces)


def test_xlsx_title_rows_and_chunks(tmp_path, monkeypatch):
    _small_everything(monkeypatch)
    records = rows(11) + rows(1, start=3)
    records[5]["Ngày tiếp nhận"] = "31/02/2024"
    path = write_xlsx(tmp_path / "a.xlsx", records, above=["UBND TỈNH", "Danh sách hồ sơ"])
    report = ingest.ingest([path], "dossiers", tmp_path / "out")
    assert report["files"][0]["header_row"] == 3
    assert (report["rows_read"], report["rows_added"], report["rows_duplicate"]) == (12, 10, 1)
    rejects = pd.read_csv(tmp_path / "out" / "rejects" / "dossiers.csv", dtype=str)
    assert rejects["row"].tolist() == ["9"] and rejects["reason_code"].tolist() == [
        "impossible_date"
    ]


def test_an_unusable_file_leaves_nothing_behind(tmp_path):
    good = write_csv(tmp_path / "good.csv", rows(5))
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b,c\n1,2,3\n", encoding="utf-8")
    out = tmp_path / "out"
    with pytest.raises(ingest.IngestError):
        ingest.ingest([good, bad], "dossiers", out)
    assert not out.exists()
    out.mkdir()
    stale = out / f"{spool.SPOOL_PREFIX}999999999"  # from a process that no longer exists
    stale.mkdir()
    with pytest.raises(ingest.IngestError):
        ingest.ingest([good, bad], "dossiers", out)
    assert list(out.iterdir()) == []


def test_a_killed_ingest_leaves_the_folder_as_it_was(tmp_path):
    """SIGKILL in the middle of an ingest: the folder keeps its earlier dossiers, and the next
    ingest cleans the dead run's spool and completes."""
    out = tmp_path / "out"
    ingest.ingest([write_csv(tmp_path / "first.csv", rows(5))], "dossiers", out)
    before = store.read_dossiers(out)
    big = write_csv(tmp_path / "big.csv", rows(20_000, start=100))
    script = (
        "import os, signal, sys\n"
        "from cchc_analysis import ingest\nfrom cchc_analysis.ingest import spool\n"
        "real = spool.DossierSpool.classify\n"
        "def die(self):\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
        "spool.DossierSpool.classify = die\n"
        "ingest.ingest([sys.argv[1]], 'dossiers', sys.argv[2])\n"
    )
    proc = subprocess.run([sys.executable, "-c", script, str(big), str(out)], check=False)
    assert proc.returncode == -9
    assert list(out.glob(".ingest-*"))  # the dead run's spool
    pd.testing.assert_frame_equal(store.read_dossiers(out), before)
    report = _ingest_and_prepare([big], out)
    assert report["rows_added"] == 20_000
    assert not list(out.glob(".ingest-*"))
    assert len(store.read_dossiers(out)) == 20_005
    info = json.loads((out / "dataset.json").read_text(encoding="utf-8"))
    assert info["dossier_rows"] == 20_005
    assert os.path.exists(out / store.CUBE_FILE)


def test_utf8_bytes_for_the_parser_keep_a_bounded_leftover():
    """Vietnamese text read as bytes in parser-sized pieces: the bytes are the text's, and
    what waits between reads stays below one block (pandas' own wrapper let it grow)."""
    text = "Hộ tịch; Đất đai; Chứng thực\n" * 20_000
    stream = sources._Utf8Bytes(sources._NfcText(io.StringIO(text, newline=""), Path("x")))
    pieces, leftover = [], []
    while piece := stream.read(4096):
        pieces.append(piece)
        leftover.append(len(stream._buffer))
    assert b"".join(pieces) == text.encode("utf-8")
    assert max(leftover) < 4 * (1 << 16)


def test_new_rows_are_added_as_files_in_date_order(tmp_path, monkeypatch):
    """Stored files are never rewritten; new rows arrive as new files of at most RUN_ROWS rows,
    each in date order (so a report's period filter skips other row groups)."""
    monkeypatch.setattr("cchc_analysis.ingest.tabular.CHUNK_ROWS", 4)
    monkeypatch.setattr(spool, "RUN_ROWS", 5)
    out = tmp_path / "out"
    ingest.ingest([write_csv(tmp_path / "a.csv", rows(3))], "dossiers", out)
    [partition] = (out / "dossiers").iterdir()
    first = {p.name: p.read_bytes() for p in partition.glob("*.parquet")}
    assert list(first) == ["part-0.parquet"]
    later = rows(60, start=10)
    for i, record in enumerate(later):
        record["Ngày tiếp nhận"] = f"{29 - i // 3:02d}/06/2023"  # newest first
    ingest.ingest([write_csv(tmp_path / "b.csv", rows(3) + later)], "dossiers", out)
    files = sorted(partition.glob("*.parquet"))
    assert [p.name for p in files] == [f"part-{n}.parquet" for n in range(len(files))]
    assert files[0].read_bytes() == first["part-0.parquet"]
    sizes = []
    for path in files[1:]:
        received = pd.read_parquet(path)["received_at"]
        assert received.is_monotonic_increasing
        sizes.append(len(received))
    # A run is written once it reaches RUN_ROWS (at a chunk's end); the last one holds the rest.
    assert len(sizes) >= 3 and sum(sizes) == 60 and min(sizes[:-1]) >= 5
    assert len(store.read_dossiers(out)) == 63


@pytest.mark.parametrize("depth", [0, 1, 3])
def test_read_ahead_gives_the_items_and_the_error_in_order(depth):
    """Chunks read by a second thread come in order; an error raised while reading comes at
    the chunk it stopped at (after the chunks before it), in the caller's thread."""
    import threading

    from cchc_analysis.core.errors import SourceError
    from cchc_analysis.ingest import tabular

    threads = []

    def chunks(fail_at):
        for i in range(10):
            threads.append(threading.current_thread().name)
            if i == fail_at:
                raise SourceError(f"bad chunk {i}")
            yield i

    assert list(tabular.read_ahead(chunks(None), depth)) == list(range(10))
    assert (threads[0] == "cchc-read-ahead") is (depth > 0)
    got = []
    with pytest.raises(SourceError, match="bad chunk 4"):
        for item in tabular.read_ahead(chunks(4), depth):
            got.append(item)
    assert got == [0, 1, 2, 3]


def test_read_ahead_stops_and_closes_when_the_caller_stops():
    import threading

    from cchc_analysis.ingest import tabular

    produced, closed = [], threading.Event()

    def chunks():
        try:
            for i in range(1_000):
                produced.append(i)
                yield i
        finally:
            closed.set()

    for item in tabular.read_ahead(chunks(), 2):
        if item == 3:
            break
    assert closed.is_set()  # the generator was closed when the loop left
    assert len(produced) <= 3 + 1 + 2 + 1  # what was taken, the queue, one in hand
    assert not any(t.name == "cchc-read-ahead" for t in threading.enumerate())
