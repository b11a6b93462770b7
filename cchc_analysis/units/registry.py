"""Registry of Vietnamese administrative units for both eras, and name matching against it.

Reports are produced per unit, and unit names arrive typed by people: with or without the
administrative prefix ("Huyện", "H.", "TP."), with old or new tone placement ("Thuỵ"/"Thụy"), in
composed or decomposed Unicode. Codes are the only stable identifiers, so everything here turns
names into (era, code) pairs and back.

Two eras exist, named by strings:

* ``"2024"`` (:data:`ERA_PRE_2025`): the three-level system in force before 1 July 2025
  (63 provinces / districts / communes).
* ``"2025"`` (:data:`ERA_2025`): the two-level system from 1 July 2025 (34 provinces / communes).

Codes are the GSO codes, zero-padded (2 digits province, 3 district, 5 commune). New-era commune
codes reuse numbers that are also legacy commune codes, so a code alone is ambiguous across eras:
always key by (era, code).

Source: the PyPI package ``vietnamadminunits`` (tables ``admin_units_legacy`` and ``admin_units``
of its bundled SQLite database, and ``data/converter_2025.json`` for the crosswalks). Its
legacy table is the last state before 1 July 2025 (it already includes the late-2024/early-2025
mergers, e.g. 696 districts), not the state at an arbitrary date in 2024. Where the package's
``wardType`` disagrees with the official full name (a handful of rows, e.g. "Phường 5" typed
"Xã"), the unit type here is taken from the name; prefixes the package capitalises
("Thành Phố Bắc Kạn", "Thị Trấn Óc Eo") are written the official way ("Thành phố Bắc Kạn").
"""

from __future__ import annotations

import difflib
import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from typing import NamedTuple

import pandas as pd

from cchc_analysis.core.errors import AmbiguousUnitError, UnknownUnitError
from cchc_analysis.core.text import fold

__all__ = [
    "ERA_2025",
    "ERA_PRE_2025",
    "ERAS",
    "LEVELS",
    "AmbiguousUnitError",
    "Unit",
    "UnknownUnitError",
    "children",
    "crosswalk_communes",
    "crosswalk_provinces",
    "district_of",
    "find_units",
    "get_unit",
    "normalize_name",
    "parent",
    "resolve_unit",
    "slugify",
    "units_table",
]

ERA_PRE_2025 = "2024"
ERA_2025 = "2025"
ERAS = (ERA_PRE_2025, ERA_2025)
REFORM_DATE = date(2025, 7, 1)  # first day of the two-level system (no districts)
LEVELS = ("province", "district", "commune")

_LEVEL_RANK = {level: rank for rank, level in enumerate(LEVELS)}
_LEVEL_ALIASES = {"ward": "commune"}  # the package and the 2025 law say "ward" (xã/phường)
_CODE_WIDTH = {"province": 2, "district": 3, "commune": 5}
_WIDTH_LEVEL = {width: level for level, width in _CODE_WIDTH.items()}
_ERA_LEVELS = {ERA_PRE_2025: LEVELS, ERA_2025: ("province", "commune")}
_TABLES = {ERA_PRE_2025: "admin_units_legacy", ERA_2025: "admin_units"}

TABLE_COLUMNS = [
    "era",
    "level",
    "code",
    "name",
    "short_name",
    "unit_type",
    "parent_code",
    "province_code",
    "name_key",
]

FUZZY_CUTOFF = 0.75  # difflib ratio on name keys for find_units' close matches
SUGGEST_CUTOFF = 0.6  # looser, only for the suggestions in UnknownUnitError messages


# --------------------------------------------------------------------------------------------
# Errors and the Unit record
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Unit:
    """One administrative unit of one era; hashable so it can key dicts and sets."""

    era: str
    level: str
    code: str
    name: str
    short_name: str
    unit_type: str
    parent_code: str | None
    province_code: str

    @property
    def name_key(self) -> str:
        """The matching key of the full name (see :func:`normalize_name`)."""
        return normalize_name(self.name)

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


# --------------------------------------------------------------------------------------------
# Name normalisation
# --------------------------------------------------------------------------------------------

# Official unit types, longest first so "Thành phố"/"Thị xã" win over shorter ones.
_UNIT_TYPES = (
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
_MARKED_PREFIXES = {t.lower(): t for t in _UNIT_TYPES}
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


class _Parsed(NamedTuple):
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
        return {_tone_key(self.marked[self.stripped :]), _tone_key(self.marked)} - {""}


_TONE_MARKS = {"\u0300": "2", "\u0301": "1", "\u0303": "3", "\u0309": "4", "\u0323": "5"}


def _tone_key(words: list[str]) -> str:
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


def _parse_name(name: str) -> _Parsed:
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
            return _Parsed(unit_type, marked, folded, n)
    return _Parsed(None, marked, folded, 0)


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
    return _parse_name(name).key


def slugify(name: str) -> str:
    """ASCII file-name slug of a unit name: "Huyện Kiến Thụy" -> "kien-thuy".

    The prefix is dropped as in :func:`normalize_name`, except for numbered units where the
    number alone would be meaningless ("Quận 1" -> "quan-1"). Slugs are not unique (many
    "Châu Thành"), so put the code in file names as well when uniqueness matters.
    """
    parsed = _parse_name(name)
    words = parsed.folded[parsed.stripped :]
    if words and all(w.isdigit() for w in words):
        words = parsed.folded
    return "-".join(w for w in words if w.isascii())


# --------------------------------------------------------------------------------------------
# Building the registry
# --------------------------------------------------------------------------------------------


def _check_era(era: str | int) -> str:
    era = str(era)
    if era not in _TABLES:
        raise ValueError(f"unknown era {era!r}; use {ERA_PRE_2025!r} or {ERA_2025!r}")
    return era


def _check_level(level: str | None, era: str | None = None) -> str | None:
    if level is None:
        return None
    level = _LEVEL_ALIASES.get(level, level)
    allowed = _ERA_LEVELS[era] if era else LEVELS
    if level not in allowed:
        raise ValueError(f"unknown level {level!r} for era {era or 'any'}; use one of {allowed}")
    return level


def _official_name(name: str, fallback_type: str | None) -> tuple[str, str, str]:
    """(name, unit type, short name) with the type read from the name's own prefix.

    The name's prefix is more reliable than the package's type column (which calls "Phường 5"
    a "Xã"); its capitalisation is made official ("Thị Xã Buôn Hồ" -> "Thị xã Buôn Hồ").
    """
    name = unicodedata.normalize("NFC", " ".join(str(name).split()))
    for unit_type in _UNIT_TYPES:
        if name.lower().startswith(unit_type.lower() + " "):
            short = name[len(unit_type) + 1 :].strip()
            name = f"{unit_type} {short}"
            # A bare number is no name: keep "Quận 1", "Phường 10" whole.
            return name, unit_type, (name if short.isdigit() else short)
    return name, (fallback_type or ""), name


@cache
def _raw(era: str) -> pd.DataFrame:
    """The package's table for one era, only the columns used here."""
    # Imported here: the package's __init__ loads its address parsers (~0.25 s), which only
    # the first registry build should pay for, not every `import cchc_analysis.units.registry`.
    from vietnamadminunits.database import get_data

    fields = ["province", "provinceCode", "provinceKey", "ward", "wardType", "wardCode", "wardKey"]
    if era == ERA_PRE_2025:
        fields += ["district", "districtType", "districtCode", "districtKey"]
    df = pd.DataFrame(get_data(fields=fields, table=_TABLES[era]))
    return df.astype(object).where(df.notna(), None)


def _record(
    era: str,
    level: str,
    code: str,
    name: str,
    fallback_type: str | None,
    parent_code: str | None,
    province_code: str,
) -> dict:
    name, unit_type, short_name = _official_name(name, fallback_type)
    return {
        "era": era,
        "level": level,
        "code": code,
        "name": name,
        "short_name": short_name,
        "unit_type": unit_type,
        "parent_code": parent_code,
        "province_code": province_code,
        "name_key": normalize_name(name),
    }


def _build_records(era: str) -> list[dict]:
    """One record per unit (plain Python values), sorted by level then code."""
    raw = _raw(era)
    records = []
    for row in raw.drop_duplicates("provinceCode").itertuples(index=False):
        records.append(
            _record(era, "province", row.provinceCode, row.province, None, None, row.provinceCode)
        )
    if era == ERA_PRE_2025:
        for row in raw.drop_duplicates("districtCode").itertuples(index=False):
            records.append(
                _record(
                    era,
                    "district",
                    row.districtCode,
                    row.district,
                    row.districtType,
                    row.provinceCode,
                    row.provinceCode,
                )
            )
    communes = raw[raw["wardCode"].notna()]  # island districts have a row without commune
    parent_column = "districtCode" if era == ERA_PRE_2025 else "provinceCode"
    for row in communes.itertuples(index=False):
        records.append(
            _record(
                era,
                "commune",
                row.wardCode,
                row.ward,
                row.wardType,
                getattr(row, parent_column),
                row.provinceCode,
            )
        )
    records.sort(key=lambda r: (_LEVEL_RANK[r["level"]], r["code"]))
    return records


@dataclass(frozen=True)
class _Registry:
    table: pd.DataFrame
    units: dict[str, Unit]  # code -> unit; widths 2/3/5 never collide within an era
    kids: dict[str, tuple[Unit, ...]]  # parent code -> children sorted by code


@cache
def _registry(era: str) -> _Registry:
    """Build one era's table and its lookup dicts once per process."""
    records = _build_records(era)
    fields = [c for c in TABLE_COLUMNS if c != "name_key"]
    units: dict[str, Unit] = {}
    kids: dict[str, list[Unit]] = {}
    for record in records:
        unit = Unit(**{field: record[field] for field in fields})
        if unit.code in units:  # would mean the package changed its coding
            raise RuntimeError(f"duplicate {era} code {unit.code} in vietnamadminunits data")
        units[unit.code] = unit
        if unit.parent_code is not None:
            kids.setdefault(unit.parent_code, []).append(unit)
    table = pd.DataFrame.from_records(records, columns=TABLE_COLUMNS)
    # keep None (not NaN) for provinces' parent, whatever pandas' default string dtype is
    table["parent_code"] = pd.Series([r["parent_code"] for r in records], dtype=object)
    frozen_kids = {code: tuple(sorted(us, key=lambda u: u.code)) for code, us in kids.items()}
    return _Registry(table=table, units=units, kids=frozen_kids)


@cache
def _search_table() -> pd.DataFrame:
    """Both eras stacked, with the parent's name and helper columns for find_units."""
    frames = []
    for era in ERAS:
        reg = _registry(era)
        frame = reg.table.copy()
        names = {code: unit.name for code, unit in reg.units.items()}
        frame["parent_name"] = pd.Series(
            [names.get(code) for code in frame["parent_code"]], index=frame.index, dtype=object
        )
        frames.append(frame)
    both = pd.concat(frames, ignore_index=True)
    both["_rank"] = both["level"].map(_LEVEL_RANK)
    both["_tone_key"] = [_tone_key(p.marked[p.stripped :]) for p in map(_parse_name, both["name"])]
    return both


def units_table(era: str = ERA_PRE_2025) -> pd.DataFrame:
    """Every unit of an era at every level, one row each, so reports can join on codes.

    Columns: era, level ('province' | 'district' | 'commune'), code (zero-padded GSO code),
    name (official full name), short_name (name without its type prefix, except numbered units),
    unit_type, parent_code (province for districts, district for legacy communes, province for
    2025 communes, None for provinces), province_code, name_key (:func:`normalize_name`).
    Built once per process; a copy is returned so callers cannot corrupt the cache.
    """
    return _registry(_check_era(era)).table.copy()


# --------------------------------------------------------------------------------------------
# Lookups by code
# --------------------------------------------------------------------------------------------


def _code_text(code: str | int) -> str:
    if isinstance(code, bool):
        raise TypeError("a unit code cannot be a bool")
    if isinstance(code, float) and code.is_integer():  # Excel turns codes into floats
        code = int(code)
    return str(code).strip()


def _lookup(code: str | int, era: str, level: str | None) -> Unit:
    reg = _registry(era)
    text = _code_text(code)
    if not (text.isascii() and text.isdigit()):
        raise UnknownUnitError(f"{text!r} is not a unit code (era {era})")
    if level is not None:
        unit = reg.units.get(text.zfill(_CODE_WIDTH[level]))
        if unit is None or unit.level != level:
            raise UnknownUnitError(f"unknown {level} code {text!r} in era {era}")
        return unit
    if len(text) in _WIDTH_LEVEL:
        unit = reg.units.get(text)
    elif len(text) == 4:  # a commune code that lost its leading zero
        unit = reg.units.get(text.zfill(5))
    elif len(text) == 1:
        found = [reg.units[c] for w in (2, 3, 5) if (c := text.zfill(w)) in reg.units]
        if len(found) == 1:
            return found[0]
        if found:
            listed = ", ".join(f"{u.level} {u.code} {u.name}" for u in found)
            raise AmbiguousUnitError(
                f"code {text!r} is unpadded and could be {listed} (era {era}); pass level=",
                found,
            )
        unit = None
    else:
        unit = None
    if unit is None:
        raise UnknownUnitError(f"unknown unit code {text!r} in era {era}")
    return unit


def get_unit(code: str | int, era: str = ERA_PRE_2025, level: str | None = None) -> Unit:
    """The unit with this code in this era (a dict lookup once the registry is built).

    The level is read from the code width (2 province, 3 district, 5 commune); pass ``level``
    for unpadded codes (``314``, ``'1'`` for province 01). A 4-digit code is taken as a commune
    code that lost its leading zero. Unknown codes raise :class:`UnknownUnitError`.
    """
    era = _check_era(era)
    return _lookup(code, era, _check_level(level, era))


def children(code: str | int, era: str = ERA_PRE_2025, level: str | None = None) -> list[Unit]:
    """Units directly under this one, sorted by code.

    Districts of a province and communes of a district in 2024; communes of a province in
    2025; an empty list for communes and for the island districts that have no communes.
    """
    era = _check_era(era)
    unit = _lookup(code, era, _check_level(level, era))
    return list(_registry(era).kids.get(unit.code, ()))


def parent(code: str | int, era: str = ERA_PRE_2025, level: str | None = None) -> Unit | None:
    """The unit directly above this one, or None for a province."""
    era = _check_era(era)
    unit = _lookup(code, era, _check_level(level, era))
    return None if unit.parent_code is None else _registry(era).units[unit.parent_code]


def district_of(commune_code: str | int) -> Unit:
    """The legacy (pre-July-2025) district of a legacy commune code."""
    unit = _lookup(commune_code, ERA_PRE_2025, "commune")
    return _registry(ERA_PRE_2025).units[unit.parent_code]


# --------------------------------------------------------------------------------------------
# Lookups by name
# --------------------------------------------------------------------------------------------


def _filtered(province_code: str | int | None, level: str | None, era: str | None) -> pd.DataFrame:
    table = _search_table()
    mask = pd.Series(True, index=table.index)
    if era is not None:
        mask &= table["era"] == _check_era(era)
    level = _check_level(level, _check_era(era) if era is not None else None)
    if level is not None:
        mask &= table["level"] == level
    if province_code is not None:
        mask &= table["province_code"] == _code_text(province_code).zfill(2)
    return table[mask]


def _similarity(keys: Iterable[str], candidates: Iterable[str], cutoff: float) -> dict[str, float]:
    """difflib ratio of each candidate key to the closest query key, for those >= cutoff."""
    scores: dict[str, float] = {}
    matcher = difflib.SequenceMatcher(autojunk=False)
    candidates = list(candidates)
    for key in keys:
        matcher.set_seq2(key)  # seq2 is the one difflib preprocesses: set it once
        for cand in candidates:
            matcher.set_seq1(cand)
            if matcher.real_quick_ratio() < cutoff or matcher.quick_ratio() < cutoff:
                continue
            ratio = matcher.ratio()
            if ratio >= cutoff and ratio > scores.get(cand, 0.0):
                scores[cand] = ratio
    return scores


def _sorted_matches(frame: pd.DataFrame, query: _Parsed) -> pd.DataFrame:
    """Best first: score, same diacritics as typed, same type as the typed prefix, level..."""
    tone_differs = ~frame["_tone_key"].isin(query.tone_keys()) if query.has_marks else False
    type_differs = (frame["unit_type"] != query.unit_type) if query.unit_type else False
    frame = frame.assign(_neg_score=-frame["score"], _tone=tone_differs, _type=type_differs)
    order = ["_neg_score", "_tone", "_type", "_rank", "era", "code"]
    return frame.sort_values(order, kind="stable").drop(columns=["_neg_score", "_tone", "_type"])


def find_units(
    name: str,
    province_code: str | int | None = None,
    level: str | None = None,
    era: str | None = None,
    limit: int | None = 10,
) -> pd.DataFrame:
    """Units whose name matches a typed name, best first, for interactive look-up.

    Exact key matches (:func:`normalize_name`, score 1.0) come first, those with the same
    diacritics as typed and the same type as the typed prefix ("Huyện ..." prefers districts)
    ahead, then by level, era and code; then close matches (difflib ratio of keys >= 0.75).
    ``era=None`` searches both eras. Columns: those of :func:`units_table` plus
    ``parent_name`` and ``score``.
    """
    query = _parse_name(name)
    keys = query.keys()
    columns = [*TABLE_COLUMNS, "parent_name", "score"]
    if not keys:
        return pd.DataFrame(columns=columns)
    table = _filtered(province_code, level, era)
    is_exact = table["name_key"].isin(keys)
    exact = table[is_exact].assign(score=1.0)
    rest = table[~is_exact]
    scores = _similarity(keys, rest["name_key"].unique(), FUZZY_CUTOFF)
    close = rest[rest["name_key"].isin(scores.keys())]
    close = close.assign(score=close["name_key"].map(scores).astype(float).round(3))
    result = pd.concat([_sorted_matches(exact, query), _sorted_matches(close, query)])
    if limit is not None:
        result = result.head(limit)
    return result[columns].reset_index(drop=True)


def _describe(row: pd.Series) -> str:
    """'Huyện Châu Thành (district 821) in Tỉnh Tiền Giang', for error messages."""
    where = f" in {row['parent_name']}" if row["parent_name"] else ""
    return f"{row['name']} ({row['level']} {row['code']}){where}"


def resolve_unit(
    name_or_code: str | int,
    province_code: str | int | None = None,
    level: str | None = None,
    era: str = ERA_PRE_2025,
) -> Unit:
    """Exactly one unit for a code or a typed name, or an error that says how to choose.

    Codes go through :func:`get_unit` (and must lie in ``province_code`` when given). Names
    must match a key exactly; close matches are never accepted silently, because a wrong unit
    in an official report is worse than an error. If the typed prefix names a unit type
    ("Huyện Châu Thành"), candidates of that type win. Several candidates ->
    :class:`AmbiguousUnitError` listing them with parents and codes; none ->
    :class:`UnknownUnitError` listing up to 5 closest known names.
    """
    era = _check_era(era)
    level = _check_level(level, era)
    text = _code_text(name_or_code)
    if text.isascii() and text.isdigit():
        unit = _lookup(text, era, level)
        if province_code is not None and unit.province_code != _code_text(province_code).zfill(2):
            raise UnknownUnitError(f"unit {unit} is not in province {province_code!r} (era {era})")
        return unit

    query = _parse_name(text)
    table = _filtered(province_code, level, era)
    exact = table[table["name_key"].isin(query.keys())]
    # Narrow only by what the user typed: the prefix's unit type, then the exact diacritics
    # ("Xã Sơn Hà" is not "Xã Sơn Hạ"); ASCII input cannot tell those apart and stays ambiguous.
    if query.unit_type is not None and (exact["unit_type"] == query.unit_type).any():
        exact = exact[exact["unit_type"] == query.unit_type]
    if query.has_marks and exact["_tone_key"].isin(query.tone_keys()).any():
        exact = exact[exact["_tone_key"].isin(query.tone_keys())]
    if len(exact) == 1:
        return _registry(era).units[exact["code"].iloc[0]]
    scope = f"era {era}" + (f", province {province_code}" if province_code is not None else "")
    scope += f", level {level}" if level else ""
    if len(exact) > 1:
        units = [_registry(era).units[c] for c in exact["code"]]
        listed = "; ".join(_describe(row) for _, row in exact.iterrows())
        raise AmbiguousUnitError(
            f"{text!r} matches {len(units)} units ({scope}): {listed}. "
            "Pass province_code=, level= or the code.",
            units,
        )
    hint = _suggestions(text, province_code, level, era)
    raise UnknownUnitError(f"no unit named {text!r} ({scope}){hint}")


def _suggestions(text: str, province_code: str | int | None, level: str | None, era: str) -> str:
    """'; closest: ...' with up to 5 near names, widening to all provinces if none nearby."""
    keys = _parse_name(text).keys()
    for scope_province in (province_code, None):
        table = _filtered(scope_province, level, era)
        scores = _similarity(keys, table["name_key"].unique(), SUGGEST_CUTOFF)
        if scores:
            near = table[table["name_key"].isin(scores.keys())]
            near = near.assign(score=near["name_key"].map(scores).astype(float))
            near = _sorted_matches(near, _parse_name(text)).head(5)
            listed = "; ".join(_describe(row) for _, row in near.iterrows())
            return f"; closest: {listed}"
        if province_code is None:
            break
    return "; no similar names"


# --------------------------------------------------------------------------------------------
# Crosswalks between the eras
# --------------------------------------------------------------------------------------------


@cache
def _converter() -> dict:
    path = resources.files("vietnamadminunits") / "data" / "converter_2025.json"
    return json.loads(path.read_text(encoding="utf-8"))


def _province_key_map(era: str) -> dict[str, str]:
    raw = _raw(era).drop_duplicates("provinceKey")
    return dict(zip(raw["provinceKey"], raw["provinceCode"], strict=True))


@cache
def _crosswalk_provinces() -> pd.DataFrame:
    old_codes = _province_key_map(ERA_PRE_2025)
    new_codes = _province_key_map(ERA_2025)
    old_units, new_units = _registry(ERA_PRE_2025).units, _registry(ERA_2025).units
    rows = []
    for new_key, old_keys in _converter()["DICT_PROVINCE"].items():
        new = new_units[new_codes[new_key]]
        for old_key in old_keys:
            old = old_units[old_codes[old_key]]
            rows.append((old.code, old.name, new.code, new.name))
    frame = pd.DataFrame(rows, columns=["old_code", "old_name", "new_code", "new_name"])
    if frame["old_code"].duplicated().any() or len(frame) != len(old_codes):
        raise RuntimeError("converter_2025.json DICT_PROVINCE does not cover the 63 provinces")
    return frame.sort_values("old_code").reset_index(drop=True)


def crosswalk_provinces() -> pd.DataFrame:
    """Old (63) province code -> new (34) province code, to carry series across 1 July 2025.

    Source: ``DICT_PROVINCE`` of the package's ``converter_2025.json``, matched to both tables
    through their ``provinceKey``. Every old province maps to exactly one new one (e.g. Hải
    Phòng 31 and Hải Dương 30 -> new Hải Phòng 31). Columns: old_code, old_name, new_code,
    new_name.
    """
    return _crosswalk_provinces().copy()


@cache
def _crosswalk_communes() -> pd.DataFrame:
    conv = _converter()
    old_units, new_units = _registry(ERA_PRE_2025).units, _registry(ERA_2025).units
    legacy = _raw(ERA_PRE_2025)
    old_by_key: dict[str, tuple[str, str, str, str]] = {}
    for row in legacy.itertuples(index=False):
        key = f"{row.provinceKey}_{row.districtKey}_{row.wardKey or ''}"
        code = row.districtCode if row.wardCode is None else row.wardCode  # None: island
        old_by_key[key] = (code, old_units[code].name, row.districtCode, row.provinceCode)
    new = _raw(ERA_2025)
    new_by_key = {
        (p, w): (c, new_units[c].name)
        for p, w, c in zip(new["provinceKey"], new["wardKey"], new["wardCode"], strict=True)
    }
    new_province = _province_key_map(ERA_2025)

    rows = []

    def add(old_key: str, new_province_key: str, new_ward_key: str, divided: bool) -> None:
        old_code, old_name, district_code, province_code = old_by_key[old_key]
        new_code, new_name = new_by_key[(new_province_key, new_ward_key)]
        island = old_key.endswith("_")
        rows.append(
            (
                old_code,
                old_name,
                district_code,
                province_code,
                new_code,
                new_name,
                new_province[new_province_key],
                divided,
                island,
            )
        )

    for new_p, wards in conv["DICT_PROVINCE_WARD_NO_DIVIDED"].items():
        for new_w, old_keys in wards.items():
            for old_key in old_keys:
                add(old_key, new_p, new_w, False)
    for new_p, olds in conv["DICT_PROVINCE_WARD_DIVIDED"].items():
        for old_key, targets in olds.items():
            defaults = [t for t in targets if t.get("isDefaultNewWard")]
            if len(defaults) != 1:
                raise RuntimeError(f"converter_2025.json: no single default ward for {old_key}")
            add(old_key, new_p, defaults[0]["newWardKey"], True)
    frame = pd.DataFrame(
        rows,
        columns=[
            "old_code",
            "old_name",
            "old_district_code",
            "old_province_code",
            "new_code",
            "new_name",
            "new_province_code",
            "is_divided",
            "_island",
        ],
    )
    if frame["old_code"].duplicated().any():
        raise RuntimeError("converter_2025.json maps an old commune twice")
    return frame.sort_values(["_island", "old_code"]).reset_index(drop=True)


def crosswalk_communes(include_island_districts: bool = False) -> pd.DataFrame:
    """Old commune code -> new commune code, to carry commune-level series across 1 July 2025.

    Source: the package's ``converter_2025.json``. ``DICT_PROVINCE_WARD_NO_DIVIDED`` lists old
    communes merged whole into one new commune (``is_divided`` False, an exact mapping).
    ``DICT_PROVINCE_WARD_DIVIDED`` lists old communes split among several new ones; for those
    only the package's default new ward (``isDefaultNewWard``) is given (``is_divided`` True),
    so counts for them are attributed entirely to that ward: treat them as approximate.

    Limits: the island districts that had no communes (Bạch Long Vĩ, Cồn Cỏ, Hoàng Sa, Lý Sơn,
    Côn Đảo) have no old commune code; they become special zones (Đặc khu) and are left out
    unless ``include_island_districts`` is True, in which case they appear with the 3-digit
    district code as ``old_code`` and ``old_district_code``. Names are official full names.

    Columns: old_code, old_name, old_district_code, old_province_code, new_code, new_name,
    new_province_code, is_divided.
    """
    frame = _crosswalk_communes()
    if not include_island_districts:
        frame = frame[~frame["_island"]]
    return frame.drop(columns="_island").reset_index(drop=True)


def era_of(period_start: date) -> str:
    """Units of reports that start on or after 1 July 2025 are read in the new registry."""
    return ERA_2025 if period_start >= REFORM_DATE else ERA_PRE_2025
