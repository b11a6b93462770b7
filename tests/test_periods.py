from datetime import date

import pytest

from cchc_analysis.core.periods import PeriodError, parse_period


@pytest.mark.parametrize(
    ("text", "start", "end", "kind"),
    [
        ("2023-Q3", date(2023, 7, 1), date(2023, 9, 30), "quarter"),
        ("2023-q1", date(2023, 1, 1), date(2023, 3, 31), "quarter"),
        ("2023-09", date(2023, 9, 1), date(2023, 9, 30), "month"),
        ("2024-02", date(2024, 2, 1), date(2024, 2, 29), "month"),
        ("2023-H1", date(2023, 1, 1), date(2023, 6, 30), "half"),
        ("2023-H2", date(2023, 7, 1), date(2023, 12, 31), "half"),
        ("2023", date(2023, 1, 1), date(2023, 12, 31), "year"),
        ("2023-07-01:2023-09-30", date(2023, 7, 1), date(2023, 9, 30), "range"),
        (" 2023-07-15:2023-08-14 ", date(2023, 7, 15), date(2023, 8, 14), "range"),
    ],
)
def test_parse_period_forms(text, start, end, kind):
    period = parse_period(text)
    assert (period.start, period.end, period.kind) == (start, end, kind)


@pytest.mark.parametrize(
    "text",
    [
        "2023-Q5",
        "2023-13",
        "23-Q3",
        "2023-H3",
        "Q3",
        "",
        "2023-09-31:2023-10-01",
        "2023-10-01:2023-09-30",
        "last quarter",
    ],
)
def test_bad_periods_raise_with_accepted_forms(text):
    with pytest.raises(PeriodError):
        parse_period(text)


def test_previous_and_year_before():
    q = parse_period("2023-Q1")
    assert str(q.previous()) == "2022-Q4"
    assert str(q.year_before()) == "2022-Q1"
    assert str(parse_period("2023-01").previous()) == "2022-12"
    assert str(parse_period("2023-H1").previous()) == "2022-H2"
    assert str(parse_period("2023").previous()) == "2022"
    r = parse_period("2023-07-10:2023-07-19")
    assert (r.previous().start, r.previous().end) == (date(2023, 6, 30), date(2023, 7, 9))
    assert r.year_before().start == date(2022, 7, 10)


def test_cutoff_convention_runs_15th_to_14th():
    q = parse_period("2023-Q1", convention="cutoff15")
    assert (q.start, q.end) == (date(2022, 12, 15), date(2023, 3, 14))
    y = parse_period("2023", convention="cutoff15")
    assert (y.start, y.end) == (date(2022, 12, 15), date(2023, 12, 14))
    assert not q.is_month_aligned
    assert parse_period("2023-Q1").is_month_aligned
