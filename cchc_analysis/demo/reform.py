"""The demo after 1 July 2025: the new communes of Hải Phòng and its provincial offices.

Why: on 1 July 2025 old Hải Phòng (31) and old Hải Dương (30) became the new Hải Phòng (31):
114 communes (xã, phường, đặc khu) and the provincial offices, no districts. The demo goes on
through the reform so that a commune report, a straddling period and the carried-over
dossiers can be shown on data that behaves like the real thing.

How the new units are made:

* Volume: a new commune takes over its old communes' volume (the crosswalk,
  ``units.crosswalk_communes``, divided communes going wholly to their default new ward, as
  counting does) plus its share of the old district offices' volume (the procedures that moved
  down to the communes), times :data:`REFORM_VOLUME_FACTOR` (more procedures at the commune
  and filing regardless of residence). An island district without communes gives its offices'
  volume to the special zone that took it over. The provincial offices take over both old
  provinces' own offices and the rest of the district offices' volume.
* Each new commune is two units with one code: its former-district procedures (the old
  district offices' speed and trouble rate) and its commune procedures (the old communes').
* Online: a higher share than before (about 85% at the start, rising), as the national figure
  (~75% in mid-2025) and the published Đường An figure (85%) show.
* A new commune is generated with its home district (the old district most of its old
  communes come from) from the home district's own era-2025 streams, so a slice of old
  districts also gives the new communes over them, and a subset gives exactly those rows.

Old-era dossiers still open on 30 June 2025 keep their old unit (counting carries them over
through the crosswalk) and close after the reform like any other.
"""

from __future__ import annotations

from functools import cache
from typing import Final

import numpy as np

from cchc_analysis import units
from cchc_analysis.demo.arrivals import unit_volumes
from cchc_analysis.demo.catalogue import (
    DEMO_PROVINCE_CODE,
    DISTRICT_PROFILES,
    OLD_PROVINCE_CODES,
    PROVINCE_OFFICE_PROFILES,
    DistrictProfile,
    UnitInfo,
    district_units,
    province_districts,
)
from cchc_analysis.demo.model import NEW_ERA_START, logit, trend_years

REFORM_VOLUME_FACTOR: Final = 1.5  # a new commune receives this much more than its old parts
TO_COMMUNES_SHARE: Final = 0.6  # of the old district offices' volume; the rest: the province
NEW_ONLINE_SHARE: Final = 0.85  # at the start of the new era (before procedure offsets)
NEW_ONLINE_SLOPE: Final = 0.4  # logit per year after the reform


@cache
def home_districts() -> dict[str, str]:
    """New commune code -> the old district most of its old communes come from (ties: the
    lowest code), for the new communes of Hải Phòng (31)."""
    walk = units.crosswalk_communes(include_island_districts=True)
    walk = walk[walk["new_province_code"] == DEMO_PROVINCE_CODE]
    counts = walk.groupby(["new_code", "old_district_code"]).size().reset_index(name="n")
    counts = counts.sort_values(
        ["new_code", "n", "old_district_code"], ascending=[True, False, True]
    )
    home = counts.drop_duplicates("new_code")
    return dict(zip(home["new_code"], home["old_district_code"], strict=True))


def new_communes() -> list[str]:
    """Codes of the new communes of Hải Phòng (31), from the 2025 registry."""
    table = units.units_table(units.ERA_2025)
    rows = table[(table["province_code"] == DEMO_PROVINCE_CODE) & (table["level"] == "commune")]
    return sorted(rows["code"])


@cache
def _old_volumes(seed: int, district_code: str) -> dict[str, float]:
    """Reference-quarter volume of an old district's units, as its block draws them."""
    rng = np.random.default_rng([int(seed), int(district_code), 1])
    unit_info = district_units(district_code)
    volume = unit_volumes(rng, DISTRICT_PROFILES[district_code], unit_info)
    return {u.code: float(v) for u, v in zip(unit_info, volume, strict=True)}


def _parts(seed: int, new_code: str) -> tuple[float, float]:
    """(former-district, commune) volume a new commune takes over, before the reform factor."""
    walk = units.crosswalk_communes(include_island_districts=True)
    old = walk[walk["new_code"] == new_code]
    offices = communes = 0.0
    for old_code, district in zip(old["old_code"], old["old_district_code"], strict=True):
        volumes = _old_volumes(seed, district)
        office = volumes[district]
        if old_code == district:  # an island district without communes
            offices += office
            communes += 0.5 * office
            continue
        district_communes = sum(v for c, v in volumes.items() if c != district)
        communes += volumes[old_code]
        offices += TO_COMMUNES_SHARE * office * volumes[old_code] / district_communes
    return offices, communes


def new_era_profile(base: DistrictProfile) -> DistrictProfile:
    """The old profile with the new era's online uptake (speed and trouble carry over)."""
    start = float(logit(np.array(NEW_ONLINE_SHARE))) - NEW_ONLINE_SLOPE * float(
        trend_years(np.array([np.datetime64(NEW_ERA_START, "D")]))[0]
    )
    return DistrictProfile(
        base.office_volume,
        base.commune_volume,
        (start, start),
        (NEW_ONLINE_SLOPE, NEW_ONLINE_SLOPE),
        base.speed,
        base.problem_rate,
        withdrawn_rate=base.withdrawn_rate,
        digitization_start=base.digitization_start,
        dissatisfied_share=base.dissatisfied_share,
        survey_mean=base.survey_mean,
        survey_per_year=0,
    )


def new_commune_units(seed: int, district_code: str) -> tuple[tuple[UnitInfo, ...], np.ndarray]:
    """The new communes whose home is this old district: two units each (former-district
    procedures, commune procedures) and their reference-quarter volumes."""
    home = home_districts()
    infos: list[UnitInfo] = []
    volume: list[float] = []
    for code in new_communes():
        if home.get(code) != district_code:
            continue
        unit = units.get_unit(code, era=units.ERA_2025, level="commune")
        offices, communes = _parts(seed, code)
        infos.append(UnitInfo(code, unit.name, 0, unit.unit_type, 0, "commune"))
        infos.append(UnitInfo(code, unit.name, 1, unit.unit_type, 1, "commune"))
        volume += [REFORM_VOLUME_FACTOR * offices, REFORM_VOLUME_FACTOR * communes]
    return tuple(infos), np.array(volume)


def old_office_units(province_code: str) -> tuple[UnitInfo, ...]:
    """An old province's own offices (2024 registry), one unit of the province tier."""
    unit = units.get_unit(province_code, era=units.ERA_PRE_2025, level="province")
    return (UnitInfo(unit.code, unit.name, 0, unit.unit_type, 2, "province"),)


def new_office_units(seed: int) -> tuple[tuple[UnitInfo, ...], np.ndarray]:
    """The new Hải Phòng's own offices and their reference-quarter volume: both old
    provinces' offices and the district offices' volume that did not go to the communes."""
    unit = units.get_unit(DEMO_PROVINCE_CODE, era=units.ERA_2025, level="province")
    volume = sum(PROVINCE_OFFICE_PROFILES[p].office_volume for p in OLD_PROVINCE_CODES)
    for province in OLD_PROVINCE_CODES:
        for district in province_districts(province):
            volume += (1 - TO_COMMUNES_SHARE) * _old_volumes(seed, district)[district]
    info = UnitInfo(unit.code, unit.name, 0, unit.unit_type, 2, "province")
    return (info,), np.array([volume])
