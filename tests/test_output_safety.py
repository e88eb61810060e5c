"""What leaves the tool is safe: no buyer's personal data in any output
(unless revealed on purpose), evidence text inert in every HTML page,
spreadsheet formulas defused, no file read from outside the case, no
report from inputs that changed (issue 6)."""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
from pathlib import Path

import polars as pl
import pytest
from casefiles import CASE_TOML, table_text, write_case
from hypothesis import given, settings
from hypothesis import strategies as st
from plotly.offline import get_plotlyjs

import forensics
from forensics import cli
from forensics.case import CaseError, load
from forensics.privacy import write_csv
from forensics.response import report
from forensics.response.report import build_report
from forensics.synth import generate
from forensics.views import charts
from forensics.views.widgets import show_table

CHROMIUM = charts.find_chromium()
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium")


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("safety") / "case"
    generate(root, scenario="usb_malware", seed=1, orders=2000, fmt="csv", progress=False)
    return root


# ------------------------------------------------ no personal data leaks

FORMULA = '=HYPERLINK("http://evil.example","x")'


def _personal(i: int) -> dict[str, str]:
    """Distinctive personal data of order ``i``: found anywhere, it leaked."""
    return {
        "buyer_name": f"Qzbuyer{i:05d}",
        "phone": f"19{i:09d}",
        "address": f"Lane {i:05d}, Unit Q{i:05d}X",
    }


def _plant(generated: Path, root: Path, *, renamed: bool = False) -> dict[str, list[str]]:
    """A copy of the case whose orders carry distinctive personal data, with
    damaged order rows and complaints repeating buyers' phones and
    addresses; returns every personal value of the orders file by column.
    ``renamed``: orders are kept as exports/orders_2024.csv ([files.orders]
    path)."""
    shutil.copytree(generated, root)
    orders = pl.read_csv(root / "orders.csv", infer_schema=False)
    planted = pl.DataFrame([_personal(i) for i in range(orders.height)])
    orders = orders.with_columns(planted)
    text = io.StringIO()
    orders.write_csv(text)
    body = text.getvalue()
    first, second = orders.row(0, named=True), orders.row(1, named=True)
    damaged = [
        # fields lost: the whole row is quarantined, personal data in it
        f"{first['order_id']}X,B0,2024-04-01,paid,{first['phone']},{first['address']}\n",
        # NUL in a phone cell: quarantined with column "phone"
        f"{second['order_id']}Y,B1,2024-04-01 10:00:00,paid,5,N,1\x00{second['phone']},Z\n",
    ]
    (root / "orders.csv").write_text(body + "".join(damaged), encoding="utf-8")
    if renamed:
        (root / "exports").mkdir()
        (root / "orders.csv").rename(root / "exports" / "orders_2024.csv")
        toml = (root / "case.toml").read_text(encoding="utf-8")
        toml += '\n[files.orders]\npath = "exports/orders_2024.csv"\n'
        (root / "case.toml").write_text(toml, encoding="utf-8")

    complaints = pl.read_csv(root / "complaints.csv", infer_schema=False)
    buyers = dict(zip(orders["buyer_id"], orders.iter_rows(named=True), strict=False))
    texts = complaints["text"].to_list()
    for i, buyer in enumerate(complaints["buyer_id"].to_list()[:5]):
        own = buyers.get(buyer, first)
        texts[i] = (
            f"他打我 {own['phone']} 说送到 {own['address']}; also {second['phone']} {FORMULA}"
        )
    complaints.with_columns(pl.Series("text", texts)).write_csv(root / "complaints.csv")
    values = orders.select("buyer_name", "phone", "address").to_dict(as_series=False)
    return {k: v for k, v in values.items()}


def _scan(texts: dict[str, bytes], personal: dict[str, list[str]]) -> list[str]:
    """Every (output, column, value) where a personal value appears."""
    found = []
    for column, values in personal.items():
        needles = [v.encode() for v in values]
        for name, data in texts.items():
            hits = [n.decode() for n in needles if n in data]
            found += [f"{name}: {column} {h!r}" for h in hits[:3]]
    return found


def _run_everything(root: Path, out: Path, capsys) -> dict[str, bytes]:
    """Every output path on the case at ``root``: what each printed and every file written."""
    outputs: dict[str, bytes] = {}

    def run(*argv: str) -> None:
        code = cli.main(list(argv))
        captured = capsys.readouterr()
        outputs[f"{argv[0]} stdout"] = captured.out.encode()
        outputs[f"{argv[0]} stderr"] = captured.err.encode()
        assert code in (0, 1), (argv, captured.err)

    run("validate", str(root), "--reasons", "1000")
    run("investigate", str(root), "--out", str(out / "investigate"), "--quiet")
    run("report", str(root), "--out", str(out / "report"), "--quiet")
    run("respond", str(root), "--out", str(out / "respond"))
    run("audit", str(root), "--out", str(out / "audit"))
    run("verify", str(out / "investigate"), str(root))
    for folder in ("investigate", "report", "respond", "audit"):
        for path in sorted((out / folder).rglob("*")):
            if path.is_file():
                outputs[f"{folder}/{path.name}"] = path.read_bytes()
    page = outputs["report/report.html"].decode()
    outputs["report/report.html"] = page.replace(get_plotlyjs(), "").encode()
    return outputs


def test_no_personal_data_in_any_output(generated, tmp_path, capsys, monkeypatch):
    # The SVG is the chart format that holds text; PNGs only slow this down.
    monkeypatch.setattr(report, "STATIC_CHARTS", {"timeline": ("svg",)})
    root = tmp_path / "case"
    personal = _plant(generated, root)
    outputs = _run_everything(root, tmp_path, capsys)
    assert {"report/report.html", "report/findings.json", "respond/affected_buyers.csv"} <= set(
        outputs
    )
    if CHROMIUM is not None:
        assert "report/timeline.svg" in outputs
    # the planted data reached the outputs, masked
    assert "withheld" in outputs["validate stdout"].decode()
    assert b"withheld" in outputs["report/report.html"]
    assert b"*******" in outputs["report/report.html"]
    assert _scan(outputs, personal) == []


def test_no_personal_data_when_orders_file_is_renamed(generated, tmp_path, capsys):
    root = tmp_path / "case"
    personal = _plant(generated, root, renamed=True)
    case = load(root)
    findings = forensics.investigate(case)
    page = build_report(findings).replace(get_plotlyjs(), "")
    assert case.source("orders") == "exports/orders_2024.csv"
    assert _scan({"report.html": page.encode()}, personal) == []


def test_revealed_contacts_are_the_exception(generated, tmp_path, capsys):
    """The scan above would catch a leak: with --reveal-contacts the phones
    are there, in the one file marked sensitive."""
    root = tmp_path / "case"
    personal = _plant(generated, root)
    assert (
        cli.main(["respond", str(root), "--out", str(tmp_path / "out"), "--reveal-contacts"]) == 0
    )
    capsys.readouterr()
    files = {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir()}
    leaks = _scan(files, {"phone": personal["phone"]})
    assert leaks and all(x.startswith("affected_buyers.SENSITIVE.csv") for x in leaks)


# ------------------------------------------------ HTML: evidence text inert

PAYLOADS = [
    "<script>document.documentElement.setAttribute('data-pwned','script')</script>",
    "<img src=x onerror=\"document.documentElement.setAttribute('data-pwned','img')\">",
    "<svg onload=\"document.documentElement.setAttribute('data-pwned','svg')\"></svg>",
    "<a href=\"javascript:document.documentElement.setAttribute('data-pwned','a')\">退款</a>",
    '"><iframe srcdoc="<script>parent.document.title=\'pwned\'</script>"></iframe>',
]
HOSTILE = " ".join(PAYLOADS)


def _hostile_copy(generated: Path, root: Path) -> Path:
    """Staff names, camera notes, machine locations and complaint texts
    carrying markup, scripts, handlers and javascript: links."""
    shutil.copytree(generated, root)
    for file, column in (
        ("staff.csv", "name"),
        ("camera.csv", "note"),
        ("machines.csv", "location"),
        ("complaints.csv", "text"),
    ):
        frame = pl.read_csv(root / file, infer_schema=False)
        frame.with_columns(pl.lit(HOSTILE).alias(column)).write_csv(root / file)
    return root


@pytest.fixture(scope="module")
def hostile(generated, tmp_path_factory):
    root = _hostile_copy(generated, tmp_path_factory.mktemp("hostile") / "case")
    return forensics.investigate(load(root))


def _chromium_dom(html: Path, profile: Path) -> str:
    command = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        f"--user-data-dir={profile}",
        "--virtual-time-budget=10000",
        "--dump-dom",
        html.as_uri(),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)
    assert "<body" in done.stdout, done.stderr[-2000:]
    return done.stdout


def _assert_inert(html: str) -> None:
    """No payload survives as markup: shown as text, each starts ``&lt;``."""
    lowered = html.lower()
    for tag in ("<img src=x", '<img src="x"', "<svg onload", "<iframe", '<a href="javascript:'):
        assert tag not in lowered, tag
    assert "<script>document.documentelement" not in lowered


def test_report_shows_hostile_text_as_text(hostile):
    for reveal in (False, True):
        page = build_report(hostile, reveal=reveal).replace(get_plotlyjs(), "")
        _assert_inert(page)
    assert "&lt;script&gt;document.documentElement" in page  # shown, not run
    assert "javascript[:]" in page  # defanged


@needs_chromium
def test_hostile_text_does_not_run_in_a_browser(hostile, tmp_path):
    """The report (its CSP aside), a notebook table and a chart saved as
    HTML (no CSP at all) render in Chromium without running a payload."""
    page_file = tmp_path / "report.html"
    page_file.write_text(build_report(hostile, reveal=True), encoding="utf-8")
    staff = hostile.case.staff.select("person_id", "name", "role")
    table = show_table(staff.join(hostile.case.camera.select("note").head(3), how="cross"))
    notebook = tmp_path / "notebook.html"
    notebook.write_text(f"<!DOCTYPE html><html><body>{table._repr_html_()}</body></html>")
    chart = tmp_path / "chart.html"
    charts.timeline(hostile, reveal=True).write_html(chart, include_plotlyjs=True)
    for page in (page_file, notebook, chart):
        dom = _chromium_dom(page, tmp_path / "profile")
        assert 'data-pwned="' not in dom, page.name
        assert "<title>pwned" not in dom, page.name
        _assert_inert(dom.replace(get_plotlyjs(), ""))
        if page is notebook:
            assert "&lt;script&gt;document.documentElement" in dom  # shown as text


# ------------------------------------------------------ CSV: formulas defused

_RISKY = ("=", "+", "-", "@", "\t", "\r")


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.text(max_size=12),
            st.sampled_from(_RISKY).flatmap(lambda c: st.text(max_size=8).map(lambda t: c + t)),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_write_csv_defuses_every_formula_cell(cells):
    frame = pl.DataFrame({"text": cells, "phone": ["13812345678"] * len(cells)})
    out = io.StringIO()
    write_csv(frame, out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue(), newline="")))
    assert len(rows) == len(cells)
    for row, cell in zip(rows, cells, strict=True):
        assert row["text"] == ("'" + cell if cell.startswith(_RISKY) else cell)
        assert row["phone"] == "*******5678"


# --------------------------------------------------------- path confinement


def _outside(tmp_path: Path) -> Path:
    secret = tmp_path / "outside" / "orders.csv"
    secret.parent.mkdir()
    secret.write_text(table_text("orders"), encoding="utf-8")
    return secret


@pytest.mark.skipif(os.name == "nt", reason="symlinks")
def test_symlinked_table_leading_out_of_the_case_is_refused(tmp_path):
    root = write_case(tmp_path / "case", orders=None)
    (root / "orders.csv").symlink_to(_outside(tmp_path))
    with pytest.raises(CaseError, match="outside the case folder") as err:
        load(root)
    assert err.value.file == "orders.csv"


@pytest.mark.skipif(os.name == "nt", reason="symlinks")
def test_symlinked_case_toml_and_declared_path_are_refused(tmp_path):
    root = write_case(tmp_path / "a", toml=None)
    elsewhere = tmp_path / "elsewhere.toml"
    elsewhere.write_text(CASE_TOML, encoding="utf-8")
    (root / "case.toml").symlink_to(elsewhere)
    with pytest.raises(CaseError, match="outside the case folder"):
        load(root)

    root = write_case(tmp_path / "b", orders=None)
    (root / "exports").symlink_to(_outside(tmp_path).parent, target_is_directory=True)
    (root / "case.toml").write_text(CASE_TOML + '[files.orders]\npath = "exports/orders.csv"\n')
    with pytest.raises(CaseError, match="leads outside the case folder"):
        load(root)


@pytest.mark.skipif(os.name == "nt", reason="symlinks")
def test_symlink_inside_the_case_is_followed(tmp_path):
    root = write_case(tmp_path / "case", orders=None)
    (root / "raw").mkdir()
    (root / "raw" / "orders-export.csv").write_text(table_text("orders"), encoding="utf-8")
    (root / "orders.csv").symlink_to(Path("raw") / "orders-export.csv")
    assert load(root).orders.height == 4


# --------------------------------------------- integrity: verified before report


def test_report_refuses_findings_whose_inputs_changed(generated, tmp_path):
    """``forensics report`` re-hashes before writing (tests/test_report.py);
    the library call must refuse the same way rather than describe evidence
    that is no longer what is on disk."""
    root = tmp_path / "case"
    shutil.copytree(generated, root)
    findings = forensics.investigate(load(root))
    with (root / "access.csv").open("a", encoding="utf-8") as fh:
        fh.write("A999999,2024-05-01T10:00:00,lanyi,PC-01,,export_orders,,,,\n")
    assert findings.case.verify() == ["access.csv"]
    with pytest.raises(CaseError, match="access.csv"):
        build_report(findings)
