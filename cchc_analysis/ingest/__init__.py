"""ingest"""

from cchc_analysis.ingest.run import (
    CHUNK_ROWS,
    CONTENT,
    FREE_TEXT_COLUMNS,
    HEADER_SEARCH_ROWS,
    KEYS,
    REJECT_COLUMNS,
    REJECTS_DIR,
    REPORT_FILE,
    FileResult,
    IngestError,
    IngestOptions,
    ingest,
    summary_lines,
)

__all__ = [
    "REJECTS_DIR",
    "REPORT_FILE",
    "HEADER_SEARCH_ROWS",
    "CHUNK_ROWS",
    "FREE_TEXT_COLUMNS",
    "KEYS",
    "CONTENT",
    "REJECT_COLUMNS",
    "IngestError",
    "FileResult",
    "IngestOptions",
    "ingest",
    "summary_lines",
]
