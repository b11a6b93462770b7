"""A province's own spellings of its offices: a unit map (CSV: name, code, optional era).

Some one-stop systems name offices their own way ("BP một cửa xã K.Thụy"); no matcher should
guess those. The steward writes them down once, with the unit code (and, where the code alone
is ambiguous across the 1 July 2025 reform, the era), and ingest reads the map with
``--unit-map FILE``. The file is checked whole on load: a code the registry lacks stops the run
with the file and line named (never the line's content: only the header is ever shown).
"""

from __future__ import annotations

import csv
import os
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from cchc_analysis.core.errors import AmbiguousUnitError, UnitMapError, UnknownUnitError
from cchc_analysis.units.registry import ERAS, Unit, lookup_code

_NAME_HEADERS = frozenset({"name", "unit_name", "tên", "tên đơn vị", "ten", "ten don vi"})
_CODE_HEADERS = frozenset({"code", "unit_code", "mã", "mã đơn vị", "ma", "ma don vi"})
_ERA_HEADERS = frozenset({"era"})


def map_key(name: str) -> str:
    """How a map name is compared with a cell: NFC, case and spacing folded, nothing else."""
    return " ".join(unicodedata.normalize("NFC", str(name)).casefold().split())


@dataclass(frozen=True)
class UnitMapEntry:
    """One line of the map: the unit its code names in each era it is read in."""

    line: int
    era: str | None  # the era the line gives, or None (the code is read in the row's era)
    units: Mapping[str, Unit]  # era -> unit of the code in that era


@dataclass(frozen=True)
class UnitMap:
    """The map's lines by :func:`map_key` of their name."""

    source: str
    entries: Mapping[str, tuple[UnitMapEntry, ...]]

    def lookup(self, name: str) -> tuple[UnitMapEntry, ...]:
        """The lines that spell ``name`` (none when the map does not know it)."""
        return self.entries.get(map_key(name), ())


def _column(header: list[str], names: frozenset[str]) -> int | None:
    found = [i for i, h in enumerate(header) if map_key(h) in names]
    return found[0] if found else None


def _cell(cells: list[str], at: int | None) -> str:
    return cells[at] if at is not None and at < len(cells) else ""


def _units_of(code: str, era: str | None) -> dict[str, Unit]:
    units = {}
    for candidate in (era,) if era else ERAS:
        try:
            units[candidate] = lookup_code(code, candidate, None)
        except (UnknownUnitError, AmbiguousUnitError):
            continue
    return units


def load_unit_map(path: str | os.PathLike[str]) -> UnitMap:
    """Read and check a unit map; :class:`UnitMapError` (one line: file and line) if unusable.

    The header names the columns ``name`` and ``code`` (also ``tên``/``mã``) and optionally
    ``era`` (2024: before 1 July 2025, 2025: from that day). Each code must be a unit of its
    era (of either era when none is given); a name may appear once per era.
    """
    where = str(path)
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.reader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise UnitMapError(f"unit map {where}: cannot be read ({type(exc).__name__})") from None
    if not rows:
        raise UnitMapError(f"unit map {where}: the file is empty")
    header = [cell.strip() for cell in rows[0]]
    name_at, code_at = _column(header, _NAME_HEADERS), _column(header, _CODE_HEADERS)
    era_at = _column(header, _ERA_HEADERS)
    if name_at is None or code_at is None:
        shown = " | ".join(header) or "(blank)"
        raise UnitMapError(
            f"unit map {where}: the header must name the columns name and code (and optionally "
            f"era); found: {shown}"
        )
    entries: dict[str, list[UnitMapEntry]] = {}
    for line, row in enumerate(rows[1:], start=2):
        cells = [cell.strip() for cell in row]
        if not any(cells):
            continue
        name, code = _cell(cells, name_at), _cell(cells, code_at)
        era = _cell(cells, era_at) or None
        if not name or not code:
            raise UnitMapError(f"unit map {where} line {line}: the name or the code is blank")
        if era is not None and era not in ERAS:
            raise UnitMapError(f"unit map {where} line {line}: the era must be 2024 or 2025")
        units = _units_of(code, era) if code.isascii() and code.isdigit() else {}
        if not units:
            scope = f"era {era}" if era else "either era"
            raise UnitMapError(
                f"unit map {where} line {line}: the code is not a unit code of {scope}"
            )
        same = entries.setdefault(map_key(name), [])
        clash = [e.line for e in same if e.era == era or e.era is None or era is None]
        if clash:
            raise UnitMapError(
                f"unit map {where} line {line}: the name is already mapped on line {clash[0]}"
            )
        same.append(UnitMapEntry(line, era, units))
    return UnitMap(where, {key: tuple(lines) for key, lines in entries.items()})
