"""A report's tables as files beside it: ``<report>_bang/<nn>-<slug>.csv`` and ``.xlsx``.

Every table of a report carries its CSV and XLSX inline, as data: links
(:func:`~cchc_analysis.reports.html_blocks.download_links`), so a notebook rendered anywhere
still offers them. The runner hands the rendered page to :func:`extract_downloads`, writes
the files it returns next to the HTML and keeps the page, whose links now point to them
relatively: the page gets smaller, and the files travel (and open offline) with the folder.

The CSV is the table as shown (UTF-8 with BOM, Vietnamese headers, "99,46%"); the XLSX is
built from it with typed cells: rates are numbers shown as percentages, counts whole numbers,
codes and everything else text exactly as shown.
"""

from __future__ import annotations

import base64
import binascii
import csv
import html
import io
import itertools
import re
from pathlib import PurePosixPath
from urllib.parse import quote

import pandas as pd
from babel.numbers import NumberFormatError, parse_decimal

from cchc_analysis.reports.xlsx import Percent, xlsx_bytes
from cchc_analysis.units import slugify

TABLES_SUFFIX = "_bang"  # "bảng": the folder of a report's tables
_BLOCK = re.compile(r'<p class="downloads">(.*?)</p>', re.S)
_ANCHOR = re.compile(
    r'<a download="(?P<name>[^"]*)" href="data:(?P<type>[^;"]+);base64,(?P<data>[A-Za-z0-9+/=]*)"'
)
# A shown number: digits with the language's separators, an optional sign and percent sign;
# no leading zero (a code such as "0314" stays text).
_SHOWN_NUMBER = re.compile(
    r"^(?P<sign>[+\-−]?)(?P<body>(?:0|[1-9][\d.,]*)(?:[.,]\d+)?)(?P<pct>%?)$"
)
_CODE_HEADS = ("mã", "code")  # columns of codes stay text whatever they hold
_SHEET_NAMES = {"vi": "Bảng", "en": "Table"}


def tables_folder(report_file: str) -> str:
    """The folder of a report's table files: ``314-kien-thuy.html`` -> ``314-kien-thuy_bang``."""
    return f"{PurePosixPath(report_file).stem}{TABLES_SUFFIX}"


def extract_downloads(page: str, report_file: str, lang: str) -> tuple[str, dict[str, bytes]]:
    """The page with each table's data: links replaced by relative links to files, and those
    files as {path relative to the page's folder: bytes}.

    Tables are numbered in page order (``01-``, ``02-`` …) before their caption's slug, so
    names are unique in the page and the same from one run to the next.
    """
    folder = tables_folder(report_file)
    files: dict[str, bytes] = {}
    numbers = itertools.count(1)

    def relink(block: re.Match[str]) -> str:
        anchors = list(_ANCHOR.finditer(block.group(1)))
        decoded = {a.group("name").rsplit(".", 1)[-1].lower(): _decode(a) for a in anchors}
        if not anchors or any(raw is None for raw in decoded.values()):
            return block.group(0)  # not ours (or damaged): left as it is
        number = next(numbers)
        csv = decoded.get("csv")
        if csv is not None:
            decoded["xlsx"] = typed_xlsx(csv, lang)
        inner = block.group(1)
        for anchor in anchors:
            name = anchor.group("name")
            stem, _, suffix = name.rpartition(".")
            suffix = suffix.lower()
            file_name = f"{number:02d}-{slugify(stem)[:60] or 'bang'}.{suffix}"
            raw = decoded[suffix]
            assert raw is not None
            files[f"{folder}/{file_name}"] = raw
            inner = inner.replace(
                anchor.group(0),
                f'<a download="{html.escape(file_name)}" href="{quote(folder)}/{quote(file_name)}"',
            )
        return f'<p class="downloads">{inner}</p>'

    return _BLOCK.sub(relink, page), files


def _decode(anchor: re.Match[str]) -> bytes | None:
    try:
        return base64.b64decode(anchor.group("data"), validate=True)
    except (binascii.Error, ValueError):
        return None


def typed_xlsx(table_csv: bytes, lang: str) -> bytes:
    """The table of a CSV (as the page shows it) as a workbook with typed cells: "99,46%" a
    :class:`Percent` 0.9946, "1.473" the whole number 1473, "2,5" the number 2.5 (in
    Vietnamese); codes, missing marks ("–") and words stay text, so nothing is lost."""
    lines = list(csv.reader(io.StringIO(table_csv.decode("utf-8-sig"))))
    header, rows = (lines[0], lines[1:]) if lines else ([], [])
    is_code = [h.strip().lower().startswith(_CODE_HEADS) for h in header]
    typed = [
        [cell if code else shown_value(cell, lang) for cell, code in zip(row, is_code, strict=True)]
        for row in rows
    ]
    frame = pd.DataFrame(typed, columns=header, dtype=object)  # object: keeps Percent
    return xlsx_bytes([(_SHEET_NAMES.get(lang, "Bảng"), frame)])


def shown_value(text: str, lang: str) -> object:
    """One shown cell as a number when it is one in ``lang``'s format, else the text."""
    match = _SHOWN_NUMBER.match(text.strip())
    if match is None:
        return text
    try:
        number = parse_decimal(match.group("body"), locale=lang, strict=True)
    except NumberFormatError:
        return text
    if match.group("sign") in ("-", "−"):
        number = -number
    if match.group("pct"):
        return Percent(number / 100)
    if number.as_tuple().exponent == 0:  # shown without decimals: a count
        return int(number)
    return float(number)
