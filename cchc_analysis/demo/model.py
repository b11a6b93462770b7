"""The demo model's shared scales: the window and seed, the seasonal factors, the codes of the
categorical columns, the time axis of the trends, working-day steps and the logistic link.

Everything here is a constant or a pure function; the generators (``arrivals``, ``outcomes``,
``calibration``, ``survey``) share it so that they agree on time and on codes.
"""

from __future__ import annotations

from datetime import date
from typing import Final

import numpy as np

from cchc_analysis.core.periods import parse_period
from cchc_analysis.core.schema import CHANNELS, ONLINE_LEVELS, RATINGS, STATUSES
from cchc_analysis.core.workdays import business_calendar

DEFAULT_SEED: Final = 20230930  # of the published demo folder
DEMO_START: Final = date(2022, 7, 1)
DEMO_END: Final = date(2026, 9, 30)  # also the export date: nothing closes after it
OLD_ERA_END: Final = date(2025, 6, 30)  # last day of districts (the reform starts the day after)
NEW_ERA_START: Final = date(2025, 7, 1)  # first day of the new communes (units.REFORM_DATE)
WARMUP_DAYS: Final = 150  # simulated before the window so the first quarter has a carry-over
REFERENCE_QUARTER: Final = "2023-Q3"  # volumes in DISTRICT_PROFILES are for this quarter
TREND_ORIGIN: Final = DEMO_START  # time t (years) in the model counts from here


# Relative volume by calendar month (year-end peak) and weekday (Monday rush).
MONTH_FACTORS: Final = np.array(
    [1.00, 0.95, 1.05, 0.98, 1.00, 1.04, 1.06, 1.05, 0.97, 1.00, 1.09, 1.20]
)
WEEKDAY_FACTORS: Final = np.array([1.15, 1.05, 1.00, 0.95, 0.90, 0.0, 0.0])
SATURDAY_SHARE: Final = (0.03, 0.01)  # of a weekday's volume, district offices / communes
ANNUAL_GROWTH: Final = 0.04
DAY_NOISE_SHAPE: Final = 25.0  # gamma shape of day-to-day noise (larger: calmer)
SIGMA_R: Final = 1.1  # spread of log processing time relative to the deadline
POSTAL_SHARE: Final = 0.03  # of offline dossiers


CHANNEL_CODE = {c: i for i, c in enumerate(CHANNELS)}
ONLINE_LEVEL_CODE = {c: i for i, c in enumerate(ONLINE_LEVELS)}
STATUS_CODE = {c: i for i, c in enumerate(STATUSES)}
RATING_CODE = {c: i for i, c in enumerate(RATINGS)}
RESULT, WITHDRAWN, REJECTED = 0, 1, 2
NAT = np.datetime64("NaT", "D")


def sigmoid(x: np.ndarray) -> np.ndarray:
    """The logistic function: a logit to a probability."""
    probability: np.ndarray = 1.0 / (1.0 + np.exp(-x))
    return probability


def logit(p: np.ndarray) -> np.ndarray:
    """A probability (clipped away from 0 and 1) to its logit."""
    p = np.clip(p, 1e-9, 1 - 1e-9)
    logits: np.ndarray = np.log(p / (1 - p))
    return logits


def trend_years(days: np.ndarray) -> np.ndarray:
    """Years since TREND_ORIGIN (the model's time axis)."""
    return (days - np.datetime64(TREND_ORIGIN, "D")).astype(np.float64) / 365.25


def working_day_on_or_after(
    days: np.ndarray | np.datetime64, n: int | np.ndarray = 0
) -> np.ndarray:
    """The n-th working day on or after ``days``."""
    return np.busday_offset(days, n, roll="forward", busdaycal=business_calendar())


def working_day_on_or_before(days: np.ndarray | np.datetime64) -> np.ndarray:
    """The last working day on or before ``days``."""
    return np.busday_offset(days, 0, roll="backward", busdaycal=business_calendar())


def quarter_bounds(label: str) -> tuple[np.datetime64, np.datetime64]:
    """First and last day of a period label such as ``2023-Q3``."""
    period = parse_period(label)
    return np.datetime64(period.start, "D"), np.datetime64(period.end, "D")
