"""One report to render: a light module, so that a worker process unpacks the jobs it is sent
without importing the planning stack (pandas, DuckDB)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class ReportJob:
    """One notebook to execute and render; carries the notebook's text so that a remote
    (Dask) worker needs only the package and the data folder, not this checkout."""

    kind: str  # district | commune | province
    unit_code: str
    unit_name: str
    notebook: str
    html_name: str
    parameters: dict[str, Any]
    input_hash: str = ""
    notebook_text: str = ""
    # The dossier areas its input hash reads (empty: all); None for an overview until it is
    # hashed, which finds its province's areas (plan.hash_job).
    areas: tuple[str, ...] | None = ()
