"""Notebook controls: typed values, no analysis, safe tables."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest

from forensics.views import charts, notebook
from forensics.views.widgets import (
    LEVELS,
    ChartView,
    EntityFilter,
    LevelPicker,
    TimeWindow,
    show_table,
)

SAMPLE = Path(__file__).resolve().parents[1] / "datasets" / "april-trojan"


@pytest.fixture(scope="module")
def findings():
    if not SAMPLE.exists():
        pytest.skip("sample case not present")
    return notebook.open_case(SAMPLE)


def test_level_picker_value_is_a_level_or_none():
    picker = LevelPicker()
    assert picker.value is None
    seen = []
    picker.observe(seen.append)
    picker.widget.value = "machine"  # as if the user chose it
    assert picker.value == "machine"
    assert seen == ["machine"]
    with pytest.raises(ValueError):
        picker.value = "planet"
    with pytest.raises(ValueError):
        LevelPicker(["planet"])
    assert set(LEVELS) >= {
        "account",
        "machine",
        "session",
        "device",
        "app",
        "ip",
        "event",
        "process",
    }


def test_time_window_is_half_open_utc_over_local_days():
    window = TimeWindow(date(2024, 4, 1), date(2024, 4, 12), tz="Asia/Shanghai")
    start, end = window.value
    assert start == datetime(2024, 3, 31, 16, tzinfo=UTC)
    assert end == datetime(2024, 4, 12, 16, tzinfo=UTC)
    assert start.utcoffset().total_seconds() == 0
    window.value = (datetime(2024, 4, 4, 3, tzinfo=UTC), datetime(2024, 4, 5, 16, tzinfo=UTC))
    assert window.days == (date(2024, 4, 4), date(2024, 4, 5))
    window.days = (date(2020, 1, 1), date(2030, 1, 1))  # clipped to the span
    assert window.days == (date(2024, 4, 1), date(2024, 4, 12))
    with pytest.raises(ValueError):
        window.value = (datetime(2024, 4, 4), datetime(2024, 4, 5))
    with pytest.raises(ValueError):
        TimeWindow(date(2024, 4, 2), date(2024, 4, 1))


def test_entity_filter_value_is_a_plain_dict():
    f = EntityFilter(["P001", ("P020 · new hire", "P020")], ["PC-03"])
    assert f.value == {"person": None, "machine": None}
    seen = []
    f.observe(seen.append)
    f.machine.value = "PC-03"
    assert seen[-1] == {"person": None, "machine": "PC-03"}
    f.value = {"person": "P020", "machine": None}
    assert f.value == {"person": "P020", "machine": None}
    with pytest.raises(ValueError):
        f.value = {"person": "P999", "machine": None}


def test_chart_view_redraws_on_change():
    picker = LevelPicker()
    drawn = []

    def draw():
        drawn.append(picker.value)
        return {"level": picker.value}

    view = ChartView([picker], draw)
    picker.value = "account"
    assert drawn == [None, "account"]
    assert view.figure == {"level": "account"}
    assert picker.widget in view.children


def test_show_table_masks_and_escapes():
    frame = pl.DataFrame(
        {
            "buyer_name": ["王艳颖"],
            "phone": ["13812345678"],
            "text": ['<script>alert("x")</script>\nline two'],
            "at": [datetime(2024, 4, 4, 23, 6, tzinfo=UTC)],
        }
    )
    table = show_table(frame, tz="Asia/Shanghai")
    html = table._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "王艳颖" not in html and "13812345678" not in html
    assert "2024-04-05 07:06:00" in repr(table)
    assert "line two" in repr(table).splitlines()[-1]  # one line per row
    assert "王艳颖" in repr(show_table(frame, reveal=True))
    many = show_table(pl.DataFrame({"n": list(range(50))}), max_rows=5)
    assert repr(many).startswith("5 of 50 rows")


def test_controls_from_findings(findings):
    picker = LevelPicker.from_findings(findings)
    assert "machine" in picker.levels
    window = TimeWindow.from_findings(findings)
    start, end = window.value
    assert start <= findings.timeline["at"].min() and findings.timeline["at"].max() < end
    entities = EntityFilter.from_findings(findings)
    top = findings.suspects[0].person_id
    first_person = entities.person.options[1]
    assert first_person[1] == top and "suspect 1" in first_person[0]
    entities.value = {"person": top, "machine": findings.vector.machines[0]}


def test_complained_orders_display_masks_personal_data(findings):
    frame = notebook.complained_orders(findings)
    html = show_table(frame, max_rows=len(frame))._repr_html_()
    for phone in findings.case.orders["phone"].drop_nulls().head(50):
        assert phone not in html


def test_output_folder_refuses_the_case(tmp_path):
    case = tmp_path / "case"
    case.mkdir()
    with pytest.raises(ValueError):
        notebook.output_folder(case / "out", case)
    assert notebook.output_folder(tmp_path / "out", case).is_dir()


def test_coverage_view_redraws_from_the_controls(findings):
    from forensics.views.widgets import coverage_view

    view = coverage_view(findings)
    picker, only, days = view.controls
    picker.value = "machine"
    assert "machine" in view.figure.layout.title.text
    everything = sum(len(t.x) for t in view.figure.data)
    days.days = (date(2024, 4, 4), date(2024, 4, 5))  # paths first exposed on those days
    assert sum(len(t.x) for t in view.figure.data) < everything
    only.value = True
    assert "run the notebook" in repr(view)


def test_timeline_view_starts_on_the_leak_window(findings):
    from forensics.views.widgets import timeline_view

    top = findings.suspects[0].person_id
    view = timeline_view(findings, person=top)
    entities, days = view.controls
    assert entities.value == {"person": top, "machine": None}
    start, end = days.value
    assert start <= findings.vector.leak_start < end
    as_person = view.figure.to_json()
    machine = findings.vector.machines[0]
    entities.value = {"person": None, "machine": machine}
    # The view redrew: the same figure as the chart asked directly for that machine.
    redrawn = view.figure.to_json()
    assert redrawn != as_person
    direct = charts.timeline(
        findings, person=None, machine=machine, start=start, end=end, tz=days.tz, fixed_traces=True
    )
    assert redrawn == direct.to_json()


def test_a_view_shows_its_figure_as_plotly_json():
    import plotly.graph_objects as go

    from forensics.views.widgets import _bundle

    bundle = _bundle(go.Figure(go.Scatter(x=[1, 2], y=[3, 4])))
    assert "application/vnd.plotly.v1+json" in bundle["data"]
    assert bundle["data"]["text/plain"] == "<Figure>"


def test_update_in_place_sends_only_changes_and_ends_on_the_new_figure(findings):
    import plotly.graph_objects as go

    from forensics.views import charts
    from forensics.views.widgets import update_in_place

    top = findings.suspects[0].person_id
    machine = findings.vector.machines[0]
    figures = [
        charts.timeline(findings, person=top),
        charts.timeline(findings),
        charts.timeline(findings, machine=machine),
        charts.timeline(findings, person=top),
        charts.coverage(findings),
        charts.coverage(findings, level="machine"),
    ]

    def shown(fig) -> str:
        """What is drawn: the visible traces (uids aside) and the layout."""
        j = fig.to_plotly_json()
        j["layout"].pop("template", None)
        j["data"] = [
            {k: v for k, v in t.items() if k != "uid"}
            for t in j["data"]
            if t.get("visible", True) is not False
        ]
        return go.Figure(j).to_json()

    graph = go.FigureWidget(figures[0])
    counts = []
    for fig in figures[1:]:
        counts.append(update_in_place(graph, fig))
        assert shown(graph) == shown(fig)
    assert counts[2][0] > 0 and counts[-1][0] > 0, "traces of the same type are updated in place"
    # nothing changed: nothing sent
    sent = []
    graph.on_edits_completed = None
    graph._send_update_msg = lambda *a, **k: sent.append(a)
    hidden = sum(t.visible is False for t in graph.data[len(figures[-1].data) :])
    assert update_in_place(graph, figures[-1]) == (len(figures[-1].data), hidden, 0, 0)
    assert sent == []


def test_fewer_traces_are_hidden_not_deleted_and_shown_again():
    """Deleting or adding traces redraws the whole chart in the browser:
    a figure with fewer traces of the same types hides the rest, in the
    one update, and a later figure with more shows them again."""
    import plotly.graph_objects as go

    from forensics.views.widgets import update_in_place

    three = go.Figure([go.Scatter(x=[1], y=[i], name=f"t{i}") for i in range(3)])
    one = go.Figure([go.Scatter(x=[5], y=[5], name="only")])
    graph = go.FigureWidget(three)
    assert update_in_place(graph, one) == (1, 2, 0, 0)
    assert [t.visible for t in graph.data] == [None, False, False]
    assert graph.data[0].name == "only" and list(graph.data[0].x) == [5]
    assert update_in_place(graph, three) == (3, 0, 0, 0)
    assert [t.visible for t in graph.data] == [None, None, None]
    assert [t.name for t in graph.data] == ["t0", "t1", "t2"]
    # another type in the way: deleted from there on, and added
    mixed = go.Figure([go.Scatter(x=[1], y=[1]), go.Bar(x=[1], y=[2])])
    assert update_in_place(graph, mixed) == (1, 0, 2, 1)
    assert [t.type for t in graph.data] == ["scatter", "bar"]


def test_timeline_view_keeps_its_traces_when_the_focus_changes(findings):
    """Every kind of trace has its place (fixed_traces): other people or
    days change data and visibility, never the number or types of traces."""
    from forensics.views.widgets import timeline_view

    view = timeline_view(findings, person=findings.suspects[0].person_id)
    entities, days = view.controls
    kinds = [t.type for t in view.figure.data]
    for person in (findings.suspects[-1].person_id, None):
        entities.value = {"person": person, "machine": None}
        assert [t.type for t in view.figure.data] == kinds
    shown = [t for t in view.figure.data if t.visible is not False]
    hidden = [t for t in view.figure.data if t.visible is False]
    assert shown and all(len(t.x) for t in shown)
    assert all(len(t.x) == 0 and t.showlegend is False for t in hidden)
    days.days = (days.days[0], days.days[0])
    assert [t.type for t in view.figure.data] == kinds


def test_a_plain_dict_figure_is_sent_as_one_update_of_its_changes(findings):
    """A view's figure as a plain dict (charts.timeline(as_dict=True)) is
    the same figure; sent to the widget, it is one update of what changed,
    and the widget then holds the new figure."""
    import plotly.graph_objects as go

    from forensics.views import charts
    from forensics.views.widgets import update_in_place

    top = findings.suspects[0].person_id
    args = {"fixed_traces": True, "tz": findings.case.timezone()}
    as_dict = charts.timeline(findings, person=top, as_dict=True, **args)
    assert isinstance(as_dict, dict) and set(as_dict) == {"data", "layout"}
    assert go.Figure(as_dict).to_json() == charts.timeline(findings, person=top, **args).to_json()

    graph = go.FigureWidget(as_dict)
    sent = []
    graph._send_update_msg = lambda *a, **k: sent.append((a, k))
    everyone = charts.timeline(findings, as_dict=True, **args)
    assert update_in_place(graph, everyone) == (len(everyone["data"]), 0, 0, 0)
    assert len(sent) == 1
    restyle = sent[0][1].get("restyle_data") or sent[0][0][0]
    assert "x" in restyle and "template" not in str(sent[0][1].get("relayout_data", ""))[:200]
    shown = go.Figure(graph.to_plotly_json())
    assert [list(t.x or ()) for t in shown.data] == [list(t.get("x", [])) for t in everyone["data"]]
    # the same again: nothing to send
    assert update_in_place(graph, charts.timeline(findings, as_dict=True, **args))
    assert len(sent) == 1


def test_a_trace_emptied_by_the_browser_is_set_again_without_a_conflict():
    """plotly.py leaves an empty dict where the browser reported a trace's
    defaults (``marker: {}``): setting ``marker.line.width`` then must not
    also remove ``marker`` (plotly.js refuses a parent and its child at once)."""
    import plotly.graph_objects as go

    from forensics.views.widgets import _leaves, update_in_place

    assert _leaves({"marker": {}, "x": [1]}) == {"x": [1]}
    graph = go.FigureWidget(go.Figure(go.Scatter(x=[1], y=[1], marker={"size": 3})))
    graph._data[0]["marker"] = {}
    sent = []
    graph._send_update_msg = lambda *a, **k: sent.append(k.get("restyle_data") or a[0])
    new = {"data": [{"type": "scatter", "x": [2], "y": [1], "marker": {"line": {"width": 1}}}]}
    update_in_place(graph, {**new, "layout": {}})
    assert sent and "marker" not in sent[0] and sent[0]["marker.line.width"] == [1]


def test_the_timeline_view_keeps_its_left_margin_whatever_the_lanes(findings):
    """The live view's left margin fits every lane of the case, so another
    person's lanes do not make the browser measure and draw twice."""
    from forensics.views import charts

    args = {"fixed_traces": True, "as_dict": True}
    one = charts.timeline(findings, person=findings.suspects[0].person_id, **args)["layout"]
    everyone = charts.timeline(findings, **args)["layout"]
    assert one["margin"]["l"] == everyone["margin"]["l"] > 100
    assert one["yaxis"]["ticklabeloverflow"] == "allow"
    assert "ticklabeloverflow" not in charts.timeline(findings).layout.yaxis.to_plotly_json()
