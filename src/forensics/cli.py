"""Command line: ``forensics investigate | validate | generate | report | import | timeline``.

Each sub-command is a thin shell over a library call; the handlers import
lazily so ``forensics --help`` stays fast.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path

from .vocab import VectorKind

__all__ = ["main"]


def _cmd_validate(args: argparse.Namespace) -> int:
    from .case.validation import print_validation

    return print_validation(Path(args.case), max_reasons=args.reasons)


def _cmd_generate(args: argparse.Namespace) -> int:
    from .synth import generate
    from .synth.monitoring import generate_monitoring

    try:
        if args.scenario == "monitoring":
            truth = generate_monitoring(
                Path(args.out), seed=args.seed, people=args.people, days=args.days
            )
        else:
            truth = generate(
                Path(args.out),
                scenario=args.scenario,
                seed=args.seed,
                orders=args.orders,
                fmt=args.format,
                progress=not args.quiet,
                opened_at=args.opened_at,
                leak_on=args.leak_on,
                variants=args.variant,
            )
    except (FileExistsError, ValueError) as exc:
        print(f"forensics: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {args.scenario} case to {args.out} (vector {truth['vector']})")
    return 0


NOTES_HELP = "investigator notes (JSONL, kept outside the case): identify, exclude, comment, tag"


def _notes(args: argparse.Namespace) -> Path | None:
    return Path(args.notes) if getattr(args, "notes", None) else None


def _cmd_investigate(args: argparse.Namespace) -> int:
    from .investigate import run_investigation

    return run_investigation(
        Path(args.case), Path(args.out), progress=not args.quiet, notes=_notes(args)
    )


def _cmd_report(args: argparse.Namespace) -> int:
    from .response.report import run_report

    return run_report(
        Path(args.case),
        Path(args.out),
        reveal=args.reveal,
        progress=not args.quiet,
        notes=_notes(args),
    )


def _cmd_respond(args: argparse.Namespace) -> int:
    from .response.respond import run_respond

    return run_respond(
        Path(args.case), Path(args.out), reveal_contacts=args.reveal_contacts, notes=_notes(args)
    )


def _cmd_audit(args: argparse.Namespace) -> int:
    from .watch import run_audit

    return run_audit(Path(args.case), Path(args.out) if args.out else None)


def _cmd_verify(args: argparse.Namespace) -> int:
    from .case.custody import run_verify

    return run_verify(Path(args.out), Path(args.case))


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="forensics", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)

    v = sub.add_parser("validate", help="check a case folder and print what was read")
    v.add_argument("case")
    v.add_argument(
        "--reasons",
        type=int,
        default=20,
        help="lines to print of each listing (quarantine, unregistered, unlisted)",
    )
    v.set_defaults(func=_cmd_validate)

    g = sub.add_parser("generate", help="write a synthetic case with truth.json")
    g.add_argument("out")
    g.add_argument(
        "--scenario",
        default="usb_malware",
        choices=[*(k.value for k in VectorKind.scenarios()), "monitoring"],
    )
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--orders", type=int, default=5000)
    g.add_argument("--people", type=int, default=300, help="monitoring: staff size")
    g.add_argument("--days", type=int, default=28, help="monitoring: days of logs")
    g.add_argument("--format", choices=["csv", "parquet", "auto"], default="auto")
    g.add_argument("--opened-at", help="when the case was opened, e.g. 2024-04-12T10:00:00")
    g.add_argument("--leak-on", help="day the leak starts, e.g. 2024-04-04")
    g.add_argument(
        "--variant",
        action="append",
        metavar="NAME",
        help="shop-life variant to lay over the scenario (repeatable, or a,b; 'random' draws "
        "1-3 from the seed); see datasets/README.md",
    )
    g.add_argument("--quiet", action="store_true")
    g.set_defaults(func=_cmd_generate)

    i = sub.add_parser("investigate", help="investigate a case, write findings.json")
    i.add_argument("case")
    i.add_argument("--out", required=True)
    i.add_argument("--quiet", action="store_true")
    i.add_argument(
        "--notes",
        help="investigator notes (JSONL, kept outside the case): identify, exclude, comment, tag",
    )
    i.set_defaults(func=_cmd_investigate)

    r = sub.add_parser("report", help="investigate and write report.html with charts")
    r.add_argument("case")
    r.add_argument("--out", required=True)
    r.add_argument("--reveal", action="store_true", help="show personal data unmasked")
    r.add_argument("--quiet", action="store_true")
    r.add_argument(
        "--notes",
        help="investigator notes (JSONL, kept outside the case): identify, exclude, comment, tag",
    )
    r.set_defaults(func=_cmd_report)

    s = sub.add_parser("respond", help="affected buyers, platform report, remediation checklist")
    s.add_argument("case")
    s.add_argument("--out", required=True)
    s.add_argument(
        "--reveal-contacts",
        action="store_true",
        help="write buyers' phone numbers unmasked (the file is marked sensitive)",
    )
    s.add_argument(
        "--notes",
        help="investigator notes (JSONL, kept outside the case): identify, exclude, comment, tag",
    )
    s.set_defaults(func=_cmd_respond)

    a = sub.add_parser("audit", help="account-hygiene audit, usable before any leak")
    a.add_argument("case")
    a.add_argument("--out")
    a.set_defaults(func=_cmd_audit)

    ve = sub.add_parser("verify", help="re-hash a case against the findings produced from it")
    ve.add_argument("out", help="folder holding findings.json")
    ve.add_argument("case")
    ve.set_defaults(func=_cmd_verify)

    from .interchange.commands import add_commands  # import evtx|csv, timeline

    add_commands(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from .case import CaseError

    try:
        return int(args.func(args) or 0)
    except CaseError as exc:
        print(f"forensics: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader went away (`forensics investigate ... | head -1`): what
        # was to be written is written; no traceback, and nothing more to
        # flush at exit into the closed pipe.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 128 + signal.SIGPIPE


if __name__ == "__main__":
    raise SystemExit(main())
