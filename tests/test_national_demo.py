"""The national demo data set (``demo.national``): its rows add up, it is reproducible, and a
commune of another province than the demo's, and that province's overview, render.

A tiny nation: the first three communes of Lai Châu (12) and of Huế (46), tiled from the
session's demo slice (two old districts of Hải Phòng and the new communes over them) at a tenth
of their volume; rendered with `cchc report` (real papermill and nbconvert).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from conftest import run_cchc

from cchc_analysis import store, units
from cchc_analysis.core.periods import parse_period
from cchc_analysis.demo.national import generate_national, load_templates, national_communes

PROVINCES = ("12", "46")
PER_PROVINCE = 3
SCALE = 0.1
PERIOD = "2026-Q3"


@pytest.fixture(scope="module")
def nation(demo_dir, tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("nation") / "data"
    summary = generate_national(
        out, demo_dir, provinces=PROVINCES, communes_per_province=PER_PROVINCE, scale=SCALE
    )
    return out, summary


def test_every_commune_has_its_partition_and_names(nation):
    data, summary = nation
    planned = national_communes(PROVINCES, PER_PROVINCE)
    areas = store.dossier_areas(data)
    assert areas == sorted(store.area_key("2025", c) for c in planned["code"])
    frame = store.read_dossiers(data)
    assert len(frame) == summary["dossier_rows"] > 1000
    assert frame["dossier_id"].is_unique
    for row in planned.itertuples():
        rows = frame[frame["unit_code"] == row.code]
        assert len(rows) > 0, row.code
        assert set(rows["unit_name"]) == {row.name}
        assert set(rows["province_code"]) == {row.province_code}
        assert set(rows["era"]) == {"2025"}
        assert rows["dossier_id"].str.startswith(f"{row.code}-").all()


def test_counts_add_up(nation, demo_dir):
    data, summary = nation
    frame = store.read_dossiers(data)
    quarter = parse_period(PERIOD)
    first = pd.Timestamp(summary["date_range"]["start"])
    received = frame["received_at"]
    assert int((received >= pd.Timestamp(quarter.start)).sum()) == summary["period_dossier_rows"]
    assert int((received < first).sum()) == summary["carried_in_rows"]
    assert received.max() <= pd.Timestamp(quarter.end)
    assert not (frame["resolved_at"] > pd.Timestamp(quarter.end)).any()  # the export day
    # The cube (`prepare`) counts every dossier received in the data's span, once.
    cube = pd.read_parquet(data / store.CUBE_FILE)
    in_span = cube[pd.to_datetime(cube["month"]) >= first]
    assert int(in_span["received_new_count"].sum()) == int((received >= first).sum())
    # Each commune holds about a tenth of its template's rows.
    templates = load_templates(demo_dir, quarter)
    template_rows = sum(n for _, n in templates.slices.values()) / len(templates.slices)
    per_commune = frame.groupby("unit_code").size()
    assert per_commune.max() < template_rows  # thinned, never copied whole
    info = json.loads((data / store.DATASET_FILE).read_text(encoding="utf-8"))
    assert info["is_synthetic"] is True and info["provinces"] == {"2025": list(PROVINCES)}


def test_a_subset_holds_the_same_rows(nation, demo_dir, tmp_path):
    """Reproducible: one province alone (same seed) is exactly its rows of the larger run."""
    data, _ = nation
    generate_national(
        tmp_path,
        demo_dir,
        provinces=["46"],
        communes_per_province=PER_PROVINCE,
        scale=SCALE,
        prepare=False,
    )
    for area in store.dossier_areas(tmp_path):
        [alone] = store.area_files(tmp_path, area)
        [whole] = store.area_files(data, area)
        assert pq.read_table(alone).equals(pq.read_table(whole)), area
    assert store.dossier_areas(tmp_path) == [
        a
        for a in store.dossier_areas(data)
        if units.get_unit(a[5:], era="2025").province_code == "46"
    ]


@pytest.mark.e2e
def test_a_commune_and_its_province_overview_render(nation, tmp_path):
    data, _ = nation
    commune = national_communes(["46"], 1).iloc[0]
    out = tmp_path / "reports"
    run_cchc(
        "report", "--data", str(data), "--period", PERIOD, "--units", commune["code"],
        "--out", str(out), "--workers", "2",
    )  # fmt: skip
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    status = {r["kind"]: r["status"] for r in manifest["reports"]}
    assert status == {"commune": "ok", "province": "ok"}, manifest["reports"]
    province = units.get_unit("46", era="2025", level="province")
    [page] = out.glob(f"{commune['code']}-*.html")
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.read_text(encoding="utf-8")))
    assert f"{commune['name']} — {province.name}" in text
    [overview] = out.glob("province-46-*.html")
    assert province.name in overview.read_text(encoding="utf-8")
