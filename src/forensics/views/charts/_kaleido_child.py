"""Draw static chart images with kaleido, in a process of their own.

Run by :func:`forensics.views.charts.exporting.export_many` as a script (by
path, so that nothing of forensics is imported here)::

    python _kaleido_child.py SPECS.json CHROMIUM

``SPECS.json`` holds kaleido's ``write_fig_from_object`` list (figure dict,
target path, options). Kaleido's browser driver, choreographer, keeps
threads reading the browser's pipe and logs through :mod:`logging`; in a
long-lived process (a notebook kernel, the test runner) one export's
leftovers could meet the next one's. Here they end with the process, and
whatever it logs goes to this process's stderr, which the parent reads and
never shows whole. On failure the last line of stderr is one sentence:
``error: <kind>: <message>``, and the exit status is 1.

Chromium is started through :data:`WRAPPER`, which, unlike
choreographer's own wrapper, gives Chromium's standard output to its
standard error: otherwise anything Chromium or its helpers print lands in
the DevTools pipe between protocol messages, and the message it lands in is
dropped (choreographer logs a ``JSONError`` traceback) while kaleido waits
for its reply.
"""

from __future__ import annotations

import json
import logging
import signal
import sys
from pathlib import Path

__all__ = ["WRAPPER", "main"]

WRAPPER = Path(__file__).with_name("_chromium_wrapper.py")
"""The script choreographer runs, which then becomes Chromium."""

EXTRA_FLAGS = ("--disable-background-networking", "--disable-default-apps")
"""No connections of Chromium's own (a closed network refuses them slowly)."""

IMAGE_TIMEOUT = 90
"""Seconds kaleido may take to draw one image."""


def _browser_class():
    from choreographer.browsers import chromium

    class Chromium(chromium.Chromium):
        def get_cli(self):
            cli = list(super().get_cli())
            if sys.platform != "win32" and len(cli) > 1:
                cli[1] = str(WRAPPER)
            return [*cli, *EXTRA_FLAGS]

    return Chromium


def _stop(_signum, _frame):
    raise SystemExit(2)  # unwinds kaleido's context: the browser is closed


def main(argv: list[str]) -> int:
    specs_file, browser = argv
    signal.signal(signal.SIGTERM, _stop)
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING, format="%(name)s: %(message)s")
    import kaleido

    specs = json.loads(Path(specs_file).read_text(encoding="utf-8"))
    try:
        kaleido.write_fig_from_object_sync(
            specs,
            kopts={
                "path": browser,
                "mathjax": False,  # no LaTeX in these charts, and no CDN to load it from
                "timeout": IMAGE_TIMEOUT,
                "browser_cls": _browser_class(),
            },
            cancel_on_error=True,
        )
    except Exception as exc:  # noqa: BLE001 - kaleido/choreographer raise many kinds
        message = " ".join(str(exc).split()) or "no message"
        print(f"error: {type(exc).__name__}: {message[:500]}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
