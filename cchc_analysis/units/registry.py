"""Registry of Vietnamese administrative units for both eras: the Unit record and code lookups.

Reports are produced per unit, and unit names arrive typed by people: with or without the
administrative prefix ("Huyện", "H.", "TP."), with old or new tone placement ("Thuỵ"/"Thụy"), in
composed or decomposed Unicode. Codes are the only stable identifiers, so the stage turns names
into (era, code) pairs (``names``, ``matching``) and this module turns codes into units.

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

import contextlib
import importlib.util
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd

from cchc_analysis.core import text
from cchc_analysis.core.errors import AmbiguousUnitError, UnknownUnitError
from cchc_analysis.core.periods import Period
from cchc_analysis.units import names
from cchc_analysis.units.cache import cached_records
from cchc_analysis.units.names import normalize_name, official_name

ERA_PRE_2025 = "2024"
ERA_2025 = "2025"
ERAS = (ERA_PRE_2025, ERA_2025)
REFORM_DATE = date(2025, 7, 1)  # first day of the two-level system (no districts)
LEVELS = ("province", "district", "commune")

LEVEL_RANK = {level: rank for rank, level in enumerate(LEVELS)}
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
# Building the registry
# --------------------------------------------------------------------------------------------


def check_era(era: str | int) -> str:
    """The era as its string name, or a ValueError naming the eras."""
    era = str(era)
    if era not in _TABLES:
        raise ValueError(f"unknown era {era!r}; use {ERA_PRE_2025!r} or {ERA_2025!r}")
    return era


def check_level(level: str | None, era: str | None = None) -> str | None:
    """The level's canonical name ("ward" -> "commune"), or a ValueError if the era has none."""
    if level is None:
        return None
    level = _LEVEL_ALIASES.get(level, level)
    allowed = _ERA_LEVELS[era] if era else LEVELS
    if level not in allowed:
        raise ValueError(f"unknown level {level!r} for era {era or 'any'}; use one of {allowed}")
    return level


@cache
def package_table(era: str) -> pd.DataFrame:
    """The package's table for one era, only the columns used here."""
    fields = ["province", "provinceCode", "provinceKey", "ward", "wardType", "wardCode", "wardKey"]
    if era == ERA_PRE_2025:
        fields += ["district", "districtType", "districtCode", "districtKey"]
    # The package's own query (vietnamadminunits.database.get_data), run on its database
    # file: importing the package loads its address parsers (~0.8 s), which nothing here uses.
    with contextlib.closing(sqlite3.connect(package_database())) as connection:
        rows = connection.execute(
            f"SELECT DISTINCT {','.join(fields)} FROM [{_TABLES[era]}]"
        ).fetchall()
    df = pd.DataFrame(rows, columns=fields)
    return df.astype(object).where(df.notna(), None)


def package_database() -> Path:
    """The SQLite file of ``vietnamadminunits`` (found without importing the package)."""
    spec = importlib.util.find_spec("vietnamadminunits")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("the package vietnamadminunits is not installed")
    return Path(list(spec.submodule_search_locations)[0]) / "data" / "dataset.db"


def _record(
    era: str,
    level: str,
    code: str,
    name: str,
    fallback_type: str | None,
    parent_code: str | None,
    province_code: str,
) -> dict[str, Any]:
    name, unit_type, short_name = official_name(name, fallback_type)
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


def package_rows(table: pd.DataFrame) -> Iterable[Any]:
    """The rows of a :func:`package_table` as named tuples whose fields are its columns (text
    or None); pandas-stubs type every field as any scalar, hence ``Any``."""
    return table.itertuples(index=False)


def _build_records(era: str) -> list[dict[str, Any]]:
    """One record per unit (plain Python values), sorted by level then code."""
    raw = package_table(era)
    records = []
    for row in package_rows(raw.drop_duplicates("provinceCode")):
        records.append(
            _record(era, "province", row.provinceCode, row.province, None, None, row.provinceCode)
        )
    if era == ERA_PRE_2025:
        for row in package_rows(raw.drop_duplicates("districtCode")):
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
    for row in package_rows(communes):
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
    records.sort(key=lambda r: (LEVEL_RANK[r["level"]], r["code"]))
    return records


@dataclass(frozen=True)
class EraRegistry:
    table: pd.DataFrame
    units: dict[str, Unit]  # code -> unit; widths 2/3/5 never collide within an era
    kids: dict[str, tuple[Unit, ...]]  # parent code -> children sorted by code


@cache
def era_registry(era: str) -> EraRegistry:
    """Build one era's table and its lookup dicts once per process (the records from the
    disk cache when an earlier process built them: :mod:`cache`)."""
    code = [Path(__file__), Path(names.__file__), Path(text.__file__)]
    records = cached_records(
        f"registry-{era}", [package_database(), *code], lambda: _build_records(era)
    )
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
    return EraRegistry(table=table, units=units, kids=frozen_kids)


def units_table(era: str = ERA_PRE_2025) -> pd.DataFrame:
    """Every unit of an era at every level, one row each, so reports can join on codes.

    Columns: era, level ('province' | 'district' | 'commune'), code (zero-padded GSO code),
    name (official full name), short_name (name without its type prefix, except numbered units),
    unit_type, parent_code (province for districts, district for legacy communes, province for
    2025 communes, None for provinces), province_code, name_key (:func:`normalize_name`).
    Built once per process; a copy is returned so callers cannot corrupt the cache.
    """
    return era_registry(check_era(era)).table.copy()


# --------------------------------------------------------------------------------------------
# Lookups by code
# --------------------------------------------------------------------------------------------


def code_text(code: str | int | float) -> str:
    """A code as typed or as Excel stored it (314.0), as stripped text."""
    if isinstance(code, bool):
        raise TypeError("a unit code cannot be a bool")
    if isinstance(code, float) and code.is_integer():  # Excel turns codes into floats
        code = int(code)
    return str(code).strip()


def lookup_code(code: str | int, era: str, level: str | None) -> Unit:
    """The unit of a code in a checked era and level (see :func:`get_unit`)."""
    reg = era_registry(era)
    text = code_text(code)
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
    era = check_era(era)
    return lookup_code(code, era, check_level(level, era))


def children(code: str | int, era: str = ERA_PRE_2025, level: str | None = None) -> list[Unit]:
    """Units directly under this one, sorted by code.

    Districts of a province and communes of a district in 2024; communes of a province in
    2025; an empty list for communes and for the island districts that have no communes.
    """
    era = check_era(era)
    unit = lookup_code(code, era, check_level(level, era))
    return list(era_registry(era).kids.get(unit.code, ()))


def parent(code: str | int, era: str = ERA_PRE_2025, level: str | None = None) -> Unit | None:
    """The unit directly above this one, or None for a province."""
    era = check_era(era)
    unit = lookup_code(code, era, check_level(level, era))
    return None if unit.parent_code is None else era_registry(era).units[unit.parent_code]


def district_of(commune_code: str | int) -> Unit:
    """The legacy (pre-July-2025) district of a legacy commune code."""
    unit = lookup_code(commune_code, ERA_PRE_2025, "commune")
    assert unit.parent_code is not None  # every legacy commune lies in a district
    return era_registry(ERA_PRE_2025).units[unit.parent_code]


def era_of(period_start: date) -> str:
    """Units of reports that start on or after 1 July 2025 are read in the new registry."""
    return ERA_2025 if period_start >= REFORM_DATE else ERA_PRE_2025


def era_of_period(period: Period) -> str:
    """The units a period reports on: the reform's (2025) when it ends on or after 1 July 2025
    (a period that straddles the reform is reported on the new units), else 2024's."""
    return ERA_2025 if period.end >= REFORM_DATE else ERA_PRE_2025
