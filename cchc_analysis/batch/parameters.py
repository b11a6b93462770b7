"""Notebook parameters: typed from the command line as papermill's ``-p`` types them, and
checked against what the notebooks declare, before anything runs.

A light module (``ast`` and ``json`` only), so that ``cchc report`` checks its options and
starts its workers before it imports the planning stack (pandas, DuckDB).
"""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

from cchc_analysis.core.errors import ParameterError


def parse_parameter(text: str) -> tuple[str, Any]:
    """``NAME=VALUE`` from the command line; the value typed as papermill's ``-p`` does."""
    name, sep, raw = text.partition("=")
    if not sep or not name.strip():
        raise ParameterError(f"parameter {text!r} is not NAME=VALUE")
    value: Any = raw
    lowered = raw.strip().lower()
    if lowered in ("true", "false"):
        value = lowered == "true"
    elif lowered in ("none", "null"):
        value = None
    elif not (len(raw) > 1 and raw.startswith("0") and raw.isdigit()):  # codes keep "001"
        for cast in (int, float):
            try:
                value = cast(raw)
                break
            except ValueError:
                continue
    return name.strip(), value


# Set by the runner from its own options; --param cannot override them (the manifest, the
# input hash and the file names would then say otherwise).
RUNNER_PARAMETERS = frozenset({"unit_code", "period", "data_dir", "lang", "tier", "level"})


def check_extra_parameters(parameters: dict[str, Any]) -> None:
    """ParameterError for an extra parameter that the runner sets itself."""
    owned = sorted(set(parameters) & RUNNER_PARAMETERS)
    if owned:
        raise ParameterError(
            f"--param {', '.join(owned)}: set by the runner; use the command's own option "
            "(--units, --period, --data, --lang, --tier, --level) instead"
        )


def declared_parameters(notebook_text: str) -> set[str]:
    """The names a notebook's ``parameters`` cell assigns: what papermill's
    ``inspect_notebook`` lists for a Python notebook, read with ``ast`` because importing
    papermill (nbformat, jsonschema) costs the start of a run a second or more."""
    nb = json.loads(notebook_text)
    for cell in nb.get("cells", []):
        if "parameters" not in cell.get("metadata", {}).get("tags", []):
            continue
        source = cell.get("source", "")
        names: set[str] = set()
        for node in ast.parse("".join(source) if isinstance(source, list) else source).body:
            if isinstance(node, ast.Assign):
                targets = node.targets
            elif isinstance(node, ast.AnnAssign):
                targets = [node.target]
            else:
                continue
            names.update(target.id for target in targets if isinstance(target, ast.Name))
        return names
    return set()


def check_parameters(notebook: str | Path, parameters: dict[str, Any]) -> None:
    """Raise ParameterError for a parameter the notebook does not declare."""
    declared = declared_parameters(Path(notebook).read_text(encoding="utf-8"))
    unknown = sorted(set(parameters) - declared)
    if unknown:
        raise ParameterError(
            f"{Path(notebook).name} has no parameter(s) {', '.join(unknown)}; "
            f"it declares {', '.join(sorted(declared))}"
        )
