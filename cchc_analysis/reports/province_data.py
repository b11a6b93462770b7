"""What the province overview reads, loaded once: every unit's counts and monthly series.

Before 1 July 2025 the overview ranks the folder's districts; after it (``units.era_of_period``)
it ranks the province's new communes (``level="commune"``) or its former districts' areas
(``level="district"``), and shows the province's own offices (departments and public-service
centre) as one row. Reads the monthly cube and the per-unit counts only (no dossier rows), so
its cost does not grow with the province's dossiers. Nothing here writes words or HTML.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Self

import pandas as pd

from cchc_analysis import store, units
from cchc_analysis.core.periods import Convention, Period, check_convention, parse_period
from cchc_analysis.counting import CountQuery, kpi_table, monthly_counts
from cchc_analysis.counting.late_sources import LATE_COUNTS, OFFICE_SOURCE, UNKNOWN, worst_first
from cchc_analysis.counting.new_units import new_unit_areas
from cchc_analysis.counting.query import Level, Tier
from cchc_analysis.reports.scoreboard import comparison_tables
from cchc_analysis.reports.unit_data import first_trend_month, province_units, short_name
from cchc_analysis.reports.wording import Lang


@dataclass
class ProvinceData:
    """Every unit of one level of the province for one period, loaded once."""

    period: Period
    data_dir: Path
    lang: Lang = "vi"
    tier: Tier = "both"
    input_hash: str = ""
    level: Level = "district"
    province_code: str = ""

    @classmethod
    def load(
        cls,
        period: str,
        data_dir: str | os.PathLike[str] = "data/demo",
        lang: Lang = "vi",
        tier: Tier = "both",
        input_hash: str = "",
        level: Level = "district",
        province_code: str = "",
        *,
        convention: Convention = "calendar",
    ) -> Self:
        """Read the units' data for ``period`` (the notebook's parameters, in its order);
        ``convention`` is the period's (calendar, or cutoff15: the 15th to the 14th)."""
        report = cls(
            parse_period(period, check_convention(convention)),
            store.resolve_data_dir(data_dir),
            lang,
            tier,
            input_hash,
            level,
            str(province_code),
        )
        report._load()
        return report

    @property
    def era(self) -> str:
        return units.era_of_period(self.period)

    @property
    def peer_level(self) -> str:
        """The level of the units ranked: the report's."""
        return self.level

    def _load(self) -> None:
        self.offices = pd.DataFrame()
        if self.era == units.ERA_2025:
            self._load_2025()
        else:
            self._load_districts()
        if self.peers.empty:
            raise LookupError(f"no dossiers in {self.period}")
        self.dataset = store.read_dataset_info(self.data_dir)
        start = first_trend_month(self.period, 24, self.dataset)
        self.monthly = monthly_counts(self.data_dir, self.query, since=start)
        self.late_by = self._late_sources()
        self.previous_peers, self.year_before_peers = comparison_tables(
            lambda period: kpi_table(self.data_dir, self.query.with_period(period)), self.period
        )

    def _late_sources(self) -> dict[str, pd.DataFrame]:
        """Late and overdue-pending counts per unit (the province's offices as one row) and
        per field, worst first: the overview's "Cần chỉ đạo" box (from the counts, no rows)."""
        every = [self.peers.assign(source=self.peers["unit_code"].astype(str))]
        if len(self.offices):
            every.append(self.offices.assign(source=OFFICE_SOURCE))
        by_source = pd.concat(every, ignore_index=True)
        fields = [kpi_table(self.data_dir, self.query.with_options(by_field=True))]
        if len(self.offices):
            own = CountQuery(self.period, level="province", tier="district", era=self.era)
            by = own.with_options(unit_codes=[self.province.code], by_field=True)
            fields.append(kpi_table(self.data_dir, by))
        by_field = pd.concat(fields, ignore_index=True)
        by_field["field"] = by_field["field"].astype("string").fillna(UNKNOWN)
        counts = [c for c in LATE_COUNTS if c in by_field]
        by_field = by_field.groupby("field", sort=False)[counts].sum().reset_index()
        return {
            "source": worst_first(by_source[["source", *LATE_COUNTS]], "source"),
            "field": worst_first(by_field, "field"),
        }

    def _load_districts(self) -> None:
        codes = None  # every district of the folder (one province, as before the 2025 demo)
        if self.province_code:  # a folder of several old provinces: this one's districts
            codes = [
                code
                for code in store.dossier_partitions(self.data_dir)
                if units.get_unit(code, level="district").province_code == self.province_code
            ]
            if not codes:
                raise LookupError(f"no district of province {self.province_code} in the data")
        self.query = CountQuery(self.period, level="district", tier=self.tier, unit_codes=codes)
        self.peers = kpi_table(self.data_dir, self.query)
        if self.peers.empty:
            return
        self.peers["short_name"] = [short_name(c, "district") for c in self.peers["unit_code"]]
        first = units.get_unit(self.peers["unit_code"].iloc[0], level="district")
        self.province = units.get_unit(first.province_code, level="province")

    def _load_2025(self) -> None:
        era = units.ERA_2025
        code = self.province_code or province_with_data(self.data_dir)
        self.province = units.get_unit(code, era=era, level="province")
        tier: Tier = self.tier if self.level == "district" else "both"
        every = CountQuery(self.period, level=self.level, tier=tier, era=era)
        self.peers = province_units(self.data_dir, every, self.province.code)
        self.query = every.with_options(unit_codes=list(self.peers["unit_code"]) or None)
        if self.tier != "commune":
            own = CountQuery(self.period, level="province", tier="district", era=era)
            try:
                self.offices = kpi_table(self.data_dir, own.with_options(unit_codes=[code]))
            except LookupError:  # no dossiers of the province's own offices in the folder
                self.offices = pd.DataFrame()


def province_with_data(data_dir: Path) -> str:
    """The (new) province of the folder's first era-2025 area."""
    areas = new_unit_areas(data_dir)
    if not areas:
        raise LookupError(f"no dossiers after 1 July 2025 in {data_dir}")
    code = store.area_parts(areas[0])[1]
    return code if len(code) == 2 else units.get_unit(code, era=units.ERA_2025).province_code
