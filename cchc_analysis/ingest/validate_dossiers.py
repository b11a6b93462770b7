"""Row checks of a dossier export: raw cells in, canonical dossier rows out
(``schema.DOSSIER_DTYPES``), and a reason for every row left out.

A row needs a dossier id, a unit (province, district or commune office) of the registry of
its receipt date's era (:func:`cchc_analysis.units.resolve_office`), a receipt date, a due date
and a status that all read; dates may not lie after the day of ingest or before the
receipt, and a closed status needs a resolution date. Optional columns (channel, online level,
rating, yes/no flags, the national format's submission and supplement dates) that are present
must read too.

Statuses of the national list (DOMAIN.md) bend these rules where the system itself leaves a
date blank:

- a dossier never received (1 "Mới đăng ký", 3 "Không được tiếp nhận") needs no due date, and
  without a receipt date its submission date (NgayNopHoSo) dates it, in ``received_at`` too;
- a withdrawn (7) or stopped (8) dossier needs no resolution date (counting closes it).
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from cchc_analysis import units
from cchc_analysis.core.schema import (
    CATEGORY_VALUES,
    CLOSED_WITHOUT_DATE_STATUSES,
    CLOSED_WITHOUT_RESULT_STATUSES,
    DOSSIER_COLUMNS,
    NOT_RECEIVED_STATUSES,
    RESULT_STATUSES,
    coerce_dossiers,
)
from cchc_analysis.core.text import fold
from cchc_analysis.ingest.parsing import (
    count_dates,
    parse_bool,
    parse_channel,
    parse_column,
    parse_count,
    parse_datetime,
    parse_first_datetime,
    parse_online_level,
    parse_rating,
    parse_status,
)
from cchc_analysis.ingest.problems import Problems, as_days, optional_text, parse_cells
from cchc_analysis.ingest.unit_matching import ResolutionLog, UnitMatches, resolve_dated_units
from cchc_analysis.units import UnitMap

# A backend that fills DonViPhiDiaGioi only for a dossier filed outside the applicant's area
# leaves it blank for every ordinary dossier: there a blank cell means "in the area". Other
# home-unit columns (XaPhuongDiaBan) are filled for every dossier: a blank is unknown.
_OUT_OF_AREA_ONLY_HEADERS = frozenset(fold(h) for h in ("DonViPhiDiaGioi", "Đơn vị phi địa giới"))


def _home_units(
    raw: pd.DataFrame,
    received: pd.Series,
    province: str | None,
    receiving: UnitMatches,
    *,
    header: str = "",
) -> tuple[pd.Series, pd.Series]:
    """The applicant's home unit (a ``string`` column) where the export names one (a dossier
    filed regardless of administrative boundaries), read in the era of the receipt date like
    the receiving unit, and whether it lies outside the receiving unit's area
    (:func:`_is_outside`).

    Informational only: a blank or unrecognised home unit leaves both cells empty and never
    rejects the row (the receiving unit counts the dossier either way). Under a column that
    names only out-of-area units (``header`` DonViPhiDiaGioi) a blank cell is in the area.
    """
    blank_is_inside = fold(header) in _OUT_OF_AREA_ONLY_HEADERS
    outside = pd.Series(pd.NA, index=raw.index, dtype="boolean")
    no_homes = pd.Series(pd.NA, index=raw.index, dtype="string")
    if "home_unit" not in raw:
        return no_homes, outside
    text = optional_text(raw, "home_unit")
    is_blank = text.isna().to_numpy(dtype=bool)
    if is_blank.all() and not blank_is_inside:  # blank throughout: no unit (most exports)
        return no_homes, outside
    is_code = text.str.fullmatch(r"\d+").fillna(False).to_numpy(dtype=bool)
    cells = pd.DataFrame(
        {"unit_code": text.where(is_code), "unit_name": text.where(~is_code)}, index=raw.index
    )
    # A code names one unit of its era anywhere (an applicant from another province, for the
    # province's own offices); a name is looked for within the province, as the receiver's.
    home_units = np.full(len(raw), None, dtype=object)
    if not is_blank.all():  # a column left blank throughout names no unit (most exports)
        by_code = resolve_dated_units(cells[["unit_code"]], received, province=None)
        by_name = resolve_dated_units(cells[["unit_name"]], received, province=province)
        home_units = np.where(is_code, by_code.column(lambda u: u), by_name.column(lambda u: u))
        home_units[is_blank] = None
    homes = np.array([None if u is None else u.code for u in home_units], dtype=object)
    receiving_units = receiving.column(lambda u: u)
    pairs: dict[tuple[units.Unit, units.Unit], bool | None] = {}
    values = np.full(len(raw), None, dtype=object)
    if blank_is_inside:  # a blank cell under DonViPhiDiaGioi: in the area
        has_unit = np.fromiter((u is not None for u in receiving_units), bool, len(raw))
        values[is_blank & has_unit] = False
    for row in np.flatnonzero(~is_blank).tolist():  # blank rows: None, or False above
        home, unit = home_units[row], receiving_units[row]
        if home is None or unit is None:
            continue
        if (home, unit) not in pairs:
            pairs[(home, unit)] = _is_outside(home, unit)
        values[row] = pairs[(home, unit)]
    outside[:] = pd.array(values.tolist(), dtype="boolean")
    return pd.Series(homes, index=raw.index, dtype=object).astype("string"), outside


def _is_outside(home: units.Unit, unit: units.Unit) -> bool | None:
    """True when ``home`` lies outside ``unit``'s area (neither the unit nor within it), False
    when inside; None when it cannot be told: the home is coarser than the unit (the district
    of a receiving commune) or of the other era (a dossier carried over to its new unit)."""
    if home.era != unit.era:
        return None
    if _within(home, unit):
        return False
    if _within(unit, home):
        return None
    return True


def _within(inner: units.Unit, outer: units.Unit) -> bool:
    """``inner`` is ``outer`` or lies inside it (same era)."""
    current: units.Unit | None = inner
    while current is not None:
        if current.code == outer.code and current.level == outer.level:
            return True
        current = units.parent(current.code, era=current.era, level=current.level)
    return False


# Closed statuses whose rows must give the closing date (resolved_at).
_NEEDS_RESOLUTION_DATE = (RESULT_STATUSES | CLOSED_WITHOUT_RESULT_STATUSES) - (
    CLOSED_WITHOUT_DATE_STATUSES
)


def _date_unless(
    raw: pd.DataFrame, column: str, header: str, problems: Problems, excused: np.ndarray
) -> pd.Series:
    """A required date column whose blank cells are allowed where ``excused``."""
    found = Problems()
    values = parse_cells(raw, column, parse_datetime, found, header=header, as_datetime=True)
    unreadable = ~found.passed(len(raw))
    problems.items.extend(found.items)
    blank = values.isna().to_numpy() & ~unreadable & ~excused
    problems.add_mask(blank, header, "missing_value", f"{header} is blank")
    return values


def _supplement_count(raw: pd.DataFrame, problems: Problems, header: str) -> pd.Series:
    """Supplement requests per dossier: the export's count (Số lần bổ sung), else the number of
    request dates its cell lists, else blank (the export does not say)."""
    count = pd.Series(pd.NA, index=raw.index, dtype="Int16")
    if "supplement_count" in raw:
        given = parse_cells(raw, "supplement_count", parse_count, problems, header=header)
        count = pd.to_numeric(given, errors="coerce").astype("Int16")
    if "supplement_requested_at" in raw:
        listed, codes, _ = parse_column(raw["supplement_requested_at"], count_dates)
        listed = listed.where(codes.isna(), None)  # unreadable dates are rejected elsewhere
        count = count.fillna(pd.to_numeric(listed, errors="coerce").astype("Int16"))
    return count


def validate_dossiers(
    raw: pd.DataFrame,
    headers: dict[str, str],
    *,
    province: str | None = None,
    today: date | None = None,
    unit_map: UnitMap | None = None,
    log: ResolutionLog | None = None,
) -> tuple[pd.DataFrame, Problems]:
    """Canonical dossier rows (``schema.DOSSIER_DTYPES``) from raw cells, and the problems.

    ``raw`` has canonical column names and a positional index; ``headers`` maps them to the
    source headers used in messages. Units are read in the registry of each row's receipt
    date (a dossier carried over to its new unit gets era "2025"); ``unit_map`` settles the
    system's own spellings; ``log`` (when given) counts the accepted rows by resolution rule.
    """
    today = today or date.today()
    raw = raw.reset_index(drop=True)
    problems = Problems()
    h = {c: headers.get(c, c) for c in DOSSIER_COLUMNS}

    ids = optional_text(raw, "dossier_id", as_string=True)
    problems.add_mask(
        ids.isna().to_numpy(),
        h["dossier_id"],
        "missing_dossier_id",
        "no dossier id",
    )
    # The status first: it says which dates a row may leave blank (listed in its place below).
    status_problems = Problems()
    status = parse_cells(
        raw,
        "status",
        parse_status,
        status_problems,
        header=h["status"],
        is_required=True,
        dtype=pd.CategoricalDtype(list(CATEGORY_VALUES["status"])),
    )
    not_received = status.isin(NOT_RECEIVED_STATUSES).to_numpy()
    date_problems = Problems()  # read before the units (they need the era), listed after
    submitted_problems = Problems()  # read first (it may date a row), listed after the others
    submitted = parse_cells(
        raw,
        "submitted_at",
        parse_datetime,
        submitted_problems,
        header=h["submitted_at"],
        as_datetime=True,
    )
    received_at = _date_unless(
        raw, "received_at", h["received_at"], date_problems, not_received & submitted.notna()
    )
    dates = {
        "received_at": received_at.where(received_at.notna() | ~not_received, submitted),
        "due_at": _date_unless(raw, "due_at", h["due_at"], date_problems, not_received),
    }
    for column in ("resolved_at", "returned_at"):
        dates[column] = parse_cells(
            raw, column, parse_datetime, date_problems, header=h[column], as_datetime=True
        )
    date_problems.items.extend(submitted_problems.items)
    dates["submitted_at"] = submitted
    for column in ("supplement_requested_at", "supplement_returned_at"):
        dates[column] = parse_cells(
            raw, column, parse_first_datetime, date_problems, header=h[column], as_datetime=True
        )
    received, due = as_days(dates["received_at"]), as_days(dates["due_at"])
    resolved = as_days(dates["resolved_at"])
    limit = np.datetime64(today, "D")
    for column in (
        "received_at",
        "resolved_at",
        "returned_at",
        "submitted_at",
        "supplement_requested_at",
        "supplement_returned_at",
    ):
        days = as_days(dates[column])
        future = ~np.isnat(days) & (days > limit)
        message = f"{h[column]} is after the day of ingest {today:%d/%m/%Y}"
        date_problems.add_mask(future, h[column], "future_date", message)
    # A due date may lie ahead, but not years ahead: 2099 on a 2023 dossier is a typing error.
    far = ~np.isnat(due) & (due > limit + np.timedelta64(366, "D"))
    message = f"{h['due_at']} is more than a year after the day of ingest {today:%d/%m/%Y}"
    date_problems.add_mask(far, h["due_at"], "due_too_far", message)
    requested = as_days(dates["supplement_requested_at"])
    for column, start, days, code, message in (
        ("due_at", received, due, "due_before_received", "due date before receipt"),
        (
            "resolved_at",
            received,
            resolved,
            "resolved_before_received",
            "resolution before receipt",
        ),
        (
            "supplement_returned_at",
            requested,
            as_days(dates["supplement_returned_at"]),
            "supplement_before_request",
            "supplement returned before it was requested",
        ),
    ):
        before = ~np.isnat(start) & ~np.isnat(days) & (days < start)
        date_problems.add_mask(before, h[column], code, message)

    matches = resolve_dated_units(raw, dates["received_at"], province=province, unit_map=unit_map)
    matches.add_problems(problems, h["unit_code"] if "unit_code" in raw else h["unit_name"])
    problems.items.extend(date_problems.items)

    problems.items.extend(status_problems.items)
    closed = status.isin(_NEEDS_RESOLUTION_DATE).to_numpy()
    # One message per status (a mapping), looked up for the rows lacking the date only.
    missing = {
        s: f"status {s} but no resolution date ({h['resolved_at']})" for s in _NEEDS_RESOLUTION_DATE
    }
    lacking = np.flatnonzero(closed & np.isnat(resolved))
    problems.add(
        lacking.tolist(),
        h["resolved_at"],
        "missing_resolution_date",
        [missing[s] for s in status.iloc[lacking].tolist()],
    )
    # Read straight into the canonical dtypes (cast once per distinct cell, not per row).
    parsed = {
        column: parse_cells(
            raw,
            column,
            parser,
            problems,
            header=h[column],
            dtype=pd.CategoricalDtype(list(CATEGORY_VALUES[column])),
        )
        for column, parser in (
            ("channel", parse_channel),
            ("online_level", parse_online_level),
            ("rating", parse_rating),
        )
    }
    for column in (
        "is_digitized",
        "has_e_result",
        "is_fee_bearing",
        "is_paid_online",
        "is_vneid_authenticated",
    ):
        parsed[column] = parse_cells(
            raw, column, parse_bool, problems, header=h[column], dtype="boolean"
        )
    parsed["supplement_count"] = _supplement_count(raw, problems, h["supplement_count"])

    unit_columns = matches.unit_text_columns()
    home, is_out_of_area = _home_units(
        raw, dates["received_at"], province, matches, header=headers.get("home_unit", "")
    )
    frame = pd.DataFrame(
        {
            "dossier_id": ids,
            "unit_code": unit_columns["unit_code"],
            "unit_name": unit_columns["unit_name"],
            "district_code": unit_columns["district_code"],
            "unit_level": unit_columns["unit_level"],
            "era": unit_columns["era"],
            "province_code": unit_columns["province_code"],
            "home_unit_code": home,
            "is_out_of_area": is_out_of_area,
            "procedure_code": optional_text(raw, "procedure_code", as_string=True),
            "procedure_name": optional_text(raw, "procedure_name", as_string=True),
            "field": optional_text(raw, "field", as_string=True),
            **{c: dates[c] for c in ("received_at", "due_at", "resolved_at", "returned_at")},
            "status": status,
            **parsed,
            **{
                c: dates[c]
                for c in ("submitted_at", "supplement_requested_at", "supplement_returned_at")
            },
        },
        index=raw.index,
    )
    passed = problems.passed(len(raw))
    if log is not None:
        log.add(matches, passed)
    return coerce_dossiers(frame[passed])[list(DOSSIER_COLUMNS)], problems
