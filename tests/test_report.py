"""report.html and ``forensics report`` on small generated cases, one of
them with hostile complaint text (a script, a javascript: link, markup and
the buyer's own phone number)."""

from __future__ import annotations

import importlib
import json
import re
import shutil
import subprocess
from pathlib import Path

import polars as pl
import pytest
from plotly.offline import get_plotlyjs

from forensics import investigate, load
from forensics.cli import main
from forensics.privacy import escape
from forensics.response.report import build_report, defang
from forensics.synth import generate
from forensics.views import charts

ORDERS = 2000
MARKER_SCRIPT = "<script>document.body.setAttribute('data-pwned', 'y' + 'es')</script>"
MARKER_IMG = "<img src=x onerror=\"document.title='x' + 'ss'\">"
JS_LINK = '<a href="javascript:alert(1)">点击退款</a>'

CHROMIUM = charts.find_chromium()
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium")


@pytest.fixture(scope="module")
def usb(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("usb") / "case"
    generate(folder, scenario="usb_malware", seed=1, orders=ORDERS, fmt="csv")
    return folder


@pytest.fixture(scope="module")
def hostile_case(usb, tmp_path_factory) -> tuple[Path, str]:
    """A copy of the USB case whose first complaints carry hostile text;
    returns the folder and the phone number planted in one of them."""
    folder = tmp_path_factory.mktemp("hostile") / "case"
    shutil.copytree(usb, folder)
    complaints = pl.read_csv(folder / "complaints.csv", infer_schema=False)
    orders = pl.read_csv(folder / "orders.csv", infer_schema=False)
    buyer = complaints["buyer_id"][1]
    phone = orders.filter(pl.col("buyer_id") == buyer)["phone"].drop_nulls()[0]
    texts = complaints["text"].to_list()
    texts[0] = f"{MARKER_SCRIPT} 骗子发来 {JS_LINK} {MARKER_IMG}"
    texts[1] = f"my number {phone} was called; see https://refund.example-kefu.top/r/1"
    complaints.with_columns(pl.Series("text", texts)).write_csv(folder / "complaints.csv")
    return folder, phone


UNLISTED_CATEGORY = "<script>document.title='cat'</script>sms_scam"


@pytest.fixture(scope="module")
def unlisted_case(usb, tmp_path_factory) -> tuple[Path, str, str]:
    """A copy of the USB case with a complaint filed under a category the
    format does not list (holding markup) and a camera sighting with an
    unlisted activity; returns the folder, the complaint id and the sighting id."""
    folder = tmp_path_factory.mktemp("unlisted") / "case"
    shutil.copytree(usb, folder)
    complaints = pl.read_csv(folder / "complaints.csv", infer_schema=False)
    complaint = complaints.filter(pl.col("order_id").is_not_null())["complaint_id"][0]
    category = pl.when(pl.col("complaint_id") == complaint).then(pl.lit(UNLISTED_CATEGORY))
    complaints.with_columns(category.otherwise(pl.col("category")).alias("category")).write_csv(
        folder / "complaints.csv"
    )
    camera = pl.read_csv(folder / "camera.csv", infer_schema=False)
    sighting = camera["sighting_id"][0]
    activity = pl.when(pl.col("sighting_id") == sighting).then(pl.lit("Use_PC"))
    camera.with_columns(activity.otherwise(pl.col("activity")).alias("activity")).write_csv(
        folder / "camera.csv"
    )
    return folder, complaint, sighting


@pytest.fixture(scope="module")
def hostile(hostile_case):
    return investigate(load(hostile_case[0]))


@pytest.fixture(scope="module")
def page(hostile) -> str:
    return build_report(hostile)


# --------------------------------------------------------------------------- the page


def test_report_is_self_contained(page):
    library = get_plotlyjs()
    assert page.count(library[:400]) == 1, "plotly.js inlined exactly once"
    # plotly.js holds URLs in code it never runs here (map tiles, its logo link)
    lowered = page.replace(library, "").lower()
    assert "<script src" not in lowered and "<link" not in lowered and "<iframe" not in lowered
    for attr in ("src=", "href="):
        for quote in ('"', "'"):
            assert f"{attr}{quote}http" not in lowered, f"external {attr}"
    assert page.count("Plotly.newPlot(") == 4
    assert 'http-equiv="Content-Security-Policy"' in page
    assert "default-src 'none'" in page


def test_report_masks_buyers_personal_data(page, hostile_case):
    orders = pl.read_csv(hostile_case[0] / "orders.csv", infer_schema=False)
    page = page.replace(get_plotlyjs(), "")
    for column in ("buyer_name", "phone", "address"):
        values = [v for v in orders[column].drop_nulls().unique().to_list() if len(v) >= 2]
        leaked = [v for v in values if v in page]
        assert not leaked, f"unmasked {column}: {leaked[:3]}"
    phone = hostile_case[1]
    assert "*" * (len(phone) - 4) + phone[-4:] in page  # the planted number, masked


def test_report_escapes_complaint_text(page):
    assert MARKER_SCRIPT not in page and "<script>document" not in page
    assert "<img src=x" not in page
    assert "&lt;script&gt;document.body.setAttribute(" in page  # shown, as text
    lowered = page.lower()
    assert 'href="javascript' not in lowered and "href='javascript" not in lowered
    assert "javascript[:]alert(1)" in page
    assert "hxxps://refund[.]example-kefu[.]top/r/1" in page
    assert "https://refund.example-kefu.top" not in page


def test_report_content(hostile, page):
    doc = hostile.to_dict()
    assert f"<b>{doc['vector']['kind']}</b>" in page
    assert f"confidence {doc['vector']['confidence']:.2f}" in page
    assert doc["leak_window"]["start"][:10] in page
    for suspect in doc["suspects"]:
        for ev in suspect["evidence"]:
            assert f"{ev['source']}:{ev['row']}" in page
        for path in suspect["paths"]:
            assert escape(path) in page
    for statement in doc["ruled_out"]:
        assert escape(statement) in page
    for offset in hostile.clock_offsets.values():
        assert offset.text in page and escape(offset.method) in page
    for f in hostile.case.inputs:
        assert f.sha256 in page
    for heading in (
        "Significant paths",
        "Ruled out",
        "Clock offsets",
        "Complaints",
        "Inputs",
        "Quarantine",
        "Timeline",
        "Evidence graph",
    ):
        assert f"<h2>{heading}</h2>" in page
    assert f"{hostile.complaints.height} complaints" in page


def test_report_reveal_is_explicit(hostile):
    suspect = hostile.suspects[0].person_id
    name = hostile.case.staff.filter(pl.col("person_id") == suspect)["name"][0]
    assert name not in build_report(hostile)
    revealed = build_report(hostile, reveal=True)
    assert "Personal data REVEALED" in revealed and name in revealed


def test_unlisted_values_are_investigated_and_shown_escaped(unlisted_case):
    folder, complaint, sighting = unlisted_case
    case = load(folder)
    assert case.quarantine.is_empty()
    complaint_row = case.complaints.filter(pl.col("complaint_id") == complaint)["_row"].item()
    sighting_row = case.camera.filter(pl.col("sighting_id") == sighting)["_row"].item()
    assert case.unlisted.to_dicts() == [
        {"file": "camera.csv", "row": sighting_row, "column": "activity", "value": "use_pc"},
        {
            "file": "complaints.csv",
            "row": complaint_row,
            "column": "category",
            "value": UNLISTED_CATEGORY,
        },
    ]
    findings = investigate(case)
    # The complaint takes part in the investigation like any other.
    linked = findings.complaints.filter(pl.col("complaint_id") == complaint)
    assert linked["category"].to_list() == [UNLISTED_CATEGORY]
    assert complaint in findings.complaint_orders["complaint_id"].to_list()
    assert findings.vector.kind == "usb_malware"
    page = build_report(findings)
    assert "<script>document.title" not in page
    quarantine = page.split("<h2>Quarantine</h2>", 1)[1].split("<h2>", 1)[0]
    assert f"<code>{escape(UNLISTED_CATEGORY)}</code>" in quarantine
    assert f"<code>complaints.csv:{complaint_row}</code>" in quarantine
    assert "<code>use_pc</code>" in quarantine
    assert f"<code>camera.csv:{sighting_row}</code>" in quarantine


@pytest.mark.parametrize("kind", ["third_party_app", "none"])
def test_report_says_when_nobody_is_named(kind, tmp_path):
    generate(tmp_path / "case", scenario=kind, seed=1, orders=ORDERS, fmt="csv")
    findings = investigate(load(tmp_path / "case"))
    assert not findings.suspects
    page = build_report(findings)
    assert "The evidence names no person" in page


def test_defang():
    assert defang("see HTTP://a.b/c and ftp://x.y") == "see hxxp://a[.]b/c and fxp://x[.]y"
    assert defang("data:text/html,hi") == "data[:]text/html,hi"


# --------------------------------------------------------------------------- the CLI


def test_cli_report_writes_everything(usb, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["report", str(usb), "--out", str(out), "--quiet"]) == 0
    doc = json.loads((out / "findings.json").read_text(encoding="utf-8"))
    assert doc["vector"]["kind"] == "usb_malware"
    assert (out / "report.html").stat().st_size > 1_000_000
    printed = capsys.readouterr().out
    if CHROMIUM is None:
        assert "static chart images skipped" in printed
        return
    for name in (
        "timeline.png",
        "timeline.svg",
        "complaints.png",
        "coverage.png",
        "evidence-graph.png",
    ):
        assert (out / name).stat().st_size > 10_000, name
    assert (out / "timeline.png").read_bytes()[:4] == b"\x89PNG"
    assert "skipped" not in printed


def test_cli_report_without_chromium_still_writes_html(usb, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(charts, "find_chromium", lambda: None)
    out = tmp_path / "out"
    assert main(["report", str(usb), "--out", str(out), "--quiet"]) == 0
    assert (out / "report.html").is_file() and (out / "findings.json").is_file()
    assert not list(out.glob("*.png")) and not list(out.glob("*.svg"))
    printed = capsys.readouterr().out
    assert "static chart images skipped" in printed and "chromium" in printed


def test_cli_report_refuses_the_case_folder(usb, capsys):
    before = sorted(p.name for p in usb.iterdir())
    assert main(["report", str(usb), "--out", str(usb / "report"), "--quiet"]) == 2
    assert "inside the case folder" in capsys.readouterr().err
    assert sorted(p.name for p in usb.iterdir()) == before


def test_cli_report_refuses_changed_inputs(usb, tmp_path, monkeypatch, capsys):
    case = tmp_path / "case"
    shutil.copytree(usb, case)
    investigate_module = importlib.import_module("forensics.investigate")
    real = investigate_module.investigate

    def tampered(loaded, **kwargs):
        with open(case / "complaints.csv", "a", encoding="utf-8") as f:
            f.write("\n")
        return real(loaded, **kwargs)

    monkeypatch.setattr(investigate_module, "investigate", tampered)
    out = tmp_path / "out"
    assert main(["report", str(case), "--out", str(out), "--quiet"]) == 3
    assert "complaints.csv" in capsys.readouterr().err
    assert not (out / "report.html").exists()


# --------------------------------------------------------------------------- in a browser


def _chromium(*args: str, profile: Path) -> subprocess.CompletedProcess:
    command = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        f"--user-data-dir={profile}",
        "--virtual-time-budget=15000",
        *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)


@needs_chromium
def test_report_renders_in_chromium_and_scripts_stay_inert(page, tmp_path):
    html = tmp_path / "report.html"
    html.write_text(page, encoding="utf-8")
    dom = _chromium("--dump-dom", html.as_uri(), profile=tmp_path / "profile").stdout
    assert dom.count('class="main-svg"') >= 4, "plotly charts did not render"
    for chart in ("complaints", "timeline", "coverage", "evidence-graph"):
        div = re.search(rf'<div id="chart-{chart}"[^>]*>', dom)
        assert div and "js-plotly-plot" in div[0], f"{chart} was not drawn"
    assert 'data-pwned="yes"' not in dom, "the complaint's script ran"
    assert "<title>xss</title>" not in dom, "the complaint's onerror handler ran"
    shot = tmp_path / "shot.png"
    _chromium(
        "--screenshot=" + str(shot),
        "--window-size=1400,3000",
        "--hide-scrollbars",
        html.as_uri(),
        profile=tmp_path / "profile",
    )
    assert shot.stat().st_size > 100_000, "the screenshot is nearly blank"
