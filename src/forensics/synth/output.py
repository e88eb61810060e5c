"""Write a :class:`SyntheticCase` as a case folder (CASE_FORMAT.md) + truth.json."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import polars as pl

from ..case.schema import TABLES
from .build import SyntheticCase, simulate

__all__ = ["generate", "write_case", "prepare_folder", "PARQUET_ABOVE"]

PARQUET_ABOVE = 200_000
"""``fmt="auto"`` writes Parquet when a case has more orders than this."""

_KNOWN = {"case.toml", "truth.json"} | {f"{t}.{ext}" for t in TABLES for ext in ("csv", "parquet")}

# Per-file timestamp styles, as different systems export them: the door
# controller writes a space, the app platform writes its UTC offset.
_DATETIME_FORMAT = {
    "badge": "%Y-%m-%d %H:%M:%S",
    "apps": "%Y-%m-%dT%H:%M:%S+08:00",
}
_ENCODED = ("orders", "complaints")  # exported from the platform, in its encoding


def prepare_folder(out: Path) -> None:
    """Create ``out``, or empty it if it holds a previously generated case.

    Raises
    ------
    FileExistsError
        ``out`` is a file, or a non-empty folder that is not a generated
        case (so nothing of the user's is ever overwritten).
    """
    if out.exists():
        if not out.is_dir():
            raise FileExistsError(f"{out} exists and is not a folder")
        entries = sorted(out.iterdir())
        if entries:
            generated = (
                (out / "case.toml").is_file()
                and (out / "truth.json").is_file()
                and all(e.is_file() and e.name in _KNOWN for e in entries)
            )
            if generated:
                try:
                    generated = "scenario" in json.loads((out / "truth.json").read_text("utf-8"))
                except (ValueError, UnicodeDecodeError):
                    generated = False
            if not generated:
                raise FileExistsError(
                    f"{out} is not empty and does not hold a generated case; "
                    "refusing to write into it"
                )
            for e in entries:
                e.unlink()
    out.mkdir(parents=True, exist_ok=True)


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return str(v)
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    return json.dumps(str(v), ensure_ascii=False)  # a JSON string is a valid TOML basic string


def case_toml(meta: dict) -> str:
    """``case.toml`` text for the case's metadata."""
    lines: list[str] = []
    for section in ("case", "business_hours"):
        lines.append(f"[{section}]")
        lines += [f"{k} = {_toml_value(v)}" for k, v in meta[section].items()]
        lines.append("")
    for name, settings in meta.get("files", {}).items():
        lines.append(f"[files.{name}]")
        lines += [f"{k} = {_toml_value(v)}" for k, v in settings.items()]
        lines.append("")
    return "\n".join(lines)


def _write_csv(df: pl.DataFrame, path: Path, table: str, encoding: str) -> None:
    text = df.write_csv(
        datetime_format=_DATETIME_FORMAT.get(table, "%Y-%m-%dT%H:%M:%S"),
        date_format="%Y-%m-%d",
        float_precision=2,
    )
    path.write_bytes(text.encode(encoding))


def write_case(case: SyntheticCase, out: Path, *, fmt: str = "csv") -> None:
    """Write every table, ``case.toml`` and ``truth.json`` into ``out``."""
    meta = json.loads(json.dumps(case.meta, default=str))
    if fmt == "csv" and case.encoding == "gb18030":
        for table in _ENCODED:
            meta["files"].setdefault(table, {})["encoding"] = "gb18030"
    for name, df in case.tables.items():
        if fmt == "parquet":
            df.write_parquet(out / f"{name}.parquet", statistics=True)
        else:
            enc = case.encoding if name in _ENCODED else "utf-8"
            _write_csv(df, out / f"{name}.csv", name, enc)
    (out / "case.toml").write_text(case_toml(meta), encoding="utf-8")
    (out / "truth.json").write_text(
        json.dumps(case.truth, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )


def generate(
    out: Path | str,
    *,
    scenario: str = "usb_malware",
    seed: int = 0,
    orders: int = 5000,
    fmt: str = "auto",
    progress: bool = False,
    opened_at: datetime | str | None = None,
    leak_on: date | str | None = None,
) -> dict:
    """Generate a synthetic leak case into the folder ``out``.

    Parameters
    ----------
    out : path
        Created if missing. A non-empty folder is only overwritten if it
        holds a previously generated case.
    scenario : str
        Leak path: ``usb_malware``, ``insider_export``, ``stale_account``,
        ``visitor_malware``, ``third_party_app`` or ``none``.
    seed : int
        Same seed and options, byte-identical files.
    orders : int
        Number of orders in the period (a few thousand to ten million).
    fmt : {"csv", "parquet", "auto"}
        ``auto`` writes Parquet above :data:`PARQUET_ABOVE` orders.
    progress : bool
        Print stages to stderr.
    opened_at : datetime or ISO str, optional
        When the case was opened (local time); drawn from the seed if absent.
    leak_on : date or ISO str, optional
        The day the leak starts; 6-10 days before opening if absent.

    Returns
    -------
    dict
        The truth, as written to ``truth.json``. Conventions (see
        :mod:`forensics.synth.plots`): for the two USB scenarios the path is
        the infected machines and ``account_ids`` is empty; ``leak_start``
        is the first infection, export, login or pull and ``leak_end`` the
        last leaking access; ``leaked_order_ids`` are sorted.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     truth = generate(tmp, scenario="none", seed=1, orders=500)
    >>> truth["vector"], truth["leaked_order_ids"]
    ('none', [])
    """
    if fmt not in ("csv", "parquet", "auto"):
        raise ValueError(f"fmt must be csv, parquet or auto, not {fmt!r}")
    out = Path(out)
    case = simulate(
        scenario, seed=seed, orders=orders, opened_at=opened_at, leak_on=leak_on, progress=progress
    )
    if fmt == "auto":
        fmt = "parquet" if orders > PARQUET_ABOVE else "csv"
    prepare_folder(out)
    write_case(case, out, fmt=fmt)
    return case.truth
