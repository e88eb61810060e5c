"""Charts on small generated cases: every scenario builds, the timeline shows
what it must, case text is escaped and names masked, export writes files."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import plotly.graph_objects as go
import polars as pl
import pytest

from forensics import investigate, load
from forensics.synth import generate
from forensics.views import charts

KINDS = [
    "usb_malware",
    "insider_export",
    "stale_account",
    "visitor_malware",
    "third_party_app",
    "none",
]
ORDERS = 2000
HOSTILE_NAME = "<img src=x onerror=alert(1)>"
HOSTILE_NOTE = "<script>alert('note')</script>"

needs_chromium = pytest.mark.skipif(charts.find_chromium() is None, reason="no Chromium")


@pytest.fixture(scope="module")
def cases(tmp_path_factory):
    """Findings of each scenario, generated and investigated once."""
    made: dict[str, object] = {}

    def get(kind: str):
        if kind not in made:
            folder = tmp_path_factory.mktemp(kind) / "case"
            generate(folder, scenario=kind, seed=1, orders=ORDERS, fmt="csv")
            made[kind] = investigate(load(folder))
        return made[kind]

    return get


@pytest.fixture(scope="module")
def hostile(cases, tmp_path_factory):
    """The USB case with markup in the suspect's name and in a camera note."""
    source = cases("usb_malware").case.path
    folder = tmp_path_factory.mktemp("hostile") / "case"
    shutil.copytree(source, folder)
    suspect = cases("usb_malware").suspects[0].person_id
    _edit(folder / "staff.csv", "name", pl.col("person_id") == suspect, HOSTILE_NAME)
    _edit(folder / "camera.csv", "note", pl.col("person_id") == suspect, HOSTILE_NOTE)
    return investigate(load(folder))


def _edit(path: Path, column: str, where: pl.Expr, value: str) -> None:
    frame = pl.read_csv(path, infer_schema=False)
    frame = frame.with_columns(
        pl.when(where).then(pl.lit(value)).otherwise(pl.col(column)).alias(column)
    )
    frame.write_csv(path)


def _strings(node) -> list[str]:
    """Every string in a figure's dict (labels, hover text, titles...)."""
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for v in node.values() for s in _strings(v)]
    if isinstance(node, list | tuple):
        return [s for v in node for s in _strings(v)]
    return []


def _no_show(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a chart function called .show()")

    monkeypatch.setattr(go.Figure, "show", refuse)


# --------------------------------------------------------------------------- every scenario


@pytest.mark.parametrize("kind", KINDS)
def test_every_chart_builds(cases, kind, monkeypatch):
    _no_show(monkeypatch)
    findings = cases(kind)
    figures = {
        "complaint_spike": charts.complaint_spike(findings),
        "coverage": charts.coverage(findings),
        "coverage_machine": charts.coverage(
            findings, level="machine", top=5, significant_only=True
        ),
        "timeline": charts.timeline(findings),
        "evidence_graph": charts.evidence_graph(findings),
    }
    for name, fig in figures.items():
        assert isinstance(fig, go.Figure), name
        assert fig.layout.title.text, name
    assert figures["timeline"].data, "the timeline drew nothing"
    assert figures["complaint_spike"].data


@pytest.mark.parametrize("kind", KINDS)
def test_timeline_counts_routine_access(cases, kind):
    findings = cases(kind)
    fig = charts.timeline(findings)
    drawn = sum(len(t.x or ()) for t in fig.data)
    lo, hi = (datetime.fromisoformat(str(x)) for x in fig.layout.xaxis.range)
    tz = findings.case.timezone()
    local = pl.col("at").dt.convert_time_zone(tz).dt.replace_time_zone(None)
    views = findings.timeline.filter(
        (pl.col("action") == "view_order") & local.is_between(lo, hi)
    ).height
    assert views > 0
    assert not any(t.name == "Order viewed" for t in fig.data), "views drawn one by one"
    assert drawn < findings.timeline.filter(local.is_between(lo, hi)).height
    assert all(len(t.x or ()) <= charts.MAX_MARKS * 2 for t in fig.data)


# --------------------------------------------------------------------------- the USB timeline


def test_usb_timeline_shows_the_pre_hours_sequence(cases):
    findings = cases("usb_malware")
    fig = charts.timeline(findings)
    tz = findings.case.timezone()
    lo, hi = (datetime.fromisoformat(str(x)) for x in fig.layout.xaxis.range)
    anchors = findings.vector.anchors
    assert anchors.height >= 2
    for at in anchors["at"].to_list():
        assert lo <= at.astimezone(ZoneInfo(tz)).replace(tzinfo=None) <= hi
    # the infected machines are the first lanes, under the "leak path opened" lane
    labels = [
        t
        for v, t in zip(fig.layout.yaxis.tickvals, fig.layout.yaxis.ticktext, strict=True)
        if v >= 0
    ]
    machines = list(findings.vector.machines)
    assert [
        lbl.replace("<b>", "").replace("</b>", "") for lbl in labels[: len(machines)]
    ] == machines
    assert "leak path opened" in fig.layout.yaxis.ticktext[0]
    notes = " ".join(a.text for a in fig.layout.annotations)
    assert "before business hours" in notes
    for m in machines:
        assert m in notes
    # USB connections and autoruns are drawn on those lanes, with indicator rings
    names = {t.name for t in fig.data}
    assert {"USB device connected", "Autorun entry added"} <= names
    assert any("usb hop" in (n or "") for n in names)
    # camera times are corrected, and the title says by how much
    offset = findings.clock_offsets["camera"]
    assert offset.text in fig.layout.title.subtitle.text
    assert tz in fig.layout.title.subtitle.text


def test_timeline_window_and_focus(cases):
    findings = cases("usb_malware")
    fig = charts.timeline(findings, start="2024-05-07 06:30", end="2024-05-07 08:00")
    assert fig.layout.xaxis.range[0] == datetime(2024, 5, 7, 6, 30)
    assert fig.layout.title.text.endswith("chosen window")
    suspect = findings.suspects[0].person_id
    focused = charts.timeline(findings, person=suspect)
    labels = " ".join(focused.layout.yaxis.ticktext)
    assert suspect in labels
    for m in findings.vector.machines:
        assert m in labels
    machine = findings.vector.machines[0]
    one = charts.timeline(findings, machine=machine)
    known = set(findings.case.machines["machine_id"].to_list())
    lanes = [t.replace("<b>", "").replace("</b>", "") for t in one.layout.yaxis.ticktext]
    assert [lane for lane in lanes if lane in known] == [machine]


def test_timeline_in_another_zone(cases):
    findings = cases("insider_export")
    local = charts.timeline(findings)
    utc = charts.timeline(findings, tz="UTC")
    shift = datetime.fromisoformat(str(local.layout.xaxis.range[0])) - datetime.fromisoformat(
        str(utc.layout.xaxis.range[0])
    )
    assert shift.total_seconds() == 8 * 3600  # Asia/Shanghai
    assert "UTC" in utc.layout.title.subtitle.text


# --------------------------------------------------------------------------- privacy


def test_case_text_is_escaped_and_names_masked(hostile):
    for reveal in (False, True):
        figures = [
            charts.timeline(hostile, reveal=reveal),
            charts.evidence_graph(hostile, reveal=reveal),
        ]
        figures.append(
            charts.timeline(hostile, person=hostile.suspects[0].person_id, reveal=reveal)
        )
        text = "\n".join(s for fig in figures for s in _strings(fig.to_dict()))
        assert "<img" not in text and "<script" not in text
        assert ("&lt;img src=x onerror=alert(1)&gt;" in text) is reveal
    masked = "\n".join(_strings(charts.timeline(hostile).to_dict()))
    assert "&lt;" + "*" * (len(HOSTILE_NAME) - 1) in masked
    assert "&lt;script&gt;" in masked  # the camera note, as text


def test_staff_names_masked_by_default(cases):
    findings = cases("usb_malware")
    staff = findings.case.staff.select("person_id", "name").drop_nulls()
    text = "\n".join(_strings(charts.timeline(findings).to_dict()))
    shown = [n for n in staff["name"].to_list() if len(n) > 1 and n in text]
    assert not shown, f"unmasked staff names: {shown}"


# --------------------------------------------------------------------------- export


@needs_chromium
def test_export_writes_every_format(cases, tmp_path):
    fig = charts.timeline(cases("usb_malware"))
    files = charts.export(fig, tmp_path / "charts" / "timeline.png")
    assert [f.name for f in files] == [
        "timeline.html",
        "timeline.png",
        "timeline.svg",
        "timeline.pdf",
    ]
    for f in files:
        assert f.stat().st_size > 1000, f
    assert files[1].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert b"<svg" in files[2].read_bytes()[:500]
    assert files[3].read_bytes()[:5] == b"%PDF-"
    page = files[0].read_text(encoding="utf-8")
    assert "<script src=" not in page.replace(" ", "")  # plotly.js embedded, not fetched


@needs_chromium
def test_export_many_draws_every_image_in_one_browser(cases, tmp_path, monkeypatch):
    import kaleido

    calls = []
    draw = kaleido.write_fig_from_object_sync

    def counted(specs, **kwargs):
        calls.append([spec["path"] for spec in specs])
        return draw(specs, **kwargs)

    monkeypatch.setattr(kaleido, "write_fig_from_object_sync", counted)
    findings = cases("usb_malware")
    files = charts.export_many(
        [
            (charts.timeline(findings), tmp_path / "timeline", ("png", "svg")),
            (charts.complaint_spike(findings), tmp_path / "complaints.png", ("png",)),
        ]
    )
    assert [f.name for f in files] == ["timeline.png", "timeline.svg", "complaints.png"]
    assert len(calls) == 1 and len(calls[0]) == 3, "one Chromium session for every image"
    assert all(f.stat().st_size > 1000 for f in files)


def test_export_without_chromium_is_a_clear_error(cases, tmp_path, monkeypatch):
    monkeypatch.setattr(charts, "find_chromium", lambda: None)
    fig = charts.complaint_spike(cases("none"))
    with pytest.raises(charts.ChartExportError, match="make chromium"):
        charts.export(fig, tmp_path / "spike")
    assert not list(tmp_path.iterdir()), "nothing is written when images cannot be"
    assert charts.export(fig, tmp_path / "spike", formats=("html",)) == [tmp_path / "spike.html"]


def test_export_rejects_unknown_formats(cases, tmp_path):
    with pytest.raises(ValueError, match="eps"):
        charts.export(charts.complaint_spike(cases("none")), tmp_path / "x", formats=("eps",))


def test_find_chromium_honours_the_environment(tmp_path, monkeypatch):
    fake = tmp_path / "my-chrome"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    monkeypatch.setenv("FORENSICS_CHROMIUM", str(fake))
    assert charts.find_chromium() == fake
    monkeypatch.setenv("FORENSICS_CHROMIUM", str(tmp_path / "missing"))
    assert charts.find_chromium() is None


@needs_chromium
def test_export_reports_a_broken_browser(cases, tmp_path, monkeypatch):
    broken = tmp_path / "broken-chrome"
    broken.write_text("#!/bin/sh\nexit 1\n")
    broken.chmod(0o755)
    monkeypatch.setenv("FORENSICS_CHROMIUM", str(broken))
    with pytest.raises(charts.ChartExportError, match="could not draw"):
        charts.export(charts.complaint_spike(cases("none")), tmp_path / "x", formats=("png",))
