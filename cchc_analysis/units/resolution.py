"""Which office a dossier row names, read in the era of its receipt date, without guessing.

A row gives a GSO code and/or a name (as the system spells it), and a receipt date. The date
gives the era: before 1 July 2025 the pre-2025 registry (province / district / commune), from
that day the new one (province / commune). New commune codes reuse old commune numbers, so a
code is read in that era, never alone.

The rules (:func:`resolve_office`):

* **code**: a GSO code is read in the receipt era. A code that era lacks is rejected
  (``code_not_in_era``; a district code from 1 July 2025: ``district_after_reform``). A name
  beside it must name the same unit or no unit at all (``name_contradicts_code``).
* **name**: matched exactly, type word and diacritics honoured ("Xã Kiến Thụy" is never Huyện
  Kiến Thụy); office wording (UBND, Bộ phận một cửa, Trung tâm Phục vụ hành chính công) is
  dropped. Several matches: ``ambiguous_unit``; none: ``unknown_unit``.
* **township_rule**: a bare name that is a district's and its township's ("An Lão": Huyện An
  Lão and Thị trấn An Lão) means the district, whose office goes by that name.
* **province_office**: a province's departments (Sở, Ban quản lý) and its public-service
  centre are the province's own tier: the province unit of the receipt era (the province named
  in the office's name, or ``province``).
* **carried over**: a dossier received before 1 July 2025 that an export lists under its new
  unit (a new unit's name, or the new unit's code beside such a name) belongs to that unit:
  stored with era "2025", carried over on 1 July 2025. Not when the export predates the reform.
* **unit_map**: a name the steward's unit map spells (:mod:`unit_map`) means the unit it maps.

Province scope: ``province`` may be given in either era; in the new era it stands for its new
province, in the old era for itself (names) and for the old provinces merged with it (codes,
and names found nowhere else).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import cache, lru_cache

from cchc_analysis.core.errors import AmbiguousUnitError, UnknownUnitError
from cchc_analysis.units.crosswalk import crosswalk_communes, crosswalk_provinces
from cchc_analysis.units.matching import name_candidates, suggestions
from cchc_analysis.units.names import parse_name, read_office
from cchc_analysis.units.registry import (
    ERA_2025,
    ERA_PRE_2025,
    REFORM_DATE,
    Unit,
    code_text,
    era_of,
    era_registry,
    lookup_code,
)
from cchc_analysis.units.unit_map import UnitMap, UnitMapEntry

HOW_CODE = "code"
HOW_NAME = "name"
HOW_TOWNSHIP_RULE = "township_rule"
HOW_PROVINCE_OFFICE = "province_office"
HOW_UNIT_MAP = "unit_map"
TOWNSHIP_TYPE = "Thị trấn"
_REFORM = "1 July 2025"


@dataclass(frozen=True)
class Resolution:
    """The unit a row belongs to and how it was found, or why none was chosen."""

    unit: Unit | None
    how: str | None = None  # code | name | township_rule | province_office | unit_map
    reason: str | None = None  # reason code when unit is None
    message: str | None = None
    is_carried_over: bool = False  # received before 1 July 2025, filed under its new unit
    passed_over: Unit | None = None  # township rule: the township not chosen
    map_line: int | None = None  # unit map: the line that decided


def _rejected(reason: str, message: str) -> Resolution:
    return Resolution(None, reason=reason, message=message)


def describe(unit: Unit) -> str:
    """'Xã Kiến Thụy (commune 11680 from 1 July 2025, Thành phố Hải Phòng)'."""
    units = era_registry(unit.era).units
    above = units.get(unit.parent_code) if unit.parent_code else None
    when = f"before {_REFORM}" if unit.era == ERA_PRE_2025 else f"from {_REFORM}"
    return f"{unit.name} ({unit.level} {unit.code} {when}" + (f", {above.name})" if above else ")")


def _listed(found: list[Unit]) -> str:
    shown = "; ".join(describe(u) for u in found[:6])
    return shown + (f" and {len(found) - 6} more" if len(found) > 6 else "")


# --------------------------------------------------------------------------------------------
# Provinces across the reform
# --------------------------------------------------------------------------------------------


@cache
def _new_province_of() -> dict[str, str]:
    frame = crosswalk_provinces()
    return dict(zip(frame["old_code"], frame["new_code"], strict=True))


@dataclass(frozen=True)
class _Scope:
    narrow: tuple[str, ...] | None  # where names are looked for first
    wide: tuple[str, ...] | None  # codes must lie here; names found nowhere narrower


@cache
def _scope(province: str | None, era: str) -> _Scope:
    if province is None:
        return _Scope(None, None)
    code = code_text(province).zfill(2)
    new_of = _new_province_of()
    new = code if code in era_registry(ERA_2025).units else new_of.get(code, code)
    if era == ERA_2025:
        return _Scope((new,), (new,))
    merged = tuple(old for old, target in sorted(new_of.items()) if target == new)
    narrow = (code,) if code in era_registry(ERA_PRE_2025).units else merged
    return _Scope(narrow, tuple(dict.fromkeys((*narrow, *merged))))


def province_unit(province: str, era: str) -> Unit | None:
    """The province ``province`` stands for in ``era`` (its new province from 1 July 2025)."""
    scope = _scope(province, era).narrow
    if not scope or len(scope) != 1:
        return None
    return era_registry(era).units.get(scope[0])


# --------------------------------------------------------------------------------------------
# What a name says, in one era
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Reading:
    units: list[Unit] = field(default_factory=list)  # the name's units (township rule applied)
    named: list[Unit] = field(default_factory=list)  # every unit the name is a name of
    how: str = HOW_NAME
    passed_over: Unit | None = None
    needs_province: bool = False


def _township_rule(found: list[Unit], typed_type: str | None) -> tuple[list[Unit], Unit | None]:
    """Drop townships named like their own district from a bare name's matches."""
    if typed_type is not None:
        return found, None
    districts = {u.code for u in found if u.level == "district"}
    townships = [u for u in found if u.unit_type == TOWNSHIP_TYPE and u.parent_code in districts]
    if not townships:
        return found, None
    kept = [u for u in found if u not in townships]
    return kept, (townships[0] if len(kept) == 1 else None)


@lru_cache(maxsize=8192)
def read_name(name: str, era: str, province: str | None) -> _Reading:
    """The units of ``era`` a typed name (office wording allowed) names, within ``province``."""
    office = read_office(name)
    scope = _scope(province, era)
    if office.is_province_office:
        if office.unit_name:
            found = name_candidates(
                office.unit_name, era=era, province_codes=scope.wide, levels=("province",)
            )
            return _Reading(found, found, HOW_PROVINCE_OFFICE)
        unit = province_unit(province, era) if province else None
        found = [unit] if unit else []
        return _Reading(found, found, HOW_PROVINCE_OFFICE, needs_province=province is None)
    if not office.unit_name:
        return _Reading()
    found = name_candidates(office.unit_name, era=era, province_codes=scope.narrow)
    if not found and scope.wide != scope.narrow:
        found = name_candidates(office.unit_name, era=era, province_codes=scope.wide)
    kept, passed = _township_rule(found, parse_name(office.unit_name).unit_type)
    return _Reading(kept, found, HOW_TOWNSHIP_RULE if passed else HOW_NAME, passed)


# --------------------------------------------------------------------------------------------
# The rules
# --------------------------------------------------------------------------------------------


def _other(era: str) -> str:
    return ERA_2025 if era == ERA_PRE_2025 else ERA_PRE_2025


def _export_predates_reform(export_date: date | None) -> bool:
    return export_date is not None and export_date < REFORM_DATE


def _code_unit(code: str, era: str) -> Unit | None:
    try:
        return lookup_code(code, era, None)
    except UnknownUnitError:
        return None


@cache
def _new_commune_of() -> dict[str, str]:
    frame = crosswalk_communes()
    return dict(zip(frame["old_code"], frame["new_code"], strict=True))


def _gone(old: Unit, received: str) -> Resolution:
    """The rejection of a pre-2025 unit named for a dossier received from 1 July 2025."""
    if old.level == "district":
        return _rejected(
            "district_after_reform",
            f"{describe(old)} is a district; districts were abolished on {_REFORM} and the "
            f"dossier was received {received}",
        )
    hint = ""
    new_code = _new_commune_of().get(old.code) if old.level == "commune" else None
    if new_code is None and old.level == "province":
        new_code = _new_province_of().get(old.code)
    if new_code is not None:
        hint = f" (its area is now in {describe(era_registry(ERA_2025).units[new_code])})"
    return _rejected(
        "code_not_in_era",
        f"{describe(old)} is not a unit from {_REFORM}{hint}; the dossier was received "
        f"{received}: give the unit of the new registry",
    )


def _by_unit_map(
    entries: tuple[UnitMapEntry, ...],
    by_code: dict[str, Unit | None],
    era: str,
    export_old: bool,
) -> Resolution:
    """The unit the steward's map gives a name (see :func:`resolve_office`)."""
    chosen = [e for e in entries if e.era == era] or [e for e in entries if e.era is None]
    entry = chosen[0] if chosen else entries[0]
    where = f"unit map line {entry.line}"
    unit = entry.units.get(era)
    is_carried_over = False
    if unit is None:
        other = entry.units.get(_other(era))
        if era == ERA_PRE_2025 and other is not None and not export_old:
            unit, is_carried_over = other, True
        elif era == ERA_2025 and other is not None:
            return _gone(other, f"from {_REFORM} ({where})")
        else:
            return _rejected("code_not_in_era", f"the code of {where} is no unit of era {era}")
    if by_code and by_code.get(unit.era) != unit:  # a code beside the name must agree
        code_unit = by_code.get(unit.era)
        said = describe(code_unit) if code_unit else f"no unit of era {unit.era}"
        return _rejected(
            "name_contradicts_code",
            f"the {where} gives {describe(unit)} but the unit code is {said}",
        )
    return Resolution(unit, HOW_UNIT_MAP, is_carried_over=is_carried_over, map_line=entry.line)


def resolve_office(
    code: object,
    name: object,
    *,
    received: date | None,
    province: str | None = None,
    unit_map: UnitMap | None = None,
    export_date: date | None = None,
) -> Resolution:
    """The unit of a row's office (code cell, name cell) for a dossier received on ``received``.

    Only the era of ``received`` matters (messages name the era, not the day), so callers
    may resolve once per (code, name, era). ``received`` None (a date that did not read) is
    taken as before the reform. ``province``
    narrows names and bounds codes; ``unit_map`` settles a system's own spellings;
    ``export_date`` (when known) rules out new units for exports made before the reform. See
    the module docstring for the rules; the result says which one decided.
    """
    era = ERA_PRE_2025 if received is None else era_of(received)
    when = f"from {_REFORM}" if era == ERA_2025 else f"before {_REFORM}"
    code_s = _clean(code)
    name_s = _clean(name)
    export_old = _export_predates_reform(export_date)
    is_gso_code = bool(code_s) and code_s.isascii() and code_s.isdigit()

    by_code: dict[str, Unit | None] = {}
    if is_gso_code:
        try:
            by_code = {e: _code_unit(code_s, e) for e in (era, _other(era))}
        except AmbiguousUnitError as exc:
            return _rejected("ambiguous_unit", f"{exc}")
        if province is not None:
            for e, unit in by_code.items():
                wide = _scope(province, e).wide or ()
                if unit is not None and unit.province_code not in wide:
                    by_code[e] = None
                    if e == era:
                        return _rejected(
                            "unknown_unit", f"{describe(unit)} is not in province {province}"
                        )

    if unit_map is not None and name_s and (entries := unit_map.lookup(name_s)):
        return _by_unit_map(entries, by_code, era, export_old)

    if is_gso_code:
        return _by_code(
            code_s, by_code, name_s, era=era, when=when, province=province, export_old=export_old
        )
    if not name_s:
        if code_s:
            return _rejected(
                "unknown_unit", "the unit code is not a GSO unit code and no unit name is given"
            )
        return _rejected("missing_value", "no unit code or name")
    return _by_name(name_s, era=era, when=when, province=province, export_old=export_old)


def _clean(value: object) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return code_text(value) if isinstance(value, (int, float)) else str(value).strip()


def _by_code(
    code: str,
    by_code: dict[str, Unit | None],
    name: str,
    *,
    era: str,
    when: str,
    province: str | None,
    export_old: bool,
) -> Resolution:
    unit, other = by_code[era], by_code[_other(era)]
    readings = {e: read_name(name, e, province) for e in (era, _other(era))} if name else {}
    named = {e: r.named for e, r in readings.items()}
    names_nothing = not any(named.values())
    if unit is None:
        if other is None:
            return _rejected("unknown_unit", f"unit code {code} is in neither registry")
        if era == ERA_2025:
            return _gone(other, when)
        # received before the reform, under a code only the new registry has
        if export_old:
            return _rejected(
                "code_not_in_era",
                f"unit code {code} exists only from {_REFORM} ({describe(other)}) and the "
                "export predates that day",
            )
        if not names_nothing and other not in named[ERA_2025]:
            return _contradiction(other, named)
        return Resolution(other, HOW_CODE, is_carried_over=True)
    if names_nothing or unit in named[era]:
        return Resolution(unit, HOW_CODE)
    if era == ERA_PRE_2025 and other is not None and other in named[ERA_2025]:
        if export_old:
            return _rejected(
                "name_contradicts_code",
                f"the unit name is {describe(other)}, which did not exist when the export was "
                f"made; the unit code before {_REFORM} is {describe(unit)}",
            )
        return Resolution(other, HOW_CODE, is_carried_over=True)
    return _contradiction(unit, named)


def _contradiction(unit: Unit, named: dict[str, list[Unit]]) -> Resolution:
    said = named.get(unit.era) or [u for found in named.values() for u in found]
    return _rejected(
        "name_contradicts_code",
        f"the unit name is {_listed(said)} but the unit code is {describe(unit)}",
    )


def _by_name(
    name: str, *, era: str, when: str, province: str | None, export_old: bool
) -> Resolution:
    reading = read_name(name, era, province)
    if reading.needs_province:
        return _rejected(
            "ambiguous_unit", "a provincial office with no province named: pass --province"
        )
    if len(reading.units) == 1:
        return Resolution(reading.units[0], reading.how, passed_over=reading.passed_over)
    if reading.units:
        return _ambiguous(reading.units, province)
    other = read_name(name, _other(era), province)
    if era == ERA_PRE_2025 and other.units:
        if len(other.units) > 1:
            return _ambiguous(other.units, province)
        if export_old:
            return _rejected(
                "unit_not_in_era",
                f"the unit name is {describe(other.units[0])}, which did not exist when the "
                "export was made",
            )
        return Resolution(other.units[0], other.how, is_carried_over=True)
    if era == ERA_2025 and other.named:
        districts = [u for u in other.named if u.level == "district"]
        gone = _gone((districts or other.named)[0], when)
        if gone.reason == "code_not_in_era":  # a name, not a code
            return _rejected("unit_not_in_era", gone.message or "")
        return gone
    narrow = _scope(province, era).narrow
    within = narrow[0] if narrow and len(narrow) == 1 else None
    hint = suggestions(read_office(name).unit_name or name, era=era, province_code=within)
    scope = f" in province {province}" if province else ""
    return _rejected("unknown_unit", f"the unit name names no unit of era {era}{scope}{hint}")


def _ambiguous(found: list[Unit], province: str | None) -> Resolution:
    ask = "give the unit code" if province else "pass --province or give the unit code"
    return _rejected(
        "ambiguous_unit", f"the unit name matches {len(found)} units: {_listed(found)}; {ask}"
    )
