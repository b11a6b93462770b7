"""What the demo province is made of: its procedures and fields, its units, its districts' profiles.

The procedures carry what the generator needs (tier, statutory deadline, volume weight, fee and
online shares, complexity); the district profiles carry each district's level parameters
(volumes, online uptake, speed, trouble rate, survey respondents), including the few districts
that are clearly worse on timeliness. Units come from the pre-2025 registry.

Two old provinces make the demo: Hải Phòng (31) and Hải Dương (30), which became the new Hải
Phòng on 1 July 2025. Each old province also has its own offices (departments and its
public-service centre: the "province" tier of procedures), with a profile of its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Final, NamedTuple, NotRequired, TypedDict

import numpy as np

from cchc_analysis import units
from cchc_analysis.demo.published import CALIBRATION

DEMO_PROVINCE_CODE: Final = "31"  # Hải Phòng, old and new
MERGED_PROVINCE_CODE: Final = "30"  # Hải Dương, merged into Hải Phòng on 1 July 2025
OLD_PROVINCE_CODES: Final = (MERGED_PROVINCE_CODE, DEMO_PROVINCE_CODE)


class Procedure(NamedTuple):
    """One administrative procedure as the generator uses it.

    Codes follow the national database's format (``1.001193``) but are not checked against
    it: the demo needs plausible codes, not authoritative ones.
    """

    code: str
    name: str
    field: str
    level: str  # district | commune | province: which tier's office receives it
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
GTVT = "Giao thông vận tải"
FIELDS: Final = (
    HO_TICH, CHUNG_THUC, DAT_DAI, XAY_DUNG, DKKD, LDTBXH, BTXH, TU_PHAP, GIAO_DUC, GTVT,
)  # fmt: skip

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
    # --- a province's own offices (sở, ban, ngành; Trung tâm Phục vụ hành chính công)
    Procedure("2.000488", "Cấp Phiếu lý lịch tư pháp cho công dân Việt Nam, người nước ngoài "
              "đang cư trú tại Việt Nam", TU_PHAP, "province", 10, 12.0, 1.0, 0.9, 0.6, 0.3),
    Procedure("1.001612", "Đăng ký thành lập doanh nghiệp tư nhân", DKKD, "province",
              3, 4.0, 1.0, 0.95, 1.0, 0.2),
    Procedure("2.001610", "Đăng ký thay đổi nội dung đăng ký doanh nghiệp", DKKD, "province",
              3, 9.0, 1.0, 0.95, 1.0, 0.2),
    Procedure("1.002804", "Đổi giấy phép lái xe do ngành Giao thông vận tải cấp", GTVT,
              "province", 5, 14.0, 1.0, 0.9, 0.5, 0.0),
    Procedure("1.001765", "Cấp giấy chứng nhận quyền sử dụng đất, quyền sở hữu nhà ở và tài sản "
              "khác gắn liền với đất lần đầu", DAT_DAI, "province", 20, 6.0, 1.0, 0.0, -0.5, 0.9),
    Procedure("1.009972", "Cấp giấy phép xây dựng đối với công trình cấp đặc biệt, cấp I, cấp II",
              XAY_DUNG, "province", 20, 1.0, 1.0, 0.5, 0.0, 0.8),
    Procedure("1.000105", "Cấp giấy phép lao động cho người lao động nước ngoài làm việc tại "
              "Việt Nam", LDTBXH, "province", 5, 2.0, 1.0, 0.9, 0.6, 0.4),
    Procedure("1.005092", "Công nhận trường mầm non, tiểu học, trung học đạt chuẩn quốc gia",
              GIAO_DUC, "province", 20, 0.3, 0.0, 0.3, 0.0, 0.6),
)  # fmt: skip


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


class _ProfileTraits(TypedDict):
    """The parameters the good and the worse districts share (see :class:`DistrictProfile`)."""

    speed: tuple[float, float]
    problem_rate: tuple[float, float]
    withdrawn_rate: NotRequired[float]
    digitization_start: NotRequired[float]
    dissatisfied_share: NotRequired[float]
    survey_mean: NotRequired[float]


_GOOD: _ProfileTraits = {"speed": (-2.7, -3.3), "problem_rate": (0.005, 0.002)}
_FAIR: _ProfileTraits = {"speed": (-2.2, -2.8), "problem_rate": (0.012, 0.006)}
_WORSE: _ProfileTraits = {
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
    # --- Hải Dương (30): later to go online than Hải Phòng; Ninh Giang clearly worse.
    "288": DistrictProfile(3000, 20000, (-0.4, -0.7), (1.0, 0.9), **_FAIR, survey_per_year=420),
    "290": DistrictProfile(2000, 12000, (-0.5, -0.8), (0.9, 0.8), **_FAIR, survey_per_year=320),
    "291": DistrictProfile(1400, 9000, (-0.6, -0.9), (0.9, 0.8), **_GOOD, survey_per_year=260),
    "292": DistrictProfile(2000, 13000, (-0.7, -1.0), (0.8, 0.8), **_FAIR, survey_per_year=320),
    "293": DistrictProfile(1300, 8000, (-0.6, -0.9), (0.9, 0.8), **_GOOD, survey_per_year=240),
    "294": DistrictProfile(1400, 9500, (-0.6, -0.9), (0.9, 0.8), **_FAIR, survey_per_year=260),
    "295": DistrictProfile(1500, 10000, (-0.5, -0.8), (1.0, 0.9), **_GOOD, survey_per_year=270),
    # Bình Giang: its communes Tân Hồng, Thúc Kháng and Thái Dương become Xã Đường An.
    "296": DistrictProfile(1300, 9000, (-0.5, -0.8), (1.0, 0.9), **_GOOD, survey_per_year=250),
    "297": DistrictProfile(1400, 9000, (-0.6, -0.9), (0.9, 0.8), **_FAIR, survey_per_year=250),
    "298": DistrictProfile(1500, 11000, (-0.6, -0.9), (0.9, 0.8), **_FAIR, survey_per_year=290),
    "299": DistrictProfile(1400, 9500, (-0.8, -1.1), (0.8, 0.7), **_WORSE, survey_per_year=260),
    "300": DistrictProfile(1300, 9500, (-0.6, -0.9), (0.9, 0.8), **_GOOD, survey_per_year=260),
}  # fmt: skip
WORSE_DISTRICTS: Final = tuple(
    code for code, p in DISTRICT_PROFILES.items() if p.problem_rate == _WORSE["problem_rate"]
)

# A province's own offices (level 0 of the profile; no communes). Volumes are for the
# reference quarter, as for the districts.
PROVINCE_OFFICE_PROFILES: Final[dict[str, DistrictProfile]] = {
    "31": DistrictProfile(
        26000, 0, (0.6, 0.0), (1.3, 0.0), speed=(-2.2, 0.0), problem_rate=(0.01, 0.0),
        survey_per_year=0,
    ),
    "30": DistrictProfile(
        18000, 0, (0.0, 0.0), (1.0, 0.0), speed=(-2.4, 0.0), problem_rate=(0.007, 0.0),
        survey_per_year=0,
    ),
}  # fmt: skip


LEVELS = ("district", "commune", "province")  # procedure tiers (index = Procedure level)


@cache
def procedure_table() -> dict[str, np.ndarray]:
    """PROCEDURES as arrays (one entry per procedure)."""
    table = {name: np.array([getattr(p, name) for p in PROCEDURES]) for name in Procedure._fields}
    table["level_index"] = np.array([LEVELS.index(p.level) for p in PROCEDURES])
    shares = table["weight"].astype(np.float64)
    for lvl in range(len(LEVELS)):
        on_level = table["level_index"] == lvl
        shares[on_level] /= shares[on_level].sum()
    table["share"] = shares  # of its tier's volume
    return table


class UnitInfo(NamedTuple):
    """One receiving unit as the generator sees it.

    ``level`` picks the profile's parameters (0 offices, 1 communes) and the day shape;
    ``tier`` the procedures it receives (an index of :data:`LEVELS`); ``unit_level`` is what
    the rows store. A new commune is two of these (its former-district procedures, its
    commune procedures) with the same code.
    """

    code: str
    name: str
    level: int
    unit_type: str
    tier: int
    unit_level: str


@cache
def district_units(district_code: str) -> tuple[UnitInfo, ...]:
    """The district's own offices first, then its communes, from the 2024-era registry."""
    district = units.get_unit(district_code, era=units.ERA_PRE_2025)
    out = [UnitInfo(district.code, district.name, 0, district.unit_type, 0, "district")]
    for commune in units.children(district_code, era=units.ERA_PRE_2025):
        out.append(UnitInfo(commune.code, commune.name, 1, commune.unit_type, 1, "commune"))
    return tuple(out)


def province_districts(province_code: str) -> list[str]:
    """Codes of an old province's districts (2024 registry)."""
    return [u.code for u in units.children(province_code, era=units.ERA_PRE_2025)]


def check_districts(district_codes: Sequence[str] | None) -> list[str]:
    """The old districts to generate (all of Hải Phòng and Hải Dương by default), sorted."""
    known = [c for p in OLD_PROVINCE_CODES for c in province_districts(p)]
    if district_codes is None:
        codes = known
    else:
        codes = [str(c).strip() for c in district_codes]
        unknown = [c for c in codes if c not in known]
        if unknown:
            raise ValueError(
                f"not districts of provinces {', '.join(OLD_PROVINCE_CODES)} (Hải Dương, Hải "
                f"Phòng): {unknown}; known: {', '.join(known)}"
            )
        codes = list(dict.fromkeys(codes))
    missing = [c for c in codes if c not in DISTRICT_PROFILES]
    if missing:
        raise ValueError(f"no demo profile for districts {missing}")
    return sorted(codes)
