"""Personal data: which columns to drop at ingest and what to mask in free text.

Applicant identity (name, ID/CCCD/CMND number, phone, e-mail, address, birth date) is personal
data under Nghị định 13/2023/NĐ-CP. Counting dossiers never needs it, so ingest drops those
columns by header before anything is written (processed data, rejects, reports) and lists the
dropped headers in the ingest report. Free-text columns that are kept (procedure names, notes)
may still carry an ID or phone number typed by an officer; those patterns are masked.

The rejects file shows a rejected row's recognised cells only: free text a steward does not
need to find the row (a summary such as TrichYeuHoSo, notes, any unrecognised column) may name
the applicant, and no pattern finds a name, so those columns are left out
(:func:`is_narrative_header`).
"""

from __future__ import annotations

import re
from typing import Final

import pandas as pd

from cchc_analysis.core.text import words as header_words

# Word sequences (ASCII, see headers.header_words) that mark a personal-data header.
PERSONAL_HEADER_PATTERNS: Final[dict[str, tuple[str, ...]]] = {
    "name": (
        "ho ten",
        "ho va ten",
        "ten nguoi nop",
        "nguoi nop",
        "chu ho so",
        "ten cong dan",
        "to chuc ca nhan",
        "nguoi de nghi",
        "nguoi yeu cau",
        "nguoi dung ten",
        "applicant",
        "full name",
        "fullname",
    ),
    "id_number": (
        "cccd",
        "cmnd",
        "cmt",
        "can cuoc",
        "chung minh",
        "dinh danh",
        "so giay to",
        "giay to tuy than",
        "ho chieu",
        "passport",
        "id number",
        "national id",
    ),
    "phone": ("dien thoai", "sdt", "so dt", "dtdd", "di dong", "phone", "mobile", "tel"),
    "email": ("email", "e mail", "thu dien tu", "mail"),
    "address": (
        "dia chi",
        "thuong tru",
        "tam tru",
        "cu tru",
        "noi o",
        "que quan",
        "address",
    ),
    "birth_date": ("ngay sinh", "nam sinh", "date of birth", "dob", "birth"),
}
# A header naming the office or the dossier is not about the applicant ("Địa chỉ đơn vị").
_NOT_PERSONAL_WORDS: Final = ("ho so", "don vi", "co quan", "thu tuc", "tthc", "linh vuc")

# Headers of narrative free text (summary of the request, notes, reasons): left out of rejects
# even when a canonical column takes them. Word sequences as in PERSONAL_HEADER_PATTERNS.
NARRATIVE_HEADER_PATTERNS: Final = (
    "trich yeu",
    "noi dung",
    "ghi chu",
    "mo ta",
    "ly do",
    "y kien",
    "summary",
    "note",
    "notes",
    "description",
)

MASK: Final = "***"
# A phone number as officers type it: +84 / (+84) / 84 / 0 before the number; spaces, dots,
# dashes between digit groups; the area code of a landline in brackets, "(0225) 3 123 456".
# After the prefix a Vietnamese number has 9 (mobile) or 10 (landline) digits.
_SEP = r"(?:\s?[.\-]\s?|\s)?"
_PHONE = re.compile(
    r"(?<![\w+])(?:"
    # with the country code: +84 912 345 678, (+84) 912-345-678, 84 24 3825 1234, +84 (0) 91...
    rf"(?:\(\s*\+?\s*84\s*\)|\+\s?84|84){_SEP}(?:\(0\)\s?)?"
    rf"(?:\(\s*\d{{2,3}}\s*\){_SEP}\d(?:{_SEP}\d){{5,7}}|[1-9](?:{_SEP}\d){{8,9}})"
    # national: 0912 345 678, 024 3825 1234, (0225) 3 123 456, (024) 38251234
    rf"|\(\s*0\d{{1,3}}\s*\){_SEP}\d(?:{_SEP}\d){{5,7}}"
    rf"|0[1-9](?:{_SEP}\d){{8,9}}"
    r")(?![\w:])"  # not a time: "03-07-2023 10:15" is a date
)
# 12-digit CCCD, 9-digit CMND, grouped by spaces, or by dots when it starts with 0 (a money
# amount, "120.000.000", never does).
_ID_NUMBER = re.compile(
    r"(?<!\w)(?:\d{12}|\d{9}|\d{3} \d{3} \d{3}(?: \d{3})?"
    r"|0\d{2}\.\d{3}\.\d{3}(?:\.\d{3})?)(?![\w.])"
)
# Bounded parts (RFC 5321 lengths): a 200,000-letter word without "@" costs linear time.
_EMAIL = re.compile(r"[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63})+")
_FORMULA_PREFIXES: Final = ("=", "+", "-", "@", "\t", "\r")


def _contains(words: str, pattern: str) -> bool:
    return f" {pattern} " in f" {words} "


def personal_category(header: object) -> str | None:
    """'name', 'id_number', 'phone', 'email', 'address' or 'birth_date' for a personal-data
    header; None otherwise."""
    words = header_words(header)
    if not words:
        return None
    excluded = [w for w in _NOT_PERSONAL_WORDS if _contains(words, w)]
    squashed = words.replace(" ", "")
    for category, patterns in PERSONAL_HEADER_PATTERNS.items():
        for pattern in patterns:
            if any(not _contains(pattern, w) for w in excluded):
                continue  # "Địa chỉ đơn vị" is the office's, but "Chủ hồ sơ" is a person
            if _contains(words, pattern):
                return category
            # "hoten", "sodienthoai": one word typed without separators
            joined = pattern.replace(" ", "")
            if " " not in words and len(joined) >= 5 and joined in squashed:
                return category
    return None


def is_narrative_header(header: object) -> bool:
    """Whether a header names narrative free text (TrichYeuHoSo, Trích yếu, Ghi chú, ...)."""
    words = header_words(header)
    return bool(words) and any(_contains(words, p) for p in NARRATIVE_HEADER_PATTERNS)


def mask_text(value: str) -> tuple[str, int]:
    """Mask phone numbers, ID numbers and e-mail addresses in a free-text value."""
    count = 0
    if not any(c.isdigit() or c == "@" for c in value):
        return value, 0  # nothing to mask: skip the patterns (long prose costs one scan)
    for pattern in (_EMAIL, _PHONE, _ID_NUMBER):
        value, n = pattern.subn(MASK, value)
        count += n
    return value, count


def mask_series(values: pd.Series) -> tuple[pd.Series, int]:
    """:func:`mask_text` over a column (each distinct value once); returns the masked count."""
    if values.empty:
        return values, 0
    text = values.astype("string")
    uniques = text.dropna().unique()
    masked: dict[str, str] = {}
    hits: dict[str, int] = {}
    for value in uniques:
        masked[value], hits[value] = mask_text(value)
    changed = {k: v for k, v in masked.items() if hits[k]}
    if not changed:
        return values, 0
    count = int(text.map(lambda v: hits.get(v, 0) if isinstance(v, str) else 0).sum())
    out = values.copy()
    mask = text.isin(list(changed)).fillna(False).to_numpy(dtype=bool)
    out = out.astype(object)
    out[mask] = text[mask].map(changed).to_numpy()
    return out, count


def neutralize_formula(value: object) -> object:
    """Prefix a ' to text a spreadsheet would run as a formula (=, +, -, @, tab, CR)."""
    if isinstance(value, str) and value.startswith(_FORMULA_PREFIXES):
        return "'" + value
    return value
