"""Where accepted rows go: each is added, a duplicate (same key, same content: counted, not
added again) or a conflict (same key, other content: rejected), against the other files of
the run and what the folder already holds. Dossiers are snapshots: a dossier id already held
with other content is an update (or a correction, or an older version), never a conflict,
unless one file gives it twice (:mod:`spool`).

    DIR/dossiers/area=<era>-<code>/part-<n>.parquet (kind dossiers, through the spool): the
                                                       current row of each dossier
    DIR/dossier_versions/area=<era>-<code>/part-<n>.parquet   every version, with its
                                                       snapshot date and file name
    DIR/period_reports.parquet                         (kind period-report)
    DIR/survey.parquet                                 (kind survey)

Keys are :data:`KEYS` (dossiers on dossier_id, survey rows on respondent_id, period reports on
unit × field × period); content is compared as a hash of :data:`CONTENT`. Period reports and
survey rows are settled in memory (small tables); dossiers in the spool (:mod:`spool`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd

from cchc_analysis import store
from cchc_analysis.core.schema import (
    COUNT_COLUMNS,
    DOSSIER_COLUMNS,
    SURVEY_COLUMNS,
    SURVEY_ITEM_COLUMNS,
)
from cchc_analysis.ingest.account import FileResult
from cchc_analysis.ingest.spool import DossierSpool
from cchc_analysis.store.tables import (
    PERIOD_REPORT_COLUMNS,
    coerce_period_reports,
    coerce_survey,
)

KEYS: Final[dict[str, tuple[str, ...]]] = {
    "dossiers": ("dossier_id",),
    "period-report": ("unit_code", "era", "field", "period_start", "period_end"),
    "survey": ("respondent_id",),
}
CONTENT: Final[dict[str, tuple[str, ...]]] = {
    "dossiers": tuple(DOSSIER_COLUMNS),
    "period-report": tuple(COUNT_COLUMNS),
    "survey": tuple(SURVEY_COLUMNS),
}


def _content_hash(frame: pd.DataFrame, columns: Sequence[str]) -> np.ndarray:
    if frame.empty:
        return np.zeros(0, dtype=np.uint64)
    return pd.util.hash_pandas_object(frame[list(columns)], index=False).to_numpy()


def _key_strings(frame: pd.DataFrame, key: Sequence[str]) -> pd.Series:
    parts = [frame[k].astype("string").fillna("") for k in key]
    joined = parts[0]
    for part in parts[1:]:
        joined = joined + "\x1f" + part
    return joined.reset_index(drop=True)


def _classify(
    batch: pd.DataFrame, existing: pd.DataFrame | None, key: Sequence[str], content: Sequence[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Per batch row: "added", "duplicate" (same key, same content) or "conflict", and the row
    it repeats: a batch position (>= 0) or ``-(existing position + 1)``."""
    n = len(batch)
    status = np.full(n, "added", dtype=object)
    reference = np.full(n, n, dtype=np.int64)
    batch_keys = _key_strings(batch, key)
    batch_hash = _content_hash(batch, content)
    in_existing = np.zeros(n, dtype=bool)
    if existing is not None and len(existing):
        existing_keys = _key_strings(existing, key)
        existing_hash = _content_hash(existing, content)
        unique = ~existing_keys.duplicated().to_numpy()
        index = pd.Index(existing_keys[unique])
        where = index.get_indexer(batch_keys)
        positions = np.flatnonzero(unique)
        in_existing = where >= 0
        found = positions[where[in_existing]]
        same = existing_hash[found] == batch_hash[in_existing]
        status[np.flatnonzero(in_existing)[same]] = "duplicate"
        status[np.flatnonzero(in_existing)[~same]] = "conflict"
        reference[in_existing] = -(found + 1)
    rest = np.flatnonzero(~in_existing)
    codes, _ = pd.factorize(batch_keys.iloc[rest])
    _, first_of_code = np.unique(codes, return_index=True)
    first = rest[first_of_code[codes]]
    later = first != rest
    same = batch_hash[first] == batch_hash[rest]
    status[rest[later & same]] = "duplicate"
    status[rest[later & ~same]] = "conflict"
    reference[rest[later]] = first[later]
    return status, reference


def _differing(a: pd.Series, b: pd.Series, columns: Sequence[str]) -> list[str]:
    out = []
    for column in columns:
        x, y = a.get(column), b.get(column)
        if pd.isna(x) and pd.isna(y):
            continue
        if pd.isna(x) or pd.isna(y) or x != y:
            out.append(column)
    return out


def _read_existing(kind: str, out: Path) -> pd.DataFrame:
    """The period reports or survey rows the folder already holds."""
    name = store.PERIOD_REPORTS_FILE if kind == "period-report" else store.SURVEY_FILE
    coerce = coerce_period_reports if kind == "period-report" else coerce_survey
    existing = store.read_table(out, name)
    return coerce(pd.DataFrame() if existing is None else existing)


def _conflict_message(kind: str, shown: str, differs: list[str], origin: str) -> str:
    label = "dossier id" if kind == "dossiers" else "key"
    return (
        f"duplicate {label} {shown} with conflicting content (differs from {origin} "
        f"in: {', '.join(differs[:5]) or 'content'})"
    )


def settle_table(
    results: list[FileResult], kind: str, existing: pd.DataFrame | None, *, stored_in: str = ""
) -> dict[str, Any]:
    """Each accepted row added, a duplicate or a conflict, against the other files' rows and
    ``existing`` (the rows stored in ``stored_in``; None: nothing stored). Returns
    ``per_file`` (status counts), ``conflicts`` ((file, position) -> row, columns, message)
    and ``added`` (the rows to add, canonical columns)."""
    frames = []
    for index, result in enumerate(results):
        if result.accepted is None:
            continue
        frame = result.accepted.copy()
        frame["_file"] = index
        frames.append(frame)
    batch = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    key, content = KEYS[kind], CONTENT[kind]
    columns = {
        "period-report": list(PERIOD_REPORT_COLUMNS),
        "survey": list(SURVEY_COLUMNS),
        "dossiers": list(DOSSIER_COLUMNS),
    }[kind]
    status = np.full(len(batch), "added", dtype=object)
    conflicts: dict[tuple[int, int], tuple[int, str, str]] = {}  # (file, pos) -> row, col, why
    if len(batch):
        status, reference = _classify(batch, existing, key, content)
        for i in np.flatnonzero(status == "conflict").tolist():
            ref = int(reference[i])
            if ref < 0:
                assert existing is not None  # a negative reference is a row of the folder
                other = existing.iloc[-ref - 1]
                origin = f"the row already in {stored_in}"
            else:
                other = batch.iloc[ref]
                origin = f"{results[int(other['_file'])].name} row {int(other['_row'])}"
            differs = _differing(batch.iloc[i], other, content)
            values = [batch[k].iat[i] for k in key]
            # pandas-stubs type a cell as any scalar, which neither isna nor int() accepts.
            shown = " / ".join(str(x) for x in values if not pd.isna(x))  # type: ignore[arg-type]
            file_index = int(batch["_file"].iat[i])  # type: ignore[arg-type]
            position = int(batch["_pos"].iat[i])  # type: ignore[arg-type]
            conflicts[(file_index, position)] = (
                int(batch["_row"].iat[i]),  # type: ignore[arg-type]
                ", ".join(differs[:5]),
                _conflict_message(kind, shown, differs, origin),
            )
    added = batch[status == "added"][columns] if len(batch) else batch
    per_file_status = {}
    for index in range(len(results)):
        mask = (batch["_file"] == index).to_numpy() if len(batch) else np.zeros(0, bool)
        per_file_status[index] = Counter(status[mask])
    return {"per_file": per_file_status, "conflicts": conflicts, "added": added}


def store_table(results: list[FileResult], kind: str, out: Path) -> dict[str, Any]:
    """Period reports and survey rows: de-duplicate the accepted rows against each other and
    the folder (in memory: these tables are small), then write."""
    has_rows = any(r.accepted is not None and len(r.accepted) for r in results)
    existing = _read_existing(kind, out) if has_rows else None
    settled = settle_table(results, kind, existing, stored_in=str(out))
    added = settled["added"]
    key = KEYS[kind]
    outputs: dict[str, Any] = {}
    if len(added):
        name = store.PERIOD_REPORTS_FILE if kind == "period-report" else store.SURVEY_FILE
        combined = pd.concat([existing, added], ignore_index=True)
        combined = combined.sort_values(list(key), na_position="first", kind="stable")
        if kind == "survey":
            combined = _plain_scores(combined)
        store.write_table(combined.reset_index(drop=True), out, name)
        outputs["data"] = str(out / name)
    return {
        "per_file": settled["per_file"],
        "conflicts": settled["conflicts"],
        "outputs": outputs,
    }


def store_dossiers(results: list[FileResult], out: Path, spool: DossierSpool) -> dict[str, Any]:
    """Dossiers: upsert the spooled rows on dossier_id (:mod:`spool`: added, updated,
    corrected, unchanged, older; a file repeating an id with other content is a conflict),
    write the versions and current rows (the cube is the caller's:
    counting.prepare.prepare_folder)."""
    spool.classify()
    conflicts: dict[tuple[int, int], tuple[int, str, str]] = {}
    if spool.conflicts:
        frame, lookup = spool.conflict_rows()
        for seq, row in frame.iterrows():
            # pandas-stubs type a row label as Hashable; here it is the spool's integer _seq.
            other, file_index = lookup(spool.conflicts[int(seq)])  # type: ignore[call-overload]
            origin = f"{results[file_index or 0].name} row {int(other['_row'])}"
            differs = _differing(row, other, CONTENT["dossiers"])
            conflicts[(int(row["_file"]), int(row["_pos"]))] = (
                int(row["_row"]),
                ", ".join(differs[:5]),
                _conflict_message("dossiers", str(row["dossier_id"]), differs, origin),
            )
    outputs: dict[str, Any] = {}
    fixes = spool.corrections()
    corrections = [
        {
            "dossier_id": str(row.dossier_id),
            "unit_code": str(row.unit_code),
            "status": str(row.status),
            "file": Path(results[file_index].name).name,
        }
        for row, file_index in zip(fixes.itertuples(), fixes["_file"].tolist(), strict=True)
    ]
    if spool.has_changes():
        spool.write()
        outputs["data"] = str(out / store.DOSSIERS_DIR)
        outputs["versions"] = str(out / store.VERSIONS_DIR)
    if store.has_dossiers(out):
        # Derived from the dossiers, brought up to date by counting.prepare.prepare_folder
        # (``cchc ingest`` calls it after this): ingest itself never counts.
        outputs["cube"] = str(out / store.CUBE_FILE)
    changed = [
        {"unit_code": unit, "period": period, "dossier_count": count}
        for (unit, period), count in sorted(spool.changed_months.items())
    ]
    return {
        "per_file": {index: spool.file_counts(index) for index in range(len(results))},
        "conflicts": conflicts,
        "outputs": outputs,
        "corrections": corrections,
        "changed_closed_periods": changed,
        "snapshots": {
            Path(results[i].name).name: stamp.isoformat() for i, stamp in spool.exported.items()
        },
    }


def _plain_scores(survey: pd.DataFrame) -> pd.DataFrame:
    """Survey scores as numpy numbers (int64, or float64 with NaN for unanswered items), the
    types the statistics and reports expect (as in the demo's survey.parquet)."""
    out = survey.copy()
    for column in SURVEY_ITEM_COLUMNS:
        values = out[column]
        out[column] = values.astype("float64") if values.isna().any() else values.astype("int64")
    return out
