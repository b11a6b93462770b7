"""SQL over a data folder with DuckDB: views over the stored tables and the Biểu 06 rules as
table macros, so a query in SQL counts exactly as the package does.

Views (read in place, nothing copied): ``dossiers`` (every partition; the ``area`` key is
text, every canonical column present, null where no file has it), ``cube``, ``survey`` and
``period_reports`` (when the folder holds them) and ``units`` (the registry of both eras).

Table macros, generated from the package's own constants (``core.schema``,
``core.metrics``), so they cannot drift from the Python rules without a test failing:

* ``bieu06_flags(first_day, last_day)``: each dossier received by ``last_day`` with one 0/1
  column per count (``received_new_count`` … ``satisfied_count``), as
  ``counting.cube.dossier_flags`` gives them;
* ``bieu06(first_day, last_day, key)``: the counts and every catalogue rate per value of
  ``key`` (a column, a tuple of columns such as ``(field, channel)``, or a constant).

Example::

    con = cchc.sql("data/demo")
    con.sql("SELECT * FROM bieu06('2023-07-01', '2023-09-30', field) ORDER BY 2 DESC")

DuckDB is also the package's path for counts grouped by procedure, channel or online level
(``Workbook.kpis(by=...)``): it reads only the columns and row groups a query needs.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd

from cchc_analysis import store, units
from cchc_analysis.core.metrics import (
    COVERAGE_BY_KNOWN,
    DERIVED_COUNTS,
    RATE_DEFINITIONS,
    TABLE_COUNT_COLUMNS,
    RateDefinition,
)
from cchc_analysis.core.schema import (
    CLOSED_WITHOUT_DATE_STATUSES,
    CLOSED_WITHOUT_RESULT_STATUSES,
    DOSSIER_DTYPES,
    NOT_RECEIVED_STATUSES,
)

# The 766 progress criterion moves each deadline by the working days a dossier waited for the
# citizen (counting.deadline766, on the holiday calendar): not written in SQL. These counts are
# NULL here, and so is timeliness_766_rate; ``cchc.open(...).kpis`` gives them.
NOT_IN_SQL = ("timely_766_count", "waiting_late_766_count")

SATISFIED_RATINGS = ("satisfied", "very_satisfied")  # as counting.cube counts them
_SQL_TYPES = {
    "string": "VARCHAR",
    "category": "VARCHAR",
    "boolean": "BOOLEAN",
    "datetime64[ms]": "TIMESTAMP",
}


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _in_list(values: Sequence[str]) -> str:
    return "(" + ", ".join(_literal(v) for v in sorted(values)) + ")"


def _dossiers_view(con: duckdb.DuckDBPyConnection, data_dir: Path) -> None:
    """The dossiers view: every canonical column (typed null when no file has it), ``area``."""
    root = data_dir / store.DOSSIERS_DIR
    has_files = any(root.glob(f"{store.PARTITION_COLUMN}=*/*.parquet"))
    if has_files:
        pattern = _literal(str(root / f"{store.PARTITION_COLUMN}=*" / "*.parquet"))
        source = (
            f"read_parquet({pattern}, hive_partitioning = true, "
            f"hive_types = {{'{store.PARTITION_COLUMN}': VARCHAR}}, union_by_name = true)"
        )
        present = {row[0] for row in con.sql(f"DESCRIBE SELECT * FROM {source}").fetchall()}
    else:
        source, present = "(SELECT NULL AS area WHERE false)", set()
    columns = [
        column if column in present else f"CAST(NULL AS {_SQL_TYPES[dtype]}) AS {column}"
        for column, dtype in DOSSIER_DTYPES.items()
    ]
    columns.append(f"CAST({store.PARTITION_COLUMN} AS VARCHAR) AS {store.PARTITION_COLUMN}")
    con.execute(f"CREATE OR REPLACE VIEW dossiers AS SELECT {', '.join(columns)} FROM {source}")


def _flags_macro() -> str:
    """``bieu06_flags``: the rules of ``counting.cube.dossier_flags``, one 0/1 column each."""
    without_result = _in_list(sorted(CLOSED_WITHOUT_RESULT_STATUSES))
    never = _in_list(sorted(NOT_RECEIVED_STATUSES))
    undated = _in_list(sorted(CLOSED_WITHOUT_DATE_STATUSES))
    satisfied = _in_list(SATISFIED_RATINGS)
    flags = {
        "received_new_count": "_new",
        "received_online_count": "_new AND _online",
        "received_offline_count": "_new AND NOT _online AND channel IS NOT NULL",
        "carried_over_count": "_carried",
        "received_total_count": "_in_scope",
        "resolved_early_count": "_resolved_in AND _closed < _due",
        "resolved_on_time_count": "_resolved_in AND _closed = _due",
        "resolved_late_count": "_resolved_in AND _closed > _due",
        "resolved_total_count": "_resolved_in",
        "pending_in_time_count": "_pending AND _due >= _last",
        "pending_late_count": "_pending AND _due < _last",
        "pending_total_count": "_pending",
        "online_full_count": "_new AND _online AND online_level = 'full'",
        "online_partial_count": "_new AND _online AND online_level = 'partial'",
        "withdrawn_count": "_closed_in AND _without_result",
        "digitized_count": "_new AND coalesce(is_digitized, false)",
        "fee_bearing_count": "_new AND coalesce(is_fee_bearing, false)",
        "paid_online_count": "_new AND coalesce(is_fee_bearing, false) "
        "AND coalesce(is_paid_online, false)",
        "rated_count": "_resolved_in AND rating IS NOT NULL",
        "satisfied_count": f"_resolved_in AND rating IS NOT NULL AND rating IN {satisfied}",
        "refused_count": "_in_period AND status = 'refused'",
        "awaiting_intake_count": "_in_period AND status = 'awaiting_intake'",
        "out_of_area_count": "_new AND coalesce(is_out_of_area, false)",
        # The known counts (core.metrics.COVERAGES): how many base rows had the column.
        "channel_known_count": "_new AND channel IS NOT NULL",
        "online_level_known_count": "_new AND _online AND online_level IS NOT NULL",
        "digitized_known_count": "_new AND is_digitized IS NOT NULL",
        "fee_known_count": "_new AND is_fee_bearing IS NOT NULL",
        "paid_online_known_count": "_new AND coalesce(is_fee_bearing, false) "
        "AND is_paid_online IS NOT NULL",
        "home_unit_known_count": "_new AND is_out_of_area IS NOT NULL",
    }
    missing = set(TABLE_COUNT_COLUMNS) - set(flags) - set(NOT_IN_SQL)
    if missing:  # a count added to the schema must be given its SQL rule here
        raise RuntimeError(f"no SQL rule for {sorted(missing)}")
    selected = ",\n        ".join(
        f"CAST(coalesce({flags[name]}, false) AS INTEGER) AS {name}"
        if name in flags
        else f"CAST(NULL AS INTEGER) AS {name}"
        for name in TABLE_COUNT_COLUMNS
    )
    helpers = (
        "_received, _due, _closed, _first, _last, _online, _without_result, _is_received, "
        "_in_period, _new, _carried, _in_scope, _closed_in, _resolved_in, _pending"
    )
    return f"""
CREATE OR REPLACE MACRO bieu06_flags(first_day, last_day) AS TABLE
WITH days AS (
    SELECT *,
        CAST(received_at AS DATE) AS _received,
        CAST(due_at AS DATE) AS _due,
        -- never received: never open nor closed; withdrawn or stopped without a date: closed
        -- on the day received (counting.cube.closing_days)
        CASE
            WHEN status IN {never} THEN NULL
            WHEN resolved_at IS NULL AND status IN {undated} THEN CAST(received_at AS DATE)
            ELSE CAST(resolved_at AS DATE)
        END AS _closed,
        CAST(first_day AS DATE) AS _first,
        CAST(last_day AS DATE) AS _last,
        coalesce(channel = 'online', false) AS _online,
        coalesce(status IN {without_result}, false) AS _without_result,
        NOT coalesce(status IN {never}, false) AS _is_received
    FROM dossiers
    WHERE CAST(received_at AS DATE) <= CAST(last_day AS DATE)
), scope AS (
    SELECT *,
        coalesce(_received >= _first AND _received <= _last, false) AS _in_period,
        _is_received AND coalesce(_received >= _first AND _received <= _last, false) AS _new,
        _is_received
            AND coalesce(_received < _first AND (_closed IS NULL OR _closed >= _first), false)
            AS _carried
    FROM days
), closing AS (
    SELECT *,
        _new OR _carried AS _in_scope,
        (_new OR _carried) AND _closed IS NOT NULL AND _closed >= _first AND _closed <= _last
            AS _closed_in,
        (_new OR _carried) AND (_closed IS NULL OR _closed > _last) AS _pending
    FROM scope
), resolving AS (
    SELECT *, _closed_in AND NOT _without_result AS _resolved_in FROM closing
)
SELECT * EXCLUDE ({helpers}),
        {selected}
FROM resolving
"""


def _rate_sql(rate: RateDefinition) -> str:
    """A rate as ``core.metrics.add_metrics`` takes it: over the denominator's rows whose input
    is known (less the base's unknown rows), NULL when none is."""
    numerator = f"({' + '.join(rate.numerator)})::DOUBLE"
    denominator = rate.denominator
    cover = COVERAGE_BY_KNOWN.get(rate.coverage)
    if cover is None:
        return f"CASE WHEN {denominator} > 0 THEN {numerator} / {denominator} END AS {rate.name}"
    known, base = cover.known, cover.base
    effective = f"({denominator} - ({base} - {known}))"
    return (
        f"CASE WHEN {known} = 0 AND {base} > 0 THEN NULL WHEN {effective} > 0 "
        f"THEN {numerator} / {effective} END AS {rate.name}"
    )


def _counts_macro() -> str:
    """``bieu06``: counts per key, the derived counts and every rate of the catalogue."""
    sums = ",\n        ".join(f"SUM({name})::BIGINT AS {name}" for name in TABLE_COUNT_COLUMNS)
    derived = [f"{' + '.join(parts)} AS {name}" for name, parts in DERIVED_COUNTS.items()]
    rates = [_rate_sql(rate) for rate in RATE_DEFINITIONS]
    return f"""
CREATE OR REPLACE MACRO bieu06(first_day, last_day, key) AS TABLE
SELECT *, {", ".join([*derived, *rates])}
FROM (
    SELECT key AS group_key,
        {sums}
    FROM bieu06_flags(first_day, last_day)
    GROUP BY ALL
    HAVING SUM(received_total_count) > 0
)
"""


def _table_view(con: duckdb.DuckDBPyConnection, name: str, path: Path) -> None:
    if path.exists():
        con.execute(
            f"CREATE OR REPLACE VIEW {name} AS SELECT * FROM read_parquet({_literal(str(path))})"
        )


def connect(
    data_dir: str | os.PathLike[str] | None = None, *, database: str = ":memory:"
) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with the data folder's views and the Biểu 06 macros.

    Parameters
    ----------
    data_dir : path, optional
        The data folder; when omitted, ``CCHC_DATA``, else the working directory.
    database : str
        DuckDB's database (``":memory:"``: nothing is written anywhere).

    Returns
    -------
    duckdb.DuckDBPyConnection
        ``con.sql("...").df()`` gives a pandas frame.

    Examples
    --------
    >>> con = connect(data_dir)  # doctest: +SKIP
    >>> con.sql("SELECT count(*) FROM dossiers").fetchall()[0][0] > 0  # doctest: +SKIP
    True
    """
    path = store.check_data_dir(store.resolve_data_dir(data_dir))
    con = duckdb.connect(database)
    with contextlib.suppress(duckdb.Error):
        # A terminal's output stays clean. (In Jupyter without ipywidgets DuckDB shows no bar
        # and refuses to change the setting.)
        con.execute("SET enable_progress_bar = false")
    _dossiers_view(con, path)
    _table_view(con, "cube", path / store.CUBE_FILE)
    _table_view(con, "survey", path / store.SURVEY_FILE)
    _table_view(con, "period_reports", path / store.PERIOD_REPORTS_FILE)
    registry = pd.concat([units.units_table(era) for era in units.ERAS], ignore_index=True).drop(
        columns=["name_key"]
    )
    con.register("_units", registry)
    con.execute("CREATE OR REPLACE TABLE units AS SELECT * FROM _units")
    con.unregister("_units")
    con.execute(_flags_macro())
    con.execute(_counts_macro())
    return con


def day_text(day: date) -> str:
    """A day as the macros take it."""
    return day.isoformat()
