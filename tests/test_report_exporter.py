"""The report exporter skips nbconvert's BeautifulSoup pass only where the pass changes nothing.

Every kind of report (a new commune's, a district's before the reform, a province overview; in
Vietnamese and English) is executed on a real kernel, and its page from the workbook's exporter
must parse to exactly the page nbconvert's own ``HTMLExporter`` writes with the same template.
A page the pass would change (an image without ``alt``, a ``jp-Notebook`` element) goes
through the pass itself.
"""

from __future__ import annotations

import copy

import nbformat
import pytest
from bs4 import BeautifulSoup
from nbconvert import HTMLExporter

from cchc_analysis.batch.execute import _execute, _strip_noise, kernel_name, parameterized
from cchc_analysis.batch.exporter import (
    configured_exporter,
    html_exporter,
    needs_nbconvert_pass,
)
from cchc_analysis.batch.kernels import WarmKernel
from cchc_analysis.batch.plan import plan_jobs
from cchc_analysis.core.periods import parse_period

pytestmark = pytest.mark.e2e


def _both(nb: nbformat.NotebookNode, lang: str) -> tuple[str, str]:
    """(the workbook's page, nbconvert's page) of ``nb``."""
    resources = {"metadata": {"name": "Đơn vị"}}
    ours, _ = html_exporter(lang).from_notebook_node(copy.deepcopy(nb), copy.deepcopy(resources))
    nbconvert_own = configured_exporter(HTMLExporter, lang)
    theirs, _ = nbconvert_own.from_notebook_node(copy.deepcopy(nb), resources)
    return ours, theirs


def _spelled_by_soup(html: str) -> str:
    return str(BeautifulSoup(html, features="html.parser"))


@pytest.fixture(scope="module")
def kernel():
    warm = WarmKernel(kernel_name(), 120)
    try:
        yield warm
    finally:
        warm.close()


@pytest.fixture(scope="module")
def executed(kernel, reform_dir, prepared_dir) -> list[tuple[str, nbformat.NotebookNode]]:
    """(language, executed notebook) of one report of every kind."""
    asked = [
        (reform_dir, "2026-Q3", "vi", "commune"),  # a new commune, and its province's overview
        (prepared_dir, "2023-Q3", "en", "district"),  # a district before the reform, in English
    ]
    notebooks = []
    for data_dir, period, lang, level in asked:
        jobs = plan_jobs(
            data_dir,
            parse_period(period),
            unit_codes=None,
            lang=lang,
            tier="both",
            level=level,
            hash_inputs=False,
        )
        unit = next(j for j in jobs if j.kind != "province")
        overview = next(j for j in jobs if j.kind == "province")
        for job in (unit, overview):
            nb = parameterized(job, kernel.kernel_name)
            kernel.ensure()
            _execute(nb, kernel, 300)
            kernel.begin_reset()
            _strip_noise(nb)
            notebooks.append((lang, nb))
    return notebooks


def test_every_kind_of_report_parses_to_nbconvert_page_without_its_second_pass(executed):
    assert len(executed) == 4
    for lang, nb in executed:
        ours, theirs = _both(nb, lang)
        assert not needs_nbconvert_pass(ours)
        assert ours != theirs  # the pass was skipped: the page is spelled as rendered
        assert _spelled_by_soup(ours) == theirs
        assert "<img" in ours  # the charts are there, each with its own alternative text


def test_a_page_the_pass_would_change_goes_through_it(executed):
    lang, nb = executed[0]
    bare = nbformat.v4.new_output(
        "display_data", data={"text/html": '<p class="jp-Notebook">x</p><img src="x.png">'}
    )
    changed = copy.deepcopy(nb)
    next(c for c in changed.cells if c.cell_type == "code" and c.outputs).outputs.append(bare)
    ours, theirs = _both(changed, lang)
    assert ours == theirs
    assert 'alt="No description has been provided for this image"' in ours


@pytest.mark.parametrize(
    ("html", "needed"),
    [
        ('<img src="a.png" alt="Biểu đồ">', False),
        ('<IMG SRC="a.png" ALT="">', False),
        ('<img src="a.png">', True),
        ('<img src="a.png" data-alt="x">', True),
        ('<img alt="a"><img src="b.png">', True),
        ('<div class="jp-Cell jp-Notebook-cell">', False),
        ('<div class="jp-Notebook">', True),
        ('<main class="x jp-Notebook y">', True),
    ],
)
def test_what_needs_the_pass(html, needed):
    assert needs_nbconvert_pass(html) is needed
