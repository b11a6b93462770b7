"""An export read in memory: the rows ``cchc ingest`` would store, and the rows it would reject,
without a data folder.

The same code as ``cchc ingest`` reads and checks the file (``ingest.run.read_files``: header
search, aliases, personal-data columns dropped, IDs and phone numbers masked, every row
validated), settles repeated keys (``ingest.storing.settle_table``: a repeat with the same
content is a duplicate, with other content a conflict) and builds the rejects table and the
row account (``ingest.account``). Nothing is written: no folder, no rejects file, no report.
A buffer (bytes or a binary file object) is copied to a private temporary file for the
readers, which is removed before the call returns.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import IO, Any

import pandas as pd

from cchc_analysis.core.errors import IngestError
from cchc_analysis.core.schema import coerce_dossiers
from cchc_analysis.ingest.account import build_report, rejects_table
from cchc_analysis.ingest.run import ingest_options, read_files
from cchc_analysis.ingest.storing import settle_table
from cchc_analysis.ingest.tabular import MemorySink
from cchc_analysis.research.arguments import PeriodLike, as_period
from cchc_analysis.store.tables import coerce_period_reports, coerce_survey

Source = str | os.PathLike[str] | bytes | IO[bytes]
MEMORY = "<memory>"  # where the account says the rows went


@dataclass
class Export:
    """An export read in memory; unpacks as ``frame, rejects = cchc.read_export(...)``.

    Attributes
    ----------
    frame : pandas.DataFrame
        The accepted rows with canonical columns and dtypes (duplicates once).
    rejects : pandas.DataFrame
        One row per rejected input row: file, row, column, reason_code, reason, then the
        row's cells (personal columns dropped), as ``rejects/<kind>.csv`` would hold them.
    account : dict
        The row account of ``ingest_report.json``: rows_read == rows_accepted +
        rows_rejected, per file and in total, with reasons.
    """

    frame: pd.DataFrame
    rejects: pd.DataFrame
    account: dict[str, Any] = field(default_factory=dict)

    def __iter__(self) -> Iterator[pd.DataFrame]:
        return iter((self.frame, self.rejects))


def _is_buffer(source: Any) -> bool:
    return isinstance(source, bytes | bytearray | memoryview) or hasattr(source, "read")


def read_export(
    path_or_buffer: Source | Sequence[Source],
    kind: str = "dossiers",
    *,
    name: str | None = None,
    period: PeriodLike | None = None,
    province: str | None = None,
    sheet: str | None = None,
    unit: str | None = None,
    today: date | None = None,
    unit_map: str | os.PathLike[str] | None = None,
) -> Export:
    """Read export files (or buffers) as ``cchc ingest`` would, keeping everything in memory.

    Parameters
    ----------
    path_or_buffer : path, bytes, binary file object, or a list of them
        CSV (any encoding ingest reads) or XLSX.
    kind : {"dossiers", "survey", "period-report"}
    name : str, optional
        How a buffer is named in the rejects and the account (default ``"<buffer 1>"``…).
    period, province, sheet, unit, today, unit_map
        As for ``cchc ingest`` (``period`` and ``unit`` for a Biểu 06 sheet only).

    Returns
    -------
    Export
        ``frame, rejects = read_export(...)``; ``.account`` has the row account.

    Raises
    ------
    IngestError
        A file that cannot be used at all (as ``cchc ingest`` would exit 2).

    Examples
    --------
    >>> csv = "Mã hồ sơ,Mã đơn vị,Ngày tiếp nhận,Ngày hẹn trả,Trạng thái\\n" \\
    ...       "H1,314,02/08/2023,09/08/2023,Đang xử lý\\n"
    >>> frame, rejects = read_export(csv.encode("utf-8"))
    >>> len(frame), len(rejects)
    (1, 0)
    """
    sources = (
        [path_or_buffer]
        if isinstance(path_or_buffer, str | os.PathLike) or _is_buffer(path_or_buffer)
        else list(path_or_buffer)
    )
    if not sources:
        raise IngestError("no input files given")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="cchc-read-export-") as scratch:
        paths, shown = [], []
        for number, source in enumerate(sources, start=1):
            if _is_buffer(source):
                label = name if name and len(sources) == 1 else f"<buffer {number}>"
                data = _bytes_of(source)
                suffix = ".xlsx" if data.startswith(b"PK\x03\x04") else ".csv"  # as sources sniffs
                target = Path(scratch) / f"buffer-{number}{suffix}"
                target.write_bytes(data)
                paths.append(str(target))
                shown.append(label)
            else:
                paths.append(str(source))
                shown.append(str(source))
        options = ingest_options(
            paths,
            kind,
            MEMORY,
            period=as_period(period) if period is not None else None,
            province=province,
            sheet=sheet,
            unit=unit,
            today=today,
            unit_map=unit_map,
        )
        try:
            results = read_files(paths, options, MemorySink())
        except IngestError as exc:  # name the buffer as the caller knows it, not the copy
            message = str(exc)
            for path, label in zip(paths, shown, strict=True):
                message = message.replace(path, label)
            raise IngestError(message) from None
        settled = settle_table(results, kind, None)
        rejects = rejects_table(results, settled["conflicts"])
        for result, label in zip(results, shown, strict=True):
            result.name = label
    if len(rejects):
        rejects["file"] = rejects["file"].replace(dict(zip(paths, shown, strict=True)))
    outcome = {"per_file": settled["per_file"], "conflicts": settled["conflicts"], "outputs": {}}
    account = build_report(results, options, outcome, seconds=time.perf_counter() - started)
    account.pop("outputs", None)
    account["out_dir"] = MEMORY
    return Export(_canonical(settled["added"], kind), rejects, account)


def _bytes_of(source: Any) -> bytes:
    if isinstance(source, bytes | bytearray | memoryview):
        return bytes(source)
    data = source.read()
    if isinstance(data, str):  # a text buffer: ingest reads bytes, UTF-8 is what it was
        return data.encode("utf-8")
    return bytes(data)


def _canonical(frame: pd.DataFrame, kind: str) -> pd.DataFrame:
    if kind == "dossiers":
        return coerce_dossiers(frame).reset_index(drop=True)
    if kind == "survey":
        return coerce_survey(frame)
    return coerce_period_reports(frame)
