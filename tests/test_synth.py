"""The demo generator: exact calibration, determinism, consistent rows, realistic patterns.

Only Kiến Thụy (314, calibrated) and Cát Hải (317, one of the worse districts) are generated,
with the new communes over them after the reform: the whole province is left to
bench/bench_synth.py, and the figures published after the reform to tests/test_demo_reform.py.
"""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cchc_analysis import units
from cchc_analysis.core.periods import parse_period
from cchc_analysis.core.schema import (
    CATEGORY_VALUES,
    DOSSIER_DTYPES,
    SURVEY_COLUMNS,
    SURVEY_ITEM_COLUMNS,
    SURVEY_SCORE_MAX,
    SURVEY_SCORE_MIN,
)
from cchc_analysis.core.workdays import add_working_days, holiday_dates
from cchc_analysis.counting.cube import period_counts
from cchc_analysis.demo import reform, synth
from cchc_analysis.store.dossiers import read_dossiers
from cchc_analysis.store.folder import SURVEY_FILE, read_dataset_info, read_table

KT = "314"  # Kiến Thụy: calibrated
WORSE = "317"  # Cát Hải: designated worse on timeliness
EXPORT = pd.Timestamp(synth.DEMO_END)
PUBLISHED_CSV = Path(__file__).resolve().parents[2] / "shared/reference/published_figures.csv"


@pytest.fixture(scope="module")
def kt() -> pd.DataFrame:
    return synth.generate_dossiers(district_codes=[KT])


@pytest.fixture(scope="module")
def two() -> pd.DataFrame:
    return synth.generate_dossiers(district_codes=[WORSE, KT])


def in_district(frame: pd.DataFrame, code: str) -> np.ndarray:
    """Rows of an old district (before the reform)."""
    return frame["district_code"].eq(code).fillna(False).to_numpy(dtype=bool)


def over_district(frame: pd.DataFrame, code: str) -> np.ndarray:
    """Rows of an old district and of the new communes whose home it is."""
    homes = reform.home_districts()
    new = (frame["era"] == "2025") & frame["unit_code"].map(homes).eq(code).fillna(False)
    return in_district(frame, code) | new.to_numpy(dtype=bool)


def assert_same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    """Equal columns, dtypes and values (missing equals missing); quicker than pandas' own."""
    assert list(a.columns) == list(b.columns)
    assert len(a) == len(b)
    for column in a.columns:
        assert a[column].dtype == b[column].dtype, column
        assert a[column].reset_index(drop=True).equals(b[column].reset_index(drop=True)), column


def tier(frame: pd.DataFrame, target: synth.CalibrationTarget) -> pd.DataFrame:
    return frame[target.selects(frame).to_numpy()]


def quarter_counts(frame: pd.DataFrame, target: synth.CalibrationTarget) -> pd.Series:
    return period_counts(tier(frame, target), parse_period(target.period), by=()).iloc[0]


# --- calibration --------------------------------------------------------------------------------


def test_calibration_values_are_the_published_ones():
    offices, communes = synth.CALIBRATION
    assert (offices.unit_level, offices.district_code) == ("district", KT)
    assert offices.period == communes.period == "2023-Q3"
    assert offices.received_new_count == 1463
    assert offices.carried_over_count == 10
    assert offices.received_total_count == 1473
    assert offices.resolved_within_deadline_count == 1465
    assert offices.resolved_late_count == 3
    assert offices.pending_total_count == 5
    assert offices.received_online_count == 1462
    assert offices.online_partial_count == 553
    assert offices.online_full_count == 909
    assert (communes.unit_level, communes.district_code) == ("commune", KT)
    assert communes.received_total_count == 19497
    assert communes.resolved_within_deadline_count == 19486
    assert communes.resolved_late_count == 9
    assert communes.pending_total_count == 2
    assert communes.received_online_count == 18762
    assert communes.online_partial_count == 16509
    assert communes.online_full_count == 2253


def test_calibration_matches_the_reference_csv():
    if not PUBLISHED_CSV.exists():
        pytest.skip(f"{PUBLISHED_CSV} not beside the repository")
    with PUBLISHED_CSV.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert rows
    for row in rows:
        target = next(t for t in synth.CALIBRATION if t.unit_level == row["unit_level"])
        assert row["period_start"] == parse_period(target.period).start.isoformat()
        metric, value = row["metric"], float(row["value"])
        if metric in target.published_rates:
            assert target.published_rates[metric] == value
        else:
            assert getattr(target, metric) == value, metric


@pytest.mark.parametrize("target", synth.CALIBRATION, ids=lambda t: t.unit_level)
def test_calibration_exact(kt, target):
    got = quarter_counts(kt, target)
    for name, value in target.counts().items():
        assert got[name] == value, name
    within = got["resolved_early_count"] + got["resolved_on_time_count"]
    assert within == target.resolved_within_deadline_count
    assert got["received_offline_count"] == target.received_new_count - target.received_online_count
    total = got["received_total_count"]
    assert round(within / total, 4) == target.published_rates["within_deadline_of_received_rate"]
    assert round(got["received_online_count"] / total, 4) == target.published_rates["online_rate"]
    assert round(target.within_deadline_of_received_rate, 4) == round(within / total, 4)


def test_calibration_exact_for_another_seed_and_in_a_bigger_run(two):
    other = synth.generate_dossiers(seed=7, district_codes=[KT])
    for frame in (other, two):
        for target in synth.CALIBRATION:
            got = quarter_counts(frame, target)
            assert {k: got[k] for k in target.counts()} == target.counts()


def test_calibration_touches_only_its_quarter(kt):
    """Without the final nudges the same model gives the same rows outside the quarter, but for
    a few closing dates moved across the quarter's first day (the carried-over count)."""
    natural = synth.generate_dossiers(district_codes=[KT], calibrate=False)
    start, end = (pd.Timestamp(d) for d in (date(2023, 7, 1), date(2023, 9, 30)))

    def outside(frame):
        keep = ~frame["received_at"].between(start, end)
        return frame[keep.to_numpy()].set_index("dossier_id").sort_index()

    a, b = outside(kt), outside(natural)
    assert a.index.equals(b.index)
    same = (a == b).fillna(False) | (a.isna() & b.isna())
    changed = ~same.all(axis=1)
    assert changed.sum() <= 25
    # What changed is a closing date (and what follows from it) of a dossier received before the
    # quarter that is carried over into it in one version and not in the other.
    moved = changed[changed].index
    assert set(same.columns[~same.loc[moved].all(axis=0)]) <= {
        "resolved_at",
        "returned_at",
        "status",
        "rating",
        "has_e_result",
    }
    assert (a.loc[moved, "received_at"] < start).all()
    carried = (a.loc[moved, "resolved_at"] >= start) | (b.loc[moved, "resolved_at"] >= start)
    assert carried.all()
    # The calibrated quarter itself stays close to the model's own draw.
    for target in synth.CALIBRATION:
        got = quarter_counts(natural, target)
        assert abs(got["received_new_count"] / target.received_new_count - 1) < 0.06
        share = got["received_online_count"] / got["received_new_count"]
        assert abs(share - target.received_online_count / target.received_new_count) < 0.02


# --- determinism --------------------------------------------------------------------------------


def test_same_seed_same_frame(kt):
    assert_same(synth.generate_dossiers(district_codes=[KT]), kt)


def test_subset_equals_the_same_districts_of_a_bigger_run(kt, two):
    assert_same(two[over_district(two, KT)], kt)
    assert len(kt) > in_district(kt, KT).sum() > 0  # the new communes over Kiến Thụy too


def test_other_seed_other_frame(kt):
    other = synth.generate_dossiers(seed=synth.DEFAULT_SEED + 1, district_codes=[KT])
    assert len(other) != len(kt) or not other["received_at"].equals(kt["received_at"])


def test_unknown_district_is_refused():
    with pytest.raises(ValueError, match="not districts"):
        synth.generate_dossiers(district_codes=["001"])


# --- consistency --------------------------------------------------------------------------------


def test_schema_and_categories(two):
    assert list(two.columns) == list(DOSSIER_DTYPES)
    for column, dtype in DOSSIER_DTYPES.items():
        assert str(two[column].dtype) == str(pd.Series([], dtype=dtype).dtype), column
    for column, values in CATEGORY_VALUES.items():
        assert list(two[column].cat.categories) == list(values)
    for column in ("channel", "online_level", "status"):
        assert two[column].notna().all()
    assert two["dossier_id"].is_unique
    assert not {"applicant_name", "id_number", "phone", "address"} & set(two.columns)


def test_dates_are_ordered_and_before_the_export(two):
    received, due = two["received_at"], two["due_at"]
    resolved, returned = two["resolved_at"], two["returned_at"]
    assert received.notna().all() and due.notna().all()
    assert (due >= received).all()
    assert (resolved.dropna() >= received[resolved.notna()]).all()
    assert (returned.dropna() >= resolved[returned.notna()]).all()
    assert returned.isna()[resolved.isna()].all()
    for column in ("received_at", "resolved_at", "returned_at"):
        assert two[column].max() <= EXPORT
    for column in ("received_at", "due_at", "resolved_at", "returned_at"):
        values = two[column].dropna()
        assert (values == values.dt.normalize()).all()
    # Received before the window only when still open on its first day.
    early = two["received_at"] < pd.Timestamp(synth.DEMO_START)
    assert early.any()
    still_open = two["resolved_at"].isna() | (two["resolved_at"] >= pd.Timestamp(synth.DEMO_START))
    assert still_open[early].all()
    assert two["received_at"].min() >= pd.Timestamp(synth.DEMO_START) - pd.Timedelta(days=365)


def test_statuses_agree_with_dates(two):
    status = two["status"].astype(str)
    resolved, returned = two["resolved_at"].notna(), two["returned_at"].notna()
    assert (returned == (status == "returned")).all()
    assert resolved[status.isin(["resolved", "returned", "withdrawn", "rejected"])].all()
    assert (~resolved[status.isin(["received", "processing", "supplement_requested"])]).all()
    assert status[~resolved].isin(["received", "processing", "supplement_requested"]).all()
    # Open at the export are only the recent or the long-running ones, all still pending.
    assert (~resolved).sum() > 0
    # Every status but those of the national list the demo does not draw (never received,
    # stopped).
    national_only = {"awaiting_intake", "refused", "stopped"}
    assert set(status.unique()) == set(CATEGORY_VALUES["status"]) - national_only


def test_flags_agree_with_channels_and_outcomes(two):
    channel, level = two["channel"].astype(str), two["online_level"].astype(str)
    status = two["status"].astype(str)
    assert ((level == "none") == (channel != "online")).all()
    with_result = status.isin(["resolved", "returned"])
    assert not two["has_e_result"][~with_result].any()
    assert two["has_e_result"][with_result & (level == "full")].mean() > 0.8
    assert two["rating"][~with_result].isna().all()
    assert (two["is_fee_bearing"] | ~two["is_paid_online"]).all()
    for column in ("is_digitized", "has_e_result", "is_fee_bearing", "is_paid_online"):
        assert two[column].notna().all()


def test_units_and_procedures_come_from_the_registry_and_catalogue(two):
    for code in (KT, WORSE):
        part = two[in_district(two, code)]
        district = units.get_unit(code)
        offices = part[(part["unit_level"] == "district").to_numpy()]
        assert set(offices["unit_code"]) == {code}
        assert set(offices["unit_name"]) == {district.name}
        communes = part[(part["unit_level"] == "commune").to_numpy()]
        expected = {u.code: u.name for u in units.children(code)}
        names = communes.drop_duplicates("unit_code").set_index("unit_code")["unit_name"]
        assert names.to_dict() == expected
    catalogue = {(p.code, p.level): p for p in synth.PROCEDURES}
    old = two[(two["era"] == "2024").to_numpy()]
    pairs = old[["procedure_code", "unit_level"]].drop_duplicates()
    assert {tuple(r) for r in pairs.to_numpy()} <= set(catalogue)
    # After the reform a commune also receives the former district offices' procedures.
    new = two[(two["era"] == "2025").to_numpy()]
    by_code = {p.code: p for p in synth.PROCEDURES}
    assert len(by_code) == len(synth.PROCEDURES)
    levels = {by_code[c].level for c in new["procedure_code"].unique()}
    assert levels == {"district", "commune"}
    assert 6 <= two["field"].nunique() <= 10
    assert set(two["field"]) <= set(synth.FIELDS)
    # due = received + the procedure's deadline in working days
    sample = two.sample(20_000, random_state=0)
    deadline = [by_code[c].deadline_days for c in sample["procedure_code"]]
    due = add_working_days(sample["received_at"], deadline)
    assert (due == sample["due_at"].to_numpy().astype("datetime64[D]")).all()


def test_received_on_working_days_and_a_few_saturdays(two):
    days = two["received_at"]
    weekday = days.dt.day_of_week
    assert (weekday != 6).all()
    assert 0 < (weekday == 5).mean() < 0.01
    holidays = {pd.Timestamp(d) for d in holiday_dates()}
    assert not days.isin(holidays).any()


# --- realism ------------------------------------------------------------------------------------


def counts_by(frame: pd.DataFrame, period: str, by=()) -> pd.DataFrame:
    return period_counts(frame, parse_period(period), by=by)


def test_online_share_rises(kt, two):
    for frame in (kt, two):
        early = counts_by(frame, "2022-H2").iloc[0]
        late = counts_by(frame, "2025-H1").iloc[0]
        share_early = early["received_online_count"] / early["received_new_count"]
        share_late = late["received_online_count"] / late["received_new_count"]
        assert share_early < 0.85
        assert share_late > 0.95
        assert share_late > share_early + 0.1


def test_tet_month_below_its_neighbours(kt):
    monthly = kt.groupby(kt["received_at"].dt.to_period("M")).size()
    tet_months = (("2023-01", "2022-12", "2023-02"), ("2024-02", "2024-01", "2024-03"))
    for tet, before, after in tet_months:
        assert monthly[tet] < 0.9 * monthly[before]
        assert monthly[tet] < 0.9 * monthly[after]
    # and the year-end peak
    assert monthly["2023-12"] > monthly["2023-09"]


def test_volumes_in_the_published_scale(kt):
    offices = kt[(kt["unit_code"] == KT).to_numpy()]
    communes = kt[(kt["unit_level"] == "commune").to_numpy()]
    for quarter in ("2022-Q4", "2023-Q2", "2024-Q3", "2025-Q2"):
        new_offices = counts_by(offices, quarter).iloc[0]["received_new_count"]
        new_communes = counts_by(communes, quarter).iloc[0]["received_new_count"]
        assert 1000 < new_offices < 2000
        assert 14_000 < new_communes < 25_000


def test_worse_district_is_clearly_worse(two):
    totals = counts_by(two, "2022-07-01:2025-06-30", by=("district_code",)).set_index(
        "district_code"
    )
    late = totals["resolved_late_count"] / totals["resolved_total_count"]
    assert WORSE in synth.WORSE_DISTRICTS and KT not in synth.WORSE_DISTRICTS
    assert late[KT] < 0.01
    assert 0.03 < late[WORSE] < 0.10
    assert late[WORSE] > 4 * late[KT]
    satisfied = totals["satisfied_count"] / totals["rated_count"]
    assert satisfied[WORSE] < satisfied[KT]


def test_first_quarter_has_carried_over_dossiers(two):
    got = counts_by(two, "2022-Q3", by=("unit_level",)).set_index("unit_level")
    assert (got["carried_over_count"] > 0).all()


def test_processing_times_have_a_long_tail(two):
    resolved = two[two["status"].astype(str).isin(["resolved", "returned"]).to_numpy()]
    taken = (resolved["resolved_at"] - resolved["received_at"]).dt.days
    allowed = (resolved["due_at"] - resolved["received_at"]).dt.days
    early = (resolved["resolved_at"] < resolved["due_at"]).mean()
    assert early > 0.9
    assert (taken > 2 * allowed.clip(lower=1)).sum() > 50
    assert (taken > 30).sum() > 20


def test_digitisation_and_online_payment_rise(two):
    year = two["received_at"].dt.year
    digitised = two["is_digitized"].astype(bool).groupby(year).mean()
    fee = two["is_fee_bearing"].astype(bool)
    paid = two["is_paid_online"].astype(bool)[fee].groupby(year[fee]).mean()
    assert digitised[2025] > digitised[2022] + 0.3
    assert paid[2025] > paid[2022] + 0.2
    assert 0.2 < two["is_fee_bearing"].mean() < 0.9


# --- survey -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def survey() -> pd.DataFrame:
    return synth.generate_survey(district_codes=[WORSE, KT])


def test_survey_shape_and_scores(survey):
    assert list(survey.columns) == list(SURVEY_COLUMNS)
    assert survey["respondent_id"].is_unique
    assert set(survey["unit_code"]) == {KT, WORSE}
    assert (survey["unit_code"] == survey["district_code"]).all()
    per_year = survey.groupby(["district_code", survey["surveyed_at"].dt.year]).size()
    assert 150 <= per_year[(KT, 2023)] <= 500
    assert 150 <= per_year[(KT, 2024)] <= 500
    items = survey[list(SURVEY_ITEM_COLUMNS)]
    assert all(pd.api.types.is_integer_dtype(t) for t in items.dtypes)
    assert items.min().min() >= SURVEY_SCORE_MIN and items.max().max() <= SURVEY_SCORE_MAX
    assert survey["surveyed_at"].between(pd.Timestamp(synth.DEMO_START), EXPORT).all()
    assert set(survey["field"]) <= set(synth.FIELDS)


def test_survey_is_realistic(survey):
    items = survey[list(SURVEY_ITEM_COLUMNS)]
    satisfied = (items >= 4).mean(axis=1)
    assert 0.72 < satisfied.mean() < 0.9
    by_district = satisfied.groupby(survey["district_code"]).mean()
    assert by_district[WORSE] < by_district[KT] - 0.05
    corr = np.corrcoef(items.to_numpy(dtype=float).T)[np.triu_indices(items.shape[1], 1)]
    assert corr.mean() > 0.3  # one latent satisfaction per respondent


def test_survey_deterministic_and_subset(survey):
    alone = synth.generate_survey(district_codes=[KT])
    part = survey[(survey["district_code"] == KT).to_numpy()].reset_index(drop=True)
    pd.testing.assert_frame_equal(alone, part)


# --- the demo folder ----------------------------------------------------------------------------


def test_generate_demo_writes_a_complete_folder(tmp_path, kt):
    summary = synth.generate_demo(tmp_path / "demo", district_codes=[KT])
    folder = tmp_path / "demo"
    info = read_dataset_info(folder)
    assert info == json.loads(json.dumps(summary, default=str))
    assert info["source"] == synth.SOURCE
    assert info["seed"] == synth.DEFAULT_SEED
    assert info["generator_version"] == synth.GENERATOR_VERSION
    assert info["dossier_rows"] == len(kt)
    assert info["date_range"] == {"start": "2022-07-01", "end": "2026-09-30"}
    assert info["export_date"] == "2026-09-30"
    assert info["provinces"] == {"2024": ["31"], "2025": ["31"]}
    assert "1473" in info["calibration"] and "19497" in info["calibration"]
    back = read_dossiers(folder)
    assert len(back) == len(kt)
    key = ["dossier_id"]
    assert_same(back.sort_values(key), kt.sort_values(key))
    survey = read_table(folder, SURVEY_FILE)
    assert len(survey) == info["survey_rows"] > 0
    # Rerun with another district: the old partition goes, the folder matches dataset.json.
    synth.generate_demo(folder, district_codes=[WORSE])
    back = read_dossiers(folder)
    assert set(back["district_code"].dropna()) == {WORSE}
    assert set(back.loc[back["district_code"].isna(), "unit_code"]) == {
        c for c, home in reform.home_districts().items() if home == WORSE
    }


def test_generate_demo_refuses_a_folder_of_real_data(tmp_path):
    (tmp_path / "dataset.json").write_text(json.dumps({"source": "ingest"}), encoding="utf-8")
    with pytest.raises(FileExistsError):
        synth.generate_demo(tmp_path, district_codes=["318"])
