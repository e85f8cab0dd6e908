"""The playground's logic without a browser: runs, stopping between batches, runs kept for
comparison, and the panel's buttons driven from Python."""

import pytest
import torch
from conftest import tiny_mnist
from matplotlib.figure import Figure

from mnistlib import playground
from mnistlib.playground import Config, Trainer

TRAIN, VAL = tiny_mnist(300, 1), tiny_mnist(100, 2)


@pytest.fixture
def trainer():
    return Trainer(TRAIN, VAL, train_size=200, val_size=50, points_per_epoch=4)


def test_a_run_records_points_and_one_validation_per_epoch(trainer):
    epochs_seen = []
    record = trainer.train_run(Config(epochs=2, batch_size=50), on_epoch=epochs_seen.append)
    assert record.outcome == "finished" and record.seconds > 0
    assert record.val_epochs == [1, 2] and len(record.val_acc) == 2 and len(epochs_seen) == 2
    assert record.steps == [0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0]
    assert all(0 <= a <= 100 for a in record.train_acc + record.val_acc)


def test_the_subsets_are_the_sizes_asked_for(trainer):
    assert len(trainer.train_data) == 200 and len(trainer.val_data) == 50
    small = Trainer(TRAIN, VAL, train_size=5000, val_size=1000)
    assert small.train_data is TRAIN  # fewer images than asked: all of them


def test_should_stop_is_asked_between_batches(trainer):
    asked = []

    def should_stop():
        asked.append(1)
        return len(asked) > 3  # three batches, then stop

    record = trainer.train_run(Config(epochs=5, batch_size=20), should_stop=should_stop)
    assert record.outcome == "stopped"
    assert record.val_epochs == []  # stopped inside the first epoch, before its validation
    assert len(asked) == 4


def test_runs_are_kept_for_comparison_until_cleared(trainer):
    for model in ("softmax", "mlp", "cnn"):
        trainer.train_run(Config(model=model, epochs=1, batch_size=100))
    assert [r.config.model for r in trainer.runs] == ["softmax", "mlp", "cnn"]
    fig = playground.draw(trainer.runs)
    assert isinstance(fig, Figure)
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels == [r.config.label() for r in trainer.runs]
    assert [ax.get_ylabel() for ax in fig.axes] == [
        "cross-entropy loss (mean per image)",
        "accuracy (%)",
    ]
    assert playground.png(fig).startswith(b"\x89PNG")
    trainer.clear()
    assert trainer.runs == []


def test_a_rate_far_too_large_ends_the_run_as_diverged(trainer):
    record = trainer.train_run(Config(lr=1e30, epochs=3, batch_size=50, normalize=False))
    assert record.outcome == "diverged"


def test_configs_build_each_model_and_name_it():
    X = torch.zeros(2, 1, 28, 28)
    for model in ("softmax", "mlp", "cnn"):
        assert Config(model=model).build()(X).shape == (2, 10)
    assert Config(width=32, depth=2, optimizer="Adam", lr=0.001).label() == (
        "MLP 32×2, Adam lr 0.001, batch 64"
    )
    assert "raw pixels" in Config(normalize=False).label()
    with pytest.raises(ValueError, match="model must be one of"):
        Config(model="transformer").build()


def test_the_panel_trains_in_a_thread_and_keeps_runs():
    panel = playground.Playground(TRAIN, VAL, train_size=100, val_size=50)
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
    assert panel.trainer.runs == []


def test_the_stop_button_stops_a_run():
    panel = playground.Playground(TRAIN, VAL, train_size=100, val_size=50)
    panel.buttons[1].click()  # Stop, pressed before the run starts: the next run clears it
    assert panel.stop.is_set()
    panel.controls["epochs"].value = 20
    panel.start()
    panel.buttons[1].click()
    panel.thread.join(timeout=60)
    assert panel.trainer.runs[0].outcome == "stopped"
    assert "stopped" in panel.status.value
