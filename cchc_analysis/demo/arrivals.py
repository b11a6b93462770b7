"""Arrivals: how many dossiers each unit receives on each day.

Per unit and day an intensity (the district's volume × weekday × month × Tết × trend × day
noise), then Poisson counts; a calibrated quarter is instead drawn multinomially given its exact
total, from the same intensities, so the quarter keeps the model's expected shape.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import holidays
import numpy as np

from cchc_analysis.core.workdays import business_calendar, holiday_dates
from cchc_analysis.demo.calibration import CalibratedCell
from cchc_analysis.demo.catalogue import DistrictProfile, UnitInfo
from cchc_analysis.demo.model import (
    ANNUAL_GROWTH,
    DAY_NOISE_SHAPE,
    MONTH_FACTORS,
    REFERENCE_QUARTER,
    SATURDAY_SHARE,
    WEEKDAY_FACTORS,
    quarter_bounds,
    trend_years,
)


@cache
def tet_days() -> np.ndarray:
    """First day of the lunar new year for every year the holiday calendar covers."""
    years = sorted({d.year for d in holiday_dates()})
    calendar = holidays.country_holidays("VN", years=years)
    return np.array(
        sorted(d for d, name in calendar.items() if name == "Lunar New Year"), dtype="datetime64[D]"
    )


def day_shape(days: np.ndarray, level: int) -> np.ndarray:
    """Relative arrival intensity per day: working days, weekday, month, Tết, trend."""
    cal = business_calendar()
    weekday = (days.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
    working = np.is_busday(days, busdaycal=cal)
    open_saturday = (weekday == 5) & np.is_busday(
        days, weekmask="0000010", holidays=list(holiday_dates())
    )
    shape = np.where(working, WEEKDAY_FACTORS[weekday], 0.0)
    shape = np.where(open_saturday, SATURDAY_SHARE[level], shape)
    months = days.astype("datetime64[M]").astype(np.int64) % 12
    shape = shape * MONTH_FACTORS[months]
    # Tết: quieter in the last days before the holiday, much quieter for two weeks after it.
    tet = tet_days()
    pos = np.clip(np.searchsorted(tet, days), 1, len(tet) - 1)
    after = (days - tet[pos - 1]).astype(np.float64)  # days since the last Tết
    before = (tet[pos] - days).astype(np.float64)  # days until the next one
    dip = np.where(after >= 0, 0.55 * np.exp(-np.abs(after) / 9.0), 0.0)
    dip += np.where(before >= 0, 0.15 * np.exp(-np.abs(before) / 5.0), 0.0)
    shape = shape * (1 - np.clip(dip, 0, 0.9))
    trended: np.ndarray = shape * (1 + ANNUAL_GROWTH * trend_years(days))
    return trended


def unit_volumes(
    rng: np.random.Generator, profile: DistrictProfile, unit_info: Sequence[UnitInfo]
) -> np.ndarray:
    """New dossiers per unit in the reference quarter: the offices' volume, and the communes'
    shared by a lognormal weight per commune (towns weigh more). The block's first draws."""
    levels = np.array([u.level for u in unit_info])
    volume = np.zeros(len(unit_info))
    volume[levels == 0] = profile.office_volume
    communes = np.flatnonzero(levels == 1)
    if len(communes):
        weight = rng.lognormal(0.0, 0.35, len(communes))
        weight *= np.array(
            [1.8 if unit_info[i].unit_type == "Thị trấn" else 1.0 for i in communes.tolist()]
        )
        volume[communes] = profile.commune_volume * weight / weight.sum()
    return volume


def intensities(
    rng: np.random.Generator,
    profile: DistrictProfile,
    unit_info: Sequence[UnitInfo],
    days: np.ndarray,
    *,
    volume: np.ndarray | None = None,
) -> np.ndarray:
    """Expected arrivals per unit × day (volume × day shape × day noise).

    ``volume`` (new dossiers per unit in the reference quarter) defaults to
    :func:`unit_volumes` of the profile.
    """
    levels = np.array([u.level for u in unit_info])
    if volume is None:
        volume = unit_volumes(rng, profile, unit_info)
    ref_s, ref_e = quarter_bounds(REFERENCE_QUARTER)
    ref_days = np.arange(ref_s, ref_e + 1)
    shapes = np.stack([day_shape(days, lvl) for lvl in (0, 1)])
    ref_totals = np.array([day_shape(ref_days, lvl).sum() for lvl in (0, 1)])
    base = volume / ref_totals[levels]
    noise = rng.gamma(DAY_NOISE_SHAPE, 1 / DAY_NOISE_SHAPE, size=(len(unit_info), len(days)))
    expected: np.ndarray = base[:, None] * shapes[levels] * noise
    return expected


def draw_arrivals(
    rng: np.random.Generator,
    cal_rng: np.random.Generator,
    lam: np.ndarray,
    days: np.ndarray,
    cells: Sequence[CalibratedCell],
    calibrate: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """Row arrays (unit index, received day): Poisson per unit-day.

    A calibrated quarter is drawn multinomially given its exact total instead (the same
    intensities, so the same expected shape).
    """
    counts = rng.poisson(lam)
    if calibrate:
        for cell in cells:
            cols = (days >= cell.start) & (days <= cell.end)
            block = lam[np.ix_(cell.unit_mask, cols)]
            target = cell.target.received_new_count
            drawn = cal_rng.multinomial(target, (block / block.sum()).ravel())
            counts[np.ix_(cell.unit_mask, cols)] = drawn.reshape(block.shape)
    flat = counts.ravel()
    cell_of_row = np.repeat(np.arange(flat.size), flat)
    return cell_of_row // len(days), days[cell_of_row % len(days)]
