"""Every notebook, run in JupyterLab in a real browser (headless Chromium).

nbval (tests/test_notebooks.py) runs the notebooks' code in a kernel; this
checks what an investigator sees: JupyterLab is started on a free port with
its own settings, runtime and workspace folders (nothing of the user's is
read or written), each notebook is opened in Debian's Chromium driven by
Playwright for Python, "run all" is clicked through JupyterLab's command,
and then:

* no cell shows an error or a traceback;
* the charts are drawn (plotly's plot divs are in the page);
* in every interactive view, each control (drop-down, slider handle, check
  box) is changed and the chart must be drawn exactly once per change (it
  is updated in place, not rebuilt), keep the types of the axes it
  shows (a date axis stays one), within :data:`REDRAW_LIMIT` seconds
  always and within :data:`REDRAW_TARGET` seconds when the machine is
  quiet (:func:`_machine_is_quiet`: other programs keep less than half
  its cores busy; ``FORENSICS_REDRAW_TARGET=always`` or ``never`` decides
  instead); a time over the target is measured three times and the median
  kept. The times are printed with ``-s`` and
  recorded as test properties (``--junitxml``).

The notebooks run on copies in a temporary folder (JupyterLab autosaves
what it ran; the committed notebooks keep only their checked outputs), with
``datasets/`` linked read-only beside them so their relative ``CASE`` paths
hold. No browser is downloaded: the test uses the Chromium
:func:`forensics.views.charts.find_chromium` finds (``make chromium`` installs
Debian's) and is skipped, saying so, only when there is none.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from forensics.views import charts

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
CHROMIUM = charts.find_chromium()

REDRAW_TARGET = 0.3
"""Seconds from a control's change to its chart redrawn: asserted when the
machine is quiet."""
REDRAW_LIMIT = 1.0
"""The outright limit, asserted always (a shared, loaded machine is slower)."""
RUN_TIMEOUT = 300
"""Seconds a notebook may take to run all its cells."""

# Flags for a headless Chromium on a machine without network or GPU: no
# background connections, no updates or sync, a fresh profile each time.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]

pytestmark = [
    pytest.mark.skipif(
        CHROMIUM is None,
        reason="no Chromium browser found: run `make chromium` (Debian's chromium package) "
        "to test the notebooks in a real browser",
    ),
    pytest.mark.browser,
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop(server: subprocess.Popen) -> None:
    """End the server and everything it started (its kernels)."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(server.pid, sig)
        except ProcessLookupError:
            return
        try:
            server.wait(20)
            return
        except subprocess.TimeoutExpired:
            continue


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server on a free port, serving copies of the notebooks."""
    home = tmp_path_factory.mktemp("lab")
    (home / "notebooks").mkdir()
    for nb in NOTEBOOKS:
        shutil.copy(nb, home / "notebooks" / nb.name)
    (home / "datasets").symlink_to(ROOT / "datasets", target_is_directory=True)
    token = secrets.token_hex(16)
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "JUPYTER_DATA_DIR": str(home / "data"),
        "IPYTHONDIR": str(home / "ipython"),
        "JUPYTER_PLATFORM_DIRS": "1",
    }
    # The free port is chosen here and bound by JupyterLab a moment later;
    # if another program (another test run beside this one) takes it in
    # between, JupyterLab exits and is started again on another port.
    for attempt in range(3):
        server, url = _start_lab(home, env, _free_port(), token, attempt)
        if server is not None:
            break
    else:
        pytest.fail("JupyterLab did not start:\n" + (home / "server.log").read_text()[-3000:])
    try:
        yield {"url": url, "token": token, "home": home}
    finally:
        _stop(server)


def _start_lab(home: Path, env: dict, port: int, token: str, attempt: int):
    """JupyterLab on ``port``: (server, url) once it answers, (None, None)
    if it exited (the port was taken)."""
    cmd = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--allow-root",  # CI runs as root
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={home}",
        f"--LabApp.user_settings_dir={home / 'settings'}",
        f"--LabApp.workspaces_dir={home / 'workspaces'}",
        "--LabApp.expose_app_in_browser=True",
    ]
    with (home / "server.log").open("ab") as log:
        log.write(f"--- attempt {attempt + 1}, port {port}\n".encode())
        log.flush()
        server = subprocess.Popen(
            cmd, cwd=home, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=5):
                return server, url
        except OSError:
            if server.poll() is not None:
                return None, None
            if time.monotonic() > deadline:
                _stop(server)
                pytest.fail(
                    "JupyterLab did not answer:\n" + (home / "server.log").read_text()[-3000:]
                )
            time.sleep(0.5)


@pytest.fixture(scope="module")
def browser(lab, tmp_path_factory):
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1600, "height": 1000},
        )
        try:
            yield context
        finally:
            context.close()


# In the page: JupyterLab's app (exposed by --LabApp.expose_app_in_browser).
_KERNEL_IDLE = """() => {
  const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
  return !!k && k.status === 'idle';
}"""
_RUN_ALL = """() => { window.__ran = false;
  window.jupyterapp.commands.execute('notebook:run-all-cells')
    .then(() => { window.__ran = true; }); }"""
_ALL_RAN = """() => {
  const w = window.jupyterapp.shell.currentWidget;
  const k = w.sessionContext.session.kernel;
  if (!window.__ran || k.status !== 'idle') return false;
  return [...w.content.widgets].every(c => c.model.type !== 'code'
      || (c.model.executionCount !== null && c.model.executionCount !== undefined));
}"""
_NOTEBOOK_JSON = "() => window.jupyterapp.shell.currentWidget.content.model.toJSON()"

# Arm a view for a change, then change control `index` of kind `kind` in
# view `view`: a drop-down gets another option, a check box is clicked, a
# slider's handle is focused and the key that moves it to one end of its
# course is returned (the test presses it: a script's key event is not a
# real one). Every time plotly finishes drawing in the view (its "afterplot"
# event, on the plot there or on a new one drawn in its place),
# window.__last becomes the time since the change, and window.__draws counts
# the drawings: once the page has been quiet for a while, __last is when the
# chart was last redrawn.
# The type of each axis shown, by plot and axis name. plotly.js, given new
# data, guesses axis types again whatever the figure says: a date axis could
# turn linear. A chart whose axes are hidden (nothing to show) is left out.
_AXES = """(view) => Object.fromEntries(
  [...window.__views[view].querySelectorAll('.js-plotly-plot')].flatMap((el, i) =>
    !el._fullLayout ? [] : Object.keys(el._fullLayout)
      .filter(k => /^[xy]axis[0-9]*$/.test(k) && el._fullLayout[k].visible)
      .map(k => [`${i} ${k}`, el._fullLayout[k].type])))"""
_CHANGE = """([view, kind, index]) => {
  const box = window.__views[view];
  const t0 = performance.now();
  window.__t0 = t0;
  window.__last = null;
  window.__draws = 0;
  window.__mark = () => { window.__last = performance.now() - t0; window.__draws += 1; };
  const hook = el => {  // one listener per plot, calling this change's __mark
    if (el.on && !el.__hooked) {
      el.__hooked = true;
      el.on('plotly_afterplot', () => window.__mark());
    }
  };
  const old = [...box.querySelectorAll('.js-plotly-plot')];
  old.forEach(hook);
  if (window.__watch) window.__watch.disconnect();
  const look = el => {
    if (!old.includes(el) && !el.__seen && el._fullLayout && el.querySelector('.main-svg')) {
      el.__seen = true; window.__mark();
    }
    hook(el);
  };
  const plots = () => box.querySelectorAll('.js-plotly-plot').forEach(look);
  window.__watch = new MutationObserver(plots);
  window.__watch.observe(box, {childList: true, subtree: true});
  if (kind === 'select') {
    const select = box.querySelectorAll('.widget-dropdown select')[index];
    const option = select.selectedIndex === 1 ? 0 : 1;
    select.selectedIndex = option;
    select.dispatchEvent(new Event('change', {bubbles: true}));
    return [select.options[option].textContent, null];
  }
  if (kind === 'slider') {
    const handle = box.querySelectorAll('.widget-slider .noUi-handle')[index];
    // to one end of its course and then the other (Home: its least value,
    // End: its most): a whole-case window, a single day
    const now = Number(handle.getAttribute('aria-valuenow'));
    const min = Number(handle.getAttribute('aria-valuemin'));
    const max = Number(handle.getAttribute('aria-valuemax'));
    window.__keys = window.__keys || {};
    const last = window.__keys[[view, index]];
    const key = last ? (last === 'Home' ? 'End' : 'Home')
      : index === 0 ? (now > min ? 'Home' : 'End') : (now < max ? 'End' : 'Home');
    window.__keys[[view, index]] = key;
    handle.focus();
    return [`handle ${index} ${key}`, key];
  }
  const check = box.querySelectorAll('.widget-checkbox input')[index];
  check.click();
  return [`checked: ${check.checked}`, null];
}"""
# Settled: a redraw was seen and nothing was drawn for QUIET ms since; or,
# for a slider, nothing was drawn, UNCHANGED ms have gone since the change
# and the kernel is idle (a step that changes nothing drawn).
QUIET = 700
UNCHANGED = 3000
_SETTLED_OR_UNCHANGED = f"""([quiet, slider]) => {{
  const since = performance.now() - window.__t0;
  if (window.__last !== null) return since - window.__last > quiet;
  return slider && since > {UNCHANGED} && ({_KERNEL_IDLE})();
}}"""
SLIDER_STEPS = 6
# The views (a box with controls and a plotly chart) and their controls:
# [kind, index, label] for each drop-down with a choice, slider handle and
# check box.
_FIND_VIEWS = """() => {
  const boxes = [...document.querySelectorAll('.jp-Notebook .widget-vbox')].filter(
    b => b.querySelector('.widget-dropdown select, .widget-slider, .widget-checkbox')
      && b.querySelector('.js-plotly-plot'));
  window.__views = boxes;
  return boxes.map(b => [
    ...[...b.querySelectorAll('.widget-dropdown select')].map((s, i) =>
      s.options.length > 1
        ? ['select', i, s.closest('.widget-dropdown').querySelector('label').textContent]
        : null),
    ...[...b.querySelectorAll('.widget-slider .noUi-handle')].map((h, i) =>
      ['slider', i, h.closest('.widget-slider').querySelector('label').textContent]),
    ...[...b.querySelectorAll('.widget-checkbox input')].map((c, i) =>
      ['checkbox', i, c.closest('.widget-checkbox').textContent.trim()]),
  ].filter(c => c !== null));
}"""


def _machine_is_quiet(seconds: float = 0.5) -> bool:
    """Whether the target is asserted: ``FORENSICS_REDRAW_TARGET=always``
    or ``never`` decides; else the machine counts as quiet while the
    programs other than this test's own (pytest and all it started: the
    JupyterLab server, its kernels, the browser) keep less than half of its
    cores busy, measured over ``seconds`` (then the browser, the kernel and
    the server get a core when they need one). Not the load average: that
    counts this test's own notebooks, which keep a quiet 2-core machine's
    one-minute load above 2 while they run."""
    forced = os.environ.get("FORENSICS_REDRAW_TARGET", "").lower()
    if forced in ("always", "never"):
        return forced == "always"
    before_all, before_ours = _busy_ticks(), _own_ticks()
    time.sleep(seconds)
    others = (_busy_ticks() - before_all) - (_own_ticks() - before_ours)
    cores = os.cpu_count() or 1
    return others / os.sysconf("SC_CLK_TCK") / seconds < cores / 2


def _busy_ticks() -> int:
    """Clock ticks every CPU has spent busy (not idle or waiting on I/O)."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, fields[:8])
    return user + nice + system + irq + softirq + steal


def _own_ticks() -> int:
    """Clock ticks spent by this process and everything it started, alive
    (those that ended are counted in their parents' children times)."""
    stats = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                text = (entry / "stat").read_text()
            except OSError:  # it ended meanwhile
                continue
            f = text.rsplit(")", 1)[1].split()
            # ppid, utime, stime, cutime, cstime
            stats[int(entry.name)] = (int(f[1]), sum(int(v) for v in f[11:15]))
    ours, grew = {os.getpid()}, True
    while grew:
        more = {pid for pid, (ppid, _) in stats.items() if ppid in ours} - ours
        grew = bool(more)
        ours |= more
    return sum(stats[pid][1] for pid in ours if pid in stats)


def _change_and_time(page, notebook: Path, view: int, kind: str, index: int):
    """Change a control; the seconds until its chart was redrawn, and how
    many times it was drawn. A slider step that changes nothing drawn (no
    redraw while the kernel is idle again) is followed by another step, up
    to :data:`SLIDER_STEPS`."""
    for _ in range(SLIDER_STEPS if kind == "slider" else 1):
        axes = page.evaluate(_AXES, view)
        label, key = page.evaluate(_CHANGE, [view, kind, index])
        if key:
            page.keyboard.press(key)
        try:
            settled = (_SETTLED_OR_UNCHANGED,)
            arg = [QUIET, kind == "slider"]
            page.wait_for_function(*settled, arg=arg, timeout=30_000, polling=50)
            page.wait_for_function(_KERNEL_IDLE, timeout=30_000, polling=50)
            page.wait_for_function(*settled, arg=arg, timeout=30_000, polling=50)
        except PlaywrightTimeout:
            pytest.fail(f"{notebook.name}: view {view}, {kind} {index} {label!r}: stuck for 30 s")
        last, draws = page.evaluate("() => [window.__last, window.__draws]")
        if last is not None:
            after = page.evaluate(_AXES, view)
            changed = {k: (axes[k], after[k]) for k in axes.keys() & after.keys()}
            changed = {k: v for k, v in changed.items() if v[0] != v[1]}
            assert changed == {}, f"{notebook.name}: {label!r}: axis types changed {changed}"
            return label, last / 1000, draws
    pytest.fail(f"{notebook.name}: view {view}, {kind} {index}: never redrawn ({label!r})")


def _problems(nb: dict) -> list[str]:
    """Error outputs and tracebacks in a notebook's outputs."""
    found = []
    for i, cell in enumerate(nb["cells"]):
        for out in cell.get("outputs", []):
            text = out.get("text", "")
            text = "".join(text) if isinstance(text, list) else text
            if out.get("output_type") == "error":
                found.append(f"cell {i}: {out.get('ename')}: {out.get('evalue')}")
            elif "Traceback (most recent call last)" in text:
                found.append(f"cell {i}: a traceback in {out.get('name', 'output')}")
    return found


def _charts_expected(nb: dict) -> bool:
    """A figure or a chart view is shown (05-report only writes files)."""
    source = "".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
    shown = json.dumps([c.get("outputs", []) for c in nb["cells"]])
    return "_view(" in source or "application/vnd.plotly.v1+json" in shown


def _open_and_run(page, lab: dict, notebook: Path) -> None:
    """Open ``notebook`` in JupyterLab, wait for its kernel, run all cells
    and wait until every cell ran."""
    page.goto(
        f"{lab['url']}/lab/tree/notebooks/{notebook.name}?reset&token={lab['token']}",
        wait_until="domcontentloaded",
    )
    page.wait_for_function(_KERNEL_IDLE, timeout=120_000, polling=200)
    page.evaluate(_RUN_ALL)
    page.wait_for_function(_ALL_RAN, timeout=RUN_TIMEOUT * 1000, polling=500)


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[nb.stem for nb in NOTEBOOKS])
def test_notebook_runs_and_redraws_in_the_browser(lab, browser, notebook, record_property):
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        _open_and_run(page, lab, notebook)
        nb = page.evaluate(_NOTEBOOK_JSON)
        assert _problems(nb) == [], f"{notebook.name} shows errors in the browser"
        assert errors == [], f"{notebook.name}: JavaScript errors {errors}"
        if _charts_expected(nb):
            page.wait_for_selector(".jp-Notebook .js-plotly-plot .main-svg", timeout=60_000)
        plots = page.locator(".jp-Notebook .js-plotly-plot").count()
        record_property("plots", plots)
        assert plots > 0 or not _charts_expected(nb), f"{notebook.name}: no chart drawn"

        timings = []
        for view, controls in enumerate(page.evaluate(_FIND_VIEWS)):
            for kind, index, name in controls:
                # Over the target, a redraw is measured twice more (the
                # control moved again) and the median kept: one slow frame
                # on a busy machine is not a slow view.
                tries, draws, quiet = [], [], _machine_is_quiet()
                while len(tries) < 3:
                    label, seconds, drawn = _change_and_time(page, notebook, view, kind, index)
                    tries.append(seconds)
                    draws.append(drawn)
                    if len(tries) == 1 and seconds <= REDRAW_TARGET:
                        break
                quiet = quiet and _machine_is_quiet()
                if kind == "slider" and not label.endswith(("Home", "End")[index]):
                    # back to the widest window, so the other handle can move
                    _change_and_time(page, notebook, view, kind, index)
                seconds = sorted(tries)[len(tries) // 2]
                timings.append(
                    {
                        "view": view,
                        "control": f"{name} ({kind} {index})",
                        "last change": label,
                        "seconds": round(seconds, 3),
                        "tries": [round(t, 3) for t in tries],
                        "draws": draws,
                        "quiet": quiet,
                    }
                )
        record_property("redraw_seconds", json.dumps(timings))
        print(f"\n{notebook.stem}: {plots} plot(s); load {os.getloadavg()[0]:.2f}; redraws:")
        for t in timings:
            print(f"  {t}")
        # One change, one drawing: the chart is updated in place, not
        # rebuilt or drawn again and again (this does not depend on load).
        redrawn_more = [t for t in timings if max(t["draws"]) > 1]
        assert redrawn_more == [], f"a control change drew the chart more than once: {redrawn_more}"
        slow = [t for t in timings if t["seconds"] > REDRAW_LIMIT]
        assert slow == [], f"redrawn in more than {REDRAW_LIMIT} s: {slow}"
        missed = [t for t in timings if t["quiet"] and t["seconds"] > REDRAW_TARGET]
        assert missed == [], f"on a quiet machine, redrawn in more than {REDRAW_TARGET} s: {missed}"
    finally:
        page.close()


TIMELINE = ROOT / "notebooks" / "03-timeline.ipynb"


def test_tagging_an_event_from_the_timeline_in_the_browser(lab, browser):
    """In 03-timeline: click a USB mark on the chart, write a tag, press Tag:
    one line in the notes file (beside the notebooks, outside the case)
    naming that event's file and row, and the chart redrawn with it framed."""
    page = browser.new_page()
    notes = lab["home"] / "out" / "notes.jsonl"
    try:
        _open_and_run(page, lab, TIMELINE)
        page.wait_for_selector(".jp-Notebook .js-plotly-plot .main-svg", timeout=60_000)
        mark = page.locator(f"{_trace_group(page, 'USB device connected')} .point").first
        mark.scroll_into_view_if_needed(timeout=30_000)
        box = mark.bounding_box()
        assert box is not None
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        page.mouse.move(x, y)
        page.mouse.click(x, y)
        page.get_by_text("event(s) chosen").wait_for(timeout=30_000)
        chosen = page.locator(".widget-html", has_text="event(s) chosen").inner_text()
        page.get_by_placeholder("a tag, e.g. suspicious").fill("<b>seen</b> on camera")
        page.get_by_role("button", name="Tag", exact=True).click()
        page.get_by_text("wrote 1 tag note(s)").wait_for(timeout=30_000)
        lines = [json.loads(line) for line in notes.read_text("utf-8").splitlines()]
        assert len(lines) == 1 and lines[0]["kind"] == "tag"
        assert lines[0]["tag"] == "<b>seen</b> on camera"
        assert f"{lines[0]['source']}:{lines[0]['row']}" in chosen
        noted = page.locator(f"{_trace_group(page, 'noted by the investigator')} .point")
        noted.first.wait_for(state="attached", timeout=30_000)
        assert noted.count() == 1
        assert not notes.is_relative_to(ROOT / "datasets")
    finally:
        page.close()


def _trace_group(page, name: str) -> str:
    """A CSS selector for the SVG group of the timeline's trace ``name``
    (plotly classes each trace's group by its uid), once it is shown."""
    try:
        uid = page.wait_for_function(
            """(name) => {
          const gd = document.querySelector('.jp-Notebook .js-plotly-plot');
          const i = gd.data.findIndex(t => t.name === name && t.visible !== false);
          return i < 0 ? null : gd._fullData[i].uid;
        }""",
            arg=name,
            timeout=30_000,
            polling=100,
        ).json_value()
    except PlaywrightTimeout:
        pytest.fail(f"no trace {name!r} shown on the timeline")
    return f".js-plotly-plot .trace.trace{uid}"
