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


def test_make_up_saturdays_are_working_days():
    # Saturday 4 May 2024 was worked in exchange for Monday 29 April; Saturday 26 April 2025
    # for Friday 2 May 2025 (the holidays package lists them as weekend_workdays).
    assert is_working_day([date(2024, 5, 4), date(2025, 4, 26)]).tolist() == [True, True]
    assert not is_working_day([date(2024, 4, 29)])[0]
    assert not is_working_day([date(2025, 5, 2)])[0]
    assert not is_working_day([date(2024, 5, 11)])[0]  # an ordinary Saturday


def test_make_up_saturday_counts_in_spans_and_deadlines():
    # Friday 3 May 2024 -> Monday 6 May: Saturday 4 May worked, so two working days.
    assert working_days_between([date(2024, 5, 3)], [date(2024, 5, 6)])[0] == 2.0
    # Friday 25 April 2025 -> Tuesday 6 May 2025: Sat 26 Apr (worked), Mon 28, Tue 29
    # (30/4, 1/5 and 2/5 off), Mon 5, Tue 6 May = 5 days.
    assert working_days_between([date(2025, 4, 25)], [date(2025, 5, 6)])[0] == 5.0
    # One working day after Friday 3 May 2024 is the make-up Saturday itself.
    assert add_working_days([date(2024, 5, 3)], 1)[0] == np.datetime64("2024-05-04")
    # Two working days after Thursday 24 April 2025: Friday 25, Saturday 26.
    assert add_working_days([date(2025, 4, 24)], 2)[0] == np.datetime64("2025-04-26")
    # Received on the make-up Saturday, the count starts that day.
    assert add_working_days([date(2025, 4, 26)], 1)[0] == np.datetime64("2025-04-28")
    # Spans without a make-up day are unchanged.
    assert add_working_days([date(2024, 5, 6)], 1)[0] == np.datetime64("2024-05-07")
