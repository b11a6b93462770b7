"""Which registered unit a row belongs to: a GSO code cell and/or a typed unit name in, a unit
of the registry (:mod:`cchc_analysis.units`) or a reason code out.

Dossier and survey rows are read in the era of their own date (:func:`resolve_dated_units`,
the rules of :func:`cchc_analysis.units.resolve_office`); period reports in the era of their
period (:func:`resolve_units`). Close matches are never accepted: an unknown name is refused
with the closest known names, and a name shared by several units asks for ``--province`` or a
code. Each distinct (code, name, era) of a file is resolved once, however many rows repeat it.
:class:`ResolutionLog` counts the rows resolved by a rule the ingest report lists (township
rule, unit map, carried over).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa

from cchc_analysis import units
from cchc_analysis.ingest.parsing import clean_text, show, text_column
from cchc_analysis.ingest.problems import Problems
from cchc_analysis.units.names import office_name


@dataclass(frozen=True)
class UnitMatch:
    """The unit a row belongs to, or why none could be chosen."""

    unit: units.Unit | None
    code: str | None = None  # reason code when unit is None
    message: str | None = None
    resolution: units.Resolution | None = None  # how a dated row's unit was found


def resolve_row_unit(
    code: Any,
    name: Any,
    *,
    province: str | None,
    era: str = units.ERA_PRE_2025,
    levels: Sequence[str] = ("district", "commune"),
) -> UnitMatch:
    """Resolve a unit from a code cell and/or a name cell.

    A GSO code (digits) decides, and an unknown one is rejected; a name is used when there is
    no code or the code is not a GSO code (e.g. an agency's electronic ID "000.00.14.H31").

    Close matches are never accepted: an unknown name is rejected with the closest known
    names; a name shared by several units asks for ``--province`` or a code.
    """
    code_text, name_text = clean_text(code), clean_text(name)
    unit = None
    try:
        if code_text and code_text.isdigit():
            # A wrong GSO code is an error even when a name is given: which one is right?
            unit = units.resolve_unit(code_text, province_code=province, era=era)
        if unit is None and name_text:
            unit = units.resolve_unit(office_name(name_text), province_code=province, era=era)
        if unit is None:
            shown = show(code_text) if code_text else "(blank)"
            return UnitMatch(
                None,
                "unknown_unit" if code_text else "missing_value",
                f"unit code {shown} is not a GSO unit code and no unit name is given"
                if code_text
                else "no unit code or name",
            )
    except units.AmbiguousUnitError as exc:
        listed = "; ".join(_describe(u) for u in exc.candidates[:6])
        more = f" and {len(exc.candidates) - 6} more" if len(exc.candidates) > 6 else ""
        typed = name_text or code_text
        return UnitMatch(
            None,
            "ambiguous_unit",
            f"{typed!r} matches {len(exc.candidates)} units: {listed}{more}; "
            + ("give the unit code" if province else "pass --province or give the unit code"),
        )
    except (units.UnknownUnitError, ValueError) as exc:
        return UnitMatch(None, "unknown_unit", str(exc))
    if unit.level not in levels:
        return UnitMatch(
            None,
            "not_an_office",
            f"{unit} is a {unit.level}; rows must belong to a {' or '.join(levels)}",
        )
    return UnitMatch(unit)


def _describe(unit: units.Unit) -> str:
    above = units.parent(unit.code, era=unit.era, level=unit.level)
    return f"{unit.name} ({unit.level} {unit.code}" + (f", {above.name})" if above else ")")


def district_code_of(unit: units.Unit) -> str | None:
    """Partition key: the pre-2025 district a unit belongs to (itself for a district)."""
    if unit.era != units.ERA_PRE_2025:
        return None
    if unit.level == "district":
        return unit.code
    if unit.level == "commune":
        return unit.parent_code
    return None


# The canonical unit columns of a row, from its unit.
_UNIT_FIELDS: dict[str, Callable[[units.Unit], str | None]] = {
    "unit_code": lambda u: u.code,
    "unit_name": lambda u: u.name,
    "unit_level": lambda u: u.level,
    "district_code": district_code_of,
    "era": lambda u: u.era,
    "province_code": lambda u: u.province_code,
}


@dataclass
class UnitMatches:
    """Resolved units per distinct (code, name, era) and the index of each row's match."""

    resolved: list[UnitMatch]
    group: np.ndarray

    def column(self, attribute: Callable[[units.Unit], Any]) -> npt.NDArray[np.object_]:
        table = np.empty(len(self.resolved), dtype=object)
        table[:] = [attribute(m.unit) if m.unit else None for m in self.resolved]
        rows: npt.NDArray[np.object_] = table[self.group]
        return rows

    def unit_columns(self) -> dict[str, np.ndarray]:
        """The canonical unit columns of every row (None where no unit was found)."""
        return {name: self.column(read) for name, read in _UNIT_FIELDS.items()}

    def unit_text_columns(self) -> dict[str, pd.api.extensions.ExtensionArray]:
        """:meth:`unit_columns` in the dossier schema's ``string`` dtype, built in Arrow: one
        take per column from the distinct units, no Python object per row."""
        rows = pa.array(self.group, type=pa.int64())
        out = {}
        for name, read in _UNIT_FIELDS.items():
            table = [read(m.unit) if m.unit else None for m in self.resolved]
            out[name] = pd.array(pa.array(table, type=pa.string()).take(rows), dtype="string")
        return out

    def add_problems(self, problems: Problems, header: str) -> None:
        """Every row without a unit, under the source ``header``."""
        for index, match in enumerate(self.resolved):
            if match.unit is None:
                where = np.flatnonzero(self.group == index)
                problems.add(
                    where, header, match.code or "unknown_unit", [match.message or ""] * len(where)
                )


def resolve_units(
    raw: pd.DataFrame, era_of_row: pd.Series, *, province: str | None, levels: Sequence[str]
) -> UnitMatches:
    """The unit of every row of ``raw`` (its ``unit_code`` and/or ``unit_name`` cells), each
    read in the registry of its era."""
    blank = pd.Series(None, index=raw.index, dtype=object)
    codes = text_column(raw["unit_code"]) if "unit_code" in raw else blank
    names = text_column(raw["unit_name"]) if "unit_name" in raw else blank
    keys = pd.DataFrame({"code": codes, "name": names, "era": era_of_row.astype(object)})
    group, uniques = pd.MultiIndex.from_frame(keys.fillna("")).factorize()
    resolved = [
        resolve_row_unit(code or None, name or None, province=province, era=era, levels=levels)
        for code, name, era in uniques
    ]
    return UnitMatches(resolved, np.asarray(group, dtype=np.int64))


_ERA_DATES = {  # one receipt date per era: resolution depends on the era only
    units.ERA_PRE_2025: units.REFORM_DATE - timedelta(days=1),
    units.ERA_2025: units.REFORM_DATE,
}


def _factorize_keys(
    codes: pd.Series, names: pd.Series, eras: np.ndarray
) -> tuple[np.ndarray, list[tuple[str, str, str]]]:
    """Each row's (code, name, era) as a group number, groups in order of first appearance
    (blank text as ""), through integer codes: a chunk has few distinct units."""
    parts = []
    for values in (
        codes.fillna("").to_numpy(dtype=object),
        names.fillna("").to_numpy(dtype=object),
        eras,
    ):
        number, distinct = pd.factorize(values)
        parts.append((np.asarray(number, dtype=np.int64), list(distinct)))
    (c, c_values), (n, n_values), (e, e_values) = parts
    key = (c * max(len(n_values), 1) + n) * max(len(e_values), 1) + e
    group, distinct_keys = pd.factorize(key)
    uniques = []
    for value in np.asarray(distinct_keys, dtype=np.int64).tolist():
        rest, era = divmod(value, max(len(e_values), 1))
        code, name = divmod(rest, max(len(n_values), 1))
        uniques.append((str(c_values[code]), str(n_values[name]), str(e_values[era])))
    return np.asarray(group, dtype=np.int64), uniques


def resolve_dated_units(
    raw: pd.DataFrame,
    dates: pd.Series,
    *,
    province: str | None,
    unit_map: units.UnitMap | None = None,
) -> UnitMatches:
    """The unit of every row of a dossier or survey export, in the era of the row's date
    (``dates``: receipt or survey timestamps, NaT where unreadable): the office of a province,
    district or commune (:func:`cchc_analysis.units.resolve_office`)."""
    blank = pd.Series(None, index=raw.index, dtype=object)
    codes = text_column(raw["unit_code"]) if "unit_code" in raw else blank
    names = text_column(raw["unit_name"]) if "unit_name" in raw else blank
    stamps = pd.to_datetime(dates.reindex(raw.index))
    is_new = (stamps >= pd.Timestamp(units.REFORM_DATE)).to_numpy()
    eras = np.where(
        stamps.isna().to_numpy(), "", np.where(is_new, units.ERA_2025, units.ERA_PRE_2025)
    )
    group, uniques = _factorize_keys(codes, names, eras)
    resolved = []
    for code, name, era in uniques:
        received: date | None = _ERA_DATES.get(era)
        found = units.resolve_office(
            code or None, name or None, received=received, province=province, unit_map=unit_map
        )
        resolved.append(UnitMatch(found.unit, found.reason, found.message, found))
    return UnitMatches(resolved, np.asarray(group, dtype=np.int64))


RULE_TOWNSHIP, RULE_UNIT_MAP, RULE_CARRIED_OVER = "township_rule", "unit_map", "carried_over"


@dataclass
class ResolutionLog:
    """Accepted rows per unit resolved by a rule the ingest report lists, over a file's chunks.

    Keys: (rule, era, unit code, unit name, detail); detail names the township passed over,
    the unit map's line, or how a carried-over dossier's new unit was found. Never the cells.
    """

    rows: Counter[tuple[str, ...]] = field(default_factory=Counter)

    def add(self, matches: UnitMatches, accepted: np.ndarray) -> None:
        """Count the accepted rows (``accepted``: True per row position) of one chunk."""
        counts = np.bincount(matches.group[accepted], minlength=len(matches.resolved))
        for index, match in enumerate(matches.resolved):
            found = match.resolution
            if found is None or found.unit is None or not counts[index]:
                continue
            unit = found.unit
            for rule, detail in _rules(found):
                self.rows[(rule, unit.era, unit.code, unit.name, detail)] += int(counts[index])

    @property
    def carried_over_count(self) -> int:
        return sum(n for key, n in self.rows.items() if key[0] == RULE_CARRIED_OVER)

    def entries(self) -> list[dict[str, Any]]:
        """The report's list: one entry per rule and unit, sorted."""
        return [
            {
                "rule": rule,
                "era": era,
                "unit_code": code,
                "unit_name": name,
                "detail": detail,
                "rows": n,
            }
            for (rule, era, code, name, detail), n in sorted(self.rows.items())
        ]


def _rules(found: units.Resolution) -> list[tuple[str, str]]:
    rules = []
    if found.passed_over is not None:
        passed = found.passed_over
        rules.append((RULE_TOWNSHIP, f"bare name; not {passed.name} ({passed.code})"))
    if found.map_line is not None:
        rules.append((RULE_UNIT_MAP, f"unit map line {found.map_line}"))
    if found.is_carried_over:
        rules.append((RULE_CARRIED_OVER, f"received before 1 July 2025; found by {found.how}"))
    return rules
