"""What one district's report reads, loaded once: the numbers every section draws on.

Loading reads this district's own dossier partition (exact counts, processing times) and the
province's monthly cube (comparisons), never the other districts' dossiers. Nothing here
writes words or HTML; the sections in :mod:`cchc_analysis.reports.sections` do.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

import pandas as pd

from cchc_analysis import stats, store, units
from cchc_analysis.core.errors import CchcError
from cchc_analysis.core.periods import Period, parse_period
from cchc_analysis.counting import CountQuery, kpi_table, monthly_counts
from cchc_analysis.counting.query import Tier
from cchc_analysis.reports.formatting import is_missing
from cchc_analysis.reports.rate_tables import funnel_frame
from cchc_analysis.reports.wording import Lang

# Only what the processing-time section needs: its cost grows with the period's dossiers.
PROCESSING_TIME_COLUMNS = ("unit_level", "field", "received_at", "due_at", "resolved_at", "status")
# What a comparison period outside the data raises; it is then simply not compared.
_NOT_IN_DATA = (CchcError, LookupError, ValueError, OSError)


@dataclass
class UnitData:
    """Everything one district's report needs, loaded once."""

    unit_code: str
    period: Period
    data_dir: Path
    lang: Lang = "vi"
    tier: Tier = "both"
    input_hash: str = ""
    trend_months: int = 24
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
    ) -> Self:
        """Read the unit's data for ``period`` (the notebook's parameters, in its order)."""
        report = cls(
            str(unit_code),
            parse_period(period),
            store.resolve_data_dir(data_dir),
            lang,
            tier,
            input_hash,
        )
        report._load()
        return report

    def _unit_row(self, period: Period) -> pd.Series | None:
        query = CountQuery(period, level="district", tier=self.tier, unit_codes=[self.unit_code])
        table = kpi_table(self.data_dir, query)
        return None if table.empty else table.iloc[0]

    def _comparison_row(self, period: Period) -> pd.Series | None:
        try:
            return self._unit_row(period)
        except _NOT_IN_DATA:  # an earlier period outside the data is simply not compared
            return None

    def _load(self) -> None:
        self.unit = units.get_unit(self.unit_code, level="district")
        self.province = units.get_unit(self.unit.province_code, level="province")
        current = self._unit_row(self.period)
        if current is None:
            raise LookupError(f"unit {self.unit_code} has no dossiers in {self.period}")
        self.current = current
        self.previous = self._comparison_row(self.period.previous())
        self.year_before = self._comparison_row(self.period.year_before())
        same_province = province_districts(self.data_dir, self.unit)
        self.districts = kpi_table(
            self.data_dir, CountQuery(self.period, tier=self.tier, unit_codes=same_province)
        )
        self.districts["short_name"] = [
            short_name(c, "district") for c in self.districts["unit_code"]
        ]
        self.commune_table = (
            kpi_table(
                self.data_dir,
                CountQuery(
                    self.period, level="commune", tier="commune", unit_codes=[self.unit_code]
                ),
            )
            if self.tier != "district"
            else pd.DataFrame()
        )
        self.dataset = store.read_dataset_info(self.data_dir)
        trend_start = first_trend_month(self.period, self.trend_months, self.dataset)
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
        dossiers = store.read_dossiers(
            self.data_dir,
            [self.unit_code],
            columns=PROCESSING_TIME_COLUMNS,
            received_between=(self.period.start, self.period.end),
        )
        if self.tier != "both":
            dossiers = dossiers[dossiers["unit_level"] == self.tier]
        self.period_dossiers = dossiers  # received in the period (read with a pushed-down filter)
        self.trend = stats.trend_test(
            self.monthly["within_deadline_rate"].to_numpy(float), self.monthly["month"]
        )

    def district_funnel(self) -> pd.DataFrame:
        """The province's districts placed on the late-rate funnel."""
        return funnel_frame(self.districts)

    def rank(self, name: str) -> tuple[int, int] | None:
        """(rank, number of districts) of this district on ``name``, highest first."""
        ranked = self.districts[name].rank(ascending=False, method="min")
        mine = ranked[self.districts["unit_code"] == self.unit_code]
        if mine.empty or is_missing(mine.iloc[0]):
            return None
        return int(mine.iloc[0]), len(self.districts)


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


def short_name(code: str, level: str) -> str:
    """A unit's short name, or its code when the catalogue does not know it."""
    try:
        return units.get_unit(code, level=level).short_name
    except (KeyError, ValueError):
        return code
