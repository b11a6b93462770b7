"""The ``cchc`` command line: scheduled runs and quick answers without opening a notebook.

Every user error (bad period, unknown unit, missing data folder) ends with one line on stderr
and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cchc_analysis.core.errors import (
    EXIT_ENVIRONMENT,
    CchcError,
    PeriodError,
    UsageError,
    environment_error,
)
from cchc_analysis.core.version import __version__

if TYPE_CHECKING:
    from cchc_analysis.core.periods import Period


COUNT_WAITING_HELP = (
    "progress criterion (timeliness_766_rate): count dossiers waiting for the citizen's "
    "supplement, and withdrawn ones, as on time, as some provinces do (default: the targets "
    "file's rules: count_waiting_as_on_time, else the 766 rule as written)"
)


def _period(text: str, convention: str = "calendar") -> Period:
    from cchc_analysis.core.periods import check_convention, parse_period

    try:
        return parse_period(text, check_convention(convention))
    except PeriodError as exc:
        raise UsageError(str(exc)) from None


def _day(text: str | None, option: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"{option} {text!r} is not a date (YYYY-MM-DD)") from None


def _as_of_data(data: str, text: str | None) -> str:
    """``--data`` as it stood on ``--as-of`` (the dossiers' versions exported by then), its
    cube prepared; the folder itself without --as-of."""
    day = _day(text, "--as-of")
    if day is None:
        return data
    from cchc_analysis import store
    from cchc_analysis.counting.prepare import prepare_folder

    folder = store.as_of_folder(store.check_data_dir(store.resolve_data_dir(data)), day)
    prepare_folder(folder)
    return str(folder)


def _split_units(text: str | None) -> list[str] | None:
    if not text or text.strip().lower() == "all":
        return None
    return [part.strip() for part in text.split(",") if part.strip()]


def cmd_kpis(args: argparse.Namespace) -> int:
    from cchc_analysis.counting import CountQuery, kpi_records, kpi_table
    from cchc_analysis.counting.query import Level
    from cchc_analysis.units import ERA_2025, era_of_period

    period = _period(args.period, args.convention)
    era = args.era or era_of_period(period)
    level: Level = args.level or ("province" if era == ERA_2025 else "district")
    query = CountQuery(
        period,
        level=level,
        tier=args.tier,
        unit_codes=_split_units(args.unit),
        by_field=args.by_field,
        era=era,
        count_waiting_as_on_time=True if args.count_waiting_as_on_time else None,
    )
    table = kpi_table(_as_of_data(args.data, args.as_of), query)
    if args.unit and table.empty:
        raise UsageError(f"unit {args.unit} has no dossiers in period {period}")
    if args.format == "json":
        json.dump(kpi_records(table), sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    elif args.format == "csv":
        table.to_csv(sys.stdout, index=False)
    else:
        from cchc_analysis.reports.formatting import kpi_console_table

        sys.stdout.write(kpi_console_table(table, lang=args.lang) + "\n")
    return 0


def cmd_prepare(args: argparse.Namespace) -> int:
    from cchc_analysis.counting.prepare import prepare_cube

    summary = prepare_cube(args.data, is_full=args.full)
    kept = summary["area_count"] - summary["counted_area_count"]
    print(
        f"cube: {summary['cube_rows']:,} rows from {summary['dossier_rows']:,} dossiers "
        f"in {summary['seconds']:.1f} s -> {summary['path']}"
        + (f" ({kept:,} of {summary['area_count']:,} areas unchanged, kept)" if kept else "")
    )
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    # Light modules only until the workers are started: their kernels boot while this
    # process imports the rest (pandas, DuckDB), checks the data folder and plans.
    from cchc_analysis.batch.parameters import check_extra_parameters, parse_parameter
    from cchc_analysis.batch.runner import render_reports
    from cchc_analysis.core.targets import counting_waiting_as_on_time

    period = _period(args.period, args.convention)
    if args.keep_warm < 0 or (args.keep_warm and args.executor == "dask"):
        raise UsageError("--keep-warm takes seconds >= 0, and only with local workers")
    extra = dict(parse_parameter(p) for p in args.param)
    check_extra_parameters(extra)  # unit_code, period, data_dir, lang, tier: the runner's
    if args.as_of:  # the folder as it stood that day is made from the dossiers checked first
        _require_dossiers(args.data)
    # The reports' processes read the convention from the environment (core.targets).
    with counting_waiting_as_on_time(True if args.count_waiting_as_on_time else None):
        manifest = render_reports(
            data_dir=_as_of_data(args.data, args.as_of),
            period=period,
            out_dir=Path(args.out),
            unit_codes=_split_units(args.units),
            workers=args.workers,
            lang=args.lang,
            tier=args.tier,
            quiet=args.quiet,
            force=args.force,
            retry_failed=args.retry_failed,
            executor=args.executor,
            scheduler=args.scheduler,
            lock_timeout_s=args.lock_timeout,
            extra_parameters=extra,
            cell_timeout_s=args.cell_timeout or None,
            level=args.level,
            check_data=None if args.as_of else lambda: _require_dossiers(args.data),
            keep_warm_s=args.keep_warm,
        )
    reports = manifest["reports"]
    failed = [r for r in reports if r["status"] == "failed"]
    if not args.quiet:
        rendered = sum(r["status"] == "ok" for r in reports)
        skipped = sum(r["status"] == "skipped" for r in reports)
        print(
            f"{rendered} reports rendered, {skipped} unchanged, {len(failed)} failed "
            f"in {manifest['seconds']:.1f} s -> {Path(args.out) / 'index.html'}"
        )
    for item in failed:
        print(f"failed: {item['unit_code']}: {item['error']}", file=sys.stderr)
    return 1 if failed else 0


def cmd_run(args: argparse.Namespace) -> int:
    from datetime import date

    from cchc_analysis.batch.scheduled import (
        SAMPLE_CONFIG,
        load_config,
        run_scheduled,
        summary_line,
    )

    if args.sample_config:
        sys.stdout.write(SAMPLE_CONFIG)
        return 0
    if not args.config:
        raise UsageError("give --config FILE (see `cchc run --sample-config`)")
    try:
        today = date.fromisoformat(args.today) if args.today else None
    except ValueError:
        raise UsageError(f"--today {args.today!r} is not a date (YYYY-MM-DD)") from None
    summary = run_scheduled(
        load_config(args.config),
        today=today,
        period=args.period,
        quiet=args.quiet,
        force=args.force,
        convention=args.convention,
        level=args.level,
    )
    if not args.quiet or summary.exit_code:
        print(summary_line(summary), file=sys.stderr if summary.exit_code else sys.stdout)
    return summary.exit_code


def _require_dossiers(data: str) -> None:
    """Reports are built from dossier rows; a folder of period reports only answers `kpis`."""
    from cchc_analysis import store

    path = store.resolve_data_dir(data)
    only_reports = (path / store.PERIOD_REPORTS_FILE).exists() and not store.has_dossiers(path)
    if path.is_dir() and only_reports:
        raise UsageError(
            f"data folder {path} holds period reports only (no dossiers/): reports need dossier "
            f"rows; use `cchc kpis --data {data} --period ...` for the aggregate figures"
        )


def cmd_ingest(args: argparse.Namespace) -> int:
    from cchc_analysis.counting.prepare import prepare_folder
    from cchc_analysis.ingest import EXIT_FATAL, has_changed_dossiers, ingest, summary_lines

    period = _period(args.period) if args.period else None

    def derive(out: Path, report: dict[str, Any]) -> None:
        if args.kind == "dossiers":  # the cube and dataset.json's dates follow the dossiers
            prepare_folder(out, has_new_dossiers=has_changed_dossiers(report))

    report = ingest(
        args.paths,
        args.kind,
        args.out,
        period=period,
        province=args.province,
        sheet=args.sheet,
        unit=args.unit,
        unit_map=args.unit_map,
        lock_timeout_s=args.lock_timeout,
        derive=derive,
        as_of=_day(args.as_of, "--as-of"),
    )
    for line in summary_lines(report):
        print(line)
    return min(int(report["exit_code"]), EXIT_FATAL)


def cmd_demo(args: argparse.Namespace) -> int:
    from cchc_analysis.demo.build import run_demo, run_national_demo

    if args.national:
        run_national_demo(
            data_dir=Path(args.data or "data/national"),
            reports_dir=Path(args.out or "reports/national"),
            workers=args.workers,
            lang=args.lang,
            period=args.period,
            provinces=_split_units(args.provinces),
        )
        return 0
    if args.provinces:
        raise UsageError("--provinces goes with --national")
    run_demo(
        data_dir=Path(args.data or "data/demo"),
        reports_dir=Path(args.out or "reports/demo"),
        workers=args.workers,
        lang=args.lang,
        period=args.period,
    )
    return 0


def cmd_sql(args: argparse.Namespace) -> int:
    import duckdb
    import pandas as pd

    from cchc_analysis.research.sql import connect

    query = args.query if args.query != "-" else sys.stdin.read()
    con = connect(args.data)
    try:
        frame = con.sql(query).df() if query.strip() else pd.DataFrame()
    except duckdb.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UsageError(f"SQL: {first}") from None
    if args.format == "json":
        sys.stdout.write(frame.to_json(orient="records", force_ascii=False, date_format="iso"))
        sys.stdout.write("\n")
    elif args.format == "csv":
        frame.to_csv(sys.stdout, index=False)
    else:
        with pd.option_context("display.max_rows", args.max_rows, "display.width", 200):
            sys.stdout.write(frame.to_string(index=False, max_rows=args.max_rows) + "\n")
    return 0


def cmd_units_find(args: argparse.Namespace) -> int:
    from datetime import date, timedelta

    from cchc_analysis import units

    try:
        on = date.fromisoformat(args.on) if args.on else None
    except ValueError:
        raise UsageError(f"--on {args.on!r} is not a date (YYYY-MM-DD)") from None
    if on is not None and args.era is not None and units.era_of(on) != args.era:
        raise UsageError(f"--on {on} lies outside era {args.era}")
    before, after = units.REFORM_DATE - timedelta(days=1), units.REFORM_DATE
    if on is not None:
        days = [(f"received on {on}", on)]
    else:
        days = [("received before 1 July 2025", before), ("received from 1 July 2025", after)]
        days = [d for d in days if args.era is None or units.era_of(d[1]) == args.era]
    lines, resolved_count = [], 0
    for label, day in days:  # what ingest makes of the name on those days (the same rules)
        found = units.resolve_office(None, args.name, received=day, province=args.province)
        if found.unit is None:
            lines.append(f"{label}: not resolved ({found.reason}): {found.message}")
            continue
        resolved_count += 1
        how = (found.how or "") + (", carried over on 1 July 2025" if found.is_carried_over else "")
        lines.append(f"{label}: {units.describe(found.unit)} [{how}]")
    # the ranked look-up: before the reform a new unit's name may be carried over, so both eras
    era = args.era or (units.ERA_2025 if on is not None and on >= after else None)
    table = units.find_units(args.name, province_code=args.province, era=era)
    if table.empty and not resolved_count:
        raise UsageError(f"no unit matches {args.name!r}")
    if not table.empty:
        columns = ["code", "name", "level", "era", "parent_code", "parent_name", "score"]
        print(table[[c for c in columns if c in table]].to_string(index=False))
    for line in lines:
        print(line)
    return 0


def _add_convention(parser: argparse.ArgumentParser, *, default: str | None = "calendar") -> None:
    parser.add_argument(
        "--convention",
        choices=["calendar", "cutoff15"],
        default=default,
        help="how a month, quarter, half or year is cut: calendar (1st to last day, the "
        "default) or cutoff15 (the data closing on the 14th: from the 15th of the month before "
        "to the 14th of the last month, e.g. 2025-Q3 = 15/06/2025-14/09/2025)"
        + ("" if default else "; default: the config's, else calendar"),
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cchc",
        description="CCHC workbook: KPIs and reports on administrative-procedure dossiers.",
    )
    parser.add_argument("--version", action="version", version=f"cchc {__version__}")
    parser.add_argument(
        "--debug", action="store_true", help="show the traceback of a failure (for a bug report)"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    kpis = sub.add_parser("kpis", help="print KPIs per unit for a period")
    kpis.add_argument("--data", required=True, help="data folder (e.g. data/demo)")
    kpis.add_argument("--period", required=True, help="2023-Q3, 2023-09, 2023-H1, 2023, A:B")
    kpis.add_argument(
        "--level",
        choices=["district", "commune", "province"],
        default=None,
        help="before the reform: district (default), commune or province (the old province: "
        "its districts, communes and own offices); from 1 July 2025: province (default), "
        "commune or district (a former district's area: the new communes within it)",
    )
    kpis.add_argument(
        "--era",
        choices=["2024", "2025"],
        default=None,
        help="whose units: 2025 (the reform's provinces and communes) for periods that end on or "
        "after 2025-07-01, else 2024; 2025 also rolls an earlier period up onto the new units",
    )
    kpis.add_argument(
        "--tier",
        choices=["district", "commune", "both"],
        default="both",
        help="whose dossiers count for a district: its own offices, its communes, or both",
    )
    kpis.add_argument("--unit", help="unit code(s), comma-separated")
    _add_convention(kpis)
    kpis.add_argument("--by-field", action="store_true", help="one row per unit and field")
    kpis.add_argument(
        "--count-waiting-as-on-time",
        action="store_true",
        help=COUNT_WAITING_HELP,
    )
    kpis.add_argument("--format", choices=["table", "csv", "json"], default="table")
    kpis.add_argument("--lang", choices=["vi", "en"], default="vi")
    kpis.add_argument(
        "--as-of",
        metavar="DATE",
        help="figures as the data stood that day (YYYY-MM-DD): the snapshots exported by then",
    )
    kpis.set_defaults(func=cmd_kpis)

    prepare = sub.add_parser("prepare", help="build the monthly cube of a data folder")
    prepare.add_argument("--data", required=True)
    prepare.add_argument(
        "--full",
        action="store_true",
        help="count every area again (by default an area whose files are unchanged since the "
        "last cube keeps its rows)",
    )
    prepare.set_defaults(func=cmd_prepare)

    report = sub.add_parser("report", help="render one HTML report per unit, overview, index")
    report.add_argument("--data", required=True)
    report.add_argument("--period", required=True)
    report.add_argument("--units", default="all", help="'all' or CODE,CODE")
    report.add_argument("--out", required=True, help="output folder")
    report.add_argument("--workers", type=int, default=None, help="parallel reports (cores)")
    report.add_argument("--lang", choices=["vi", "en"], default="vi")
    report.add_argument("--tier", choices=["district", "commune", "both"], default="both")
    report.add_argument(
        "--level",
        choices=["commune", "province", "district"],
        default=None,
        help="units reported on: commune (default for periods from 2025-07-01), district "
        "(default before; a former district's area after), province (the overview only)",
    )
    report.add_argument(
        "--count-waiting-as-on-time",
        action="store_true",
        help=COUNT_WAITING_HELP,
    )
    _add_convention(report)
    report.add_argument("--quiet", action="store_true", help="print only errors (for cron)")
    report.add_argument("--force", action="store_true", help="render even unchanged reports")
    report.add_argument(
        "--retry-failed", action="store_true", help="rerun only the reports that failed last time"
    )
    report.add_argument("--executor", choices=["process", "dask"], default="process")
    report.add_argument("--scheduler", help="Dask scheduler address (with --executor dask)")
    report.add_argument(
        "--lock-timeout",
        type=float,
        default=0.0,
        help="seconds to wait when another run holds the output folder (default: exit)",
    )
    report.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra notebook parameter (repeatable); one the notebook lacks is an error",
    )
    report.add_argument(
        "--cell-timeout",
        type=float,
        default=1800.0,
        help="seconds before a hung notebook cell fails its report (0: no limit)",
    )
    report.add_argument(
        "--as-of",
        metavar="DATE",
        help="figures as the data stood that day (YYYY-MM-DD): the snapshots exported by then",
    )
    report.add_argument(
        "--keep-warm",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="leave the workers and their kernels warm this long after the run, so the next "
        "run like it (same folder, environment, language) starts its first report at once",
    )
    report.set_defaults(func=cmd_report)

    run = sub.add_parser(
        "run",
        help="scheduled run: ingest the inbox, prepare, render the period's reports and index",
        description=(
            "Ingest settled files of the inbox (kind by file pattern), move them to the archive "
            "(never deleted; unusable ones to rejected/ with the reason), prepare the cube, "
            "render the reports of the configured period and the index. Exit 0: all good; "
            "1: a report failed or a file was rejected or left in the inbox; 2: config error."
        ),
    )
    run.add_argument("--config", help="TOML configuration (see --sample-config)")
    run.add_argument("--period", help="override the config's period rule (e.g. 2025-Q2)")
    run.add_argument("--today", help="date the period rule counts from (default: today)")
    _add_convention(run, default=None)
    run.add_argument(
        "--level",
        choices=["commune", "province", "district"],
        default=None,
        help="override the config's level: units reported on, as `cchc report --level`",
    )
    run.add_argument("--quiet", action="store_true", help="print only problems (for cron)")
    run.add_argument("--force", action="store_true", help="render even unchanged reports")
    run.add_argument(
        "--sample-config", action="store_true", help="print a commented sample configuration"
    )
    run.set_defaults(func=cmd_run)

    demo = sub.add_parser("demo", help="generate the demo province and render its reports")
    demo.add_argument("--data", help="data folder (default data/demo; data/national)")
    demo.add_argument("--out", help="reports folder (default reports/demo; reports/national)")
    demo.add_argument("--workers", type=int, default=None)
    demo.add_argument("--lang", choices=["vi", "en"], default="vi")
    demo.add_argument(
        "--period",
        default="2026-Q3",
        help="quarter to render: 2026-Q3 (default: the new communes) or earlier, e.g. 2025-Q2 "
        "(the districts before the reform)",
    )
    demo.add_argument(
        "--national",
        action="store_true",
        help="the whole nation (34 provinces, 3,321 communes, ~15M dossiers a quarter) tiled "
        "from the demo province (data/demo, made first if absent): every commune's report and "
        "every province's overview",
    )
    demo.add_argument("--provinces", help="with --national: only these provinces (e.g. 12,46)")
    demo.set_defaults(func=cmd_demo)

    ingest = sub.add_parser(
        "ingest",
        help="read one-stop exports / Biểu 06 sheets / surveys into a data folder",
        description=(
            "Read CSV (UTF-8, UTF-8 BOM, UTF-16 'Unicode text', Windows-1258) or XLSX files, "
            "validate every row and append the accepted ones to OUT. Writes "
            "OUT/rejects/<kind>.csv, OUT/ingest_report.json and OUT/ingest_reports/<time>.json. "
            "Exit 0: all rows accepted; 1: some rejected (the rest written); 2: a file cannot "
            "be used, or another ingest holds OUT (nothing written); 3: the machine failed "
            "(disk full or read-only, no permission, out of memory; nothing written)."
        ),
    )
    ingest.add_argument("paths", nargs="+", metavar="PATH", help="files to read (CSV or XLSX)")
    ingest.add_argument("--kind", required=True, choices=["dossiers", "period-report", "survey"])
    ingest.add_argument("--out", required=True, help="data folder to write (e.g. data/processed)")
    ingest.add_argument("--period", help="period of a Biểu 06 sheet (2023-Q3, A:B, ...)")
    ingest.add_argument("--province", help="province code: disambiguates unit names")
    ingest.add_argument("--sheet", help="XLSX sheet name (default: the first sheet)")
    ingest.add_argument("--unit", help="unit code of a Biểu 06 sheet that has no unit column")
    ingest.add_argument(
        "--unit-map",
        metavar="FILE",
        help="CSV of the system's own unit names: name, code and optionally era (2024|2025)",
    )
    ingest.add_argument(
        "--lock-timeout",
        type=float,
        default=0.0,
        help="seconds to wait when another ingest writes to OUT (default: exit 2 at once)",
    )
    ingest.add_argument(
        "--as-of",
        metavar="DATE",
        help="the export's date (YYYY-MM-DD), when its title does not give it; else the files' "
        "modification time. A newer snapshot of a dossier replaces an older one",
    )
    ingest.set_defaults(func=cmd_ingest)

    sql = sub.add_parser(
        "sql",
        help="run a SQL query over a data folder (DuckDB) and print the result",
        description=(
            "Views: dossiers, cube, survey, period_reports, units. Macros: "
            "bieu06_flags(first_day, last_day) and bieu06(first_day, last_day, key) give the "
            "Biểu 06 counts by the package's own rules, e.g. SELECT * FROM "
            "bieu06('2023-07-01', '2023-09-30', field). Nothing is written."
        ),
    )
    sql.add_argument("query", help="the SQL query ('-': read it from stdin)")
    sql.add_argument(
        "--data", default=None, help="data folder (default: $CCHC_DATA, else the current folder)"
    )
    sql.add_argument("--format", choices=["table", "csv", "json"], default="table")
    sql.add_argument("--max-rows", type=int, default=200, help="rows shown as a table")
    sql.set_defaults(func=cmd_sql)

    units_cmd = sub.add_parser("units", help="administrative-unit registry")
    units_sub = units_cmd.add_subparsers(dest="units_command", required=True)
    find = units_sub.add_parser("find", help="find units by name")
    find.add_argument("name")
    find.add_argument("--province", help="province code to narrow the search")
    find.add_argument("--era", choices=["2024", "2025"], default=None)
    find.add_argument(
        "--on", metavar="DATE", help="receipt date (YYYY-MM-DD): resolve as ingest would on it"
    )
    find.set_defaults(func=cmd_units_find)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``cchc`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except CchcError as exc:
        if args.debug:
            raise
        print(f"cchc: error: {_one_line(exc)}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt as exc:
        # SIGTERM from cron/systemd arrives as RunInterrupted: finished reports are kept
        signum = getattr(exc, "signum", 2)
        print(f"cchc: interrupted (signal {signum})", file=sys.stderr)
        return 128 + signum
    except BrokenPipeError:
        return 0
    except (OSError, MemoryError) as exc:
        fault = environment_error(exc)
        if args.debug or fault is None:
            if args.debug:
                raise
            return _internal_error(exc)
        print(f"cchc: error: {fault}", file=sys.stderr)
        return fault.exit_code
    except Exception as exc:  # noqa: BLE001 - a bug: one line, the traceback with --debug
        if args.debug:
            raise
        return _internal_error(exc)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def _internal_error(exc: BaseException) -> int:
    """A failure nobody foresaw: its type only (its text may quote a file's content)."""
    print(
        f"cchc: error: internal error ({type(exc).__name__}); run again with --debug for the "
        "traceback and report it",
        file=sys.stderr,
    )
    return EXIT_ENVIRONMENT


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
