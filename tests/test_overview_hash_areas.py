"""An overview's input hash reads its own province's dossier areas, not every area of the
folder (the nation has 3,356): another province's new dossiers leave it, its own change it."""

from datetime import date
from pathlib import Path

import pandas as pd

from cchc_analysis import store, units
from cchc_analysis.batch.job import ReportJob
from cchc_analysis.batch.plan import _province_areas, hash_job, input_hash, plan_jobs
from cchc_analysis.core.periods import parse_period

AREAS = ("2024-288", "2025-03388", "2025-10507", "2025-31")  # old Hải Dương, Lai Châu, HP


def _folder(root: Path) -> Path:
    for area in AREAS:
        write_area(root, area, 2)
    return root


def write_area(root: Path, area: str, rows: int) -> None:
    folder = root / store.DOSSIERS_DIR / f"area={area}"
    folder.mkdir(parents=True, exist_ok=True)
    frame = pd.DataFrame(
        {
            "dossier_id": [f"{area}-{i}" for i in range(rows)],
            "received_at": pd.to_datetime(["2026-08-01"] * rows),
        }
    )
    frame.to_parquet(folder / "part-0.parquet", index=False)


def test_an_overview_reads_its_province_areas_in_both_eras(tmp_path):
    data = _folder(tmp_path)
    hai_phong = units.get_unit("31", era=units.ERA_2025, level="province")
    lai_chau = units.get_unit("12", era=units.ERA_2025, level="province")
    # old Hải Dương's district 288 is the new Hải Phòng's past (the province crosswalk)
    assert _province_areas(data, hai_phong, units.ERA_2025) == (
        "2024-288",
        "2025-10507",
        "2025-31",
    )
    assert _province_areas(data, lai_chau, units.ERA_2025) == ("2025-03388",)


def test_another_province_changing_leaves_the_overview_hash(tmp_path):
    data = _folder(tmp_path)
    hai_phong = units.get_unit("31", era=units.ERA_2025, level="province")
    job = ReportJob(
        "province",
        "31",
        hai_phong.name,
        "province_overview.ipynb",
        "province-31.html",
        {"province_code": "31"},
        areas=_province_areas(data, hai_phong, units.ERA_2025),
    )
    end = date(2026, 9, 30)
    before = input_hash(job, data, period_end=end)
    write_area(data, "2025-03388", 5)  # Lai Châu's new dossiers
    assert input_hash(job, data, period_end=end) == before
    write_area(data, "2025-10507", 5)  # one of Hải Phòng's communes
    assert input_hash(job, data, period_end=end) != before


def test_an_overview_areas_are_found_when_it_is_hashed_not_while_planning(tmp_path):
    data = _folder(tmp_path)
    jobs = plan_jobs(
        data,
        parse_period("2026-Q3"),
        unit_codes=["10507"],
        lang="vi",
        tier="both",
        hash_inputs=False,
    )
    overview = next(job for job in jobs if job.kind == "province")
    assert overview.areas is None  # the plan leaves them to the hash (off the plan's path)
    hash_job(overview, data, date(2026, 9, 30))
    assert overview.areas == ("2024-288", "2025-10507", "2025-31")
    assert overview.input_hash and overview.parameters["input_hash"] == overview.input_hash
