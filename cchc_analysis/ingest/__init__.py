"""ingest: the one-stop system's raw exports in, canonical rows in the store out.

What comes in: files as stewards download them (CSV in any of the encodings Vietnamese
offices use, XLSX with title rows, merged Biểu 06 headers), of one kind per run: dossier
exports, period reports (Biểu 06) or satisfaction surveys.

What goes out, into a data folder:
- canonical rows in the store (dossier partitions, period_reports.parquet, survey.parquet),
  keyed so that ingesting a file again adds nothing;
- ``rejects/<kind>.csv``: every row left out, with its source column and reason;
- ``ingest_report.json``: the row account, ``rows_read == rows_accepted + rows_rejected``.

The modules, in the order a run uses them: :mod:`sources` (bytes to cells), :mod:`headers` and
:mod:`bieu06` (where the columns are), :mod:`privacy` (personal-data columns dropped, IDs and
phone numbers masked), :mod:`parsing` (one cell to one value), :mod:`problems`,
:mod:`unit_matching` and the ``validate_*`` modules (row checks), :mod:`tabular` and
:mod:`period_report` (one file), :mod:`spool` and :mod:`storing` (duplicates, conflicts,
writing), :mod:`account` (report, rejects, summary) and :mod:`run` (``ingest()``).

What ingest never does: count indicators or build the cube (that is ``counting``, which starts
from the store), read anything but the files it is given and the folder it writes, or keep
personal data (names, ID and phone numbers never reach the store or the rejects file).
"""

from cchc_analysis.core.errors import IngestError
from cchc_analysis.ingest.account import (
    EXIT_FATAL,
    REJECT_COLUMNS,
    REJECTS_DIR,
    REPORT_FILE,
    FileResult,
    IngestOptions,
    has_changed_dossiers,
    summary_lines,
)
from cchc_analysis.ingest.headers import KINDS
from cchc_analysis.ingest.run import ingest
from cchc_analysis.ingest.storing import CONTENT, KEYS
from cchc_analysis.ingest.tabular import CHUNK_ROWS, FREE_TEXT_COLUMNS, HEADER_SEARCH_ROWS

__all__ = [
    "REJECTS_DIR",
    "REPORT_FILE",
    "HEADER_SEARCH_ROWS",
    "CHUNK_ROWS",
    "FREE_TEXT_COLUMNS",
    "KEYS",
    "CONTENT",
    "REJECT_COLUMNS",
    "EXIT_FATAL",
    "KINDS",
    "IngestError",
    "FileResult",
    "IngestOptions",
    "ingest",
    "has_changed_dossiers",
    "summary_lines",
]
