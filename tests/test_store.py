"""Reads of single-file tables that touch only the rows asked for."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cchc_analysis import store


@pytest.fixture
def table_dir(tmp_path):
    rng = np.random.default_rng(3)
    # Two districts in one run each, two interleaved, a missing value; several row groups.
    codes = ["303"] * 50 + ["304", "305"] * 40 + ["306"] * 30 + [None] * 5 + ["304"] * 10
    frame = pd.DataFrame(
        {
            "district_code": pd.array(codes, dtype="string"),
            "month": pd.date_range("2023-01-01", periods=len(codes), freq="D"),
            "count": rng.integers(0, 100, len(codes)),
        }
    )
    frame.to_parquet(tmp_path / "cube.parquet", index=False, row_group_size=17)
    return tmp_path


@pytest.mark.parametrize(
    "values", [["303"], ["304"], ["306", "303"], ["303", "304", "305", "306"], ["999"], []]
)
def test_read_table_rows_equals_a_filter_of_the_whole_table(table_dir, values):
    whole = store.read_table(table_dir, "cube.parquet")
    rows = store.read_table_rows(table_dir, "cube.parquet", "district_code", values)
    pd.testing.assert_frame_equal(rows, whole[whole["district_code"].isin(values)])


def test_read_table_rows_hands_out_copies_and_sees_a_rewritten_file(table_dir):
    rows = store.read_table_rows(table_dir, "cube.parquet", "district_code", ["303"])
    rows.loc[rows.index[0], "count"] = -1  # in place: must not reach the cached table
    again = store.read_table_rows(table_dir, "cube.parquet", "district_code", ["303"])
    assert (again["count"] >= 0).all()
    assert store.read_table_max(table_dir, "cube.parquet", "month") == pd.Timestamp("2023-06-24")
    pd.DataFrame(
        {"district_code": pd.array(["303"], dtype="string"), "month": [pd.Timestamp("2030-01-01")]}
    ).to_parquet(table_dir / "cube.parquet", index=False)
    assert len(store.read_table_rows(table_dir, "cube.parquet", "district_code", ["303"])) == 1
    assert store.read_table_max(table_dir, "cube.parquet", "month") == pd.Timestamp("2030-01-01")


def test_read_table_rows_of_a_missing_file_is_none(tmp_path):
    assert store.read_table_rows(tmp_path, "cube.parquet", "district_code", ["303"]) is None
    assert store.read_table_max(tmp_path, "cube.parquet", "month") is None


def test_sorted_body_is_the_stable_pandas_sort():
    """Arrow's sort of a file's rows gives the order (and table) the stable pandas sort gave:
    ties in file order, missing dates and codes last, text by code point."""
    import numpy as np
    import pyarrow as pa

    from cchc_analysis.core.schema import coerce_dossiers
    from cchc_analysis.store import dossiers

    rng = np.random.default_rng(4)
    n = 3_000
    received = pd.Series(
        pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 40, n), unit="D")
    )
    received[rng.choice(n, 30, replace=False)] = pd.NaT
    codes = rng.choice(["314", "11680", "3140", "Đ1", "z", "Z", "", None], n).astype(object)
    frame = coerce_dossiers(
        pd.DataFrame(
            {
                "dossier_id": [f"H-{i}" for i in range(n)],  # tells ties apart
                "unit_code": codes,
                "received_at": received,
                "status": rng.choice(["received", "resolved", None], n),
            }
        )
    )
    frame.index = rng.permutation(n)  # a filtered frame's labels, not 0..n-1
    found = dossiers._sorted_body(frame)
    assert found.column("received_at").null_count == 30
    body = frame.sort_values(["received_at", "unit_code"], kind="stable")
    expected = pa.Table.from_pandas(body, preserve_index=False)
    assert found.equals(expected)
    assert found.schema.equals(expected.schema, check_metadata=True)


@pytest.mark.parametrize("areas", [1, 3, 0])
def test_rows_by_area_are_the_groupby(areas):
    """The areas and their rows as groupby(row_areas, sort=True) gave them: in area order,
    rows in frame order with their labels; one area's rows are the frame itself."""
    from cchc_analysis.core.schema import coerce_dossiers
    from cchc_analysis.store import dossiers

    rng = np.random.default_rng(8)
    n = 0 if areas == 0 else 2_000
    units = [("2024", "314", "314", "district"), ("2025", "11680", "314", "commune")]
    units += [("2024", "313", "313", "district"), ("2024", "31", "31", "province")]
    chosen = rng.integers(0, max(areas, 1), n)
    chosen[chosen == 2] = 3  # a province's own office: its province's area
    era, unit, district, level = (
        np.array([units[c][i] for c in chosen], dtype=object) for i in range(4)
    )
    frame = coerce_dossiers(
        pd.DataFrame(
            {
                "dossier_id": [f"H-{i}" for i in range(n)],
                "era": era,
                "unit_code": unit,
                "district_code": district,
                "unit_level": level,
                "province_code": "31",
            }
        )
    )
    frame.index = rng.permutation(n) + 100
    found = list(dossiers.rows_by_area(frame))
    expected = list(frame.groupby(dossiers.row_areas(frame), sort=True))
    assert [a for a, _ in found] == [a for a, _ in expected]
    assert len(found) == areas
    for (_, part), (_, want) in zip(found, expected, strict=True):
        pd.testing.assert_frame_equal(part, want)
