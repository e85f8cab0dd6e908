"""tools/colab_check.py: what counts as replacing a Colab package, the constraints file, and the
pieces of the check that need no Colab environment."""

import importlib.util
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SPEC = importlib.util.spec_from_file_location("colab_check", ROOT / "tools" / "colab_check.py")
colab_check = importlib.util.module_from_spec(SPEC)
sys.modules["colab_check"] = colab_check  # its dataclass looks itself up there
SPEC.loader.exec_module(colab_check)

COLAB = {"numpy": "2.1.3", "torch": "2.11.0", "ipywidgets": "7.7.1", "parso": "0.8.7"}


def test_a_replaced_package_fails_with_its_name_and_both_versions():
    result = colab_check.compare(COLAB, {**COLAB, "numpy": "2.4.6"}, COLAB)
    assert not result.ok
    assert result.changed == [("numpy", "2.1.3", "2.4.6")]
    assert "REPLACED numpy 2.1.3 -> 2.4.6" in result.lines()


def test_a_downgrade_and_a_removal_fail_too():
    after = {**COLAB, "ipywidgets": "7.6.0"}
    del after["parso"]
    result = colab_check.compare(COLAB, after, COLAB)
    assert not result.ok
    assert result.lines()[:2] == ["REPLACED ipywidgets 7.7.1 -> 7.6.0", "REMOVED parso 0.8.7"]


def test_an_addition_passes_and_is_listed():
    result = colab_check.compare(COLAB, {**COLAB, "jedi": "0.20.1", "mnistlib": "0.1.0"}, COLAB)
    assert result.ok
    assert result.added == [("jedi", "0.20.1"), ("mnistlib", "0.1.0")]
    assert "added jedi 0.20.1 (Colab lacks it)" in result.lines()


def test_nothing_installed_nothing_changed():
    result = colab_check.compare(COLAB, dict(COLAB), COLAB)
    assert result.ok and result.lines() == []


def test_names_are_compared_as_pip_compares_them():
    before = {"typing_extensions": "4.16.0", "Jinja2": "3.1.6"}
    after = {"typing-extensions": "4.16.0", "jinja2": "3.1.6"}
    assert colab_check.compare(before, after).ok


def test_an_addition_of_a_colab_package_at_another_version_fails():
    # Colab ships it; the environment here lacked it, and the install brought another version.
    result = colab_check.compare({}, {"parso": "0.8.4"}, COLAB)
    assert not result.ok
    assert result.lines() == ["ADDED AT ANOTHER VERSION parso 0.8.4 (Colab ships 0.8.7)"]


def test_the_constraints_file_pins_every_package_exactly_and_has_no_nvidia_line():
    text = (ROOT / "colab-constraints.txt").read_text()
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    assert lines, "no pins"
    assert [line for line in lines if "nvidia" in line.lower()] == []
    assert [line for line in lines if not colab_check.PIN.match(line.strip())] == []
    pins = colab_check.parse_pins(text)
    assert len(pins) == len(lines), "a package is pinned twice"
    assert pins["torch"] == "2.11.0" and pins["ipywidgets"] == "7.7.1"


def test_the_constraints_file_names_its_date_source_and_python():
    text = (ROOT / "colab-constraints.txt").read_text()
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", colab_check.header_field(text, "date"))
    assert colab_check.header_field(text, "python").startswith("3.")
    assert "googlecolab/backend-info" in text and "pip-freeze.txt" in text


def test_parse_pins_refuses_a_range():
    with pytest.raises(ValueError, match="line 2 is not an exact pin"):
        colab_check.parse_pins("numpy==2.1.3\ntorch>=2.0\n")


def test_constraints_from_freeze():
    freeze = "\n".join(
        [
            "# a comment",
            "numpy==2.1.3",
            "nvidia-nccl-cu13==2.31.2",
            "torch @ https://download.pytorch.org/whl/cpu/torch-2.11.0%2Bcpu-cp313-cp313-"
            "manylinux_2_28_x86_64.whl",
            "google-colab @ file:///colabtools/dist/google_colab-1.0.0.tar.gz",
            "jupyter_kernel_gateway @ git+https://github.com/googlecolab/kernel_gateway@b134e99",
        ]
    )
    text = colab_check.constraints_from_freeze(freeze, "Python 3.13.15\n", "2026-08-19", "main")
    assert colab_check.parse_pins(text) == {
        "google-colab": "1.0.0",
        "numpy": "2.1.3",
        "torch": "2.11.0",
    }
    assert colab_check.header_field(text, "python") == "3.13.15"
    assert "left out (jupyter_kernel_gateway)" in text
    assert "nvidia-nccl-cu13==2.31.2" in text.split("\n# date")[0]  # named in the header only
    assert all(len(line) <= 100 for line in text.splitlines())


def test_plan_takes_torchs_cuda_libraries_and_leaves_out_what_colab_lacks():
    def item(name, version, *requires):
        return {"metadata": {"name": name, "version": version, "requires_dist": list(requires)}}

    report = {
        "install": [
            item("torch", "2.11.0", "cuda-toolkit[cublas]==13.0.2; platform_system == 'Linux'"),
            item("cuda-toolkit", "13.0.2", "nvidia-cublas==13.1.0.3.*; extra == 'cublas'"),
            item("nvidia-cublas", "13.1.0.3"),
            item("ipython", "7.34.0", "jedi>=0.16", "parso"),
            item("jedi", "0.20.1", "parso<0.9,>=0.8.4"),
            item("parso", "0.8.7"),
        ]
    }
    keep, lacking = colab_check.plan(report, {"torch": "2.11.0", "ipython": "7.34.0", "parso": "0"})
    assert sorted(keep) == ["cuda-toolkit", "ipython", "nvidia-cublas", "parso", "torch"]
    assert lacking == {"jedi": "0.20.1"}


def test_first_error_names_the_cell_and_the_error():
    def code(source, *outputs):
        return {"cell_type": "code", "source": source, "outputs": list(outputs)}

    notebook = {
        "cells": [
            {"cell_type": "markdown", "source": "# title"},
            code("x = 1", {"output_type": "stream", "name": "stdout", "text": ["fine\n"]}),
            code(
                "import mnistlib.gone",
                {"output_type": "error", "ename": "ModuleNotFoundError", "evalue": "no gone"},
            ),
        ]
    }
    found = colab_check.first_error(notebook)
    assert found.startswith("cell 3 raised ModuleNotFoundError: no gone")
    assert "import mnistlib.gone" in found
    notebook["cells"].pop()
    assert colab_check.first_error(notebook) is None


def test_distribution_of_wheel_and_sdist_names():
    wheel = "nvidia_cublas-13.1.0.3-py3-none-manylinux_2_27_x86_64.whl"
    assert colab_check.distribution_of(wheel) == ("nvidia-cublas", "13.1.0.3")
    assert colab_check.distribution_of("python_dateutil-2.9.0.post0-py2.py3-none-any.whl") == (
        "python-dateutil",
        "2.9.0.post0",
    )
    assert colab_check.distribution_of("ipython-genutils-0.2.0.tar.gz") == (
        "ipython-genutils",
        "0.2.0",
    )
