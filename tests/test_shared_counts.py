"""Province-wide results shared between the reports of a process: computed once while the
folder is unchanged, computed again as soon as any file the counting reads changes."""

import os

import pandas as pd

from cchc_analysis import store
from cchc_analysis.counting import shared


def test_shared_frame_is_recomputed_when_the_data_changes(tmp_path):
    shared.clear()
    area = tmp_path / store.DOSSIERS_DIR / "area=2025-10507"
    area.mkdir(parents=True)
    part = area / "part-0.parquet"
    part.write_bytes(b"one")
    calls = []

    def compute() -> pd.DataFrame:
        calls.append(1)
        return pd.DataFrame({"n": [len(calls)]})

    first = shared.shared_frame(tmp_path, "q", compute)
    first.loc[0, "n"] = 99  # a caller's change never reaches the shared copy
    assert shared.shared_frame(tmp_path, "q", compute)["n"].tolist() == [1]
    assert len(calls) == 1
    assert shared.shared_frame(tmp_path, "other question", compute)["n"].tolist() == [2]

    part.write_bytes(b"two, longer")  # a re-ingest rewrote a dossier file
    assert shared.shared_frame(tmp_path, "q", compute)["n"].tolist() == [3]
    (area / "part-1.parquet").write_bytes(b"new")  # a new file
    assert shared.shared_frame(tmp_path, "q", compute)["n"].tolist() == [4]
    cube = tmp_path / store.CUBE_FILE
    cube.write_bytes(b"cube")  # cchc prepare wrote the cube
    assert shared.shared_frame(tmp_path, "q", compute)["n"].tolist() == [5]
    stat = cube.stat()
    os.utime(cube, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # same size, rewritten
    assert shared.shared_frame(tmp_path, "q", compute)["n"].tolist() == [6]
    assert shared.shared_frame(tmp_path, "q", compute)["n"].tolist() == [6]
    shared.clear()


def test_a_batch_kernel_takes_the_state_once_per_report(tmp_path, monkeypatch):
    """While states are held (a batch kernel) a report walks the folder once; the reset
    between two reports forgets it, so an ingest between them is seen by the next."""
    shared.clear()
    monkeypatch.setattr(shared, "_held", None)
    area = tmp_path / store.DOSSIERS_DIR / "area=2025-10507"
    area.mkdir(parents=True)
    (area / "part-0.parquet").write_bytes(b"one")
    walks = []
    walk = shared._walk_state
    monkeypatch.setattr(shared, "_walk_state", lambda root: walks.append(1) or walk(root))
    calls = []

    def compute() -> pd.DataFrame:
        calls.append(1)
        return pd.DataFrame({"n": [len(calls)]})

    shared.hold_states()
    for question in ("q", "q", "other", "q"):  # one report's questions
        shared.shared_frame(tmp_path, question, compute)
    assert len(walks) == 1
    assert len(calls) == 2
    (area / "part-1.parquet").write_bytes(b"new")  # an ingest between two reports
    shared.forget_states()  # the kernel's reset
    assert shared.shared_frame(tmp_path, "q", compute)["n"].tolist() == [3]
    assert len(walks) == 2

    from cchc_analysis.batch import kernels

    assert "_shared.hold_states()" in kernels.PRELUDE_CODE
    assert "_shared.forget_states()" in kernels.RESET_CODE
    shared.clear()
