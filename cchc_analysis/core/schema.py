"""Canonical tables: column names, types and allowed values (DESIGN.md §3).

Every other module speaks these names, so ingest (Vietnamese headers), the demo generator and
the reports meet on one contract. Counts end in ``_count``, fractions in ``_rate``/``_share``,
durations in ``_days`` and booleans start with ``is_``/``has_``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import pandas as pd

# --- dossiers: one row per hồ sơ -------------------------------------------------------------

CHANNELS: Final = ("in_person", "online", "postal")
ONLINE_LEVELS: Final = ("full", "partial", "none")
STATUSES: Final = (
    "received",
    "processing",
    "supplement_requested",
    "resolved",
    "returned",
    "rejected",
    "withdrawn",
    # National codes 1, 3 and 8 (DOMAIN.md); appended so that existing category codes stay.
    "awaiting_intake",  # 1 Mới đăng ký: registered online, not yet received
    "refused",  # 3 Không được tiếp nhận: refused at intake
    "stopped",  # 8 Dừng xử lý
)
# A dossier with one of these statuses and a resolved_at date was finished with a result.
RESULT_STATUSES: Final = frozenset({"resolved", "returned"})
# Closed without a result: counted apart (withdrawn_count), never as early/on time/late.
CLOSED_WITHOUT_RESULT_STATUSES: Final = frozenset({"rejected", "withdrawn", "stopped"})
# Closed without a result whose export may give no closing date (the citizen withdrew, the
# office stopped): accepted without one; counting closes them as ``counting.cube`` says.
CLOSED_WITHOUT_DATE_STATUSES: Final = frozenset({"withdrawn", "stopped"})
# Never received for processing: outside Biểu 06 (refused_count, awaiting_intake_count). Their
# received_at is the receipt date the system gives, else the submission date (submitted_at).
NOT_RECEIVED_STATUSES: Final = frozenset({"awaiting_intake", "refused"})
RATINGS: Final = ("very_satisfied", "satisfied", "dissatisfied")

DOSSIER_DTYPES: Final[dict[str, str]] = {
    "dossier_id": "string",
    "unit_code": "string",
    "unit_name": "string",
    "district_code": "string",  # era 2024: the unit's district (itself for district offices)
    "unit_level": "string",  # province | district | commune: the tier whose office received it
    # The registry unit_code belongs to: "2024" (before 1 July 2025: province / district /
    # commune) or "2025" (province / commune). Codes are reused across eras: (era, unit_code)
    # is the key. Blank in folders written before eras were stored: read as "2024".
    "era": "string",
    "province_code": "string",  # the unit's province in its own era
    # The applicant's home commune when the export names one for a dossier filed regardless of
    # administrative boundaries ("phi địa giới": DonViPhiDiaGioi, XaPhuongDiaBan); the receiving
    # unit still counts the dossier. Blank when the export gives none.
    "home_unit_code": "string",
    # Whether that home unit lies outside the receiving unit's area (ingest, with the registry:
    # another commune for a commune's office, outside the district for a district's, another
    # province for the province's own offices). Blank when the home unit is not known, is
    # coarser than the receiving unit, or was named in the other era.
    "is_out_of_area": "boolean",
    "procedure_code": "string",
    "procedure_name": "string",
    "field": "string",
    "channel": "category",
    "online_level": "category",
    "received_at": "datetime64[ms]",
    "due_at": "datetime64[ms]",
    "resolved_at": "datetime64[ms]",
    "returned_at": "datetime64[ms]",
    "status": "category",
    "is_digitized": "boolean",
    "has_e_result": "boolean",
    "is_fee_bearing": "boolean",
    "is_paid_online": "boolean",
    "rating": "category",
    # From the national format (NgayNopHoSo, NgayYeuCauBoSung, NgayCongDanBoSung, VNeID); blank
    # in folders written before they were read. The supplement dates are the first request and
    # the first return; supplement_count is how many requests (blank: the export does not say).
    "submitted_at": "datetime64[ms]",
    "supplement_requested_at": "datetime64[ms]",
    "supplement_returned_at": "datetime64[ms]",
    "supplement_count": "Int16",
    "is_vneid_authenticated": "boolean",
}
DOSSIER_COLUMNS: Final = tuple(DOSSIER_DTYPES)
DOSSIER_REQUIRED: Final = ("dossier_id", "unit_code", "received_at", "due_at", "status")

CATEGORY_VALUES: Final[dict[str, tuple[str, ...]]] = {
    "channel": CHANNELS,
    "online_level": ONLINE_LEVELS,
    "status": STATUSES,
    "rating": RATINGS,
}

# --- period_reports: Biểu 06 counts, one row per unit × period (× field) ----------------------

BIEU06_COUNT_COLUMNS: Final = (
    "received_new_count",
    "received_online_count",
    "received_offline_count",
    "carried_over_count",
    "received_total_count",
    "resolved_early_count",
    "resolved_on_time_count",
    "resolved_late_count",
    "resolved_total_count",
    "pending_in_time_count",
    "pending_late_count",
    "pending_total_count",
)
# Counts the dossier data gives beyond the form; optional in aggregate tables.
EXTRA_COUNT_COLUMNS: Final = (
    "online_full_count",
    "online_partial_count",
    "withdrawn_count",
    "digitized_count",
    "fee_bearing_count",
    "paid_online_count",
    "rated_count",
    "satisfied_count",
    # Never received (NOT_RECEIVED_STATUSES), by the period of their receipt/submission date:
    # outside received, resolved and pending.
    "refused_count",
    "awaiting_intake_count",
    # The 766 progress criterion (counting.cube): resolved or pending within the deadline with
    # the time waiting for the citizen's supplement left out, and at most one supplement
    # request; and the dossiers pending at the end while waiting for the citizen that it
    # counts late (counted on time by provinces with count_waiting_as_on_time).
    "timely_766_count",
    "waiting_late_766_count",
    # New dossiers whose applicant's home unit lies outside the receiving unit (is_out_of_area):
    # filed regardless of administrative boundaries ("phi địa giới"); still the receiver's.
    "out_of_area_count",
)
COUNT_COLUMNS: Final = BIEU06_COUNT_COLUMNS + EXTRA_COUNT_COLUMNS

PERIOD_REPORT_KEYS: Final = ("unit_code", "unit_name", "period_start", "period_end")

# --- survey: SIPAS-style respondents ------------------------------------------------------------

SURVEY_ASPECTS: Final = ("access", "procedure", "staff", "result", "feedback")
SURVEY_ITEMS_PER_ASPECT: Final = 3
SURVEY_ITEM_COLUMNS: Final = tuple(
    f"{aspect}__item{i}" for aspect in SURVEY_ASPECTS for i in range(1, SURVEY_ITEMS_PER_ASPECT + 1)
)
SURVEY_SCORE_MIN: Final = 1
SURVEY_SCORE_MAX: Final = 5
SURVEY_SATISFIED_MIN_SCORE: Final = 4  # 4 = hài lòng, 5 = rất hài lòng
# One row per respondent (survey.parquet), as the demo writes it and ingest reads it.
SURVEY_COLUMNS: Final = (
    "respondent_id",
    "unit_code",
    "district_code",
    "surveyed_at",
    "field",
    *SURVEY_ITEM_COLUMNS,
)


def empty_dossiers() -> pd.DataFrame:
    """An empty dossiers table with the canonical dtypes (a safe neutral element)."""
    return coerce_dossiers(pd.DataFrame({c: [] for c in DOSSIER_COLUMNS}))


def coerce_dossiers(frame: pd.DataFrame, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """Cast a dossiers frame to the canonical dtypes; missing optional columns become empty.

    Category columns get the fixed value sets so that concatenating monthly files never
    degrades them to object dtype. ``columns`` (canonical names) limits the result, in that
    order, and the work to the columns a caller reads: every column built costs time per row.
    """
    wanted = DOSSIER_DTYPES if columns is None else {c: DOSSIER_DTYPES[c] for c in columns}
    # The columns are gathered, then made one frame (on the frame's own index): adding them
    # one by one cost a new column index per column, a visible share of an ingest.
    out: dict[str, Any] = {}
    for column, dtype in wanted.items():
        values = frame[column] if column in frame else pd.Series(pd.NA, index=frame.index)
        if _has_dtype(values, column, dtype):
            out[column] = values.array  # already canonical (e.g. read back from Parquet): no copy
        elif dtype == "category":
            out[column] = pd.Categorical(values, categories=CATEGORY_VALUES[column])
        elif dtype.startswith("datetime64"):
            stamps = pd.to_datetime(values).astype(dtype)  # type: ignore[call-overload]
            out[column] = stamps.array
        else:
            out[column] = values.astype(dtype).array  # type: ignore[call-overload]
    return pd.DataFrame(out, index=frame.index, columns=list(wanted), copy=False)


def _has_dtype(values: pd.Series, column: str, dtype: str) -> bool:
    if dtype == "category":
        return isinstance(values.dtype, pd.CategoricalDtype) and tuple(
            values.cat.categories
        ) == CATEGORY_VALUES.get(column)
    return str(values.dtype) == dtype
