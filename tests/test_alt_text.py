"""Alt text: each figure function says what its figure shows, with the numbers a sighted reader
would take from it (worked out here by hand); a figure made by hand is described from its axes; in
IPython the text lands in the `image/png` metadata of the figure's output, with any backend
setting; bad input is refused; and the series' colours stay apart under colour-blindness."""

import matplotlib.pyplot as plt
import pytest
import torch
from IPython.core.interactiveshell import InteractiveShell
from matplotlib.colors import to_rgb
from torch import nn

from mnistlib import plots
from mnistlib.plots.alt_text import describe, listing
from mnistlib.train import History


class Answers(nn.Module):
    """Answers from a fixed list, one per image, in the order the images come."""

    def __init__(self, answers):
        super().__init__()
        self.answers = torch.tensor(answers)
        self.weight = nn.Parameter(torch.zeros(1))

    def forward(self, X):
        return nn.functional.one_hot(self.answers[: len(X)], 10).float() + self.weight


def history(train_acc, val_acc):
    n = len(train_acc)
    return History(
        train_loss=[1.0] * n, val_loss=[1.0] * n, train_acc=train_acc, val_acc=val_acc,
        lr=[0.1] * n, batch_loss=[2.0, 1.0, 0.5, 0.25] * n,
    )  # fmt: skip


def test_listing_reads_like_a_sentence():
    assert listing(["a"]) == "a"
    assert listing(["a", "b", "c"]) == "a, b and c"
    assert listing(range(10), most=3) == "0, 1, 2 and 7 more"


def test_digits_name_each_mistake():
    fig = plots.show_digits(torch.rand(4, 28, 28), [1, 2, 3, 4], [1, 7, 3, 9])
    text = plots.alt_text(fig)
    assert "2 read right, 2 wrong (2 read as 7 and 4 read as 9)" in text
    assert "labelled 5, 0 and 4" in plots.alt_text(
        plots.show_digits(torch.rand(3, 28, 28), [5, 0, 4])
    )


def test_confusion_matrix_names_the_most_frequent_mistake_and_the_accuracy():
    labels = torch.tensor([4, 4, 4, 1, 1, 7])
    model = Answers([9, 9, 4, 1, 7, 7])  # two 4s read as 9, one 1 read as 7: 3 of 6 right
    images = torch.zeros(6, 1, 28, 28)
    text = plots.alt_text(plots.plot_confusion_matrix(model, [(images, labels)]))
    assert "accuracy 50.00%" in text
    assert "a 4 read as 9 (2 images) and a 1 read as 7 (1 images)" in text


def test_learning_curves_give_the_accuracy_at_the_last_epoch():
    runs = {"SGD": history([50.0, 80.0], [48.0, 79.5]), "Adam": history([60.0, 90.0], [])}
    text = plots.alt_text(plots.plot_history(runs))
    assert "against the epoch (1 to 2)" in text
    assert "SGD 80.0% on training and 79.5% on validation" in text
    assert "Adam 90.0% on training." in text


def test_every_chart_says_where_its_curves_end():
    h = history([50.0], [40.0])
    assert "from 1.17 to 0.583" in plots.alt_text(plots.plot_batch_losses(h, window=3))
    assert "from 0.1 to 0.1" in plots.alt_text(plots.plot_lr(h))
    assert "ends at 2.72" in plots.alt_text(plots.plot_perplexity(h))  # exp(1)
    norms = {"deep": {"layer 1": 1e-4, "layer 2": 1e-2, "layer 3": 1.0}}
    assert "from 0.0001 at layer 1 to 1 at layer 3" in plots.alt_text(
        plots.plot_gradient_norms(norms)
    )
    text = plots.alt_text(plots.plot_per_step({"RNN": [1.0, 0.5, 0.25]}, ylabel="gradient"))
    assert "A line chart of gradient on a log scale" in text and "RNN from 1 to 0.25" in text
    text = plots.alt_text(plots.plot_accuracy_against({0: 99.0, 2: 80.0, 4: 30.0}, xlabel="shift"))
    assert "99.0% at 0 and 30.0% at 4" in text
    text = plots.alt_text(plots.plot_clipping({"clipped": ([3.0, 1.0], [50.0, 2.0])}))
    assert "clipped ends at a loss of 1, its largest gradient norm 50" in text


def test_pictures_say_what_they_show():
    text = plots.alt_text(plots.show_matrices({"kernel": torch.tensor([[1.0, 0.0], [0.0, -1.0]])}))
    assert "kernel, 2 × 2, rows 1 0; 0 -1" in text
    text = plots.alt_text(plots.show_padding(n=5, kernel=3, settings=[(0, 1), (1, 2)]))
    assert "padding 0 and stride 1 give 3 × 3 and padding 1 and stride 2 give 3 × 3" in text
    text = plots.alt_text(plots.show_weights(torch.randn(2, 784), titles=["zero", "one"]))
    assert "2 images of 28 × 28 weights, one for each of zero and one" in text
    text = plots.alt_text(
        plots.show_canvases(torch.rand(2, 36, 28), torch.tensor([[1, 2], [3, 4]]))
    )
    assert "labelled 1 2 and 3 4" in text
    assert "after steps 1, 14 and 28" in plots.alt_text(
        plots.show_reading(torch.rand(28, 28), after=(1, 14, 28))
    )
    assert "unrolled over 3 time steps" in plots.alt_text(plots.show_unrolled(steps=3))


def test_a_figure_made_by_hand_is_described_from_its_axes():
    fig, (left, right) = plt.subplots(1, 2)
    left.plot([1, 2, 3], [0.5, 0.2, 0.1], label="train")
    left.plot([1, 2, 3], [0.6, 0.4, 0.4], label="validation")
    left.set(xlabel="epoch", ylabel="loss", ylim=(0, 1))
    right.bar(["a", "b"], [3, 4])
    right.set(ylabel="seconds")
    text = describe(fig)
    assert text.startswith("2 panels: a line chart of loss against epoch, 2 series: train and")
    assert "vertical axis from 0 to 1" in text and "a bar chart of seconds" in text
    assert plots.alt_text(fig) == text
    plots.set_alt_text(fig, "  Loss falls,\n validation levels off. ")
    assert plots.alt_text(fig) == "Loss falls, validation levels off."


@pytest.mark.parametrize("bad", ["", "   ", None, 3])
def test_set_alt_text_refuses_what_is_no_text(bad):
    with pytest.raises(ValueError, match="alt text must be a non-empty string"):
        plots.set_alt_text(plt.figure(), bad)
    with pytest.raises(TypeError, match="expected a matplotlib Figure, got Axes"):
        plots.set_alt_text(plt.figure().add_subplot(), "text")


@pytest.fixture
def shell():
    """An IPython shell with the inline backend, as in a Jupyter kernel."""
    ip = InteractiveShell.instance()
    ip.enable_gui = lambda gui=None: None  # a kernel has no event loop to start for inline
    backend = plt.get_backend()
    ip.run_line_magic("matplotlib", "inline")
    yield ip
    InteractiveShell.clear_instance()
    plt.switch_backend(backend)


@pytest.mark.parametrize("figure_format", ["png", "retina"])
def test_in_ipython_the_alt_text_travels_in_the_png_metadata(shell, figure_format):
    shell.run_line_magic("config", f"InlineBackend.figure_format = {figure_format!r}")
    fig = plots.show_digits(torch.rand(2, 28, 28), [3, 8])
    data, metadata = shell.display_formatter.format(fig)
    assert "image/png" in data
    assert metadata["image/png"]["alt"] == "2 handwritten digits in a grid, labelled 3 and 8."
    if figure_format == "retina":  # the backend's own metadata is kept
        assert {"width", "height"} <= set(metadata["image/png"])
    hand_made = plt.figure()
    hand_made.add_subplot().plot([0, 1], [1, 0])
    shell.events.trigger("post_execute")  # after a cell: even a first figure made by hand
    assert shell.display_formatter.format(hand_made)[1]["image/png"]["alt"].startswith(
        "A line chart"
    )


def _distance(a, b):
    return sum((x - y) ** 2 for x, y in zip(a, b, strict=True)) ** 0.5


def _deuteranopia(color):
    """`color` as a reader without green cones sees it (Viénot, Brettel and Mollon's projection)."""
    r, g, b = to_rgb(color)
    return (0.292 * r + 0.708 * g, 0.292 * r + 0.708 * g, -0.022 * r + 0.022 * g + b)


def _closest_pair(colours):
    seen = [_deuteranopia(to_rgb(c)) for c in colours]
    return min(_distance(a, b) for i, a in enumerate(seen) for b in seen[i + 1 :])


def test_the_colours_of_lines_and_of_right_and_wrong_stay_apart_without_green_cones():
    from mnistlib.plots.images import RIGHT, WRONG

    cycle = plt.rcParams["axes.prop_cycle"].by_key()
    assert len(set(cycle["linestyle"][:4])) == 4  # the first four lines differ in print too
    assert _closest_pair(cycle["color"][:6]) > 0.2
    assert _closest_pair([RIGHT, WRONG]) > 0.5
    # the control: matplotlib's default colours fail the same measure
    assert _closest_pair(plt.rcParamsDefault["axes.prop_cycle"].by_key()["color"][:6]) < 0.2
    assert _closest_pair(["tab:green", "tab:red"]) < 0.5
