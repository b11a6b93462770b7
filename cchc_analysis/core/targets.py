"""Targets for the scorecards: each KPI against its target, in colour AND words.

Defaults ship in ``cchc_analysis/data/targets.yaml`` (with their sources); a province points
``CCHC_TARGETS`` at its own copy. Colour is never the only signal: every status has a label.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from cchc_analysis.core.environ import variable_set
from cchc_analysis.core.resources import TARGETS_FILE

DEFAULT_TARGETS_FILE = TARGETS_FILE

STATUS_TEXT = {
    "met": ("Đạt mục tiêu", "Target met"),
    "near": ("Gần đạt", "Close to target"),
    "missed": ("Chưa đạt", "Below target"),
    "none": ("Không có chỉ tiêu", "No target"),
}


@dataclass(frozen=True)
class Target:
    metric: str
    value: float
    direction: str  # higher | lower
    source: str


@dataclass(frozen=True)
class TargetCheck:
    """A KPI's standing against its target."""

    status: str  # met | near | missed | none
    target: Target | None

    def text(self, lang: str = "vi") -> str:
        vi, en = STATUS_TEXT[self.status]
        return vi if lang == "vi" else en


# Set (to 1/true/yes) by ``--count-waiting-as-on-time`` for the reports a run renders; it
# overrides the targets file's ``rules: count_waiting_as_on_time``.
COUNT_WAITING_ENV = "CCHC_COUNT_WAITING_AS_ON_TIME"


def targets_file() -> Path:
    env = os.environ.get("CCHC_TARGETS")
    return Path(env) if env else DEFAULT_TARGETS_FILE


@cache
def load_targets(path: str | None = None) -> tuple[dict[str, Target], float]:
    """Targets by metric name, and the 'near' band (share points)."""
    file = Path(path) if path else targets_file()
    raw = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
    targets = {
        name: Target(
            name,
            float(spec["value"]),
            str(spec.get("direction", "higher")),
            str(spec.get("source", "")),
        )
        for name, spec in (raw.get("targets") or {}).items()
    }
    return targets, float(raw.get("near_band", 0.02))


def count_waiting_as_on_time(path: str | None = None) -> bool:
    """The province's convention for the progress criterion (``timeliness_766_rate``): True when
    it counts dossiers waiting for the citizen's supplement, and withdrawn ones, as on time.

    From the environment variable :data:`COUNT_WAITING_ENV` when set, else from the targets
    file's ``rules: count_waiting_as_on_time`` (default false: the 766 rule as written)."""
    env = os.environ.get(COUNT_WAITING_ENV, "").strip().lower()
    if env:
        return env in ("1", "true", "yes", "on")
    return _rules(path or str(targets_file())).get("count_waiting_as_on_time", False) is True


@contextmanager
def counting_waiting_as_on_time(enabled: bool | None) -> Iterator[None]:
    """Within the block, :func:`count_waiting_as_on_time` is ``enabled`` for this process and
    the processes it starts (the environment variable); None leaves the setting as it is."""
    if enabled is None:
        yield
        return
    with variable_set(COUNT_WAITING_ENV, "1" if enabled else "0"):
        yield


@cache
def _rules(path: str) -> dict[str, object]:
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    rules = raw.get("rules") or {}
    return dict(rules) if isinstance(rules, dict) else {}


def check(metric: str, value: float | None, path: str | None = None) -> TargetCheck:
    """Compare a value with the metric's target."""
    targets, near_band = load_targets(path)
    target = targets.get(metric)
    if target is None or value is None or (isinstance(value, float) and math.isnan(value)):
        return TargetCheck("none", target)
    if target.direction == "lower":
        if value <= target.value:
            return TargetCheck("met", target)
        return TargetCheck("near" if value <= target.value + near_band else "missed", target)
    if value >= target.value:
        return TargetCheck("met", target)
    return TargetCheck("near" if value >= target.value - near_band else "missed", target)
