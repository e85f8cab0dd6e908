"""The series as people use it: every notebook run in a real JupyterLab in a real Chromium.

    .venv/bin/python tests/e2e/run_e2e.py [--timeout 240] [notebooks/01_data.ipynb ...]

(`make e2e` runs it.) It starts JupyterLab from this environment on a free local port with a token,
on a temporary copy of the notebooks (the committed files are never changed), in quick mode, and
drives Chromium with Playwright. For every notebook it runs Run → Run All Cells and fails on:
any error output (no committed cell raises: a lesson shows an error with `source.show_error`,
which every front-end runs through), "Error displaying widget", a cell still busy after the time
limit or never run, a figure that is missing, empty or blank, a progress
bar that never moved; it moves every slider and presses every Train/Check button and checks that
what is shown changes. Then it opens the slide decks of build/slides/ from disk with the network cut
(the figures must be there, every slide must fit a 1024 × 768 screen: each one's height is
measured) and, when jupyterlab-rise is installed, one notebook in RISE. Last, it audits the HTML
page of every notebook (build/pages/) with axe-core, the npm package, in the same Chromium: a
serious or critical violation of WCAG 2.1 A or AA fails, a minor or moderate one is listed; and
the page nbconvert's stock template makes of the first notebook must fail the same audit.

Screenshots go to build/e2e/ (one full page per notebook, plus widgets, a slide and RISE).
It stops JupyterLab, its kernels and the browser on every exit path, and checks that none is left.
Chromium: $CHROMIUM, else /usr/bin/chromium or one on PATH, else Playwright's own download.
Standard library and Playwright only, plus the notebooks' own environment for the kernels.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

TOP = Path(__file__).resolve().parents[2]
SHOTS = TOP / "build" / "e2e"
DECKS = TOP / "build" / "slides"
PAGES = TOP / "build" / "pages"
sys.path.insert(0, str(TOP / "tools"))
import build_slides  # noqa: E402  (in tools/: the decks, the pages and the npm packages they need)
import slide_metadata  # noqa: E402  (the slide builder's, in tools/)

SCREEN = {"width": 1024, "height": 768}  # a projector's; every slide must fit it
AXE = {"axe-core": ("4.11.0", "axe-core")}  # the accessibility engine, from npm
FAILING_IMPACTS = {"serious", "critical"}

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
HOW_TO_GET_CHROMIUM = (
    "no Chromium for the browser test: install one (Debian/Ubuntu: `sudo apt-get install "
    "chromium`; anywhere with internet: `.venv/bin/playwright install chromium`) or set "
    "CHROMIUM=/path/to/chrome"
)
# Settings for the test's own JupyterLab (a fresh settings folder: the user's are not read).
LAB_SETTINGS = {
    # Every cell in the page, so that cells and outputs can be found by position.
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false"},
    "@jupyterlab/extensionmanager-extension/plugin.jupyterlab-settings": {"enabled": False},
}
STOPPED = "never ran (Run All stopped before them)"
FIGURE_TEXT = re.compile(r"<Figure size [\d.]+x[\d.]+ with \d+ Axes>")


class Failed(Exception):
    """The browser showed something a student must not see."""


@dataclass
class Report:
    name: str
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def log(message: str) -> None:
    print(message, flush=True)


# ---------------------------------------------------------------- processes


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children_of(pid: int) -> set[int]:
    """Every live descendant of `pid` (`ps`, so it works on Linux and macOS)."""
    ps = subprocess.Popen(["ps", "-A", "-o", "pid=,ppid="], stdout=subprocess.PIPE, text=True)
    out, _ = ps.communicate()
    parent = {}
    for line in out.splitlines():
        child, ppid = map(int, line.split())
        parent[child] = ppid
    found, frontier = set(), {pid}
    while frontier:
        frontier = {c for c, p in parent.items() if p in frontier} - found
        found |= frontier
    return found - {ps.pid}


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie is dead for our purposes; reap it if it is ours.
    with suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.is_file() and stat.read_text().split(") ")[-1].startswith("Z"))


def kill_all(pids: set[int], grace: float = 10.0) -> None:
    """SIGTERM, then after `grace` seconds SIGKILL, every pid in `pids` that is still there."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            with suppress(ProcessLookupError, PermissionError):
                os.kill(pid, sig)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and any(alive(p) for p in pids):
            time.sleep(0.2)
        pids = {p for p in pids if alive(p)}
        if not pids:
            return


class Lab:
    """A JupyterLab server of its own: free port, token, fresh config and settings, temp root."""

    def __init__(self, root: Path, workdir: Path):
        self.root, self.port, self.token = root, free_port(), secrets.token_hex(16)
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / "jupyterlab.log"
        settings = workdir / "lab-settings"
        for name, values in LAB_SETTINGS.items():
            (settings / name).parent.mkdir(parents=True, exist_ok=True)
            (settings / name).write_text(json.dumps(values))
        self.env = {
            **os.environ,
            "MNISTLIB_QUICK": "1",
            "OMP_NUM_THREADS": "1",
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
            "JUPYTER_CONFIG_DIR": str(workdir / "config"),
            "JUPYTER_DATA_DIR": str(workdir / "data"),
            "JUPYTER_RUNTIME_DIR": str(workdir / "runtime"),
            "JUPYTERLAB_SETTINGS_DIR": str(settings),
            "JUPYTERLAB_WORKSPACES_DIR": str(workdir / "workspaces"),
            "JUPYTER_PLATFORM_DIRS": "1",
        }
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 90.0) -> None:
        command = [
            sys.executable, "-m", "jupyterlab", "--no-browser",
            "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0", f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root}",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        ]  # fmt: skip
        if hasattr(os, "getuid") and os.getuid() == 0:
            command.append("--allow-root")
        self.process = subprocess.Popen(
            command,
            env=self.env,
            cwd=self.root,
            stdin=subprocess.DEVNULL,
            stdout=self.log_path.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped as one
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise Failed(f"JupyterLab exited at start:\n{self.log_tail()}")
            with suppress(OSError):
                self.api("GET", "/api/status")
                return
            time.sleep(0.5)
        raise Failed(f"JupyterLab did not answer within {timeout:.0f} s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def api(self, method: str, path: str):
        request = urllib.request.Request(
            self.url + path, method=method, headers={"Authorization": f"token {self.token}"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def kernel_state(self, notebook_path: str) -> str | None:
        for session in self.api("GET", "/api/sessions"):
            if session.get("path") == notebook_path and session.get("kernel"):
                return session["kernel"]["execution_state"]
        return None

    def shutdown_kernels(self) -> None:
        with suppress(OSError):
            for kernel in self.api("GET", "/api/kernels"):
                self.api("DELETE", f"/api/kernels/{kernel['id']}")

    def stop(self) -> None:
        if self.process is None:
            return
        self.shutdown_kernels()
        tree = children_of(self.process.pid) | {self.process.pid}
        with suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGTERM)
        with suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=15)
        kill_all(tree, grace=5)  # kernels live in their own sessions: killed by pid
        with suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)


def find_chromium() -> str | None:
    """A Chromium to drive, or None to try Playwright's own download."""
    if os.environ.get("CHROMIUM"):
        return os.environ["CHROMIUM"]
    for candidate in ("/usr/bin/chromium", "/usr/bin/chromium-browser"):
        if Path(candidate).is_file():
            return candidate
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        if shutil.which(name):
            return shutil.which(name)
    mac = Path("/Applications/Google Chrome.app/Contents/MacOS/Google Chrome")
    return str(mac) if mac.is_file() else None


# ---------------------------------------------------------------- in the page

# What each cell of the notebook shows: prompt, errors, images, figure texts, progress bars.
CELLS_JS = """
() => [...document.querySelectorAll('.jp-NotebookPanel .jp-Notebook .jp-Cell')]
  .map(cell => ({
    code: cell.classList.contains('jp-CodeCell'),
    prompt: (cell.querySelector('.jp-InputArea-prompt') || {}).textContent ||
            (cell.querySelector('.jp-OutputArea-prompt') || {}).textContent || '',
    folded: !cell.querySelector('.jp-InputArea-prompt'),
    errors: [...cell.querySelectorAll(
        '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.error"],' +
        '.jp-RenderedText[data-mime-type="application/vnd.jupyter.error"]')]
      .map(e => e.innerText.slice(0, 1500)),
    stderr: [...cell.querySelectorAll(
        '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')]
      .map(e => e.innerText.slice(0, 1500)),
    texts: [...cell.querySelectorAll('.jp-OutputArea-output')].map(e => e.innerText.slice(0, 300)),
    widgetErrors: (cell.innerText.match(/Error displaying widget[^\\n]*/g) || []),
    images: [...cell.querySelectorAll('.jp-OutputArea-output img, .jp-RenderedMarkdown img')]
      .map(img => ({src: img.src.slice(0, 80), complete: img.complete, w: img.naturalWidth,
                    output: !!img.closest('.jp-OutputArea-output'), alt: img.alt})),
    bars: [...cell.querySelectorAll('.widget-hprogress .progress-bar')]
      .map(bar => bar.style.width || bar.getAttribute('aria-valuenow') || ''),
  }))
"""

# Fraction of pixels of an <img> that differ from its top-left pixel (0: a blank figure).
INK_JS = """
img => {
  const c = document.createElement('canvas');
  c.width = img.naturalWidth; c.height = img.naturalHeight;
  const g = c.getContext('2d'); g.drawImage(img, 0, 0);
  const d = g.getImageData(0, 0, c.width, c.height).data;
  let differ = 0;
  for (let i = 0; i < d.length; i += 4)
    if (Math.abs(d[i]-d[0]) + Math.abs(d[i+1]-d[1]) + Math.abs(d[i+2]-d[2]) > 30) differ++;
  return differ / (d.length / 4);
}
"""

# What an output area shows, for before/after comparisons: image sources and widget-output text.
SHOWN_JS = """
area => [...area.querySelectorAll('img')].map(i => i.src).join('|') + '#' +
        [...area.querySelectorAll('.widget-output, .jp-OutputArea-output pre')]
          .map(o => o.innerText).join('|')
"""


def wait_for(predicate, timeout: float, every: float = 0.5):
    """Call `predicate` until it returns something true; that value, or None after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(every)


def cell_count(notebook: Path) -> int:
    return len(json.loads(notebook.read_text())["cells"])


def open_notebook(page, lab: Lab, rel: str, timeout: float) -> None:
    page.goto(f"{lab.url}/lab/tree/{rel}?token={lab.token}&reset", wait_until="domcontentloaded")
    page.wait_for_selector(".jp-NotebookPanel .jp-Notebook .jp-Cell", timeout=timeout * 1000)
    if not wait_for(lambda: lab.kernel_state(rel) == "idle", timeout):
        raise Failed(f"the kernel did not start within {timeout:.0f} s")
    page.wait_for_timeout(500)


def run_all(page) -> None:
    """Run → Run All Cells, by the menus, as a student does it."""
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()


def busy(cells: list[dict]) -> list[int]:
    return [i for i, c in enumerate(cells) if c["code"] and "*" in c["prompt"]]


def wait_until_done(page, lab: Lab, rel: str, timeout: float) -> list[dict]:
    """Wait until no cell shows [*] and the kernel is idle (twice in a row); the cells then."""
    if not wait_for(lambda: busy(page.evaluate(CELLS_JS)), 10, every=0.1):
        raise Failed("Run All Cells started nothing: no cell showed [*]")
    calm = 0
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        cells = page.evaluate(CELLS_JS)
        calm = calm + 1 if not busy(cells) and lab.kernel_state(rel) == "idle" else 0
        if calm >= 2:
            return cells
        time.sleep(1)
    still = busy(page.evaluate(CELLS_JS))
    raise Failed(f"cells {still} still busy ([*]) after {timeout:.0f} s")


def check_cells(page, cells: list[dict], expected: int, report: Report, local: str) -> None:
    if len(cells) != expected:
        report.problems.append(f"the page shows {len(cells)} cells, the notebook has {expected}")
        return
    never_ran = [
        i
        for i, c in enumerate(cells)
        if c["code"]
        and not re.search(r"\[\d+\]", c["prompt"])
        and not (c["folded"] and not c["prompt"])
    ]
    if never_ran:
        report.problems.append(f"cells {never_ran} {STOPPED}")
    for i, cell in enumerate(cells):
        where = f"cell {i}"
        errors = cell["errors"] + [s for s in cell["stderr"] if "Traceback" in s]
        if errors:
            report.problems.append(f"{where} shows an error:\n{errors[0]}")
        warnings = [s for s in cell["stderr"] if "Traceback" not in s and "Warning" in s]
        report.notes += [f"{where} warns: {w.splitlines()[0][:200]}" for w in warnings]
        report.problems += [f"{where}: {e}" for e in cell["widgetErrors"]]
        for text in cell["texts"]:
            if FIGURE_TEXT.search(text):
                report.problems.append(f"{where} shows a figure as text, not as an image: {text}")
        for image in cell["images"]:
            if image["src"].startswith("http") and not image["src"].startswith(local):
                report.notes.append(f"{where}: not checked offline: {image['src']}")
            elif image["complete"] and image["w"] == 0:
                kind = "an empty figure" if image["output"] else "a broken image in the text"
                report.problems.append(f"{where} shows {kind} ({image['src']}…)")
        for width in cell["bars"]:
            if width in ("0%", "0", "0px"):
                report.problems.append(f"{where} has a progress bar that never moved")
    # Blank figures: every output image must have some ink.
    for i, img in enumerate(page.locator(".jp-OutputArea-output img").all()):
        with suppress(Exception):
            if img.evaluate("i => i.naturalWidth") > 0 and img.evaluate(INK_JS) < 0.001:
                report.problems.append(f"output image {i} is blank (one colour)")


BUTTON = re.compile(r"^\s*(Train|Check)", re.I)
READOUT_JS = "s => (s.querySelector('.widget-readout') || s).innerText"


def check_widgets(page, lab: Lab, rel: str, report: Report, timeout: float) -> None:
    """Move every slider and press every Train/Check button; what is shown must change.

    A slider in an output with a Train/Check button only sets what the button uses: it must
    take the new value, and the button press must then change what is shown."""
    name = Path(rel).stem
    shots = 0
    areas = page.locator(".jp-OutputArea-output").filter(
        has=page.locator(".widget-slider:not(.widget-vslider), button.jupyter-button")
    )
    for area in areas.all():
        sliders = area.locator(".widget-slider:not(.widget-vslider)").all()
        buttons = area.locator("button.jupyter-button").filter(has_text=BUTTON).all()
        for slider in sliders:
            label = f"slider {slider.locator('.widget-label').first.inner_text().strip()!r}"
            slider.scroll_into_view_if_needed()
            before, value = area.evaluate(SHOWN_JS), slider.evaluate(READOUT_JS)
            slider.locator(".noUi-handle, .slider-handle, [role=slider]").first.focus()
            for _ in range(3):
                page.keyboard.press("ArrowRight")
            if not wait_for(lambda s=slider, v=value: s.evaluate(READOUT_JS) != v, 10):
                report.problems.append(f"{label}: the arrow keys did not move it")
            elif buttons:
                report.notes.append(f"{label}: moved (what it sets shows after the button)")
            elif wait_for(lambda a=area, b=before: a.evaluate(SHOWN_JS) != b, timeout):
                report.notes.append(f"{label}: what it shows changed")
                shots += 1
                wait_for(lambda: lab.kernel_state(rel) == "idle", timeout)
                area.screenshot(path=SHOTS / f"{name}-widget-{shots}.png")
            else:
                report.problems.append(f"{label}: moved it, but what it shows did not change")
        for button in buttons:
            label = f"button {button.inner_text().strip()!r}"
            before = area.evaluate(SHOWN_JS)
            button.click()
            changed = wait_for(lambda a=area, b=before: a.evaluate(SHOWN_JS) != b, timeout)
            wait_for(lambda: lab.kernel_state(rel) == "idle", timeout)
            if not changed:
                report.problems.append(f"{label}: pressed it, but what is shown did not change")
                continue
            report.notes.append(f"{label}: what is shown changed")
            shots += 1
            page.wait_for_timeout(300)
            area.screenshot(path=SHOTS / f"{name}-widget-{shots}.png")
    if not areas.count():
        report.notes.append("no sliders or Train/Check buttons")


def full_page_screenshot(page, path: Path, max_height: int = 30000) -> None:
    """The whole notebook in one picture: the window made as tall as the notebook."""
    height = page.evaluate(
        "() => Math.max(...[...document.querySelectorAll("
        "'.jp-NotebookPanel .jp-WindowedPanel-outer, .jp-NotebookPanel .jp-Notebook')]"
        ".map(e => e.scrollHeight))"
    )
    width = page.viewport_size["width"]
    page.set_viewport_size({"width": width, "height": min(max_height, int(height) + 200)})
    page.evaluate(
        "() => document.querySelectorAll('.jp-NotebookPanel .jp-WindowedPanel-outer')"
        ".forEach(e => { e.scrollTop = 0; })"
    )
    page.wait_for_timeout(800)
    page.screenshot(path=path, full_page=True)
    page.set_viewport_size({"width": width, "height": 900})


def test_notebook(context, lab: Lab, rel: str, copy: Path, timeout: float) -> Report:
    report = Report(Path(rel).stem)
    start = time.monotonic()
    page = context.new_page()
    page_errors: list[str] = []
    page.on("pageerror", lambda e: page_errors.append(str(e)[:300]))
    try:
        open_notebook(page, lab, rel, timeout)
        run_all(page)
        cells = wait_until_done(page, lab, rel, timeout)
        report.seconds = time.monotonic() - start
        check_cells(page, cells, cell_count(copy), report, local=lab.url)
        check_widgets(page, lab, rel, report, timeout=60)
    except Failed as failure:
        report.problems.append(str(failure))
    except Exception as error:  # a timeout of Playwright, say: this notebook fails, the rest run
        report.problems.append(f"{type(error).__name__}: {str(error).splitlines()[0]}")
    finally:
        report.seconds = report.seconds or time.monotonic() - start
        report.notes += [f"page error: {e}" for e in page_errors]
        with suppress(Exception):
            full_page_screenshot(page, SHOTS / f"{report.name}.png")
        page.close()
        lab.shutdown_kernels()
    return report


def committed_figures(notebook: Path) -> int:
    cells = json.loads(notebook.read_text())["cells"]
    outputs = [o for c in cells for o in c.get("outputs", [])]
    return sum(1 for o in outputs if "image/png" in o.get("data", {}))


@contextmanager
def checking(report: Report, page):
    """Run a check of `page`: an error becomes a problem of `report` (the other checks still
    run); on every way out the seconds are recorded and the page is closed."""
    start = time.monotonic()
    try:
        yield
    except Exception as error:
        report.problems.append(f"{type(error).__name__}: {str(error).splitlines()[0]}")
    finally:
        report.seconds = time.monotonic() - start
        page.close()


def check_deck(context, deck: Path, figures: bool = True) -> Report:
    """Open a slide deck from disk with the network cut: slides there, figures shown (when the
    notebook has figures among its committed outputs)."""
    report = Report(f"slides {deck.name}")
    page = context.new_page()
    outside: list[str] = []

    def route(r):
        if r.request.url.startswith(("file:", "data:", "blob:")):
            return r.continue_()
        outside.append(f"{r.request.resource_type} {r.request.url[:100]}")
        return r.abort()

    page.route("**/*", route)
    with checking(report, page):
        page.goto(deck.as_uri(), wait_until="load")
        ready = "() => !!document.querySelector('.reveal.ready')"
        if not wait_for(lambda: page.evaluate(ready), 30):
            report.problems.append("reveal.js did not start (no .reveal.ready)")
        sections = page.locator(".reveal .slides section").count()
        if sections < 3:
            report.problems.append(f"only {sections} slides: is the slide metadata there?")
        with_figure = page.evaluate(
            """() => [...document.querySelectorAll('.reveal .slides > section')].flatMap((top, h) =>
                 [...(top.querySelector('section') ? top.querySelectorAll('section') : [top])]
                 .map((s, v) => ({h, v, s})))
               .filter(({s}) => [...s.querySelectorAll('.jp-OutputArea-output img')]
                 .some(i => i.naturalWidth > 0))
               .map(({h, v}) => ({h, v}))"""
        )
        if not with_figure and figures:
            report.problems.append("no slide shows a figure (an image with natural width > 0)")
        # Maths in $...$ must be typeset by the MathJax shipped with the deck (the network is cut).
        typeset = "() => !!document.querySelector('.MathJax, .MathJax_CHTML, mjx-container')"
        raw_math = "() => /\\$[^$]+\\$/.test(document.body.innerText)"
        if page.evaluate(raw_math) and not wait_for(lambda: page.evaluate(typeset), 20):
            report.problems.append("the math was not typeset by MathJax (offline)")
        scripts = [u for u in outside if not u.startswith("image ")]
        if scripts:
            report.problems.append("the deck asks the network for " + ", ".join(scripts))
        report.notes += [f"offline, not shown: {u}" for u in outside if u.startswith("image ")]
        report.notes.append(f"{sections} slides, {len(with_figure)} with a figure")
        too_tall = page.evaluate(SLIDE_HEIGHTS_JS)
        for slide in too_tall:
            report.problems.append(
                f"slide {slide['h']}.{slide['v']} is {slide['height']} px tall, the screen shows "
                f"{slide['room']} px: {slide['start']!r}"
            )
        if with_figure:
            idx = with_figure[min(1, len(with_figure) - 1)]
            page.evaluate(f"() => {{ location.hash = '#/{idx['h']}/{idx['v']}'; }}")
            page.wait_for_timeout(1500)
        page.screenshot(path=SHOTS / f"slides-{deck.name.split('.')[0]}.png")
    return report


# Lay out every slide in turn (reveal.js hides all but the nearest) and keep those whose content is
# taller than the deck's slide, which reveal.js scales to the screen as a whole; an overflowing
# slide would scroll or be cut. Fragments take their room even before they appear.
SLIDE_HEIGHTS_JS = """() => {
  const room = parseFloat(document.querySelector('.reveal .slides').style.height), tall = [];
  [...document.querySelectorAll('.reveal .slides > section')].forEach((top, h) => {
    const stack = top.querySelector('section') ? [...top.querySelectorAll('section')] : [top];
    stack.forEach((slide, v) => {
      const shown = [top, slide].map(s => [s, s.style.display, s.style.height]);
      for (const s of [top, slide]) { s.style.display = 'block'; s.style.height = 'auto'; }
      const height = Math.round(slide.scrollHeight);
      for (const [s, display, h0] of shown) { s.style.display = display; s.style.height = h0; }
      if (height > room + 2)
        tall.push({h, v, height, room, start: slide.innerText.trim().slice(0, 50)});
    });
  });
  return tall;
}"""


def audit_page(context, page_file: Path, axe_js: str) -> Report:
    """Audit one HTML page with axe-core for WCAG 2.1 A and AA: serious or critical violations
    are problems, the others notes."""
    report = Report(f"accessibility {page_file.name}")
    page = context.new_page()
    page.route(
        "**/*",
        lambda r: r.continue_() if r.request.url.startswith(("file:", "data:")) else r.abort(),
    )
    with checking(report, page):
        page.goto(page_file.as_uri(), wait_until="load")
        page.add_script_tag(content=axe_js)
        violations = page.evaluate(
            """async () => (await axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a',
                 'wcag21aa'], resultTypes: ['violations']})).violations.map(v => ({id: v.id,
                 impact: v.impact, count: v.nodes.length, help: v.help,
                 example: v.nodes[0].html.slice(0, 120)}))"""
        )
        images = page.evaluate(  # nbconvert writes a stand-in where an image has no alt text
            "() => [...document.images].filter(i => !i.alt || "
            "i.alt.startsWith('No description has been provided')).length"
        )
        if images:
            report.problems.append(f"{images} images without alt text")
        for v in violations:
            line = f"{v['impact']}: {v['id']} ({v['count']}×): {v['help']}; e.g. {v['example']}"
            (report.problems if v["impact"] in FAILING_IMPACTS else report.notes).append(line)
        report.notes.append(f"{len(violations)} kinds of violation, {len(report.problems)} failing")
    return report


def audit_control(context, notebook: Path, workdir: Path, axe_js: str) -> Report:
    """The audit must fail the page nbconvert's stock template makes of `notebook` (grey prompts,
    figures without alt text), or it is not auditing at all."""
    report = Report(f"accessibility control {notebook.stem} (stock template)")
    subprocess.run(
        [sys.executable, "-m", "nbconvert", "--to", "html", "--log-level=ERROR",
         f"--output-dir={workdir / 'stock'}", str(notebook)],
        check=True,
    )  # fmt: skip
    audited = audit_page(context, workdir / "stock" / f"{notebook.stem}.html", axe_js)
    report.seconds = audited.seconds
    if not audited.problems:
        report.problems.append("the audit passed a page it must fail: is axe-core running?")
    report.notes.append(f"failed as it must, on {len(audited.problems)} counts")
    return report


def check_rise(context, lab: Lab, rel: str, timeout: float, slides: int = 3) -> Report:
    """Present a notebook with RISE: the JupyterLab preview (Alt+R), then the full-screen
    slideshow, running the code of the first `slides` slides live (Ctrl+Enter in each cell)."""
    report = Report(f"RISE {Path(rel).stem}")
    start = time.monotonic()
    page = context.new_page()
    try:
        page.goto(f"{lab.url}/lab/tree/{rel}?token={lab.token}&reset")
        page.locator(".jp-Notebook .jp-Cell").first.click(timeout=timeout * 1000)
        page.keyboard.press("Escape")
        page.keyboard.press("Alt+r")  # View → Render as slideshow: RISE beside the notebook
        frame = page.wait_for_selector(".jp-MainAreaWidget iframe", timeout=30000).content_frame()
        frame.wait_for_selector(".reveal.ready", timeout=timeout * 1000)
        page.close()
        lab.shutdown_kernels()

        page = context.new_page()
        page.goto(f"{lab.url}/rise/{rel}?token={lab.token}", wait_until="domcontentloaded")
        page.wait_for_selector(".reveal.ready", timeout=timeout * 1000)
        sections = page.locator(".reveal .slides section").count()
        if sections < 3:
            report.problems.append(f"RISE shows only {sections} slides")
        if not wait_for(lambda: lab.kernel_state(rel) == "idle", timeout):
            raise Failed("the kernel of the slideshow did not start")
        ran = 0
        for _ in range(slides):
            where = page.evaluate("() => location.hash")
            page.keyboard.press("ArrowRight")
            page.wait_for_timeout(800)
            if page.evaluate("() => location.hash") == where:
                break  # the last slide
            for cell in page.locator("section.present:not(.stack) .jp-CodeCell").all():
                if not cell.is_visible():
                    continue  # a skipped cell (the Colab install)
                editor = cell.locator(".jp-InputArea-editor")
                editor.scroll_into_view_if_needed(timeout=5000)
                editor.click(force=True, timeout=5000)
                page.keyboard.press("Control+Enter")
                wait_for(lambda c=cell: re.search(r"\[\d+\]", c.inner_text()[:12]), 10, 0.2)
                wait_for(lambda: lab.kernel_state(rel) == "idle", timeout)
                ran += 1
                error = cell.locator('[data-mime-type="application/vnd.jupyter.error"]')
                if error.count():
                    report.problems.append(f"live in RISE: {error.first.inner_text()[-300:]}")
        page.keyboard.press("Escape")
        page.wait_for_timeout(1500)
        report.notes.append(f"RISE shows {sections} slides; ran {ran} cells live on the first "
                            f"{slides}")  # fmt: skip
        if not ran:
            report.problems.append("no code cell ran live in RISE")
        page.screenshot(path=SHOTS / f"rise-{Path(rel).stem}.png")
    except Exception as error:
        report.problems.append(f"{type(error).__name__}: {str(error).splitlines()[0]}")
        with suppress(Exception):
            page.screenshot(path=SHOTS / f"rise-{Path(rel).stem}.png")
    finally:
        report.seconds = time.monotonic() - start
        page.close()
        lab.shutdown_kernels()
    return report


# ---------------------------------------------------------------- main


def rise_installed() -> bool:
    try:
        import jupyterlab_rise  # noqa: F401
    except ImportError:
        return False
    return True


def run(notebooks: list[Path], timeout: float, workdir: Path) -> list[Report]:
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    root = workdir / "root"
    (root / "notebooks").mkdir(parents=True)
    for nb in notebooks:
        shutil.copy2(nb, root / "notebooks" / nb.name)
    if (TOP / "images").is_dir():  # ../images/… in the markdown (a link would not be served)
        shutil.copytree(TOP / "images", root / "images")
    reports = [Report("slide metadata")]
    stale = [nb.name for nb in notebooks if slide_metadata.apply(json.loads(nb.read_text()))]
    if stale:
        reports[0].problems.append(f"out of date in {', '.join(stale)}: run `make slides`")

    lab = Lab(root, workdir)
    chromium = find_chromium()
    try:
        lab.start()
        log(f"JupyterLab on port {lab.port}, Chromium {chromium or '(Playwright download)'}")
        with sync_playwright() as pw:
            try:
                browser = pw.chromium.launch(
                    executable_path=chromium, headless=True, args=CHROMIUM_FLAGS
                )
            except PlaywrightError as error:
                tried = chromium or "Playwright's own download"
                raise Failed(f"{HOW_TO_GET_CHROMIUM} ({tried} did not start)") from error
            try:
                context = browser.new_context(viewport={"width": 1400, "height": 900})
                context.route(  # nothing but this server: the test machine may be offline
                    re.compile(rf"^https?://(?!127\.0\.0\.1:{lab.port}/)"),
                    lambda r: r.abort(),
                )
                for nb in notebooks:
                    rel = f"notebooks/{nb.name}"
                    log(f"== {rel}")
                    reports.append(test_notebook(context, lab, rel, root / rel, timeout))
                    log(summary(reports[-1]).splitlines()[0])
                if rise_installed() and notebooks:
                    reports.append(check_rise(context, lab, f"notebooks/{notebooks[0].name}", 60))
                    log(summary(reports[-1]).splitlines()[0])
                deck_context = browser.new_context(viewport=SCREEN)
                for i, nb in enumerate(notebooks):
                    deck = DECKS / f"{nb.stem}.slides.html"
                    if deck.is_file():  # the first deck must show figures, any other its own
                        figures = i == 0 or committed_figures(nb) > 0
                        reports.append(check_deck(deck_context, deck, figures))
                        log(summary(reports[-1]).splitlines()[0])
                    else:
                        reports.append(Report(f"slides {deck.name}", problems=["not built"]))
                build_slides.fetch_vendor(TOP / "build" / "axe", AXE)
                axe_js = (TOP / "build" / "axe" / "axe-core" / "axe.min.js").read_text()
                for nb in notebooks:
                    page_file = PAGES / f"{nb.stem}.html"
                    if page_file.is_file():
                        reports.append(audit_page(deck_context, page_file, axe_js))
                    else:
                        reports.append(
                            Report(f"accessibility {page_file.name}", problems=["not built"])
                        )
                    log(summary(reports[-1]).splitlines()[0])
                if notebooks:  # the control: a page of nbconvert's stock template must fail
                    reports.append(audit_control(deck_context, notebooks[0], workdir, axe_js))
                    log(summary(reports[-1]).splitlines()[0])
            finally:
                browser.close()
    finally:
        lab.stop()
    return reports


def summary(report: Report) -> str:
    verdict = "FAIL" if report.problems else "ok"
    lines = [f"{verdict:4} {report.name}  ({report.seconds:.0f} s)"]
    lines += [f"     ! {p}".replace("\n", "\n       ") for p in report.problems]
    lines += [f"     - {n}" for n in report.notes]
    return "\n".join(lines)


def interrupted(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument(
        "--timeout",
        type=float,
        default=float(os.environ.get("E2E_TIMEOUT", 240)),
        help="seconds a notebook may take to run all its cells (default 240, or $E2E_TIMEOUT)",
    )
    args = parser.parse_args(argv)
    notebooks = sorted(args.notebooks or (TOP / "notebooks").glob("[0-9]*.ipynb"))
    notebooks = [nb.resolve() for nb in notebooks]
    try:
        import playwright  # noqa: F401
    except ImportError:
        print("the browser test needs Playwright: `make e2e` installs it (the e2e extra)")
        return 2
    if find_chromium() is None:
        log("no system Chromium found; trying Playwright's own download")
    SHOTS.mkdir(parents=True, exist_ok=True)
    for old in SHOTS.glob("*.png"):
        old.unlink()
    # SIGTERM (a CI timeout, say) unwinds like Ctrl-C, so every `finally` stops what it started.
    signal.signal(signal.SIGTERM, interrupted)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="mnist-e2e-") as tmp:
        try:
            reports = run(notebooks, args.timeout, Path(tmp))
        except Failed as failure:
            print(f"e2e: {failure}")
            return 1
        finally:
            kill_all(children_of(os.getpid()), grace=5)
    left = children_of(os.getpid())
    print("\n".join(summary(r) for r in reports))
    failed = [r.name for r in reports if r.problems]
    print(
        f"\n{len(reports) - len(failed)} passed, {len(failed)} failed in "
        f"{time.monotonic() - started:.0f} s; screenshots in {SHOTS.relative_to(TOP)}/"
    )
    if left:
        print(f"processes left behind: {sorted(left)}")
        return 1
    if failed:
        print("failed: " + ", ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
