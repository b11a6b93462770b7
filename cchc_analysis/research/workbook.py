"""The researcher's front door: ``cchc.open(data_dir)`` gives a :class:`Workbook` over a folder.

One object answers the questions a researcher asks of a data folder, each in one call that
takes periods and units in any of the forms :mod:`.arguments` reads, and returns a pandas
frame in the order asked, with unit names, ready for :mod:`.results` (``to_excel``,
``with_intervals``):

* :meth:`Workbook.kpis`: Biểu 06 counts and every catalogue rate, per unit, grouped further
  ``by`` field, procedure, channel, online level or tier, one row per month, quarter, half or
  year with ``freq`` (each computed as its own period: stocks are never summed months);
* :meth:`Workbook.dossiers`, :meth:`Workbook.survey`: rows, filtered in the Parquet reader;
* :meth:`Workbook.compare`: two units' rates, their difference with interval and test;
* :attr:`Workbook.definitions`: the metric catalogue; :meth:`Workbook.sql`: DuckDB.

Where the numbers come from: per unit (× field), ``counting.kpi_table`` (the monthly cube for
month-aligned periods, dossier rows otherwise: the reports' own path); any other grouping,
:mod:`.grouped` (DuckDB over the Parquet files, with the same rules and units).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow.dataset as ds

from cchc_analysis import store, units
from cchc_analysis.core.errors import UnitNotInDataError, UsageError
from cchc_analysis.core.metrics import RATE_DEFINITIONS, add_metrics, null_unknown_counts
from cchc_analysis.core.periods import Period
from cchc_analysis.core.schema import DOSSIER_COLUMNS, coerce_dossiers
from cchc_analysis.counting import CountQuery, kpi_table
from cchc_analysis.counting.aggregates import mark_undefined
from cchc_analysis.counting.former_districts import former_district_name
from cchc_analysis.counting.kpis import unit_label
from cchc_analysis.counting.query import ERA_2025_LEVELS, LEVELS, Level, Tier
from cchc_analysis.research import grouped, results
from cchc_analysis.research.arguments import (
    BY_COLUMNS,
    PeriodLike,
    UnitsLike,
    as_by,
    as_period,
    as_unit_codes,
    split_period,
)
from cchc_analysis.research.compare import compare_rates
from cchc_analysis.research.sql import NOT_IN_SQL, connect


class Workbook:
    """A data folder opened for research (see :func:`open`).

    Parameters
    ----------
    data_dir : path, optional
        The data folder; when omitted, ``CCHC_DATA``, else the working directory. Nothing
        else is tried: a folder that is not there is an error naming it.

    Attributes
    ----------
    data_dir : pathlib.Path
        The folder read.
    info : dict
        Its ``dataset.json`` (source, dates, provinces).
    """

    def __init__(self, data_dir: str | os.PathLike[str] | None = None) -> None:
        self.data_dir: Path = store.check_data_dir(store.resolve_data_dir(data_dir))
        self.info: dict[str, Any] = store.read_dataset_info(self.data_dir)

    def __repr__(self) -> str:
        span = self.info.get("date_range", {})
        dates = f", {span.get('start')}..{span.get('end')}" if span else ""
        return f"Workbook({str(self.data_dir)!r}{dates})"

    # --- connections and reference tables -------------------------------------------------

    @cached_property
    def _con(self) -> duckdb.DuckDBPyConnection:
        return connect(self.data_dir)

    def sql(self) -> duckdb.DuckDBPyConnection:
        """The folder's DuckDB connection (see :func:`cchc_analysis.research.sql.connect`).

        Examples
        --------
        >>> wb.sql().sql("SELECT count(*) FROM dossiers").fetchall()[0][0] > 0
        True
        """
        return self._con

    @property
    def definitions(self) -> pd.DataFrame:
        """The metric catalogue: each rate's numerator, denominator and wording.

        Examples
        --------
        >>> wb.definitions.loc["online_rate", "denominator"]
        'received_total_count'
        """
        return results.definitions()

    @cached_property
    def _provinces(self) -> tuple[str, ...]:
        """The provinces of the folder's areas, both eras (to read shared unit names)."""
        found = set()
        for area in store.dossier_areas(self.data_dir):
            era, code = store.area_parts(area)
            try:
                found.add(units.get_unit(code, era=era).province_code)
            except (KeyError, ValueError):
                continue
        return tuple(sorted(found))

    def _query_frame(
        self, period: Period, level: str | None, era: str | None, tier: str
    ) -> tuple[str, str]:
        era = str(era) if era is not None else units.era_of_period(period)
        if era not in units.ERAS:
            raise UsageError(f"era must be one of {units.ERAS}, not {era!r}")
        if level is None:
            level = "province" if era == units.ERA_2025 else "district"
        allowed = ERA_2025_LEVELS if era == units.ERA_2025 else LEVELS
        if level not in allowed:
            raise UsageError(f"level must be one of {allowed} in era {era}, not {level!r}")
        if tier not in ("district", "commune", "both"):
            raise UsageError(f"tier must be district, commune or both, not {tier!r}")
        return level, era

    def _names(self, codes: pd.Series, level: str, era: str) -> list[str]:
        if era == units.ERA_2025 and level == "district":
            return [former_district_name(c) for c in codes]
        if era == units.ERA_2025:
            return [units.get_unit(c, era=era).name for c in codes]
        return [unit_label(c, level, era) for c in codes]

    # --- the questions ----------------------------------------------------------------------

    def kpis(
        self,
        period: PeriodLike,
        *,
        level: str | None = None,
        units: UnitsLike = None,
        by: str | Sequence[str] = (),
        freq: str | None = None,
        tier: str = "both",
        era: str | None = None,
        engine: grouped.Engine = "duckdb",
    ) -> pd.DataFrame:
        """Biểu 06 counts and every catalogue rate, one row per unit (× ``by``) (× period).

        Parameters
        ----------
        period : str, Period, date, pandas Period or (first day, last day)
            ``"2023-Q3"``, ``"2023-09"``, ``"2023-H1"``, ``"2023"``, ``"2023-07-01:2023-09-30"``.
        level : {"district", "commune", "province"}, optional
            Whose rows: before the reform district (default), commune or province; from
            1 July 2025 province (default), commune, or district (a former district's area).
        units : code, name or a list of them, optional
            The units, in the order the rows should keep (default: every unit with data).
        by : str or sequence of str
            Further groupings: ``field``, ``procedure``, ``channel``, ``online_level``,
            ``unit_level`` (the tier that received the dossier).
        freq : {"month", "quarter", "half", "year"}, optional
            One row per calendar month (…) of ``period``; each is counted as its own period,
            so carried-over and pending stocks are that period's, never summed months.
        tier : {"both", "district", "commune"}
            At district or province level: the unit's own offices, its communes, or both.
        era : {"2024", "2025"}, optional
            Whose units (default: the 2025 reform's for periods that end on or after
            1 July 2025); "2025" rolls earlier periods up through the crosswalks.
        engine : {"duckdb", "python"}
            For ``by`` other than ``field``: DuckDB over the Parquet files (fast) or the dossier
            rows in pandas (the reference rules); both give the same numbers.

        Returns
        -------
        pandas.DataFrame
            unit_code, unit_name, [period], [by columns], period_start, period_end, the
            ``*_count`` columns and the ``*_rate``/``*_share`` columns (0-1; NaN when the
            denominator is 0). ``approximate`` marks rows that used a divided commune.

        Examples
        --------
        >>> wb.kpis("2023-Q3", units=["Kiến Thụy", "313"])[["unit_code", "unit_name"]]
          unit_code          unit_name
        0       314  Huyện Kiến Thụy
        1       313      Huyện An Lão
        >>> monthly = wb.kpis("2023", units="314", freq="month")
        >>> len(monthly), monthly["period"].iloc[0]
        (12, '2023-01')
        """
        whole = as_period(period)
        names = as_by(by)
        level, era = self._query_frame(whole, level, era, tier)
        codes = as_unit_codes(units, level=level, era=era, provinces=self._provinces)
        periods = split_period(whole, freq) if freq is not None else [whole]
        frames = []
        for piece in periods:
            query = CountQuery(
                piece,
                level=_level(level),
                tier=_tier(tier),
                unit_codes=codes,
                by_field=names == ("field",),
                era=era,
            )
            try:
                table = self._period_table(query, names, engine)
            except UnitNotInDataError:
                if freq is None:
                    raise
                continue  # a unit without data in one of the periods has no row there
            if freq is not None:
                table.insert(2, "period", str(piece))
            frames.append(table)
        if not frames:
            raise UnitNotInDataError(f"no dossiers for these units in {whole}")
        table = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
        return _ordered(table, codes, [BY_COLUMNS[n] for n in names], freq is not None)

    def _period_table(
        self, query: CountQuery, names: tuple[str, ...], engine: grouped.Engine
    ) -> pd.DataFrame:
        if names in ((), ("field",)):
            return kpi_table(self.data_dir, query)
        columns = [BY_COLUMNS[n] for n in names]
        counts = grouped.grouped_counts(self._con, self.data_dir, query, columns, engine=engine)
        table = mark_undefined(
            null_unknown_counts(
                add_metrics(counts, count_waiting_as_on_time=query.count_waiting_as_on_time)
            )
        )
        if engine == "duckdb":  # the 766 counts are not written in SQL: missing, not the form's
            beyond = [r.name for r in RATE_DEFINITIONS if set(r.numerator) & set(NOT_IN_SQL)]
            for column in (*NOT_IN_SQL, *beyond):
                table[column] = pd.Series(pd.NA, index=table.index, dtype="Float64")
        table.insert(1, "unit_name", self._names(table["unit_code"], query.level, query.era))
        if "procedure_name" in table:  # beside its code
            titles = table.pop("procedure_name")
            table.insert(list(table.columns).index("procedure_code") + 1, "procedure_name", titles)
        return table

    def dossiers(
        self,
        period: PeriodLike | None = None,
        units: UnitsLike = None,
        columns: Sequence[str] | None = None,
        *,
        level: str | None = None,
        tier: str = "both",
        era: str | None = None,
    ) -> pd.DataFrame:
        """Dossier rows received in ``period`` (every period when None) by ``units``.

        The filters run in the Parquet reader (pyarrow): only the areas of those units, the
        row groups of those days and the ``columns`` asked for are read.

        Parameters
        ----------
        period, units, level, tier, era
            As for :meth:`kpis`; a unit's rows are those it counts (its tier's, through the
            crosswalk for a unit of the reform). Without a period, units are read in era 2024
            unless ``era`` says otherwise.
        columns : sequence of str, optional
            Canonical columns (default: all); ``unit_code`` is the receiving office's code.

        Examples
        --------
        >>> rows = wb.dossiers("2023-09", "Kiến Thụy", ["dossier_id", "channel"])
        >>> list(rows.columns), len(rows) > 0
        (['dossier_id', 'channel'], True)
        """
        wanted = list(DOSSIER_COLUMNS) if columns is None else list(columns)
        unknown = [c for c in wanted if c not in DOSSIER_COLUMNS and c != store.PARTITION_COLUMN]
        if unknown:
            raise UsageError(f"no dossier column {', '.join(unknown)}")
        filters = []
        whole = as_period(period) if period is not None else None
        keys = None
        if units is not None:
            level, era = self._query_frame(whole or _ANY_PERIOD, level, era, tier)
            codes = as_unit_codes(units, level=level, era=era, provinces=self._provinces)
            query = CountQuery(
                _ANY_PERIOD, level=_level(level), tier=_tier(tier), unit_codes=codes, era=era
            )
            keys = grouped.chosen_keys(self._con, query)
            filters.append(ds.field(store.PARTITION_COLUMN).isin(sorted(keys["area"].unique())))
        if whole is not None:
            first = pd.Timestamp(whole.start)
            last = pd.Timestamp(whole.end) + pd.Timedelta(days=1)
            filters.append((ds.field("received_at") >= first) & (ds.field("received_at") < last))
        dataset = store.dossier_dataset(self.data_dir)
        present = set(dataset.schema.names)
        read = [
            c
            for c in dict.fromkeys([*wanted, *(_KEYS if keys is not None else ())])
            if c in present
        ]
        condition = None
        for f in filters:
            condition = f if condition is None else condition & f
        rows = dataset.to_table(columns=read, filter=condition).to_pandas()
        if keys is not None:
            rows = _rows_of(rows, keys)
        out = coerce_dossiers(rows, [c for c in wanted if c in DOSSIER_COLUMNS])
        if store.PARTITION_COLUMN in wanted:
            out[store.PARTITION_COLUMN] = rows[store.PARTITION_COLUMN].astype("string").to_numpy()
        return out[wanted].reset_index(drop=True)

    def survey(
        self,
        period: PeriodLike | None = None,
        units: UnitsLike = None,
        *,
        level: str = "district",
    ) -> pd.DataFrame:
        """Survey answers (one row per respondent) of ``period`` for ``units``.

        ``level`` says what the codes are: "district" matches the respondents' district_code,
        "commune" their unit_code.

        Examples
        --------
        >>> answers = wb.survey("2023", "Kiến Thụy")
        >>> set(answers["district_code"]) == {"314"}
        True
        """
        path = self.data_dir / store.SURVEY_FILE
        if not path.exists():
            raise UnitNotInDataError(f"{self.data_dir} holds no {store.SURVEY_FILE}")
        dataset = ds.dataset(path, format="parquet")
        condition = None
        if period is not None:
            whole = as_period(period)
            first = pd.Timestamp(whole.start)
            last = pd.Timestamp(whole.end) + pd.Timedelta(days=1)
            condition = (ds.field("surveyed_at") >= first) & (ds.field("surveyed_at") < last)
        codes = None
        if units is not None:
            if level not in ("district", "commune"):
                raise UsageError(f"survey level must be district or commune, not {level!r}")
            codes = as_unit_codes(units, level=level, era=units_era(), provinces=self._provinces)
            column = "district_code" if level == "district" else "unit_code"
            chosen = ds.field(column).isin(codes)
            condition = chosen if condition is None else condition & chosen
        frame: pd.DataFrame = dataset.to_table(filter=condition).to_pandas()
        if codes is not None:
            order = {code: i for i, code in enumerate(codes)}
            column = "district_code" if level == "district" else "unit_code"
            frame = frame.assign(_order=frame[column].map(order)).sort_values(
                ["_order", "surveyed_at"], kind="stable"
            )
            frame = frame.drop(columns="_order")
        return frame.reset_index(drop=True)

    def compare(
        self,
        a: Any,
        b: Any,
        metric: str,
        *,
        period: PeriodLike | None = None,
        level: str | None = None,
        tier: str = "both",
        era: str | None = None,
        confidence: float = 0.95,
    ) -> pd.DataFrame:
        """Two rates side by side: each with its Wilson interval, their difference with
        Newcombe's interval, and a test that they are equal.

        Parameters
        ----------
        a, b : unit (code or name) with ``period``, or rows of a :meth:`kpis` table
        metric : str
            A rate of the catalogue (see :attr:`definitions`), e.g. ``"online_rate"``.

        Returns
        -------
        pandas.DataFrame
            One row: ``unit_code_a``, ``unit_name_a``, ``rate_a`` with ``rate_a_low`` and
            ``rate_a_high`` (likewise ``_b``), the counts behind them, ``difference_rate``
            (a minus b) with ``difference_rate_low``/``_high``, ``test`` and ``p_value``.

        Examples
        --------
        >>> out = wb.compare("Kiến Thụy", "An Lão", "online_rate", period="2023-Q3")
        >>> out[["unit_name_a", "unit_name_b"]].iloc[0].tolist()
        ['Huyện Kiến Thụy', 'Huyện An Lão']
        >>> bool(out["difference_rate_low"].iloc[0] < out["difference_rate_high"].iloc[0])
        True
        """
        if isinstance(a, pd.Series) and isinstance(b, pd.Series):
            rows = pd.DataFrame([a, b]).reset_index(drop=True)
        else:
            if period is None:
                raise UsageError("compare two units for a period: give period=")
            rows = self.kpis(period, units=[a, b], level=level, tier=tier, era=era)
        return compare_rates(rows, metric, confidence=confidence)


# Which rows a unit counts does not depend on the period: a query needs one all the same. Its
# era (2024) is the default of ``dossiers(units=...)`` without a period.
_ANY_PERIOD = Period(date(2000, 1, 1), date(2000, 1, 1), "")
_KEYS = ("area", "unit_level", "unit_code", "district_code")


def units_era() -> str:
    """Survey units are recorded before the reform's units (the demo's and ingest's)."""
    return units.ERA_PRE_2025


def _rows_of(rows: pd.DataFrame, keys: pd.DataFrame) -> pd.DataFrame:
    """The rows whose (area, tier, unit, district) counts for one of the chosen units."""
    join = list(_KEYS)
    left = pd.DataFrame({c: rows[c].astype("string").fillna("") for c in join if c in rows})
    for column in join:
        if column not in left:
            left[column] = ""
    right = keys[join].astype("string").fillna("").drop_duplicates()
    hit = left.merge(right.assign(_hit=True), on=join, how="left")["_hit"].fillna(False)
    return rows[hit.to_numpy(dtype=bool)]


def _level(level: str) -> Level:
    if level not in ("district", "commune", "province"):
        raise UsageError(f"unknown level {level!r}")
    return level  # type: ignore[return-value]  # checked just above


def _tier(tier: str) -> Tier:
    if tier not in ("district", "commune", "both"):
        raise UsageError(f"unknown tier {tier!r}")
    return tier  # type: ignore[return-value]  # checked just above


def _ordered(
    table: pd.DataFrame, codes: list[str] | None, by: list[str], has_periods: bool
) -> pd.DataFrame:
    """Rows in the order the units were asked for (else by code), then by period, then by
    the groupings; each unit's rows keep their relative order."""
    unit_order = (
        table["unit_code"].map({c: i for i, c in enumerate(codes)})
        if codes
        else table["unit_code"].rank(method="dense")
    )
    keys = {"_unit": unit_order}
    if has_periods:
        keys["_start"] = table["period_start"]
    work = table.assign(**keys)
    columns = [*keys, *[c for c in by if c in table]]
    work = work.sort_values(columns, kind="stable", na_position="last")
    return work.drop(columns=list(keys)).reset_index(drop=True)


def open(data_dir: str | os.PathLike[str] | None = None) -> Workbook:  # noqa: A001 (cchc.open)
    """Open a data folder for research.

    Parameters
    ----------
    data_dir : path, optional
        The folder (``cchc demo`` or ``cchc ingest`` wrote it); when omitted, the
        ``CCHC_DATA`` environment variable, else the working directory.

    Returns
    -------
    Workbook

    Examples
    --------
    >>> import cchc_analysis as cchc
    >>> wb = cchc.open(data_dir)
    >>> int(wb.kpis("2023-Q3", units="Kiến Thụy")["received_total_count"].iloc[0]) > 0
    True
    """
    return Workbook(data_dir)
