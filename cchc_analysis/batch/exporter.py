"""The report's HTML exporter: nbconvert's, without its second pass over a page that needs none.

nbconvert's ``HTMLExporter`` renders the template, then parses the whole page again with
BeautifulSoup to give an ``<img>`` without ``alt`` a placeholder text and the cells under a
``.jp-Notebook`` element a ``tabindex``, and writes the parsed page back out. A report page
(about 160 kB, inline charts and tables) has neither: its charts carry their own ``alt``, and
the workbook's template has no ``.jp-Notebook`` element. The second pass then changes only how
the same document is spelled (``<br/>`` for ``<br>``, single spaces between class names,
``"`` for ``&quot;`` in text), and costs about 0.1 s of a core per report, about a tenth of
what a report costs a national run.

:class:`ReportExporter` renders the template as nbconvert does and keeps that page when the
second pass would change nothing in it, and runs the pass, exactly as nbconvert does, when the
page has an ``<img>`` without ``alt`` or a ``jp-Notebook`` class. Either way the page parses
to nbconvert's document (tested on rendered reports of every kind).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from cchc_analysis.core.resources import TEMPLATE_DIR

if TYPE_CHECKING:
    from nbconvert import HTMLExporter

# Where nbconvert's pass would change the page, not only its spelling: an image tag without an
# ``alt`` attribute, or an element of class ``jp-Notebook`` (its cells get a ``tabindex``).
# Broad on purpose: a false alarm only costs the pass.
_IMG_TAG = re.compile(r"<img\b[^>]*>", re.IGNORECASE)
_ALT = re.compile(r"\salt\s*=", re.IGNORECASE)
_NOTEBOOK_CLASS = re.compile(r"jp-Notebook(?![\w-])", re.IGNORECASE)


def needs_nbconvert_pass(html: str) -> bool:
    """Whether nbconvert's BeautifulSoup pass would add to ``html`` (an ``alt``, a
    ``tabindex``), rather than only spell it anew."""
    if _NOTEBOOK_CLASS.search(html):
        return True
    return any(not _ALT.search(tag) for tag in _IMG_TAG.findall(html))


@lru_cache(maxsize=1)
def _exporter_class() -> type[HTMLExporter]:
    """The subclass, built on first use: nbconvert is imported by workers only."""
    from bs4 import BeautifulSoup
    from nbconvert import HTMLExporter
    from nbconvert.exporters.templateexporter import TemplateExporter
    from nbconvert.filters.highlight import Highlight2HTML
    from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

    class ReportExporter(HTMLExporter):
        """``HTMLExporter`` whose BeautifulSoup pass runs only where it changes the page."""

        def from_notebook_node(  # type: ignore[override]  # HTMLExporter's returns str too
            self, nb: Any, resources: dict[str, Any] | None = None, **kw: Any
        ) -> tuple[str, dict[str, Any]]:
            # HTMLExporter.from_notebook_node (nbconvert 7.16-7.17) up to its template render.
            langinfo = nb.metadata.get("language_info", {})
            lexer = langinfo.get("pygments_lexer", langinfo.get("name", None))
            highlight_code = self.filters.get(
                "highlight_code",
                Highlight2HTML(pygments_lexer=lexer, parent=self),  # type: ignore[no-untyped-call]
            )
            resources = self._init_resources(resources)  # type: ignore[no-untyped-call]
            filter_data_type = WidgetsDataTypeFilter(  # type: ignore[no-untyped-call]
                notebook_metadata=self._nb_metadata, parent=self, resources=resources
            )
            register = self.register_filter
            register("highlight_code", highlight_code)  # type: ignore[no-untyped-call]
            register("filter_data_type", filter_data_type)  # type: ignore[no-untyped-call]
            html, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
            if not needs_nbconvert_pass(html):
                return html, resources
            # The pass itself, as HTMLExporter runs it.
            soup = BeautifulSoup(html, features="html.parser")
            missing_alt = 0
            for elem in soup.select("img:not([alt])"):
                elem.attrs["alt"] = "No description has been provided for this image"
                missing_alt += 1
            if missing_alt:
                self.log.warning("Alternative text is missing on %s image(s).", missing_alt)
            for elem in soup.select(".jp-Notebook div.jp-Cell-inputWrapper"):
                elem.attrs["tabindex"] = "0"
            for elem in soup.select(".jp-Notebook div.jp-OutputArea-output"):
                elem.attrs["tabindex"] = "0"
            return str(soup), resources

    return ReportExporter


@lru_cache(maxsize=4)
def html_exporter(lang: str = "vi") -> HTMLExporter:
    """nbconvert exporter with the workbook's template: no code, no prompts, no CDN.

    Cached per language (a worker builds it once, before its first report)."""
    return configured_exporter(_exporter_class(), lang)


def configured_exporter(exporter_class: type[HTMLExporter], lang: str) -> HTMLExporter:
    """An exporter of ``exporter_class`` with the workbook's template and settings (also how
    the tests build nbconvert's own ``HTMLExporter`` to compare pages with). The notebook is
    validated once after the preprocessors rather than after each of them
    (``optimistic_validation``): the same HTML."""
    from nbconvert.preprocessors import TagRemovePreprocessor

    # nbconvert's and nbformat's functions have no type hints: calls carry type: ignore.
    exporter = exporter_class(
        template_name="cchc",
        extra_template_basedirs=[str(TEMPLATE_DIR)],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        optimistic_validation=True,
    )
    exporter.language_code = lang
    # Researcher-facing prose cells are tagged and left out of the leadership report.
    exporter.register_preprocessor(  # type: ignore[no-untyped-call]
        TagRemovePreprocessor(  # type: ignore[no-untyped-call]
            remove_cell_tags={"remove-in-report"}, enabled=True
        ),
        enabled=True,
    )
    return exporter


def warm_exporter(lang: str) -> None:
    """Build the exporter and compile its templates by rendering an empty notebook: the
    template chain (ten files) compiles on the first page rather than when the exporter is
    built, about 0.3 s that a worker spends while its kernel boots instead of after its
    first report's cells."""
    import nbformat

    html_exporter(lang).from_notebook_node(
        nbformat.v4.new_notebook(),  # type: ignore[no-untyped-call]
        resources={"metadata": {"name": ""}},
    )
