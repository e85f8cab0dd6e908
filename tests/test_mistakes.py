"""The mistakes students make, each answered by mnistlib with a sentence that names the problem,
before any work is done, rather than by a traceback from deep inside torch or matplotlib."""

from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import tiny_mnist
from torch import nn
from torch.utils.data import TensorDataset

from mnistlib import data, models, plots, train

PACKAGE = Path(models.__file__).parent


def loader(n=20, batch_size=10, **kwargs):
    return data.InMemoryLoader(tiny_mnist(n), batch_size=batch_size, **kwargs)


def sgd(model):
    return torch.optim.SGD(model.parameters(), lr=0.1)


MISTAKES = {
    "float64 images from NumPy": (
        lambda: models.MLP(5)(torch.from_numpy(np.zeros((2, 1, 28, 28)))),
        TypeError,
        "expected torch.float32 images like the model's weights, got torch.float64",
    ),
    "NumPy images": (
        lambda: models.SoftmaxRegression()(np.zeros((2, 1, 28, 28), dtype=np.float32)),
        TypeError,
        "convert with torch.as_tensor",
    ),
    "an activation instance": (
        lambda: models.MLP(5, activation=nn.ReLU()),
        TypeError,
        "pass nn.ReLU without the parentheses",
    ),
    "an activation that is no module": (
        lambda: models.MLP(5, activation=torch.relu),
        TypeError,
        "activation class such as nn.ReLU",
    ),
    "hidden sizes as one tuple": (
        lambda: models.MLP((50, 50)),
        TypeError,
        "unpack it with MLP\\(\\*sizes\\)",
    ),
    "a fractional hidden size": (lambda: models.MLP(5.5), ValueError, "whole numbers >= 1"),
    "a negative dropout": (lambda: models.MLP(5, dropout=-0.2), ValueError, "in \\[0, 1\\)"),
    "a dropout of 1": (lambda: models.MLP(5, dropout=1.0), ValueError, "in \\[0, 1\\)"),
    "CNN channels as one number": (lambda: models.SmallCNN(8), ValueError, "channel counts"),
    "flattened images": (
        lambda: models.MLP(5)(torch.zeros(2, 784)),
        ValueError,
        "did you flatten twice",
    ),
    "no channel axis": (
        lambda: models.MLP(5)(torch.zeros(2, 28, 28)),
        ValueError,
        "unsqueeze\\(1\\)",
    ),
    "uint8 images to a model": (
        lambda: models.MLP(5)(torch.zeros(2, 1, 28, 28, dtype=torch.uint8)),
        TypeError,
        "expected float images",
    ),
    "fit on a dataset": (
        lambda: train.fit(models.MLP(5), TensorDataset(torch.zeros(4, 1, 28, 28)), progress=False),
        TypeError,
        "wrap a dataset in data.InMemoryLoader",
    ),
    "fit on a pair of tensors": (
        lambda: train.fit(models.MLP(5), tiny_mnist(10), progress=False),
        TypeError,
        "wrap a dataset in data.InMemoryLoader",
    ),
    "fit on a tensor": (
        lambda: train.fit(models.MLP(5), torch.zeros(4, 1, 28, 28), progress=False),
        TypeError,
        "expected a training loader",
    ),
    "fit on the model class": (
        lambda: train.fit(models.MLP, loader(), progress=False),
        TypeError,
        "build one: MLP\\(\\)",
    ),
    "evaluate on a dataset": (
        lambda: train.evaluate(models.MLP(5), tiny_mnist(10)),
        TypeError,
        "expected an evaluation loader",
    ),
    "the optimizer of another model": (
        lambda: train.fit(models.MLP(5), loader(), optimizer=sgd(models.MLP(5)), progress=False),
        ValueError,
        "holds none of this model's parameters",
    ),
    "zero epochs": (
        lambda: train.fit(models.MLP(5), loader(), epochs=0, progress=False),
        ValueError,
        "at least 1, got 0",
    ),
    "a batch of one for batch norm": (
        lambda: train.fit(models.MLP(5, batch_norm="after"), loader(21), progress=False),
        ValueError,
        "last batch of 1 image",
    ),
    "a learning rate that explodes": (
        lambda: train.fit(models.MLP(50), loader(), lr=1e9, epochs=3, progress=False),
        FloatingPointError,
        "learning rate is probably too large",
    ),
    "NumPy arrays to the loader, float": (
        lambda: data.InMemoryLoader((np.zeros((4, 28, 28)), np.zeros(4))),
        ValueError,
        "expected uint8 images of shape \\(N, 28, 28\\), got torch.float64",
    ),
    "a fractional batch size": (
        lambda: data.InMemoryLoader(tiny_mnist(10), batch_size=6.4),
        ValueError,
        "whole number of at least 1, got 6.4",
    ),
    "a negative subset size": (
        lambda: data.balanced_subset(tiny_mnist(20), -10),
        ValueError,
        "positive multiple of 10",
    ),
    "a subset larger than the set": (
        lambda: data.balanced_subset(tiny_mnist(20), 100),
        ValueError,
        "fewer of",
    ),
    "zero columns of digits": (
        lambda: plots.show_digits(torch.zeros(4, 28, 28), ncols=0),
        ValueError,
        "ncols must be",
    ),
    "the whole test set as digits": (
        lambda: plots.show_digits(torch.zeros(10_000, 28, 28)),
        ValueError,
        "pass a slice",
    ),
    "no failures to show": (
        lambda: plots.show_failures(models.MLP(5), loader(), n=0),
        ValueError,
        "at least 1, got 0",
    ),
    "a confusion matrix for 12 outputs": (
        lambda: plots.confusion_matrix(nn.Sequential(nn.Flatten(), nn.Linear(784, 12)), loader()),
        ValueError,
        "exactly 10 scores per image",
    ),
}


@pytest.mark.parametrize("name", MISTAKES)
def test_each_mistake_gets_a_sentence_from_mnistlib(name, monkeypatch):
    monkeypatch.delenv("MNISTLIB_QUICK", raising=False)
    call, error, message = MISTAKES[name]
    torch.manual_seed(0)
    with pytest.raises(error, match=message) as caught:
        call()
    assert Path(caught.traceback[-1].path).parent == PACKAGE, "raised outside mnistlib"


def test_a_confusion_matrix_with_a_12th_output_that_wins_is_refused():
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 12))
    with torch.no_grad():
        model[1].bias[11] = 100.0
    with pytest.raises(ValueError, match="got 11"):
        plots.confusion_matrix(model, loader())


def test_quick_mode_gives_the_balanced_subset_the_small_split_holds(monkeypatch):
    monkeypatch.setenv("MNISTLIB_QUICK", "1")
    assert len(data.balanced_subset(tiny_mnist(20), 100)) == 20
