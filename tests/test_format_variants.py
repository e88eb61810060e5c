"""Cases written to the contract by other tools: same evidence, other shapes.

The engine must reach the same conclusion whatever the writer chose among
what CASE_FORMAT.md allows: Parquet instead of CSV, offsets in timestamps,
column order and extra columns, no session ids, no optional complaint
columns, optional files missing.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import polars as pl
import pytest

from forensics import investigate, load
from forensics.synth import generate

TIME_COLUMNS = {
    "at",
    "placed_at",
    "received_at",
    "contacted_at",
    "start_at",
    "end_at",
    "range_start",
    "range_end",
    "created_at",
    "disabled_at",
    "granted_at",
    "revoked_at",
}


def _rewrite(src: Path, dst: Path, how: str) -> None:
    shutil.copytree(src, dst)
    toml = (dst / "case.toml").read_text(encoding="utf-8")
    for f in sorted(dst.glob("*.csv")):
        enc = "gb18030" if f'[files.{f.stem}]\nencoding = "gb18030"' in toml else "utf-8-sig"
        frame = pl.read_csv(f.read_bytes().decode(enc).encode(), infer_schema=False)
        if how == "without_optional_files" and f.stem in ("camera", "badge", "apps"):
            f.unlink()
            continue
        if how == "parquet":
            f.unlink()
            frame.write_parquet(f.with_suffix(".parquet"))
            continue
        if how == "utc_offsets":
            frame = frame.with_columns(
                pl.col(c)
                .str.to_datetime(strict=False)
                .dt.replace_time_zone("Asia/Shanghai")
                .dt.convert_time_zone("UTC")
                .dt.strftime("%Y-%m-%dT%H:%M:%SZ")
                for c in frame.columns
                if c in TIME_COLUMNS
            )
        if how == "reordered_with_extras":
            frame = frame.select(list(reversed(frame.columns))).with_columns(
                pl.lit("x").alias("note2")
            )
        if how == "no_session_ids" and f.stem == "logins":
            frame = frame.drop("session_id")
        if how == "bare_complaints" and f.stem == "complaints":
            frame = frame.drop(
                [c for c in ("contacted_at", "quoted_fields", "category") if c in frame.columns]
            )
        frame.write_csv(f)
    # every CSV is UTF-8 now
    lines = [ln for ln in toml.splitlines() if not ln.startswith("encoding")]
    (dst / "case.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def originals(tmp_path_factory):
    made = {}

    def get(kind):
        if kind not in made:
            root = tmp_path_factory.mktemp(kind) / "case"
            generate(root, scenario=kind, seed=7, orders=2500, progress=False)
            made[kind] = root
        return made[kind]

    return get


VARIANTS = [
    "parquet",
    "utc_offsets",
    "reordered_with_extras",
    "no_session_ids",
    "bare_complaints",
    "without_optional_files",
]


@pytest.mark.parametrize("how", VARIANTS)
@pytest.mark.parametrize("kind", ["usb_malware", "insider_export", "third_party_app", "none"])
def test_same_conclusion_in_every_shape(originals, tmp_path, kind, how):
    if how == "without_optional_files" and kind == "usb_malware":
        pytest.skip("without the camera nothing places the insider at the machines")
    src = originals(kind)
    truth = json.loads((src / "truth.json").read_text())
    _rewrite(src, tmp_path / "case", how)
    doc = investigate(load(tmp_path / "case")).to_dict()
    assert doc["vector"]["kind"] == truth["vector"]
    if truth["insider_person_ids"]:
        assert doc["suspects"][0]["person_id"] in truth["insider_person_ids"]
    else:
        assert all(s["score"] < 0.5 for s in doc["suspects"])
