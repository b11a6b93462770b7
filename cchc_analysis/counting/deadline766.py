"""The deadline of the 766 progress criterion, per dossier: the due date moved by the time the
office waited for the citizen's supplement, and no deadline at all after a second request.

Biểu 06 counts take the due date as the system gives it (``due_at``). The progress criterion
of Quyết định 766/QĐ-TTg (DOMAIN.md) does not count the time waiting for the citizen's
supplement, and counts a dossier with more than one supplement request as late. So:

- no request, or a request made after the due date had passed: the due date stands;
- one request made by the due date, answered: the due date moves on by the working days from
  the request to the citizen's return (``supplement_returned_at``);
- one request made by the due date, unanswered and the dossier still open: the clock is
  stopped, the dossier is within the deadline for as long as it waits;
- one request, unanswered, but the dossier closed: the export does not say how long the
  citizen took, so nothing is left out and the due date stands;
- more than one request (``supplement_count`` > 1): late, whatever the dates.

A blank ``supplement_count`` (the export does not say) counts as at most one request.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cchc_analysis.core.workdays import add_working_days, working_days_between

# Stand-ins for "never late" and "always late" that every period comparison gets right.
NEVER_LATE = np.datetime64("2200-01-01", "D")
ALWAYS_LATE = np.datetime64("1900-01-01", "D")


def days_of(values: pd.Series) -> np.ndarray:
    """A date column as calendar days (NaT for blanks, whatever the column's dtype)."""
    stamps = pd.to_datetime(values, errors="coerce")
    return np.asarray(
        stamps.to_numpy(dtype="datetime64[ns]", na_value=np.datetime64("NaT")),
        dtype="datetime64[D]",
    )


def supplement_request_count(dossiers: pd.DataFrame) -> np.ndarray:
    """Supplement requests per dossier as floats, NaN where the export does not say."""
    if "supplement_count" not in dossiers:
        return np.full(len(dossiers), np.nan)
    values = pd.to_numeric(dossiers["supplement_count"], errors="coerce")
    return np.asarray(values.to_numpy(dtype="float64", na_value=np.nan))


def due_766(dossiers: pd.DataFrame, *, closed_at: np.ndarray) -> np.ndarray:
    """Each dossier's deadline under the 766 rule (datetime64[D]; NaT where no due date).

    ``closed_at`` is the day each dossier closed (NaT while open), as counting reads it.
    """
    due = days_of(dossiers["due_at"])
    out = due.copy()
    if "supplement_requested_at" not in dossiers:
        return out
    requested = days_of(dossiers["supplement_requested_at"])
    returned = (
        days_of(dossiers["supplement_returned_at"])
        if "supplement_returned_at" in dossiers
        else np.full(len(dossiers), np.datetime64("NaT"), dtype="datetime64[D]")
    )
    in_time_request = ~np.isnat(requested) & ~np.isnat(due) & (requested <= due)
    answered = in_time_request & ~np.isnat(returned) & (returned >= requested)
    if answered.any():
        waited = working_days_between(requested[answered], returned[answered]).astype(np.int64)
        out[answered] = add_working_days(due[answered], waited)
    out[in_time_request & np.isnat(returned) & np.isnat(closed_at)] = NEVER_LATE
    many = supplement_request_count(dossiers) > 1
    out[many & ~np.isnat(due)] = ALWAYS_LATE
    return out


def waiting_bounds(
    dossiers: pd.DataFrame, *, received: np.ndarray, has_waiting_status: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(from, until) of the wait for the citizen: waiting on day d when from <= d < until.

    ``until`` is NaT for a wait not answered yet. A dossier whose status says it awaits a
    supplement (``has_waiting_status``) but whose export gives no request date waits from its
    receipt (``received``).
    """
    nat = np.full(len(dossiers), np.datetime64("NaT"), dtype="datetime64[D]")
    requested = (
        days_of(dossiers["supplement_requested_at"])
        if "supplement_requested_at" in dossiers
        else nat.copy()
    )
    returned = (
        days_of(dossiers["supplement_returned_at"])
        if "supplement_returned_at" in dossiers
        else nat.copy()
    )
    by_status = np.isnat(requested) & has_waiting_status
    requested[by_status] = received[by_status]
    returned[np.isnat(requested)] = np.datetime64("NaT")
    return requested, returned
