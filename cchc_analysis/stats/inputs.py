"""The argument types and count checks shared by every statistics module.

Kept apart so intervals, funnels, trends, survival and surveys refuse bad counts the same way.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

ArrayLike = float | int | Sequence[float] | np.ndarray | pd.Series


def as_counts(values: ArrayLike, name: str) -> np.ndarray:
    """Counts as a float array (NaN kept for missing), refusing negative or fractional ones."""
    arr = np.asarray(values, dtype=float)
    finite = arr[np.isfinite(arr)]
    if (finite < 0).any():
        raise ValueError(f"{name} must be non-negative")
    if (finite != np.round(finite)).any():
        raise ValueError(f"{name} must be whole numbers")
    return arr
