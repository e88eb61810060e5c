"""Writing charts to files: HTML by plotly, PNG, SVG and PDF by kaleido.

:func:`export` writes one chart, :func:`export_many` several with one
Chromium for all. HTML has plotly.js embedded. Static images are drawn by
kaleido 1.x in the Chromium :func:`find_chromium` finds, in a child process
(``_kaleido_child.py``), for three reasons found under load:

* kaleido's driver, choreographer, keeps a thread reading the browser's
  pipe; in a long-lived process (a notebook kernel, the test runner, two
  exports in threads) one export's leftover reader and file descriptors
  could meet the next one's, losing a protocol message (a ``JSONError``
  traceback on stderr) and leaving kaleido waiting for a reply that never
  comes (no image). A process per export ends them with it;
* Chromium's standard output was the DevTools pipe itself: the child starts
  Chromium through a wrapper that points it at standard error;
* whatever choreographer or Chromium log is the child's stderr: read by
  :func:`export_many` and never printed; a failure is one sentence in a
  :class:`ChartExportError`, never a traceback.

A batch that fails is drawn once more, in a new process with a new browser
(a slow start on a busy machine is the usual cause); the second failure is
reported. A batch that outlives :func:`_batch_timeout` is stopped.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

import plotly.graph_objects as go

__all__ = [
    "CHROMIUM_HINT",
    "ChartExportError",
    "FORMATS",
    "STATIC_FORMATS",
    "export",
    "export_many",
    "find_chromium",
]

FORMATS = ("html", "png", "svg", "pdf")
"""Formats :func:`export` writes."""

STATIC_FORMATS = ("png", "svg", "pdf")
"""Formats drawn by kaleido in a Chromium browser."""

CHROMIUM_HINT = (
    "static charts (PNG/SVG/PDF) need a Chromium browser: install Debian's chromium "
    "(apt-get install chromium) or run `make chromium`, or set FORENSICS_CHROMIUM "
    "to the browser's path"
)

ATTEMPTS = 2
"""A failed batch of images is drawn once more, in a new browser."""

_CHILD = Path(__file__).with_name("_kaleido_child.py")


class ChartExportError(RuntimeError):
    """A chart could not be exported (typically: no Chromium for kaleido)."""


def find_chromium() -> Path | None:
    """The Chromium (or Chrome) executable kaleido should drive, if any.

    Looked for, in order: ``$FORENSICS_CHROMIUM``, ``$BROWSER_PATH`` (the
    variable choreographer, kaleido's browser driver, reads),
    ``/usr/bin/chromium`` (Debian's package), ``chromium``/``chrome`` on
    ``PATH``, then a browser downloaded by ``kaleido_get_chrome`` or
    ``plotly_get_chrome``. A variable naming a missing file gives ``None``.
    """
    for var in ("FORENSICS_CHROMIUM", "BROWSER_PATH"):
        if value := os.environ.get(var):
            return Path(value) if _executable(value) else None
    candidates: list[str | None] = ["/usr/bin/chromium"]
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome"):
        candidates.append(shutil.which(name))
    candidates.append(_downloaded_chrome())
    return next((Path(c) for c in candidates if c and _executable(c)), None)


def _executable(path: str) -> bool:
    return os.path.isfile(path) and os.access(path, os.X_OK)


def _downloaded_chrome() -> str | None:
    try:
        from choreographer.cli import get_chrome_download_path

        found = get_chrome_download_path(mkdir=False)
    except Exception:  # noqa: BLE001 - best effort: any failure means "none downloaded"
        return None
    return str(found) if found else None


def export(
    fig: go.Figure,
    path: str | Path,
    *,
    formats: Sequence[str] = FORMATS,
    width: int | None = None,
    height: int | None = None,
    scale: float = 1.0,
) -> list[Path]:
    """Write ``fig`` as ``path`` with each format's suffix.

    Parameters
    ----------
    fig : plotly.graph_objects.Figure
        The chart.
    path : str or Path
        Target without suffix (a suffix that names a format is dropped):
        ``out/timeline`` writes ``out/timeline.html``, ``out/timeline.png``...
    formats : sequence of str
        Any of ``html``, ``png``, ``svg``, ``pdf``. HTML is self-contained
        (plotly.js embedded); the others are drawn by kaleido in Chromium.
    width, height : int, optional
        Size of static images in pixels; the figure's own size, else
        1400 × 700.
    scale : float
        Pixel density of PNG images.

    Returns
    -------
    list of Path
        The files written, in the order of ``formats``.

    Raises
    ------
    ChartExportError
        A static format was asked for and no Chromium is found, or Chromium
        failed to draw the chart. Nothing is written in the first case.
    ValueError
        An unknown format.

    See Also
    --------
    export_many : several charts, with one Chromium started for all.
    """
    return export_many([(fig, path, formats)], width=width, height=height, scale=scale)


def export_many(
    charts: Iterable[tuple[go.Figure, str | Path, Sequence[str]]],
    *,
    width: int | None = None,
    height: int | None = None,
    scale: float = 1.0,
) -> list[Path]:
    """Write several charts, each as :func:`export` would, drawing every
    static image in one Chromium session (starting Chromium takes seconds;
    drawing a chart in it, a fraction of one).

    Parameters
    ----------
    charts : iterable of (figure, path, formats)
        Each chart, its target without suffix and its formats.
    width, height, scale
        As for :func:`export`, for every chart.

    Returns
    -------
    list of Path
        The files written, chart by chart in the order of their formats.

    Raises
    ------
    ChartExportError, ValueError
        As :func:`export`; nothing is written when no Chromium is found.
    """
    jobs = []
    for fig, path, formats in charts:
        formats = [f.lower().lstrip(".") for f in formats]
        unknown = sorted(set(formats) - set(FORMATS))
        if unknown:
            raise ValueError(f"unknown chart format(s) {unknown}; choose from {list(FORMATS)}")
        base = Path(path)
        if base.suffix.lstrip(".").lower() in FORMATS:
            base = base.with_suffix("")
        jobs.append((fig, {f: base.with_name(f"{base.name}.{f}") for f in formats}))
    static = any(f in STATIC_FORMATS for _, targets in jobs for f in targets)
    browser = find_chromium() if static else None
    if static and browser is None:
        raise ChartExportError(f"no Chromium browser found: {CHROMIUM_HINT}")
    images = []
    for fig, targets in jobs:
        next(iter(targets.values()), Path()).parent.mkdir(parents=True, exist_ok=True)
        if "html" in targets:
            fig.write_html(
                targets["html"],
                include_plotlyjs=True,
                full_html=True,
                config={"displaylogo": False, "responsive": True},
            )
        images += [(fig, f, t) for f, t in targets.items() if f in STATIC_FORMATS]
    if images:
        _kaleido_write(images, browser, width, height, scale)
    return [t for _, targets in jobs for t in targets.values()]


def _batch_timeout(images: int) -> float:
    """Seconds a batch may take: Chromium's start, then each image (generous:
    a loaded machine is many times slower than an idle one)."""
    return 120.0 + 60.0 * images


def _kaleido_write(
    images: list[tuple[go.Figure, str, Path]],
    browser: Path,
    width: int | None,
    height: int | None,
    scale: float,
) -> None:
    """Draw every (figure, format, target) in one browser, in a child process."""
    from plotly.utils import PlotlyJSONEncoder

    specs = []
    dicts: dict[int, dict] = {}  # each figure converted once, whatever its formats
    for fig, fmt, target in images:
        if id(fig) not in dicts:
            dicts[id(fig)] = fig.to_dict()
        size = {
            "width": width or fig.layout.width or 1400,
            "height": height or fig.layout.height or 700,
        }
        specs.append(
            {
                "fig": dicts[id(fig)],
                "path": str(target),
                "opts": {"format": fmt, **size, "scale": scale if fmt == "png" else 1},
            }
        )
    with tempfile.TemporaryDirectory(prefix="forensics-export-") as tmp:
        spec_file = Path(tmp) / "specs.json"
        spec_file.write_text(json.dumps(specs, cls=PlotlyJSONEncoder), encoding="utf-8")
        why = ""
        for _attempt in range(ATTEMPTS):
            why = _draw_in_child(spec_file, browser, _batch_timeout(len(specs)))
            if not why:
                missing = [str(t) for _, _, t in images if not _written(t)]
                if not missing:
                    return
                why = f"kaleido wrote nothing to {', '.join(missing)}"
    raise ChartExportError(
        f"Chromium at {browser} could not draw the chart ({why}; tried {ATTEMPTS} times); "
        f"{CHROMIUM_HINT}"
    )


def _written(target: Path) -> bool:
    return target.is_file() and target.stat().st_size > 0


def _draw_in_child(spec_file: Path, browser: Path, timeout: float) -> str:
    """Run the child; return why it failed, or "" when it succeeded."""
    child = subprocess.Popen(
        [sys.executable, str(_CHILD), str(spec_file), str(browser)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        errors="replace",
    )
    try:
        _, err = child.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        child.send_signal(signal.SIGTERM)  # the child closes its browser on the way out
        try:
            child.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            child.kill()
            child.communicate()
        return f"no image after {timeout:.0f} s"
    if child.returncode == 0:
        return ""
    lines = [line.strip() for line in err.splitlines() if line.strip()]
    said = [line.removeprefix("error: ") for line in lines if line.startswith("error: ")]
    if said:
        return said[-1]
    return lines[-1][:300] if lines else f"exit status {child.returncode}"
