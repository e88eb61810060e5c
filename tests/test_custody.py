"""Chain of custody: evidence untouched, runs replayable, changes detected."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from forensics.cli import main
from forensics.synth import generate


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    root = tmp_path_factory.mktemp("custody") / "case"
    generate(root, scenario="insider_export", seed=3, orders=2500, progress=False)
    return root


def _snapshot(folder: Path) -> dict:
    return {
        p.name: (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(folder.iterdir())
        if p.is_file()
    }


def test_a_full_run_leaves_the_case_untouched(case, tmp_path):
    before = _snapshot(case)
    assert main(["investigate", str(case), "--out", str(tmp_path / "out"), "--quiet"]) == 0
    assert _snapshot(case) == before
    assert sorted(p.name for p in case.iterdir()) == sorted(before)


def test_findings_are_byte_identical_across_runs_and_hash_seeds(case, tmp_path):
    outputs = []
    for seed in ("1", "4242"):
        out = tmp_path / f"run{seed}"
        env = {**os.environ, "PYTHONHASHSEED": seed}
        subprocess.run(
            [
                sys.executable,
                "-m",
                "forensics.cli",
                "investigate",
                str(case),
                "--out",
                str(out),
                "--quiet",
            ],
            check=True,
            env=env,
            capture_output=True,
        )
        outputs.append((out / "findings.json").read_bytes())
    assert outputs[0] == outputs[1]


def test_verify_accepts_the_case_and_names_a_changed_file(case, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["investigate", str(case), "--out", str(out), "--quiet"]) == 0
    assert main(["verify", str(out), str(case)]) == 0
    copy = tmp_path / "copy"
    shutil.copytree(case, copy)
    with (copy / "access.csv").open("a", encoding="utf-8") as fh:
        fh.write("\n")
    (copy / "badge.csv").unlink()
    capsys.readouterr()
    assert main(["verify", str(out), str(copy)]) == 1
    printed = capsys.readouterr().out
    assert "access.csv" in printed and "changed" in printed
    assert "badge.csv" in printed and "missing" in printed


def test_findings_record_version_settings_and_hashes(case, tmp_path):
    import json

    import forensics

    out = tmp_path / "out"
    main(["investigate", str(case), "--out", str(out), "--quiet"])
    doc = json.loads((out / "findings.json").read_text())
    assert doc["tool"]["version"] == forensics.__version__
    assert doc["tool"]["settings"]["alpha"] > 0
    assert {i["file"] for i in doc["inputs"]} >= {"case.toml", "orders.csv", "access.csv"}
    assert all(len(i["sha256"]) == 64 for i in doc["inputs"])
