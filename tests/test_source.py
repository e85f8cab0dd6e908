"""source: the code shown in the notebooks, whole or cut to the lines a lesson needs."""

import pytest

from mnistlib import source, train


def sample(x):
    """A sample."""
    y = x + 1
    for _ in range(3):
        y *= 2
    return y


def test_whole_function():
    assert source.source_lines(sample).splitlines()[0] == "def sample(x):"


def test_only_the_lines_between_start_and_stop_dedented():
    assert source.source_lines(sample, "for _", "y *= 2") == "for _ in range(3):\n    y *= 2"


def test_show_source_highlights_python():
    code = source.show_source(train.evaluate)
    assert code.language == "python" and "def evaluate" in code.data


def test_missing_line_and_wrong_object_are_named():
    with pytest.raises(ValueError, match="no line of sample contains 'while'"):
        source.source_lines(sample, "while")
    with pytest.raises(TypeError, match="function or a class, got int"):
        source.source_lines(3)


def test_show_error_prints_the_error_and_carries_on(capsys):
    with source.show_error(ValueError):
        int("seven")
    assert (
        capsys.readouterr().out == "ValueError: invalid literal for int() with base 10: 'seven'\n"
    )


def test_show_error_fails_loudly_when_nothing_is_raised():
    with (
        pytest.raises(AssertionError, match="expected to raise ValueError, and did not"),
        source.show_error(ValueError),
    ):
        int("7")


def test_show_error_lets_another_kind_of_error_through():
    with pytest.raises(KeyError), source.show_error(ValueError):
        {}["missing"]
