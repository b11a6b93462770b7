"""Counts per unit × any grouping of dossier columns (procedure, channel, online level, tier).

The cube holds unit × month × field × channel; a procedure grouping needs dossier rows. Two
engines give the same numbers (a test checks every count):

* ``"duckdb"`` (the default): the ``bieu06_flags`` macro (:mod:`.sql`) over the Parquet files,
  reading only the columns and row groups the query needs; a province-year by procedure takes
  a fraction of a second (bench/bench_research.py);
* ``"python"``: the dossier rows read with pyarrow and counted by
  ``counting.cube.period_counts`` (the package's reference rules), in memory.

Either way the unit each row counts for comes from ``counting.unit_keys``: the same levels,
tiers, eras and crosswalks as ``kpi_table``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import duckdb
import pandas as pd
import pyarrow.dataset as ds

from cchc_analysis import store
from cchc_analysis.core.errors import UnitNotInDataError
from cchc_analysis.core.metrics import TABLE_COUNT_COLUMNS
from cchc_analysis.counting.cube import CUBE_INPUT_COLUMNS, period_counts
from cchc_analysis.counting.query import CountQuery
from cchc_analysis.counting.unit_keys import KEY_COLUMNS, unit_keys
from cchc_analysis.research.sql import NOT_IN_SQL

Engine = Literal["duckdb", "python"]
ENGINES: tuple[str, ...] = ("duckdb", "python")
_NO_VALUE = "\x00"  # stands for a missing grouping value while pandas groups


def _combinations(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The distinct (area, unit_level, unit_code, district_code) of the folder's dossiers."""
    columns = ", ".join(KEY_COLUMNS)
    frame: pd.DataFrame = con.sql(f"SELECT DISTINCT {columns} FROM dossiers").df()
    return frame


def chosen_keys(con: duckdb.DuckDBPyConnection, query: CountQuery) -> pd.DataFrame:
    keys = unit_keys(_combinations(con), query)
    keys = keys[keys["group_code"].notna()]
    if query.unit_codes:
        present = set(keys["group_code"])  # built once: the nation has 3,321 communes
        missing = [c for c in query.unit_codes if c not in present]
        if missing:
            raise UnitNotInDataError(
                f"unit {', '.join(missing)} has no dossiers for level {query.level}, era "
                f"{query.era} in this folder"
            )
        keys = keys[keys["group_code"].isin(query.unit_codes)]
    return keys.reset_index(drop=True)


def _join_condition(left: str, right: str) -> str:
    return " AND ".join(
        f"coalesce({left}.{c}, '') = coalesce({right}.{c}, '')" for c in KEY_COLUMNS
    )


def grouped_counts(
    con: duckdb.DuckDBPyConnection,
    data_dir: str | os.PathLike[str],
    query: CountQuery,
    by: Sequence[str],
    *,
    engine: Engine = "duckdb",
) -> pd.DataFrame:
    """Biểu 06 counts per unit of ``query`` × the dossier columns ``by``, for its period.

    Columns: unit_code, the ``by`` columns, period_start, period_end, the counts,
    ``approximate`` (a crosswalk share was attributed whole, as in ``rollup``) and, with
    ``procedure_code``, ``procedure_name`` (the first in text order where a code has
    several). Rows with nothing received are left out, as ``count_table`` leaves them.
    """
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, not {engine!r}")
    keys = chosen_keys(con, query)
    by = list(by)
    period = query.period
    if keys.empty:
        counts = pd.DataFrame(columns=["unit_code", *by, *TABLE_COUNT_COLUMNS, "approximate"])
        if "procedure_code" in by:
            counts["procedure_name"] = pd.Series(dtype="string")
    elif engine == "duckdb":
        counts = _duckdb_counts(con, keys, query, by)
    else:
        counts = _python_counts(Path(data_dir), keys, query, by)
    counts.insert(1 + len(by), "period_start", pd.Timestamp(period.start))
    counts.insert(2 + len(by), "period_end", pd.Timestamp(period.end))
    exact = [c for c in TABLE_COUNT_COLUMNS if c not in NOT_IN_SQL]
    counts[exact] = counts[exact].astype("int64")
    # The 766 counts need the working-day calendar: the DuckDB engine leaves them missing.
    counts[list(NOT_IN_SQL)] = counts[list(NOT_IN_SQL)].astype("Int64")
    counts["approximate"] = counts["approximate"].astype(bool)
    return counts.sort_values(["unit_code", *by], kind="stable").reset_index(drop=True)


def _duckdb_counts(
    con: duckdb.DuckDBPyConnection, keys: pd.DataFrame, query: CountQuery, by: list[str]
) -> pd.DataFrame:
    """Two sums, exact because counts add up: per stored (area, tier, unit, district) × ``by``
    over the dossier rows (a plain scan), then per unit of the query over those few rows (the
    join to the unit keys costs rows of the first sum, not dossiers)."""
    con.register("_unit_keys", keys[[*KEY_COLUMNS, "group_code", "approximate"]])
    try:
        areas = ", ".join(f"'{a}'" for a in sorted(keys["area"].unique()))
        stored = ", ".join([*KEY_COLUMNS, *by])
        named = "procedure_code" in by
        first_names = ", min(procedure_name) AS procedure_name" if named else ""
        second_names = ", min(g.procedure_name) AS procedure_name" if named else ""
        sums = ", ".join(f"SUM({c})::BIGINT AS {c}" for c in TABLE_COUNT_COLUMNS)
        resums = ", ".join(f"SUM(g.{c})::BIGINT AS {c}" for c in TABLE_COUNT_COLUMNS)
        grouped = ", ".join(f"g.{c}" for c in by)
        sql = f"""
            WITH g AS (
                SELECT {stored}, {sums}{first_names}
                FROM bieu06_flags($first, $last)
                WHERE area IN ({areas})
                GROUP BY {stored}
            )
            SELECT k.group_code AS unit_code, {grouped}, {resums},
                bool_or(k.approximate) AS approximate{second_names}
            FROM g JOIN _unit_keys AS k ON {_join_condition("g", "k")}
            GROUP BY k.group_code, {grouped}
            HAVING SUM(g.received_total_count) > 0
        """
        params = {"first": query.period.start, "last": query.period.end}
        frame = con.execute(sql, params).df()
    finally:
        con.unregister("_unit_keys")
    for column in ("unit_code", *by, *(["procedure_name"] if named else [])):
        frame[column] = frame[column].astype("string")
    return frame


def _python_counts(
    data_dir: Path, keys: pd.DataFrame, query: CountQuery, by: list[str]
) -> pd.DataFrame:
    dataset = store.dossier_dataset(data_dir)
    named = "procedure_code" in by
    wanted = dict.fromkeys(
        [*CUBE_INPUT_COLUMNS, *KEY_COLUMNS, *by, *(["procedure_name"] if named else [])]
    )
    columns = [c for c in wanted if c in dataset.schema.names]
    last = pd.Timestamp(query.period.end) + pd.Timedelta(days=1)
    condition = ds.field(store.PARTITION_COLUMN).isin(sorted(keys["area"].unique())) & (
        ds.field("received_at") < last
    )
    rows = dataset.to_table(columns=columns, filter=condition).to_pandas()
    for column in wanted:
        if column not in rows:
            rows[column] = pd.Series(pd.NA, index=rows.index, dtype="string")
    join = list(KEY_COLUMNS)
    left = rows[join].astype("string").fillna("")
    right = keys[join].astype("string").fillna("")
    lookup = right.assign(group_code=keys["group_code"], approximate=keys["approximate"])
    matched = left.merge(lookup, on=join, how="left")
    rows["group_code"] = matched["group_code"].to_numpy()
    rows["approximate"] = matched["approximate"].fillna(False).to_numpy(dtype=bool)
    rows = rows[rows["group_code"].notna()]
    for column in by:  # a missing value is a group of its own ("no data"), as in SQL
        rows[column] = rows[column].astype("string").fillna(_NO_VALUE)
    counts = period_counts(rows, query.period, by=["group_code", *by])
    counts = counts[counts["received_total_count"] > 0]
    approximate = rows.groupby(["group_code", *by], observed=True)["approximate"].any()
    counts = counts.drop(columns=["period_start", "period_end"])
    counts = counts.merge(approximate.reset_index(), on=["group_code", *by], how="left")
    if named:
        names = rows.groupby(["group_code", *by], observed=True)["procedure_name"].min()
        counts = counts.merge(names.reset_index(), on=["group_code", *by], how="left")
        counts["procedure_name"] = counts["procedure_name"].astype("string")
    for column in by:
        values = counts[column].astype("string")
        counts[column] = values.where(values != _NO_VALUE)
    return counts.rename(columns={"group_code": "unit_code"})
