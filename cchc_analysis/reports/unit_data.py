"""What one unit's report reads, loaded once: the numbers every section draws on.

A unit is a level in the era of the report's period (``units.era_of_period``): a district
before 1 July 2025 (compared with its province's districts, with its communes), a new commune
after it (compared with its province's communes; it has no communes of its own) or a former
district's area after it (its old dossiers and the new communes within it, compared with the
province's other former districts). Loading reads this unit's own dossier areas (processing
times) and the monthly cube (comparisons, series), never the other units' dossiers. Nothing
here writes words or HTML; the sections in :mod:`cchc_analysis.reports.sections` do.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

import pandas as pd

from cchc_analysis import stats, store, units
from cchc_analysis.core import targets
from cchc_analysis.core.errors import CchcError
from cchc_analysis.core.periods import Convention, Period, check_convention, parse_period
from cchc_analysis.core.schema import COUNT_COLUMNS
from cchc_analysis.counting import CountQuery, kpi_table, monthly_counts
from cchc_analysis.counting.cube import dossier_flags
from cchc_analysis.counting.late_sources import (
    LATE_SOURCE_COLUMNS,
    in_scope_window,
    late_sources_by,
    overdue_pending,
)
from cchc_analysis.counting.prepare import load_cube
from cchc_analysis.counting.query import Level, Tier
from cchc_analysis.counting.rollup import rollup_counts
from cchc_analysis.counting.shared import shared_frame
from cchc_analysis.reports.formatting import is_missing
from cchc_analysis.reports.rate_tables import funnel_frame
from cchc_analysis.reports.wording import Lang

# Only what the processing-time section needs: its cost grows with the period's dossiers.
PROCESSING_TIME_COLUMNS = ("unit_level", "field", "received_at", "due_at", "resolved_at", "status")
# What a comparison period outside the data raises; it is then simply not compared.
_NOT_IN_DATA = (CchcError, LookupError, ValueError, OSError)


@dataclass
class UnitData:
    """Everything one unit's report needs, loaded once (``level``: district, commune)."""

    unit_code: str
    period: Period
    data_dir: Path
    lang: Lang = "vi"
    tier: Tier = "both"
    input_hash: str = ""
    trend_months: int = 24
    level: Level = "district"
    current: pd.Series = field(init=False)
    previous: pd.Series | None = field(init=False)
    year_before: pd.Series | None = field(init=False)

    @classmethod
    def load(
        cls,
        unit_code: str,
        period: str,
        data_dir: str | os.PathLike[str] = "data/demo",
        lang: Lang = "vi",
        tier: Tier = "both",
        input_hash: str = "",
        level: Level = "district",
        *,
        convention: Convention = "calendar",
    ) -> Self:
        """Read the unit's data for ``period`` (the notebook's parameters, in its order);
        ``convention`` is the period's (calendar, or cutoff15: the 15th to the 14th)."""
        report = cls(
            str(unit_code),
            parse_period(period, check_convention(convention)),
            store.resolve_data_dir(data_dir),
            lang,
            tier,
            input_hash,
            level=level,
        )
        report._load()
        return report

    @property
    def era(self) -> str:
        """The era whose units the report is on: that of the report's period."""
        return units.era_of_period(self.period)

    @property
    def is_new_unit(self) -> bool:
        """A unit of the 2025 reform (a new commune or a former district's area)."""
        return self.era == units.ERA_2025

    @property
    def has_communes(self) -> bool:
        """Whether the report has a communes section (a commune has none)."""
        return self.level == "district" and self.tier != "district"

    @property
    def peer_level(self) -> str:
        """The level of the units this one is compared with (its own)."""
        return self.level

    @property
    def unit_name(self) -> str:
        """The unit's name as its counts name it ("Địa bàn huyện Kiến Thụy cũ" for the area
        of a former district)."""
        return str(self.current["unit_name"]) if self.is_new_unit else self.unit.name

    @property
    def is_approximate(self) -> bool:
        """Whether the unit's counts went through a divided commune or across districts."""
        value = self.current.get("approximate")
        return value is not None and not is_missing(value) and bool(value)

    def _query(self, period: Period, **options: object) -> CountQuery:
        """The report's question (its level, tier and era) for ``period``."""
        query = CountQuery(period, level=self.level, tier=self.tier, era=self.era)
        return query.with_options(**options) if options else query

    def _unit_row(self, period: Period) -> pd.Series | None:
        if self.is_new_unit and self.level == "commune":
            # Its row of the province's table, shared by every commune report of the run.
            peers = province_units(self.data_dir, self._query(period), self.province.code)
            row = row_as_alone(peers.drop(columns="short_name"), self.unit_code)
            if row is not None:
                return row
        if self.is_new_unit:
            query = self._query(period, unit_codes=[self.unit_code])
        else:
            query = CountQuery(
                period, level="district", tier=self.tier, unit_codes=[self.unit_code]
            )
            # Its row of its province's districts' table, shared by every district report.
            peers = province_district_table(self.data_dir, query, self.unit)
            row = row_as_alone(peers, self.unit_code)
            if row is not None:
                return row
        table = kpi_table(self.data_dir, query)
        return None if table.empty else table.iloc[0]

    def _comparison_row(self, period: Period) -> pd.Series | None:
        try:
            return self._unit_row(period)
        except _NOT_IN_DATA:  # an earlier period outside the data is simply not compared
            return None

    def _load(self) -> None:
        if self.is_new_unit:
            self._load_unit_2025()
        else:
            self._load_district()
        self.dataset = store.read_dataset_info(self.data_dir)
        trend_start = first_trend_month(self.period, self.trend_months, self.dataset)
        if self.is_new_unit:
            scope = self._query(self.period, unit_codes=[self.unit_code])
        else:
            scope = CountQuery(self.period, tier=self.tier, unit_codes=[self.unit_code])
        self.monthly = monthly_counts(self.data_dir, scope, since=trend_start)
        self.monthly_channel = monthly_counts(
            self.data_dir, scope, since=trend_start, extra_keys=["channel"]
        )
        survey = store.read_table(self.data_dir, store.SURVEY_FILE)
        self.province_survey = survey
        self.survey = (
            survey[survey["unit_code"].astype(str) == self.unit_code]
            if survey is not None
            else None
        )
        self._load_dossiers()
        self.trend = stats.trend_test(
            self.monthly["within_deadline_rate"].to_numpy(float), self.monthly["month"]
        )

    def _load_dossiers(self) -> None:
        """The unit's own dossier rows received by the period's end, read once: those received
        in the period (processing times), and where the late and overdue-pending dossiers of
        the period come from (source, field, procedure; carried-over ones included)."""
        rows = store.read_dossiers(
            self.data_dir,
            columns=LATE_SOURCE_COLUMNS,
            received_between=in_scope_window(self.period),
            areas=self._own_areas(),
        )
        if self.tier != "both" and self.level == "district":
            rows = rows[rows["unit_level"] == self.tier]
        received = rows["received_at"] >= pd.Timestamp(self.period.start)
        self.period_dossiers = rows.loc[received, list(PROCESSING_TIME_COLUMNS)]
        flags = dossier_flags(rows, self.period.start, self.period.end) if len(rows) else None
        self.late_by = late_sources_by(rows, self.period, flags=flags)
        self.overdue = overdue_pending(rows, self.period, flags=flags)

    def _own_areas(self) -> list[str]:
        """The dossier areas of this unit: a district's (era 2024), a new commune's, or a
        former district's old area and those of the new communes within it."""
        old = store.area_key(units.ERA_PRE_2025, self.unit_code)
        if not self.is_new_unit:
            return [old]
        if self.level == "commune":
            return [store.area_key(units.ERA_2025, self.unit_code)]
        return [old, *(store.area_key(units.ERA_2025, c) for c in self.commune_codes)]

    def _current_row(self) -> pd.Series:
        current = self._unit_row(self.period)
        if current is None:
            raise LookupError(f"unit {self.unit_code} has no dossiers in {self.period}")
        return current

    def _load_district(self) -> None:
        """A district before the reform: compared with its province's districts."""
        self.unit = units.get_unit(self.unit_code, level="district")
        self.province = units.get_unit(self.unit.province_code, level="province")
        self.current = self._current_row()
        self.previous = self._comparison_row(self.period.previous())
        self.year_before = self._comparison_row(self.period.year_before())
        self.peers = province_district_table(
            self.data_dir, CountQuery(self.period, tier=self.tier), self.unit
        )
        self.peers["short_name"] = [short_name(c, "district") for c in self.peers["unit_code"]]
        self.commune_codes: list[str] = []
        self.commune_table = (
            district_communes(self.data_dir, self.period, self.unit)
            if self.tier != "district"
            else pd.DataFrame()
        )

    def _load_unit_2025(self) -> None:
        """A new commune, or a former district's area: compared within its (new) province."""
        era = units.ERA_2025
        if self.level == "commune":
            self.unit = units.get_unit(self.unit_code, era=era, level="commune")
            self.commune_codes = []
        else:
            self.unit = units.get_unit(self.unit_code, era=units.ERA_PRE_2025, level="district")
            places = units.former_districts()
            self.commune_codes = sorted(
                places.loc[places["district_code"] == self.unit_code, "new_code"]
            )
        self.province = units.get_unit(
            province_of(self.unit_code, self.level, era), era=era, level="province"
        )
        self.current = self._current_row()
        self.previous = self._comparison_row(self.period.previous())
        self.year_before = self._comparison_row(self.period.year_before())
        self.peers = province_units(self.data_dir, self._query(self.period), self.province.code)
        self.commune_table = pd.DataFrame()
        if self.has_communes and self.commune_codes:
            communes = province_units(
                self.data_dir,
                self._query(self.period, level="commune", tier="both"),
                self.province.code,
            )
            self.commune_table = communes[communes["unit_code"].isin(self.commune_codes)]

    def district_funnel(self) -> pd.DataFrame:
        """The province's units of this level (its peers) placed on the late-rate funnel."""
        return funnel_frame(self.peers)

    def rank(self, name: str) -> tuple[int, int] | None:
        """(rank, number of peers) of this unit on ``name``, highest first."""
        ranked = self.peers[name].rank(ascending=False, method="min")
        mine = ranked[self.peers["unit_code"] == self.unit_code]
        if mine.empty or is_missing(mine.iloc[0]):
            return None
        return int(mine.iloc[0]), len(self.peers)


def row_as_alone(table: pd.DataFrame, code: str) -> pd.Series | None:
    """The unit's row of a KPI table of many units, as ``kpi_table`` gives it for the unit
    alone; None when that is not sure: the unit is absent, or a count column is missing in
    other units' rows but not in its own (``mark_undefined`` then types it otherwise)."""
    mine = rows_as_alone(table, {code})
    return mine.iloc[0] if mine is not None and len(mine) == 1 else None


def _convention(query: CountQuery) -> bool:
    """Whether the query counts waiting dossiers as on time: its own choice, else the
    setting in force (part of a shared table's key: the rates depend on it)."""
    waiting = query.count_waiting_as_on_time
    return targets.count_waiting_as_on_time() if waiting is None else waiting


def province_district_table(data_dir: Path, query: CountQuery, unit: units.Unit) -> pd.DataFrame:
    """The KPI rows of the districts with data in ``unit``'s province (before the reform) for
    the query's period and tier: a district is compared with its own province.

    The same table for every district report of the province: computed once per folder
    state and shared (``counting.shared``); each report takes its own row out of it
    (:func:`row_as_alone`)."""
    every = query.with_options(unit_codes=province_districts(data_dir, unit))
    return shared_frame(
        data_dir,
        ("province_districts", every, _convention(every)),
        lambda: kpi_table(data_dir, every),
    )


def district_communes(data_dir: Path, period: Period, district: units.Unit) -> pd.DataFrame:
    """The KPI rows of a district's communes (before the reform) for ``period``.

    Taken out of its province's communes' table, shared by every district report of the
    province, when they are exactly the rows asked for alone: every commune of the province
    lies in one district's data, the district the registry gives it (its earlier data is then
    looked for where it is alone), and the rows' gaps type the counts alike
    (:func:`rows_as_alone`); otherwise asked for alone."""
    query = CountQuery(period, level="commune", tier="commune", unit_codes=[district.code])
    same = province_districts(data_dir, district)
    if district.code in same:
        places = shared_frame(
            data_dir, ("commune districts", tuple(same)), lambda: _commune_districts(data_dir, same)
        )
        if places["unit_code"].is_unique and places["is_registry_district"].all():
            every = query.with_options(unit_codes=same)
            table = shared_frame(
                data_dir,
                ("province communes", every, _convention(every)),
                lambda: kpi_table(data_dir, every),
            )
            codes = places.loc[places["district_code"] == district.code, "unit_code"]
            rows = rows_as_alone(table, set(codes))
            if rows is not None:
                return rows
    return kpi_table(data_dir, query)


def _commune_districts(data_dir: Path, districts: list[str]) -> pd.DataFrame:
    """Each (district_code, unit_code) pair of the districts' communes' rows in the cube, and
    whether the registry puts the commune in that district."""
    cube = load_cube(data_dir, districts)
    communes = cube[cube["unit_level"] == "commune"]
    pairs = communes[["district_code", "unit_code"]].astype(str).drop_duplicates()
    pairs = pairs.reset_index(drop=True)
    pairs["is_registry_district"] = [
        _registry_district(code) == district
        for district, code in zip(pairs["district_code"], pairs["unit_code"], strict=True)
    ]
    return pairs


def _registry_district(commune: str) -> str | None:
    try:
        return units.district_of(commune).code
    except (KeyError, ValueError):
        return None


def rows_as_alone(table: pd.DataFrame, codes: set[str]) -> pd.DataFrame | None:
    """The rows of ``codes`` in a KPI table of many units, as ``kpi_table`` gives them for
    those units alone; None when that is not sure (see :func:`row_as_alone`)."""
    mine = table[table["unit_code"].astype(str).isin(codes)].reset_index(drop=True)
    counts = [c for c in table.columns if c.endswith("_count") and c in COUNT_COLUMNS]
    if mine.empty or not table[counts].isna().any().equals(mine[counts].isna().any()):
        return None
    return mine


def province_districts(data_dir: Path, unit: units.Unit) -> list[str]:
    """Districts with data in the same province as ``unit``: the report compares a district
    with its own province, never with whatever else shares the data folder."""
    same = []
    for code in store.dossier_partitions(data_dir):
        try:
            if units.get_unit(code, level="district").province_code == unit.province_code:
                same.append(code)
        except (KeyError, ValueError):
            continue
    return same


def province_of(code: str, level: str, era: str) -> str:
    """The province of a unit in ``era``'s registry; a former district's is the new province
    its old one merged into."""
    if era == units.ERA_2025 and level == "district":
        old = units.get_unit(code, era=units.ERA_PRE_2025, level="district").province_code
        walk = units.crosswalk_provinces().set_index("old_code")["new_code"]
        return str(walk[old])
    return units.get_unit(code, era=era, level=level).province_code


def province_units(data_dir: Path, query: CountQuery, province_code: str) -> pd.DataFrame:
    """The KPI rows of the query's units (every unit of its level) in one province, with
    their short names: a unit of the reform is compared within its own province.

    The same table for every report of the province: computed once per folder state and
    shared (``counting.shared``)."""
    every = query.with_options(unit_codes=None)
    return shared_frame(
        data_dir,
        ("province_units", every, province_code, _convention(every)),
        lambda: _province_units(data_dir, every, province_code),
    )


def _province_units(data_dir: Path, query: CountQuery, province_code: str) -> pd.DataFrame:
    table = None
    if query.level == "commune" and query.is_era_2025:
        # The province's communes only (not the nation's 3,321): asked by their codes, the
        # counting shares its province-wide results by province (``one_province``).
        ours = list(rollup_counts(data_dir, query, province=province_code)["unit_code"])
        if ours:
            table = kpi_table(data_dir, query.with_options(unit_codes=ours))
    if table is None:
        table = kpi_table(data_dir, query)
    codes = table["unit_code"].astype(str)
    inside = [province_of(c, query.level, query.era) == province_code for c in codes]
    table = table[inside].reset_index(drop=True)
    name_era = units.ERA_PRE_2025 if query.level == "district" else query.era  # former districts
    table["short_name"] = [short_name(c, query.level, name_era) for c in table["unit_code"]]
    return table


def first_trend_month(period: Period, months: int, dataset: Mapping[str, Any]) -> pd.Timestamp:
    """First month of a trend chart: ``months`` back from the period's end, but not before the
    data's own start (rows received earlier are only the dossiers carried into it)."""
    start = pd.Timestamp(period.end).to_period("M").to_timestamp() - pd.DateOffset(
        months=months - 1
    )
    data_start = (dataset.get("date_range") or {}).get("start")
    if data_start:
        start = max(start, pd.Timestamp(data_start).to_period("M").to_timestamp())
    return start


def short_name(code: str, level: str, era: str = units.ERA_PRE_2025) -> str:
    """A unit's short name in ``era``, or its code when the catalogue does not know it."""
    try:
        return units.get_unit(code, era=era, level=level).short_name
    except (KeyError, ValueError):
        return code
