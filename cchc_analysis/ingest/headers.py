"""Column headers as exports spell them, mapped onto the canonical names (DESIGN.md §3).

One-stop systems and provincial spreadsheets name the same column many ways: ``NGÀY TIẾP
NHẬN``, ``Ngày tiếp nhận``, ``ngay_tiep_nhan`` and ``NgayTiepNhan`` are one header. Matching
therefore compares :func:`header_key` values, which ignore case, spacing, punctuation and
diacritics. The alias lists are ordered: when two headers of one file map to the same column
(an export with both "Ngày tiếp nhận" and "Ngày nộp"), the earlier alias wins and the other
header is reported as ignored.
"""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

from cchc_analysis.core.schema import COUNT_COLUMNS, SURVEY_ASPECTS, SURVEY_ITEMS_PER_ASPECT
from cchc_analysis.core.text import key as text_key
from cchc_analysis.core.text import words as text_words
from cchc_analysis.ingest.privacy import personal_category

KINDS: Final = ("dossiers", "period-report", "survey")


def header_words(text: object) -> str:
    """Header as space-separated ASCII words (``"SoDienThoai"`` -> ``"so dien thoai"``)."""
    return text_words(text)


def header_key(text: object) -> str:
    """Matching key of a header: letters and digits only, ASCII, lowercase.

    ``header_key("NGÀY TIẾP NHẬN") == header_key("ngay_tiep_nhan") == "ngaytiepnhan"``.
    """
    return text_key(text)


# --- alias tables ------------------------------------------------------------------------------

DOSSIER_ALIASES: Final[dict[str, tuple[str, ...]]] = {
    "dossier_id": (
        "Mã hồ sơ",
        "MaHoSo",
        "Số hồ sơ",
        "Mã HS",
        "Số biên nhận",
        "Mã biên nhận",
        "ID hồ sơ",
    ),
    "unit_code": (
        "Mã đơn vị",
        "Mã ĐV tiếp nhận",
        "MaDonViTiepNhan",
        "Mã đơn vị tiếp nhận",
        "MaDonVi",
        "Mã cơ quan",
        "Mã cơ quan tiếp nhận",
    ),
    "unit_name": (
        "Đơn vị",
        "Đơn vị tiếp nhận",
        "Tên đơn vị",
        "TenDonVi",
        "DonViTiepNhan",
        "Cơ quan tiếp nhận",
        "Tên cơ quan",
        "Cơ quan",
        "DonViXuLy",
        "Đơn vị xử lý",
        "NoiNopHoSo",
        "Nơi nộp hồ sơ",
    ),
    "procedure_code": ("Mã TTHC", "MaTTHC", "Mã thủ tục", "Mã thủ tục hành chính"),
    "procedure_name": (
        "Tên TTHC",
        "TenTTHC",
        "Thủ tục",
        "Tên thủ tục",
        "Tên thủ tục hành chính",
        "Thủ tục hành chính",
    ),
    # The field's name; its code (MaLinhVuc) only when the export gives no name.
    "field": ("Lĩnh vực", "LinhVuc", "Tên lĩnh vực", "TenLinhVuc", "MaLinhVuc", "Mã lĩnh vực"),
    "channel": (
        "Kênh nộp",
        "Hình thức nộp",
        "KenhThucHien",
        "Kênh thực hiện",
        "Kênh tiếp nhận",
        "Hình thức tiếp nhận",
        "Hình thức nộp hồ sơ",
        "HinhThuc",
        "Hình thức",
    ),
    "online_level": (
        "Mức độ",
        "Mức độ DVC",
        "MucDo",
        "Mức độ dịch vụ công",
        "Loại DVC",
        "Loại dịch vụ công",
        "MucDoDVC",
    ),
    "received_at": (
        "Ngày tiếp nhận",
        "NgayTiepNhan",
        "Ngày nhận",
        "Ngày nhận hồ sơ",
        "Thời gian tiếp nhận",
        "Ngày nộp",
        "NgayNop",
    ),
    "due_at": (
        "Ngày hẹn trả",
        "NgayHenTra",
        "Hạn xử lý",
        "Hạn giải quyết",
        "Ngày hẹn trả kết quả",
        "Hạn trả kết quả",
    ),
    "resolved_at": (
        "Ngày có kết quả",
        "NgayCoKetQua",
        "Ngày kết thúc xử lý",
        "NgayKetThucXuLy",
        "Ngày hoàn thành",
        "Ngày xử lý xong",
        "Ngày giải quyết xong",
    ),
    "returned_at": ("Ngày trả kết quả", "NgayTraKetQua", "Ngày trả", "NgayTra"),
    "status": (
        "Trạng thái",
        "TrangThai",
        "TrangThaiHoSo",
        "Trạng thái hồ sơ",
        "Tình trạng",
        "Tình trạng hồ sơ",
    ),
    "is_digitized": (
        "Số hóa",
        "Có thành phần số hóa",
        "Đã số hóa",
        "SoHoa",
        "DaSoHoa",
        "Số hóa hồ sơ",
        "HoSoCoThanhPhanSoHoa",
        "Hồ sơ có thành phần số hóa",
    ),
    "has_e_result": ("Kết quả điện tử", "Có kết quả điện tử", "KetQuaDienTu"),
    "is_fee_bearing": ("Có phí/lệ phí", "Có phí", "Phí, lệ phí", "CoPhi", "Có phí lệ phí"),
    "is_paid_online": (
        "Thanh toán trực tuyến",
        "ThanhToanTrucTuyen",
        "Đã thanh toán trực tuyến",
        "TT trực tuyến",
        "DuocThanhToanTrucTuyen",
        "Được thanh toán trực tuyến",
    ),
    "rating": ("Đánh giá", "DanhGia", "Mức độ hài lòng", "Kết quả đánh giá"),
    # The applicant's home unit of a dossier filed outside it (code or name): read into
    # home_unit_code; never a reason to reject a row.
    "home_unit": (
        "DonViPhiDiaGioi",
        "Đơn vị phi địa giới",
        "XaPhuongDiaBan",
        "Xã phường địa bàn",
        "Xã, phường địa bàn",
        "Địa bàn",
    ),
    # The national format's (DOMAIN.md "What a one-stop system export holds").
    "submitted_at": (
        "Ngày nộp hồ sơ",
        "NgayNopHoSo",
        "Thời gian nộp hồ sơ",
        "Ngày nộp trực tuyến",
        "Ngày đăng ký",
    ),
    "supplement_requested_at": (
        "Ngày yêu cầu bổ sung",
        "NgayYeuCauBoSung",
        "Ngày yêu cầu bổ sung hồ sơ",
        "Ngày YC bổ sung",
    ),
    "supplement_returned_at": (
        "Ngày công dân bổ sung",
        "NgayCongDanBoSung",
        "Ngày nộp bổ sung",
        "Ngày nhận bổ sung",
        "Ngày bổ sung",
    ),
    "supplement_count": (
        "Số lần bổ sung",
        "SoLanBoSung",
        "Số lần yêu cầu bổ sung",
        "SoLanYeuCauBoSung",
    ),
    "is_vneid_authenticated": (
        "Tài khoản được xác thực với VNeID",
        "TaiKhoanDuocXacThucVoiVNeID",
        "Xác thực VNeID",
        "Đã xác thực VNeID",
        "VNeID",
    ),
}
# Free text a dossier export carries that may name the applicant (TrichYeuHoSo: "Cấp giấy
# chứng nhận cho ông Nguyễn Văn A"): recognised, never read, and set apart like personal data
# so that no cell of it reaches the rejects file.
DOSSIER_FREE_TEXT_HEADERS: Final = (
    "TrichYeuHoSo",
    "Trích yếu hồ sơ",
    "Trích yếu",
    "Trích yếu nội dung",
    "ChuHoSo",
    "Chủ hồ sơ",
)
DOSSIER_REQUIRED: Final = ("dossier_id", "received_at", "due_at", "status")
UNIT_COLUMNS: Final = ("unit_code", "unit_name")  # one of them is required

# Flat labels of aggregate tables; multi-row Biểu 06 headers go through bieu06's keyword rules.
PERIOD_REPORT_ALIASES: Final[dict[str, tuple[str, ...]]] = {
    "unit_code": ("Mã đơn vị", "Mã ĐV", "Mã cơ quan", "MaDonVi"),
    "unit_name": (
        "Đơn vị",
        "Tên đơn vị",
        "Cơ quan, đơn vị",
        "Tên cơ quan",
        "Cơ quan",
        "Địa phương",
        "Đơn vị thực hiện",
    ),
    "field": ("Lĩnh vực", "Tên lĩnh vực", "Lĩnh vực, công việc giải quyết"),
    "period_start": ("Từ ngày", "Ngày bắt đầu", "Ngày bắt đầu kỳ", "period_start"),
    "period_end": ("Đến ngày", "Ngày kết thúc", "Ngày kết thúc kỳ", "period_end"),
    "period_label": ("Kỳ báo cáo", "Kỳ", "period"),
    **{column: () for column in COUNT_COLUMNS},
    # Counts beyond the form, as bieu06.write_bieu06_xlsx labels them.
    "withdrawn_count": ("Số hồ sơ rút, từ chối", "Rút, từ chối", "Số hồ sơ rút"),
    "digitized_count": ("Số hồ sơ số hóa", "Số hóa"),
    "fee_bearing_count": ("Số hồ sơ có phí, lệ phí", "Có phí, lệ phí"),
    "paid_online_count": ("Số hồ sơ thanh toán trực tuyến", "Thanh toán trực tuyến"),
    "rated_count": ("Số lượt đánh giá", "Số đánh giá"),
    "satisfied_count": ("Số lượt hài lòng", "Số hài lòng"),
    "refused_count": ("Số hồ sơ không được tiếp nhận", "Không được tiếp nhận"),
    "awaiting_intake_count": ("Số hồ sơ chờ tiếp nhận", "Chờ tiếp nhận", "Mới đăng ký"),
    "timely_766_count": ("Số hồ sơ trong hạn (QĐ 766)", "Trong hạn theo QĐ 766"),
    "waiting_late_766_count": ("Số hồ sơ chờ bổ sung quá hạn (QĐ 766)",),
}

_ASPECT_NAMES_VI: Final = {
    "access": ("Tiếp cận dịch vụ", "Tiếp cận"),
    "procedure": ("Thủ tục hành chính", "Thủ tục"),
    "staff": ("Công chức", "Cán bộ công chức"),
    "result": ("Kết quả", "Kết quả giải quyết"),
    "feedback": ("Tiếp nhận và xử lý góp ý", "Góp ý"),
}
SURVEY_ALIASES: Final[dict[str, tuple[str, ...]]] = {
    "respondent_id": ("Mã phiếu", "Số phiếu", "Mã người trả lời", "ID phiếu", "Phiếu số"),
    "unit_code": DOSSIER_ALIASES["unit_code"],
    "unit_name": DOSSIER_ALIASES["unit_name"],
    "surveyed_at": ("Ngày khảo sát", "Ngày đánh giá", "Thời gian khảo sát", "Ngày trả lời"),
    "field": DOSSIER_ALIASES["field"],
    **{
        f"{aspect}__item{i}": tuple(
            f"{name}{sep}{i}" for name in _ASPECT_NAMES_VI[aspect] for sep in (" ", " câu ")
        )
        for aspect in SURVEY_ASPECTS
        for i in range(1, SURVEY_ITEMS_PER_ASPECT + 1)
    },
}
SURVEY_REQUIRED: Final = ("respondent_id", "surveyed_at")

ALIASES: Final[dict[str, dict[str, tuple[str, ...]]]] = {
    "dossiers": DOSSIER_ALIASES,
    "period-report": PERIOD_REPORT_ALIASES,
    "survey": SURVEY_ALIASES,
}


def _alias_index(kind: str) -> dict[str, tuple[str, int]]:
    """header key -> (canonical column, priority); the canonical name is itself an alias."""
    index: dict[str, tuple[str, int]] = {}
    for column, aliases in ALIASES[kind].items():
        for rank, alias in enumerate((column, *aliases)):
            index.setdefault(header_key(alias), (column, rank))
    return index


_INDEX: Final = {kind: _alias_index(kind) for kind in KINDS}


_DROPPED: Final = {"dossiers": frozenset(header_key(h) for h in DOSSIER_FREE_TEXT_HEADERS)}


def canonical_for(header: object, kind: str) -> str | None:
    """The canonical column a header stands for, or None."""
    found = _INDEX[kind].get(header_key(header))
    return found[0] if found else None


@dataclass
class HeaderMatch:
    """How one file's headers map onto canonical columns."""

    columns: dict[str, int] = field(default_factory=dict)  # canonical -> source position
    headers: list[str] = field(default_factory=list)  # source headers as found
    personal: list[str] = field(default_factory=list)  # dropped personal-data headers
    ignored: list[str] = field(default_factory=list)  # neither canonical nor personal

    def mapping(self) -> dict[str, str]:
        """Source header -> canonical column, in the file's order (for the ingest report)."""
        return {self.headers[p]: c for c, p in sorted(self.columns.items(), key=lambda i: i[1])}

    def header_of(self, column: str) -> str:
        """The source header mapped to a canonical column (for messages and rejects)."""
        return self.headers[self.columns[column]] if column in self.columns else column


def match_headers(headers: Sequence[object], kind: str) -> HeaderMatch:
    """Map source headers to canonical columns; personal-data headers are set apart."""

    index = _INDEX[kind]
    match = HeaderMatch(headers=[_clean(h) for h in headers])
    ranks: dict[str, int] = {}
    for position, header in enumerate(match.headers):
        if not header:
            continue
        found = index.get(header_key(header))
        if found is not None:
            column, rank = found
            if column not in match.columns or rank < ranks[column]:
                if column in match.columns:
                    match.ignored.append(match.headers[match.columns[column]])
                match.columns[column], ranks[column] = position, rank
            else:
                match.ignored.append(header)
        elif personal_category(header) is not None or header_key(header) in _DROPPED.get(kind, ()):
            match.personal.append(header)
        else:
            match.ignored.append(header)
    return match


def _clean(header: object) -> str:
    if header is None:
        return ""
    text = unicodedata.normalize("NFC", str(header)).replace("\ufeff", "")
    return " ".join(text.split())


def header_score(headers: Sequence[object], kind: str) -> int:
    """How many cells of a row are known headers: finds the header row under title rows."""
    index = _INDEX[kind]
    return len({index[k][0] for h in headers if (k := header_key(_clean(h))) in index})


def closest_alias(column: str, headers: Sequence[str], kind: str) -> str:
    """A hint for a missing column: the found header closest to one of its aliases.

    Returns e.g. "closest: header 'Ngay tiep nhn' ~ alias 'Ngày tiếp nhận'", or the aliases
    to use when nothing found is close.
    """
    aliases = (column, *ALIASES[kind].get(column, ()))
    best: tuple[float, str, str] | None = None
    matcher = difflib.SequenceMatcher(autojunk=False)
    for alias in aliases:
        matcher.set_seq2(header_key(alias))
        for header in headers:
            if not header:
                continue
            matcher.set_seq1(header_key(header))
            ratio = matcher.ratio()
            if best is None or ratio > best[0]:
                best = (ratio, header, alias)
    if best is not None and best[0] >= 0.7:
        return f"closest: header {best[1]!r} ~ alias {best[2]!r}"
    shown = ", ".join(repr(a) for a in aliases[1:4]) or repr(column)
    return f"expected a header such as {shown}"
