"""Units found by typed names: ``find_units`` (ranked look-up) and ``resolve_unit`` (exactly one).

Names are matched on ``names.normalize_name`` keys against both eras of the registry; close
matches (difflib) are offered, never accepted silently.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Iterable
from functools import cache

import pandas as pd

from cchc_analysis.core.errors import AmbiguousUnitError, UnknownUnitError
from cchc_analysis.units.names import ParsedName, parse_name, tone_key
from cchc_analysis.units.registry import (
    ERA_PRE_2025,
    ERAS,
    LEVEL_RANK,
    TABLE_COLUMNS,
    Unit,
    check_era,
    check_level,
    code_text,
    era_registry,
    lookup_code,
)

FUZZY_CUTOFF = 0.75  # difflib ratio on name keys for find_units' close matches
SUGGEST_CUTOFF = 0.6  # looser, only for the suggestions in UnknownUnitError messages


@cache
def _search_table() -> pd.DataFrame:
    """Both eras stacked, with the parent's name and helper columns for find_units."""
    frames = []
    for era in ERAS:
        reg = era_registry(era)
        frame = reg.table.copy()
        names = {code: unit.name for code, unit in reg.units.items()}
        frame["parent_name"] = pd.Series(
            [names.get(code) for code in frame["parent_code"]], index=frame.index, dtype=object
        )
        frames.append(frame)
    both = pd.concat(frames, ignore_index=True)
    both["_rank"] = both["level"].map(LEVEL_RANK)
    both["_tone_key"] = [tone_key(p.marked[p.stripped :]) for p in map(parse_name, both["name"])]
    return both


def _filtered(province_code: str | int | None, level: str | None, era: str | None) -> pd.DataFrame:
    table = _search_table()
    mask = pd.Series(True, index=table.index)
    if era is not None:
        mask &= table["era"] == check_era(era)
    level = check_level(level, check_era(era) if era is not None else None)
    if level is not None:
        mask &= table["level"] == level
    if province_code is not None:
        mask &= table["province_code"] == code_text(province_code).zfill(2)
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


def _sorted_matches(frame: pd.DataFrame, query: ParsedName) -> pd.DataFrame:
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
    query = parse_name(name)
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
    ("Huyện Châu Thành"), only candidates of that type match. Several candidates ->
    :class:`AmbiguousUnitError` listing them with parents and codes; none ->
    :class:`UnknownUnitError` listing up to 5 closest known names.
    """
    era = check_era(era)
    level = check_level(level, era)
    text = code_text(name_or_code)
    if text.isascii() and text.isdigit():
        unit = lookup_code(text, era, level)
        if province_code is not None and unit.province_code != code_text(province_code).zfill(2):
            raise UnknownUnitError(f"unit {unit} is not in province {province_code!r} (era {era})")
        return unit

    exact = _exact_matches(parse_name(text), _filtered(province_code, level, era))
    if len(exact) == 1:
        return era_registry(era).units[exact["code"].iloc[0]]
    scope = f"era {era}" + (f", province {province_code}" if province_code is not None else "")
    scope += f", level {level}" if level else ""
    if len(exact) > 1:
        units = [era_registry(era).units[c] for c in exact["code"]]
        listed = "; ".join(_describe(row) for _, row in exact.iterrows())
        raise AmbiguousUnitError(
            f"{text!r} matches {len(units)} units ({scope}): {listed}. "
            "Pass province_code=, level= or the code.",
            units,
        )
    hint = _suggestions(text, province_code, level, era)
    raise UnknownUnitError(f"no unit named {text!r} ({scope}){hint}")


def _exact_matches(query: ParsedName, table: pd.DataFrame) -> pd.DataFrame:
    """Rows of ``table`` whose name is the typed name: the typed type word and diacritics kept.

    A type word is information, never noise: "Xã Kiến Thụy" is no name of Huyện Kiến Thụy, so a
    name with a type word matches only units of that type. (Without diacritics a first word may
    be a name syllable, "quan hoa" = Huyện Quan Hóa: the whole text is also tried as the name,
    with no type.) The exact diacritics narrow when some candidate has them ("Xã Sơn Hà" is not
    "Xã Sơn Hạ"); ASCII input cannot tell those apart.
    """
    by_key = table["name_key"] == query.key
    if query.unit_type is not None:
        by_key &= table["unit_type"] == query.unit_type
    whole = " ".join(query.folded)
    by_whole = (table["name_key"] == whole) if query.stripped and whole != query.key else False
    exact = table[by_key | by_whole]
    if query.has_marks and exact["_tone_key"].isin(query.tone_keys()).any():
        exact = exact[exact["_tone_key"].isin(query.tone_keys())]
    return exact


def name_candidates(
    name: str,
    *,
    era: str,
    province_codes: Collection[str] | None = None,
    levels: Collection[str] | None = None,
) -> list[Unit]:
    """Every unit of ``era`` the typed name is exactly a name of (see :func:`_exact_matches`),
    sorted by level then code; ``province_codes`` and ``levels`` narrow the search."""
    era = check_era(era)
    table = _filtered(None, None, era)
    if province_codes is not None:
        table = table[table["province_code"].isin(list(province_codes))]
    if levels is not None:
        table = table[table["level"].isin([check_level(lv, era) for lv in levels])]
    exact = _exact_matches(parse_name(name), table).sort_values(["_rank", "code"])
    units = era_registry(era).units
    return [units[code] for code in exact["code"]]


def suggestions(name: str, *, era: str, province_code: str | None = None) -> str:
    """'; closest: ...' with up to 5 units named nearly like ``name`` (never the typed text)."""
    return _suggestions(name, province_code, None, check_era(era))


def _suggestions(text: str, province_code: str | int | None, level: str | None, era: str) -> str:
    """'; closest: ...' with up to 5 near names, widening to all provinces if none nearby."""
    keys = parse_name(text).keys()
    for scope_province in (province_code, None):
        table = _filtered(scope_province, level, era)
        scores = _similarity(keys, table["name_key"].unique(), SUGGEST_CUTOFF)
        if scores:
            near = table[table["name_key"].isin(scores.keys())]
            near = near.assign(score=near["name_key"].map(scores).astype(float))
            near = _sorted_matches(near, parse_name(text)).head(5)
            listed = "; ".join(_describe(row) for _, row in near.iterrows())
            return f"; closest: {listed}"
        if province_code is None:
            break
    return "; no similar names"
