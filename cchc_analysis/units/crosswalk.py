"""Crosswalks between the eras: old provinces and communes onto those of 1 July 2025.

Source: the package's ``converter_2025.json`` matched to both registry tables through their keys.
"""

from __future__ import annotations

import importlib.util
import json
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd

from cchc_analysis.units.registry import (
    ERA_2025,
    ERA_PRE_2025,
    era_registry,
    package_rows,
    package_table,
)


@cache
def _converter() -> dict[str, Any]:
    # Found without importing the package: its __init__ compiles its address parsers (about
    # a second of every report run's planning), which nothing here uses.
    spec = importlib.util.find_spec("vietnamadminunits")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("the package vietnamadminunits is not installed")
    folder = Path(list(spec.submodule_search_locations)[0])
    path = folder / "data" / "converter_2025.json"
    converter: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return converter


def _province_key_map(era: str) -> dict[str, str]:
    raw = package_table(era).drop_duplicates("provinceKey")
    return dict(zip(raw["provinceKey"], raw["provinceCode"], strict=True))


@cache
def _crosswalk_provinces() -> pd.DataFrame:
    old_codes = _province_key_map(ERA_PRE_2025)
    new_codes = _province_key_map(ERA_2025)
    old_units, new_units = era_registry(ERA_PRE_2025).units, era_registry(ERA_2025).units
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
    old_units, new_units = era_registry(ERA_PRE_2025).units, era_registry(ERA_2025).units
    legacy = package_table(ERA_PRE_2025)
    old_by_key: dict[str, tuple[str, str, str, str]] = {}
    for row in package_rows(legacy):
        key = f"{row.provinceKey}_{row.districtKey}_{row.wardKey or ''}"
        code = row.districtCode if row.wardCode is None else row.wardCode  # None: island
        old_by_key[key] = (code, old_units[code].name, row.districtCode, row.provinceCode)
    new = package_table(ERA_2025)
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


@cache
def _former_districts() -> pd.DataFrame:
    walk = crosswalk_communes()
    per_district = (
        walk.groupby(["new_code", "old_district_code"]).size().rename("old_commune_count")
    ).reset_index()
    # The district that gave the new commune most of its old communes (the lowest code on a tie).
    ranked = per_district.sort_values(
        ["new_code", "old_commune_count", "old_district_code"], ascending=[True, False, True]
    )
    chosen = ranked.drop_duplicates("new_code").set_index("new_code")
    spans = per_district.groupby("new_code")["old_district_code"].nunique()
    divided = walk.groupby("new_code")["is_divided"].any()
    out = pd.DataFrame(
        {
            "new_code": chosen.index,
            "district_code": chosen["old_district_code"].to_numpy(),
            "spans_districts": (spans.loc[chosen.index] > 1).to_numpy(),
            "has_divided_commune": divided.loc[chosen.index].to_numpy(dtype=bool),
        }
    )
    return out.reset_index(drop=True)


def former_districts() -> pd.DataFrame:
    """The former (pre-2025) district each new commune lies in, for the "former-district area"
    view of periods after the reform (the new communes within a former district, summed).

    Columns: new_code, district_code (the district that gave the new commune most of its old
    communes; the lowest code on a tie), spans_districts (its old communes came from two or
    more districts: the assignment is approximate), has_divided_commune (one of its old
    communes was divided among new ones). Source: ``crosswalk_communes``.
    """
    return _former_districts().copy()
