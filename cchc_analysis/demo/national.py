"""A national demo data set for one quarter: the 3,321 new communes of the 34 provinces.

Why: a ministry-level run renders 3,321 commune reports and 34 province overviews; the demo
province alone (114 communes) cannot show how the batch scales to the nation. Real exports of
the whole country are not ours to publish, so the nation is tiled from the demo province.

How (vectorised, seeded, a few minutes for ~15M rows):

* Templates: the demo folder's era-2025 rows received in the quarter and in the
  ``history_quarters`` before it (one by default, so that "vs previous period", the trends and
  the carried-over stock are real figures, not the stock's few rows), plus the dossiers carried
  into that span (received earlier, still open on its first day), of each demo commune and of
  the province's own offices. A row closed after the quarter's end is open on the export day.
* Each national commune takes one demo commune of its kind (a phường a demo phường, a xã or
  đặc khu a demo xã), drawn from a generator seeded from ``(seed, province)``; its rows are
  thinned (or repeated) by ``scale`` and re-keyed: unit code and name, province, dossier id
  (``<new code>-<date>-<n>``, ``-<copy>`` on a repeat). A province's own offices take the demo
  province's offices' rows, scaled by its number of communes.
* ``scale`` defaults to the factor that gives the whole nation :data:`NATIONAL_DOSSIERS` rows
  received in the quarter (earlier quarters get the same factor); a subset of provinces (or
  of their communes) then holds exactly the rows it has in the full run, as the demo's
  subsets do.
* Written in the data folder's layout (``dossiers/area=2025-<code>/part-0.parquet``, date
  order, the demo's Parquet schema), then ``dataset.json`` and the cube (``prepare_cube``).

Never: invent a unit (every code and name is the registry's) or a figure beyond the demo's
own patterns; the folder says it is synthetic, so every report carries the demo banner.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from cchc_analysis import store, units
from cchc_analysis.core.errors import UsageError
from cchc_analysis.core.periods import Period, parse_period
from cchc_analysis.core.schema import coerce_dossiers
from cchc_analysis.counting.prepare import prepare_cube
from cchc_analysis.demo.model import DEFAULT_SEED
from cchc_analysis.store.dossiers import ROW_GROUP_ROWS

NATIONAL_SOURCE: Final = "synthetic national demo"
NATIONAL_VERSION: Final = "1.0"
NATIONAL_PERIOD: Final = "2026-Q3"
NATIONAL_DOSSIERS: Final = 15_000_000  # received in the quarter, the whole nation
ERA: Final = units.ERA_2025
_WARD_TYPES: Final = frozenset({"Phường"})  # others (Xã, Đặc khu) take a demo xã
_STREAM: Final = 16  # third seed word of this generator's streams (never another's)


@dataclass(frozen=True)
class Templates:
    """The demo's rows of one quarter, one contiguous, date-ordered slice per template unit."""

    table: pa.Table  # demo schema, sorted by (unit, received_at)
    suffix: pa.Array  # dossier id without its unit code prefix ("-260701-0001")
    slices: dict[str, tuple[int, int]]  # template unit code -> (first row, row count)
    in_quarter: dict[str, int]  # rows received in the quarter, per template unit
    wards: tuple[str, ...]  # template communes that are phường
    communes: tuple[str, ...]  # the other template communes
    office_code: str | None  # the demo province's own offices (None when absent)


def data_start(period: Period, history_quarters: int) -> date:
    """First day of the data: ``history_quarters`` whole quarters before ``period``."""
    first = pd.Timestamp(period.start) - pd.DateOffset(months=3 * history_quarters)
    return first.date()


def load_templates(source: str | Path, period: Period, history_quarters: int = 1) -> Templates:
    """The template rows of ``period`` and the ``history_quarters`` before it from a demo
    folder (see the module docstring)."""
    quarter_start = pd.Timestamp(period.start)
    first = pd.Timestamp(data_start(period, history_quarters))
    end = pd.Timestamp(period.end) + pd.Timedelta(days=1)
    window = (first, end - pd.Timedelta(days=1))
    areas = [a for a in store.dossier_areas(source) if store.area_parts(a)[0] == ERA]
    if not areas:
        raise UsageError(f"{source} holds no era-{ERA} dossiers to tile (run `cchc demo` first)")
    frame = store.read_dossiers(source, areas=areas, received_between=window)
    early = store.read_dossiers(
        source, areas=areas, received_between=(pd.Timestamp("2000-01-01"), first)
    )
    carried = early[(early["received_at"] < first) & ~(early["resolved_at"] < first)]
    frame = pd.concat([carried, frame], ignore_index=True)
    # Nothing is known after the export day (the quarter's end): later results are pending.
    late = (frame["resolved_at"] >= end).fillna(False).to_numpy()
    if late.any():
        frame.loc[late, ["resolved_at", "returned_at"]] = pd.NaT
        frame["status"] = frame["status"].astype("string").where(~late, "processing")
    frame.loc[(frame["returned_at"] >= end).fillna(False).to_numpy(), "returned_at"] = pd.NaT
    frame = frame.sort_values(["unit_code", "received_at"], kind="stable", ignore_index=True)
    table = pa.Table.from_pandas(coerce_dossiers(frame), preserve_index=False)
    codes = frame["unit_code"].astype(str).to_numpy()
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
    counts = np.diff(np.r_[starts, len(codes)])
    slices = {str(codes[s]): (int(s), int(n)) for s, n in zip(starts, counts, strict=True)}
    ids = table.column("dossier_id").combine_chunks().cast(pa.string())
    pieces = []
    for code, (start, count) in slices.items():
        part = ids.slice(start, count)
        own = pc.starts_with(part, f"{code}-")
        cut = pc.utf8_slice_codeunits(part, len(code))
        pieces.append(pc.if_else(own, cut, pc.binary_join_element_wise("-", part, "")))
    suffix = pa.concat_arrays(pieces) if pieces else ids
    received = frame["received_at"].to_numpy()
    in_quarter = {
        code: int((received[s : s + n] >= quarter_start.to_datetime64()).sum())
        for code, (s, n) in slices.items()
    }
    level = frame["unit_level"].astype(str).to_numpy()
    commune_codes = [c for c, (s, _) in slices.items() if level[s] == "commune"]
    offices = [c for c, (s, _) in slices.items() if level[s] == "province"]
    kinds = {c: units.get_unit(c, era=ERA, level="commune").unit_type for c in commune_codes}
    wards = tuple(c for c in commune_codes if kinds[c] in _WARD_TYPES)
    others = tuple(c for c in commune_codes if kinds[c] not in _WARD_TYPES)
    return Templates(
        table=table,
        suffix=suffix,
        slices=slices,
        in_quarter=in_quarter,
        wards=wards or others,
        communes=others or wards,
        office_code=offices[0] if offices else None,
    )


def national_communes(
    provinces: Sequence[str] | None = None, communes_per_province: int | None = None
) -> pd.DataFrame:
    """The era-2025 communes (code, name, unit_type, province_code) of some provinces (all 34
    by default), the first ``communes_per_province`` of each by code when given."""
    table = units.units_table(ERA)
    known = sorted(table.loc[table["level"] == "province", "code"])
    wanted = known if provinces is None else [str(p).zfill(2) for p in provinces]
    unknown = sorted(set(wanted) - set(known))
    if unknown:
        raise ValueError(f"unknown province code(s) {', '.join(unknown)} in era {ERA}")
    communes = table[(table["level"] == "commune") & table["province_code"].isin(wanted)]
    communes = communes.sort_values(["province_code", "code"], kind="stable")
    if communes_per_province is not None:
        communes = communes.groupby("province_code", sort=False).head(communes_per_province)
    columns = ["province_code", "code", "name", "unit_type"]
    return communes[columns].reset_index(drop=True)


def _assign(communes: pd.DataFrame, templates: Templates, seed: int) -> dict[str, np.ndarray]:
    """The template of every commune, one stream per province (its full list of communes, so
    a subset of communes keeps its templates)."""
    out: dict[str, np.ndarray] = {}
    everyone = national_communes()
    for province, group in everyone.groupby("province_code", sort=True):
        rng = np.random.default_rng([int(seed), int(str(province)), _STREAM, 0])
        is_ward = group["unit_type"].isin(_WARD_TYPES).to_numpy()
        pick_ward = rng.integers(0, len(templates.wards), len(group))
        pick_other = rng.integers(0, len(templates.communes), len(group))
        chosen = np.where(
            is_ward,
            np.asarray(templates.wards, dtype=object)[pick_ward],
            np.asarray(templates.communes, dtype=object)[pick_other],
        )
        out[str(province)] = chosen
    wanted: dict[str, np.ndarray] = {}
    for province, group in communes.groupby("province_code", sort=True):
        full = everyone[everyone["province_code"] == province]["code"].to_numpy()
        where = np.searchsorted(full, group["code"].to_numpy())
        wanted[str(province)] = out[str(province)][where]
    return wanted


def _office_factor(province: str, templates: Templates) -> float:
    """A province's offices scale with its number of communes (the demo's have 114)."""
    table = units.units_table(ERA)
    size = int(((table["level"] == "commune") & (table["province_code"] == province)).sum())
    n_templates = len(set(templates.wards) | set(templates.communes))
    return size / n_templates


def default_scale(templates: Templates, seed: int, target_rows: int = NATIONAL_DOSSIERS) -> float:
    """The thinning factor that gives the whole nation ``target_rows`` dossiers received in
    the quarter (in expectation)."""
    everyone = national_communes()
    chosen = _assign(everyone, templates, seed)
    expected = 0.0
    for province, picks in chosen.items():
        expected += sum(templates.in_quarter[c] for c in picks)
        if templates.office_code is not None:
            office_rows = templates.in_quarter[templates.office_code]
            expected += office_rows * _office_factor(province, templates)
    return target_rows / expected if expected else 1.0


def _replicate(
    start: int, count: int, factor: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Rows of one template slice kept ``factor`` times on average: (row indices, copy
    numbers), in the slice's order."""
    whole, part = divmod(factor, 1.0)
    copies = int(whole) + (rng.random(count) < part)
    rows = np.repeat(np.arange(start, start + count), copies)
    first = np.repeat(np.cumsum(copies) - copies, copies)
    return rows, np.arange(len(rows)) - first


@dataclass
class _Province:
    """One province's rows before writing: the template rows taken, and per unit its code,
    name and row count (in table order)."""

    rows: np.ndarray
    copy: np.ndarray
    codes: list[str]
    names: list[str]
    counts: list[int]


def _province_rows(
    province: str,
    communes: pd.DataFrame,
    picks: np.ndarray,
    templates: Templates,
    scale: float,
    seed: int,
) -> _Province:
    rng = np.random.default_rng([int(seed), int(province), _STREAM, 1])
    rows: list[np.ndarray] = []
    copy: list[np.ndarray] = []
    codes, names, counts = [], [], []
    for code, name, pick in zip(communes["code"], communes["name"], picks, strict=True):
        # Each commune draws from its own stream: a subset keeps its rows.
        local = np.random.default_rng([int(seed), int(code), _STREAM, 2])
        taken, copies = _replicate(*templates.slices[str(pick)], scale, local)
        rows.append(taken)
        copy.append(copies)
        codes.append(str(code))
        names.append(str(name))
        counts.append(len(taken))
    if templates.office_code is not None:
        factor = scale * _office_factor(province, templates)
        taken, copies = _replicate(*templates.slices[templates.office_code], factor, rng)
        rows.append(taken)
        copy.append(copies)
        codes.append(province)
        names.append(units.get_unit(province, era=ERA, level="province").name)
        counts.append(len(taken))
    return _Province(np.concatenate(rows), np.concatenate(copy), codes, names, counts)


def _rekeyed(templates: Templates, part: _Province, province: str) -> pa.Table:
    """The template rows of one province under its units' codes and names."""
    table = templates.table.take(pa.array(part.rows))
    schema = templates.table.schema
    repeat = np.array(part.counts)

    def column(values: Sequence[str]) -> pa.Array:
        return pa.array(np.repeat(np.asarray(values, dtype=object), repeat), type=pa.string())

    unit_code = column(part.codes)
    suffix = templates.suffix.take(pa.array(part.rows))
    if part.copy.any():
        tag = np.where(part.copy > 0, np.char.add("-", part.copy.astype(str)), "")
        suffix = pc.binary_join_element_wise(suffix, pa.array(tag.astype(object)), "")
    dossier_id = pc.binary_join_element_wise(unit_code, suffix, "")
    replaced = {
        "dossier_id": dossier_id.cast(schema.field("dossier_id").type),
        "unit_code": unit_code.cast(schema.field("unit_code").type),
        "unit_name": column(part.names).cast(schema.field("unit_name").type),
        "province_code": column([province] * len(part.codes)).cast(
            schema.field("province_code").type
        ),
    }
    for name, values in replaced.items():
        table = table.set_column(schema.get_field_index(name), name, values)
    return table


def check_target(out: Path) -> None:
    """UsageError unless ``out`` is empty or a national demo's (which is replaced whole)."""
    info = store.read_dataset_info(out)
    if store.has_dossiers(out) and info.get("source") != NATIONAL_SOURCE:
        raise UsageError(
            f"{out} holds data from {info.get('source')!r}, not a national demo: "
            "give another folder (--data)"
        )


def _clear_target(out: Path) -> None:
    check_target(out)
    shutil.rmtree(out / store.DOSSIERS_DIR, ignore_errors=True)
    for name in (store.CUBE_FILE, store.DATASET_FILE, store.SURVEY_FILE):
        (out / name).unlink(missing_ok=True)


def generate_national(
    out_dir: str | Path,
    source_dir: str | Path = Path("data/demo"),
    *,
    period: str = NATIONAL_PERIOD,
    seed: int = DEFAULT_SEED,
    scale: float | None = None,
    provinces: Sequence[str] | None = None,
    communes_per_province: int | None = None,
    history_quarters: int = 1,
    prepare: bool = True,
) -> dict[str, Any]:
    """Write the national data folder (dossiers, dataset.json and, with ``prepare``, the
    cube) and return its summary (also in dataset.json)."""
    started = time.perf_counter()
    out = Path(out_dir)
    check_target(out)
    quarter = parse_period(period)
    if history_quarters < 0:
        raise ValueError(f"history_quarters must be 0 or more, not {history_quarters}")
    first_day = data_start(quarter, history_quarters)
    templates = load_templates(source_dir, quarter, history_quarters)
    if scale is None:
        scale = default_scale(templates, seed)
    communes = national_communes(provinces, communes_per_province)
    picks = _assign(communes, templates, seed)
    out.mkdir(parents=True, exist_ok=True)
    _clear_target(out)
    root = out / store.DOSSIERS_DIR
    rows = carried = 0
    first = pa.scalar(pd.Timestamp(first_day), type=pa.timestamp("ms"))
    in_quarter = 0
    quarter_first = pa.scalar(pd.Timestamp(quarter.start), type=pa.timestamp("ms"))
    for province, group in communes.groupby("province_code", sort=True):
        code = str(province)
        part = _province_rows(code, group, picks[code], templates, scale, seed)
        table = _rekeyed(templates, part, code)
        received = table.column("received_at")
        carried += int(pc.sum(pc.less(received, first)).as_py() or 0)
        in_quarter += int(pc.sum(pc.greater_equal(received, quarter_first)).as_py() or 0)
        offset = 0
        for unit, count in zip(part.codes, part.counts, strict=True):
            folder = root / f"{store.PARTITION_COLUMN}={store.area_key(ERA, unit)}"
            folder.mkdir(parents=True, exist_ok=True)
            pq.write_table(
                table.slice(offset, count),
                folder / "part-0.parquet",
                row_group_size=ROW_GROUP_ROWS,
            )
            offset += count
        rows += table.num_rows
    generated_s = time.perf_counter() - started
    source_info = store.read_dataset_info(source_dir)
    info: dict[str, Any] = {
        "source": NATIONAL_SOURCE,
        "is_synthetic": True,  # read by the reports: a "simulated data" banner on every page
        "generator": __name__,
        "generator_version": NATIONAL_VERSION,
        "seed": int(seed),
        "template_source": source_info.get("source"),
        "template_seed": source_info.get("seed"),
        "template_province_code": templates.office_code,
        "scale": round(float(scale), 6),
        "period": str(quarter),
        "provinces": {ERA: sorted(picks)},
        "history_quarters": int(history_quarters),
        "eras": {ERA: {"start": first_day.isoformat(), "end": quarter.end.isoformat()}},
        "era": [ERA],
        "date_range": {"start": first_day.isoformat(), "end": quarter.end.isoformat()},
        "export_date": quarter.end.isoformat(),
        "dossier_rows": int(rows),
        "period_dossier_rows": int(in_quarter),
        "carried_in_rows": int(carried),
        "new_commune_count": int(len(communes)),
        "province_count": int(len(picks)),
        "templates": (
            "each commune copies one demo commune of its kind (phường / xã), thinned by "
            "'scale'; each province's own offices copy the demo province's, scaled by its "
            "number of communes"
        ),
    }
    store.write_dataset_info(out, info)
    summary = {**info, "generate_seconds": round(generated_s, 3)}
    if prepare:
        cube = prepare_cube(out)
        summary["prepare_seconds"] = round(float(cube["seconds"]), 3)
        summary["cube_rows"] = int(cube["cube_rows"])
    return summary


def folder_bytes(path: str | Path) -> int:
    """Bytes of every file under a folder (the data set's size on disk)."""
    return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file())


def summary_json(summary: dict[str, Any]) -> str:
    return json.dumps(summary, ensure_ascii=False, indent=2, default=str)
