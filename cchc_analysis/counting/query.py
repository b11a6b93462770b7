"""What a count asks for: one period, at one level and tier, for some units, in one era.

Every counting entry point (``kpis.count_table``/``kpi_table``, ``rollup.rollup_counts``,
``aggregates.period_report_counts``, ``kpis.monthly_counts``) takes a :class:`CountQuery`, so
the options are defined, defaulted and checked in this one place.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from cchc_analysis import units
from cchc_analysis.core.periods import Period

Level = Literal["district", "commune", "province"]
Tier = Literal["district", "commune", "both"]
Source = Literal["auto", "dossiers", "cube"]
LEVELS: tuple[str, ...] = ("province", "district", "commune")  # of the pre-2025 era
# No districts after the reform: "district" is a former district's area (former_districts).
ERA_2025_LEVELS: tuple[str, ...] = ("province", "commune", "district")
TIERS: tuple[str, ...] = ("district", "commune", "both")
SOURCES: tuple[str, ...] = ("auto", "dossiers", "cube")


@dataclass(frozen=True)
class CountQuery:
    """The options of a count; checked on construction (a ValueError names the bad one).

    * ``level``: the units the rows are for: "province", "district" or "commune" (era 2024),
      "province", "commune" or "district" (era 2025: a former district's area, its old
      dossiers and the new communes within it).
    * ``tier``: at province or district level, whose dossiers count: the unit's own offices
      ("district": a district's offices, or a province's departments and public-service
      centre), its communes ("commune") or all of them ("both").
    * ``unit_codes``: the units asked for (None: every unit with data); any sequence of codes,
      kept as a tuple of stripped strings.
    * ``by_field``: one row per unit × field instead of per unit.
    * ``source``: "auto" (the cube when it can answer, else dossier rows), "dossiers" or "cube".
    * ``era``: whose units the rows are for, ``units.ERA_PRE_2025`` or ``units.ERA_2025``.
    * ``count_waiting_as_on_time``: the progress criterion (``timeliness_766_rate``) counts
      dossiers waiting for the citizen's supplement, and withdrawn ones, as on time, as some
      provinces do (``metrics.rate_definitions``); None takes the targets file's setting. The
      counts are the same either way.
    """

    period: Period
    level: Level = "district"
    tier: Tier = "both"
    unit_codes: Sequence[str] | None = None  # a tuple once constructed
    by_field: bool = False
    source: Source = "auto"
    era: str = units.ERA_PRE_2025
    count_waiting_as_on_time: bool | None = None  # None: the province's setting (targets)

    def __post_init__(self) -> None:
        era = str(self.era)
        if era not in units.ERAS:
            raise ValueError(f"unknown era {self.era!r}; use one of {units.ERAS}")
        object.__setattr__(self, "era", era)
        if era == units.ERA_2025:
            self._check_tier()
            if self.level not in ERA_2025_LEVELS:
                raise ValueError(
                    f"level must be one of {ERA_2025_LEVELS} for era 2025 (there are no "
                    f"districts after 1 July 2025), not {self.level!r}"
                )
        else:
            if self.level not in LEVELS:
                raise ValueError(f"level must be one of {LEVELS}, not {self.level!r}")
            self._check_tier()
        if self.source not in SOURCES:
            raise ValueError(f"source must be one of {SOURCES}, not {self.source!r}")
        object.__setattr__(self, "unit_codes", _codes(self.unit_codes))

    def _check_tier(self) -> None:
        if self.tier not in TIERS:
            raise ValueError(f"tier must be one of {TIERS}, not {self.tier!r}")

    @property
    def is_era_2025(self) -> bool:
        return self.era == units.ERA_2025

    @property
    def group_key(self) -> str:
        """The dossier column whose values are the rows' units (era 2024 levels)."""
        return "district_code" if self.level == "district" else "unit_code"

    def with_period(self, period: Period) -> CountQuery:
        """The same question for another period."""
        return dataclasses.replace(self, period=period)

    def with_options(self, **changes: Any) -> CountQuery:
        """The same question with some options changed (checked again)."""
        return dataclasses.replace(self, **changes)


def _codes(codes: Sequence[str] | None) -> tuple[str, ...] | None:
    """Unit codes as stripped strings; none asked for (None or empty) is None."""
    if not codes:
        return None
    if isinstance(codes, str):
        raise TypeError(f"unit_codes must be a sequence of codes, not the string {codes!r}")
    return tuple(str(code).strip() for code in codes)
