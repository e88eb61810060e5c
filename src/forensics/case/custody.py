"""Chain of custody: the case is never written to, and still matches its findings.

:func:`output_folder` is the one check that an output folder lies outside
the case folder (every command and notebook that writes calls it).

``findings.json`` records the SHA-256 of every input. ``forensics verify OUT
CASE`` hashes the case folder again and compares, file by file, so anyone
holding the findings can check that the evidence they have is the evidence
that was investigated.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ._errors import OutputInCaseError
from ._readers import sha256_file

__all__ = ["CustodyCheck", "verify_findings", "run_verify", "output_folder", "OutputInCaseError"]


def output_folder(out: str | Path, case: str | Path, *, create: bool = True) -> Path:
    """``out`` as a Path, created when ``create``, after checking it is not
    the case folder nor inside it: the case is evidence, nothing is ever
    written into it.

    Raises
    ------
    OutputInCaseError
        ``out`` is the case folder or lies inside it (symlinks resolved).
    """
    out_path, case_path = Path(out).resolve(), Path(case).resolve()
    if out_path == case_path or case_path in out_path.parents:
        raise OutputInCaseError(f"refusing to write inside the case folder: {out}")
    if create:
        out_path.mkdir(parents=True, exist_ok=True)
    return Path(out)


@dataclass(frozen=True)
class CustodyCheck:
    file: str
    status: str  # "ok", "changed", "missing"
    recorded: str
    actual: str | None


def verify_findings(findings_json: Path, case_path: Path) -> list[CustodyCheck]:
    """Compare the hashes recorded in ``findings_json`` with ``case_path`` now.

    Raises
    ------
    ValueError
        When ``findings_json`` is not a findings file of this tool.
    """
    doc = json.loads(Path(findings_json).read_text(encoding="utf-8"))
    if not str(doc.get("format", "")).startswith("forensics.findings/") or "inputs" not in doc:
        raise ValueError(f"{findings_json} is not a forensics findings file")
    root = Path(case_path).resolve()
    checks = []
    for item in doc["inputs"]:
        path = (root / item["file"]).resolve()
        if root not in path.parents:  # a findings file must not steer us out of the case
            raise ValueError(f"{item['file']!r} is outside the case folder")
        if not path.is_file():
            checks.append(CustodyCheck(item["file"], "missing", item["sha256"], None))
            continue
        actual = sha256_file(path)
        status = "ok" if actual == item["sha256"] else "changed"
        checks.append(CustodyCheck(item["file"], status, item["sha256"], actual))
    return checks


def run_verify(out: Path, case_path: Path) -> int:
    """CLI entry: 0 when every input matches, 1 otherwise, 2 when unreadable."""
    findings = Path(out) / "findings.json" if Path(out).is_dir() else Path(out)
    try:
        checks = verify_findings(findings, case_path)
    except (OSError, ValueError, json.JSONDecodeError) as exc:
        print(f"forensics verify: {exc}")
        return 2
    width = max((len(c.file) for c in checks), default=4)
    for c in checks:
        print(
            f"{c.file:<{width}}  {c.status:<7}  {c.recorded[:16]}"
            + (f"  now {c.actual[:16]}" if c.status == "changed" else "")
        )
    bad = [c for c in checks if c.status != "ok"]
    print(
        f"{len(checks) - len(bad)} of {len(checks)} inputs match the findings"
        + ("" if not bad else f"; {len(bad)} do not")
    )
    return 1 if bad else 0
