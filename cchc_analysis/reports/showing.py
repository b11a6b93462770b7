"""A report shown whole: every section displayed in order, from one notebook cell.

Why one cell: a Jupyter cell costs about 10 ms of messaging between the kernel and the batch
runner whatever it holds, a fifth of a commune report's cells when each section had its own.
The page is the same sections in the same order (each its own output); a section still shows
alone as ``report.volumes()``, and a section that fails names itself in the traceback.
"""

from __future__ import annotations

from collections.abc import Sequence

from IPython.display import display


def show_sections(report: object, names: Sequence[str]) -> None:
    """Display each section of ``report`` (a method per name) in order."""
    for name in names:
        try:
            block = getattr(report, name)()
        except Exception as error:
            error.add_note(f"in the report's section {name!r} (report.{name}())")
            raise
        display(block)  # type: ignore[no-untyped-call]  # IPython has no type hints
