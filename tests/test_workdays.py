from datetime import date

import numpy as np

from cchc_analysis.core.workdays import add_working_days, is_working_day, working_days_between


def test_tet_and_weekends_are_days_off():
    # Tết 2024: 8-14 February are holidays; 10-11 Feb is a weekend anyway.
    assert not is_working_day([date(2024, 2, 12)])[0]
    assert not is_working_day([date(2024, 2, 10)])[0]
    assert is_working_day([date(2024, 2, 15)])[0]
    assert not is_working_day([date(2023, 9, 4)])[0]  # National Day observed


def test_deadline_skips_tet():
    # Received Wednesday 7 Feb 2024 with 3 working days: 8-14 Feb off -> 15, 16, 19 Feb.
    due = add_working_days([date(2024, 2, 7)], 3)
    assert due[0] == np.datetime64("2024-02-19")


def test_received_on_day_off_starts_next_working_day():
    due = add_working_days([date(2023, 7, 1)], 1)  # Saturday -> Monday 3 July is day 0
    assert due[0] == np.datetime64("2023-07-04")


def test_working_days_between_counts_end_not_start():
    days = working_days_between(
        [date(2023, 7, 3), date(2023, 7, 3), date(2023, 7, 7), None],
        [date(2023, 7, 3), date(2023, 7, 4), date(2023, 7, 10), date(2023, 7, 10)],
    )
    assert days[:3].tolist() == [0.0, 1.0, 1.0]
    assert np.isnan(days[3])
