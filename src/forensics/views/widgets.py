"""ipywidgets views for the notebooks: controls with a typed ``.value``.

In the manner of msticpy's ``QueryTime``, every control here exposes a plain,
typed ``.value`` (a level name, a pair of UTC datetimes, a person and a
machine id), and the library never receives a widget: a chart function is
called with those values, nothing else. No analysis happens in this module;
the views only choose what to draw and redraw it when a control changes.

==================  ======================================================
control             ``.value``
==================  ======================================================
:class:`LevelPicker`   ``str | None``: a common-point level, None for all
:class:`TimeWindow`    ``(start, end)``: UTC datetimes, half-open, whole
                       local days of the case
:class:`EntityFilter`  ``{"person": str | None, "machine": str | None}``
==================  ======================================================

:func:`coverage_view` and :func:`timeline_view` wire the controls to
:func:`forensics.views.charts.coverage` and :func:`forensics.views.charts.timeline`.
:func:`show_table` displays a frame with personal data masked and every cell
HTML-escaped, so text from the evidence never renders as markup.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Generic, TypedDict, TypeVar
from zoneinfo import ZoneInfo

import ipywidgets as widgets
import polars as pl

from .tables import Table, show_table

__all__ = [
    "LEVELS",
    "Entities",
    "LevelPicker",
    "TimeWindow",
    "EntityFilter",
    "ChartView",
    "Table",
    "coverage_view",
    "timeline_view",
    "show_table",
    "update_in_place",
]

LEVELS: tuple[str, ...] = (
    "account",
    "machine",
    "session",
    "device",
    "app",
    "ip",
    "event",
    "process",
)
"""The levels at which a common point of the complained orders is sought."""

T = TypeVar("T")


class _Control(Generic[T]):
    """A control: an ipywidgets ``widget`` and a typed ``value``.

    Displaying the control displays its widget; :meth:`observe` calls back
    with the new typed value, never with a widget or a traitlets change.
    """

    widget: widgets.Widget

    @property
    def value(self) -> T:  # pragma: no cover - overridden
        raise NotImplementedError

    def _traits(self) -> Iterable[tuple[widgets.Widget, str]]:
        """The (widget, trait) pairs whose change changes ``value``."""
        raise NotImplementedError  # pragma: no cover

    def observe(self, callback: Callable[[T], Any]) -> None:
        """Call ``callback(value)`` whenever the value changes."""

        def handler(_change: dict) -> None:
            callback(self.value)

        for widget, trait in self._traits():
            widget.observe(handler, names=trait)

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(value={self.value!r})"


class LevelPicker(_Control[str | None]):
    """Choose the level of common points to show: account, machine, ...

    Parameters
    ----------
    levels : sequence of str, optional
        The levels offered, in this order (default :data:`LEVELS`).
    value : str or None, optional
        Initial choice; None means every level.
    description : str, optional
        Label shown beside the drop-down.

    Examples
    --------
    >>> picker = LevelPicker(value="machine")
    >>> picker.value
    'machine'
    >>> picker.value = None
    >>> picker.value is None
    True
    """

    ALL = "all levels"
    _NONE = ""  # the widget's value for "all": a None value shows as no selection

    def __init__(
        self,
        levels: Sequence[str] = LEVELS,
        *,
        value: str | None = None,
        description: str = "Level",
    ) -> None:
        unknown = [lv for lv in levels if lv not in LEVELS]
        if unknown:
            raise ValueError(f"unknown level(s) {unknown}; expected some of {LEVELS}")
        self.levels = tuple(levels)
        self.widget = widgets.Dropdown(
            options=[(self.ALL, self._NONE), *((lv, lv) for lv in self.levels)],
            value=self._NONE,
            description=description,
        )
        self.value = value

    @classmethod
    def from_findings(cls, findings, *, value: str | None = None) -> LevelPicker:
        """The levels that have candidate paths in ``findings.points``."""
        present = set(findings.points["level"].unique().to_list())
        return cls([lv for lv in LEVELS if lv in present], value=value)

    @property
    def value(self) -> str | None:
        return self.widget.value or None

    @value.setter
    def value(self, level: str | None) -> None:
        if level is not None and level not in self.levels:
            raise ValueError(f"level {level!r} is not one of {self.levels}")
        self.widget.value = level or self._NONE

    def _traits(self):
        yield self.widget, "value"


class TimeWindow(_Control[tuple[datetime, datetime]]):
    """A range of whole local days, given as a half-open UTC interval.

    The slider runs over the calendar days ``first`` to ``last`` in the
    case's time zone ``tz``. ``value`` is ``(start, end)``: midnight starting
    the first chosen day and midnight ending the last one, both converted to
    UTC, so an event is inside when ``start <= at < end``.

    Parameters
    ----------
    first, last : date
        The first and last day offered (local to ``tz``).
    tz : str, optional
        IANA zone of the days (the case's zone; default UTC).
    value : (datetime, datetime), optional
        Initial window; each end is snapped to the local day it falls on.
        Default: the whole span.
    description : str, optional
        Label shown beside the slider.

    Examples
    --------
    >>> from datetime import date
    >>> window = TimeWindow(date(2024, 4, 1), date(2024, 4, 12), tz="Asia/Shanghai")
    >>> window.value[0].isoformat()
    '2024-03-31T16:00:00+00:00'
    >>> window.days = (date(2024, 4, 4), date(2024, 4, 4))
    >>> [t.isoformat() for t in window.value]
    ['2024-04-03T16:00:00+00:00', '2024-04-04T16:00:00+00:00']
    """

    def __init__(
        self,
        first: date,
        last: date,
        *,
        tz: str = "UTC",
        value: tuple[datetime, datetime] | None = None,
        description: str = "Days",
    ) -> None:
        if last < first:
            raise ValueError(f"last day {last} is before first day {first}")
        self.tz = tz
        self._zone = ZoneInfo(tz)
        days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
        self.widget = widgets.SelectionRangeSlider(
            options=[(d.strftime("%a %d %b"), d) for d in days],
            index=(0, len(days) - 1),
            description=description,
            continuous_update=False,
            layout=widgets.Layout(width="90%"),
        )
        if value is not None:
            self.value = value

    @classmethod
    def from_findings(cls, findings, **kwargs: Any) -> TimeWindow:
        """Every day of the case's timeline, in the case's time zone."""
        tz = findings.case.timezone()
        at = findings.timeline["at"].drop_nulls()
        if at.is_empty():
            today = datetime.now(UTC).astimezone(ZoneInfo(tz)).date()
            return cls(today, today, tz=tz, **kwargs)
        first = at.min().astimezone(ZoneInfo(tz)).date()
        last = at.max().astimezone(ZoneInfo(tz)).date()
        return cls(first, last, tz=tz, **kwargs)

    @property
    def days(self) -> tuple[date, date]:
        """The first and last chosen local day (inclusive)."""
        return self.widget.value

    @days.setter
    def days(self, days: tuple[date, date]) -> None:
        options = [d for _, d in self.widget.options]
        lo = _clip_index(options, days[0])
        hi = _clip_index(options, days[1])
        self.widget.index = (min(lo, hi), max(lo, hi))

    @property
    def value(self) -> tuple[datetime, datetime]:
        first, last = self.days
        start = datetime.combine(first, time(0), tzinfo=self._zone)
        end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=self._zone)
        return start.astimezone(UTC), end.astimezone(UTC)

    @value.setter
    def value(self, window: tuple[datetime, datetime]) -> None:
        start, end = window
        if start.tzinfo is None or end.tzinfo is None:
            raise ValueError("TimeWindow needs time-zone-aware datetimes")
        last = end.astimezone(self._zone)
        # A window ending exactly at midnight does not include that day.
        last_day = last.date() - timedelta(days=1) if last.time() == time(0) else last.date()
        self.days = (start.astimezone(self._zone).date(), last_day)

    def _traits(self):
        yield self.widget, "value"


def _clip_index(options: list[date], day: date) -> int:
    if day <= options[0]:
        return 0
    if day >= options[-1]:
        return len(options) - 1
    return options.index(day)


class Entities(TypedDict):
    """The value of an :class:`EntityFilter`."""

    person: str | None
    machine: str | None


class EntityFilter(_Control[Entities]):
    """Choose a person and/or a machine (None: anyone, any machine).

    Parameters
    ----------
    people, machines : sequence of str or of (label, id)
        The choices; a plain string is its own label.
    person, machine : str or None, optional
        Initial choice.

    Examples
    --------
    >>> f = EntityFilter(["P001", ("P020 (new hire)", "P020")], ["PC-03"], person="P020")
    >>> f.value
    {'person': 'P020', 'machine': None}
    """

    ANY_PERSON = "anyone"
    ANY_MACHINE = "any machine"

    def __init__(
        self,
        people: Sequence[str | tuple[str, str]] = (),
        machines: Sequence[str | tuple[str, str]] = (),
        *,
        person: str | None = None,
        machine: str | None = None,
    ) -> None:
        # "" stands for None in the widgets: a None value shows as no selection.
        self.person = widgets.Dropdown(
            options=[(self.ANY_PERSON, ""), *map(_option, people)], description="Person"
        )
        self.machine = widgets.Dropdown(
            options=[(self.ANY_MACHINE, ""), *map(_option, machines)], description="Machine"
        )
        self.widget = widgets.HBox([self.person, self.machine])
        self.value = Entities(person=person, machine=machine)

    @classmethod
    def from_findings(cls, findings, **kwargs: Any) -> EntityFilter:
        """Everyone on the staff list or in the timeline, and every machine.

        People are labelled with their role and, for suspects, their rank;
        names are left out (ids are enough to follow the evidence).
        """
        case = findings.case
        roles = dict(case.staff.select("person_id", "role").iter_rows())
        seen = findings.timeline["person_id"].drop_nulls().unique().to_list()
        rank = {s.person_id: i for i, s in enumerate(findings.suspects, start=1)}
        people = []
        for pid in sorted(set(roles) | set(seen), key=lambda p: (rank.get(p, 10**6), p)):
            label = f"{pid} · {roles.get(pid) or 'not on staff list'}"
            if pid in rank:
                label += f" · suspect {rank[pid]}"
            people.append((label, pid))
        machines = set(case.machines["machine_id"].drop_nulls().to_list())
        machines |= set(findings.timeline["machine_id"].drop_nulls().unique().to_list())
        path = set(findings.vector.machines)
        ordered = sorted(machines, key=lambda m: (m not in path, m))
        return cls(
            people,
            [(f"{m} · leak path" if m in path else m, m) for m in ordered],
            **kwargs,
        )

    @property
    def value(self) -> Entities:
        return Entities(person=self.person.value or None, machine=self.machine.value or None)

    @value.setter
    def value(self, value: Entities) -> None:
        for key, dropdown in (("person", self.person), ("machine", self.machine)):
            choice = value.get(key) or ""
            if choice not in [v for _, v in dropdown.options]:
                raise ValueError(f"{key} {choice!r} is not among the choices")
            dropdown.value = choice

    def _traits(self):
        yield self.person, "value"
        yield self.machine, "value"


def _option(item: str | tuple[str, str]) -> tuple[str, str]:
    return (item, item) if isinstance(item, str) else (item[0], item[1])


# --------------------------------------------------------------------------
# views


class ChartView(widgets.VBox):
    """Controls above a chart that is redrawn whenever a control changes.

    A plotly figure is shown in a ``plotly.graph_objects.FigureWidget``
    that is updated in place (:func:`update_in_place`): the traces and
    layout properties that changed are sent as one ``Plotly.update``, so
    the browser redraws the chart it has, once, instead of building a new
    one (a new plotly output in JupyterLab is drawn four times: react,
    redraw, resize and a PNG snapshot). Anything else is shown in an
    ``Output``.

    Parameters
    ----------
    controls : sequence of controls
        :class:`LevelPicker`, :class:`TimeWindow`, ... (or plain widgets).
    draw : callable
        Called with no argument; reads the controls' values and returns a
        ``plotly.graph_objects.Figure``, or a plotly figure as a plain dict
        (``data``, ``layout``; ``charts.timeline(..., as_dict=True)``): then
        nothing is checked or copied by plotly.py on a redraw, only the
        changes are sent (:func:`update_in_place`).
    points : object, optional
        Told of clicks and box/lasso selections on the chart: its
        ``clicked`` and ``selected`` methods are the plotly FigureWidget
        callbacks of every trace (:class:`forensics.views.tagging.EventTagger`).
    below : sequence of widgets, optional
        Shown under the chart.

    Attributes
    ----------
    figure : plotly.graph_objects.Figure or None
        The figure last drawn (for tests and for export; built from the
        dict on first use when ``draw`` returns one).
    graph : plotly.graph_objects.FigureWidget or None
        Where a plotly figure is displayed (in a notebook).
    output : ipywidgets.Output
        Where anything else is displayed.
    """

    def __init__(
        self,
        controls: Sequence[Any],
        draw: Callable[[], Any],
        *,
        points: Any = None,
        below: Sequence[widgets.Widget] = (),
    ) -> None:
        self.controls = tuple(controls)
        self.output = widgets.Output()
        self.graph = None
        self._figure = None
        self._draw = draw
        self._points = points
        boxes = [c.widget if isinstance(c, _Control) else c for c in self.controls]
        self._chart_at = len(boxes)
        super().__init__([*boxes, self.output, *below])
        for c in self.controls:
            if isinstance(c, _Control):
                c.observe(lambda _value: self.redraw())
            else:
                c.observe(lambda _change: self.redraw(), names="value")
        self.redraw()

    def __repr__(self) -> str:
        values = ", ".join(repr(c) for c in self.controls if isinstance(c, _Control))
        return f"{type(self).__name__}({values}): run the notebook to see the chart"

    def redraw(self) -> None:
        """Draw the chart again from the controls' current values."""
        from IPython import get_ipython

        self._figure = drawn = self._draw()
        if get_ipython() is None:  # no front end to show it (scripts, tests)
            return
        if _is_plotly_dict(drawn) or _is_plotly(drawn):
            if self.graph is None:
                import plotly.graph_objects as go

                self.graph = go.FigureWidget(drawn)
                self._listen(self.graph.data)
                at = self._chart_at
                self.children = (*self.children[:at], self.graph, *self.children[at + 1 :])
            else:
                added = update_in_place(self.graph, drawn)[-1]
                self._listen(self.graph.data[len(self.graph.data) - added :] if added else ())
            return
        # Replace the Output's content in one trait update rather than
        # display() inside ``with self.output``: with ipykernel 7, a large
        # display message sent from inside that context can leave a
        # jupyter_client caller (nbclient, nbval) waiting for the reply
        # until its timeout.
        self.output.outputs = ({"output_type": "display_data", **_bundle(drawn)},)

    @property
    def figure(self) -> Any:
        """The figure last drawn; a plain dict from ``draw`` is made a
        ``plotly.graph_objects.Figure`` here (checked by plotly.py), once."""
        if _is_plotly_dict(self._figure):
            import plotly.graph_objects as go

            self._figure = go.Figure(self._figure)
        return self._figure

    def _listen(self, traces) -> None:
        """Pass clicks and selections on ``traces`` to ``points``."""
        if self._points is None:
            return
        for trace in traces:
            trace.on_click(self._points.clicked)
            trace.on_selection(self._points.selected)


def _is_plotly_dict(figure: Any) -> bool:
    """A plotly figure as a plain dict: ``data`` and ``layout``."""
    return isinstance(figure, dict) and set(figure) == {"data", "layout"}


def _is_plotly(figure: Any) -> bool:
    return type(figure).__module__.startswith("plotly.") and hasattr(figure, "to_plotly_json")


def update_in_place(graph, figure) -> tuple[int, int, int, int]:
    """Make the FigureWidget ``graph`` show ``figure``, sending only changes.

    ``figure`` is a plotly figure or a plain dict (``data``, ``layout``)
    such as ``charts.timeline(..., as_dict=True)`` returns. Traces are
    matched by position while their types agree; their changed properties,
    and the layout's, are found by comparing with what the graph holds and
    go in one ``plotly_update``: one ``Plotly.update``, one redraw in the
    browser. The values are not checked again by plotly.py (they come from
    a figure plotly.py or plotly.js reads: checking and copying them cost a
    third of a redraw's time in the kernel), and nothing unchanged is sent.
    When ``figure`` has fewer traces and all of them matched, the graph's
    surplus traces are hidden (``visible=False``) in that same update rather
    than deleted, and shown again when a later figure needs them: deleting
    or adding traces is a whole redraw of its own in the browser. Only
    traces whose type differs are deleted, and traces beyond the graph's
    added. The template is kept (every chart here uses the same one).

    Note: given new x or y data, plotly.js guesses each axis type again
    from the first trace with data on it (``clearAxisTypes``), whatever
    the layout says; a chart whose axis type is not what that guess gives
    must start with a trace that guesses right (the timeline's first trace,
    with ``fixed_traces``, spans its window on the date axis).

    Returns
    -------
    (updated, hidden, deleted, added) : tuple of int
        How many traces were updated in place, hidden, deleted and added.
    """
    from plotly.basedatatypes import Undefined

    new = figure if isinstance(figure, dict) else figure.to_plotly_json()
    traces = new.get("data", [])
    kept = 0
    for old, fresh in zip(graph.data, traces, strict=False):
        if old.type != fresh.get("type", "scatter"):
            break
        kept += 1
    surplus = len(graph.data) - kept
    hidden = surplus if kept == len(traces) else 0
    if surplus - hidden:
        graph.data = graph.data[:kept]
    fixed = ("type", "uid")  # a trace's type is matched above; uids are the widget's
    style: dict[str, dict[int, Any]] = {}
    changed: list[int] = []
    # What the graph holds: its raw property dicts, read, never copied.
    held = graph._data  # noqa: SLF001 - plotly.py's own store of each trace's properties
    for i in range(len(graph.data)):
        if i < kept:
            edits = _changes(_leaves(held[i], skip=fixed), _leaves(traces[i], skip=fixed))
        else:
            edits = [] if held[i].get("visible") is False else [("visible", False)]
        if edits:
            for path, value in edits:
                style.setdefault(path, {})[len(changed)] = value
            changed.append(i)
    restyle = {
        path: [by_trace.get(n, Undefined) for n in range(len(changed))]
        for path, by_trace in style.items()
    }
    old_layout = _leaves(graph._layout, skip=("template",))  # noqa: SLF001
    relayout = dict(_changes(old_layout, _leaves(new.get("layout", {}), skip=("template",))))
    if restyle or relayout:
        graph.plotly_update(
            restyle_data=restyle or None,
            relayout_data=relayout or None,
            trace_indexes=changed or None,
        )
    if len(traces) > kept:
        graph.add_traces(traces[kept:])
    return kept, hidden, surplus - hidden, len(traces) - kept


def _leaves(obj: dict, prefix: str = "", skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """``{"marker.line.width": 1, ...}``: nested properties by their path
    (lists, such as data arrays or shapes, are values; empty dicts are
    nothing); ``skip``: top-level keys left out."""
    out: dict[str, Any] = {}
    for key, value in obj.items():
        if not prefix and key in skip:
            continue
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            # an empty dict sets nothing (plotly.py leaves one where the
            # browser reported the defaults it holds): no leaf, or a parent
            # and its child would be set at once
            out.update(_leaves(value, f"{path}."))
        else:
            out[path] = value
    return out


_PLAIN = (str, int, float, list, dict, type(None))


def _changes(old: dict[str, Any], new: dict[str, Any]) -> list[tuple[str, Any]]:
    """The (path, value) settings that turn ``old`` into ``new`` (None
    removes a property)."""
    from plotly.io.json import to_json_plotly

    def same(a: Any, b: Any) -> bool:
        if type(a) is not type(b):
            return a is None and b is None
        if isinstance(a, str | int | float | bool):
            return a == b
        if isinstance(a, list) and len(a) != len(b):
            return False
        if isinstance(a, list) and all(type(v) in _PLAIN for v in (a[:1] + b[:1])):
            try:
                return bool(a == b)  # data arrays of text and numbers: compared in C
            except (TypeError, ValueError):  # arrays inside: compare as sent
                pass
        return to_json_plotly(a) == to_json_plotly(b)

    gone = [(path, None) for path in old if path not in new]
    return gone + [(p, v) for p, v in new.items() if p not in old or not same(old[p], v)]


def _bundle(figure: Any) -> dict:
    """A display bundle for a plotly figure (anything else: its repr)."""
    text = {"text/plain": f"<{type(figure).__name__}>"}
    if hasattr(figure, "to_dict"):
        # What plotly's "plotly_mimetype" renderer sends, without importing
        # plotly.io's renderers (nbformat and jsonschema: seconds on a first draw).
        from plotly.io.json import to_json

        fig = json.loads(to_json(figure, validate=False, remove_uids=False))
        return {"data": {"application/vnd.plotly.v1+json": fig, **text}, "metadata": {}}
    return {"data": {"text/plain": repr(figure)}, "metadata": {}}


def _within(frame: pl.DataFrame, column: str, window: tuple[datetime, datetime]) -> pl.DataFrame:
    start, end = window
    return frame.filter((pl.col(column) >= start) & (pl.col(column) < end))


def coverage_view(
    findings,
    *,
    level: str | None = None,
    top: int = 20,
    significant_only: bool = False,
    window: bool = True,
) -> ChartView:
    """The coverage/lift chart with a level picker and, optionally, a window.

    The window keeps the candidate paths first exposed (first showed a
    complained order in time) within the chosen days: a way to ask which
    paths opened around the leak window. Their figures are unchanged; they
    were computed over the whole case.

    Parameters
    ----------
    findings : forensics.Findings
    level : str or None, optional
        Initial level (None: every level).
    top : int, optional
        Paths shown, most significant first.
    significant_only : bool, optional
        Initial state of the "significant only" box.
    window : bool, optional
        Offer a :class:`TimeWindow` over the case's days.

    Returns
    -------
    ChartView
    """
    from . import charts

    picker = LevelPicker.from_findings(findings)
    if level is not None:
        picker.value = level
    only = widgets.Checkbox(value=significant_only, description="significant only")
    days = TimeWindow.from_findings(findings, description="First seen") if window else None
    whole = days.widget.index if days is not None else None

    def draw():
        shown = findings
        if days is not None and days.widget.index != whole:
            points = findings.points.filter(pl.col("first_exposure").is_not_null())
            shown = dataclasses.replace(
                findings,
                points=_within(points, "first_exposure", days.value),
                path_members=_within(
                    findings.path_members.filter(pl.col("first_exposure").is_not_null()),
                    "first_exposure",
                    days.value,
                ),
            )
        return charts.coverage(shown, level=picker.value, top=top, significant_only=only.value)

    controls: list[Any] = [picker, only]
    if days is not None:
        controls.append(days)
    return ChartView(controls, draw)


def _default_days(findings, tz: str) -> tuple[date, date]:
    """The days :func:`forensics.views.charts.timeline` shows by default: the leak
    window ± a day (its first days only, when it is long), else the
    complaint spike and the three days before, else the whole case."""
    zone, day = ZoneInfo(tz), timedelta(days=1)
    v, r = findings.vector, findings.rate
    if v.leak_start is not None:
        first = v.leak_start.astimezone(zone).date() - day
        last = (v.leak_end or v.leak_start).astimezone(zone).date() + day
        return first, min(last, first + 3 * day)
    if r.has_spike:
        return r.spike_start - 3 * day, r.spike_end + day
    return date.min, date.max  # clipped to the case's span


def timeline_view(
    findings,
    *,
    person: str | None = None,
    machine: str | None = None,
    notes: str | Path | None = None,
    author: str | None = None,
) -> ChartView:
    """The case timeline with person, machine and day controls.

    Parameters
    ----------
    findings : forensics.Findings
    person, machine : str or None, optional
        Initial filter.
    notes : str or Path, optional
        A notes file (JSONL, outside the case) to tag and comment on events
        in: a click on a mark (or a box selection) chooses events, and an
        :class:`forensics.views.tagging.EventTagger` under the chart writes
        ``tag`` and ``comment`` notes; the chart is redrawn with them, the
        noted events marked. Once it exists, this file's notes are the ones
        marked (before, those the investigation read, ``findings.notes``).
    author : str, optional
        The notes' ``author`` (default: the login name).

    The days start on the leak window, a day either side (else on the
    complaint spike and the three days before it); widen them at will.

    Raises
    ------
    OutputInCaseError
        ``notes`` lies inside the case folder.

    Returns
    -------
    ChartView
    """
    from . import charts

    entities = EntityFilter.from_findings(findings, person=person, machine=machine)
    days = TimeWindow.from_findings(findings)
    days.days = _default_days(findings, days.tz)
    tagger = None
    if notes is not None:
        from .tagging import EventTagger

        tagger = EventTagger(findings.case.path, notes, lambda: view.redraw(), author=author)

    def draw():
        start, end = days.value
        chosen = entities.value
        return charts.timeline(
            findings,
            person=chosen["person"],
            machine=chosen["machine"],
            start=start,
            end=end,
            tz=days.tz,
            fixed_traces=True,
            notes=tagger.notes if tagger is not None else None,
            as_dict=True,
        )

    view = ChartView(
        [entities, days],
        draw,
        points=tagger,
        below=[tagger.widget] if tagger is not None else [],
    )
    view.tagger = tagger
    return view
