"""Store: the on-disk layout of a data folder, and reads that touch only what a caller needs.

In: canonical tables (dossier rows, period reports, survey answers, the cube) and the folder's
``dataset.json``. Out: the same tables read back whole or in part (one district's partition,
some rows of a table, a column's maximum, record batches), with stable dtypes
(``store.tables``), the folder checks (``check_data_dir``, ``has_dossiers``), and files'
digests kept by the files' state (``store.digests``), so a run does not hash unchanged data again.

Store never interprets: it does not count, validate or rename anything, and knows nothing of
units, periods or indicators; what a column means is decided above it (``ingest`` writes,
``counting`` and ``reports`` read).
"""

from cchc_analysis.core.errors import DataFolderError
from cchc_analysis.store.as_of import AS_OF_DIR, as_of_folder
from cchc_analysis.store.digests import CACHE_FILE as DIGESTS_FILE
from cchc_analysis.store.digests import DigestCache, file_state, folder_digests
from cchc_analysis.store.dossiers import (
    DOSSIERS_DIR,
    PARTITION_COLUMN,
    SNAPSHOT_COLUMNS,
    VERSIONS_DIR,
    append_dossiers,
    area_files,
    area_key,
    area_parts,
    copy_dossier_files,
    dossier_areas,
    dossier_dataset,
    dossier_frame,
    dossier_partitions,
    has_dossiers,
    iter_dossier_batches,
    iter_file_batches,
    read_dossiers,
    row_area_array,
    row_areas,
    upgrade_layout,
    version_areas,
    write_dossiers,
)
from cchc_analysis.store.folder import (
    CUBE_FILE,
    DATA_ENV,
    DATASET_FILE,
    PERIOD_REPORTS_FILE,
    PROJECT_DIR,
    SURVEY_FILE,
    check_data_dir,
    read_dataset_info,
    read_table,
    read_table_max,
    read_table_rows,
    resolve_data_dir,
    write_dataset_info,
    write_table,
)

__all__ = [
    # the layout of a data folder
    "DOSSIERS_DIR",
    "VERSIONS_DIR",
    "SNAPSHOT_COLUMNS",
    "PARTITION_COLUMN",
    "CUBE_FILE",
    "PERIOD_REPORTS_FILE",
    "SURVEY_FILE",
    "DATASET_FILE",
    "DATA_ENV",
    "PROJECT_DIR",
    "DataFolderError",
    # finding and checking a folder
    "resolve_data_dir",
    "check_data_dir",
    "has_dossiers",
    "dossier_partitions",
    "dossier_areas",
    "dossier_dataset",
    # dossier partitions, keyed by era and area
    "area_key",
    "area_parts",
    "row_area_array",
    "row_areas",
    "area_files",
    "upgrade_layout",
    "write_dossiers",
    "append_dossiers",
    "copy_dossier_files",
    "read_dossiers",
    "iter_dossier_batches",
    "iter_file_batches",
    "dossier_frame",
    "version_areas",
    # the folder as it stood on a day (snapshots)
    "AS_OF_DIR",
    "as_of_folder",
    # single-file tables
    "read_table",
    "read_table_rows",
    "read_table_max",
    "write_table",
    # dataset.json
    "read_dataset_info",
    "write_dataset_info",
    # files' digests kept across runs by the files' state
    "DIGESTS_FILE",
    "DigestCache",
    "file_state",
    "folder_digests",
]
