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
