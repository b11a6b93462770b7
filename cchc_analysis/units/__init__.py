"""Units: Vietnam's administrative units of both eras, looked up by code or by typed name.

In: the bundled tables of the ``vietnamadminunits`` package (read once per process). Out:
:class:`Unit` records keyed by (era, code) (``get_unit``, ``children``, ``parent``,
``district_of``, ``units_table``), matches for names as people type them (``find_units``,
``resolve_unit``, ``normalize_name``, ``slugify``), the office a dossier row names in the era
of its receipt date (``resolve_office``, with a steward's ``load_unit_map``), the crosswalks
that carry series across the 1 July 2025 reform (``crosswalk_provinces``,
``crosswalk_communes``) and the era of a date (``era_of``).

Modules: ``names`` (text only), ``registry`` (the records and code lookups), ``matching``
(look-up by name), ``crosswalk`` (old units onto new ones), ``resolution`` (a row's office, by
era), ``unit_map`` (a province's own spellings).

The stage never reads a data folder or any dossier (a unit map is the steward's own file), and
never guesses: a name that matches several units, or only nearly matches one, is an error that
lists the candidates, and a type word is never dropped to find a unit of another level or era.
"""

from cchc_analysis.core.errors import AmbiguousUnitError, UnknownUnitError
from cchc_analysis.units.crosswalk import crosswalk_communes, crosswalk_provinces, former_districts
from cchc_analysis.units.matching import FUZZY_CUTOFF, SUGGEST_CUTOFF, find_units, resolve_unit
from cchc_analysis.units.names import normalize_name, slugify
from cchc_analysis.units.registry import (
    ERA_2025,
    ERA_PRE_2025,
    ERAS,
    LEVELS,
    REFORM_DATE,
    TABLE_COLUMNS,
    Unit,
    children,
    district_of,
    era_of,
    era_of_period,
    get_unit,
    parent,
    units_table,
)
from cchc_analysis.units.resolution import Resolution, describe, resolve_office
from cchc_analysis.units.unit_map import UnitMap, load_unit_map

__all__ = [
    "ERA_PRE_2025",
    "ERA_2025",
    "ERAS",
    "REFORM_DATE",
    "LEVELS",
    "TABLE_COLUMNS",
    "FUZZY_CUTOFF",
    "SUGGEST_CUTOFF",
    "UnknownUnitError",
    "AmbiguousUnitError",
    "Unit",
    "normalize_name",
    "slugify",
    "units_table",
    "get_unit",
    "children",
    "parent",
    "district_of",
    "find_units",
    "resolve_unit",
    "Resolution",
    "resolve_office",
    "describe",
    "UnitMap",
    "load_unit_map",
    "crosswalk_provinces",
    "crosswalk_communes",
    "former_districts",
    "era_of",
    "era_of_period",
]
