"""The ``forensics import evtx|csv`` and ``forensics timeline`` sub-commands.

Registered on the main parser by :func:`add_commands`; each handler is a thin
shell over a library call, imported lazily.
"""

from __future__ import annotations

import argparse
from pathlib import Path

__all__ = ["add_commands"]


def _import_evtx(args: argparse.Namespace) -> int:
    from .evtx import import_evtx

    result = import_evtx(args.files, Path(args.case), all_logons=args.all_logons)
    print(result.summary())
    return 0


def _import_csv(args: argparse.Namespace) -> int:
    from .vendor import import_table

    result = import_table(args.file, Path(args.case), mapping=args.mapping, sheet=args.sheet)
    print(result.summary())
    return 0


def _timeline(args: argparse.Namespace) -> int:
    from .export import run_timeline

    return run_timeline(
        Path(args.case), Path(args.out), fmt=args.format, reveal=args.reveal, tagged=args.tagged
    )


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Add ``import`` (``evtx``, ``csv``) and ``timeline`` to ``sub``."""
    imp = sub.add_parser("import", help="bring evidence in: Windows event logs, vendor tables")
    kinds = imp.add_subparsers(dest="source", required=True)

    ev = kinds.add_parser("evtx", help="Windows .evtx logs into CASE/endpoint.csv")
    ev.add_argument("--case", required=True, help="the case folder being built (created)")
    ev.add_argument("files", nargs="+", help=".evtx files (read only)")
    ev.add_argument(
        "--all-logons",
        action="store_true",
        help="keep non-interactive logons (network, service, ...) as kind 'other'",
    )
    ev.set_defaults(func=_import_evtx)

    cs = kinds.add_parser("csv", help="a vendor CSV/XLSX table into a case table, by a mapping")
    cs.add_argument("--case", required=True, help="the case folder being built (created)")
    cs.add_argument(
        "--mapping",
        required=True,
        help="a mapping TOML file, or the name of a shipped one (see forensics.interchange)",
    )
    cs.add_argument(
        "--sheet", help="worksheet of an .xlsx file (default: the mapping's, or the first)"
    )
    cs.add_argument("file", help="the vendor's export (.csv or .xlsx; read only)")
    cs.set_defaults(func=_import_csv)

    t = sub.add_parser("timeline", help="export the case's timeline (Timesketch JSONL or CSV)")
    t.add_argument("case")
    t.add_argument("--format", choices=["timesketch", "csv"], default="timesketch")
    t.add_argument("--out", required=True, help="the file to write (outside the case)")
    t.add_argument("--reveal", action="store_true", help="write personal data unmasked")
    t.add_argument(
        "--tagged",
        metavar="NOTES",
        help="only the events the investigator's notes (JSONL) name, with their tags",
    )
    t.set_defaults(func=_timeline)
