"""widgets: the digit browser's slider and its error on the wrong shape; the playground's logic
without a browser (runs, stopping between batches, runs kept for comparison), and the panel's
buttons driven from Python."""

import io
import threading

import matplotlib.pyplot as plt
import numpy as np
import PIL.Image
import pytest
import torch
from conftest import tiny_mnist
from matplotlib.figure import Figure

from mnistlib import widgets
from mnistlib.widgets import Config, Trainer

TRAIN, VAL = tiny_mnist(300, 1), tiny_mnist(100, 2)


def test_digit_browser_slider_spans_every_image(monkeypatch):
    monkeypatch.setattr(plt, "show", lambda: None)
    images = torch.zeros(5, 28, 28, dtype=torch.uint8)
    browser = widgets.digit_browser(images, torch.arange(5))
    slider = browser.children[0]
    assert (slider.min, slider.max, slider.value) == (0, 4, 0)
    slider.value = 3
    titles = [ax.get_title() for ax in plt.gcf().axes]
    assert titles[0] == "image 3: label 3"
    plt.close("all")


@pytest.mark.parametrize(
    ("images", "labels"),
    [
        (torch.zeros(5, 784), torch.arange(5)),
        (torch.zeros(5, 28, 28), torch.arange(4)),
    ],
)
def test_digit_browser_rejects_bad_shapes(images, labels):
    with pytest.raises(ValueError, match="expected images of shape \\(N, 28, 28\\) and N labels"):
        widgets.digit_browser(images, labels)


@pytest.fixture
def trainer():
    return Trainer(TRAIN, VAL, train_size=200, val_size=50)


def test_a_run_is_kept_from_its_start_with_one_validation_per_epoch(trainer):
    seen = []

    def on_epoch(run):
        seen.append(run.history.epochs)
        assert trainer.runs[trainer.training] is run  # drawn while it grows

    run = trainer.train_run(Config(epochs=2, batch_size=50), on_epoch=on_epoch)
    assert run.history.status == "finished" and run.seconds > 0 and trainer.training is None
    assert seen == [1, 2] and len(run.history.val_acc) == 2
    assert len(run.history.batch_loss) == 2 * 4  # 200 images in batches of 50, twice
    assert all(0 <= a <= 100 for a in run.history.train_acc + run.history.val_acc)


def test_the_subsets_are_the_sizes_asked_for(trainer):
    assert len(trainer.train_data) == 200 and len(trainer.val_data) == 50
    small = Trainer(TRAIN, VAL, train_size=5000, val_size=1000)
    assert small.train_data is TRAIN  # fewer images than asked: all of them


def test_on_batch_is_asked_between_batches_and_can_stop_the_run(trainer):
    asked = []

    def three_batches(step):
        asked.append(step.number)
        return len(asked) < 3

    run = trainer.train_run(Config(epochs=5, batch_size=20), on_batch=three_batches)
    assert run.history.status == "interrupted"
    assert run.history.epochs == 0  # stopped inside the first epoch, before its validation
    assert asked == [1, 2, 3]


def test_runs_are_kept_for_comparison_until_cleared(trainer):
    configs = [Config(model=model, epochs=1, batch_size=100) for model in ("softmax", "mlp", "cnn")]
    for config in [*configs, configs[1]]:
        trainer.train_run(config)
    labels = [config.label() for config in configs]
    assert list(trainer.runs) == [*labels, f"{labels[1]} (2)"]
    fig = widgets.draw(trainer.runs)
    assert isinstance(fig, Figure) and fig not in [plt.figure(n) for n in plt.get_fignums()]
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend == [*labels, f"{labels[1]} (2)", "training", "validation"]
    assert [ax.get_ylabel() for ax in fig.axes] == [
        "cross-entropy loss (mean per image)",
        "accuracy (%)",
    ]
    assert widgets.png(fig).startswith(b"\x89PNG")
    trainer.clear()
    assert trainer.runs == {}


def test_a_rate_far_too_large_ends_the_run_as_diverged(trainer):
    run = trainer.train_run(Config(lr=1e30, epochs=3, batch_size=50, normalize=False))
    assert run.history.status == "diverged"
    labels = [t.get_text() for t in widgets.draw(trainer.runs).legends[0].get_texts()]
    assert labels[0].endswith("(diverged)")


def test_configs_build_each_model_and_name_it():
    X = torch.zeros(2, 1, 28, 28)
    for model in ("softmax", "mlp", "cnn"):
        assert Config(model=model).make_model()(X).shape == (2, 10)
    assert Config(width=32, depth=2, optimizer="Adam", lr=0.001).label() == (
        "MLP 32×2, Adam lr 0.001, batch 64"
    )
    assert "raw pixels" in Config(normalize=False).label()
    with pytest.raises(ValueError, match="model must be one of"):
        Config(model="transformer").make_model()


def test_the_panel_trains_in_a_thread_and_keeps_runs():
    panel = widgets.Playground(TRAIN, VAL, train_size=100, val_size=50)
    panel.controls["epochs"].value = 1
    panel.controls["model"].value = "softmax"
    assert panel.config() == Config(model="softmax", epochs=1)
    first_image = panel.image.value
    panel.start()
    panel.thread.join(timeout=60)
    assert "finished" in panel.status.value
    assert len(panel.trainer.runs) == 1 and panel.image.value != first_image
    panel.buttons[0].click()  # Train again, through the button
    panel.thread.join(timeout=60)
    assert len(panel.trainer.runs) == 2
    panel.buttons[2].click()  # Clear
    assert panel.trainer.runs == {}


def test_the_stop_button_stops_a_run():
    panel = widgets.Playground(TRAIN, VAL, train_size=100, val_size=50)
    panel.buttons[1].click()  # Stop, pressed before the run starts: the next run clears it
    assert panel.stop.is_set()
    panel.controls["epochs"].value = 20
    clicked, train_run = threading.Event(), panel.trainer.train_run

    def after_the_click(config, on_epoch=None, on_batch=None):  # the run waits for the click
        return train_run(config, on_epoch, lambda step: clicked.wait(30) and on_batch(step))

    panel.trainer.train_run = after_the_click
    panel.start()
    panel.buttons[1].click()
    clicked.set()
    panel.thread.join(timeout=60)
    (run,) = panel.trainer.runs.values()
    assert run.history.status == "interrupted"
    assert "interrupted" in panel.status.value


def test_the_panel_before_any_run_shows_labelled_axes_not_a_blank_picture():
    fig = widgets.draw({})
    assert [ax.get_title() for ax in fig.axes] == ["Loss", "Accuracy"]
    assert "press Train" in fig.texts[0].get_text()
    pixels = np.asarray(PIL.Image.open(io.BytesIO(widgets.png(fig))).convert("L"))
    assert (pixels != pixels[0, 0]).mean() > 0.01
