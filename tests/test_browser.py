"""Every chapter run the way a learner runs it: in JupyterLab, in a real browser, through the UI.

A JupyterLab server (token-protected, localhost only) serves a drill copy of the notebooks (a plausible wrong
answer before each exercise's solution); Playwright drives the system Chromium (browsers cannot be downloaded
here) to open each one, run all cells (smoke mode, widgets built), save it, and check that no cell failed, then
applies the smoke run's checks to the saved notebook (``tests/smoke_checks.py``: the drill, the recorded results
and their ranges, nothing left in the kernel's temporary folder). This is the chapter's one smoke execution in
``make test``; without a browser, ``tests/test_notebooks.py`` runs the same checks with papermill. In chapters with an
interactive explorer, one control is changed and its figure must change, and the saved file must hold the
explorer's static copy; in the first such chapter of each half the notebook is then saved, its kernel shut
down, and reopened: the explorer's figure must still show. Screenshots are written to
build/screenshots/. Skipped where Chromium or Playwright is absent (`.ci/run` installs Chromium).
"""
from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from smoke_checks import CHROMIUM, check_smoke_run, write_drill

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]*_*.ipynb"))
SHOTS = ROOT / "build" / "screenshots"
sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright (see requirements.txt)")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="needs Chromium (Debian: apt-get install chromium)")

ALL_PROMPTS_DONE = """() => {
  const prompts = [...document.querySelectorAll('.jp-Notebook .jp-InputPrompt')].map(e => e.textContent);
  return prompts.length > 0 && !prompts.some(t => t.includes('*')) && prompts.some(t => /\\[\\d+\\]/.test(t));
}"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server on a copy of the notebooks; yields (base URL, token, folder)."""
    folder = tmp_path_factory.mktemp("lab")
    for nb in NOTEBOOKS:
        write_drill(nb, folder / nb.name)
    (folder / "tmp").mkdir()   # the kernels' temporary folder: a chapter leaves nothing there
    port, token = free_port(), "course-browser-test"
    env = {**os.environ, "COURSE_SMOKE": "1", "COURSE_HEADLESS": "0", "OMP_NUM_THREADS": "1", "TMPDIR": str(folder / "tmp")}
    log = open(folder / "lab.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={folder}", "--LabApp.expose_app_in_browser=True",
         *(["--allow-root"] if hasattr(os, "getuid") and os.getuid() == 0 else [])],
        env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            if proc.poll() is not None:
                raise RuntimeError(f"JupyterLab exited: {(folder / 'lab.log').read_text()[-2000:]}")
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=1)
                break
            except OSError:
                time.sleep(0.5)
        else:
            raise RuntimeError("JupyterLab did not answer within 2 minutes")
        yield base, token, folder
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


def figure_src(cell) -> str:
    imgs = cell.locator(".jupyter-widgets-output-area img, .widget-output img")
    return (imgs.first.get_attribute("src") or "") if imgs.count() else ""


def redrawn(page, cell, before: str, timeout: int) -> None:
    """Wait until the cell's figure differs from ``before``."""
    page.wait_for_function("([cell, before]) => { const i = cell.querySelector("
                           "'.jupyter-widgets-output-area img, .widget-output img'); return i && i.src !== before; }",
                           arg=[cell.element_handle(), before], timeout=timeout)


def change_a_control(page, stem: str) -> None:
    """Change the first slider or dropdown of an explorer that offers a choice (a dropdown of one option,
    as some chapters have in smoke mode, offers none); its figure must be redrawn differently."""
    controls = page.locator(".jp-Notebook .widget-dropdown select, .jp-Notebook .widget-slider")
    controls.first.wait_for(state="attached", timeout=30_000)
    control = next((c for c in controls.all()
                    if c.evaluate("e => e.tagName !== 'SELECT' || e.options.length > 1")), None)
    assert control is not None, f"{stem}: no explorer control offers a choice"
    control.scroll_into_view_if_needed()
    cell = control.locator("xpath=ancestor::div[contains(@class, 'jp-CodeCell')][1]")
    before = figure_src(cell)
    assert before, f"{stem}: the explorer shows no figure"
    if control.evaluate("e => e.tagName") == "SELECT":
        options = control.locator("option").all_text_contents()
        current = control.evaluate("e => e.options[e.selectedIndex].text")
        control.select_option(label=next(o for o in options if o != current))
        redrawn(page, cell, before, 60_000)
    else:  # a slider: a few steps right, or left when it starts at its maximum
        handle = control.locator(".noUi-handle, .ui-slider-handle, input[type=range]").first
        at_max = handle.evaluate("e => { const v = e.getAttribute('aria-valuenow') ?? e.value, "
                                 "m = e.getAttribute('aria-valuemax') ?? e.max; "
                                 "return v !== null && m !== null && Number(v) >= Number(m); }")
        handle.focus()
        for _ in range(3):
            handle.press("ArrowLeft" if at_max else "ArrowRight")
        redrawn(page, cell, before, 60_000)
    page.wait_for_timeout(500)
    cell.screenshot(path=str(SHOTS / f"{stem}_widget.png"))
    static = cell.locator(".course-static-figure")
    assert static.count() == 1 and static.first.is_hidden(), f"{stem}: the static copy shows beside the live explorer"


REOPENED_FIGURE = """() => {
  const imgs = [...document.querySelectorAll('.jp-Notebook .course-static-figure img')];
  return imgs.length > 0 && imgs.every(i => i.complete && i.naturalWidth > 0 && i.getBoundingClientRect().width > 0);
}"""


def accept_kernel_dialog(page) -> None:
    """Close JupyterLab's "Select Kernel" dialog, keeping the kernel it offers. It can open over a notebook
    just after another page's session was shut down (seen once in CI), and it blocks every control."""
    dialog = page.locator(".jp-Dialog").filter(has_text="Select Kernel")
    if dialog.count():
        try:
            dialog.get_by_role("button", name="Select").click(timeout=5_000)
        except Exception as err:  # it may close by itself meanwhile
            if "Timeout" not in type(err).__name__:
                raise


def save(page) -> None:
    """Save the open notebook; JupyterLab's command resolves once the file is written."""
    page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
    page.wait_for_function("() => !window.jupyterapp.shell.currentWidget.context.model.dirty", timeout=60_000)


def saved_static_figure(stem: str, nb: dict) -> None:
    """The saved explorer cell carries the live widget and, for a reopened notebook, a static PNG copy."""
    cells = [c for c in nb["cells"] if c["cell_type"] == "code" and "explore(" in "".join(c["source"])]
    outputs = [o for c in cells for o in c["outputs"] if "data" in o]
    assert any("application/vnd.jupyter.widget-view+json" in o["data"] for o in outputs), f"{stem}: no widget saved"
    html = [html_text for o in outputs if "course-static-figure" in (html_text := "".join(o["data"].get("text/html", "")))]
    assert html, f"{stem}: the explorer's static copy was not saved"
    png = base64.b64decode(html[0].split("data:image/png;base64,", 1)[1].split('"', 1)[0])
    assert png.startswith(b"\x89PNG") and len(png) > 1000, f"{stem}: the static copy is not a PNG figure"


def reopen_shows_the_figure(page, base: str, token: str, path: Path) -> None:
    """With the kernel gone, a reopened notebook shows the explorer's figure from the saved file."""
    save(page)
    shut_down_kernels(base, token)
    page.goto(f"{base}/lab/tree/{path.name}?reset&token={token}")
    page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=120_000)
    page.locator(".jp-Notebook .course-static-figure").first.scroll_into_view_if_needed(timeout=60_000)
    page.wait_for_function(REOPENED_FIGURE, timeout=60_000)
    page.screenshot(path=str(SHOTS / f"{path.stem}_reopened.png"))


@pytest.fixture(scope="module")
def lab_page():
    """The half's JupyterLab page, loaded once and reused: each chapter is opened in it and closed after
    (loading JupyterLab costs about 4 s of a 2-core machine); a page left in doubt by a failure is replaced."""
    holder: dict = {"page": None}
    yield holder
    if holder["page"] is not None:
        holder["page"].close()


def loaded_page(holder: dict, browser, base: str, token: str):
    if holder["page"] is None:
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(f"{base}/lab?reset&token={token}")  # reset: no tabs restored from an earlier session
        page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell", timeout=120_000)
        page.evaluate("() => window.jupyterapp.restored.then(() => true)")
        no = page.get_by_role("button", name="No")  # the "get notified of Jupyter news?" toast
        page.wait_for_timeout(1000)
        if no.count():
            try:
                no.first.click(timeout=5_000)
            except Exception as err:  # the toast can close by itself between count() and click() (seen in CI)
                if "Timeout" not in type(err).__name__:
                    raise
        holder["page"] = page
    return holder["page"]


OPENED = """(name) => { const w = window.jupyterapp.shell.currentWidget;
  return w && w.context && w.context.path === name && w.sessionContext.session && w.node.querySelector('.jp-Cell'); }"""


def run_in_jupyterlab(lab, browser, holder: dict, path: Path) -> None:
    """Run all of the chapter's drill copy through the UI, check what it saved, try its explorer."""
    base, token, folder = lab
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = loaded_page(holder, browser, base, token)
    closed = False
    try:
        page.evaluate("(name) => window.jupyterapp.commands.execute('docmanager:open', {path: name}).then(() => true)",
                      path.name)
        page.wait_for_function(OPENED, arg=path.name, timeout=120_000)
        accept_kernel_dialog(page)
        page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
        page.wait_for_function(ALL_PROMPTS_DONE, timeout=900_000, polling=250)
        save(page)
        page.screenshot(path=str(SHOTS / f"{path.stem}.png"))
        nb = json.loads((folder / path.name).read_text(encoding="utf-8"))
        code = [c for c in nb["cells"] if c["cell_type"] == "code"]
        errors = [(i, o.get("ename"), o.get("evalue")) for i, c in enumerate(code) for o in c["outputs"]
                  if o["output_type"] == "error"]
        assert not errors, f"{path.name}: cells failed in JupyterLab: {errors}"
        assert all(c["execution_count"] for c in code), f"{path.name}: some code cells did not run"
        check_smoke_run(path.stem, nb)
        assert not list((folder / "tmp").glob("ddp_*")), f"{path.name} left temporary folders behind"
        if any("explore(" in "".join(c["source"]) for c in code):
            saved_static_figure(path.stem, nb)
            accept_kernel_dialog(page)
            change_a_control(page, path.stem)
            if path in REOPENED:
                reopen_shows_the_figure(page, base, token, path)
        # close the chapter's tab without the "save changes?" dialog (it was saved above)
        page.evaluate("() => { for (const w of Array.from(window.jupyterapp.shell.widgets('main'))) w.dispose(); }")
        closed = True
    finally:
        if not closed:
            page.close()
            holder["page"] = None
        shut_down_kernels(base, token)


# Two halves, so that pytest-xdist's loadscope (make test runs -n 2) can give one to each worker; a worker
# starts its own JupyterLab and Chromium (module-scoped fixtures) for the half it runs.
HALVES = (NOTEBOOKS[0::2], NOTEBOOKS[1::2])
# Reopening after the kernel is gone shows what JupyterLab makes of the saved static copy, which is the same
# helper's HTML in every chapter: it is tried on the first chapter with an explorer in each half (a page load
# and a kernel shutdown, about 8 s a chapter), and every other chapter's saved file is checked for that copy.
REOPENED = {next(p for p in half if "explore(" in p.read_text(encoding="utf-8")) for half in HALVES}


class TestFirstHalf:
    @pytest.mark.parametrize("path", HALVES[0], ids=lambda p: p.stem)
    def test_notebook_runs_in_jupyterlab(self, lab, browser, lab_page, path):
        run_in_jupyterlab(lab, browser, lab_page, path)


class TestSecondHalf:
    @pytest.mark.parametrize("path", HALVES[1], ids=lambda p: p.stem)
    def test_notebook_runs_in_jupyterlab(self, lab, browser, lab_page, path):
        run_in_jupyterlab(lab, browser, lab_page, path)


def shut_down_kernels(base: str, token: str) -> None:
    """Stop every kernel the test started, so chapters do not pile up in memory."""
    headers = {"Authorization": f"token {token}"}
    with urllib.request.urlopen(urllib.request.Request(f"{base}/api/sessions", headers=headers)) as resp:
        sessions = json.loads(resp.read())
    for session in sessions:
        urllib.request.urlopen(urllib.request.Request(f"{base}/api/sessions/{session['id']}", method="DELETE",
                                                      headers=headers)).close()
