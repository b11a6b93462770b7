"""Monthly snapshots of the same dossiers: an upsert on dossier_id, every version kept, and the
figures of any past day reproduced (``--as-of``)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from ingest_helpers import report, write_csv

from cchc_analysis import cli, ingest, store
from cchc_analysis.core.schema import coerce_dossiers
from cchc_analysis.ingest.spool import changed_closed_months, close_on_snapshot, content_hash

DONE, OPEN = "Đã trả kết quả", "Đang xử lý"


def _dossier(i: int, *, received: str, due: str, status: str, closed: str = "") -> dict:
    """One row with the national portal's field names (district 314, Kiến Thụy)."""
    return {
        "MaHoSo": f"000.00.314.H-{i:04d}",
        "MaDonVi": "314",
        "TenTTHC": "Cấp bản sao trích lục hộ tịch",
        "KenhThucHien": "2",
        "NgayTiepNhan": received,
        "NgayHenTra": due,
        "NgayKetThucXuLy": closed,
        "TrangThai": status,
    }


def july() -> list[dict]:
    """Exported 31/07/2023: 30 dossiers received in July, 10 closed, 20 being processed."""
    rows = []
    for i in range(1, 31):
        if i <= 10:
            rows.append(
                _dossier(
                    i, received="03/07/2023", due="20/07/2023", status=DONE, closed="14/07/2023"
                )
            )
        else:
            rows.append(_dossier(i, received="10/07/2023", due="15/08/2023", status=OPEN))
    return rows


def august() -> list[dict]:
    """Exported 31/08/2023: H-0010 reopened (a correction), H-0011..20 returned in August,
    five new dossiers received in August."""
    rows = july()
    rows[9] = _dossier(10, received="03/07/2023", due="20/07/2023", status=OPEN)
    for i in range(10, 20):
        rows[i] = _dossier(
            i + 1, received="10/07/2023", due="15/08/2023", status=DONE, closed="10/08/2023"
        )
    rows += [
        _dossier(i, received="07/08/2023", due="30/09/2023", status=OPEN) for i in range(31, 36)
    ]
    return rows


def september() -> list[dict]:
    """Exported 30/09/2023: H-0010 closed again, H-0021..25 and the August five returned in
    September; H-0026's result is entered late with a July date (a closed month changes)."""
    rows = august()
    rows[9] = _dossier(
        10, received="03/07/2023", due="20/07/2023", status=DONE, closed="12/09/2023"
    )
    for i in range(20, 25):
        rows[i] = _dossier(
            i + 1, received="10/07/2023", due="15/08/2023", status=DONE, closed="05/09/2023"
        )
    rows[25] = _dossier(
        26, received="10/07/2023", due="15/08/2023", status=DONE, closed="28/07/2023"
    )
    for i in range(30, 35):
        rows[i] = _dossier(
            i + 1, received="07/08/2023", due="30/09/2023", status=DONE, closed="20/09/2023"
        )
    return rows


SNAPSHOTS = {"2023-07-31": july, "2023-08-31": august, "2023-09-30": september}
MONTHS = {"2023-07-31": "2023-07", "2023-08-31": "2023-08", "2023-09-30": "2023-09"}
FIGURES = (
    "received_new_count",
    "carried_over_count",
    "resolved_total_count",
    "pending_total_count",
    "withdrawn_count",
)


def _ingest(capsys, path: Path, out: Path, day: str | None) -> tuple[int, str]:
    args = ["ingest", str(path), "--kind", "dossiers", "--out", str(out)]
    code = cli.main([*args, "--as-of", day] if day else args)
    return code, capsys.readouterr().out


def _kpis(capsys, out: Path, period: str, as_of: str | None = None) -> dict:
    args = ["kpis", "--data", str(out), "--period", period, "--unit", "314", "--format", "json"]
    assert cli.main([*args, "--as-of", as_of] if as_of else args) == 0
    [row] = json.loads(capsys.readouterr().out)
    return {k: row[k] for k in FIGURES}


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("exports")
    return {day: write_csv(folder / f"hoso-{day}.csv", make()) for day, make in SNAPSHOTS.items()}


def test_each_month_counts_and_as_of_reproduces_them(tmp_path, capsys, files):
    in_order = tmp_path / "in-order"
    first_figures = {}
    for day, path in files.items():
        assert _ingest(capsys, path, in_order, day)[0] == 0
        first_figures[day] = _kpis(capsys, in_order, MONTHS[day])
    assert first_figures["2023-07-31"] == {
        "received_new_count": 30,
        "carried_over_count": 0,
        "resolved_total_count": 10,
        "pending_total_count": 20,
        "withdrawn_count": 0,
    }
    # August: H-0010 reopened, so 21 carried over from July; 10 returned, 16 pending
    assert first_figures["2023-08-31"] == {
        "received_new_count": 5,
        "carried_over_count": 21,
        "resolved_total_count": 10,
        "pending_total_count": 16,
        "withdrawn_count": 0,
    }
    # September: H-0026's late July date takes it out of August's carry-over
    assert first_figures["2023-09-30"] == {
        "received_new_count": 0,
        "carried_over_count": 15,
        "resolved_total_count": 11,
        "pending_total_count": 4,
        "withdrawn_count": 0,
    }
    stored = store.read_dossiers(in_order)
    assert len(stored) == 35 and stored["dossier_id"].is_unique

    # the same snapshots, the August one arriving last (older than what is stored)
    shuffled = tmp_path / "shuffled"
    for day in ("2023-07-31", "2023-09-30", "2023-08-31"):
        assert _ingest(capsys, files[day], shuffled, day)[0] == 0
    last = report(shuffled)
    # kept as versions only: the 16 rows whose content differs from the version before August
    # (July's), even where September shows the same: as of August they were not yet that
    assert (last["rows_older"], last["rows_updated"], last["rows_added"]) == (16, 0, 0)
    assert _kpis(capsys, shuffled, "2023-09") == first_figures["2023-09-30"]  # current stays
    for folder in (in_order, shuffled):
        for day, month in MONTHS.items():
            assert _kpis(capsys, folder, month, as_of=day) == first_figures[day], (folder, day)
    # as of August, July's figures are those August's snapshot showed (H-0010 open again)
    july_then = _kpis(capsys, shuffled, "2023-07", as_of="2023-08-31")
    assert july_then["resolved_total_count"] == 9 and july_then["pending_total_count"] == 21
    # before the first snapshot there was nothing
    args = ["kpis", "--data", str(shuffled), "--period", "2023-07", "--unit", "314"]
    assert cli.main([*args, "--as-of", "2023-07-30"]) == 2
    capsys.readouterr()
    # the as-of folder is built once, and again when the dossiers change
    cached = shuffled / store.AS_OF_DIR / "2023-08-31"
    assert store.read_dataset_info(cached)["as_of"] == "2023-08-31"
    built = (cached / ".state.json").stat().st_mtime_ns
    _kpis(capsys, shuffled, "2023-08", as_of="2023-08-31")
    assert (cached / ".state.json").stat().st_mtime_ns == built


def test_report_as_of_renders_from_that_day(tmp_path, capsys, files, monkeypatch):
    from test_runner import write_notebooks

    monkeypatch.setenv("CCHC_NOTEBOOKS", str(write_notebooks(tmp_path / "notebooks")))
    out = tmp_path / "out"
    for day, path in files.items():
        _ingest(capsys, path, out, day)
    reports = tmp_path / "reports"
    args = ["report", "--data", str(out), "--period", "2023-07", "--units", "314"]
    assert cli.main([*args, "--out", str(reports), "--as-of", "2023-07-31", "--quiet"]) == 0
    manifest = json.loads((reports / "manifest.json").read_text(encoding="utf-8"))
    assert {r["status"] for r in manifest["reports"]} == {"ok"}
    assert (out / store.AS_OF_DIR / "2023-07-31" / store.CUBE_FILE).exists()


def test_a_run_too_large_to_hold_its_ids_finds_the_same_stored_rows(
    tmp_path, capsys, files, monkeypatch
):
    """Past RUN_IDS_LIMIT the stored rows are matched by key hashes, not by ids: every month's
    account and the rows stored are the same."""
    from cchc_analysis.ingest import spool

    found = {}
    for limit in (spool.RUN_IDS_LIMIT, 0):
        monkeypatch.setattr(spool, "RUN_IDS_LIMIT", limit)
        out = tmp_path / f"limit-{limit}"
        accounts = []
        for day, path in files.items():
            assert _ingest(capsys, path, out, day)[0] == 0
            accounts.append({k: v for k, v in report(out).items() if k.startswith("rows_")})
        rows = store.read_dossiers(out)
        found[limit] = accounts, rows.sort_values("dossier_id", ignore_index=True)
    (accounts, rows), (by_keys, rows_by_keys) = found.values()
    assert accounts == by_keys and accounts[1]["rows_updated"] > 0
    pd.testing.assert_frame_equal(rows, rows_by_keys)


def test_account_counts_and_closed_periods(tmp_path, capsys, files):
    out = tmp_path / "out"
    code, stdout = _ingest(capsys, files["2023-07-31"], out, "2023-07-31")
    assert code == 0 and report(out)["rows_added"] == 30
    code, stdout = _ingest(capsys, files["2023-08-31"], out, "2023-08-31")
    found = report(out)
    assert (
        found["rows_added"],
        found["rows_updated"],
        found["rows_corrected"],
        found["rows_duplicate"],
    ) == (5, 10, 1, 19)
    assert found["rows_read"] == found["rows_accepted"] == 35
    assert [c["dossier_id"] for c in found["corrections"]] == ["000.00.314.H-0010"]
    assert "1 corrected" in stdout and "correction: 000.00.314.H-0010" in stdout
    # H-0010 reopened changes July (closed before August); the August returns change nothing
    assert found["changed_closed_periods"] == [
        {"unit_code": "314", "period": "2023-07", "dossier_count": 1}
    ]
    _ingest(capsys, files["2023-09-30"], out, "2023-09-30")
    found = report(out)
    assert (found["rows_updated"], found["rows_corrected"], found["rows_duplicate"]) == (12, 0, 23)
    periods = {(p["period"], p["dossier_count"]) for p in found["changed_closed_periods"]}
    # H-0026 returned on 28/07 changes July and August (pending at their ends); H-0010 closed
    # on 12/09 and the others in September change no closed month
    assert periods == {("2023-07", 1), ("2023-08", 1)}
    versions = pd.read_parquet(out / store.VERSIONS_DIR)
    assert len(versions) == 30 + 16 + 12
    assert set(versions["source_file"]) == {f"hoso-{d}.csv" for d in SNAPSHOTS}
    assert versions["exported_at"].notna().all()

    # rerunning a snapshot adds nothing, nor does an older one already stored
    before = sorted(p.name for p in (out / store.VERSIONS_DIR).rglob("*.parquet"))
    for day in ("2023-09-30", "2023-08-31"):
        assert _ingest(capsys, files[day], out, day)[0] == 0
        again = report(out)
        assert again["rows_duplicate"] == again["rows_read"] == 35, day
    assert sorted(p.name for p in (out / store.VERSIONS_DIR).rglob("*.parquet")) == before
    assert len(store.read_dossiers(out)) == 35


def test_snapshot_date_from_title_then_mtime(tmp_path):
    titled = tmp_path / "titled.csv"
    body = pd.DataFrame(july()[:3])
    titled.write_text(
        "Danh sách hồ sơ\nNgày xuất: 15/08/2025\n" + body.to_csv(index=False), encoding="utf-8"
    )
    plain = write_csv(tmp_path / "plain.csv", july()[3:5])
    os.utime(plain, (1_700_000_000, 1_700_000_000))
    found = ingest.ingest([titled, plain], "dossiers", tmp_path / "out")
    assert found["snapshot_dates"]["titled.csv"].startswith("2025-08-15")
    assert found["snapshot_dates"]["plain.csv"].startswith("2023-11-1")  # its mtime
    info = store.read_dataset_info(tmp_path / "out")
    assert info["snapshot_date"] == "2025-08-15"


def test_withdrawn_without_date_closes_on_its_first_snapshot():
    frame = coerce_dossiers(
        pd.DataFrame(
            {
                "dossier_id": ["A", "B", "C"],
                "status": ["withdrawn", "withdrawn", "processing"],
                "resolved_at": pd.to_datetime([None, "2025-08-03", None]),
            }
        )
    )
    stamp = pd.Series(pd.to_datetime(["2025-08-31 10:00"] * 3))
    closed = close_on_snapshot(frame, stamp)
    assert closed["resolved_at"].dt.strftime("%Y-%m-%d").fillna("-").tolist() == [
        "2025-08-31",
        "2025-08-03",
        "-",
    ]
    assert closed["is_closed_on_snapshot"].tolist() == [True, False, False]
    # stored so, it hashes as the undated row: a later snapshot still undated is unchanged
    assert (content_hash(closed) == content_hash(frame)).all()
    # the same date given by an export is content like any other
    given = closed.assign(is_closed_on_snapshot=False)
    assert (content_hash(given) == content_hash(frame)).tolist() == [False, True, True]


def test_closed_months_of_a_change():
    def row(resolved, status="returned", field="Hộ tịch", when="2023-09-30"):
        return {
            "dossier_id": "A",
            "unit_code": "314",
            "received_at": pd.Timestamp("2023-06-05"),
            "due_at": pd.Timestamp("2023-06-20"),
            "resolved_at": pd.Timestamp(resolved) if resolved else pd.NaT,
            "returned_at": pd.NaT,
            "status": status,
            "field": field,
            "exported_at": pd.Timestamp(when),
        }

    def months(old, new):
        found = changed_closed_months(
            pd.DataFrame([old]), pd.DataFrame([new]), pd.Timestamp("2023-09-30")
        )
        return sorted(period for _, period in found)

    # closed in September (the snapshot's month): no closed month changes
    assert months(row(None, "processing"), row("2023-09-02")) == []
    # closed on 28/07 entered late: July and August (pending at their ends) change
    assert months(row(None, "processing"), row("2023-07-28")) == ["2023-07", "2023-08"]
    # a field corrected: every month it counts in, from June, and the quarter before
    assert months(row("2023-07-28"), row("2023-07-28", field="Đất đai")) == [
        "2023-06",
        "2023-07",
        "2023-Q2",
    ]
    assert months(row(None, "processing"), row(None, "processing")) == []


def _dates(values: list) -> pd.Series:
    return pd.Series(pd.to_datetime(values, format="ISO8601")).astype("datetime64[ms]")


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (["a", None, "b", None, "é"], ["a", None, "c", "x", "é"]),
        (pd.array([True, None, False, None], "boolean"), pd.array([True, None, True, False])),
        ([True, False], [True, True]),
        (pd.array([1, None, 3, None], "Int16"), pd.array([1, None, 4, 2], "Int16")),
        (
            _dates(["2026-09-30 10:00", None, "2026-01-01"]),
            _dates(["2026-09-30 10:00", None, None]),
        ),
        (pd.Categorical(["x", None, "y", "x"]), pd.Categorical(["x", None, "x", None], ["x", "y"])),
        (pd.Categorical(["x", None, "y"]), pd.Categorical(["x", None, "y"], categories=["y", "x"])),
        ([0.0, -0.0, np.nan], [0.0, 0.0, np.nan]),
    ],
)
def test_columns_differ_where_their_texts_do(old, new):
    """Which replaced rows changed a column: compared as they are where that is exact, as
    text otherwise; either way where the values' texts differ (two missing values alike)."""
    from cchc_analysis.ingest.spool import _differs

    a, b = pd.Series(old), pd.Series(new)
    if isinstance(old, list) and isinstance(old[0], str):
        a, b = a.astype("string"), b.astype("string")
    as_text = [
        x != y
        for x, y in zip(
            a.astype("string").fillna("\x00"), b.astype("string").fillna("\x00"), strict=True
        )
    ]
    assert _differs(a, b).tolist() == as_text


def test_scheduled_run_renders_only_the_reports_whose_figures_changed(
    demo_dir, tmp_path, monkeypatch
):
    """June 2025's reports of two districts: a snapshot adding only July's dossiers renders
    none again; one correcting three of Kiến Thụy's (314) June dossiers renders its report and
    the province's (which shows every district's rows), not An Lão's (313), whose own rows and
    comparisons with the province are unchanged; the same snapshot again renders none."""
    from conftest import run_cchc
    from test_runner import write_notebooks
    from test_scheduled import CONFIG

    monkeypatch.setenv("CCHC_NOTEBOOKS", str(write_notebooks(tmp_path / "notebooks")))
    config = tmp_path / "cchc.toml"
    config.write_text(CONFIG, encoding="utf-8")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    every = store.read_dossiers(demo_dir).drop(columns=["district_code"])
    june = every[(every["received_at"] >= "2025-06-01") & (every["received_at"] < "2025-07-01")]
    early_july = every[
        (every["received_at"] >= "2025-07-01") & (every["received_at"] < "2025-07-04")
    ]

    def run(name: str, frame: pd.DataFrame, mtime: int, today: str) -> dict[str, str]:
        frame.to_csv(inbox / name, index=False)
        os.utime(inbox / name, (mtime, mtime))
        run_cchc("run", "--config", str(config), "--today", today, "--quiet")
        manifest = tmp_path / "reports" / "2025-06" / "manifest.json"
        records = json.loads(manifest.read_text(encoding="utf-8"))["reports"]
        return {r["file"]: r["status"] for r in records}

    assert set(run("hoso-1.csv", june, 1_751_500_000, "2025-07-15").values()) == {"ok"}
    both = pd.concat([june, early_july])
    assert set(run("hoso-2.csv", both, 1_751_600_000, "2025-07-16").values()) == {"skipped"}

    kien_thuy = store.read_dossiers(demo_dir, ["314"], columns=["dossier_id"])["dossier_id"]
    chosen = both["dossier_id"].isin(june.loc[june["dossier_id"].isin(kien_thuy), "dossier_id"][:3])
    corrected = both.copy()
    corrected.loc[chosen, "procedure_name"] = "Đăng ký khai sinh (sửa tên thủ tục)"
    found = run("hoso-3.csv", corrected, 1_751_700_000, "2025-07-17")
    assert found == {
        "313-an-lao.html": "skipped",
        "314-kien-thuy.html": "ok",
        "province-31-hai-phong.html": "ok",
    }
    account = json.loads(
        next((tmp_path / "archive").rglob("hoso-3.csv.ingest.json")).read_text("utf-8")
    )
    assert account["rows_updated"] == 3 and account["rows_added"] == 0
    again = run("hoso-4.csv", corrected, 1_751_800_000, "2025-07-18")
    assert set(again.values()) == {"skipped"}


def test_reports_say_as_of_which_day():
    from cchc_analysis.reports.sections.title import data_as_of

    assert "Số liệu tính đến ngày 31/08/2025" in data_as_of({"as_of": "2025-08-31"}, "vi")
    newest = data_as_of({"snapshot_date": "2025-09-30"}, "en")
    assert "Figures as of" in newest and "2025" in newest
    assert data_as_of({"source": "demo"}, "vi") == ""  # the demo's folder does not say
