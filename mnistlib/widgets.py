"""Every interactive panel of the series, in ipywidgets (live in Jupyter and Colab): the digit
browser of notebook 01, and the training playground of notebooks 04 and 07.

In the playground you pick a model, an optimizer, a learning rate, a batch size, the epochs and
whether to normalize; press Train and watch the loss and accuracy curves grow, epoch by epoch,
with earlier runs kept on the same axes. `Trainer` holds the logic (a run through `train.fit`,
stopping between batches, the runs kept) and needs no browser; `Playground` adds the panel.
Training runs in a background thread, so the Stop button is handled while it trains, and the
figure is a PNG in an `Image` widget, drawn outside pyplot, which JupyterLab, Jupyter Notebook
and Colab all show with ipywidgets 7 or 8 and no extension."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import ipywidgets as widgets
import matplotlib.pyplot as plt
import torch
from matplotlib.figure import Figure
from torch import nn

from mnistlib import data, experiments, models, plots, train

OPTIMIZER_CHOICES = {
    "SGD": ("sgd", 0.0),
    "SGD + momentum 0.9": ("sgd", 0.9),
    "Adam": ("adam", 0.0),
}  # the playground's menu: {shown name: (experiments.OPTIMIZERS name, momentum)}
MODEL_NAMES = {"softmax": "softmax regression", "mlp": "MLP", "cnn": "small CNN"}


def digit_browser(images: torch.Tensor, labels: torch.Tensor) -> widgets.interactive:
    """A slider over `images` (N, 28, 28) showing each digit, its label and its pixel values."""
    if images.ndim != 3 or tuple(images.shape[1:]) != (28, 28) or len(images) != len(labels):
        raise ValueError(
            f"expected images of shape (N, 28, 28) and N labels, "
            f"got {tuple(images.shape)} and {len(labels)} labels"
        )

    def show(index: int) -> None:
        image = images[index].cpu().numpy()
        fig, (ax_img, ax_hist) = plt.subplots(1, 2, figsize=(9, 3.5))
        ax_img.imshow(image, cmap="gray_r")
        ax_img.set(
            title=f"image {index}: label {int(labels[index])}",
            xlabel="column (pixel)",
            ylabel="row (pixel)",
        )
        ax_hist.hist(image.ravel(), bins=32, color="tab:blue")
        ax_hist.set(
            title="its pixel values", xlabel="pixel value", ylabel="number of pixels", yscale="log"
        )
        fig.tight_layout()
        plt.show()

    slider = widgets.IntSlider(value=0, min=0, max=len(images) - 1, description="image")
    return widgets.interactive(show, index=slider)


@dataclass
class Config:
    """One run of the playground: the model and how it is trained."""

    model: str = "mlp"
    width: int = 64
    depth: int = 1
    optimizer: str = "SGD"
    lr: float = 0.1
    batch_size: int = 64
    epochs: int = 3
    normalize: bool = True
    seed: int = 0

    def make_model(self) -> nn.Module:
        """A fresh network for this config."""
        if self.model == "softmax":
            return models.SoftmaxRegression()
        if self.model == "mlp":
            return models.MLP(*[self.width] * self.depth)
        if self.model == "cnn":
            return models.SmallCNN()
        raise ValueError(f"model must be one of {sorted(MODEL_NAMES)}, got {self.model!r}")

    def label(self) -> str:
        """A short name for the legend, e.g. 'MLP 64×2, Adam lr 0.001, batch 64'."""
        name = MODEL_NAMES[self.model]
        if self.model == "mlp":
            name += f" {self.width}×{self.depth}"
        raw = "" if self.normalize else ", raw pixels"
        return f"{name}, {self.optimizer} lr {self.lr:.2g}, batch {self.batch_size}{raw}"


class Trainer:
    """Trains playground runs on small subsets held in memory and keeps every run for comparison,
    as {label: experiments.Run}; a label seen before gets a number, 'label (2)'."""

    def __init__(self, train_data, val_data, train_size=5000, val_size=1000, device=None):
        self.train_data = _subset(train_data, train_size)
        self.val_data = _subset(val_data, val_size)
        self.device = device
        self.runs: dict[str, experiments.Run] = {}
        self.training: str | None = None  # the label of the run in progress

    def train_run(
        self,
        config: Config,
        on_epoch: Callable[[experiments.Run], None] | None = None,
        on_batch: Callable[[train.Step], bool | None] | None = None,
    ) -> experiments.Run:
        """Train one run with `train.fit`, an epoch at a time, and keep it from its start, so that
        a figure can show it as it grows: `on_batch` is fit's hook (False stops the run),
        `on_epoch` gets the run after each epoch's validation. A run whose loss becomes NaN or inf
        ends with status 'diverged' instead of raising."""
        start = time.perf_counter()
        train.set_seed(config.seed)
        model = config.make_model().to(self.device)
        loader = data.InMemoryLoader(
            self.train_data,
            config.batch_size,
            shuffle=True,
            normalize=config.normalize,
            device=self.device,
        )
        val_loader = data.InMemoryLoader(
            self.val_data, 1000, normalize=config.normalize, device=self.device
        )
        name, momentum = OPTIMIZER_CHOICES[config.optimizer]
        optimizer = experiments.make_optimizer(name, model.parameters(), config.lr, momentum)
        run = experiments.Run(model, train.History(), 0.0)
        label, copies = config.label(), 1
        while label in self.runs:
            copies += 1
            label = f"{config.label()} ({copies})"
        self.runs[label], self.training = run, label
        try:
            for _ in range(config.epochs):
                try:
                    epoch = train.fit(
                        model, loader, val_loader, 1, optimizer, progress=False, on_batch=on_batch
                    )
                except train.Diverged as exc:
                    epoch = exc.history
                run.history.extend(epoch)
                if run.history.status != "finished":
                    break
                if on_epoch is not None:
                    on_epoch(run)
        finally:
            self.training = None
            run.seconds = time.perf_counter() - start
        return run

    def clear(self) -> None:
        """Forget every run but the one in progress."""
        for label in [label for label in self.runs if label != self.training]:
            del self.runs[label]


def _subset(dataset, size: int):
    """The first `size` images, balanced over the digits, or all when there are fewer."""
    count = len(data.to_tensors(dataset)[1])
    return data.balanced_subset(dataset, size) if count > size else dataset


def draw(runs: Mapping[str, experiments.Run]) -> Figure:
    """Loss and accuracy against epochs for every run (`plots.plot_history`), on a Figure of its
    own outside pyplot; a run that did not finish says how it ended."""
    fig = Figure(figsize=(11, 4.2))
    if not runs:  # the axes the curves will fill, so the panel never shows a blank picture
        ax_loss, ax_acc = fig.subplots(1, 2)
        ax_loss.set(xlabel="epoch", ylabel="loss", title="Loss")
        ax_acc.set(xlabel="epoch", ylabel="accuracy (%)", title="Accuracy")
        fig.suptitle("No runs yet: choose the settings and press Train")
        return fig
    named = {
        label + ("" if r.history.status == "finished" else f" ({r.history.status})"): r
        for label, r in runs.items()
    }
    title = "Playground runs: training (solid) and validation (dashed)"
    return plots.plot_history(named, figure=fig, title=title)


def png(fig: Figure) -> bytes:
    """The figure as PNG bytes."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


class Playground:
    """The ipywidgets panel over a `Trainer`: controls, Train / Stop / Clear, live curves."""

    def __init__(self, train_data, val_data, train_size=5000, val_size=1000, device=None):
        self.trainer = Trainer(train_data, val_data, train_size, val_size, device)
        self.stop = threading.Event()
        self.thread: threading.Thread | None = None
        self._lock = threading.Lock()
        style = {"description_width": "110px"}
        self.controls = {
            "model": widgets.Dropdown(
                options=[(v, k) for k, v in MODEL_NAMES.items()],
                value="mlp",
                description="model",
                style=style,
            ),
            "width": widgets.Dropdown(
                options=[16, 32, 64, 128, 256, 512], value=64, description="MLP width", style=style
            ),
            "depth": widgets.IntSlider(value=1, min=1, max=4, description="MLP depth", style=style),
            "optimizer": widgets.Dropdown(
                options=list(OPTIMIZER_CHOICES), value="SGD", description="optimizer", style=style
            ),
            "lr": widgets.FloatLogSlider(
                value=0.1,
                base=10,
                min=-4,
                max=0.5,
                step=0.25,
                description="learning rate",
                style=style,
            ),
            "batch_size": widgets.Dropdown(
                options=[16, 32, 64, 128, 256, 512], value=64, description="batch size", style=style
            ),
            "epochs": widgets.IntSlider(value=3, min=1, max=20, description="epochs", style=style),
            "normalize": widgets.Checkbox(value=True, description="normalize the pixels"),
        }
        self.buttons = [
            widgets.Button(description=d, button_style=s)
            for d, s in (("Train", "success"), ("Stop", "danger"), ("Clear", ""))
        ]
        for button, action in zip(
            self.buttons, (self.start, self.stop.set, self.clear), strict=True
        ):
            button.on_click(lambda _, act=action: act())
        self.status = widgets.HTML(self._status_text())
        self.image = widgets.Image(format="png", value=png(draw({})))
        left = widgets.VBox([*self.controls.values(), widgets.HBox(self.buttons), self.status])
        self.widget = widgets.VBox([left, self.image])

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)

    def config(self) -> Config:
        """The settings the controls show now."""
        return Config(**{name: c.value for name, c in self.controls.items()})

    def start(self) -> None:
        """Train the current settings in a background thread (ignored while a run is going)."""
        if self.thread is not None and self.thread.is_alive():
            return
        self.stop.clear()
        self.thread = threading.Thread(target=self._train, args=(self.config(),), daemon=True)
        self.thread.start()

    def clear(self) -> None:
        """Forget earlier runs (not the one training now)."""
        with self._lock:
            self.trainer.clear()
        self._redraw()

    def _train(self, config: Config) -> None:
        self.status.value = self._status_text(f"training: {config.label()}")
        try:
            run = self.trainer.train_run(
                config,
                on_epoch=lambda _: self._redraw(),
                on_batch=lambda _: not self.stop.is_set(),
            )
            text = f"{run.history.status} in {run.seconds:.1f} s"
            if run.history.val_acc:
                text += f": validation accuracy {run.history.val_acc[-1]:.1f}%"
            if run.history.status == "diverged":
                text += " (the loss became inf or nan: lower the learning rate)"
        except Exception as exc:  # shown in the panel: a thread's error would go unseen
            text = f"error: {type(exc).__name__}: {exc}"
        self._redraw()
        self.status.value = self._status_text(text)

    def _redraw(self) -> None:
        with self._lock:
            fig = draw(dict(self.trainer.runs))
        self.image.value = png(fig)

    def _status_text(self, text: str = "press Train") -> str:
        n_train, n_val = (
            len(data.to_tensors(d)[1]) for d in (self.trainer.train_data, self.trainer.val_data)
        )
        sizes = f"{n_train:,} training, {n_val:,} validation images"
        return f"<b>{text}</b><br>{sizes}"
