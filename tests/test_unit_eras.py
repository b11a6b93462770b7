"""Units keyed by era: a dossier's office read in the registry of its receipt date.

Inputs are shaped like real exports (national field names, "dd/MM/yyyy HH:mm:ss" dates) and
checked at the validation level (``validate_dossiers``: the canonical frame and the problems),
plus ``cchc units find`` and the parts of ``cchc ingest`` that stop before storage.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from ingest_helpers import ingest_cli

from cchc_analysis import cli, units
from cchc_analysis.ingest.account import unit_resolutions
from cchc_analysis.ingest.headers import match_headers
from cchc_analysis.ingest.unit_matching import ResolutionLog
from cchc_analysis.ingest.validate_dossiers import validate_dossiers
from cchc_analysis.units import REFORM_DATE, load_unit_map, resolve_office

TODAY = date(2026, 1, 15)
AUG_2025 = "12/08/2025 08:30:00"
JUN_2025 = "20/06/2025 14:05:10"
MAR_2023 = "03/03/2023 09:00:00"


def _row(dossier_id: str, received: str, *, code: str = "", name: str = "") -> dict:
    """One row of a national-standard export (MaHoSo, MaDonViTiepNhan, DonViXuLy, ...)."""
    day = received.split()[0]
    return {
        "MaHoSo": dossier_id,
        "MaDonViTiepNhan": code,
        "DonViXuLy": name,
        "MaTTHC": "1.001766",
        "NgayTiepNhan": received,
        "NgayHenTra": day.replace(day[:2], "28", 1) + " 17:00:00",
        "TrangThai": "4",
    }


def _validate(records: list[dict], **options) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The canonical rows and the problems (one row per rejected position) of an export."""
    export = pd.DataFrame(records, dtype=object)
    match = match_headers(list(export.columns), "dossiers")
    raw = pd.DataFrame({c: export.iloc[:, p] for c, p in match.columns.items()})
    headers = {c: match.header_of(c) for c in match.columns}
    frame, problems = validate_dossiers(raw, headers, today=TODAY, **options)
    return frame, problems.frame()


def _only(frame: pd.DataFrame) -> pd.Series:
    assert len(frame) == 1, frame
    return frame.iloc[0]


# --- the bug report ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "name", "level"),
    [("11443", "Phường Kiến An", "commune"), ("11680", "Xã Kiến Thụy", "commune")],
)
def test_new_codes_received_in_august_2025_are_new_units(code, name, level):
    frame, problems = _validate([_row("HS-1", AUG_2025, code=code)])
    row = _only(frame)
    assert problems.empty
    assert (row["unit_code"], row["unit_name"], row["era"]) == (code, name, "2025")
    assert row["unit_level"] == level and pd.isna(row["district_code"])
    assert row["province_code"] == "31"


@pytest.mark.parametrize(
    ("code", "name", "district"),
    [("11443", "Phường Trần Thành Ngọ", "307"), ("11680", "Thị trấn Núi Đối", "314")],
)
def test_same_codes_received_in_2023_are_the_old_communes(code, name, district):
    row = _only(_validate([_row("HS-1", MAR_2023, code=code)])[0])
    assert (row["unit_code"], row["unit_name"], row["era"]) == (code, name, "2024")
    assert row["district_code"] == district


def test_typed_commune_name_is_never_the_district():
    row = _only(_validate([_row("HS-1", AUG_2025, name="UBND Xã Kiến Thụy")])[0])
    assert (row["unit_code"], row["era"], row["unit_level"]) == ("11680", "2025", "commune")


def test_new_name_in_june_2025_is_carried_over_to_the_new_unit():
    log = ResolutionLog()
    frame, problems = _validate(
        [
            _row("HS-1", JUN_2025, name="Xã Kiến Thụy"),
            _row("HS-2", JUN_2025, code="11680", name="UBND xã Kiến Thụy"),
            _row("HS-3", JUN_2025, code="11680"),  # code alone: the receipt era decides
        ],
        log=log,
    )
    assert problems.empty
    assert frame["unit_code"].tolist() == ["11680"] * 3
    assert frame["era"].tolist() == ["2025", "2025", "2024"]
    assert frame["unit_name"].tolist()[2] == "Thị trấn Núi Đối"
    assert log.carried_over_count == 2
    section = unit_resolutions([{"unit_resolutions": log.entries(), "carried_over_count": 2}])
    assert section["carried_over_count"] == 2
    carried = section["unit_resolutions"]["carried_over"]
    assert carried["rows"] == 2 and {u["unit_code"] for u in carried["units"]} == {"11680"}


def test_name_beside_the_code_of_another_unit_is_rejected():
    frame, problems = _validate([_row("HS-1", AUG_2025, code="11680", name="Phường Kiến An")])
    assert frame.empty
    found = _only(problems)
    assert found["reason_code"] == "name_contradicts_code"
    assert "Phường Kiến An" in found["reason"] and "Xã Kiến Thụy" in found["reason"]
    assert found["column"] == "MaDonViTiepNhan"


def test_old_name_beside_a_reused_code_after_the_reform_is_rejected():
    _, problems = _validate([_row("HS-1", AUG_2025, code="11680", name="Thị trấn Núi Đối")])
    assert _only(problems)["reason_code"] == "name_contradicts_code"


def test_bare_name_of_district_and_its_township_means_the_district():
    log = ResolutionLog()
    frame, problems = _validate(
        [_row("HS-1", MAR_2023, name="An Lão"), _row("HS-2", MAR_2023, name="Thị trấn An Lão")],
        province="31",
        log=log,
    )
    assert problems.empty
    assert frame["unit_code"].tolist() == ["313", "11629"]
    assert frame["unit_level"].tolist() == ["district", "commune"]
    (entry,) = [e for e in log.entries() if e["rule"] == "township_rule"]
    assert entry["unit_code"] == "313" and entry["rows"] == 1
    assert "Thị trấn An Lão (11629)" in entry["detail"]


def test_district_after_the_reform_is_rejected():
    frame, problems = _validate(
        [
            _row("HS-1", AUG_2025, code="314"),
            _row("HS-2", AUG_2025, name="UBND huyện Kiến Thụy"),
        ]
    )
    assert frame.empty
    assert problems["reason_code"].tolist() == ["district_after_reform"] * 2
    assert all("districts were abolished" in reason for reason in problems["reason"])


def test_codes_the_era_lacks_are_rejected_with_the_new_unit_as_hint():
    _, problems = _validate([_row("HS-1", AUG_2025, code="11434")])  # Phường Bắc Sơn (old)
    found = _only(problems)
    assert found["reason_code"] == "code_not_in_era"
    assert "Phường Bắc Sơn" in found["reason"] and "Phường Kiến An" in found["reason"]
    _, problems = _validate([_row("HS-2", AUG_2025, name="Thị trấn Núi Đối")])
    assert _only(problems)["reason_code"] == "unit_not_in_era"


def test_province_code_and_province_offices_are_the_province_tier():
    frame, problems = _validate(
        [
            _row("HS-1", AUG_2025, code="31"),
            _row("HS-2", AUG_2025, name="Sở Tư pháp"),
            _row("HS-3", AUG_2025, name="Trung tâm Phục vụ hành chính công thành phố Hải Phòng"),
            _row("HS-4", MAR_2023, name="Sở Tư pháp thành phố Hải Phòng"),
        ],
        province="31",
    )
    assert problems.empty
    assert frame["unit_level"].tolist() == ["province"] * 4
    assert frame["unit_code"].tolist() == ["31"] * 4
    assert frame["era"].tolist() == ["2025", "2025", "2025", "2024"]
    _, problems = _validate([_row("HS-5", AUG_2025, code="30")])  # Hải Dương, merged away
    assert _only(problems)["reason_code"] == "code_not_in_era"
    _, problems = _validate([_row("HS-6", AUG_2025, name="Sở Tư pháp")])  # which province?
    assert _only(problems)["reason_code"] == "ambiguous_unit"


def test_unreadable_receipt_date_rejects_for_the_date_not_the_unit():
    _, problems = _validate([_row("HS-1", "31/02/2025 08:00:00", code="11680")])
    assert _only(problems)["reason_code"] == "impossible_date"


# --- the resolution function -----------------------------------------------------------------


def test_resolve_office_says_how():
    found = resolve_office("11680", None, received=date(2025, 8, 1))
    assert (found.unit.era, found.how, found.is_carried_over) == ("2025", "code", False)
    found = resolve_office(None, "Kiến Thụy", received=date(2023, 1, 5), province="31")
    assert (found.unit.code, found.how) == ("314", "name")
    found = resolve_office(None, "An Lão", received=date(2023, 1, 5), province="31")
    assert (found.unit.code, found.how, found.passed_over.code) == ("313", "township_rule", "11629")
    # an export made before the reform cannot name a new unit
    found = resolve_office(
        None, "Xã Kiến Thụy", received=date(2025, 6, 2), export_date=date(2025, 6, 30)
    )
    assert found.unit is None and found.reason == "unit_not_in_era"


def test_type_words_are_honoured_by_resolve_unit():
    with pytest.raises(units.UnknownUnitError):
        units.resolve_unit("Xã Kiến Thụy", era="2024")
    # without diacritics "quan" may be a name's first syllable, not the type word Quận
    assert units.resolve_unit("quan hoa", province_code="38", era="2024").name == "Huyện Quan Hóa"


# --- the unit map -----------------------------------------------------------------------------


def _unit_map(tmp_path, text: str):
    path = tmp_path / "unit_map.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_unit_map_settles_a_system_spelling(tmp_path):
    path = _unit_map(
        tmp_path,
        "name,code,era\nBP một cửa xã K.Thụy,11680,2025\nBP một cửa huyện K.Thụy,314,2024\n",
    )
    spellings = load_unit_map(path)
    log = ResolutionLog()
    frame, problems = _validate(
        [
            _row("HS-1", AUG_2025, name="BP một cửa xã K.Thụy"),
            _row("HS-2", AUG_2025, name="bp  một cửa xã k.thụy"),  # case and spacing folded
            _row("HS-3", MAR_2023, name="BP một cửa huyện K.Thụy"),
            _row("HS-4", JUN_2025, name="BP một cửa xã K.Thụy"),  # carried over
            _row("HS-5", AUG_2025, name="BP một cửa huyện K.Thụy"),  # the district is gone
        ],
        unit_map=spellings,
        log=log,
    )
    assert frame["unit_code"].tolist() == ["11680", "11680", "314", "11680"]
    assert frame["era"].tolist() == ["2025", "2025", "2024", "2025"]
    assert _only(problems)["reason_code"] == "district_after_reform"
    rules = {(e["rule"], e["unit_code"]): e["rows"] for e in log.entries()}
    assert rules[("unit_map", "11680")] == 3 and rules[("unit_map", "314")] == 1
    assert rules[("carried_over", "11680")] == 1


def test_unit_map_without_era_reads_the_code_in_the_receipt_era(tmp_path):
    spellings = load_unit_map(_unit_map(tmp_path, "tên,mã\nBP một cửa K.Thụy,11680\n"))
    frame, _ = _validate(
        [
            _row("HS-1", AUG_2025, name="BP một cửa K.Thụy"),
            _row("HS-2", MAR_2023, name="BP một cửa K.Thụy"),
        ],
        unit_map=spellings,
    )
    assert frame["unit_name"].tolist() == ["Xã Kiến Thụy", "Thị trấn Núi Đối"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name,code\nBP xã A,99999\n", "line 2: the code is not a unit code of either era"),
        ("name,code,era\nBP xã A,314,2025\n", "line 2: the code is not a unit code of era 2025"),
        ("name,code,era\nBP xã A,11680,2026\n", "line 2: the era must be 2024 or 2025"),
        ("name,code\nBP xã A,11680\nbp xã a,11443\n", "line 3: the name is already mapped"),
        ("ten_cot,ma_cot\nBP xã A,11680\n", "found: ten_cot | ma_cot"),
    ],
)
def test_unit_map_is_checked_on_load(tmp_path, capsys, text, message):
    path = _unit_map(tmp_path, text)
    export = tmp_path / "export.csv"
    pd.DataFrame([_row("HS-1", MAR_2023, code="314")]).to_csv(export, index=False)
    out = tmp_path / "out"
    code, stdout, stderr = ingest_cli(
        capsys, export, "--kind", "dossiers", "--out", out, "--unit-map", path
    )
    assert code == 2, stdout
    (line,) = stderr.strip().splitlines()
    assert str(path) in line and message in line
    assert "BP xã A" not in line  # only the header is ever echoed
    assert not out.exists()


def test_ingest_report_lists_township_rule_and_unit_map(tmp_path, capsys):
    """Pre-2025 rows only: those reach storage as before."""
    path = _unit_map(tmp_path, "name,code,era\nBP một cửa huyện K.Thụy,314,2024\n")
    export = tmp_path / "export.csv"
    records = [
        _row("HS-1", MAR_2023, name="An Lão"),
        _row("HS-2", MAR_2023, name="An Lão"),
        _row("HS-3", MAR_2023, name="BP một cửa huyện K.Thụy"),
    ]
    pd.DataFrame(records).to_csv(export, index=False)
    out = tmp_path / "out"
    code, stdout, stderr = ingest_cli(
        capsys, export, "--kind", "dossiers", "--out", out, "--province", "31", "--unit-map", path
    )
    assert code == 0, stderr
    assert "units by township rule: 2 rows at 1 unit(s)" in stdout
    import json

    report = json.loads((out / "ingest_report.json").read_text(encoding="utf-8"))
    section = report["unit_resolutions"]
    assert section["township_rule"]["units"][0]["unit_code"] == "313"
    assert section["township_rule"]["rows"] == 2
    assert section["unit_map"]["units"][0]["detail"] == "unit map line 2"
    assert report["carried_over_count"] == 0
    assert report["options"]["unit_map"] == str(path)


# --- cchc units find agrees with ingest --------------------------------------------------------


def test_units_find_agrees_with_ingest(capsys):
    assert cli.main(["units", "find", "Kiến Thụy", "--province", "31", "--on", "2025-08-01"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].split()[0] == "11680"
    assert lines[-1].startswith("received on 2025-08-01: Xã Kiến Thụy (commune 11680")
    row = _only(
        _validate([_row("HS-1", "01/08/2025 10:00:00", name="Kiến Thụy")], province="31")[0]
    )
    assert row["unit_code"] == "11680" and row["era"] == "2025"

    assert cli.main(["units", "find", "An Lão", "--province", "31"]) == 0
    out = capsys.readouterr().out
    assert "received before 1 July 2025: Huyện An Lão (district 313" in out
    assert "[township_rule]" in out
    assert "received from 1 July 2025: Xã An Lão (commune 11629" in out


def test_units_find_rejects_a_bad_date(capsys):
    assert cli.main(["units", "find", "Kiến Thụy", "--on", "1/8/2025"]) == 2
    assert "--on" in capsys.readouterr().err
    assert date(2025, 7, 1) == REFORM_DATE


def test_unit_map_name_beside_another_code_is_rejected(tmp_path):
    spellings = load_unit_map(_unit_map(tmp_path, "name,code,era\nBP xã K.Thụy,11680,2025\n"))
    _, problems = _validate(
        [
            _row("HS-1", AUG_2025, code="11443", name="BP xã K.Thụy"),
            _row("HS-2", AUG_2025, code="314", name="BP xã K.Thụy"),
        ],
        unit_map=spellings,
    )
    assert problems["reason_code"].tolist() == ["name_contradicts_code"] * 2
    assert "unit map line 2" in problems["reason"].iloc[0]
