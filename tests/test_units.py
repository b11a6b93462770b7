"""Tests for cchc_analysis.units: the two-era unit registry, name matching and crosswalks."""

from __future__ import annotations

import json
import time
import unicodedata

import pandas as pd
import pytest

from cchc_analysis.units import (
    ERA_2025,
    ERA_PRE_2025,
    AmbiguousUnitError,
    Unit,
    UnknownUnitError,
    children,
    crosswalk_communes,
    crosswalk_provinces,
    district_of,
    find_units,
    get_unit,
    normalize_name,
    parent,
    resolve_unit,
    slugify,
    units_table,
)

HAI_PHONG_DISTRICTS = [
    "303",
    "304",
    "305",
    "306",
    "307",
    "308",
    "309",
    "311",
    "312",
    "313",
    "314",
    "315",
    "316",
    "317",
    "318",
]


# ---------------------------------------------------------------------------------------------
# Registry
# ---------------------------------------------------------------------------------------------


def test_registry_is_loaded_once_per_process() -> None:
    """The registry tables are built once and shared (their load time is in bench/)."""
    from cchc_analysis.units import registry

    registry.package_table.cache_clear()
    first = registry.era_registry(ERA_2025)
    assert registry.era_registry(ERA_2025) is first
    assert units_table(ERA_PRE_2025) is not None


def test_legacy_counts() -> None:
    table = units_table(ERA_PRE_2025)
    counts = table["level"].value_counts().to_dict()
    assert counts == {"province": 63, "district": 696, "commune": 10_035}
    assert list(table.columns) == [
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
    assert not table["code"].duplicated().any()
    widths = table.groupby("level")["code"].agg(lambda s: set(s.str.len()))
    assert widths.to_dict() == {"province": {2}, "district": {3}, "commune": {5}}
    assert (table["era"] == ERA_PRE_2025).all()


def test_2025_counts() -> None:
    table = units_table(ERA_2025)
    assert table["level"].value_counts().to_dict() == {"province": 34, "commune": 3_321}
    assert not table["code"].duplicated().any()
    communes = table[table["level"] == "commune"]
    assert (communes["parent_code"] == communes["province_code"]).all()
    assert set(communes["unit_type"]) == {"Xã", "Phường", "Đặc khu"}


def test_units_table_returns_a_copy() -> None:
    table = units_table()
    table.loc[:, "name"] = "x"
    assert get_unit("314").name == "Huyện Kiến Thụy"
    assert units_table()["name"].iloc[0] != "x"


def test_parents_exist_and_types_agree_with_names() -> None:
    for era in (ERA_PRE_2025, ERA_2025):
        table = units_table(era)
        codes = set(table["code"])
        assert set(table["parent_code"].dropna()) <= codes
        assert table.loc[table["level"] == "province", "parent_code"].isna().all()
        prefixed = table.apply(lambda r: r["name"].startswith(r["unit_type"] + " "), axis=1)
        assert prefixed.all()


def test_unit_types_fixed_from_names() -> None:
    # the package types these as "Xã"; the official names say otherwise
    assert get_unit("15061").unit_type == "Thị trấn"  # Thị trấn Ngọc Lặc
    assert get_unit("27046").unit_type == "Phường"  # Phường 5, Phú Nhuận


def test_hai_phong_districts() -> None:
    districts = children("31")
    assert [u.code for u in districts] == HAI_PHONG_DISTRICTS
    assert all(u.level == "district" and u.parent_code == "31" for u in districts)
    kien_thuy = get_unit("314")
    assert kien_thuy == Unit(
        era="2024",
        level="district",
        code="314",
        name="Huyện Kiến Thụy",
        short_name="Kiến Thụy",
        unit_type="Huyện",
        parent_code="31",
        province_code="31",
    )


def test_kien_thuy_communes() -> None:
    communes = children("314")
    assert len(communes) == 16
    assert [u.code for u in communes] == sorted(u.code for u in communes)
    assert all(u.level == "commune" and u.province_code == "31" for u in communes)
    assert district_of(communes[0].code).code == "314"
    assert district_of("11680").name == "Huyện Kiến Thụy"
    assert parent("11680").code == "314"
    assert parent("314").code == "31"
    assert parent("31") is None


def test_island_district_has_no_communes() -> None:
    assert get_unit("318").name == "Huyện Bạch Long Vĩ"
    assert children("318") == []


def test_2025_hierarchy() -> None:
    hai_phong = get_unit("31", ERA_2025)
    assert hai_phong.name == "Thành phố Hải Phòng"
    communes = children("31", ERA_2025)
    assert communes and all(u.parent_code == "31" for u in communes)
    assert parent("11680", ERA_2025) == hai_phong


def test_codes_are_keyed_by_era() -> None:
    old, new = get_unit("11680", ERA_PRE_2025), get_unit("11680", ERA_2025)
    assert old.name == "Thị trấn Núi Đối"
    assert new.name == "Xã Kiến Thụy"
    assert old != new


def test_get_unit_code_forms() -> None:
    assert get_unit(314).code == "314"
    assert get_unit("1", level="province").name == "Thành phố Hà Nội"
    assert get_unit(1, level="province").code == "01"
    assert get_unit(314, level="district").code == "314"
    assert get_unit(1234).code == "01234"  # commune code that lost its leading zero
    assert get_unit(11296.0).code == "11296"  # from a spreadsheet
    assert get_unit(" 31 ").code == "31"
    with pytest.raises(AmbiguousUnitError) as err:
        get_unit(1)
    assert {u.level for u in err.value.candidates} == {"province", "district", "commune"}


def test_unknown_code() -> None:
    with pytest.raises(UnknownUnitError) as err:
        get_unit("99999")
    assert "99999" in str(err.value) and "2024" in str(err.value)
    assert isinstance(err.value, KeyError) and isinstance(err.value, ValueError)
    with pytest.raises(UnknownUnitError, match="2025"):
        get_unit("314", ERA_2025)  # no districts after 1 July 2025
    with pytest.raises(UnknownUnitError):
        get_unit("314", level="commune")  # 00314 is not a commune
    with pytest.raises(UnknownUnitError):
        get_unit("abc")
    with pytest.raises(ValueError):
        get_unit("31", era="2030")
    with pytest.raises(ValueError):
        get_unit("31", ERA_2025, level="district")


def test_lookups_are_dict_fast() -> None:
    get_unit("314")
    start = time.perf_counter()
    for _ in range(10_000):
        get_unit("11296")
        children("31")
    assert time.perf_counter() - start < 0.5


# ---------------------------------------------------------------------------------------------
# Names
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "Huyện Kiến Thụy",
        "Huyện Kiến Thuỵ",
        "H. Kiến Thuỵ",
        "H.Kiến Thụy",
        "kien thuy",
        "KIẾN THỤY",
        "  Huyện   Kiến  Thụy ",
        "huyen kien thuy",
        unicodedata.normalize("NFD", "Huyện Kiến Thụy"),
        unicodedata.normalize("NFD", "H. Kiến Thuỵ"),
    ],
)
def test_normalize_name_variants(typed: str) -> None:
    assert normalize_name(typed) == "kien thuy"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Thuỵ", "Thụy"),
        ("Hoà Bình", "Hòa Bình"),
        ("Khoá", "Khóa"),
        ("Đắk Lắk", "dak lak"),
        ("Ea H'leo", "Ea Hleo"),
        ("Thừa Thiên-Huế", "Thừa Thiên Huế"),
        ("Phường 01", "Phường 1"),
        ("Q1", "Quận 1"),
    ],
)
def test_normalize_name_equivalences(a: str, b: str) -> None:
    assert normalize_name(a) == normalize_name(b)
    assert normalize_name(unicodedata.normalize("NFD", a)) == normalize_name(b)


@pytest.mark.parametrize(
    "prefix",
    [
        "Tỉnh",
        "Thành phố",
        "TP.",
        "TP",
        "Huyện",
        "H.",
        "Quận",
        "Q.",
        "Thị xã",
        "TX.",
        "Xã",
        "X.",
        "Phường",
        "P.",
        "Thị trấn",
        "TT.",
        "Đặc khu",
    ],
)
def test_normalize_name_strips_prefixes(prefix: str) -> None:
    assert normalize_name(f"{prefix} Kiến Thụy") == "kien thuy"
    assert normalize_name(f"{prefix.lower()} kiến thụy") == "kien thuy"
    assert normalize_name(unicodedata.normalize("NFD", f"{prefix} Kiến Thụy")) == "kien thuy"


def test_normalize_name_edge_cases() -> None:
    assert normalize_name("Thành phố") == "thanh pho"  # nothing would remain
    assert normalize_name("Phường") == "phuong"
    assert normalize_name("Phường 1") == "1"
    assert normalize_name("Phường 10") == "10"
    assert normalize_name("Phường 1") != normalize_name("Phường 10")
    # with diacritics, an unaccented "Quan" is a name syllable, not "Quận"
    assert normalize_name("Huyện Quan Hóa") == "quan hoa"
    assert normalize_name("Quan Hóa") == "quan hoa"
    assert normalize_name("Thị xã Tịnh Biên") == "tinh bien"
    assert normalize_name("") == ""


def test_data_keys_are_nonempty_and_short_names_agree() -> None:
    table = units_table()
    assert (table["name_key"] != "").all()
    assert (table["name_key"] == table["name"].map(normalize_name)).all()
    # short names give the same key except where the name itself starts like a prefix
    differs = table[table["short_name"].map(normalize_name) != table["name_key"]]
    assert set(differs["name"]) <= {"Phường Quan Hoa", "Xã Xa Dung", "Phường Phường Đúc"}


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Huyện Kiến Thụy", "kien-thuy"),
        ("Thành phố Hải Phòng", "hai-phong"),
        ("Tỉnh Đắk Lắk", "dak-lak"),
        ("Thị xã Phú Mỹ", "phu-my"),
        ("Quận 1", "quan-1"),
        ("Phường 10", "phuong-10"),
        ("Huyện Ea H'leo", "ea-hleo"),
        ("Thành phố Phan Rang - Tháp Chàm", "phan-rang-thap-cham"),
    ],
)
def test_slugify(name: str, slug: str) -> None:
    assert slugify(name) == slug
    assert slugify(unicodedata.normalize("NFD", name)) == slug


def test_find_units_kien_thuy() -> None:
    found = find_units("Kiến Thuỵ")
    assert found.iloc[0]["code"] == "314"
    assert found.iloc[0]["era"] == ERA_PRE_2025
    assert found.iloc[0]["score"] == 1.0
    assert found.iloc[0]["parent_name"] == "Thành phố Hải Phòng"
    assert {"score", "parent_name", "name_key", "unit_type"} <= set(found.columns)
    # both eras by default: the 2025 commune "Xã Kiến Thụy" is also an exact match
    exact = found[found["score"] == 1.0]
    assert set(zip(exact["era"], exact["code"], strict=True)) == {
        ("2024", "314"),
        ("2025", "11680"),
    }
    assert found["score"].is_monotonic_decreasing
    assert (found["score"] >= 0.75).all()
    assert len(found) <= 10


def test_find_units_filters_and_fuzzy() -> None:
    found = find_units("Kien Thuyy", era=ERA_PRE_2025, level="district")
    assert found.iloc[0]["code"] == "314"
    assert 0.75 <= found.iloc[0]["score"] < 1.0
    found = find_units("Châu Thành", province_code="82", level="district", era="2024")
    assert list(found.loc[found["score"] == 1.0, "code"]) == ["821"]
    assert find_units("zzzzzz").empty
    assert find_units("").empty


def test_find_units_prefers_typed_prefix_and_diacritics() -> None:
    assert find_units("Thành phố Hà Tĩnh", era="2024").iloc[0]["code"] == "436"
    assert find_units("Tỉnh Hà Tĩnh", era="2024").iloc[0]["code"] == "42"
    assert find_units("Xã Sơn Hạ", era="2025").iloc[0]["code"] == "21292"
    assert find_units("Xã Sơn Hà", era="2025").iloc[0]["code"] == "21289"


def test_resolve_unit_ambiguous() -> None:
    with pytest.raises(AmbiguousUnitError) as err:
        resolve_unit("Huyện Châu Thành")
    message = str(err.value)
    assert len(err.value.candidates) >= 2
    assert all(u.name == "Huyện Châu Thành" for u in err.value.candidates)
    assert "821" in message and "Tỉnh Tiền Giang" in message


def test_resolve_unit_with_province() -> None:
    unit = resolve_unit("Huyện Châu Thành", province_code="82")
    assert (unit.code, unit.province_code) == ("821", "82")
    assert resolve_unit("Châu Thành", province_code=82, level="district").code == "821"


def test_resolve_unit_names_and_codes() -> None:
    assert resolve_unit("H. Kiến Thuỵ").code == "314"
    assert resolve_unit("kien thuy").code == "314"
    assert resolve_unit("Kiến Thụy", era=ERA_2025).code == "11680"
    assert resolve_unit("314").name == "Huyện Kiến Thụy"
    assert resolve_unit(11296).code == "11296"
    assert resolve_unit("Hải Phòng").code == "31"
    assert resolve_unit("Tỉnh Hà Tĩnh").code == "42"
    assert resolve_unit("Hà Tĩnh", level="province").code == "42"
    with pytest.raises(UnknownUnitError):
        resolve_unit("314", province_code="01")
    # the typed prefix decides between a town and a commune of the same name
    assert resolve_unit("TT. Yên Viên", province_code="01").unit_type == "Thị trấn"
    assert resolve_unit("Xã Yên Viên", province_code="01").unit_type == "Xã"
    with pytest.raises(AmbiguousUnitError):
        resolve_unit("Yên Viên", province_code="01")


def test_resolve_unit_tells_apart_names_that_differ_only_in_diacritics() -> None:
    assert resolve_unit("Xã Sơn Hà", province_code="51", era=ERA_2025).code == "21289"
    assert resolve_unit("Sơn Hạ", province_code="51", era=ERA_2025).code == "21292"
    with pytest.raises(AmbiguousUnitError):
        resolve_unit("son ha", province_code="51", era=ERA_2025)


def test_resolve_unit_unknown_lists_suggestions() -> None:
    with pytest.raises(UnknownUnitError) as err:
        resolve_unit("Kiến Thụyy")
    message = str(err.value)
    assert "Kiến Thụyy" in message
    assert "Huyện Kiến Thụy (district 314)" in message
    assert message.count(";") <= 5
    with pytest.raises(UnknownUnitError, match="closest"):
        resolve_unit("Huyện Kiến Thụy", province_code="01")  # exists, but not in Hà Nội
    with pytest.raises(UnknownUnitError, match="no similar"):
        resolve_unit("qqqqqqqqqq")


# ---------------------------------------------------------------------------------------------
# Crosswalks
# ---------------------------------------------------------------------------------------------


def test_crosswalk_provinces() -> None:
    cw = crosswalk_provinces()
    assert list(cw.columns) == ["old_code", "old_name", "new_code", "new_name"]
    assert len(cw) == 63 and cw["old_code"].is_unique
    assert cw["new_code"].nunique() == 34
    assert set(cw["old_code"]) == set(units_table()[lambda t: t["level"] == "province"]["code"])
    hai_phong = cw[cw["new_code"] == "31"]
    assert set(hai_phong["old_code"]) == {"30", "31"}
    assert set(hai_phong["new_name"]) == {"Thành phố Hải Phòng"}
    assert cw.set_index("old_code").loc["01", "new_code"] == "01"


def test_crosswalk_communes() -> None:
    cw = crosswalk_communes()
    assert list(cw.columns) == [
        "old_code",
        "old_name",
        "old_district_code",
        "old_province_code",
        "new_code",
        "new_name",
        "new_province_code",
        "is_divided",
    ]
    legacy_communes = units_table()[lambda t: t["level"] == "commune"]
    assert cw["old_code"].is_unique
    assert set(cw["old_code"]) == set(legacy_communes["code"])
    assert set(cw["new_code"]) <= set(units_table(ERA_2025)["code"])
    assert cw["is_divided"].dtype == bool and 0 < cw["is_divided"].sum() < len(cw)

    # Thị trấn Núi Đối (Kiến Thụy, Hải Phòng) -> Xã Kiến Thụy
    row = cw.set_index("old_code").loc["11680"]
    assert row["old_name"] == "Thị trấn Núi Đối"
    assert (row["old_district_code"], row["old_province_code"]) == ("314", "31")
    assert (row["new_code"], row["new_name"], row["new_province_code"]) == (
        "11680",
        "Xã Kiến Thụy",
        "31",
    )
    assert not row["is_divided"]
    kien_thuy = cw[cw["old_district_code"] == "314"]
    assert len(kien_thuy) == 16 and (kien_thuy["new_province_code"] == "31").all()


def test_crosswalks_agree() -> None:
    provinces = crosswalk_provinces().set_index("old_code")["new_code"]
    communes = crosswalk_communes()
    assert (communes["old_province_code"].map(provinces) == communes["new_province_code"]).all()
    new_units = units_table(ERA_2025).set_index("code")
    assert (
        communes["new_code"].map(new_units["province_code"]) == communes["new_province_code"]
    ).all()


def test_crosswalk_island_districts() -> None:
    cw = crosswalk_communes(include_island_districts=True)
    islands = cw[cw["old_code"].str.len() == 3]
    assert set(islands["old_code"]) == {"318", "471", "498", "536", "755"}
    assert (islands["new_name"].str.startswith("Đặc khu")).all()
    assert len(cw) == len(crosswalk_communes()) + 5
    assert isinstance(cw, pd.DataFrame)


def test_names_use_official_prefix_capitalisation() -> None:
    # the package writes "Thành Phố Bắc Kạn", "Thị Trấn Óc Eo"
    assert get_unit("058").name == "Thành phố Bắc Kạn"
    assert get_unit("30688").name == "Thị trấn Óc Eo"
    row = crosswalk_communes().set_index("old_code").loc["30688"]
    assert row["old_name"] == "Thị trấn Óc Eo"


def test_registry_cache_gives_the_built_registry(tmp_path, monkeypatch) -> None:
    """The records read back from the disk cache are the records built from the package; a
    damaged cache file is built again and rewritten; an unusable cache folder is passed over."""
    from cchc_analysis.units import registry

    monkeypatch.setenv("CCHC_CACHE_DIR", "none")
    built = registry._build_records(ERA_2025)
    registry.era_registry.cache_clear()
    fresh = registry.era_registry(ERA_2025)
    monkeypatch.setenv("CCHC_CACHE_DIR", str(tmp_path))
    for _ in range(2):  # written, then read back
        registry.era_registry.cache_clear()
        cached = registry.era_registry(ERA_2025)
        pd.testing.assert_frame_equal(cached.table, fresh.table)
        assert cached.units == fresh.units and cached.kids == fresh.kids
    (path,) = tmp_path.glob("registry-2025-*.json")
    assert json.loads(path.read_text(encoding="utf-8")) == built
    path.write_text('{"not": "records"', encoding="utf-8")
    registry.era_registry.cache_clear()
    assert registry.era_registry(ERA_2025).units == fresh.units
    assert json.loads(path.read_text(encoding="utf-8")) == built
    registry.era_registry.cache_clear()
    monkeypatch.setenv("CCHC_CACHE_DIR", str(tmp_path / "a-file"))
    (tmp_path / "a-file").write_text("", encoding="utf-8")  # a folder that cannot be made
    assert registry.era_registry(ERA_2025).units == fresh.units
    registry.era_registry.cache_clear()
