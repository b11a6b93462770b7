"""coerce_dossiers makes the frame it made when it added the columns one by one (it now
gathers them and builds the frame once): same columns, dtypes, values and index."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from cchc_analysis.core.schema import CATEGORY_VALUES, DOSSIER_DTYPES, coerce_dossiers


def _column_by_column(frame: pd.DataFrame, columns=None) -> pd.DataFrame:
    """coerce_dossiers as it was (4d2f1a5)."""
    wanted = DOSSIER_DTYPES if columns is None else {c: DOSSIER_DTYPES[c] for c in columns}
    out = pd.DataFrame(index=frame.index)
    for column, dtype in wanted.items():
        values = frame[column] if column in frame else pd.Series(pd.NA, index=frame.index)
        is_category = dtype == "category"
        if (
            is_category
            and isinstance(values.dtype, pd.CategoricalDtype)
            and tuple(values.cat.categories) == CATEGORY_VALUES.get(column)
        ) or (not is_category and str(values.dtype) == dtype):
            out[column] = values
        elif is_category:
            out[column] = pd.Categorical(values, categories=CATEGORY_VALUES[column])
        elif dtype.startswith("datetime64"):
            out[column] = pd.to_datetime(values).astype(dtype)
        else:
            out[column] = values.astype(dtype)
    return out


def _raw(n: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "dossier_id": np.array([f"H-{i}" for i in range(n)], dtype=object),
            "unit_code": pd.array(rng.choice(["314", "11680", None], n), dtype="string"),
            "procedure_name": pd.array(rng.choice(["Hộ tịch", "x"], n), dtype="str"),
            "channel": rng.choice(["online", "postal", None], n).astype(object),
            "status": pd.Categorical(rng.choice(["resolved", "received"], n)),  # other cats
            "received_at": pd.to_datetime("2024-01-01")
            + pd.to_timedelta(rng.integers(0, 100, n), unit="D"),
            "due_at": rng.choice(["2024-02-01", None], n),
            "is_digitized": rng.choice([True, False, None], n).astype(object),
            "supplement_count": pd.array(rng.choice([0, 1, None], n), dtype="Int64"),
            "extra": np.arange(n),  # not canonical: left out
        }
    )


@pytest.mark.parametrize("columns", [None, ["status", "dossier_id", "received_at", "rating"]])
@pytest.mark.parametrize("shape", ["plain", "filtered", "empty", "parquet"])
def test_coerce_dossiers_is_the_column_by_column_frame(tmp_path, columns, shape):
    frame = _raw(500)
    if shape == "filtered":
        frame = frame[frame.index % 3 != 0]
        frame.index = np.r_[np.arange(len(frame) - 5), [7] * 5]  # labels repeat
    elif shape == "empty":
        frame = frame.iloc[:0]
    elif shape == "parquet":
        path = tmp_path / "rows.parquet"
        pa.Table.from_pandas(coerce_dossiers(frame)).to_pandas().to_parquet(path)
        frame = pd.read_parquet(path)
    found = coerce_dossiers(frame, columns)
    expected = _column_by_column(frame, columns)
    pd.testing.assert_frame_equal(found, expected, check_exact=True)
    assert list(found.columns) == list(expected.columns)
    assert found.dtypes.astype(str).tolist() == expected.dtypes.astype(str).tolist()
    assert pa.Table.from_pandas(found, preserve_index=False).equals(
        pa.Table.from_pandas(expected, preserve_index=False)
    )
