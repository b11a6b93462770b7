"""The demo across the 1 July 2025 reform: old Hải Dương, the new communes, the export date,
and the two figures published after the reform, checked through the real counting path.

Old Hải Dương's 12 districts are generated (with its own offices and the new communes over
them): the whole new Hải Phòng is left to bench/bench_synth.py.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import run_cchc

from cchc_analysis import units
from cchc_analysis.core.periods import parse_period
from cchc_analysis.counting import CountQuery, kpis
from cchc_analysis.counting.cube import period_counts
from cchc_analysis.demo import reform, synth
from cchc_analysis.demo.catalogue import province_districts
from cchc_analysis.store.dossiers import write_dossiers

AN = synth.DUONG_AN
HD = synth.HAI_DUONG_2023
HOME_OF_AN = "296"  # Bình Giang: Tân Hồng, Thúc Kháng and Thái Dương became Xã Đường An
EXPORT = pd.Timestamp(synth.DEMO_END)
REFORM = pd.Timestamp(synth.NEW_ERA_START)
# beside the repository (the main checkout, or a worktree one level deeper)
REFERENCE = next(
    (p / "shared/reference" for p in Path(__file__).resolve().parents[1:4]
     if (p / "shared/reference").is_dir()),
    Path("shared/reference"),
)  # fmt: skip


@pytest.fixture(scope="module")
def hai_duong() -> pd.DataFrame:
    """Old Hải Dương: its districts, its own offices, the new communes over it."""
    return synth.generate_dossiers(district_codes=province_districts(synth.MERGED_PROVINCE_CODE))


def over(frame: pd.DataFrame, district: str) -> np.ndarray:
    """Rows of an old district and of the new communes whose home it is."""
    homes = reform.home_districts()
    old = frame["district_code"].eq(district).fillna(False)
    new = (frame["era"] == units.ERA_2025) & frame["unit_code"].map(homes).eq(district).fillna(
        False
    )
    return (old | new).to_numpy(dtype=bool)


@pytest.fixture(scope="module")
def an_folder(hai_duong, tmp_path_factory) -> Path:
    """A data folder with Bình Giang and the new communes over it (Xã Đường An among them)."""
    out = tmp_path_factory.mktemp("reform") / "data"
    write_dossiers(hai_duong[over(hai_duong, HOME_OF_AN)], out)
    return out


# --- the published figures ----------------------------------------------------------------------


def test_targets_are_the_published_ones():
    path = REFERENCE / "published_figures_reform.csv"
    if not path.exists():
        pytest.skip(f"{path} not beside the repository")
    with path.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:
        if row["unit_code"] == AN.unit_code:
            assert (row["period_start"], row["period_end"]) == (str(AN.start), str(AN.end))
            if row["metric"] in AN.counts():
                assert AN.counts()[row["metric"]] == int(row["value"])
        else:
            assert row["unit_code"] == HD.province_code
            assert (row["period_start"], row["period_end"]) == (str(HD.start), str(HD.end))
            assert float(row["value"]) == HD.within_deadline_rate
    assert AN.resolved_on_time_count == 11


def test_duong_an_exact_through_kpi_table(an_folder):
    period = parse_period(f"{AN.start}:{AN.end}")
    query = CountQuery(period, level="commune", era=units.ERA_2025, unit_codes=[AN.unit_code])
    [row] = kpis.kpi_records(kpis.kpi_table(an_folder, query))
    assert {name: row[name] for name in AN.counts()} == AN.counts()
    assert row["resolved_on_time_count"] == 11
    assert round(row["within_deadline_rate"], 3) == 0.998
    assert row["carried_over_count"] >= 0  # its old communes' stock on 30 June counts too


def test_duong_an_exact_through_cchc_kpis(an_folder):
    proc = run_cchc(
        "kpis", "--data", str(an_folder), "--period", f"{AN.start}:{AN.end}",
        "--level", "commune", "--unit", AN.unit_code, "--format", "json",
    )  # fmt: skip
    [row] = json.loads(proc.stdout)
    assert {name: row[name] for name in AN.counts()} == AN.counts()


def test_duong_an_counts_its_old_communes_carried_over(hai_duong):
    """The old communes' dossiers open on 30 June 2025 close after the reform and count for
    Đường An: its own rows alone resolve fewer than the published total."""
    walk = units.crosswalk_communes()
    old_codes = set(walk.loc[walk["new_code"] == AN.unit_code, "old_code"])
    assert old_codes == {"10969", "10972", "10990"}
    period = parse_period(f"{AN.start}:{AN.end}")
    old = hai_duong[
        (hai_duong["era"] == units.ERA_PRE_2025) & hai_duong["unit_code"].isin(old_codes)
    ]
    carried = period_counts(old, period, by=()).iloc[0]
    assert carried["carried_over_count"] > 0
    own = hai_duong[(hai_duong["era"] == units.ERA_2025) & (hai_duong["unit_code"] == AN.unit_code)]
    mine = period_counts(own, period, by=()).iloc[0]
    assert mine["received_new_count"] == AN.received_new_count
    assert mine["resolved_total_count"] + carried["resolved_total_count"] == AN.resolved_total_count


def test_hai_duong_within_deadline_rate(hai_duong):
    """All tiers of old Hải Dương (its offices, its districts' offices, its communes)."""
    rows = hai_duong[(hai_duong["province_code"] == HD.province_code).to_numpy()]
    assert set(rows["unit_level"]) == {"province", "district", "commune"}
    assert set(rows["era"]) == {units.ERA_PRE_2025}
    got = period_counts(rows, parse_period(f"{HD.start}:{HD.end}"), by=()).iloc[0]
    within = got["resolved_early_count"] + got["resolved_on_time_count"]
    assert round(within / got["resolved_total_count"], HD.decimals) == HD.within_deadline_rate
    # The districts are as drawn; only the offices were nudged, and the districts differ.
    by_district = period_counts(rows, parse_period(f"{HD.start}:{HD.end}"), by=("district_code",))
    late = by_district["resolved_late_count"] / by_district["resolved_total_count"]
    assert late.max() > 3 * late.min()


def test_kien_thuy_still_exact(hai_duong):
    both = synth.generate_dossiers(district_codes=["314", HOME_OF_AN])
    for target in synth.CALIBRATION:
        rows = both[target.selects(both).to_numpy()]
        got = period_counts(rows, parse_period(target.period), by=())
        assert {k: got.iloc[0][k] for k in target.counts()} == target.counts()
    # and Bình Giang's rows there are those of the Hải Dương run
    a = both[over(both, HOME_OF_AN)].reset_index(drop=True)
    b = hai_duong[over(hai_duong, HOME_OF_AN)].reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)


# --- the two eras -------------------------------------------------------------------------------


def test_same_seed_same_rows(hai_duong):
    again = synth.generate_dossiers(district_codes=[HOME_OF_AN])
    pd.testing.assert_frame_equal(
        again.reset_index(drop=True), hai_duong[over(hai_duong, HOME_OF_AN)].reset_index(drop=True)
    )


def test_every_new_commune_of_hai_phong_has_a_home_and_a_volume():
    registry = units.units_table(units.ERA_2025)
    new = registry[(registry["province_code"] == "31") & (registry["level"] == "commune")]
    assert len(new) == 114
    homes = reform.home_districts()
    assert set(homes) == set(new["code"])
    assert set(homes.values()) <= set(province_districts("30")) | set(province_districts("31"))
    for district in sorted(set(homes.values())):
        infos, volume = reform.new_commune_units(synth.DEFAULT_SEED, district)
        assert (volume > 0).all(), district
        assert {u.code for u in infos} == {c for c, h in homes.items() if h == district}


def test_new_communes_have_data_after_the_reform(hai_duong):
    new = hai_duong[(hai_duong["era"] == units.ERA_2025).to_numpy()]
    homes = reform.home_districts()
    expected = {c for c, h in homes.items() if h in province_districts("30")}
    assert set(new["unit_code"]) == expected
    assert set(new["unit_level"]) == {"commune"}
    assert set(new["province_code"]) == {"31"}
    assert new["district_code"].isna().all()
    months = new.groupby("unit_code")["received_at"].agg(["min", "max"])
    assert (months["min"] < REFORM + pd.Timedelta(days=7)).all()
    assert (months["max"] > EXPORT - pd.Timedelta(days=7)).all()
    # a higher online share than the old communes had just before the reform
    old = hai_duong[(hai_duong["era"] == units.ERA_PRE_2025).to_numpy()]
    h1 = period_counts(old, parse_period("2025-H1"), by=()).iloc[0]
    q4 = period_counts(new, parse_period("2025-Q4"), by=()).iloc[0]
    share_before = h1["received_online_count"] / h1["received_new_count"]
    share_after = q4["received_online_count"] / q4["received_new_count"]
    assert 0.75 < share_after < 0.95
    assert share_after > share_before


def test_eras_split_on_the_reform_and_nothing_closes_after_the_export(hai_duong):
    era = hai_duong["era"]
    received = hai_duong["received_at"]
    assert (received[era == units.ERA_2025] >= REFORM).all()
    assert (received[era == units.ERA_PRE_2025] < REFORM).all()
    for column in ("received_at", "resolved_at", "returned_at"):
        assert hai_duong[column].max() <= EXPORT
    # Old dossiers open on 30 June 2025 close after the reform under their old unit.
    old = hai_duong[(era == units.ERA_PRE_2025).to_numpy()]
    assert (old["resolved_at"] >= REFORM).sum() > 0
    status = hai_duong["status"].astype(str)
    open_rows = hai_duong["resolved_at"].isna()
    assert status[open_rows].isin(["received", "processing", "supplement_requested"]).all()
    assert (status[open_rows] == "received").any()  # the last days' dossiers


def test_province_offices_of_hai_duong(hai_duong):
    offices = hai_duong[(hai_duong["unit_level"] == "province").to_numpy()]
    assert set(offices["unit_code"]) == {"30"}
    assert set(offices["era"]) == {units.ERA_PRE_2025}
    assert offices["district_code"].isna().all()
    fields = {p.code: p.level for p in synth.PROCEDURES}
    assert {fields[c] for c in offices["procedure_code"].unique()} == {"province"}
