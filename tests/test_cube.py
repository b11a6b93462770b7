"""Counting rules on hand-made dossiers, and the cube agreeing with dossier rows."""

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cchc_analysis.core.metrics import TABLE_COUNT_COLUMNS, add_metrics, check_identities
from cchc_analysis.core.periods import parse_period
from cchc_analysis.core.schema import coerce_dossiers
from cchc_analysis.counting.cube import build_cube, period_counts, period_counts_from_cube

Q3 = parse_period("2023-Q3")


def dossiers(rows):
    base = {
        "unit_code": "314",
        "district_code": "314",
        "unit_level": "district",
        "field": "Hộ tịch",
        "channel": "online",
        "online_level": "full",
        "status": "returned",
    }
    frame = pd.DataFrame([{**base, "dossier_id": f"d{i}", **row} for i, row in enumerate(rows)])
    return coerce_dossiers(frame)


def counts(frame, period=Q3):
    return period_counts(frame, period, by=()).iloc[0]


def test_coerce_only_the_columns_asked_for():
    frame = dossiers([{"received_at": "2023-07-03", "due_at": "2023-07-10", "resolved_at": None}])
    wanted = ["field", "status", "received_at", "rating"]
    subset = coerce_dossiers(frame[["field", "status", "received_at"]], wanted)
    pd.testing.assert_frame_equal(subset, coerce_dossiers(frame)[wanted])


def test_period_edges():
    frame = dossiers(
        [
            # received before the period, resolved inside it, before due: carried over + early
            {"received_at": "2023-06-20", "due_at": "2023-07-05", "resolved_at": "2023-07-03"},
            # received before and resolved before: not in scope
            {"received_at": "2023-06-01", "due_at": "2023-06-10", "resolved_at": "2023-06-30"},
            # resolved exactly on the due date: on time
            {"received_at": "2023-07-03", "due_at": "2023-07-10", "resolved_at": "2023-07-10"},
            # resolved a day after due: late
            {"received_at": "2023-07-03", "due_at": "2023-07-10", "resolved_at": "2023-07-11"},
            # pending at the end, due on the last day: pending in time
            {
                "received_at": "2023-09-25",
                "due_at": "2023-09-30",
                "resolved_at": None,
                "status": "processing",
            },
            # pending at the end, due before it: pending late
            {
                "received_at": "2023-09-01",
                "due_at": "2023-09-29",
                "resolved_at": None,
                "status": "supplement_requested",
            },
            # resolved after the period ends: pending at the end (in time, due later)
            {"received_at": "2023-09-28", "due_at": "2023-10-05", "resolved_at": "2023-10-02"},
            # received on the first day, in person
            {
                "received_at": "2023-07-01",
                "due_at": "2023-07-04",
                "resolved_at": "2023-07-04",
                "channel": "in_person",
                "online_level": "none",
            },
            # withdrawn inside the period: counted apart, not resolved
            {
                "received_at": "2023-08-01",
                "due_at": "2023-08-10",
                "resolved_at": "2023-08-02",
                "status": "withdrawn",
            },
            # received after the period: ignored
            {
                "received_at": "2023-10-01",
                "due_at": "2023-10-05",
                "resolved_at": None,
                "status": "processing",
            },
            # carried over and still pending at the end, due long ago: pending late
            {
                "received_at": "2023-05-02",
                "due_at": "2023-05-20",
                "resolved_at": None,
                "status": "processing",
            },
        ]
    )
    c = counts(frame)
    assert c["received_new_count"] == 7
    assert c["carried_over_count"] == 2
    assert c["received_total_count"] == 9
    assert c["received_online_count"] == 6
    assert c["received_offline_count"] == 1
    assert c["resolved_early_count"] == 1
    assert c["resolved_on_time_count"] == 2
    assert c["resolved_late_count"] == 1
    assert c["resolved_total_count"] == 4
    assert c["withdrawn_count"] == 1
    assert c["pending_in_time_count"] == 2
    assert c["pending_late_count"] == 2
    assert c["pending_total_count"] == 4
    assert check_identities(period_counts(frame, Q3, by=())).all()


def test_metrics_from_counts_reproduce_published_kien_thuy():
    published = pd.DataFrame(
        [
            {
                "received_new_count": 1463,
                "carried_over_count": 10,
                "received_total_count": 1473,
                "resolved_early_count": 1400,
                "resolved_on_time_count": 65,
                "resolved_late_count": 3,
                "resolved_total_count": 1468,
                "pending_in_time_count": 5,
                "pending_late_count": 0,
                "pending_total_count": 5,
                "received_online_count": 1462,
                "received_offline_count": 1,
                "online_full_count": 909,
                "online_partial_count": 553,
            }
        ]
    )
    m = add_metrics(published).iloc[0]
    assert round(m["within_deadline_of_received_rate"], 4) == 0.9946
    assert round(m["online_rate"], 4) == 0.9925
    assert m["resolved_within_deadline_count"] == 1465
    assert round(m["within_deadline_rate"], 4) == round(1465 / 1468, 4)
    assert round(m["timeliness_766_rate"], 4) == round(1470 / 1473, 4)
    assert round(m["online_full_share"], 4) == round(909 / 1462, 4)


def test_rate_is_nan_when_denominator_is_zero():
    m = add_metrics(
        pd.DataFrame(
            [{"resolved_early_count": 0, "resolved_on_time_count": 0, "resolved_total_count": 0}]
        )
    ).iloc[0]
    assert np.isnan(m["within_deadline_rate"])


def random_dossiers(seed, n=400):
    rng = np.random.default_rng(seed)
    start = np.datetime64("2023-01-01")
    received = start + rng.integers(0, 300, n).astype("timedelta64[D]")
    due = received + rng.integers(0, 25, n).astype("timedelta64[D]")
    duration = rng.integers(0, 40, n).astype("timedelta64[D]")
    resolved = (received + duration).astype("datetime64[ns]")
    is_open = rng.random(n) < 0.15
    resolved = np.where(is_open, np.datetime64("NaT"), resolved)
    status = np.where(
        is_open,
        rng.choice(["processing", "supplement_requested"], n),
        rng.choice(
            [
                "returned",
                "resolved",
                "withdrawn",
                "rejected",
                "stopped",
                "refused",
                "awaiting_intake",
            ],
            n,
            p=[0.6, 0.2, 0.05, 0.05, 0.04, 0.03, 0.03],
        ),
    )
    # Withdrawn/stopped without a date close on their receipt day; never-received ones have no
    # due date or result date.
    undated = np.isin(status, ["withdrawn", "stopped"]) & (rng.random(n) < 0.5)
    never = np.isin(status, ["refused", "awaiting_intake"])
    resolved = np.where(undated | never, np.datetime64("NaT"), resolved)
    due = np.where(never & (rng.random(n) < 0.7), np.datetime64("NaT"), due)
    # Supplement requests: the first request, the citizen's return (or none yet), how many.
    has_request = rng.random(n) < 0.35
    requested = received + rng.integers(0, 15, n).astype("timedelta64[D]")
    returned = requested + rng.integers(0, 30, n).astype("timedelta64[D]")
    returned = np.where(rng.random(n) < 0.3, np.datetime64("NaT"), returned)
    requested = np.where(has_request, requested, np.datetime64("NaT"))
    returned = np.where(has_request, returned, np.datetime64("NaT"))
    count = pd.array(np.where(has_request, rng.choice([1, 1, 1, 2, 3], n), 0), dtype="Int16")
    count[rng.random(n) < 0.1] = pd.NA
    frame = pd.DataFrame(
        {
            "dossier_id": [f"x{i}" for i in range(n)],
            "unit_code": rng.choice(["314", "11680", "11683"], n),
            "field": rng.choice(["Hộ tịch", "Đất đai"], n),
            "channel": rng.choice(["online", "in_person", "postal"], n),
            "online_level": rng.choice(["full", "partial", "none"], n),
            "received_at": received,
            "due_at": due,
            "resolved_at": resolved,
            "status": status,
            "is_digitized": rng.random(n) < 0.5,
            "is_fee_bearing": rng.random(n) < 0.3,
            "is_paid_online": rng.random(n) < 0.5,
            "rating": rng.choice(["very_satisfied", "satisfied", "dissatisfied", None], n),
            "supplement_requested_at": requested,
            "supplement_returned_at": returned,
            "supplement_count": count,
            # The applicant's home outside the receiving unit (blank: no home unit named).
            "is_out_of_area": pd.array(rng.choice([True, False, None], n), dtype="boolean"),
        }
    )
    frame["district_code"] = "314"
    frame["unit_level"] = np.where(frame["unit_code"] == "314", "district", "commune")
    return coerce_dossiers(frame)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), first_month=st.integers(1, 9), months=st.integers(1, 4))
def test_cube_agrees_with_rows_for_month_aligned_periods(seed, first_month, months):
    frame = random_dossiers(seed)
    cube = build_cube(frame)
    start = date(2023, first_month, 1)
    last = first_month + months - 1
    end = (pd.Timestamp(date(2023, last, 1)) + pd.offsets.MonthEnd(0)).date()
    period = parse_period(f"{start.isoformat()}:{end.isoformat()}")
    if pd.Timestamp(end) > cube["month"].max() + pd.offsets.MonthEnd(0):
        with pytest.raises(ValueError, match="after the cube's last month"):
            period_counts_from_cube(cube, period)
        cube = build_cube(frame, horizon=end)  # a cube built to the period's end answers it
    for by in ((), ("unit_code",), ("unit_code", "field")):
        rows = period_counts(frame, period, by=by)
        if by:
            rows = rows[rows["received_total_count"] > 0]
        from_cube = period_counts_from_cube(cube, period, by=by)
        keys = list(by)
        left = rows.sort_values(keys).reset_index(drop=True) if keys else rows
        right = from_cube.sort_values(keys).reset_index(drop=True) if keys else from_cube
        pd.testing.assert_frame_equal(
            left[keys + list(TABLE_COUNT_COLUMNS)].astype(
                {c: "int64" for c in TABLE_COUNT_COLUMNS}
            ),
            right[keys + list(TABLE_COUNT_COLUMNS)],
            check_dtype=False,
        )
        assert check_identities(right).all()


def test_cube_refuses_day_aligned_periods():
    cube = build_cube(random_dossiers(1))
    with pytest.raises(ValueError, match="month-aligned"):
        period_counts_from_cube(cube, parse_period("2023-07-15:2023-08-14"))


def test_day_aligned_period_counts_are_consistent():
    frame = random_dossiers(7)
    total_new = never_received = 0
    start = date(2023, 1, 1)
    # Consecutive day-aligned windows: new counts add up; each window's carried-over equals
    # the previous window's pending.
    previous_pending = 0
    for i in range(10):
        s = start + timedelta(days=30 * i)
        e = s + timedelta(days=29)
        c = counts(frame, parse_period(f"{s.isoformat()}:{e.isoformat()}"))
        total_new += c["received_new_count"]
        never_received += c["refused_count"] + c["awaiting_intake_count"]
        assert c["carried_over_count"] == previous_pending
        previous_pending = c["pending_total_count"]
    before = frame["received_at"] < pd.Timestamp(start + timedelta(days=300))
    assert never_received > 0  # refused and awaiting intake: counted apart, never received
    assert total_new + never_received == before.sum()


def test_every_catalogue_rate_on_hand_made_counts():
    from cchc_analysis.core.metrics import RATE_DEFINITIONS

    counts = pd.DataFrame(
        [
            {
                "received_new_count": 80,
                "carried_over_count": 20,
                "received_total_count": 100,
                "received_online_count": 60,
                "received_offline_count": 20,
                "online_full_count": 45,
                "online_partial_count": 15,
                "resolved_early_count": 50,
                "resolved_on_time_count": 20,
                "resolved_late_count": 10,
                "resolved_total_count": 80,
                "pending_in_time_count": 8,
                "pending_late_count": 7,
                "pending_total_count": 15,
                "withdrawn_count": 5,
                "digitized_count": 40,
                "fee_bearing_count": 30,
                "paid_online_count": 12,
                "rated_count": 25,
                "satisfied_count": 20,
                "out_of_area_count": 16,
            }
        ]
    )
    m = add_metrics(counts).iloc[0]
    expected = {
        "within_deadline_rate": 70 / 80,
        "early_rate": 50 / 80,
        "on_time_rate": 20 / 80,
        "late_rate": 10 / 80,
        "within_deadline_of_received_rate": 70 / 100,
        "timeliness_766_rate": 78 / 100,
        "online_rate": 60 / 100,
        "online_new_rate": 60 / 80,
        "online_full_share": 45 / 60,
        "digitization_rate": 40 / 80,
        "online_payment_rate": 12 / 30,
        "satisfaction_rate": 20 / 25,
        "out_of_area_share": 16 / 80,
    }
    assert set(expected) == {d.name for d in RATE_DEFINITIONS}
    for name, value in expected.items():
        assert m[name] == pytest.approx(value), name
    assert m["resolved_within_deadline_count"] == 70
    assert check_identities(counts).all()
    broken = counts.assign(pending_total_count=14)
    assert not check_identities(broken).any()


@pytest.mark.parametrize("seed", [3, 17])
def test_flags_are_the_same_whatever_the_text_columns_dtype(seed):
    """``dossier_flags`` tests status, channel, online level and rating on category codes when
    it can: the flags of category columns (as stored), object columns (a researcher's frame)
    and string columns are the same, missing values included, and agree with the values
    written out (a test of the rule itself, not only of the three ways)."""
    from cchc_analysis.counting.cube import dossier_flags

    frame = random_dossiers(seed)
    frame.loc[frame.index[::7], "channel"] = None
    frame.loc[frame.index[::11], "online_level"] = None
    frame.loc[frame.index[::13], "status"] = None
    text = ["status", "channel", "online_level", "rating"]
    assert all(isinstance(frame[c].dtype, pd.CategoricalDtype) for c in text)
    start, end = date(2023, 4, 1), date(2023, 6, 30)
    stored = dossier_flags(frame, start, end)
    for dtype in (object, "string"):
        other = frame.astype({c: dtype for c in text})
        pd.testing.assert_frame_equal(dossier_flags(other, start, end), stored)
    received = frame["received_at"].between(pd.Timestamp(start), pd.Timestamp(end))
    status = frame["status"].astype(object)
    is_new = received & ~status.isin(["refused", "awaiting_intake"]).to_numpy()
    online = is_new & (frame["channel"].astype(object) == "online")
    assert stored["received_online_count"].sum() == online.sum() > 0
    full = online & (frame["online_level"].astype(object) == "full")
    assert stored["online_full_count"].sum() == full.sum() > 0
    assert stored["refused_count"].sum() == (received & (status == "refused")).sum() > 0
