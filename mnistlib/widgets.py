"""The training playground: pick a model, an optimizer, a learning rate, a batch size, the epochs
and whether to normalize; press Train and watch the loss and accuracy curves grow, with earlier runs
kept on the same axes.

`Trainer` holds the logic (a run, stopping between batches, the runs kept) and needs no browser;
`Playground` adds the ipywidgets panel. Training runs in a background thread, so the Stop button is
handled while it trains, and the figure is a PNG in an `Image` widget, which JupyterLab, Jupyter
Notebook and Colab all draw with ipywidgets 7 or 8 and no extension."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from matplotlib.figure import Figure
from torch import nn

from mnistlib import data, experiments, models, train
from mnistlib.style import PROJECTOR

OPTIMIZERS = {"SGD": ("sgd", 0.0), "SGD + momentum 0.9": ("sgd", 0.9), "Adam": ("adam", 0.0)}
MODEL_NAMES = {"softmax": "softmax regression", "mlp": "MLP", "cnn": "small CNN"}


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

    def build(self) -> nn.Module:
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


@dataclass
class Record:
    """What one run measured. Training points are running means over the batches since the
    previous point, at `steps` (epochs elapsed, fractional); validation is measured per epoch."""

    config: Config
    steps: list[float] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    val_epochs: list[int] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_acc: list[float] = field(default_factory=list)
    outcome: str = "running"  # then "finished", "stopped" or "diverged"
    seconds: float = 0.0


class Trainer:
    """Trains playground runs on small subsets held in memory and keeps every run for comparison."""

    def __init__(
        self,
        train_data,
        val_data,
        train_size=5000,
        val_size=1000,
        device=None,
        points_per_epoch: int = 10,
    ):
        self.train_data = _subset(train_data, train_size)
        self.val_data = _subset(val_data, val_size)
        self.device = device
        self.points_per_epoch = points_per_epoch
        self.runs: list[Record] = []

    def train_run(
        self,
        config: Config,
        on_epoch: Callable[[Record], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
        on_update: Callable[[Record], None] | None = None,
    ) -> Record:
        """Train one run; `should_stop()` is asked before every batch, `on_update` gets the record
        a few times per epoch and `on_epoch` after each epoch's validation. The run is kept."""
        record = Record(config)
        self.runs.append(record)
        start = time.perf_counter()
        train.set_seed(config.seed)
        model = config.build().to(self.device)
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
        name, momentum = OPTIMIZERS[config.optimizer]
        optimizer = experiments.make_optimizer(name, model.parameters(), config.lr, momentum)
        loss_fn = nn.CrossEntropyLoss()
        every = max(1, len(loader) // self.points_per_epoch)
        for epoch in range(config.epochs):
            model.train()
            total = correct = 0
            loss_sum = 0.0
            for number, (X, y) in enumerate(loader, start=1):
                if should_stop is not None and should_stop():
                    record.outcome = "stopped"
                    break
                logits = model(X)
                loss = loss_fn(logits, y)
                if not torch.isfinite(loss):
                    record.outcome = "diverged"
                    break
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                total += len(y)
                correct += (logits.argmax(1) == y).sum().item()
                loss_sum += loss.item() * len(y)
                if number % every == 0 or number == len(loader):
                    record.steps.append(epoch + number / len(loader))
                    record.train_loss.append(loss_sum / total)
                    record.train_acc.append(100.0 * correct / total)
                    total = correct = 0
                    loss_sum = 0.0
                    if on_update is not None:
                        on_update(record)
            if record.outcome != "running":
                break
            val_acc, val_loss = train.evaluate(model, val_loader, loss_fn)
            record.val_epochs.append(epoch + 1)
            record.val_acc.append(val_acc)
            record.val_loss.append(val_loss)
            if on_epoch is not None:
                on_epoch(record)
        if record.outcome == "running":
            record.outcome = "finished"
        record.seconds = time.perf_counter() - start
        return record

    def clear(self) -> None:
        """Forget every run."""
        self.runs.clear()


def _subset(dataset, size: int):
    """The first `size` images, balanced over the digits, or all when there are fewer."""
    count = len(data.to_tensors(dataset)[1])
    return data.balanced_subset(dataset, size) if count > size else dataset


def draw(runs: list[Record], title: str = "Playground runs") -> Figure:
    """Loss and accuracy against epochs for every run: training solid, validation dashed."""
    with _style():
        fig = Figure(figsize=(11, 4.4), layout="constrained")
        ax_loss, ax_acc = fig.subplots(1, 2)
        colors = [f"C{i % 10}" for i in range(len(runs))]
        for record, color in zip(runs, colors, strict=True):
            label = record.config.label() + (
                "" if record.outcome in ("running", "finished") else f" ({record.outcome})"
            )
            ax_loss.plot(record.steps, record.train_loss, "-", color=color, label=label)
            ax_acc.plot(record.steps, record.train_acc, "-", color=color)
            ax_loss.plot(record.val_epochs, record.val_loss, "--o", color=color, ms=4)
            ax_acc.plot(record.val_epochs, record.val_acc, "--o", color=color, ms=4)
        ax_loss.set(xlabel="epoch", ylabel="cross-entropy loss (mean per image)", title="Loss")
        ax_acc.set(xlabel="epoch", ylabel="accuracy (%)", title="Accuracy")
        for ax in (ax_loss, ax_acc):
            ax.grid(alpha=0.3)
            ax.set_xlim(left=0)
        if runs:
            fig.legend(loc="outside lower center", ncols=2)
        fig.suptitle(f"{title}: training (solid) and validation (dashed)")
    return fig


def _style():
    import matplotlib

    return matplotlib.rc_context(PROJECTOR)


def png(fig: Figure) -> bytes:
    """The figure as PNG bytes."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


class Playground:
    """The ipywidgets panel over a `Trainer`: controls, Train / Stop / Clear, live curves."""

    def __init__(self, train_data, val_data, train_size=5000, val_size=1000, device=None):
        import ipywidgets as w

        self.trainer = Trainer(train_data, val_data, train_size, val_size, device)
        self.stop = threading.Event()
        self.thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._last_draw = 0.0
        style = {"description_width": "110px"}
        self.controls = {
            "model": w.Dropdown(
                options=[(v, k) for k, v in MODEL_NAMES.items()],
                value="mlp",
                description="model",
                style=style,
            ),
            "width": w.Dropdown(
                options=[16, 32, 64, 128, 256, 512], value=64, description="MLP width", style=style
            ),
            "depth": w.IntSlider(value=1, min=1, max=4, description="MLP depth", style=style),
            "optimizer": w.Dropdown(
                options=list(OPTIMIZERS), value="SGD", description="optimizer", style=style
            ),
            "lr": w.FloatLogSlider(
                value=0.1,
                base=10,
                min=-4,
                max=0.5,
                step=0.25,
                description="learning rate",
                style=style,
            ),
            "batch_size": w.Dropdown(
                options=[16, 32, 64, 128, 256, 512], value=64, description="batch size", style=style
            ),
            "epochs": w.IntSlider(value=3, min=1, max=20, description="epochs", style=style),
            "normalize": w.Checkbox(value=True, description="normalize the pixels"),
        }
        self.buttons = [
            w.Button(description=d, button_style=s)
            for d, s in (("Train", "success"), ("Stop", "danger"), ("Clear", ""))
        ]
        for button, action in zip(
            self.buttons, (self.start, self.stop.set, self.clear), strict=True
        ):
            button.on_click(lambda _, act=action: act())
        self.status = w.HTML(self._status_text())
        self.image = w.Image(format="png", value=png(draw([])))
        left = w.VBox([*self.controls.values(), w.HBox(self.buttons), self.status])
        self.widget = w.VBox([left, self.image])

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
            running = [r for r in self.trainer.runs if r.outcome == "running"]
            self.trainer.runs[:] = running
        self._redraw(force=True)

    def _train(self, config: Config) -> None:
        self.status.value = self._status_text(f"training: {config.label()}")
        try:
            record = self.trainer.train_run(
                config,
                on_epoch=lambda r: self._redraw(force=True),
                should_stop=self.stop.is_set,
                on_update=lambda r: self._redraw(),
            )
            text = f"{record.outcome} in {record.seconds:.1f} s"
            if record.val_acc:
                text += f": validation accuracy {record.val_acc[-1]:.1f}%"
            if record.outcome == "diverged":
                text += " (the loss became inf or nan: lower the learning rate)"
        except Exception as exc:  # shown in the panel: a thread's error would go unseen
            text = f"error: {type(exc).__name__}: {exc}"
        self._redraw(force=True)
        self.status.value = self._status_text(text)

    def _redraw(self, force: bool = False) -> None:
        if not force and time.perf_counter() - self._last_draw < 0.5:
            return
        with self._lock:
            fig = draw(list(self.trainer.runs))
        self.image.value = png(fig)
        self._last_draw = time.perf_counter()

    def _status_text(self, text: str = "press Train") -> str:
        n_train, n_val = (
            len(data.to_tensors(d)[1]) for d in (self.trainer.train_data, self.trainer.val_data)
        )
        sizes = f"{n_train:,} training, {n_val:,} validation images"
        return f"<b>{text}</b><br>{sizes}"


def show(train_data, val_data, **kwargs) -> Playground:
    """Display a playground over `train_data` and `val_data` and return it."""
    from IPython.display import display

    panel = Playground(train_data, val_data, **kwargs)
    display(panel.widget)
    return panel
