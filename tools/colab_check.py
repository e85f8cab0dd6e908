"""Run the series in Google Colab's runtime: its packages at the versions Colab publishes
(colab-constraints.txt), mnistlib installed the way the notebooks' first cell installs it, then the
widgets driven from Python and every notebook executed in quick mode.

Usage:
    python tools/colab_check.py                  # what `make colab-check` runs
    python tools/colab_check.py constraints FREEZE OS_INFO --date YYYY-MM-DD [--source TEXT]
    python tools/colab_check.py widgets          # run by the Colab environment's own Python

The check fails when installing mnistlib would replace, upgrade or downgrade a package Colab ships;
packages Colab lacks (jedi, which its IPython needs) may be added, and are listed.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONSTRAINTS = ROOT / "colab-constraints.txt"
VENV = ROOT / ".venv-colab"
STAMP = "colab-state.json"
RECIPE = 5  # bump when build() changes what it installs, so that existing environments are rebuilt
# What a notebook runs on besides mnistlib's own dependencies, all part of Colab's image: the
# kernel, the tools that execute a notebook (Colab ships nbconvert and nbclient), pip itself.
RUNTIME = [
    "pip",
    "setuptools",
    "wheel",
    "ipython",
    "ipykernel",
    "jupyter_client",
    "notebook",
    "nbconvert",
    "nbclient",
    "nbformat",
    "pandas",
    "pillow",
    "scipy",
]
# Colab installs these CPU builds from PyTorch's own index, which is out of reach here; PyPI's build
# of the same version stands in, and the CUDA libraries it needs come with it.
STAND_INS = ["torch", "torchvision"]
SHOWN = [
    "torch",
    "torchvision",
    "numpy",
    "matplotlib",
    "seaborn",
    "ipywidgets",
    "ipython",
    "ipykernel",
    "notebook",
    "nbconvert",
    "nbclient",
    "tqdm",
    "pandas",
    "pillow",
    "scipy",
]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;#]+)$")
WHEEL_OR_SDIST = re.compile(r"/([\w.]+?)-(\d[^-/]*?)(?:-[^/]*\.whl|\.tar\.gz|\.zip)(?:#.*)?$")
LIST_INSTALLED = (
    "import importlib.metadata as m, json; "
    "print(json.dumps({d.metadata['Name']: d.version for d in m.distributions()}))"
)


def canonical(name: str) -> str:
    """The name as pip compares names (PEP 503): lower case, runs of '-', '_' and '.' as '-'."""
    return re.sub(r"[-_.]+", "-", name).lower()


def parse_pins(text: str) -> dict[str, str]:
    """Every `name==version` line of a constraints file, by canonical name; ValueError on others."""
    pins = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        match = PIN.match(line)
        if not match:
            raise ValueError(f"line {number} is not an exact pin (name==version): {raw!r}")
        pins[canonical(match.group(1))] = match.group(2)
    return pins


def header_field(text: str, key: str) -> str | None:
    """The value of a `# key: value` line in a constraints file's header, or None."""
    match = re.search(rf"^# {re.escape(key)}: (.+)$", text, re.MULTILINE)
    return match.group(1).strip() if match else None


def constraints_from_freeze(freeze: str, os_info: str, date: str, source: str) -> str:
    """The text of colab-constraints.txt made from Colab's pip-freeze.txt and os-info.txt."""
    python = re.search(r"^Python (\d+\.\d+(?:\.\d+)?)", os_info, re.MULTILINE)
    pins, from_urls, left_out, nvidia = {}, [], [], []
    for raw in freeze.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name = re.split(r"[\s=@;<>!~]", line, maxsplit=1)[0]
        if canonical(name).startswith("nvidia-"):
            nvidia.append(line)
            continue
        pin, url = PIN.match(line), WHEEL_OR_SDIST.search(line) if " @ " in line else None
        if pin:
            pins[canonical(name)] = f"{name}=={pin.group(2)}"
        elif url:
            version = url.group(2).replace("%2B", "+").split("+")[0]
            pins[canonical(name)] = f"{name}=={version}"
            from_urls.append(f"{name}=={version}")
        else:
            left_out.append(name)
    paragraphs = [
        f"Google Colab's runtime of {date}: the Python packages it ships, pinned. Source: the "
        "pip-freeze.txt (and os-info.txt) of the googlecolab/backend-info repository, "
        f"https://github.com/googlecolab/backend-info ({source}). `make colab-check` "
        "(tools/colab_check.py) installs the ones the notebooks run on into .venv-colab/, installs "
        "mnistlib there the way the notebooks' first cell does, and fails if that would replace "
        "any of them.",
        f"Changed from the list: the nvidia-* lines are left out ({', '.join(nvidia)}), since "
        "PyPI's torch, which stands in for Colab's CPU build, pins its own; packages Colab "
        f"installs from a file or URL are pinned to the version in its name ({', '.join(from_urls)}"
        f"); lines with no version are left out ({', '.join(left_out) or 'none'}).",
        "When Colab moves: download pip-freeze.txt and os-info.txt from the repository above, "
        "then run the lines below, then `make colab-check`, and update the README's Colab section.",
    ]
    wrap = textwrap.TextWrapper(
        width=99,
        initial_indent="# ",
        subsequent_indent="# ",
        break_long_words=False,
        break_on_hyphens=False,
    )
    lines = "\n#\n".join(wrap.fill(p) for p in paragraphs).splitlines()
    lines += [
        "#   python tools/colab_check.py constraints pip-freeze.txt os-info.txt \\",
        "#       --date YYYY-MM-DD --source 'commit abc1234, its title'",
        f"# date: {date}",
        f"# python: {python.group(1) if python else 'unknown'}",
    ]
    return "\n".join([*lines, *(pins[key] for key in sorted(pins))]) + "\n"


@dataclass
class Comparison:
    """What an install changed: Colab's packages replaced or removed, and packages added."""

    changed: list[tuple[str, str, str | None]] = field(default_factory=list)
    added: list[tuple[str, str]] = field(default_factory=list)
    unlike_colab: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no package Colab ships was replaced, removed or added at another version."""
        return not self.changed and not self.unlike_colab

    def lines(self) -> list[str]:
        """A line for each change, failures first."""
        out = [
            f"REPLACED {name} {old} -> {new}" if new else f"REMOVED {name} {old}"
            for name, old, new in self.changed
        ]
        out += [
            f"ADDED AT ANOTHER VERSION {name} {new} (Colab ships {colab})"
            for name, new, colab in self.unlike_colab
        ]
        out += [f"added {name} {version} (Colab lacks it)" for name, version in self.added]
        return out


def compare(
    before: dict[str, str], after: dict[str, str], colab: dict[str, str] | None = None
) -> Comparison:
    """Compare installed versions before and after an install; `colab` is Colab's whole list."""
    before = {canonical(k): v for k, v in before.items()}
    after = {canonical(k): v for k, v in after.items()}
    colab = {canonical(k): v for k, v in (colab or {}).items()}
    result = Comparison()
    for name in sorted(before):
        if after.get(name) != before[name]:
            result.changed.append((name, before[name], after.get(name)))
    for name in sorted(set(after) - set(before)):
        version = after[name]
        if name in colab and colab[name].split("+")[0] != version.split("+")[0]:
            result.unlike_colab.append((name, version, colab[name]))
        elif name not in colab:
            result.added.append((name, version))
    return result


def say(message: str) -> None:
    """Print one line of the check's report, flushed so it interleaves with pip's output."""
    print(f"colab-check: {message}", flush=True)


def probe_python(command: list[str]) -> tuple[str, str] | None:
    """(executable, version) of a Python command, or None when it does not run."""
    code = "import platform, sys; print(sys.executable); print(platform.python_version())"
    try:
        done = subprocess.run(
            [*command, "-c", code], capture_output=True, text=True, timeout=60, check=False
        )
    except OSError:
        return None
    lines = done.stdout.split()
    return (lines[0], lines[1]) if done.returncode == 0 and len(lines) == 2 else None


def find_python() -> tuple[str, str, str]:
    """(executable, version, how it was found): $COLAB_PYTHON, python3.13, pyenv's, or python3."""
    if os.environ.get("COLAB_PYTHON"):
        found = probe_python([os.environ["COLAB_PYTHON"]])
        if not found:
            raise SystemExit(f"COLAB_PYTHON={os.environ['COLAB_PYTHON']} does not run")
        return *found, "COLAB_PYTHON"
    if shutil.which("python3.13"):
        found = probe_python(["python3.13"])
        if found:
            return *found, "python3.13 on the PATH"
        if shutil.which("pyenv"):
            # python3.13 is pyenv's shim, but no active pyenv version has it: ask pyenv.
            versions = subprocess.run(
                ["pyenv", "whence", "python3.13"], capture_output=True, text=True, check=False
            ).stdout.split()
            for version in reversed(versions):
                prefix = subprocess.run(
                    ["pyenv", "prefix", version], capture_output=True, text=True, check=False
                ).stdout.strip()
                found = prefix and probe_python([f"{prefix}/bin/python3.13"])
                if found:
                    return *found, f"pyenv's {version} (the python3.13 shim is not active here)"
    found = probe_python(["python3"])
    if not found:
        raise SystemExit("no python3.13 and no python3 to build the Colab environment with")
    return *found, "the default python3 (no python3.13 on the PATH)"


def run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    """Run a command, echoing it; SystemExit with its output's end when it fails."""
    print("+ " + " ".join(str(c) for c in command), flush=True)
    done = subprocess.run(command, text=True, **kwargs)
    if done.returncode != 0:
        tail = "\n".join((done.stdout or "").splitlines()[-40:])
        raise SystemExit(f"{tail}\ncolab-check: FAILED: exit {done.returncode} from {command[:4]}")
    return done


def installed(venv: Path) -> dict[str, str]:
    """Every distribution installed in the venv, by canonical name."""
    # -I: not the current folder, where a checkout's mnistlib.egg-info would count as installed.
    done = run([str(venv / "bin" / "python"), "-I", "-c", LIST_INSTALLED], capture_output=True)
    return {canonical(k): v for k, v in json.loads(done.stdout).items()}


def top_level(colab: dict[str, str]) -> list[str]:
    """The packages to take from Colab's list: mnistlib's dependencies and the notebook runtime."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = [re.split(r"[\s\[<>=!~;]", d, maxsplit=1)[0] for d in project["dependencies"]]
    return sorted({canonical(n) for n in [*names, *RUNTIME]} & set(colab))


def plan(report: dict, colab: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """From pip's resolution report: (packages to install, packages Colab lacks to leave out)."""
    resolved, needs = {}, {}
    for item in report["install"]:
        meta = item["metadata"]
        name = canonical(meta["name"])
        resolved[name] = meta["version"]
        # Every requirement, extras' too: resolved is what pip chose, so an extra's requirement
        # that is in it was asked for (torch wants cuda-toolkit[cublas,...], say).
        needs[name] = {
            canonical(re.split(r"[\s\[<>=!~;(]", r, maxsplit=1)[0])
            for r in meta.get("requires_dist") or []
        }
    # What PyPI's build of torch needs beyond Colab's list (its CUDA libraries) comes with it:
    # followed from torch through packages Colab lacks only.
    with_stand_ins, todo = set(), [canonical(n) for n in STAND_INS]
    while todo:
        name = todo.pop()
        if name in resolved and name not in with_stand_ins:
            with_stand_ins.add(name)
            todo.extend(n for n in needs[name] if n not in colab)
    keep = {n: v for n, v in resolved.items() if n in colab or n in with_stand_ins}
    lacking = {n: v for n, v in resolved.items() if n not in keep}
    return keep, lacking


def state_key(python: str, version: str, packages: list[str]) -> str:
    """What the environment is built from: the constraints, the packages and the Python."""
    text = "\n".join([CONSTRAINTS.read_text(), *packages, python, version, str(STAND_INS)])
    text += f"\nrecipe {RECIPE}"
    return hashlib.sha256(text.encode()).hexdigest()


def wheel_folder() -> Path:
    """Where the wheels are kept between builds: $COLAB_WHEELS, else in the per-user cache."""
    if os.environ.get("COLAB_WHEELS"):
        return Path(os.environ["COLAB_WHEELS"]).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "mnistlib-colab-wheels"


def distribution_of(filename: str) -> tuple[str, str]:
    """(canonical name, version) from a wheel's or an sdist's file name."""
    stem = re.sub(r"(\.tar\.gz|\.zip|\.whl)$", "", filename)
    if filename.endswith(".whl"):
        name, version = stem.split("-")[:2]
    else:
        name, _, version = stem.rpartition("-")
    return canonical(name), version


def fetch_wheels(pip: list[str], requirements: Path, keep: dict[str, str]) -> Path:
    """Download the pinned wheels once into the wheel folder, and delete its other versions."""
    folder = wheel_folder()
    folder.mkdir(parents=True, exist_ok=True)
    say(f"wheels kept in {folder} (about 3 GB; set COLAB_WHEELS to put them elsewhere)")
    command = [*pip, "download", "--quiet", "--no-deps", "-d", str(folder), "-r", str(requirements)]
    for attempt in (1, 2, 3):
        # A download that breaks off midway (a connection reset) starts again; done files stay.
        done = subprocess.run(command, text=True, check=False)
        if done.returncode == 0:
            break
        say(f"download attempt {attempt} failed (exit {done.returncode})")
    else:
        raise SystemExit("colab-check: FAILED: could not download the packages")
    wanted = {(n, v.split("+")[0]) for n, v in keep.items()}
    for path in folder.iterdir():
        name, version = distribution_of(path.name)
        if (name, version.split("+")[0]) not in wanted:
            path.unlink()
    return folder


def build(venv: Path, python: str, colab: dict[str, str], packages: list[str]) -> dict:
    """Make the venv anew with Colab's packages; returns what it holds (saved in the venv)."""
    shutil.rmtree(venv, ignore_errors=True)
    run([python, "-m", "venv", str(venv)])
    pip = [str(venv / "bin" / "python"), "-m", "pip"]
    if "pip" in colab:
        run([*pip, "install", "--quiet", f"pip=={colab['pip']}"])
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "report.json"
        run(
            [*pip, "install", "--quiet", "--dry-run", "--ignore-installed", "--report", str(report)]
            + ["-c", str(CONSTRAINTS), *packages]
        )
        keep, lacking = plan(json.loads(report.read_text()), colab)
        requirements = Path(scratch) / "requirements.txt"
        requirements.write_text("".join(f"{n}=={v}\n" for n, v in sorted(keep.items())))
        wheels = fetch_wheels(pip, requirements, keep)
        run(
            [*pip, "install", "--quiet", "--no-deps", "--no-index", "--find-links", str(wheels)]
            + ["-r", str(requirements)]
        )
    extra = sorted(n for n in keep if n not in colab)
    say(f"installed {len(keep) - len(extra)} packages at Colab's versions, with --no-deps")
    say(f"with PyPI's torch instead of Colab's CPU build, also: {', '.join(extra) or 'nothing'}")
    say(
        "left out, as Colab lacks them: "
        + (", ".join(f"{n} {v}" for n, v in sorted(lacking.items())) or "nothing")
    )
    # Colab's own image is not consistent either (its IPython needs jedi): shown, not fatal.
    check = subprocess.run([*pip, "check"], capture_output=True, text=True, check=False)
    for line in check.stdout.splitlines():
        say(f"pip check (as in Colab): {line}")
    return {"packages": installed(venv), "lacking": lacking}


def reuse(venv: Path, key: str) -> dict | None:
    """The saved state, with what earlier checks added uninstalled; None if it must be rebuilt."""
    try:
        saved = json.loads((venv / STAMP).read_text())
    except (OSError, ValueError):
        return None
    if saved.get("key") != key:
        say("colab-constraints.txt, the package list or the Python changed: building anew")
        return None
    extra = sorted(set(installed(venv)) - set(saved["packages"]))
    if extra:
        pip = [str(venv / "bin" / "python"), "-m", "pip"]
        run([*pip, "uninstall", "--quiet", "--yes", *extra])
    if installed(venv) != saved["packages"]:
        say("the environment no longer holds what it was built with: building anew")
        return None
    return saved


def source_copy(destination: Path) -> Path:
    """A copy of the checkout's files (tracked, or new and not ignored), as a clone would hold."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\0")
    for name in filter(None, listed):
        path = ROOT / name
        if path.is_file():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, destination / name)
    return destination


def install_mnistlib(venv: Path, before: dict[str, str], colab: dict[str, str]) -> Comparison:
    """Install mnistlib as the notebooks' first cell does (no constraints, not editable)."""
    with tempfile.TemporaryDirectory() as scratch:
        # pip builds a local folder in place; a copy keeps build/ and *.egg-info out of the checkout
        # and, like a fresh clone, holds no stale build output.
        copy = source_copy(Path(scratch) / "mnist-notebooks")
        run([str(venv / "bin" / "python"), "-m", "pip", "install", str(copy)])
    return compare(before, installed(venv), colab)


def widgets(venv: Path, env: dict[str, str]) -> float:
    """Run this file's `widgets` command with the Colab environment's Python; seconds taken."""
    start = time.perf_counter()
    run([str(venv / "bin" / "python"), str(Path(__file__).resolve()), "widgets"], env=env, cwd="/")
    return time.perf_counter() - start


def find(modules: list, name: str):
    """The attribute `name` of the first module that has it; SystemExit when none has."""
    for module in modules:
        if hasattr(module, name):
            return getattr(module, name)
    raise SystemExit(f"no mnistlib module has {name}")


def check_widgets() -> None:
    """Build mnistlib's widget panels with the installed ipywidgets and drive their callbacks."""
    import importlib
    import pkgutil

    import matplotlib

    matplotlib.use("Agg")
    import ipywidgets
    import matplotlib.pyplot as plt
    from ipywidgets.embed import embed_data

    import mnistlib

    where = Path(mnistlib.__file__).resolve()
    if Path(sys.prefix).resolve() not in where.parents:
        raise SystemExit(f"mnistlib comes from {where}, not from the installed package")
    print(f"  ipywidgets {ipywidgets.__version__}, mnistlib from {where.parent}")
    names = [m.name for m in pkgutil.walk_packages(mnistlib.__path__, "mnistlib.")]
    modules = [importlib.import_module(name) for name in names]
    print(f"  imported all {len(modules)} mnistlib modules")
    from mnistlib import data

    train, val, _ = data.load_mnist(quick=True)
    images, labels = data.to_tensors(train)
    browser = find(modules, "digit_browser")(images[:5], labels[:5])
    slider = browser.children[0]
    assert (slider.min, slider.max, slider.value) == (0, 4, 0), slider
    slider.value = 3
    title = plt.gcf().axes[0].get_title()
    assert title == f"image 3: label {int(labels[3])}", title
    plt.close("all")
    print("  digit_browser: slider 0..4, moved to 3, redrew image 3")

    playground = find(modules, "Playground")
    panel = playground(train, val, train_size=200, val_size=100)
    panel.controls["model"].value = "softmax"
    panel.controls["epochs"].value = 1
    panel.controls["lr"].value = 0.1
    blank = panel.image.value
    panel.buttons[0].click()  # Train
    panel.thread.join(timeout=300)
    status = str(panel.status.value)
    assert not panel.thread.is_alive() and "error" not in status, status
    assert len(panel.trainer.runs) == 1 and panel.image.value != blank, status
    panel.controls["epochs"].value = 20
    panel.buttons[0].click()  # Train again, then Stop
    panel.buttons[1].click()
    panel.thread.join(timeout=300)
    assert not panel.thread.is_alive() and "error" not in str(panel.status.value)
    state = embed_data(views=[panel.widget, browser])["manager_state"]["state"]
    panel.buttons[2].click()  # Clear
    assert len(panel.trainer.runs) == 0, panel.trainer.runs
    show = getattr(sys.modules[playground.__module__], "show", None)
    if show is not None:
        show(train, val, train_size=200, val_size=100)
    print(f"  playground: Train, Stop and Clear driven; {len(state)} widget states serialized")


def notebook_env(venv: Path) -> dict[str, str]:
    """The notebooks' environment: the Colab venv first, quick mode, one thread, our data/."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env.update(
        PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}",
        VIRTUAL_ENV=str(venv),
        JUPYTER_PATH=str(venv / "share" / "jupyter"),
        MNISTLIB_QUICK="1",
        OMP_NUM_THREADS="1",
        MNISTLIB_DATA_ROOT=str(ROOT / "data"),
    )
    env.pop("MPLBACKEND", None)  # the kernel's own default (inline), as in Colab
    return env


def first_error(notebook: dict) -> str | None:
    """Where an executed notebook first failed (cell number, error, the cell's first lines)."""
    for number, cell in enumerate(notebook["cells"], start=1):
        for output in cell.get("outputs", []):
            stderr = output.get("name") == "stderr" and "Traceback" in "".join(output["text"])
            if output["output_type"] == "error" or stderr:
                source = "".join(cell["source"]).splitlines()
                what = (
                    f"{output['ename']}: {output['evalue']}"
                    if output["output_type"] == "error"
                    else "a traceback on stderr:\n" + "".join(output["text"]).strip()[-1500:]
                )
                lines = "\n".join("    " + line for line in source[:8])
                more = "\n    ..." if len(source) > 8 else ""
                return f"cell {number} raised {what}\n  its source:\n{lines}{more}"
    return None


def execute(venv: Path, notebook: Path, env: dict[str, str]) -> tuple[bool, float, str]:
    """Execute one notebook in place with nbconvert; (passed, seconds, what failed)."""
    start = time.perf_counter()
    done = subprocess.run(
        [str(venv / "bin" / "jupyter"), "nbconvert", "--to", "notebook", "--execute", "--inplace"]
        # Errors are kept in the executed copy, so the first one can be named by its cell.
        + ["--allow-errors", "--ExecutePreprocessor.timeout=300"]
        # Unix sockets in the notebook's own folder: kernels started at once cannot pick the
        # same TCP port or socket (one client would talk to another's kernel).
        + ["--ExecutePreprocessor.kernel_name=python3", "--KernelManager.transport=ipc"]
        + [str(notebook)],
        cwd=notebook.parent,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - start
    if done.returncode != 0:  # a cell that timed out, or a kernel that died
        output = re.sub(r"\x1b\[[0-9;]*m", "", done.stdout + done.stderr)
        return False, seconds, "\n".join(output.splitlines()[-30:])
    error = first_error(json.loads(notebook.read_text()))
    return error is None, seconds, error or ""


def probe_kernel(venv: Path, folder: Path, env: dict[str, str]) -> None:
    """Execute a one-cell notebook to show that the kernel is the Colab venv's Python."""
    (folder / "kernel_probe").mkdir()
    probe = folder / "kernel_probe" / "kernel_probe.ipynb"
    code = (
        "import sys, mnistlib, torch, ipywidgets\\n"
        "print(sys.executable, sys.version.split()[0], mnistlib.__file__, torch.__version__,"
        " ipywidgets.__version__)"
    )
    probe.write_text(
        '{"cells": [{"cell_type": "code", "execution_count": null, "metadata": {}, "outputs": [],'
        f' "source": "{code}"}}], "metadata": {{}}, "nbformat": 4, "nbformat_minor": 5}}'
    )
    passed, _, tail = execute(venv, probe, env)
    if not passed:
        raise SystemExit(f"{tail}\ncolab-check: FAILED: the kernel does not start")
    output = json.loads(probe.read_text())["cells"][0]["outputs"][0]["text"]
    executable, version, where, torch, ipywidgets = "".join(output).split()
    if not executable.startswith(str(venv)) or not where.startswith(str(venv)):
        raise SystemExit(f"colab-check: FAILED: the kernel runs {executable} with {where}")
    say(f"kernel: {executable} (Python {version}), torch {torch}, ipywidgets {ipywidgets}")


def notebooks(venv: Path, env: dict[str, str], jobs: int) -> bool:
    """Execute a copy of every notebook in a temporary folder; True when all of them passed."""
    sources = sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))
    folder = Path(tempfile.mkdtemp(prefix="colab-notebooks-"))
    probe_kernel(venv, folder, env)
    copies = []
    for notebook in sources:  # each in a folder of its own, as its working directory
        (folder / notebook.stem).mkdir()
        copies.append(Path(shutil.copy2(notebook, folder / notebook.stem / notebook.name)))
    failures = []
    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        running = {pool.submit(execute, venv, nb, env): nb for nb in copies}
        for future in concurrent.futures.as_completed(running):
            passed, seconds, what = future.result()
            name = running[future].name
            say(f"{'passed' if passed else 'FAILED'} {name} in {seconds:.0f} s")
            if not passed:
                failures.append((name, what))
    for name, what in failures:
        print(f"---- {name}: {what}\n----", flush=True)
    if failures:
        say(f"executed copies kept in {folder}")
    else:
        shutil.rmtree(folder)
    return not failures


def check(venv: Path, jobs: int) -> int:
    """Build or reuse the environment, install mnistlib, drive the widgets, run the notebooks."""
    start = time.perf_counter()
    text = CONSTRAINTS.read_text()
    colab = parse_pins(text)
    colab_python = header_field(text, "python") or "unknown"
    python, version, how = find_python()
    say(f"Python {version} at {python}, {how}")
    if version.rsplit(".", 1)[0] != colab_python.rsplit(".", 1)[0]:
        say(f"WARNING: Colab runs Python {colab_python}; this environment has {version}")
    say(f"Colab's runtime of {header_field(text, 'date')} from {CONSTRAINTS.name}")
    packages = top_level(colab)
    key = state_key(python, version, packages)
    saved = reuse(venv, key)
    if saved is None:
        say(f"building {venv.name}/ from {len(packages)} packages: {' '.join(packages)}")
        saved = {"key": key, **build(venv, python, colab, packages)}
        (venv / STAMP).write_text(json.dumps(saved, indent=1, sort_keys=True))
    else:
        say(f"reusing {venv.name}/: built from the same constraints, packages and Python")
    before = saved["packages"]
    say("environment: " + ", ".join(f"{n} {before[n]}" for n in SHOWN if n in before))
    built = time.perf_counter()

    say("installing mnistlib as the notebooks' first cell does (pip install, not editable)")
    result = install_mnistlib(venv, before, colab)
    for line in result.lines():
        say(line)
    if not result.ok:
        say("FAILED: installing mnistlib would change packages Colab ships (above)")
        return 1
    say(f"nothing Colab ships was replaced; {len(result.added)} packages added")
    installed_at = time.perf_counter()

    env = notebook_env(venv)
    say("driving mnistlib's widgets with Colab's ipywidgets")
    seconds = widgets(venv, env)
    say(f"widgets passed in {seconds:.0f} s")

    passed = notebooks(venv, env, jobs)
    end = time.perf_counter()
    say(
        f"{'passed' if passed else 'FAILED'} in {end - start:.0f} s (environment "
        f"{built - start:.0f} s, install {installed_at - built:.0f} s, widgets and notebooks "
        f"{end - installed_at:.0f} s)"
    )
    return 0 if passed else 1


def main(argv: list[str] | None = None) -> int:
    """The command line: the check (default), `constraints` or `widgets`."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venv", type=Path, default=VENV, help="the Colab environment's folder")
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    commands = parser.add_subparsers(dest="command")
    make = commands.add_parser("constraints", help="write colab-constraints.txt")
    make.add_argument("freeze", type=Path, help="Colab's pip-freeze.txt")
    make.add_argument("os_info", type=Path, help="Colab's os-info.txt")
    make.add_argument("--date", required=True, help="the date of the list, YYYY-MM-DD")
    make.add_argument("--source", default="main branch", help="which commit, for the header")
    commands.add_parser("widgets", help="drive the widgets (in the Colab environment)")
    args = parser.parse_args(argv)
    if args.command == "constraints":
        text = constraints_from_freeze(
            args.freeze.read_text(), args.os_info.read_text(), args.date, args.source
        )
        CONSTRAINTS.write_text(text)
        print(f"wrote {CONSTRAINTS.name}: {len(parse_pins(text))} pins")
        return 0
    if args.command == "widgets":
        check_widgets()
        return 0
    return check(args.venv.resolve(), args.jobs)


if __name__ == "__main__":
    sys.exit(main())
