"""The project's own files agree with each other: pyproject, environment.yml, constraints, CI."""

import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import yaml

TOP = Path(__file__).resolve().parent.parent


def name_of(requirement: str) -> str:
    return re.split(r"[<>=!~ ;\[]", requirement, maxsplit=1)[0].strip().lower()


def pyproject_requirements() -> list[str]:
    project = tomllib.loads((TOP / "pyproject.toml").read_text())["project"]
    extras = [r for group in project["optional-dependencies"].values() for r in group]
    return project["dependencies"] + extras


def test_environment_yml_lists_the_same_packages_as_pyproject():
    env = yaml.safe_load((TOP / "environment.yml").read_text())
    python = [d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python")]
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert python == ["python=3.11"]
    assert sorted(pip) == sorted(pyproject_requirements())


def test_constraints_pin_every_requirement_exactly():
    lines = [
        line.split("#")[0].strip() for line in (TOP / "constraints.txt").read_text().splitlines()
    ]
    pins = [line for line in lines if line]
    assert all("==" in pin for pin in pins)
    pinned = {name_of(pin) for pin in pins}
    assert {name_of(r) for r in pyproject_requirements()} <= pinned


# Versions preinstalled in Google Colab at the oldest we support; installing mnistlib there must
# replace none of them (Colab's ipywidgets 7 breaks widget display when 8 is forced on it).
COLAB = {
    "torch": "2.0",
    "torchvision": "0.15",
    "numpy": "1.24",
    "matplotlib": "3.7",
    "seaborn": "0.12",
    "ipywidgets": "7.7",
    "tqdm": "4.64",
}


def as_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def test_colab_preinstalled_versions_satisfy_every_lower_bound():
    project = tomllib.loads((TOP / "pyproject.toml").read_text())["project"]
    bounds = dict(re.fullmatch(r"([\w-]+)>=([\d.]+)", r).groups() for r in project["dependencies"])
    assert set(bounds) == set(COLAB)
    assert all(as_tuple(bounds[name]) <= as_tuple(COLAB[name]) for name in COLAB)


def test_package_declares_ranges_not_pins():
    assert not any("==" in r for r in pyproject_requirements())


def test_ci_runs_the_readme_test_command():
    readme = (TOP / "README.md").read_text()
    ci = (TOP / ".ci" / "run").read_text()
    assert re.search(r"^make test$", readme, flags=re.M)
    assert re.search(r"^make test$", ci, flags=re.M)


def test_makefile_has_every_command_the_readme_names():
    targets = set(re.findall(r"^([a-z]+):", (TOP / "Makefile").read_text(), flags=re.M))
    named = set(re.findall(r"`make ([a-z]+)`", (TOP / "README.md").read_text()))
    assert named and named <= targets


def test_the_wheel_holds_every_module_of_the_package(tmp_path):
    """A non-editable install (as in Colab) gets every module and subpackage of the checkout."""
    source = tmp_path / "source"  # a copy, so that no build folder of an earlier build is reused
    shutil.copytree(TOP / "mnistlib", source / "mnistlib", ignore=shutil.ignore_patterns("__py*"))
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(TOP / name, source / name)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation"]
        + ["--wheel-dir", str(tmp_path), str(source)],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("mnistlib-*.whl")
    shipped = {n for n in zipfile.ZipFile(wheel).namelist() if n.endswith(".py")}
    checkout = {p.relative_to(TOP).as_posix() for p in (TOP / "mnistlib").rglob("*.py")}
    assert shipped == checkout
