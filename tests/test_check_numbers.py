"""tools/check_numbers.py: a result in the prose passes only when a code cell above prints it."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

TOOL = Path(__file__).resolve().parent.parent / "tools" / "check_numbers.py"
SPEC = importlib.util.spec_from_file_location("check_numbers", TOOL)
check_numbers = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(check_numbers)


def printing(text: str) -> nbformat.NotebookNode:
    """A code cell whose output prints `text`."""
    return new_code_cell("...", outputs=[new_output("stream", name="stdout", text=text)])


def unprinted(*cells) -> list[str]:
    """The numbers the checker finds unprinted in a notebook of these cells."""
    notebook = new_notebook(
        cells=[new_markdown_cell(c) if isinstance(c, str) else c for c in cells]
    )
    return [result.text for _, result in check_numbers.unprinted(notebook)]


def test_a_result_printed_above_passes_and_one_printed_below_fails():
    assert unprinted(printing("test accuracy 97.09%\n"), "The MLP reaches 97.09%.") == []
    assert unprinted("The MLP reaches 97.09%.", printing("test accuracy 97.09%\n")) == ["97.09"]


def test_a_wrong_number_fails():
    assert unprinted(printing("test accuracy 97.09%\n"), "The MLP reaches 97.2%.") == ["97.2"]


@pytest.mark.parametrize(
    ("output", "prose"),
    [
        ("errors: 1234\n", "It makes 1,234 mistakes."),
        ("errors: 1,234\n", "It makes 1234 mistakes."),
        ("acc 97.14\n", "About 97.1% are right."),
        ("acc 97.08\n", "About 97.1% are right."),
        ("acc 97.16\n", "About 97.1% are right."),
        ("rate 0.50\n", "A rate of 0.5% of the images."),
        ("accuracy 0.971\n", "It reaches 97.1%."),
        ("took 12.3 s\n", "One epoch takes 12 s."),
        ("train_s 90.0\n", "Training took 1.5 min."),
        ("time 126.4\n", "After 126 seconds of training."),
        ("val loss 0.3114\n", "It ends with a loss of 0.31."),
        ("ppl 5.2391\n", "The model has perplexity 5.24."),
    ],
)
def test_formatting_and_rounding_are_tolerated(output, prose):
    assert unprinted(printing(output), prose) == []


def test_rounding_tolerates_only_the_prose_precision():
    assert unprinted(printing("acc 97.2\n"), "About 97.1% are right.") == ["97.1"]
    assert unprinted(printing("took 13.0 s\n"), "One epoch takes 12 s.") == ["12"]


def test_html_tables_and_figure_alt_text_count_as_printed():
    table = new_code_cell(
        "...", outputs=[new_output("execute_result", {"text/html": "<td>98.64</td>"})]
    )
    figure = new_code_cell(
        "...",
        outputs=[
            new_output(
                "display_data",
                {"image/png": "iVBOR"},
                metadata={"image/png": {"alt": "Validation loss falls to 0.172."}},
            )
        ],
    )
    assert unprinted(table, figure, "The LSTM reaches 98.64%; its loss ends at 0.172.") == []


def test_every_percentage_is_a_result():
    assert unprinted("The validation accuracy stops near 52%.") == ["52"]
    assert unprinted("Both end between 30–47% of the images.") == ["30", "47"]


def test_a_marked_quote_is_skipped_and_the_rest_of_the_sentence_checked():
    prose = "The usual recipe gives 90.88% (published: 90.8%), the tiny rate 81.35%."
    assert unprinted(printing("90.88\n"), prose) == ["81.35"]
    assert unprinted("A widely used tutorial reports 97.2% on the test set; we get 96.40%.") == [
        "96.40"
    ]
    assert unprinted("It reports 89.24% (first digit) after 30 epochs, in 38.6 s.") == []
    assert unprinted("Two authors (2012) report an error of 0.23% (99.77% accuracy).") == []


def test_a_quote_without_its_mark_fails():
    assert unprinted("The tutorial got 97.2% on the test set.") == ["97.2"]


def test_a_table_column_headed_reported_is_a_quote_and_the_others_are_checked():
    table = "| model | reported | ours |\n|---|---|---|\n| MLP | 97.7% | 97.98% |\n"
    assert unprinted(table) == ["97.98"]


def test_an_expected_result_in_an_exercise_is_skipped():
    assert unprinted("Train it for 5 epochs: expect about 97% on validation.") == []
    assert unprinted("Train it for 5 epochs: you should see 97% on validation.") == []
    table = "| task | expected time |\n|---|---|\n| 1 | about 10 s |\n"
    assert unprinted(table) == []
    assert unprinted(table.replace("expected time", "time")) == ["10"]


def test_code_math_and_headings_are_skipped():
    prose = "## Above 92%\n\nRun `fit(0.5)  # took 12 s`, see $p = 90\\%$.\n\n```\n93%\n```\n"
    assert unprinted(prose) == []


def test_settings_are_not_results():
    prose = (
        "1. Train with learning rate 0.1, batch size 64, for 10 epochs on 28 × 28 images.\n"
        "2. The MLP is 784 → 50 → 10 with seed 0, as in Section 3 of notebook 02 (2024).\n"
        "3. The validation loss turns at epoch 72, measured over the last 50 batches.\n"
        "4. The loss stays far above 0.15; that perplexity means a probability of 1/104.\n"
    )
    assert unprinted(prose) == []


def run_cli(*args: str) -> subprocess.CompletedProcess:
    """The checker run as a script, as `make` would."""
    return subprocess.run(
        [sys.executable, str(TOOL), *args], capture_output=True, text=True, check=False
    )


def test_the_command_line_exits_1_with_one_line_per_finding_and_0_when_clean(tmp_path):
    bad = tmp_path / "bad.ipynb"
    nbformat.write(new_notebook(cells=[new_markdown_cell("It reaches 97.1% and 98.2%.")]), bad)
    good = tmp_path / "good.ipynb"
    nbformat.write(
        new_notebook(cells=[printing("97.14\n"), new_markdown_cell("About 97.1%.")]), good
    )
    failed = run_cli(str(bad), str(good))
    assert failed.returncode == 1
    assert failed.stdout.splitlines() == [
        f"{bad}: cell 0: 97.1 not printed above: It reaches 97.1% and 98.2%.",
        f"{bad}: cell 0: 98.2 not printed above: It reaches 97.1% and 98.2%.",
    ]
    assert run_cli(str(good)).returncode == 0


def test_the_command_line_refuses_what_is_not_a_notebook(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("not json")
    refused = run_cli(str(text))
    assert refused.returncode == 1 and "expected a readable .ipynb notebook" in refused.stderr
    assert "usage" in run_cli().stderr
