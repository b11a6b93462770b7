"""The methodology text (resources/methodology/*.md) rendered as the last section of every report,
so the definitions a reader sees are the ones maintained beside the code."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import mistune

from cchc_analysis.core.resources import methodology_dir


def methodology_path(lang: str = "vi") -> Path:
    docs = methodology_dir()
    localised = docs / f"methodology.{lang}.md"
    return localised if localised.exists() else docs / "methodology.md"


@cache
def methodology_html(lang: str = "vi") -> str:
    """The methodology as HTML with its headings demoted one level (the report owns h1/h2),
    so headings stay in order."""
    path = methodology_path(lang)
    if not path.exists():
        return ""
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    body = "\n".join(lines[1:]) if lines and lines[0].startswith("# ") else text
    body = body.replace("\n## ", "\n### ")
    render = mistune.create_markdown(escape=True, plugins=["table"])
    return str(render(body))
