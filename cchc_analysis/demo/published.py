"""The published figures the demo reproduces exactly, as data.

Each :class:`CalibrationTarget` holds the Biểu 06 counts one tier of one district must show for
one quarter, with the source they come from and which of them were chosen here because they
were not published. After the reform: a :class:`WindowTarget` (the counts a new commune shows
over a day range, the old communes' carried-over dossiers included) and a :class:`RateTarget`
(an old province's within-deadline rate, all tiers, at one decimal). The generator
(``calibration``) makes the data match them; the tests and ``dataset.json`` check and cite
them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Final

import pandas as pd


@dataclass(frozen=True)
class CalibrationTarget:
    """Exact Biểu 06 counts one tier of one district must show for one quarter.

    ``unit_level`` "district" means the district's own offices (unit_code == district code);
    "commune" means all its communes summed. Counts listed in ``chosen`` were not published and
    were chosen here (realistic values); the others come from reference/published_figures.csv.
    """

    district_code: str
    unit_level: str
    period: str
    received_new_count: int
    carried_over_count: int
    resolved_within_deadline_count: int
    resolved_late_count: int
    pending_total_count: int
    withdrawn_count: int
    received_online_count: int
    online_partial_count: int
    online_full_count: int
    published_rates: dict[str, float] = field(default_factory=dict)
    chosen: tuple[str, ...] = ()
    source: str = ""

    @property
    def received_total_count(self) -> int:
        return self.received_new_count + self.carried_over_count

    @property
    def within_deadline_of_received_rate(self) -> float:
        return self.resolved_within_deadline_count / self.received_total_count

    @property
    def online_rate(self) -> float:
        """Online received / received total (the news articles' denominator)."""
        return self.received_online_count / self.received_total_count

    def selects(self, dossiers: pd.DataFrame) -> pd.Series:
        """Boolean mask of the rows this target is about."""
        district = (dossiers["district_code"].astype("string") == self.district_code).fillna(False)
        if self.unit_level == "district":
            return (dossiers["unit_code"].astype("string") == self.district_code) & district
        return (dossiers["unit_level"].astype("string") == self.unit_level) & district

    def counts(self) -> dict[str, int]:
        """The target counts under the names period_counts() uses."""
        return {
            "received_new_count": self.received_new_count,
            "carried_over_count": self.carried_over_count,
            "received_total_count": self.received_total_count,
            "resolved_late_count": self.resolved_late_count,
            "pending_total_count": self.pending_total_count,
            "withdrawn_count": self.withdrawn_count,
            "received_online_count": self.received_online_count,
            "online_partial_count": self.online_partial_count,
            "online_full_count": self.online_full_count,
        }

    def __post_init__(self) -> None:
        total = (
            self.resolved_within_deadline_count
            + self.resolved_late_count
            + self.pending_total_count
            + self.withdrawn_count
        )
        if total != self.received_total_count:
            raise ValueError(f"calibration {self}: resolved + withdrawn + pending != received")
        if self.online_full_count + self.online_partial_count != self.received_online_count:
            raise ValueError(f"calibration {self}: full + partial != online")


_PUBLISHED = "Kiến Thụy: Cải cách thủ tục hành chính hướng tới sự hài lòng của người dân (2023)"

CALIBRATION: Final[tuple[CalibrationTarget, ...]] = (
    CalibrationTarget(
        district_code="314",
        unit_level="district",
        period="2023-Q3",
        received_new_count=1463,
        carried_over_count=10,
        resolved_within_deadline_count=1465,
        resolved_late_count=3,
        pending_total_count=5,
        withdrawn_count=0,
        received_online_count=1462,
        online_partial_count=553,
        online_full_count=909,
        published_rates={"within_deadline_of_received_rate": 0.9946, "online_rate": 0.9925},
        chosen=("withdrawn_count",),  # implied: received total = resolved + pending
        source=_PUBLISHED,
    ),
    CalibrationTarget(
        district_code="314",
        unit_level="commune",
        period="2023-Q3",
        # The article gives only the total (19,497); the split is ours: communes resolve
        # nearly everything on the day, so few dossiers cross a quarter's first day.
        received_new_count=19493,
        carried_over_count=4,
        resolved_within_deadline_count=19486,
        resolved_late_count=9,
        pending_total_count=2,
        withdrawn_count=0,
        received_online_count=18762,
        online_partial_count=16509,
        online_full_count=2253,
        published_rates={"within_deadline_of_received_rate": 0.9994, "online_rate": 0.9623},
        chosen=("received_new_count", "carried_over_count", "withdrawn_count"),
        source=_PUBLISHED,
    ),
)


@dataclass(frozen=True)
class WindowTarget:
    """Exact counts one era-2025 unit must show over a day range under ``cchc kpis``.

    The counts are those of the unit through the crosswalk: its own rows plus the dossiers of
    the old communes mapped onto it that were carried over the reform. Only the published
    counts are held; the rest (withdrawn, pending, full online) are the model's.
    """

    unit_code: str
    unit_level: str
    start: date
    end: date
    received_new_count: int
    received_online_count: int
    resolved_total_count: int
    resolved_early_count: int
    resolved_late_count: int
    source: str = ""
    online_full_count: int | None = None  # not published: left to the model

    @property
    def resolved_on_time_count(self) -> int:
        return self.resolved_total_count - self.resolved_early_count - self.resolved_late_count

    def counts(self) -> dict[str, int]:
        """The target counts under the names period_counts() uses."""
        return {
            "received_new_count": self.received_new_count,
            "received_online_count": self.received_online_count,
            "resolved_total_count": self.resolved_total_count,
            "resolved_early_count": self.resolved_early_count,
            "resolved_late_count": self.resolved_late_count,
        }


@dataclass(frozen=True)
class RateTarget:
    """An old province's within-deadline rate, (early + on time) / resolved, over a day range:
    every dossier of the province (its offices, its districts' offices, its communes)."""

    province_code: str
    start: date
    end: date
    within_deadline_rate: float
    decimals: int
    source: str = ""


DUONG_AN: Final = WindowTarget(
    unit_code="10972",
    unit_level="commune",
    start=date(2025, 7, 1),
    end=date(2025, 11, 26),
    received_new_count=8930,
    received_online_count=7600,
    resolved_total_count=8914,
    resolved_early_count=8889,
    resolved_late_count=14,
    source="Xã Đường An (Hải Phòng) news report, November 2025",
)

HAI_DUONG_2023: Final = RateTarget(
    province_code="30",
    start=date(2023, 1, 1),
    end=date(2023, 10, 31),
    within_deadline_rate=0.988,
    decimals=3,
    source=(
        "Hải Dương kiên quyết không để phát sinh thủ tục hành chính không có trong quy định "
        "(news, 21/11/2023)"
    ),
)
