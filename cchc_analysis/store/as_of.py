"""A data folder as it stood on a day: each dossier's newest version exported on or before it.

``cchc kpis --as-of DAY`` and ``cchc report --as-of DAY`` read such a folder, built once and
kept under the data folder until the dossiers change::

    DIR/.as-of/<DAY>/dossiers/area=.../part-<n>.parquet   the dossiers as of DAY
    DIR/.as-of/<DAY>/period_reports.parquet, survey.parquet, dataset.json   (copies; dataset.json
                                                         gains "as_of")
    DIR/.as-of/<DAY>/.state.json                        what DIR held when it was built

A current row (``dossiers/``) exported on or before DAY is its dossier's version as of DAY; a
row without a snapshot date (written before snapshots were dated, or by the demo) counts as
"always there". For a dossier whose current row is newer than DAY, the newest version on or
before DAY is taken from ``dossier_versions/``; a dossier with none did not exist yet. Memory
is one batch of one file at a time, plus the ids of the dossiers changed after DAY and their
older versions.
"""

from __future__ import annotations

import json
import os
import shutil
from datetime import date
from pathlib import Path
from typing import Any, Final

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds

from cchc_analysis.store.dossiers import (
    DOSSIERS_DIR,
    VERSIONS_DIR,
    append_dossiers,
    area_files,
    dossier_areas,
    iter_file_batches,
    version_areas,
)
from cchc_analysis.store.folder import (
    PERIOD_REPORTS_FILE,
    SURVEY_FILE,
    read_dataset_info,
    write_dataset_info,
)

AS_OF_DIR: Final = ".as-of"
_STATE_FILE: Final = ".state.json"


def _state(data_dir: Path) -> list[list[Any]]:
    """The folder's dossier and table files with their sizes and times: the cache key."""
    found = []
    for root in (DOSSIERS_DIR, VERSIONS_DIR):
        for path in sorted((data_dir / root).glob("*/*.parquet")):
            stat = path.stat()
            found.append([str(path.relative_to(data_dir)), stat.st_size, stat.st_mtime_ns])
    for name in (PERIOD_REPORTS_FILE, SURVEY_FILE):
        path = data_dir / name
        if path.exists():
            found.append([name, path.stat().st_size, path.stat().st_mtime_ns])
    return found


def as_of_folder(data_dir: str | os.PathLike[str], day: date) -> Path:
    """The folder ``DIR/.as-of/<day>`` holding the dossiers as they stood on ``day`` (built
    when missing or older than the folder's files); the caller prepares its cube."""
    source = Path(data_dir)
    target = source / AS_OF_DIR / day.isoformat()
    state = _state(source)
    stamp = target / _STATE_FILE
    if stamp.exists() and json.loads(stamp.read_text(encoding="utf-8")) == state:
        return target
    tmp = target.with_name(f".{day.isoformat()}.{os.getpid()}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        _build(source, tmp, pd.Timestamp(day) + pd.Timedelta(days=1))
        for name in (PERIOD_REPORTS_FILE, SURVEY_FILE):
            if (source / name).exists():
                shutil.copy2(source / name, tmp / name)
        info = read_dataset_info(source)
        info["as_of"] = day.isoformat()
        info.pop("snapshot_date", None)
        write_dataset_info(tmp, info)
        stamp_tmp = tmp / _STATE_FILE
        stamp_tmp.write_text(json.dumps(state), encoding="utf-8")
        shutil.rmtree(target, ignore_errors=True)
        tmp.rename(target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def _build(source: Path, out: Path, end: pd.Timestamp) -> None:
    """Current rows exported before ``end``; for the others, their newest version before it."""
    later: list[pd.Series] = []
    for area in dossier_areas(source):
        for path in area_files(source, area):
            for frame in iter_file_batches(path, area):
                stamp = frame["exported_at"]
                keep = (stamp.isna() | (stamp < end)).to_numpy(dtype=bool)
                if keep.any():
                    append_dossiers(frame[keep], out)
                if not keep.all():
                    later.append(frame.loc[~keep, "dossier_id"])
    if not later:
        return
    ids = pd.concat(later, ignore_index=True).astype(str).unique().tolist()
    field = ds.field("exported_at")
    chosen = ds.field("dossier_id").isin(ids) & (
        field.is_null() | (field < pa.scalar(end.to_pydatetime(), pa.timestamp("ms")))
    )
    pieces = [
        frame
        for area in version_areas(source)
        for path in area_files(source, area, root=VERSIONS_DIR)
        for frame in iter_file_batches(path, area, filter=chosen)
    ]
    if not pieces:
        return
    versions = pd.concat(pieces, ignore_index=True)
    versions["_order"] = range(len(versions))  # stored order breaks a tie of dates
    versions = versions.sort_values(["exported_at", "_order"], na_position="first", kind="stable")
    newest = versions.drop_duplicates("dossier_id", keep="last").drop(columns="_order")
    append_dossiers(newest, out)
