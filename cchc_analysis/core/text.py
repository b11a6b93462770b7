"""Vietnamese text folded for matching: one fold for headers, unit names and titles.

Exports spell one word many ways (``NGÀY``, ``Ngày``, ``ngay``; composed or decomposed
Unicode; ``Thuỵ``/``Thụy``). Matching compares folded text: lowercase ASCII, diacritics
dropped, ``đ`` -> ``d``. What the fold throws away (the type words of unit names, tone marks)
is information elsewhere: callers that need it keep the original beside the key.
"""

from __future__ import annotations

import re
import unicodedata


def fold(text: object) -> str:
    """Lowercase ASCII: NFD, combining marks dropped, đ -> d (``"Đường An"`` -> ``"duong an"``)."""
    decomposed = unicodedata.normalize("NFD", str(text)).replace("đ", "d").replace("Đ", "D")
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()


def split_camel(text: str) -> str:
    """ "SoDienThoai" -> "So Dien Thoai": exports from one-stop systems use CamelCase names."""
    out = []
    for i, ch in enumerate(text):
        if i and ch.isupper() and text[i - 1].islower():
            out.append(" ")
        out.append(ch)
    return "".join(out)


def words(text: object) -> str:
    """Text as space-separated ASCII words (``"SoDienThoai"`` -> ``"so dien thoai"``).

    Used where word boundaries matter (personal-data and Biểu 06 keyword rules).
    """
    raw = split_camel(unicodedata.normalize("NFC", str(text)))
    return " ".join(re.findall(r"[a-z0-9]+", fold(raw)))


def key(text: object) -> str:
    """Matching key: letters and digits only, ASCII, lowercase.

    ``key("NGÀY TIẾP NHẬN") == key("ngay_tiep_nhan") == "ngaytiepnhan"``.
    """
    return re.sub(r"[^a-z0-9]+", "", fold(text))
