"""``cchc run --config cchc.toml``: the scheduled job, from new exports to the index page.

One run: take the data folder's lock → ingest every settled file of the inbox (kind chosen by
file pattern) → move each ingested file to the archive (never deleted) → prepare the cube →
render the reports of the period the rule names → index. Meant for cron or a systemd timer.

What happens to an inbox file:

- ingested (even with some rows rejected, which ``ingest`` writes to ``rejects/``): moved to
  ``<archive>/<run date>/``, with the file's ingest account beside it (``<name>.ingest.json``);
- unusable as a whole (``IngestError``: unreadable, no header, a required column missing):
  moved to ``<rejected>/<run date>/`` with ``<name>.error.txt`` saying why, so the next run
  does not fail on it again; fix it and drop it back into the inbox;
- unexpected error while reading it (a poison file): quarantined the same way, the traceback
  in the run log, so it never blocks the next runs;
- matching no pattern, or still being copied (modified within ``settle_seconds``): left in the
  inbox, with a log line.

A symbolic link in the inbox is refused (rejected/ with the reason); the run never follows one.

A file is moved only after its ingest has been written, so a run killed in between ingests
it again next time, which adds nothing (ingest de-duplicates on the dossier id).

Exit code: 0 all good; 1 partly failed: the rest was ingested and rendered, but a report
failed, or a file was rejected (quarantined) or left behind; 2 a configuration or data-folder
error, or another run holds the folder (nothing done); 3 the machine failed (disk full or
read-only, no permission, out of memory): the data folder is left as it was and the inbox
files stay for the next run.
"""

from __future__ import annotations

import fnmatch
import json
import logging
import os
import shutil
import time
import tomllib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, cast

from cchc_analysis import store
from cchc_analysis.batch.manifest import open_run_log
from cchc_analysis.batch.runner import render_reports
from cchc_analysis.core.errors import (
    ConfigError,
    IngestError,
    LockBusyError,
    PeriodError,
    environment_error,
)
from cchc_analysis.core.locking import RunLock
from cchc_analysis.core.periods import (
    CONVENTIONS,
    Convention,
    Period,
    check_convention,
    parse_period,
)
from cchc_analysis.counting.prepare import prepare_folder
from cchc_analysis.counting.query import Tier
from cchc_analysis.ingest import KINDS, has_changed_dossiers, ingest

log = logging.getLogger("cchc.scheduled")

KIND_ORDER = ("dossiers", "survey", "period-report")
PERIOD_RULES = ("previous-month", "previous-quarter", "previous-half", "previous-year")
RUN_LOCK = ".cchc-scheduled.lock"
PARTIAL_SUFFIXES = (".tmp", ".part", ".partial", ".crdownload", ".swp")

SAMPLE_CONFIG = """\
# cchc.toml: the monthly scheduled run (`cchc run --config cchc.toml`).
# Relative paths are taken from this file's folder.
[paths]
inbox = "inbox"          # one-stop exports are dropped here
archive = "archive"      # ingested files are moved here, never deleted
rejected = "rejected"    # files that could not be ingested at all, with the reason
data = "data/processed"  # the canonical data folder
reports = "reports"      # reports go to reports/<period>/

[ingest]
settle_seconds = 60      # leave files modified less than a minute ago (still copying)
# province = "31"        # optional: the province every file belongs to

[[ingest.files]]
pattern = "*ho*so*.csv"  # file name pattern (case-insensitive) -> kind
kind = "dossiers"

[[ingest.files]]
pattern = "*ho*so*.xlsx"
kind = "dossiers"

[[ingest.files]]
pattern = "*bieu*06*.xlsx"  # only Biểu 06 sheets: not every workbook of the inbox
kind = "period-report"

[[ingest.files]]
pattern = "*khao*sat*.csv"
kind = "survey"

[report]
period = "previous-month"  # previous-month | previous-quarter | previous-half | previous-year
                           # or a period: 2025-Q2, 2025-06, 2025-H1, 2025, A:B
units = "all"              # or ["314", "313"]
workers = 2                # default: one per core
lang = "vi"                # vi | en
tier = "both"              # district | commune | both
# level = "commune"        # units reported on: commune (default from 2025-07-01),
                           # district (default before; a former district's area after), province
convention = "calendar"    # calendar (1st to last day) | cutoff15 (data closing on the 14th:
                           # 2025-Q3 = 15/06/2025 - 14/09/2025)
cell_timeout = 1800        # seconds before a hung notebook cell fails its report
lock_timeout = 0           # seconds to wait when another run holds the lock (0: exit at once)
"""


@dataclass
class FilePattern:
    pattern: str
    kind: str


@dataclass
class ScheduledConfig:
    """The settings of a scheduled run, with paths resolved against the config's folder."""

    path: Path
    inbox: Path
    archive: Path
    rejected: Path
    data: Path
    reports: Path
    files: list[FilePattern]
    period: str = "previous-month"
    units: list[str] | None = None
    workers: int | None = None
    lang: str = "vi"
    tier: Tier = "both"
    level: str | None = None  # None: the period's default (communes after the reform)
    convention: Convention = "calendar"
    cell_timeout: float = 1800.0
    lock_timeout: float = 0.0
    settle_seconds: float = 60.0
    province: str | None = None


def load_config(path: str | os.PathLike[str]) -> ScheduledConfig:
    """Read and check a TOML configuration (see SAMPLE_CONFIG)."""

    config_path = Path(path)
    try:
        raw = tomllib.loads(config_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"configuration file not found: {config_path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{config_path}: {exc}") from None
    base = config_path.resolve().parent
    paths = raw.get("paths", {})

    def where(key: str, default: str | None = None) -> Path:
        value = paths.get(key, default)
        if value is None:
            raise ConfigError(f"{config_path}: [paths] {key} is required")
        candidate = Path(str(value)).expanduser()
        return candidate if candidate.is_absolute() else base / candidate

    ingest = raw.get("ingest", {})
    files = []
    for entry in ingest.get("files", []):
        if not isinstance(entry, dict) or "pattern" not in entry or "kind" not in entry:
            raise ConfigError(f"{config_path}: each [[ingest.files]] needs pattern and kind")
        if entry["kind"] not in KINDS:
            raise ConfigError(
                f"{config_path}: kind {entry['kind']!r} is not one of {', '.join(KINDS)}"
            )
        files.append(FilePattern(str(entry["pattern"]), str(entry["kind"])))
    report = raw.get("report", {})
    units = report.get("units", "all")
    if isinstance(units, str):
        units = None if units.strip().lower() == "all" else [u.strip() for u in units.split(",")]
    else:
        units = [str(u) for u in units]
    archive = where("archive")
    config = ScheduledConfig(
        path=config_path,
        inbox=where("inbox"),
        archive=archive,
        rejected=where("rejected", str(archive / "rejected")),
        data=where("data"),
        reports=where("reports"),
        files=files,
        period=str(report.get("period", "previous-month")),
        units=units,
        workers=report.get("workers"),
        lang=str(report.get("lang", "vi")),
        tier=cast(Tier, str(report.get("tier", "both"))),  # checked below (ConfigError)
        level=str(report["level"]) if report.get("level") is not None else None,
        convention=cast(Convention, str(report.get("convention", "calendar"))),
        cell_timeout=float(report.get("cell_timeout", 1800)),
        lock_timeout=float(report.get("lock_timeout", 0)),
        settle_seconds=float(ingest.get("settle_seconds", 60)),
        province=ingest.get("province"),
    )
    if config.lang not in ("vi", "en"):
        raise ConfigError(f"{config_path}: lang must be vi or en, not {config.lang!r}")
    if config.tier not in ("district", "commune", "both"):
        raise ConfigError(f"{config_path}: tier must be district, commune or both")
    if config.level not in (None, "district", "commune", "province"):
        raise ConfigError(f"{config_path}: level must be district, commune or province")
    if config.convention not in CONVENTIONS:
        raise ConfigError(
            f"{config_path}: convention must be calendar or cutoff15, not {config.convention!r}"
        )
    resolve_period(config.period, date.today(), config.convention)  # fail early on a bad rule
    return config


def resolve_period(rule: str, today: date, convention: Convention = "calendar") -> Period:
    """The period a rule names on ``today``: the last complete month, quarter, half or year
    (under the cut-off convention, the last one whose 14th has passed), or a fixed period
    label."""
    rule = rule.strip()
    if rule not in PERIOD_RULES:
        try:
            return parse_period(rule, convention)
        except PeriodError as exc:
            raise ConfigError(
                f"period {rule!r}: use one of {', '.join(PERIOD_RULES)} or a period ({exc})"
            ) from None
    months = {"previous-month": 1, "previous-quarter": 3, "previous-half": 6, "previous-year": 12}
    size = months[rule]
    # The block of `size` months that contains today starts at this month index (0-based):
    index = today.year * 12 + (today.month - 1)
    chosen = _block(index - index % size - size, size, convention)
    # Under the cut-off convention the block containing today may already be closed (after
    # the 14th of its last month): that one is the last complete period.
    following = _block(index - index % size, size, convention)
    return following if following.end < today else chosen


def _block(start_index: int, size: int, convention: Convention) -> Period:
    """The month, quarter, half or year of ``size`` months starting at month index
    ``start_index`` (year * 12 + month - 1)."""
    year, month = divmod(start_index, 12)
    month += 1
    if size == 1:
        label = f"{year}-{month:02d}"
    elif size == 3:
        label = f"{year}-Q{(month - 1) // 3 + 1}"
    elif size == 6:
        label = f"{year}-H{(month - 1) // 6 + 1}"
    else:
        label = f"{year}"
    return parse_period(label, convention)


# --- the inbox ---------------------------------------------------------------------------------


@dataclass
class InboxFile:
    path: Path
    kind: str


@dataclass
class RunSummary:
    """What a scheduled run did; also written as JSON next to its log."""

    period: str = ""
    ingested: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    left: list[str] = field(default_factory=list)
    rows_rejected: int = 0
    reports: dict[str, int] = field(default_factory=dict)
    report_dir: str = ""
    log: str = ""
    seconds: float = 0.0
    exit_code: int = 0


def scan_inbox(
    config: ScheduledConfig, now: float | None = None
) -> tuple[list[InboxFile], list[tuple[Path, str]]]:
    """Settled files of the inbox with their kind, and the files left there (with why)."""
    now = time.time() if now is None else now
    found: list[InboxFile] = []
    left: list[tuple[Path, str]] = []
    if not config.inbox.is_dir():
        return found, left
    for path in sorted(config.inbox.iterdir()):
        name = path.name
        if not path.is_file() or name.startswith(".") or name.lower().endswith(PARTIAL_SUFFIXES):
            continue
        if now - path.stat().st_mtime < config.settle_seconds:
            left.append((path, f"modified less than {config.settle_seconds:.0f} s ago"))
            continue
        kind = next(
            (f.kind for f in config.files if fnmatch.fnmatch(name.lower(), f.pattern.lower())),
            None,
        )
        if kind is None:
            left.append((path, "no [[ingest.files]] pattern matches its name"))
            continue
        found.append(InboxFile(path, kind))
    return found, left


def _move(path: Path, folder: Path) -> Path:
    """Move a file into ``folder`` without overwriting anything there; returns the new path."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / path.name
    n = 1
    while target.exists():
        target = folder / f"{path.stem}.{n}{path.suffix}"
        n += 1
    shutil.move(str(path), str(target))
    return target


def _ingest_files(
    files: list[InboxFile], config: ScheduledConfig, stamp: str, summary: RunSummary
) -> None:
    """Ingest each kind's files together (one cube rebuild); when ingest refuses the batch,
    file by file, so one unusable file does not hold the others back."""

    def prepare(out: Path, report: dict[str, Any]) -> None:
        if report["kind"] == "dossiers":  # as `cchc ingest`: the cube and dataset.json follow
            prepare_folder(out, has_new_dossiers=has_changed_dossiers(report))

    def ingest_and_prepare(paths: list[Path]) -> dict[str, Any]:
        return ingest(
            paths,
            kind,
            config.data,
            province=config.province,
            lock_timeout_s=config.lock_timeout,
            derive=prepare,
        )

    for kind in KIND_ORDER:
        batch = [f.path for f in files if f.kind == kind]
        if not batch:
            continue
        try:
            report = ingest_and_prepare(batch)
            _archive(batch, report, config, stamp, summary)
            continue
        except IngestError as exc:
            if len(batch) == 1:
                _reject(batch[0], str(exc), config, stamp, summary)
                continue
            log.warning("%s: ingest refused the batch; trying file by file", kind)
        except LockBusyError:
            raise
        except Exception as exc:  # noqa: BLE001 - the machine stops the run; a bug is logged
            _stop_on_environment(exc)
            log.exception("%s: unexpected error in the batch; trying file by file", kind)
        for path in batch:
            try:
                report = ingest_and_prepare([path])
            except IngestError as exc:
                _reject(path, str(exc), config, stamp, summary)
                continue
            except LockBusyError:
                raise
            except Exception as exc:  # noqa: BLE001 - a poison file: quarantined, not retried
                _stop_on_environment(exc)
                log.exception("%s: unexpected error while ingesting", path.name)
                why = (
                    f"{path}: could not be ingested (internal error {type(exc).__name__}; the "
                    "run log has the details); fix or re-export the file and put it back"
                )
                _reject(path, why, config, stamp, summary)
                continue
            _archive([path], report, config, stamp, summary)


def _stop_on_environment(exc: BaseException) -> None:
    """A full or read-only disk, or no memory, is the machine's fault, not the file's: the
    run stops (exit 3) and the file stays in the inbox for the next run."""
    fault = environment_error(exc)
    if fault is not None:
        raise fault from exc


def _archive(
    paths: list[Path],
    report: dict[str, Any],
    config: ScheduledConfig,
    stamp: str,
    summary: RunSummary,
) -> None:
    by_file = {str(entry.get("file")): entry for entry in report.get("files", [])}
    for path in paths:
        entry = by_file.get(str(path), {})
        target = _move(path, config.archive / stamp)
        account = {**entry, "file": path.name, "archived_as": str(target), "kind": report["kind"]}
        target.with_name(target.name + ".ingest.json").write_text(
            json.dumps(account, ensure_ascii=False, indent=2, default=str), encoding="utf-8"
        )
        rejected = int(entry.get("rows_rejected", 0))
        summary.rows_rejected += rejected
        summary.ingested.append(str(target))
        log.info(
            "ingested %s (%s): %s rows read, %s accepted, %s rejected -> %s",
            path.name,
            report["kind"],
            entry.get("rows_read", "?"),
            entry.get("rows_accepted", "?"),
            rejected,
            target,
        )


def _reject(
    path: Path, error: str, config: ScheduledConfig, stamp: str, summary: RunSummary
) -> None:
    target = _move(path, config.rejected / stamp)
    target.with_name(target.name + ".error.txt").write_text(error + "\n", encoding="utf-8")
    summary.rejected.append(str(target))
    log.error("rejected %s: %s -> %s", path.name, error, target)


# --- the run -------------------------------------------------------------------------------------


def run_scheduled(
    config: ScheduledConfig,
    today: date | None = None,
    period: str | None = None,
    quiet: bool = False,
    force: bool = False,
    *,
    convention: str | None = None,
    level: str | None = None,
) -> RunSummary:
    """Ingest the inbox, prepare, render the period's reports and index; see the module doc.

    ``convention`` and ``level`` override the config's (as ``cchc run --convention/--level``).
    Reports of a cut-off period go to ``<reports>/<period>-cutoff15/``, apart from the
    calendar period's.
    """

    started = time.perf_counter()
    today = today or date.today()
    try:
        cutting = check_convention(convention) if convention else config.convention
    except PeriodError as exc:
        raise ConfigError(str(exc)) from None
    chosen = resolve_period(period or config.period, today, cutting)
    summary = RunSummary(period=str(chosen))
    config.data.mkdir(parents=True, exist_ok=True)
    handler, log_path = open_run_log(config.reports, prefix="cchc-run", logger=log)
    summary.log = str(log_path)
    try:
        with RunLock(config.data / RUN_LOCK, timeout_s=config.lock_timeout):
            log.info("scheduled run for %s (config %s)", chosen, config.path)
            files, left = scan_inbox(config)
            for path, why in left:
                log.warning("left in the inbox: %s (%s)", path.name, why)
                summary.left.append(str(path))
            stamp = today.isoformat()
            _ingest_files(files, config, stamp, summary)
            if not store.has_dossiers(config.data):
                raise store.DataFolderError(
                    f"data folder {config.data} holds no dossiers yet: put one-stop exports "
                    f"in {config.inbox}"
                )
            prepare_folder(config.data)
            folder = str(chosen) if cutting == "calendar" else f"{chosen}-{cutting}"
            out = config.reports / folder
            summary.report_dir = str(out)
            manifest = render_reports(
                config.data,
                chosen,
                out,
                unit_codes=config.units,
                workers=config.workers,
                lang=config.lang,
                tier=config.tier,
                quiet=quiet,
                force=force,
                lock_timeout_s=config.lock_timeout,
                cell_timeout_s=config.cell_timeout,
                level=level or config.level,
            )
            for record in manifest["reports"]:
                summary.reports[record["status"]] = summary.reports.get(record["status"], 0) + 1
                if record["status"] == "failed":
                    log.error("report failed: %s: %s", record["file"], record["error"])
        failed = summary.reports.get("failed", 0)
        summary.exit_code = 1 if failed or summary.rejected or summary.left else 0
        summary.seconds = round(time.perf_counter() - started, 3)
        log.info(
            "done in %.1f s: %d files ingested, %d rejected, %d left; reports %s -> %s",
            summary.seconds,
            len(summary.ingested),
            len(summary.rejected),
            len(summary.left),
            summary.reports,
            summary.report_dir,
        )
        return summary
    finally:
        log.removeHandler(handler)
        handler.close()


def summary_line(summary: RunSummary) -> str:
    """One line for the terminal or cron mail."""
    counts = ", ".join(f"{n} {status}" for status, n in sorted(summary.reports.items()))
    return (
        f"{summary.period}: {len(summary.ingested)} files ingested, {len(summary.rejected)} "
        f"rejected, {len(summary.left)} left in the inbox; reports: {counts or 'none'} "
        f"in {summary.seconds:.1f} s -> {summary.report_dir} (log {summary.log})"
    )
