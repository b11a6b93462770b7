"""What the province overview reads, loaded once: every district's counts and monthly series.

Reads the monthly cube and the per-district counts only (no dossier rows), so its cost does
not grow with the province's dossiers. Nothing here writes words or HTML.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Self

from cchc_analysis import store, units
from cchc_analysis.core.periods import Period, parse_period
from cchc_analysis.counting import CountQuery, kpi_table, monthly_counts
from cchc_analysis.counting.query import Tier
from cchc_analysis.reports.unit_data import first_trend_month, short_name
from cchc_analysis.reports.wording import Lang


@dataclass
class ProvinceData:
    """Every district of the data folder for one period, loaded once."""

    period: Period
    data_dir: Path
    lang: Lang = "vi"
    tier: Tier = "both"
    input_hash: str = ""

    @classmethod
    def load(
        cls,
        period: str,
        data_dir: str | os.PathLike[str] = "data/demo",
        lang: Lang = "vi",
        tier: Tier = "both",
        input_hash: str = "",
    ) -> Self:
        """Read the districts' data for ``period`` (the notebook's parameters, in its order)."""
        report = cls(parse_period(period), store.resolve_data_dir(data_dir), lang, tier, input_hash)
        report._load()
        return report

    def _load(self) -> None:
        query = CountQuery(self.period, level="district", tier=self.tier)
        self.districts = kpi_table(self.data_dir, query)
        if self.districts.empty:
            raise LookupError(f"no dossiers in {self.period}")
        self.districts["short_name"] = [
            short_name(c, "district") for c in self.districts["unit_code"]
        ]
        first = units.get_unit(self.districts["unit_code"].iloc[0], level="district")
        self.province = units.get_unit(first.province_code, level="province")
        self.dataset = store.read_dataset_info(self.data_dir)
        start = first_trend_month(self.period, 24, self.dataset)
        self.monthly = monthly_counts(self.data_dir, query, since=start)
