"""Open rendered reports in Debian's Chromium (headless, through Playwright) and record what a
reader's browser would do with them; build one-stop exports for the ingest-to-report tests.

Nothing is downloaded: Playwright launches the system browser at ``CCHC_CHROMIUM`` (default
``/usr/bin/chromium``). Without it the browser tests skip and pytest's summary says so in one
line; with ``CCHC_REQUIRE_BROWSER=1`` (set by ``.ci/run``) a missing browser fails them.
Every request to another host is aborted and counted; pages are opened as ``file://`` URLs,
as leadership opens the files.
"""

from __future__ import annotations

import functools
import os
import shutil
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
DEFAULT_CHROMIUM = "/usr/bin/chromium"
AXE_JS = HERE / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOT_DIR = ROOT / "reports" / "test-screenshots"  # git-ignored (reports/*)
LAUNCH_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
)
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:")

# Runs first in every page: records anything a payload could call instead of letting it act.
HOOKS_JS = """
(() => {
  const calls = [];
  Object.defineProperty(window, '__cchcExecuted', { value: calls });
  const record = (what) => function (...args) {
    calls.push(what + '(' + args.map((a) => String(a)).join(', ') + ')');
  };
  window.__pwned = record('__pwned');
  for (const name of ['alert', 'confirm', 'prompt', 'print', 'open']) {
    window[name] = record(name);
  }
})();
"""
# Elements that could run code: event-handler attributes, javascript: URLs, foreign scripts.
ACTIVE_CONTENT_JS = """
() => {
  const found = [];
  for (const el of document.querySelectorAll('*')) {
    for (const attr of Array.from(el.attributes)) {
      const name = attr.name.toLowerCase();
      if (name.startsWith('on')) found.push(`${el.tagName}[${name}]`);
      if (['href', 'src', 'action', 'formaction', 'xlink:href', 'data'].includes(name)
          && /^\\s*(javascript|vbscript):/i.test(attr.value)) {
        found.push(`${el.tagName}[${name}=${attr.value.slice(0, 40)}]`);
      }
    }
  }
  for (const script of document.scripts) {
    if (script.src || /__pwned|alert|onerror/.test(script.textContent)) {
      found.push('SCRIPT ' + (script.src || script.textContent.slice(0, 60)));
    }
  }
  for (const tag of ['iframe', 'object', 'embed', 'base', 'form', 'meta[http-equiv]']) {
    document.querySelectorAll(tag).forEach(() => found.push(tag));
  }
  return found;
}
"""
IMAGES_JS = """
async () => Promise.all(Array.from(document.images).map(async (img) => {
  let decoded = true;
  try { await img.decode(); } catch (e) { decoded = false; }
  return {
    alt: img.getAttribute('alt'),
    width: img.naturalWidth,
    height: img.naturalHeight,
    decoded: decoded,
    src: (img.getAttribute('src') || '').slice(0, 30),
  };
}))
"""
LINKS_JS = """
() => {
  const anchors = Array.from(document.querySelectorAll('a[href]'));
  const local = anchors.filter((a) => a.getAttribute('href').startsWith('#'));
  return {
    toc: Array.from(document.querySelectorAll('nav.toc a[href]'))
      .map((a) => a.getAttribute('href')),
    missing: local.map((a) => a.getAttribute('href'))
      .filter((h) => !document.getElementById(decodeURIComponent(h.slice(1)))),
    other: anchors.filter((a) => !a.getAttribute('href').startsWith('#')).map((a) => a.href),
  };
}
"""
AXE_RUN_JS = """
async () => {
  const result = await axe.run(document, { resultTypes: ['violations'] });
  return result.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    count: v.nodes.length,
    nodes: v.nodes.slice(0, 5).map((n) => n.target.join(' ') + ': ' + n.failureSummary),
  }));
}
"""


# --- the browser -------------------------------------------------------------------------------


def chromium_path() -> Path | None:
    """The system Chromium to drive, or None when it is not installed."""
    path = Path(os.environ.get("CCHC_CHROMIUM") or DEFAULT_CHROMIUM)
    return path if path.is_file() and os.access(path, os.X_OK) else None


def browser_required() -> bool:
    return os.environ.get("CCHC_REQUIRE_BROWSER", "").strip().lower() in ("1", "true", "yes")


class _Notice:
    """Lines for pytest's terminal summary (each once), under a heading when it has one."""

    def __init__(self, title: str | None) -> None:
        self.title = title
        self.lines: list[str] = []

    def pytest_terminal_summary(self, terminalreporter) -> None:
        if self.lines and self.title:
            terminalreporter.write_sep("-", self.title)
        for line in dict.fromkeys(self.lines):
            terminalreporter.write_line(line, yellow=self.title is None, bold=self.title is None)


def notice(config: pytest.Config, line: str, title: str | None = None) -> None:
    """Add a line to the end of pytest's output (under ``title``, if given)."""
    name = f"cchc-notice-{title or 'plain'}"
    plugin = config.pluginmanager.get_plugin(name)
    if plugin is None:
        plugin = _Notice(title)
        config.pluginmanager.register(plugin, name)
    plugin.lines.append(line)


def unavailable(config: pytest.Config, what: str, reason: str) -> None:
    """Skip, with one line for the whole run in pytest's summary; or, when a browser is
    required (CI), fail."""
    if browser_required():
        pytest.fail(f"{reason}, and CCHC_REQUIRE_BROWSER is set", pytrace=False)
    notice(config, f"{what} skipped: {reason}")
    pytest.skip(reason)


@contextmanager
def launch(config: pytest.Config) -> Iterator[Any]:
    """The system Chromium, headless, or a skip when it (or Playwright) is missing."""
    path = chromium_path()
    if path is None:
        shown = os.environ.get("CCHC_CHROMIUM") or DEFAULT_CHROMIUM
        unavailable(
            config,
            "browser tests",
            f"no Chromium at {shown} (apt-get install chromium, or set CCHC_CHROMIUM)",
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable(
            config, "browser tests", "Playwright for Python is missing (pip install -e '.[dev]')"
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(path), args=list(LAUNCH_ARGS))
        try:
            yield browser
        finally:
            browser.close()


def require_axe(config: pytest.Config) -> Path:
    if not AXE_JS.is_file():
        unavailable(
            config,
            "accessibility checks",
            f"axe-core is not installed ({AXE_JS.relative_to(ROOT)}; `make test` runs "
            "`npm ci` in tests/browser when npm is present)",
        )
    return AXE_JS


# --- one page ----------------------------------------------------------------------------------


@dataclass
class Visit:
    """What happened while one page was open."""

    path: Path
    title: str = ""
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    blocked_requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    executed: list[str] = field(default_factory=list)
    active_content: list[str] = field(default_factory=list)
    images: list[dict] = field(default_factory=list)
    toc_links: list[str] = field(default_factory=list)
    missing_anchors: list[str] = field(default_factory=list)
    other_links: list[str] = field(default_factory=list)
    text: str = ""
    screenshot: Path | None = None
    axe: list[dict] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def undecoded_images(self) -> list[dict]:
        return [i for i in self.images if not i["decoded"] or i["width"] <= 0]


def visit(
    browser,
    path: Path,
    *,
    screenshot: Path | None = None,
    axe: bool = False,
    interact: Callable[[Any, Visit], None] | None = None,
) -> Visit:
    """Open ``path`` offline in a fresh context, with the execution hooks, and record it all."""
    result = Visit(path=path)
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="vi-VN", offline=True
    )
    context.add_init_script(HOOKS_JS)

    def route(route_obj) -> None:
        url = route_obj.request.url
        if url.startswith(LOCAL_SCHEMES):
            route_obj.continue_()
        else:
            result.blocked_requests.append(url)
            route_obj.abort("blockedbyclient")

    context.route("**/*", route)
    page = context.new_page()
    page.on("console", lambda m: result.console_errors.append(m.text) if m.type == "error" else 0)
    page.on("pageerror", lambda e: result.page_errors.append(str(e)))
    page.on("requestfailed", lambda r: result.failed_requests.append(f"{r.url}: {r.failure}"))

    def on_dialog(dialog) -> None:
        result.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    try:
        page.goto(path.resolve().as_uri(), wait_until="load")
        result.title = page.title()
        result.images = page.evaluate(IMAGES_JS)
        links = page.evaluate(LINKS_JS)
        result.toc_links, result.missing_anchors = links["toc"], links["missing"]
        result.other_links = links["other"]
        result.text = page.inner_text("body")
        result.extra["overflow_px"] = page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        result.active_content = page.evaluate(ACTIVE_CONTENT_JS)
        if interact is not None:
            interact(page, result)
        if screenshot is not None:
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(screenshot), full_page=True)
            result.screenshot = screenshot
        result.executed = list(page.evaluate("() => Array.from(window.__cchcExecuted)"))
        if axe:  # last: axe's own script must not count as the page's
            page.add_script_tag(path=str(AXE_JS))
            result.axe = page.evaluate(AXE_RUN_JS)
    finally:
        context.close()
    return result


def publish_screenshot(config: pytest.Config, source: Path) -> Path:
    """Copy a screenshot to reports/test-screenshots/ and list both paths in the summary."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    target = SCREENSHOT_DIR / source.name
    shutil.copyfile(source, target)
    notice(config, f"{source.stem}: {target} (run copy: {source})", title="screenshots")
    return target


def serious(violations: Iterable[dict]) -> list[dict]:
    return [v for v in violations if v["impact"] in ("serious", "critical")]


# --- one-stop exports --------------------------------------------------------------------------

# Canonical column -> a header as one-stop systems write it (headers.DOSSIER_ALIASES).
VI_HEADERS = {
    "dossier_id": "Mã hồ sơ",
    "unit_code": "Mã đơn vị",
    "unit_name": "Đơn vị tiếp nhận",
    "procedure_code": "Mã TTHC",
    "procedure_name": "Tên thủ tục hành chính",
    "field": "Lĩnh vực",
    "channel": "Kênh nộp",
    "online_level": "Mức độ DVC",
    "received_at": "Ngày tiếp nhận",
    "due_at": "Ngày hẹn trả",
    "resolved_at": "Ngày có kết quả",
    "returned_at": "Ngày trả kết quả",
    "status": "Trạng thái",
    "is_digitized": "Đã số hóa",
    "has_e_result": "Có kết quả điện tử",
    "is_fee_bearing": "Có phí/lệ phí",
    "is_paid_online": "Thanh toán trực tuyến",
    "rating": "Đánh giá",
}
VI_LABELS = {
    "status": {
        "received": "Đã tiếp nhận",
        "processing": "Đang xử lý",
        "supplement_requested": "Yêu cầu bổ sung",
        "resolved": "Đã có kết quả",
        "returned": "Đã trả kết quả",
        "rejected": "Từ chối",
        "withdrawn": "Rút hồ sơ",
    },
    "channel": {"in_person": "Trực tiếp", "online": "Trực tuyến", "postal": "Bưu chính công ích"},
    "online_level": {"full": "Toàn trình", "partial": "Một phần", "none": "Mức độ 2"},
    "rating": {
        "very_satisfied": "Rất hài lòng",
        "satisfied": "Hài lòng",
        "dissatisfied": "Không hài lòng",
    },
}


@functools.lru_cache(maxsize=2)
def _district_dossiers(district: str) -> pd.DataFrame:
    from cchc_analysis.demo import synth

    return synth.generate_dossiers(
        district_codes=[district], start=date(2023, 1, 1), end=date(2023, 9, 30), calibrate=False
    )


def sample_dossiers(district: str = "314", n: int = 2400, seed: int = 6) -> pd.DataFrame:
    """A few thousand canonical dossiers of one district, received Jan–Sep 2023."""
    frame = _district_dossiers(district)
    frame = frame.sample(n=min(n, len(frame)), random_state=seed)
    return frame.sort_values("received_at", kind="stable").reset_index(drop=True)


def one_stop_export(frame: pd.DataFrame) -> pd.DataFrame:
    """Canonical dossiers as a one-stop export: Vietnamese headers, labels, dd/mm/yyyy dates."""
    out = {}
    for column, header in VI_HEADERS.items():
        values = frame[column].astype(object)
        if column in VI_LABELS:
            labels = VI_LABELS[column]
            values = values.map(lambda v, labels=labels: "" if pd.isna(v) else labels[str(v)])
        elif column.endswith("_at"):
            values = values.map(lambda v: "" if pd.isna(v) else f"{pd.Timestamp(v):%d/%m/%Y}")
        elif column.startswith(("is_", "has_")):
            values = values.map(lambda v: "" if pd.isna(v) else ("Có" if v else "Không"))
        else:
            values = values.map(lambda v: "" if pd.isna(v) else str(v))
        out[header] = values.to_numpy()
    return pd.DataFrame(out)


def write_csv(frame: pd.DataFrame, path: Path) -> Path:
    """A CSV as Excel on Windows saves it: UTF-8 with a BOM, CRLF, cells with CR/LF quoted."""
    frame.to_csv(path, index=False, encoding="utf-8-sig", lineterminator="\r\n")
    return path


def write_xlsx(
    frame: pd.DataFrame,
    path: Path,
    title: str | None = None,
    formulas: Iterable[tuple[int, str]] = (),
) -> Path:
    """An XLSX export (optional title row above the header). Text starting with '=' stays
    text, except in the ``formulas`` cells (row position, column), written as live formulas."""
    import openpyxl

    live = set(formulas)
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "DanhSachHoSo"
    if title:
        sheet.append([title])
    sheet.append(list(frame.columns))
    for cell in sheet[sheet.max_row]:
        if cell.data_type == "f":
            cell.data_type = "s"  # a header is text, whatever it starts with
    for position, values in enumerate(frame.itertuples(index=False)):
        sheet.append([None if v == "" else v for v in values])
        for cell, column in zip(sheet[sheet.max_row], frame.columns, strict=False):
            if cell.data_type == "f" and (position, column) not in live:
                cell.data_type = "s"  # openpyxl takes any '=' text for a formula
    workbook.save(path)
    return path
