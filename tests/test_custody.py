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


# --------------------------------------------------------------------------- units


def _findings_file(path: Path, inputs: dict[str, str]) -> Path:
    import json

    doc = {
        "format": "forensics.findings/1",
        "inputs": [{"file": f, "sha256": h} for f, h in inputs.items()],
    }
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def test_verify_findings_says_ok_changed_or_missing_per_file(tmp_path):
    import hashlib

    from forensics.case.custody import verify_findings

    case = tmp_path / "case"
    (case / "sub").mkdir(parents=True)
    (case / "a.csv").write_bytes(b"id\n1\n")
    (case / "sub" / "b.csv").write_bytes(b"id\n2\n")
    good = hashlib.sha256(b"id\n1\n").hexdigest()
    recorded = {"a.csv": good, "sub/b.csv": "0" * 64, "gone.csv": "1" * 64}
    checks = {
        c.file: c for c in verify_findings(_findings_file(tmp_path / "f.json", recorded), case)
    }
    assert {f: c.status for f, c in checks.items()} == {
        "a.csv": "ok",
        "sub/b.csv": "changed",
        "gone.csv": "missing",
    }
    assert checks["a.csv"].actual == good and checks["gone.csv"].actual is None
    assert checks["sub/b.csv"].actual == hashlib.sha256(b"id\n2\n").hexdigest()


def test_verify_findings_refuses_other_files_and_paths_out_of_the_case(tmp_path):
    import json

    from forensics.case.custody import verify_findings

    case = tmp_path / "case"
    case.mkdir()
    (tmp_path / "secret.csv").write_text("x")
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"format": "something/1", "inputs": []}))
    with pytest.raises(ValueError, match="not a forensics findings file"):
        verify_findings(other, case)
    steer = _findings_file(tmp_path / "f.json", {"../secret.csv": "0" * 64})
    with pytest.raises(ValueError, match="outside the case folder"):
        verify_findings(steer, case)


def test_output_folder_refuses_the_case_and_what_lies_inside_it(tmp_path):
    from forensics.case import CaseError, OutputInCaseError
    from forensics.case.custody import output_folder

    case = tmp_path / "case"
    case.mkdir()
    for inside in (case, case / "out", case / "a" / ".." / "out"):
        with pytest.raises(OutputInCaseError, match="inside the case folder"):
            output_folder(inside, case)
    assert issubclass(OutputInCaseError, CaseError) and issubclass(OutputInCaseError, ValueError)
    link = tmp_path / "link"
    link.symlink_to(case, target_is_directory=True)
    with pytest.raises(OutputInCaseError):
        output_folder(link / "out", case)  # a symlink into the case is the case
    assert list(case.iterdir()) == []
    assert output_folder(tmp_path / "out", case).is_dir()
    assert not output_folder(tmp_path / "later", case, create=False).exists()
