"""The mistakes students make, each answered by mnistlib with a sentence that names the problem,
before any work is done, rather than by a traceback from deep inside torch or matplotlib."""

import tempfile
from functools import partial
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import tiny_mnist
from torch import nn
from torch.utils.data import TensorDataset

from mnistlib import data, experiments, measure, models, plots, train
from mnistlib.fetch import FetchError

PACKAGE = Path(models.__file__).parent


def loader(n=20, batch_size=10, **kwargs):
    return data.InMemoryLoader(tiny_mnist(n), batch_size=batch_size, **kwargs)


def sgd(model):
    return torch.optim.SGD(model.parameters(), lr=0.1)


def fit(model, batches, **kwargs):
    return train.fit(model, batches, progress=False, **kwargs)


def relabeled(change):
    """The batches of `loader()` with their labels changed by `change`."""
    return [(X, change(y)) for X, y in loader()]


def repixeled(change):
    """The batches of `loader()` with their images changed by `change`."""
    return [(change(X), y) for X, y in loader()]


def one_nan_pixel_in_batch_2():
    batches = list(loader())
    X = batches[1][0].clone()
    X[0, 0, 14, 14] = float("nan")
    return [batches[0], (X, batches[1][1])]


def scheduled(scheduler_of, given_optimizer=True, other_model=False):
    """fit with the scheduler `scheduler_of(optimizer)` on the model's optimizer (or on another
    model's), that optimizer given to fit or not."""
    model = models.MLP(5)
    optimizer = sgd(model)
    scheduler = scheduler_of(sgd(models.MLP(5)) if other_model else optimizer)
    given = {"optimizer": optimizer} if given_optimizer else {}
    return fit(model, loader(), scheduler=scheduler, **given)


STEP_LR = partial(torch.optim.lr_scheduler.StepLR, step_size=1)


def lr_next_to_an_optimizer():
    model = models.MLP(5)
    return fit(model, loader(), optimizer=sgd(model), lr=0.5)


def without_gradients():
    with torch.set_grad_enabled(False):
        return fit(models.MLP(5), loader())


def load_mnist_with_a_file_at(path: str, root: str):
    """`data.load_mnist(root)` at home (HOME and the working folder: a new, empty one) where a file
    named `path` is in the way."""
    with tempfile.TemporaryDirectory() as home, pytest.MonkeyPatch.context() as patch:
        patch.setenv("HOME", home)
        patch.chdir(home)
        (Path(home) / path).parent.mkdir(parents=True, exist_ok=True)
        (Path(home) / path).write_text("my notes")
        return data.load_mnist(root)


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
    "a scheduler without its optimizer": (
        lambda: scheduled(STEP_LR, given_optimizer=False),
        ValueError,
        "pass the optimizer the scheduler was built on too: fit\\(..., optimizer=opt",
    ),
    "a scheduler on another model's optimizer": (
        lambda: scheduled(STEP_LR, other_model=True),
        ValueError,
        "the scheduler was built on another optimizer than the one that trains",
    ),
    "ReduceLROnPlateau in fit without validation": (
        lambda: scheduled(torch.optim.lr_scheduler.ReduceLROnPlateau),
        ValueError,
        "ReduceLROnPlateau steps on the validation loss after each epoch: give fit a validation",
    ),
    "lr next to an optimizer": (
        lr_next_to_an_optimizer,
        ValueError,
        "optimizer= was given too, and it keeps its own rate; .* drop lr= here",
    ),
    "the learning rate as a string": (
        lambda: fit(models.MLP(5), loader(), lr="0.1"),
        TypeError,
        "got the string '0.1': drop the quotes",
    ),
    "the learning rate as a string, in a run": (
        lambda: experiments.run(models.SoftmaxRegression, tiny_mnist(10), lr="0.1", progress=False),
        TypeError,
        "got the string '0.1': drop the quotes",
    ),
    "a negative learning rate": (
        lambda: fit(models.MLP(5), loader(), lr=-0.1),
        ValueError,
        "positive number such as 0.1, got -0.1",
    ),
    "one-hot labels": (
        lambda: fit(models.MLP(5), relabeled(lambda y: nn.functional.one_hot(y, 10).float())),
        ValueError,
        "class indices \\(10,\\) of dtype long, got one-hot \\(10, 10\\): use y.argmax\\(1\\)",
    ),
    "float labels": (
        lambda: fit(models.MLP(5), relabeled(lambda y: y.float())),
        ValueError,
        "dtype long \\(torch.int64\\), got torch.float32: convert them with y.long\\(\\)",
    ),
    "labels counted from 1": (
        lambda: fit(models.MLP(5), relabeled(lambda y: y + 1)),
        ValueError,
        "0 to 9 for a model with 10 outputs, got labels from 1 to 10; .* subtract 1",
    ),
    "more classes than outputs": (
        lambda: fit(nn.Sequential(nn.Flatten(), nn.Linear(784, 5)), loader()),
        ValueError,
        "got labels from 0 to 9; the model needs one output per class, 10 or more",
    ),
    "a model with one output": (
        lambda: fit(nn.Sequential(nn.Flatten(), nn.Linear(784, 1)), loader()),
        ValueError,
        "1 score per image.*one output per class",
    ),
    "a model that returns a tuple": (
        lambda: fit(
            nn.Sequential(nn.Flatten(), nn.Unflatten(1, (28, 28)), nn.RNN(28, 10)), loader()
        ),
        TypeError,
        "got tuple; nn.RNN and nn.LSTM return \\(output, hidden\\)",
    ),
    "images from 0 to 255": (
        lambda: fit(models.MLP(5), repixeled(lambda X: X * 255)),
        ValueError,
        "go up to 255: they look like raw pixel values.*divide by 255",
    ),
    "images from 0 to 255, evaluated": (
        lambda: train.evaluate(models.MLP(5), repixeled(lambda X: X * 255)),
        ValueError,
        "raw pixel values 0–255",
    ),
    "a NaN pixel, evaluated": (
        lambda: train.evaluate(models.MLP(5), one_nan_pixel_in_batch_2()),
        ValueError,
        "batch 2 of the evaluation loader holds NaN or inf pixels",
    ),
    "a NaN pixel, trained on": (
        lambda: fit(models.MLP(5), one_nan_pixel_in_batch_2()),
        ValueError,
        "batch 2 of the training loader holds NaN or inf pixels",
    ),
    "a loss summed over the batch": (
        lambda: fit(models.MLP(5), loader(), loss_fn=nn.CrossEntropyLoss(reduction="sum")),
        ValueError,
        "reduction='sum'.*use the default reduction='mean'",
    ),
    "a loss summed over the batch, evaluated": (
        lambda: train.evaluate(models.MLP(5), loader(), nn.CrossEntropyLoss(reduction="sum")),
        ValueError,
        "reduction='sum'",
    ),
    "the loss class": (
        lambda: fit(models.MLP(5), loader(), loss_fn=nn.CrossEntropyLoss),
        TypeError,
        "got the class CrossEntropyLoss; build one",
    ),
    "a model ending in softmax": (
        lambda: fit(nn.Sequential(models.MLP(5), nn.Softmax(dim=1)), loader()),
        ValueError,
        "applies log-softmax itself; remove the final nn.Softmax",
    ),
    "gradients switched off": (
        without_gradients,
        RuntimeError,
        "gradients are switched off: .* call torch.set_grad_enabled\\(True\\)",
    ),
    "a device torch does not know": (
        lambda: experiments.run(
            models.SoftmaxRegression, tiny_mnist(10), device="gpu", progress=False
        ),
        ValueError,
        "device must be 'cpu', 'cuda', 'mps' or a torch.device, got 'gpu'",
    ),
    "a batch larger than the data, with drop_last": (
        lambda: fit(models.MLP(5), loader(20, batch_size=64, drop_last=True)),
        ValueError,
        "batch size 64 is larger than the 20 images, and drop_last=True",
    ),
    "a typo in one config of a comparison": (
        lambda: experiments.compare(
            {"a": {"lr": 0.1}, "b": {"learning_rate": 0.1}}, make_model=models.MLP, train_data=None
        ),
        TypeError,
        "run 'b' cannot start: got an unexpected keyword argument 'learning_rate'",
    ),
    "a plot of what is not a run": (
        lambda: plots.plot_history([0.5, 0.4]),
        TypeError,
        "expected a History \\(what train.fit returns\\) or an experiments.Run, got list",
    ),
    "a data root given with ~": (
        lambda: load_mnist_with_a_file_at("mnist", root="~/mnist"),
        FetchError,
        "^/.*/mnist is a file, where a folder should be \\(the files go in /.*/mnist/MNIST/raw\\)",
    ),
    "a file named MNIST/raw": (
        lambda: load_mnist_with_a_file_at("data/MNIST/raw", root="data"),
        FetchError,
        "^data/MNIST/raw is a file, where a folder should be\\.\n"
        "What you can do: move or rename that file, or give another data root",
    ),
    "a confusion matrix for 12 outputs": (
        lambda: measure.confusion_matrix(nn.Sequential(nn.Flatten(), nn.Linear(784, 12)), loader()),
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
    assert Path(caught.traceback[-1].path).is_relative_to(PACKAGE), "raised outside mnistlib"


def test_a_confusion_matrix_with_a_12th_output_that_wins_is_refused():
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 12))
    with torch.no_grad():
        model[1].bias[11] = 100.0
    with pytest.raises(ValueError, match="got 11"):
        measure.confusion_matrix(model, loader())


def test_quick_mode_gives_the_balanced_subset_the_small_split_holds(monkeypatch):
    monkeypatch.setenv("MNISTLIB_QUICK", "1")
    assert len(data.balanced_subset(tiny_mnist(20), 100)) == 20
