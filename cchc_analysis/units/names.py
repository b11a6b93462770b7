"""Vietnamese unit names as people type them: prefixes, tone placement, Unicode forms.

Pure text functions, no registry: ``normalize_name`` (the matching key), ``slugify`` (file
names), ``parse_name`` and ``tone_key`` (used by ``matching`` to rank candidates),
``official_name`` (used by ``registry`` to write the package's names the official way) and
``read_office`` (the unit named by an office's name: "UBND xã …", "Sở Tư pháp tỉnh …").
"""

from __future__ import annotations

import re
import unicodedata
from typing import NamedTuple

from cchc_analysis.core.text import fold

# Official unit types, longest first so "Thành phố"/"Thị xã" win over shorter ones.
UNIT_TYPES = (
    "Thành phố",
    "Thị trấn",
    "Thị xã",
    "Đặc khu",
    "Phường",
    "Huyện",
    "Quận",
    "Tỉnh",
    "Xã",
)
# Prefixes as typed, in lowercase NFC with diacritics -> the unit type they denote.
_MARKED_PREFIXES = {t.lower(): t for t in UNIT_TYPES}
# The same without diacritics (used for ASCII-only input, and for words that cannot be a name).
_ASCII_PREFIXES = {
    "thanh pho": "Thành phố",
    "thi tran": "Thị trấn",
    "thi xa": "Thị xã",
    "dac khu": "Đặc khu",
    "phuong": "Phường",
    "huyen": "Huyện",
    "quan": "Quận",
    "tinh": "Tỉnh",
    "xa": "Xã",
}
# Without diacritics these are ordinary syllables of unit names (Quan Hóa, Tịnh Biên, Xà Hồ...),
# so inside text that carries diacritics they are only a prefix when written with them.
_ASCII_NAME_SYLLABLES = {"quan", "tinh", "xa"}
_ABBREVIATIONS = {
    "tp": "Thành phố",
    "tx": "Thị xã",
    "tt": "Thị trấn",
    "h": "Huyện",
    "q": "Quận",
    "x": "Xã",
    "p": "Phường",
}
_APOSTROPHES = "'’‘`´ʼ"  # Ea H'leo == Ea Hleo: join, do not split
_LETTER_DIGIT = re.compile(r"(?<=[^\W\d_])(?=\d)|(?<=\d)(?=[^\W\d_])")  # "Q1" -> "Q 1"


def _marked_tokens(name: str) -> list[str]:
    """Lowercase NFC words of ``name``, diacritics kept, punctuation folded to spaces."""
    text = unicodedata.normalize("NFC", str(name)).lower()
    chars = []
    for ch in text:
        if ch in _APOSTROPHES:
            continue
        chars.append(ch if ch.isalnum() or unicodedata.combining(ch) else " ")
    return _LETTER_DIGIT.sub(" ", "".join(chars)).split()


def _fold(token: str) -> str:
    """ASCII form of one lowercase word: diacritics dropped, đ -> d, leading zeros dropped."""
    folded = fold(token)
    if folded.isdigit():
        folded = str(int(folded))
    return folded


class ParsedName(NamedTuple):
    unit_type: str | None  # the type the stripped prefix denotes, if any
    marked: list[str]  # all words, lowercase NFC, diacritics kept
    folded: list[str]  # all words, ASCII
    stripped: int  # how many leading words were the prefix

    @property
    def key(self) -> str:
        return " ".join(self.folded[self.stripped :])

    @property
    def has_marks(self) -> bool:
        return any(not word.isascii() for word in self.marked)

    def keys(self) -> set[str]:
        """The ASCII keys the text may mean: prefix stripped, and as typed (Phường Phường Đúc)."""
        return {self.key, " ".join(self.folded)} - {""}

    def tone_keys(self) -> set[str]:
        """Like keys() but keeping diacritics, with tone placement normalised (Thuỵ == Thụy)."""
        return {tone_key(self.marked[self.stripped :]), tone_key(self.marked)} - {""}


_TONE_MARKS = {"\u0300": "2", "\u0301": "1", "\u0303": "3", "\u0309": "4", "\u0323": "5"}


def tone_key(words: list[str]) -> str:
    """Words with each syllable's tone mark moved to its end: "thuỵ"/"thụy" -> "thuy5".

    Removing all diacritics merges different names ("Sơn Hà"/"Sơn Hạ", "Ba Tơ"/"Ba Tô" are
    distinct communes of one province); this key tells them apart while still equating the
    old and new tone placement (hoà/hòa, khoá/khóa).
    """
    out = []
    for word in words:
        decomposed = unicodedata.normalize("NFD", word)
        tones = [_TONE_MARKS[ch] for ch in decomposed if ch in _TONE_MARKS]
        base = unicodedata.normalize(
            "NFC", "".join(ch for ch in decomposed if ch not in _TONE_MARKS)
        )
        if base.isdigit():
            base = str(int(base))
        out.append(base + "".join(tones))
    return " ".join(out)


def parse_name(name: str) -> ParsedName:
    """Split a typed name into words and find its administrative prefix.

    Only one prefix is removed, and never when nothing would remain ("Thành phố" alone stays).
    """
    marked = _marked_tokens(name)
    folded = [_fold(t) for t in marked]
    has_marks = any(not t.isascii() for t in marked)
    for n in (2, 1):
        if len(marked) <= n:
            continue
        head_marked = " ".join(marked[:n])
        head_ascii = " ".join(folded[:n])
        unit_type = _MARKED_PREFIXES.get(head_marked)
        if unit_type is None and n == 1 and head_marked in _ABBREVIATIONS:
            unit_type = _ABBREVIATIONS[head_marked]
        if (
            unit_type is None
            and head_ascii in _ASCII_PREFIXES
            and head_marked == head_ascii  # typed without diacritics
            and not (has_marks and head_ascii in _ASCII_NAME_SYLLABLES)
        ):
            unit_type = _ASCII_PREFIXES[head_ascii]
        if unit_type is not None:
            return ParsedName(unit_type, marked, folded, n)
    return ParsedName(None, marked, folded, 0)


def normalize_name(name: str) -> str:
    """Matching key of a unit name, so that the ways people type one name compare equal.

    Composed and decomposed Unicode both work; diacritics are dropped (đ -> d), so old and new
    tone placement (Thuỵ/Thụy, Hoà/Hòa) agree; case, punctuation and spacing are folded
    (apostrophes are joined: "Ea H'leo" == "Ea Hleo"); one administrative prefix is stripped
    (Tỉnh, Thành phố, TP., Huyện, H., Quận, Q., Thị xã, TX., Xã, X., Phường, P., Thị trấn, TT.,
    Đặc khu), unless nothing would remain. Numbers stay distinct ("Phường 1" -> "1",
    "Phường 10" -> "10"; "Phường 01" -> "1").

    ASCII caveat: without diacritics "quan", "tinh" and "xa" are also name syllables (Huyện
    Quan Hóa, Thị xã Tịnh Biên); in ASCII-only input they are stripped as prefixes, so
    ``normalize_name("quan hoa") == "hoa"``. :func:`find_units` also tries the unstripped key.
    """
    return parse_name(name).key


def slugify(name: str) -> str:
    """ASCII file-name slug of a unit name: "Huyện Kiến Thụy" -> "kien-thuy".

    The prefix is dropped as in :func:`normalize_name`, except for numbered units where the
    number alone would be meaningless ("Quận 1" -> "quan-1"). Slugs are not unique (many
    "Châu Thành"), so put the code in file names as well when uniqueness matters.
    """
    parsed = parse_name(name)
    words = parsed.folded[parsed.stripped :]
    if words and all(w.isdigit() for w in words):
        words = parsed.folded
    return "-".join(w for w in words if w.isascii())


def official_name(name: str, fallback_type: str | None) -> tuple[str, str, str]:
    """(name, unit type, short name) with the type read from the name's own prefix.

    The name's prefix is more reliable than the package's type column (which calls "Phường 5"
    a "Xã"); its capitalisation is made official ("Thị Xã Buôn Hồ" -> "Thị xã Buôn Hồ").
    """
    name = unicodedata.normalize("NFC", " ".join(str(name).split()))
    for unit_type in UNIT_TYPES:
        if name.lower().startswith(unit_type.lower() + " "):
            short = name[len(unit_type) + 1 :].strip()
            name = f"{unit_type} {short}"
            # A bare number is no name: keep "Quận 1", "Phường 10" whole.
            return name, unit_type, (name if short.isdigit() else short)
    return name, (fallback_type or ""), name


# --------------------------------------------------------------------------------------------
# Offices: the unit an office's name names
# --------------------------------------------------------------------------------------------

_OFFICE_PREFIX = re.compile(
    r"^(?:(?:UBND|[UÚ]ỷ ban nhân dân|Ủy ban nhân dân)|"
    r"Bộ phận (?:một cửa|tiếp nhận và trả kết quả|TN ?& ?TKQ)(?: của)?(?: UBND)?|"
    r"Trung tâm (?:Phục vụ )?hành chính công(?: của)?)\s*[:\-]?\s*",
    re.IGNORECASE,
)
_ROW_NUMBER = re.compile(r"^\s*(?:\d+|[IVX]+)[.)]\s+")
# Provincial departments (sở), boards (ban quản lý ...): the province's own tier.
_PROVINCE_DEPARTMENT = re.compile(r"^(?:Sở|Ban quản lý)\s+\S", re.IGNORECASE)
_PROVINCE_IN_NAME = re.compile(r"(?:^|\s)(?:tỉnh|thành phố|tp\.?)\s+\S", re.IGNORECASE)


def office_name(name: str) -> str:
    """A unit name without the office wording around it: "UBND huyện Kiến Thụy" -> "huyện
    Kiến Thụy", "1. Xã Đại Đồng" -> "Xã Đại Đồng"."""
    text = _ROW_NUMBER.sub("", unicodedata.normalize("NFC", name))
    previous = None
    while previous != text:
        previous, text = text, _OFFICE_PREFIX.sub("", text).strip()
    return text or name


class OfficeName(NamedTuple):
    """What an office's name says about its unit."""

    unit_name: str  # the words that name the unit; "" for a province office naming none
    is_province_office: bool  # a department or the provincial centre: the province's tier


def read_office(name: str) -> OfficeName:
    """The unit an office's name names, and whether the office is a province's own.

    "UBND xã Kiến Thụy", "Trung tâm Phục vụ hành chính công xã Kiến Thụy" -> "xã Kiến Thụy";
    "Sở Tư pháp tỉnh Quảng Ninh" -> a province office of "tỉnh Quảng Ninh"; "Sở Tư pháp" or
    "Trung tâm Phục vụ hành chính công" alone -> a province office naming no province (the
    caller's province applies).
    """
    cleaned = _ROW_NUMBER.sub("", unicodedata.normalize("NFC", " ".join(str(name).split())))
    text, previous = cleaned, None
    while previous != text:
        previous, text = text, _OFFICE_PREFIX.sub("", text).strip()
    if not text:  # "Trung tâm Phục vụ hành chính công" alone is the provincial centre
        return OfficeName("", cleaned.lower().startswith("trung tâm"))
    if _PROVINCE_DEPARTMENT.match(text):
        places = list(_PROVINCE_IN_NAME.finditer(text))
        return OfficeName(text[places[-1].start() :].strip() if places else "", True)
    return OfficeName(text, False)
