"""A national-format dossier export (MaHoSo, MaTTHC, NgayTiepNhan, ...) of any size, for the
ingest benchmarks: the demo's dossiers of one district, tiled under new ids to ``rows``.

Codes as the national sync record writes them (TrangThaiHoSo 1-10, KenhThucHien 1/2/3, MucDo
2/3/4, 0/1 flags), dates as dd/MM/yyyy HH:mm:ss, plus the personal columns an export carries
(ChuHoSo, TrichYeuHoSo) that ingest must drop.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

STATUS_CODE = {
    "awaiting_intake": "1",
    "received": "2",
    "refused": "3",
    "processing": "4",
    "supplement_requested": "5",
    "withdrawn": "7",
    "stopped": "8",
    "resolved": "9",
    "returned": "10",
    "rejected": "8",
}
CHANNEL_CODE = {"in_person": "1", "online": "2", "postal": "3"}
LEVEL_CODE = {"none": "2", "partial": "3", "full": "4"}
DATE_FORMAT = "%d/%m/%Y %H:%M:%S"


def national_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Canonical dossiers as a national sync record (strings, as a CSV holds them)."""

    # Office hours to the second, as the systems stamp them: most cells are distinct.
    clock = np.random.default_rng(16).integers(7 * 3600, 17 * 3600, size=(4, len(frame)))

    def stamp(column: str, which: int) -> pd.Series:
        seconds = pd.to_timedelta(clock[which % 4], unit="s")
        values = pd.to_datetime(frame[column]).to_numpy() + seconds.to_numpy()
        return pd.Series(values, index=frame.index).dt.strftime(DATE_FORMAT).fillna("")

    def flag(column: str) -> pd.Series:
        return frame[column].map({True: "1", False: "0"}).astype(object).fillna("")

    return pd.DataFrame(
        {
            "MaHoSo": frame["dossier_id"].astype(str),
            "MaDonViTiepNhan": frame["unit_code"].astype(str),
            "MaTTHC": frame["procedure_code"].astype(str),
            "TenTTHC": frame["procedure_name"].astype(str),
            "TenLinhVuc": frame["field"].astype(str),
            "NgayNopHoSo": stamp("received_at", 0),
            "NgayTiepNhan": stamp("received_at", 0),
            "NgayHenTra": stamp("due_at", 1),
            "NgayKetThucXuLy": stamp("resolved_at", 2),
            "NgayTra": stamp("returned_at", 3),
            "TrangThaiHoSo": frame["status"].astype(str).map(STATUS_CODE),
            "KenhThucHien": frame["channel"].astype(str).map(CHANNEL_CODE),
            "MucDo": frame["online_level"].astype(str).map(LEVEL_CODE),
            "HoSoCoThanhPhanSoHoa": flag("is_digitized"),
            "DuocThanhToanTrucTuyen": flag("is_paid_online"),
            "TaiKhoanDuocXacThucVoiVNeID": "0",
            "XaPhuongDiaBan": "",
            "ChuHoSo": "Nguyễn Văn An",
            "TrichYeuHoSo": "Hồ sơ của ông Nguyễn Văn An, 0912345678",
        }
    )


def write_national_csv(path: Path, rows: int, district: str = "314") -> int:
    """``rows`` dossiers of ``district`` (tiled under new ids) as a national-format CSV."""
    from cchc_analysis.demo import synth

    base = national_frame(synth.generate_dossiers(district_codes=[district]))
    # The base's lines are written by pandas once; a tile is those lines with "-t<n>" after
    # the id (the first cell: no comma or quote in an id), as pandas would write them, at a
    # fraction of the cost (a 20M-row file in seconds, not minutes).
    assert not base["MaHoSo"].str.contains('[,"]').any()
    lines = base.to_csv(index=False, header=False, lineterminator="\r\n").split("\r\n")[:-1]
    assert len(lines) == len(base)  # no line break inside a cell
    ids, rests = zip(*(line.split(",", 1) for line in lines), strict=True)
    written, tile = 0, 0
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        handle.write(",".join(base.columns) + "\r\n")
        while written < rows:
            count = min(len(lines), rows - written)
            suffix = f"-t{tile}" if tile else ""
            handle.write(
                "".join(
                    f"{i}{suffix},{r}\r\n" for i, r in zip(ids[:count], rests[:count], strict=True)
                )
            )
            written += count
            tile += 1
    return written


def count_lines(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))


__all__ = ["national_frame", "write_national_csv", "count_lines", "np"]
