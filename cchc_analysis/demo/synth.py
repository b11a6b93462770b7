"""Deterministic, calibrated demo data: Hải Phòng's 15 pre-2025 districts, July 2022 – June 2025.

Why it exists: the workbook must be developed, tested and shown without real exports (which
carry personal data and are not ours to publish). The demo province behaves like a real one —
working-day arrivals with seasonality and a Tết dip, online share rising over time, deadlines
in working days, long-tailed processing times, a few districts clearly worse on timeliness —
and it reproduces the published Kiến Thụy figures for 2023-Q3 exactly (:data:`CALIBRATION`),
so a report can be checked against a number leadership has already seen.

How:

* Per district, one random generator seeded from ``(seed, district code)``: a subset of
  districts yields exactly the rows those districts have in the full run.
* Per unit and day an arrival intensity (volume × month × Tết × weekday × trend × noise); per
  dossier the procedure (fixing field and deadline), channel and online level, processing time
  ``floor(deadline × r)`` with ``r`` lognormal plus a small "problem" share around the deadline
  (the late tail), then statuses, returns, flags and ratings derived from the dates.
* The simulation starts :data:`WARMUP_DAYS` before the window so that the first quarter has a
  realistic carried-over stock; rows received before the window are kept only when still
  open on its first day. The export is taken on the window's last day: nothing is closed or
  returned after it.
* Calibration: the calibrated unit-quarters are drawn from the same model, with its level
  parameters solved so that the expected counts equal the targets (volume, online share, full
  share — applied to the unit's whole series, so the quarter shows no break), then nudged to
  the exact counts by the fewest changes: the quarter's arrivals are drawn multinomially given
  the total, channel/level flags are flipped on the fewest rows, and a few closing dates near
  the quarter's edges are moved (carried over, pending, late, withdrawn). Every row stays
  internally consistent. Other units and quarters are untouched, except that a closing date
  moved across the quarter's first or last day also counts in the neighbouring quarter.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any, Final, NamedTuple

import holidays
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from cchc_analysis import units
from cchc_analysis.core.periods import parse_period
from cchc_analysis.core.schema import (
    CHANNELS,
    DOSSIER_COLUMNS,
    ONLINE_LEVELS,
    RATINGS,
    STATUSES,
    SURVEY_COLUMNS,
    SURVEY_ITEM_COLUMNS,
    SURVEY_SCORE_MAX,
    SURVEY_SCORE_MIN,
    coerce_dossiers,
)
from cchc_analysis.core.workdays import add_working_days, business_calendar, holiday_dates
from cchc_analysis.store.folder import (
    DATASET_FILE,
    DOSSIERS_DIR,
    PARTITION_COLUMN,
    SURVEY_FILE,
    write_dataset_info,
    write_dossiers,
    write_table,
)

__all__ = [
    "CALIBRATION",
    "DEFAULT_SEED",
    "DEMO_END",
    "DEMO_PROVINCE_CODE",
    "DEMO_START",
    "DISTRICT_PROFILES",
    "FIELDS",
    "GENERATOR_VERSION",
    "PROCEDURES",
    "SOURCE",
    "WORSE_DISTRICTS",
    "CalibrationTarget",
    "DistrictProfile",
    "Procedure",
    "generate_demo",
    "generate_dossiers",
    "generate_survey",
]

DEFAULT_SEED: Final = 20230930
GENERATOR_VERSION: Final = "1.0"
SOURCE: Final = "synthetic demo"
DEMO_PROVINCE_CODE: Final = "31"
DEMO_START: Final = date(2022, 7, 1)
DEMO_END: Final = date(2025, 6, 30)  # also the export date: nothing closes after it
WARMUP_DAYS: Final = 150  # simulated before the window so the first quarter has a carry-over
REFERENCE_QUARTER: Final = "2023-Q3"  # volumes in DISTRICT_PROFILES are for this quarter
TREND_ORIGIN: Final = DEMO_START  # time t (years) in the model counts from here


# ---------------------------------------------------------------------------------------------
# Calibration: the published figures, as data
# ---------------------------------------------------------------------------------------------


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
        district = dossiers["district_code"].astype("string") == self.district_code
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


# ---------------------------------------------------------------------------------------------
# Procedures and fields
# ---------------------------------------------------------------------------------------------


class Procedure(NamedTuple):
    """One administrative procedure as the generator uses it.

    Codes follow the national database's format (``1.001193``) but are not checked against
    it: the demo needs plausible codes, not authoritative ones.
    """

    code: str
    name: str
    field: str
    level: str  # district | commune: which tier's office receives it
    deadline_days: int  # statutory deadline in working days
    weight: float  # share of the tier's volume (relative)
    fee_share: float  # share of dossiers with a fee or charge
    full_share: float  # share of online dossiers that go fully online (0: cannot)
    online_offset: float  # logit shift of the online share (needs presence: negative)
    complexity: float  # log shift of processing time relative to the deadline


HO_TICH = "Hộ tịch"
CHUNG_THUC = "Chứng thực"
DAT_DAI = "Đất đai"
XAY_DUNG = "Xây dựng"
DKKD = "Đăng ký kinh doanh"
LDTBXH = "Lao động - Thương binh và Xã hội"
BTXH = "Bảo trợ xã hội"
TU_PHAP = "Tư pháp"
GIAO_DUC = "Giáo dục và Đào tạo"
FIELDS: Final = (HO_TICH, CHUNG_THUC, DAT_DAI, XAY_DUNG, DKKD, LDTBXH, BTXH, TU_PHAP, GIAO_DUC)

PROCEDURES: Final[tuple[Procedure, ...]] = (
    # --- district offices (Phòng Tư pháp, TN&MT, Quản lý đô thị/Kinh tế hạ tầng, TC-KH, ...)
    Procedure("1.001695", "Đăng ký khai sinh có yếu tố nước ngoài", HO_TICH, "district",
              15, 1.5, 0.5, 0.4, 0.0, 0.4),
    Procedure("1.000893", "Đăng ký kết hôn có yếu tố nước ngoài", HO_TICH, "district",
              15, 1.0, 1.0, 0.0, -0.5, 0.6),
    Procedure("1.004859", "Thay đổi, cải chính, bổ sung thông tin hộ tịch, xác định lại "
              "dân tộc", HO_TICH, "district", 3, 3.0, 1.0, 0.6, 0.0, 0.0),
    Procedure("1.003583", "Cấp bản sao trích lục hộ tịch", HO_TICH, "district",
              1, 6.0, 1.0, 0.85, 0.3, -0.3),
    Procedure("2.000815", "Chứng thực bản sao từ bản chính giấy tờ, văn bản", CHUNG_THUC,
              "district", 1, 20.0, 1.0, 0.8, 0.4, -0.5),
    Procedure("2.000884", "Chứng thực chữ ký người dịch", CHUNG_THUC, "district",
              1, 3.0, 1.0, 0.3, 0.0, -0.3),
    Procedure("2.001035", "Chứng thực hợp đồng, giao dịch liên quan đến tài sản là động sản",
              CHUNG_THUC, "district", 2, 2.5, 1.0, 0.0, -0.3, 0.0),
    Procedure("1.004203", "Chuyển mục đích sử dụng đất phải được phép của cơ quan nhà nước có "
              "thẩm quyền đối với hộ gia đình, cá nhân", DAT_DAI, "district",
              15, 3.0, 1.0, 0.0, -0.3, 0.9),
    Procedure("1.004227", "Gia hạn sử dụng đất nông nghiệp của hộ gia đình, cá nhân", DAT_DAI,
              "district", 7, 1.0, 0.0, 0.3, 0.0, 0.5),
    Procedure("1.005398", "Giải quyết tranh chấp đất đai thuộc thẩm quyền của Chủ tịch Ủy ban "
              "nhân dân cấp huyện", DAT_DAI, "district", 30, 0.3, 0.0, 0.0, -1.0, 1.2),
    Procedure("1.009994", "Cấp giấy phép xây dựng mới đối với nhà ở riêng lẻ", XAY_DUNG,
              "district", 15, 7.0, 1.0, 0.6, 0.0, 0.8),
    Procedure("1.009995", "Cấp giấy phép sửa chữa, cải tạo đối với nhà ở riêng lẻ", XAY_DUNG,
              "district", 15, 2.0, 1.0, 0.6, 0.0, 0.7),
    Procedure("1.009997", "Gia hạn giấy phép xây dựng", XAY_DUNG, "district",
              5, 1.0, 0.0, 0.7, 0.0, 0.3),
    Procedure("2.000720", "Đăng ký thành lập hộ kinh doanh", DKKD, "district",
              3, 10.0, 1.0, 0.9, 0.3, 0.2),
    Procedure("2.000575", "Đăng ký thay đổi nội dung đăng ký hộ kinh doanh", DKKD, "district",
              3, 6.0, 1.0, 0.9, 0.3, 0.2),
    Procedure("2.000644", "Thông báo tạm ngừng kinh doanh, tiếp tục kinh doanh trước thời hạn "
              "đã thông báo của hộ kinh doanh", DKKD, "district", 3, 3.0, 0.0, 0.95, 0.5, 0.0),
    Procedure("2.000629", "Chấm dứt hoạt động hộ kinh doanh", DKKD, "district",
              3, 2.0, 0.0, 0.95, 0.5, 0.0),
    Procedure("1.010801", "Giải quyết chế độ trợ cấp một lần đối với thân nhân người có công "
              "với cách mạng từ trần", LDTBXH, "district", 12, 2.0, 0.0, 0.2, -0.3, 0.6),
    Procedure("1.010822", "Xác nhận vào đơn đề nghị di chuyển hài cốt liệt sĩ", LDTBXH,
              "district", 5, 0.7, 0.0, 0.2, -0.3, 0.3),
    Procedure("1.001776", "Thực hiện, điều chỉnh, thôi hưởng trợ cấp xã hội hằng tháng, hỗ trợ "
              "kinh phí chăm sóc, nuôi dưỡng hằng tháng", BTXH, "district",
              7, 5.0, 0.0, 0.3, 0.0, 0.5),
    Procedure("1.001758", "Hỗ trợ chi phí mai táng cho đối tượng bảo trợ xã hội", BTXH,
              "district", 3, 2.0, 0.0, 0.3, 0.0, 0.2),
    Procedure("1.008950", "Chuyển trường đối với học sinh trung học cơ sở", GIAO_DUC,
              "district", 3, 3.0, 0.0, 0.8, 0.3, 0.1),
    Procedure("2.000930", "Công nhận báo cáo viên pháp luật", TU_PHAP, "district",
              5, 0.3, 0.0, 0.5, 0.0, 0.3),
    # --- communes (UBND xã/phường/thị trấn)
    Procedure("1.001193", "Đăng ký khai sinh", HO_TICH, "commune",
              1, 14.0, 0.0, 0.3, 0.2, -0.3),
    Procedure("1.000656", "Đăng ký khai tử", HO_TICH, "commune", 1, 4.0, 0.0, 0.3, 0.2, -0.3),
    Procedure("1.000894", "Đăng ký kết hôn", HO_TICH, "commune", 3, 4.0, 0.0, 0.0, -0.3, 0.0),
    Procedure("1.004873", "Cấp Giấy xác nhận tình trạng hôn nhân", HO_TICH, "commune",
              3, 7.0, 1.0, 0.25, 0.2, 0.0),
    Procedure("2.000635", "Cấp bản sao trích lục hộ tịch", HO_TICH, "commune",
              1, 8.0, 1.0, 0.35, 0.3, -0.3),
    Procedure("1.004884", "Đăng ký lại khai sinh", HO_TICH, "commune", 5, 1.0, 1.0, 0.0, 0.0, 0.2),
    Procedure("1.003011", "Liên thông thủ tục hành chính về đăng ký khai sinh, đăng ký thường "
              "trú, cấp thẻ bảo hiểm y tế cho trẻ em dưới 6 tuổi", HO_TICH, "commune",
              5, 4.0, 0.0, 0.5, 0.3, 0.3),
    Procedure("2.000908", "Chứng thực bản sao từ bản chính giấy tờ, văn bản", CHUNG_THUC,
              "commune", 1, 40.0, 1.0, 0.03, 0.2, -0.5),
    Procedure("2.000843", "Chứng thực chữ ký trong các giấy tờ, văn bản", CHUNG_THUC, "commune",
              1, 6.0, 1.0, 0.0, 0.0, -0.3),
    Procedure("2.001019", "Chứng thực hợp đồng, giao dịch liên quan đến tài sản là động sản, "
              "quyền sử dụng đất, nhà ở", CHUNG_THUC, "commune", 2, 4.0, 1.0, 0.0, -0.3, 0.0),
    Procedure("2.000286", "Trợ giúp xã hội khẩn cấp về hỗ trợ làm nhà ở, sửa chữa nhà ở", BTXH,
              "commune", 10, 0.3, 0.0, 0.1, -0.3, 0.6),
    Procedure("1.001731", "Hỗ trợ chi phí mai táng", BTXH, "commune", 3, 1.0, 0.0, 0.2, 0.0, 0.2),
    Procedure("1.000489", "Xác nhận hộ gia đình làm nông nghiệp, lâm nghiệp, ngư nghiệp có mức "
              "sống trung bình", LDTBXH, "commune", 10, 0.7, 0.0, 0.2, -0.3, 0.5),
    Procedure("1.005461", "Công nhận hộ nghèo, hộ cận nghèo phát sinh trong năm", LDTBXH,
              "commune", 10, 0.5, 0.0, 0.1, -0.3, 0.5),
    Procedure("2.002171", "Hòa giải tranh chấp đất đai", DAT_DAI, "commune",
              30, 0.15, 0.0, 0.0, -1.0, 1.2),
    Procedure("2.000445", "Công nhận hòa giải viên", TU_PHAP, "commune",
              5, 0.2, 0.0, 0.2, 0.0, 0.3),
)  # fmt: skip


# ---------------------------------------------------------------------------------------------
# District profiles
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DistrictProfile:
    """Level parameters of one district (first value: district offices, second: communes).

    Volumes are new dossiers in :data:`REFERENCE_QUARTER`; the other quarters follow from the
    seasonal and trend factors. ``speed`` is the log of the typical processing time relative to
    the deadline (more negative: faster), ``problem_rate`` the share of dossiers that run into
    trouble and finish around the deadline (the late tail).
    """

    office_volume: float
    commune_volume: float
    online_start: tuple[float, float]  # logit of the online share on 2022-07-01
    online_slope: tuple[float, float]  # logit per year
    speed: tuple[float, float]
    problem_rate: tuple[float, float]
    withdrawn_rate: float = 0.003  # withdrawn + rejected (split 60/40)
    digitization_start: float = -0.8  # logit on 2022-07-01; rises 1.2 a year
    dissatisfied_share: float = 0.03  # portal ratings of dossiers resolved in time
    survey_mean: float = 0.0  # latent satisfaction of survey respondents
    survey_per_year: int = 300


_GOOD = {"speed": (-2.7, -3.3), "problem_rate": (0.005, 0.002)}
_WORSE = {
    "speed": (-1.5, -1.0),
    "problem_rate": (0.06, 0.05),
    "withdrawn_rate": 0.006,
    "digitization_start": -1.3,
    "dissatisfied_share": 0.07,
    "survey_mean": -0.45,
}
DISTRICT_PROFILES: Final[dict[str, DistrictProfile]] = {
    "303": DistrictProfile(1900, 12000, (0.4, 0.2), (2.2, 1.9), **_GOOD, survey_per_year=320),
    "304": DistrictProfile(2400, 15000, (0.5, 0.3), (2.4, 2.0), **_GOOD, survey_per_year=350),
    "305": DistrictProfile(2800, 18000, (0.2, 0.0), (1.7, 1.5), **_WORSE, survey_per_year=380),
    "306": DistrictProfile(2300, 13000, (0.5, 0.3), (2.3, 2.0), **_GOOD, survey_per_year=330),
    "307": DistrictProfile(1700, 11000, (0.3, 0.1), (2.0, 1.8), **_GOOD, survey_per_year=300),
    "308": DistrictProfile(850, 5000, (0.1, -0.1), (1.8, 1.6), **_GOOD, survey_per_year=220),
    "309": DistrictProfile(1000, 6000, (0.2, 0.0), (1.9, 1.7), **_GOOD, survey_per_year=230),
    "311": DistrictProfile(3300, 28000, (0.2, 0.0), (2.0, 1.7), **_GOOD, survey_per_year=450),
    "312": DistrictProfile(2200, 16000, (0.3, 0.1), (2.1, 1.8), **_GOOD, survey_per_year=340),
    "313": DistrictProfile(1450, 15000, (0.1, -0.1), (1.9, 1.7), **_GOOD, survey_per_year=300),
    # Kiến Thụy: an early mover on online filing and very fast (the published 2023-Q3 figures,
    # whose new-dossier counts are its reference volumes).
    "314": DistrictProfile(
        CALIBRATION[0].received_new_count, CALIBRATION[1].received_new_count, (0.3, 0.4),
        (6.0, 2.8), speed=(-3.4, -5.0), problem_rate=(0.002, 0.0035), withdrawn_rate=0.0001,
        dissatisfied_share=0.02, survey_mean=0.15, survey_per_year=320,
    ),
    "315": DistrictProfile(1550, 16000, (0.0, -0.2), (1.6, 1.4), **_WORSE, survey_per_year=320),
    "316": DistrictProfile(1650, 17000, (0.1, -0.1), (1.8, 1.6), **_GOOD, survey_per_year=330),
    "317": DistrictProfile(700, 4000, (-0.2, -0.3), (1.5, 1.4), **_WORSE, survey_per_year=200),
    "318": DistrictProfile(30, 0, (-0.5, 0.0), (1.5, 1.5), **_GOOD, survey_per_year=40),
}  # fmt: skip
WORSE_DISTRICTS: Final = tuple(
    code for code, p in DISTRICT_PROFILES.items() if p.problem_rate == _WORSE["problem_rate"]
)

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

_LEVELS = ("district", "commune")
_CHANNEL = {c: i for i, c in enumerate(CHANNELS)}
_LEVEL = {c: i for i, c in enumerate(ONLINE_LEVELS)}
_STATUS = {c: i for i, c in enumerate(STATUSES)}
_RATING = {c: i for i, c in enumerate(RATINGS)}
_RESULT, _WITHDRAWN, _REJECTED = 0, 1, 2
_NAT = np.datetime64("NaT", "D")


# ---------------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------------


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-9, 1 - 1e-9)
    return np.log(p / (1 - p))


def _years(days: np.ndarray) -> np.ndarray:
    """Years since TREND_ORIGIN (the model's time axis)."""
    return (days - np.datetime64(TREND_ORIGIN, "D")).astype(np.float64) / 365.25


def _fwd(days: np.ndarray | np.datetime64, n: int | np.ndarray = 0) -> np.ndarray:
    """The n-th working day on or after ``days``."""
    return np.busday_offset(days, n, roll="forward", busdaycal=business_calendar())


def _bwd(days: np.ndarray | np.datetime64) -> np.ndarray:
    """The last working day on or before ``days``."""
    return np.busday_offset(days, 0, roll="backward", busdaycal=business_calendar())


def _pick(rng: np.random.Generator, candidates: np.ndarray, weights: np.ndarray, k: int):
    """``k`` of ``candidates`` without replacement, with probability growing with ``weights``.

    Efraimidis–Spirakis keys, so a zero weight is picked only when nothing else is left.
    """
    if k <= 0:
        return candidates[:0]
    if k > len(candidates):
        raise _CalibrationError(f"need {k} rows to adjust, only {len(candidates)} can be")
    w = np.maximum(np.asarray(weights, dtype=np.float64), 1e-12)
    keys = np.log(rng.random(len(candidates))) / w
    return candidates[np.argsort(-keys, kind="stable")[:k]]


def _fix_count(
    rng: np.random.Generator, selected: np.ndarray, prob: np.ndarray, target: int
) -> np.ndarray:
    """Flip the fewest rows so that exactly ``target`` are selected.

    Rows dropped are picked in proportion to 1 - prob, rows added in proportion to prob: the
    rows the model found least likely to be where they are move first.
    """
    selected = selected.copy()
    have = int(selected.sum())
    if have > target:
        drop = _pick(rng, np.flatnonzero(selected), 1 - prob[selected], have - target)
        selected[drop] = False
    elif have < target:
        add = _pick(rng, np.flatnonzero(~selected), prob[~selected], target - have)
        selected[add] = True
    return selected


def _solve_shift(base_logit: np.ndarray, target: float, weights: np.ndarray | None = None):
    """Shift s so that the (weighted) sum of sigmoid(base_logit + s) equals ``target``."""
    w = np.ones_like(base_logit) if weights is None else weights
    lo, hi = -30.0, 30.0
    for _ in range(80):
        mid = (lo + hi) / 2
        if (w * _sigmoid(base_logit + mid)).sum() < target:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


class _CalibrationError(RuntimeError):
    """The calibration could not reach the exact counts (should not happen with the profiles)."""


@cache
def _tet_days() -> np.ndarray:
    """First day of the lunar new year for every year the holiday calendar covers."""
    years = sorted({d.year for d in holiday_dates()})
    calendar = holidays.country_holidays("VN", years=years)
    return np.array(
        sorted(d for d, name in calendar.items() if name == "Lunar New Year"), dtype="datetime64[D]"
    )


def _day_shape(days: np.ndarray, level: int) -> np.ndarray:
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
    tet = _tet_days()
    pos = np.clip(np.searchsorted(tet, days), 1, len(tet) - 1)
    after = (days - tet[pos - 1]).astype(np.float64)  # days since the last Tết
    before = (tet[pos] - days).astype(np.float64)  # days until the next one
    dip = np.where(after >= 0, 0.55 * np.exp(-np.abs(after) / 9.0), 0.0)
    dip += np.where(before >= 0, 0.15 * np.exp(-np.abs(before) / 5.0), 0.0)
    shape = shape * (1 - np.clip(dip, 0, 0.9))
    return shape * (1 + ANNUAL_GROWTH * _years(days))


def _quarter_bounds(label: str) -> tuple[np.datetime64, np.datetime64]:
    period = parse_period(label)
    return np.datetime64(period.start, "D"), np.datetime64(period.end, "D")


# ---------------------------------------------------------------------------------------------
# Registry
# ---------------------------------------------------------------------------------------------


class _UnitInfo(NamedTuple):
    code: str
    name: str
    level: int  # 0 district offices, 1 commune
    unit_type: str


@cache
def _district_units(district_code: str) -> tuple[_UnitInfo, ...]:
    """The district's own offices first, then its communes, from the 2024-era registry."""
    district = units.get_unit(district_code, era=units.ERA_PRE_2025)
    out = [_UnitInfo(district.code, district.name, 0, district.unit_type)]
    for commune in units.children(district_code, era=units.ERA_PRE_2025):
        out.append(_UnitInfo(commune.code, commune.name, 1, commune.unit_type))
    return tuple(out)


def _check_districts(district_codes: Sequence[str] | None) -> list[str]:
    known = [u.code for u in units.children(DEMO_PROVINCE_CODE, era=units.ERA_PRE_2025)]
    if district_codes is None:
        codes = known
    else:
        codes = [str(c).strip() for c in district_codes]
        unknown = [c for c in codes if c not in known]
        if unknown:
            raise ValueError(
                f"not districts of province {DEMO_PROVINCE_CODE} (Hải Phòng): {unknown}; "
                f"known: {', '.join(known)}"
            )
        codes = list(dict.fromkeys(codes))
    missing = [c for c in codes if c not in DISTRICT_PROFILES]
    if missing:
        raise ValueError(f"no demo profile for districts {missing}")
    return sorted(codes)


# ---------------------------------------------------------------------------------------------
# Dossiers
# ---------------------------------------------------------------------------------------------


@cache
def _procedure_table() -> dict[str, np.ndarray]:
    """PROCEDURES as arrays (one entry per procedure)."""
    table = {name: np.array([getattr(p, name) for p in PROCEDURES]) for name in Procedure._fields}
    table["level_index"] = np.array([_LEVELS.index(p.level) for p in PROCEDURES])
    shares = table["weight"].astype(np.float64)
    for lvl in (0, 1):
        on_level = table["level_index"] == lvl
        shares[on_level] /= shares[on_level].sum()
    table["share"] = shares  # of its tier's volume
    return table


class _Streams:
    """Per-row random draws from two generators: the calibrated cells' rows from their own.

    The rows a calibration target is about (a tier's dossiers received in the quarter) draw
    from ``cal``; all other rows from ``main``. So how many rows the calibrated quarter has, and
    every choice the calibration makes, leaves the other rows' draws exactly as they were.
    """

    def __init__(self, main: np.random.Generator, cal: np.random.Generator, cal_rows: np.ndarray):
        self.main, self.cal, self.cal_rows = main, cal, cal_rows
        self.main_rows = ~cal_rows
        self.n = len(cal_rows)

    def draw(self, name: str, *args: Any) -> np.ndarray:
        parts = []
        for gen, rows in ((self.main, self.main_rows), (self.cal, self.cal_rows)):
            sliced = [a[rows] if np.ndim(a) else a for a in args]
            parts.append(getattr(gen, name)(*sliced, size=int(rows.sum())))
        out = np.empty(self.n, dtype=np.result_type(*parts))
        out[self.main_rows], out[self.cal_rows] = parts
        return out

    def random(self) -> np.ndarray:
        return self.draw("random")

    def normal(self, loc: Any = 0.0, scale: Any = 1.0) -> np.ndarray:
        return self.draw("normal", loc, scale)


def _draw_procedures(streams: _Streams, level: np.ndarray) -> np.ndarray:
    """Procedure index per row, from its tier's mix."""
    table = _procedure_table()
    u = streams.random()
    out = np.empty(len(level), dtype=np.int64)
    for lvl in (0, 1):
        rows = np.flatnonzero(level == lvl)
        idx = np.flatnonzero(table["level_index"] == lvl)
        cum = np.cumsum(table["share"][idx])
        draws = np.searchsorted(cum / cum[-1], u[rows], side="right")
        out[rows] = idx[np.minimum(draws, len(idx) - 1)]
    return out


@dataclass
class _Cell:
    """One calibration target mapped onto the district's arrays."""

    target: CalibrationTarget
    unit_mask: np.ndarray  # over the district's units
    start: np.datetime64
    end: np.datetime64
    rows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))  # the tier's rows
    new_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))  # and new


def _cells_for(
    district_code: str, unit_info: Sequence[_UnitInfo], start: np.datetime64, end: np.datetime64
) -> list[_Cell]:
    """The calibration targets that apply: their district, and a window holding the quarter."""
    cells = []
    levels = np.array([u.level for u in unit_info])
    for target in CALIBRATION:
        if target.district_code != district_code:
            continue
        s, e = _quarter_bounds(target.period)
        if s < start or e > end:
            continue  # the window does not hold the quarter: nothing to match
        mask = levels == _LEVELS.index(target.unit_level)
        if mask.any():
            cells.append(_Cell(target, mask, s, e))
    return cells


def _intensities(
    rng: np.random.Generator,
    profile: DistrictProfile,
    unit_info: Sequence[_UnitInfo],
    days: np.ndarray,
) -> np.ndarray:
    """Expected arrivals per unit × day (volume × day shape × day noise)."""
    levels = np.array([u.level for u in unit_info])
    volume = np.zeros(len(unit_info))
    volume[levels == 0] = profile.office_volume
    communes = np.flatnonzero(levels == 1)
    if len(communes):
        weight = rng.lognormal(0.0, 0.35, len(communes))
        weight *= np.array([1.8 if unit_info[i].unit_type == "Thị trấn" else 1.0 for i in communes])
        volume[communes] = profile.commune_volume * weight / weight.sum()
    ref_s, ref_e = _quarter_bounds(REFERENCE_QUARTER)
    ref_days = np.arange(ref_s, ref_e + 1)
    shapes = np.stack([_day_shape(days, lvl) for lvl in (0, 1)])
    ref_totals = np.array([_day_shape(ref_days, lvl).sum() for lvl in (0, 1)])
    base = volume / ref_totals[levels]
    noise = rng.gamma(DAY_NOISE_SHAPE, 1 / DAY_NOISE_SHAPE, size=(len(unit_info), len(days)))
    return base[:, None] * shapes[levels] * noise


def _arrivals(
    rng: np.random.Generator,
    cal_rng: np.random.Generator,
    lam: np.ndarray,
    days: np.ndarray,
    cells: Sequence[_Cell],
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


@dataclass
class _UnitParams:
    """Per-unit random effects (drawn once per unit, so row counts never shift them)."""

    online: np.ndarray  # added to the tier's online_start (logit)
    slope: np.ndarray  # multiplies the tier's online_slope
    full: np.ndarray  # added to the logit of the full-online share
    speed: np.ndarray  # added to the tier's speed (log)

    @classmethod
    def draw(cls, rng: np.random.Generator, n_units: int) -> _UnitParams:
        return cls(
            online=rng.normal(0.0, 0.3, n_units),
            slope=np.exp(rng.normal(0.0, 0.1, n_units)),
            full=rng.normal(0.0, 0.3, n_units),
            speed=rng.normal(0.0, 0.25, n_units),
        )


def _online_logits(
    profile: DistrictProfile,
    params: _UnitParams,
    unit: np.ndarray,
    level: np.ndarray,
    proc: np.ndarray,
    t: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Logits of P(online) and P(full | online) for each (unit, procedure, time)."""
    table = _procedure_table()
    start = np.asarray(profile.online_start)[level] + params.online[unit]
    slope = np.asarray(profile.online_slope)[level] * params.slope[unit]
    online = start + slope * t + table["online_offset"][proc]
    full = _logit(table["full_share"][proc]) + 0.35 * t + params.full[unit]
    return online, full


def _solve_channel_levels(
    profile: DistrictProfile,
    params: _UnitParams,
    lam: np.ndarray,
    days: np.ndarray,
    cell: _Cell,
) -> None:
    """Shift the cell units' online and full-online levels so the expected counts are exact.

    The expectation runs over the quarter's intensities and the tier's procedure mix, so it
    does not depend on the rows drawn; the shift applies to the units' whole series.
    """
    table = _procedure_table()
    tgt = cell.target
    cols = (days >= cell.start) & (days <= cell.end)
    units_idx = np.flatnonzero(cell.unit_mask)
    procs = np.flatnonzero(table["level_index"] == _LEVELS.index(tgt.unit_level))
    u, d, p = np.meshgrid(units_idx, np.flatnonzero(cols), procs, indexing="ij")
    u, d, p = u.ravel(), d.ravel(), p.ravel()
    weight = lam[u, d] * table["share"][p]
    weight *= tgt.received_new_count / weight.sum()
    level = np.full(len(u), _LEVELS.index(tgt.unit_level))
    on_logit, full_logit = _online_logits(profile, params, u, level, p, _years(days[d]))
    shift = _solve_shift(on_logit, tgt.received_online_count, weights=weight)
    can_full = table["full_share"][p] > 0
    on_weight = weight * _sigmoid(on_logit + shift) * can_full
    full_shift = _solve_shift(full_logit, tgt.online_full_count, weights=on_weight)
    params.online[units_idx] += shift
    params.full[units_idx] += full_shift


def _draw_channels(
    streams: _Streams,
    cal_rng: np.random.Generator,
    profile: DistrictProfile,
    params: _UnitParams,
    unit: np.ndarray,
    level: np.ndarray,
    proc: np.ndarray,
    t: np.ndarray,
    cells: Sequence[_Cell],
    calibrate: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """Channel and online level codes per row; calibrated cells get their exact counts."""
    table = _procedure_table()
    on_logit, full_logit = _online_logits(profile, params, unit, level, proc, t)
    p_online = _sigmoid(on_logit)
    p_full = np.where(table["full_share"][proc] > 0, _sigmoid(full_logit), 0.0)
    online = streams.random() < p_online
    full_draw = streams.random() < p_full
    postal = streams.random() < POSTAL_SHARE
    if calibrate:
        for cell in cells:
            new = np.flatnonzero(cell.new_rows)
            tgt = cell.target
            online[new] = _fix_count(cal_rng, online[new], p_online[new], tgt.received_online_count)
            on_rows = new[online[new]]
            full_draw[on_rows] = _fix_count(
                cal_rng, full_draw[on_rows], p_full[on_rows], tgt.online_full_count
            )
    full = online & full_draw
    channel = np.where(online, _CHANNEL["online"], _CHANNEL["in_person"])
    channel = np.where(~online & postal, _CHANNEL["postal"], channel)
    online_level = np.where(
        online, np.where(full, _LEVEL["full"], _LEVEL["partial"]), _LEVEL["none"]
    )
    return channel.astype(np.int8), online_level.astype(np.int8)


def _draw_outcomes(
    streams: _Streams,
    profile: DistrictProfile,
    params: _UnitParams,
    unit: np.ndarray,
    level: np.ndarray,
    proc: np.ndarray,
    received: np.ndarray,
    t: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Deadline, closing day (before the export cut) and outcome kind per row.

    Working days taken = floor(deadline × r): r lognormal around the unit's speed, or, for the
    few dossiers that run into trouble, around 1 (the late tail).
    """
    table = _procedure_table()
    deadline = table["deadline_days"][proc]
    due = add_working_days(received, deadline)
    log_r = (
        np.asarray(profile.speed)[level]
        + params.speed[unit]
        + table["complexity"][proc]
        - 0.08 * t  # offices get a little faster every year
        + SIGMA_R * streams.normal()
    )
    problem = streams.random() < np.asarray(profile.problem_rate)[level]
    log_r = np.where(problem, streams.normal(0.05, 0.45), log_r)
    worked = np.floor(deadline * np.exp(np.minimum(log_r, 4.0))).astype(np.int64)
    u = streams.random()
    kind = np.where(
        u < profile.withdrawn_rate * 0.6,
        _WITHDRAWN,
        np.where(u < profile.withdrawn_rate, _REJECTED, _RESULT),
    ).astype(np.int8)
    quick = np.floor(streams.random() * (np.minimum(deadline, 10) + 1)).astype(np.int64)
    worked = np.where(kind == _RESULT, worked, quick)
    closed = add_working_days(received, np.minimum(worked, 500))
    return due, closed, kind


def _calibrate_outcomes(
    rng: np.random.Generator,
    cell: _Cell,
    received: np.ndarray,
    due: np.ndarray,
    closed: np.ndarray,
    kind: np.ndarray,
) -> None:
    """Move the fewest closing dates (and outcome kinds) so the cell's quarter is exact.

    In order: carried over (close a few just before the first day, or keep a few of the last
    days' dossiers open across it), pending at the end (close a few on the last working day, or
    leave a few of the last days' dossiers for the next working day), withdrawn, then late
    (close by the deadline instead, or a few days after it). Each step keeps what the earlier
    ones fixed. Arrays are changed in place.
    """
    tgt = cell.target
    s, e = cell.start, cell.end
    rows = cell.rows
    last_before = _bwd(s - 1)
    first_in = _fwd(s)
    last_in = _bwd(e)

    def ranked_latest(cands: np.ndarray) -> np.ndarray:
        # The most recently received are the likeliest still to be open: weight by recency.
        age = (e - received[cands]).astype(np.float64)
        return np.exp(-age / 4.0)

    # 1. carried over: received before s, not closed before s
    carried = rows & (received < s) & (closed >= s)
    have = int(carried.sum())
    if have > tgt.carried_over_count:
        cands = np.flatnonzero(carried)
        soon = np.exp(-(closed[cands] - s).astype(np.float64) / 5.0)
        move = _pick(rng, cands, soon, have - tgt.carried_over_count)
        closed[move] = np.maximum(received[move], last_before)
    elif have < tgt.carried_over_count:
        cands = np.flatnonzero(rows & (received < s) & (closed < s) & (kind == _RESULT))
        cands = cands[due[cands] >= first_in] if (due[cands] >= first_in).sum() else cands
        recency = np.exp(-(s - received[cands]).astype(np.float64) / 3.0)
        move = _pick(rng, cands, recency, tgt.carried_over_count - have)
        later = _fwd(s, rng.integers(0, 3, len(move)))
        closed[move] = np.where(due[move] >= first_in, np.minimum(later, due[move]), later)

    in_scope = rows & (received <= e) & (closed >= s)  # new, or carried over (closed >= s)
    # 2. pending at the end
    pending = in_scope & (closed > e)
    have = int(pending.sum())
    if have > tgt.pending_total_count:
        cands = np.flatnonzero(pending)
        soon = np.exp(-(closed[cands] - e).astype(np.float64) / 5.0)
        move = _pick(rng, cands, soon, have - tgt.pending_total_count)
        closed[move] = np.maximum(received[move], last_in)
    elif have < tgt.pending_total_count:
        cands = np.flatnonzero(in_scope & (closed <= e) & (received >= s) & (kind == _RESULT))
        move = _pick(rng, cands, ranked_latest(cands), tgt.pending_total_count - have)
        closed[move] = _fwd(e + 1, rng.integers(0, 2, len(move)))

    # 3. withdrawn / rejected within the quarter
    closed_in = in_scope & (closed <= e)
    gone = closed_in & (kind != _RESULT)
    have = int(gone.sum())
    if have > tgt.withdrawn_count:
        cands = np.flatnonzero(gone)
        kind[_pick(rng, cands, np.ones(len(cands)), have - tgt.withdrawn_count)] = _RESULT
    elif have < tgt.withdrawn_count:
        cands = np.flatnonzero(closed_in & (kind == _RESULT) & (closed <= due))
        move = _pick(rng, cands, np.ones(len(cands)), tgt.withdrawn_count - have)
        kind[move] = np.where(rng.random(len(move)) < 0.6, _WITHDRAWN, _REJECTED)

    # 4. late among the resolved
    resolved_in = closed_in & (kind == _RESULT)
    late = resolved_in & (closed > due)
    have = int(late.sum())
    if have > tgt.resolved_late_count:
        cands = np.flatnonzero(late & (due >= s))  # on the deadline is still in the quarter
        move = _pick(rng, cands, np.ones(len(cands)), have - tgt.resolved_late_count)
        lo = np.maximum(received[move], s)
        span = (due[move] - lo).astype(np.int64) + 1
        some_day = lo + np.floor(rng.random(len(move)) * span).astype(np.int64)
        closed[move] = np.minimum(_fwd(some_day), due[move])  # in time, still in the quarter
    elif have < tgt.resolved_late_count:
        cands = np.flatnonzero(resolved_in & (closed <= due) & (due < last_in) & (due >= s))
        move = _pick(rng, cands, np.ones(len(cands)), tgt.resolved_late_count - have)
        closed[move] = np.minimum(_fwd(due[move], rng.integers(1, 4, len(move))), last_in)

    # Check: the same definitions as cube.dossier_flags.
    new = rows & (received >= s) & (received <= e)
    carried = rows & (received < s) & (closed >= s)
    in_scope = new | carried
    resolved_in = in_scope & (closed <= e) & (kind == _RESULT)
    got = {
        "received_new_count": int(new.sum()),
        "carried_over_count": int(carried.sum()),
        "resolved_late_count": int((resolved_in & (closed > due)).sum()),
        "pending_total_count": int((in_scope & (closed > e)).sum()),
        "withdrawn_count": int((in_scope & (closed <= e) & (kind != _RESULT)).sum()),
    }
    want = {k: v for k, v in tgt.counts().items() if k in got}
    if got != want:
        raise _CalibrationError(f"calibration of {tgt.unit_level} {tgt.district_code}: {got}")


def _dictionary_strings(values: Sequence[str], index: np.ndarray) -> pd.arrays.ArrowStringArray:
    """A string column from a small list of values and an index per row (no Python loop)."""
    taken = pc.take(pa.array(list(values), type=pa.large_string()), pa.array(index))
    return pd.arrays.ArrowStringArray(taken)


def _dossier_ids(
    unit_codes: Sequence[str], unit: np.ndarray, received: np.ndarray
) -> pd.arrays.ArrowStringArray:
    """``<unit code>-<yymmdd>-<sequence of the day, 4 digits>``, as one-stop systems number."""
    key = unit.astype(np.int64) * 100_000 + (received - received.min()).astype(np.int64)
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    first = np.r_[True, sorted_key[1:] != sorted_key[:-1]]
    run_start = np.maximum.accumulate(np.where(first, np.arange(len(key)), 0))
    seq = np.empty(len(key), dtype=np.int64)
    seq[order] = np.arange(len(key)) - run_start + 1
    day_values, day_index = np.unique(received, return_inverse=True)
    day_text = pc.strftime(pa.array(day_values.astype("datetime64[s]")), format="%y%m%d")
    parts = [
        pc.take(pa.array(list(unit_codes), type=pa.large_string()), pa.array(unit)),
        pc.take(day_text.cast(pa.large_string()), pa.array(day_index.ravel())),
        pc.utf8_lpad(pc.cast(pa.array(seq), pa.large_string()), width=4, padding="0"),
    ]
    return pd.arrays.ArrowStringArray(
        pc.binary_join_element_wise(*parts, pa.scalar("-", pa.large_string()))
    )


def _district_dossiers(
    seed: int, district_code: str, start: date, end: date, calibrate: bool = True
) -> pd.DataFrame:
    """All dossiers of one district (offices and communes), from its own random streams."""
    rng = np.random.default_rng([int(seed), int(district_code), 1])
    cal_rng = np.random.default_rng([int(seed), int(district_code), 99])
    profile = DISTRICT_PROFILES[district_code]
    unit_info = _district_units(district_code)
    export = np.datetime64(end, "D")
    window_start = np.datetime64(start, "D")
    days = np.arange(window_start - WARMUP_DAYS, export + 1)
    cells = _cells_for(district_code, unit_info, window_start, export)
    levels_of_unit = np.array([u.level for u in unit_info])

    lam = _intensities(rng, profile, unit_info, days)
    unit, received = _arrivals(rng, cal_rng, lam, days, cells, calibrate)
    n = len(unit)
    level = levels_of_unit[unit]
    cal_rows = np.zeros(n, dtype=bool)
    for cell in cells:
        cell.rows = cell.unit_mask[unit]
        cell.new_rows = cell.rows & (received >= cell.start) & (received <= cell.end)
        cal_rows |= cell.new_rows
    streams = _Streams(rng, cal_rng, cal_rows)
    params = _UnitParams.draw(rng, len(unit_info))
    for cell in cells:
        _solve_channel_levels(profile, params, lam, days, cell)
    t = _years(received)
    proc = _draw_procedures(streams, level)
    channel, online_level = _draw_channels(
        streams, cal_rng, profile, params, unit, level, proc, t, cells, calibrate
    )
    due, closed, kind = _draw_outcomes(streams, profile, params, unit, level, proc, received, t)
    if calibrate:
        for cell in cells:
            _calibrate_outcomes(cal_rng, cell, received, due, closed, kind)

    # The export cut: what closes after it is still open in the export.
    is_open = closed > export
    closed = np.where(is_open, _NAT, closed)
    late = ~is_open & (closed > due)
    result = ~is_open & (kind == _RESULT)
    online = channel == _CHANNEL["online"]
    full = online_level == _LEVEL["full"]
    partial = online_level == _LEVEL["partial"]

    e_result_share = np.where(full, 0.92, np.where(partial, _sigmoid(-2.0 + 0.8 * t), 0.0))
    has_e_result = result & (streams.random() < e_result_share)
    # Return: electronic results go out the same day; paper ones when the citizen comes.
    lag = streams.draw("geometric", 0.45) - 1
    lag = np.where(has_e_result & (streams.random() < 0.85), 0, lag)
    never_collected = streams.random() < 0.01
    returned = add_working_days(np.where(result, closed, received), lag)
    returned = np.where(result & ~never_collected & (returned <= export), returned, _NAT)

    # Status, from the dates.
    status = np.full(n, _STATUS["processing"], dtype=np.int8)
    status[result] = _STATUS["resolved"]
    status[result & ~np.isnat(returned)] = _STATUS["returned"]
    status[~is_open & (kind == _WITHDRAWN)] = _STATUS["withdrawn"]
    status[~is_open & (kind == _REJECTED)] = _STATUS["rejected"]
    fresh = is_open & (received >= _bwd(export - 1))
    status[fresh & (streams.random() < 0.6)] = _STATUS["received"]
    waiting = is_open & ~fresh & (streams.random() < np.where(export > due, 0.4, 0.2))
    status[waiting] = _STATUS["supplement_requested"]

    # Flags.
    table = _procedure_table()
    is_digitized = streams.random() < _sigmoid(profile.digitization_start + 1.2 * t)
    is_fee = streams.random() < table["fee_share"][proc]
    pay_logit = -1.3 + 1.3 * t + np.where(online, 0.8, -1.2)
    is_paid_online = is_fee & (streams.random() < _sigmoid(pay_logit))

    # Portal ratings on a fraction of the resolved; lateness breeds dissatisfaction.
    rated = result & (
        streams.random() < np.clip(0.04 + 0.04 * t, 0.02, 0.2) * np.where(online, 1.5, 0.6)
    )
    dissatisfied = streams.random() < np.where(late, 0.35, profile.dissatisfied_share)
    very = streams.random() < 0.62
    rating = np.where(
        dissatisfied, _RATING["dissatisfied"],
        np.where(very, _RATING["very_satisfied"], _RATING["satisfied"]),
    )  # fmt: skip
    rating = np.where(rated, rating, -1)

    # Rows received before the window stay only when still open on its first day.
    keep = (received >= window_start) | is_open | (closed >= window_start)
    idx = np.flatnonzero(keep)

    codes = [u.code for u in unit_info]
    names = [u.name for u in unit_info]
    proc_codes = [p.code for p in PROCEDURES]
    proc_names = [p.name for p in PROCEDURES]
    proc_fields = [p.field for p in PROCEDURES]
    unit_k = unit[idx]
    proc_k = proc[idx]
    columns: dict[str, Any] = {
        "dossier_id": _dossier_ids(codes, unit[idx], received[idx]),
        "unit_code": _dictionary_strings(codes, unit_k),
        "unit_name": _dictionary_strings(names, unit_k),
        "district_code": _dictionary_strings([district_code], np.zeros(len(idx), np.int64)),
        "unit_level": _dictionary_strings(_LEVELS, levels_of_unit[unit_k]),
        "procedure_code": _dictionary_strings(proc_codes, proc_k),
        "procedure_name": _dictionary_strings(proc_names, proc_k),
        "field": _dictionary_strings(proc_fields, proc_k),
        "channel": pd.Categorical.from_codes(channel[idx], CHANNELS),
        "online_level": pd.Categorical.from_codes(online_level[idx], ONLINE_LEVELS),
        "received_at": received[idx].astype("datetime64[ms]"),
        "due_at": due[idx].astype("datetime64[ms]"),
        "resolved_at": closed[idx].astype("datetime64[ms]"),
        "returned_at": returned[idx].astype("datetime64[ms]"),
        "status": pd.Categorical.from_codes(status[idx], STATUSES),
        "is_digitized": pd.array(is_digitized[idx], dtype="boolean"),
        "has_e_result": pd.array(has_e_result[idx], dtype="boolean"),
        "is_fee_bearing": pd.array(is_fee[idx], dtype="boolean"),
        "is_paid_online": pd.array(is_paid_online[idx], dtype="boolean"),
        "rating": pd.Categorical.from_codes(rating[idx], RATINGS),
    }
    return pd.DataFrame(columns, copy=False)


def generate_dossiers(
    seed: int = DEFAULT_SEED,
    district_codes: Sequence[str] | None = None,
    start: date = DEMO_START,
    end: date = DEMO_END,
    *,
    calibrate: bool = True,
) -> pd.DataFrame:
    """Synthetic one-stop export of Hải Phòng's districts and communes (canonical dtypes).

    ``end`` is the export date: nothing is closed or returned after it; ``start`` is the first
    day received (plus the dossiers received earlier that were still open on it). Each district
    comes from its own random streams, so a subset of districts gives exactly those districts'
    rows of the full run. The CALIBRATION targets hold exactly whenever their district is
    generated and the window holds their quarter; ``calibrate=False`` skips only the final
    nudges to the exact counts (same model, same expected values, every other row identical).
    """
    if end < start:
        raise ValueError(f"end {end} is before start {start}")
    codes = _check_districts(district_codes)
    frames = [_district_dossiers(seed, code, start, end, calibrate) for code in codes]
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return coerce_dossiers(frame)[list(DOSSIER_COLUMNS)]


# ---------------------------------------------------------------------------------------------
# Survey
# ---------------------------------------------------------------------------------------------

# How each aspect and item sits relative to a respondent's overall satisfaction.
_ASPECT_OFFSETS: Final = {
    "access": 0.15,
    "procedure": 0.0,
    "staff": 0.1,
    "result": 0.05,
    "feedback": -0.3,
}
_ITEM_OFFSETS: Final = (0.05, 0.0, -0.05)
# Cut points of the latent score between 1|2, 2|3, 3|4 and 4|5.
_SURVEY_CUTS: Final = np.array([-2.5, -1.8, -0.9, 0.9])


def generate_survey(
    seed: int = DEFAULT_SEED,
    district_codes: Sequence[str] | None = None,
    start: date = DEMO_START,
    end: date = DEMO_END,
) -> pd.DataFrame:
    """SIPAS-style respondents: a few hundred per district and year, items scored 1–5.

    Scores of one respondent move together (one latent satisfaction plus item noise); the
    districts that are worse on timeliness score lower; overall about 80–85% answer 4 or 5.
    """
    if end < start:
        raise ValueError(f"end {end} is before start {start}")
    codes = _check_districts(district_codes)
    cal = business_calendar()
    all_days = np.arange(np.datetime64(start, "D"), np.datetime64(end, "D") + 1)
    work_days = all_days[np.is_busday(all_days, busdaycal=cal)]
    table = _procedure_table()
    frames = []
    for code in codes:
        rng = np.random.default_rng([int(seed), int(code), 2])
        profile = DISTRICT_PROFILES[code]
        n = int(round(profile.survey_per_year * len(all_days) / 365.25))
        if n == 0 or len(work_days) == 0:
            continue
        surveyed = np.sort(rng.choice(work_days, n))
        tier_volume = np.array([profile.office_volume, profile.commune_volume])
        level_index = table["level_index"]
        tier_weight = np.array([table["weight"][level_index == lvl].sum() for lvl in (0, 1)])
        weights = tier_volume[level_index] * table["weight"] / tier_weight[level_index]
        proc = rng.choice(len(PROCEDURES), n, p=weights / weights.sum())
        theta = profile.survey_mean + 0.12 * _years(surveyed) + rng.normal(0.0, 0.9, n)
        scores = {}
        for aspect, a_off in _ASPECT_OFFSETS.items():
            for i, i_off in enumerate(_ITEM_OFFSETS, start=1):
                latent = theta + a_off + i_off + rng.normal(0.0, 0.55, n)
                score = SURVEY_SCORE_MIN + np.searchsorted(_SURVEY_CUTS, latent)
                scores[f"{aspect}__item{i}"] = np.clip(score, SURVEY_SCORE_MIN, SURVEY_SCORE_MAX)
        frame = pd.DataFrame(
            {
                "respondent_id": pd.array(
                    [f"KS-{code}-{i:05d}" for i in range(1, n + 1)], dtype="string"
                ),
                "unit_code": pd.array([code] * n, dtype="string"),
                "district_code": pd.array([code] * n, dtype="string"),
                "surveyed_at": surveyed.astype("datetime64[ms]"),
                "field": pd.array(table["field"][proc].tolist(), dtype="string"),
                **{c: scores[c].astype(np.int64) for c in SURVEY_ITEM_COLUMNS},
            }
        )
        frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=list(SURVEY_COLUMNS))
    return pd.concat(frames, ignore_index=True)


# ---------------------------------------------------------------------------------------------
# The demo folder
# ---------------------------------------------------------------------------------------------


def calibration_note() -> str:
    """One sentence per target, for dataset.json and the methodology page."""
    notes = []
    for t in CALIBRATION:
        tier = "district offices" if t.unit_level == "district" else "communes (summed)"
        notes.append(
            f"{t.period} district {t.district_code} {tier}: {t.received_total_count} received "
            f"({t.received_new_count} new + {t.carried_over_count} carried over), "
            f"{t.resolved_within_deadline_count} within deadline, {t.resolved_late_count} late, "
            f"{t.pending_total_count} pending, {t.received_online_count} online "
            f"({t.online_partial_count} partial, {t.online_full_count} full)"
            + (f"; chosen, not published: {', '.join(t.chosen)}" if t.chosen else "")
        )
    return (
        "Matches exactly, under cube.period_counts, the published Kiến Thụy figures: "
        + "; ".join(notes)
        + f". Source: {CALIBRATION[0].source}."
    )


def generate_demo(
    out_dir: str | Path,
    seed: int = DEFAULT_SEED,
    district_codes: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Write a complete demo data folder and return its summary (also in dataset.json).

    The folder gets dossiers/ (partitioned by district), survey.parquet and dataset.json.
    Partitions of districts not in this run, left from an earlier demo, are removed so that
    the folder matches its dataset.json; a folder holding non-demo data is refused.
    """
    out = Path(out_dir)
    info_path = out / DATASET_FILE
    if info_path.exists():
        previous = json.loads(info_path.read_text(encoding="utf-8"))
        if previous.get("source") != SOURCE:
            raise FileExistsError(f"{out} holds data from {previous.get('source')!r}, not a demo")
    codes = _check_districts(district_codes)
    dossiers = generate_dossiers(seed, codes)
    survey = generate_survey(seed, codes)
    out.mkdir(parents=True, exist_ok=True)
    root = out / DOSSIERS_DIR
    if root.is_dir():
        prefix = f"{PARTITION_COLUMN}="
        for part in root.iterdir():
            if part.name.startswith(prefix) and part.name[len(prefix) :] not in codes:
                shutil.rmtree(part)
    rows = write_dossiers(dossiers, out)
    write_table(survey, out, SURVEY_FILE)
    info: dict[str, Any] = {
        "source": SOURCE,
        "generator": __name__,
        "generator_version": GENERATOR_VERSION,
        "seed": int(seed),
        "province_code": DEMO_PROVINCE_CODE,
        "district_codes": codes,
        "era": units.ERA_PRE_2025,
        "date_range": {"start": DEMO_START.isoformat(), "end": DEMO_END.isoformat()},
        "export_date": DEMO_END.isoformat(),
        "dossier_rows": int(rows),
        "survey_rows": int(len(survey)),
        "unit_count": int(dossiers["unit_code"].nunique()),
        "carried_in_rows": int((dossiers["received_at"] < pd.Timestamp(DEMO_START)).sum()),
        "worse_districts": [c for c in WORSE_DISTRICTS if c in codes],
        "calibration": (
            calibration_note()
            if any(t.district_code in codes for t in CALIBRATION)
            else "no calibrated district in this run"
        ),
    }
    write_dataset_info(out, info)
    return info
