"""The file names of a run's reports, so that reports can link to one another.

``cchc report`` writes ``<unit_code>-<slug>.html`` per unit and ``province-<code>-<slug>.html``
for the overview, side by side in one folder (``batch.plan``); these helpers give the same
names from a unit's code, so the overview links to each unit's report and back.
"""

from __future__ import annotations

from cchc_analysis import units


def unit_report_file(code: str, level: str, era: str) -> str:
    """The report file of a unit: its registry name in ``era`` (a former district's area is
    named after the old district)."""
    name_era = units.ERA_PRE_2025 if level == "district" else era
    try:
        name = units.get_unit(code, era=name_era, level=level).name
    except (KeyError, ValueError):
        name = code
    return f"{code}-{units.slugify(name)}.html"


def overview_file(province: units.Unit) -> str:
    """The province overview's file."""
    return f"province-{province.code}-{units.slugify(province.name)}.html"


INDEX_FILE = "index.html"


def province_kind(province: units.Unit) -> str:
    """'thành phố' for a centrally-run city (Hải Phòng), else 'tỉnh': how its reports name it."""
    return "thành phố" if province.unit_type.lower().startswith("thành phố") else "tỉnh"
