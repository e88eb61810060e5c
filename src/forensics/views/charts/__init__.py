"""Plotly figures of an investigation, and one helper to export them.

Every chart takes a :class:`forensics.investigate.Findings` first, options
after ``*``, and returns a :class:`plotly.graph_objects.Figure`; none calls
``.show()``. Times are shown in the case time zone (``case.timezone()``)
unless ``tz`` says otherwise.

Text that came from the case (ids, notes, summaries, complaint text) is
HTML-escaped with :func:`forensics.privacy.escape` before it reaches a label
or a hover box, and people's names are masked with
:func:`forensics.privacy.mask_name` unless ``reveal=True``.

:func:`export` writes HTML with plotly.js embedded, and PNG, SVG and PDF
through kaleido 1.x, which drives a Chromium browser found by
:func:`find_chromium`. Without one it raises :class:`ChartExportError`.

==================  =============================================
module              holds
==================  =============================================
:mod:`.spike`       :func:`complaint_spike`
:mod:`.coverage`    :func:`coverage`
:mod:`.timeline`    :func:`timeline` (its traces in ``_marks``)
:mod:`.graph`       :func:`evidence_graph`
:mod:`.exporting`   :func:`export`, :func:`export_many`,
                    :func:`find_chromium`
==================  =============================================
"""

from __future__ import annotations

from ._common import MAX_DEFAULT_SPAN, MAX_MARKS
from .coverage import coverage
from .exporting import (
    CHROMIUM_HINT,
    FORMATS,
    STATIC_FORMATS,
    ChartExportError,
    export,
    export_many,
    find_chromium,
)
from .graph import evidence_graph
from .spike import complaint_spike
from .timeline import timeline

__all__ = [
    "CHROMIUM_HINT",
    "ChartExportError",
    "FORMATS",
    "MAX_DEFAULT_SPAN",
    "MAX_MARKS",
    "STATIC_FORMATS",
    "complaint_spike",
    "coverage",
    "evidence_graph",
    "export",
    "export_many",
    "find_chromium",
    "timeline",
]
