"""What every report page carries for a leader: the demo banner when the data are synthetic,
a printed foot with unit, period and page number, and tables that scroll in their own box."""

from __future__ import annotations

import string

import pandas as pd

from cchc_analysis.reports.html_blocks import is_synthetic, page_frame, table_html
from cchc_analysis.reports.wording import PHRASES


def test_demo_folders_are_recognised():
    assert is_synthetic({"source": "synthetic demo"})  # demo folders written before the mark
    assert is_synthetic({"is_synthetic": True, "source": "anything"})
    assert not is_synthetic({"source": "cchc ingest (one-stop system exports)"})
    assert not is_synthetic({})


def test_page_frame_prints_unit_period_page_and_banner():
    frame = page_frame(
        'Huyện "Kiến Thụy" </style> · Quý III/2023',
        demo_text="DỮ LIỆU MÔ PHỎNG — không phải số liệu chính thức",
        page_word="Trang",
    )
    style = frame.split("</style>")[0]
    assert "@bottom-left" in style and "counter(page)" in style and "counter(pages)" in style
    assert '\\"Kiến Thụy\\"' in style and "\\3C /style>" in style  # cannot close the element
    assert '@top-center { content: "DỮ LIỆU MÔ PHỎNG' in style
    assert '<p class="demo-banner" role="note">DỮ LIỆU MÔ PHỎNG' in frame
    real = page_frame("Huyện Kiến Thụy · Quý III/2023", demo_text=None, page_word="Trang")
    assert "@top-center" not in real and "demo-banner" not in real


def test_tables_scroll_in_their_own_box():
    html = table_html(pd.DataFrame({"Đơn vị": ["Kiến Thụy"], "Số hồ sơ": ["1.473"]}))
    assert html.startswith('<div class="table-scroll"><table')
    assert '</table></div><p class="downloads">' in html


def test_both_languages_take_the_same_values():
    """A phrase whose English asks for a value the Vietnamese does not (or the reverse) fails
    only when a report is rendered in that language: check every entry here."""

    def fields(template: str) -> set[str]:
        return {f for _, f, _, _ in string.Formatter().parse(template) if f}

    differ = {k for k, (vi, en) in PHRASES.items() if fields(vi) != fields(en)}
    # each of these is always given every value either language asks for
    assert differ == {
        "period.quarter",
        "period.month",
        "trend_subject.timeliness",
        "trend_subject.online",
        "trend_subject.summary",
        "summary.position.commune",
        "nav.overview",
        "section.position",  # "trong tỉnh" / "trong thành phố": the province's own word
        "section.totals",
        "attention.who.province",
    }


def test_tables_download_as_csv_and_xlsx_as_shown():
    import base64
    import io
    import re

    from cchc_analysis.reports.xlsx import xlsx_bytes

    shown = pd.DataFrame(
        {
            "Mã": ["00314"],
            "Đơn vị": ['<a href="314-kien-thuy.html">Kiến Thụy</a>'],
            "Tỷ lệ": ["99,46%"],
        }
    )
    html = table_html(shown, caption="Bảng xếp hạng", markup_columns=["Đơn vị"])
    (csv,) = re.findall(r'download="bang-xep-hang\.csv" href="data:text/csv;base64,([^"]+)"', html)
    assert base64.b64decode(csv).decode("utf-8-sig").splitlines() == [
        "Mã,Đơn vị,Tỷ lệ",
        '00314,Kiến Thụy,"99,46%"',  # the link's text, codes and rates as the table shows them
    ]
    (xlsx,) = re.findall(r'download="bang-xep-hang\.xlsx" href="data:[^;]+;base64,([^"]+)"', html)
    back = pd.read_excel(io.BytesIO(base64.b64decode(xlsx)), dtype=str)
    assert back.to_dict("records") == [{"Mã": "00314", "Đơn vị": "Kiến Thụy", "Tỷ lệ": "99,46%"}]
    two = pd.read_excel(io.BytesIO(xlsx_bytes([("A", shown), ("B", shown)])), sheet_name=None)
    assert list(two) == ["A", "B"]


def test_chart_ticks_say_their_exact_value_and_counts_are_plain():
    from xml.etree import ElementTree

    from cchc_analysis.reports import plots

    assert plots.rate_tick(0.98, "vi") == "98%"
    assert plots.rate_tick(0.975, "vi") == "97,5%"  # never "98%" at 97,5
    peers = pd.DataFrame(
        {"unit_code": ["313", "314"], "short_name": ["An Lão", "Kiến Thụy"], "rate": [0.93, 0.99]}
    )
    chart = plots.ranking_bars(peers, "rate", "short_name", "314", "t", "vi", target=0.98)
    assert chart.x.labels and all("." not in label for label in chart.x.labels)  # decimal comma
    assert "trục bắt đầu từ" in chart.x.title
    svg = ElementTree.fromstring(chart.svg())
    texts = [t.text for t in svg.iter("{http://www.w3.org/2000/svg}text")]
    assert "mục tiêu 98%" in texts and "99,0%" in texts and "93,0%" in texts
    rects = svg.iter("{http://www.w3.org/2000/svg}rect")
    bars = [r.get("fill") for r in rects if r.get("y") and r.get("fill")]
    assert bars == [plots.PALETTE["muted"], plots.PALETTE["highlight"]]  # own unit accented
