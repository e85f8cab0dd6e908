"""Every network the notebooks train, with checks on what it is given.

The digit classifiers take images (N, 1, 28, 28) and return 10 logits per image, (N, 10). The
two-digit networks take canvases (N, 1, height, 28) and return (2N, 10), the top and the bottom
digit of each canvas in turn. `DigitRNN` reads a digit row by row; `CharLM` reads character ids
(B, T) and returns the logits of the next character after each, (B·T, V). The output-size rule of
a convolution or pooling layer sizes the layers that follow it.
"""

from __future__ import annotations

import torch
from torch import nn

CELLS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
ORDERS = ("rows", "columns", "reversed rows")


def check_images(
    X: torch.Tensor, like: torch.Tensor | None = None, size: tuple[int, int] = (28, 28)
) -> None:
    """Raise a ValueError/TypeError that names the expected shape, dtype or device unless `X` is a
    float batch (N, 1, height, width) of images of `size` (height, width), of the dtype and on the
    device of the parameter `like`."""
    height, width = size
    if not isinstance(X, torch.Tensor):
        hint = "; convert with torch.as_tensor(X)" if hasattr(X, "shape") else ""
        raise TypeError(f"expected a torch.Tensor of images, got {type(X).__name__}{hint}")
    if X.ndim != 4 or tuple(X.shape[1:]) != (1, height, width):
        flat = X.ndim == 2 and X.shape[-1] == height * width
        hint = "; did you flatten twice?" if flat else ""
        hint = hint or ("; add the channel axis with X.unsqueeze(1)" if X.ndim == 3 else "")
        raise ValueError(
            f"expected images of shape (N, 1, {height}, {width}), got {tuple(X.shape)}{hint}"
        )
    if not X.is_floating_point():
        raise TypeError(f"expected float images (ToTensor scales to [0, 1]), got {X.dtype}")
    if like is not None and X.dtype != like.dtype:
        raise TypeError(
            f"expected {like.dtype} images like the model's weights, got {X.dtype}; "
            f"convert with X.to({like.dtype}) (torch.from_numpy keeps NumPy's float64)"
        )
    if like is not None and X.device != like.device:
        raise ValueError(
            f"the images are on {X.device} but the model is on {like.device}; "
            f"move them with X.to({str(like.device)!r})"
        )


def output_size(n: int, kernel: int, padding: int = 0, stride: int = 1) -> int:
    """Output side (in pixels) of a convolution or pooling over a side of `n` pixels:
    ⌊(n + 2·padding − kernel) / stride⌋ + 1."""
    for name, value, least in (("n", n, 1), ("kernel", kernel, 1), ("stride", stride, 1)):
        if not isinstance(value, int) or value < least:
            raise ValueError(f"{name} must be an integer >= {least}, got {value!r}")
    if not isinstance(padding, int) or padding < 0:
        raise ValueError(f"padding must be an integer >= 0, got {padding!r}")
    if kernel > n + 2 * padding:
        raise ValueError(
            f"a kernel of {kernel} does not fit in {n} pixels with padding {padding} "
            f"({n + 2 * padding} in all); use a smaller kernel or more padding"
        )
    return (n + 2 * padding - kernel) // stride + 1


class SoftmaxRegression(nn.Module):
    """Multinomial logistic regression: flatten the 784 pixels, one linear layer to 10 logits."""

    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.linear = nn.Linear(28 * 28, 10)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        check_images(X, next(self.parameters()))
        return self.linear(self.flatten(X))


def check_hidden_sizes(hidden: tuple) -> None:
    """Raise unless `hidden` is one or more positive integers, as `MLP(50, 50)` takes them."""
    if len(hidden) == 1 and isinstance(hidden[0], (tuple, list)):
        raise TypeError(
            "expected hidden sizes as separate numbers, MLP(50, 50), got one "
            f"{type(hidden[0]).__name__} {hidden[0]}; unpack it with MLP(*sizes)"
        )
    if not hidden or not all(
        isinstance(h, int) and not isinstance(h, bool) and h >= 1 for h in hidden
    ):
        raise ValueError(
            f"expected one or more hidden layer sizes, whole numbers >= 1, got {hidden}"
        )


def check_activation(activation) -> None:
    """Raise unless `activation` is a module class such as `nn.ReLU` (not an instance)."""
    if isinstance(activation, nn.Module):
        name = type(activation).__name__
        raise TypeError(
            f"expected an activation class such as nn.ReLU, got the instance {name}(); "
            f"pass nn.{name} without the parentheses (the MLP makes one per layer)"
        )
    if not (isinstance(activation, type) and issubclass(activation, nn.Module)):
        raise TypeError(f"expected an activation class such as nn.ReLU, got {activation!r}")


class MLP(nn.Module):
    """A multilayer perceptron: 784 inputs, the hidden layers given, 10 outputs.

    `MLP(50, 50, 50, dropout=(0.2, 0, 0))` is 784 → 50 → 50 → 50 → 10 with ReLU after each hidden
    layer and Dropout(0.2) after the first. `dropout` is one probability for every hidden layer or
    one per hidden layer. `batch_norm` puts `BatchNorm1d` "before" or "after" each activation.
    """

    def __init__(
        self,
        *hidden: int,
        activation: type[nn.Module] = nn.ReLU,
        dropout: float | tuple[float, ...] = 0.0,
        batch_norm: str | None = None,
    ):
        super().__init__()
        check_hidden_sizes(hidden)
        check_activation(activation)
        if batch_norm not in (None, "before", "after"):
            raise ValueError(f"batch_norm must be None, 'before' or 'after', got {batch_norm!r}")
        rates = (dropout,) * len(hidden) if isinstance(dropout, (int, float)) else tuple(dropout)
        if len(rates) != len(hidden):
            raise ValueError(f"got {len(rates)} dropout rates for {len(hidden)} hidden layers")
        if not all(0 <= rate < 1 for rate in rates):
            raise ValueError(f"dropout rates are probabilities in [0, 1), got {dropout}")
        layers: list[nn.Module] = [nn.Flatten()]
        for n_in, n_out, rate in zip((28 * 28, *hidden), hidden, rates, strict=False):
            layers.append(nn.Linear(n_in, n_out))
            if batch_norm == "before":
                layers.append(nn.BatchNorm1d(n_out))
            layers.append(activation())
            if batch_norm == "after":
                layers.append(nn.BatchNorm1d(n_out))
            if rate > 0:
                layers.append(nn.Dropout(rate))
        layers.append(nn.Linear(hidden[-1], 10))
        self.layers = nn.Sequential(*layers)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        check_images(X, next(self.parameters()))
        return self.layers(X)


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters (weights and biases) in `model`."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


class SmallCNN(nn.Module):
    """A small convolutional network: blocks of 3×3 convolution, ReLU and 2×2 max pooling, then
    one linear layer to 10 logits.

    `SmallCNN((8, 16))` is conv 1→8 (28×28), pool to 14×14, conv 8→16, pool to 7×7, and a linear
    layer from the 16 × 7 × 7 = 784 features. `batch_norm=True` puts `BatchNorm2d` between each
    convolution and its ReLU.
    """

    def __init__(self, channels: tuple[int, ...] = (8, 16), batch_norm: bool = False):
        super().__init__()
        if (
            isinstance(channels, int)
            or not 1 <= len(channels) <= 4
            or not all(isinstance(c, int) and c >= 1 for c in channels)
        ):
            raise ValueError(f"expected 1 to 4 channel counts >= 1, got {channels}")
        layers: list[nn.Module] = []
        for c_in, c_out in zip((1, *channels), channels, strict=False):
            layers.append(nn.Conv2d(c_in, c_out, kernel_size=3, padding=1))
            if batch_norm:
                layers.append(nn.BatchNorm2d(c_out))
            layers += [nn.ReLU(), nn.MaxPool2d(2)]
        side = 28 // 2 ** len(channels)
        layers += [nn.Flatten(), nn.Linear(channels[-1] * side * side, 10)]
        self.layers = nn.Sequential(*layers)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        check_images(X, next(self.parameters()))
        return self.layers(X)


def check_dropout(dropout) -> None:
    """Raise unless `dropout` is a probability from 0 to below 1."""
    if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0 <= dropout < 1:
        raise ValueError(f"dropout is a probability from 0 to below 1, got {dropout!r}")


def conv_block(c_in: int, c_out: int, batch_norm: bool, padding: int = 0) -> list[nn.Module]:
    """3×3 convolution, optional `BatchNorm2d`, ReLU and 2×2 max pooling, as a list of layers."""
    norm = [nn.BatchNorm2d(c_out)] if batch_norm else []
    return [nn.Conv2d(c_in, c_out, 3, padding=padding), *norm, nn.ReLU(), nn.MaxPool2d(2)]


class ConvNet(nn.Module):
    """Two convolution blocks without padding (28 → 26 → 13 → 11 → 5), a hidden linear layer of
    `hidden` units with `dropout` (0.5), and 10 outputs: 225,034 parameters with the defaults.

    `hidden_relu=False` drops the ReLU after the hidden layer, which makes it linear;
    `batch_norm=True` puts `BatchNorm2d` between each convolution and its ReLU.
    """

    def __init__(
        self,
        channels: tuple[int, int] = (32, 64),
        hidden: int = 128,
        hidden_relu: bool = True,
        batch_norm: bool = False,
        dropout: float = 0.5,
    ):
        super().__init__()
        if len(channels) != 2 or min(channels) < 1 or hidden < 1:
            raise ValueError(
                f"expected two channel counts >= 1 and hidden >= 1, got {channels} and {hidden}"
            )
        check_dropout(dropout)
        c1, c2 = channels
        self.layers = nn.Sequential(
            *conv_block(1, c1, batch_norm),  # 28 → 26 → 13; 32·9 + 32 = 320
            *conv_block(c1, c2, batch_norm),  # 13 → 11 → 5; 64·(32·9) + 64 = 18,496
            nn.Flatten(),
            nn.Linear(c2 * 5 * 5, hidden),  # 1,600·128 + 128 = 204,928
            *([nn.ReLU()] if hidden_relu else []),
            nn.Dropout(dropout),
            nn.Linear(hidden, 10),  # 128·10 + 10 = 1,290
        )

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        check_images(X, next(self.parameters()))
        return self.layers(X)


class TwoDigitMLP(nn.Module):
    """For canvases of two digits (N, 1, height, 28): flatten, one hidden layer of `hidden` units,
    20 outputs, returned as (2N, 10): rows 2i and 2i + 1 are the logits of the top and the bottom
    digit of canvas i. With `activation=None` nothing separates the two linear layers, so the
    whole model is one linear map: a linear classifier with a rank-`hidden` weight."""

    def __init__(
        self, hidden: int = 64, activation: type[nn.Module] | None = None, height: int = 42
    ):
        super().__init__()
        self.height = height
        between = [activation()] if activation is not None else []
        self.layers = nn.Sequential(
            nn.Flatten(),
            nn.Linear(height * 28, hidden),  # 1,176·64 + 64 = 75,328 for 42 × 28
            *between,
            nn.Linear(hidden, 20),  # 64·20 + 20 = 1,300
        )

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        check_images(X, next(self.parameters()), (self.height, 28))
        return self.layers(X).view(-1, 10)


class TwoDigitCNN(nn.Module):
    """For canvases of two digits (N, 1, height, 28): blocks of 3×3 convolution with padding 1
    (which keeps the size), ReLU and 2×2 max pooling (42 × 28 → 21 × 14 → 10 × 7 → 5 × 3 with
    three blocks), a hidden layer of `hidden` units with ReLU and `dropout` (0.5), and 20 outputs
    returned as (2N, 10), top and bottom digit of each canvas in turn. The size of the hidden
    layer's input follows from the output-size rule. `batch_norm=True` puts `BatchNorm2d`
    between each convolution and its ReLU."""

    def __init__(
        self,
        channels: tuple[int, ...] = (16, 32, 64),
        hidden: int = 256,
        batch_norm: bool = False,
        height: int = 42,
        dropout: float = 0.5,
    ):
        super().__init__()
        if not channels or min(channels) < 1 or hidden < 1:
            raise ValueError(
                f"expected channel counts >= 1 and hidden >= 1, got {channels} and {hidden}"
            )
        check_dropout(dropout)
        self.height = height
        layers, rows, cols = [], height, 28
        for c_in, c_out in zip((1, *channels), channels, strict=False):
            layers += conv_block(c_in, c_out, batch_norm, padding=1)
            rows = output_size(output_size(rows, 3, padding=1), 2, stride=2)
            cols = output_size(output_size(cols, 3, padding=1), 2, stride=2)
        self.layers = nn.Sequential(
            *layers,  # 16·9 + 16 = 160; 32·(16·9) + 32 = 4,640; 64·(32·9) + 64 = 18,496
            nn.Flatten(),
            nn.Linear(channels[-1] * rows * cols, hidden),  # 64·5·3 = 960 → 256: 246,016
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, 20),  # 256·20 + 20 = 5,140
        )

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        check_images(X, next(self.parameters()), (self.height, 28))
        return self.layers(X).view(-1, 10)


def as_sequence(X: torch.Tensor, order: str = "rows") -> torch.Tensor:
    """Images (N, 1, 28, 28) as sequences (N, 28, 28): time step t holds row t (or column t, or
    row 27 - t for 'reversed rows') of every image, 28 pixels each."""
    check_images(X)
    if order not in ORDERS:
        raise ValueError(f"order must be one of {ORDERS}, got {order!r}")
    seq = X[:, 0]
    if order == "columns":
        return seq.transpose(1, 2)
    if order == "reversed rows":
        return seq.flip(1)
    return seq


def _check_steps(steps: int) -> int:
    """`steps`, or a ValueError unless it is a whole number of time steps from 1 to 28."""
    if isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= 28:
        raise ValueError(f"steps must be a whole number from 1 to 28, got {steps!r}")
    return steps


class DigitRNN(nn.Module):
    """A recurrent classifier: it reads the 28 rows of a digit as 28 time steps of 28 pixels and
    maps the last hidden state to 10 logits.

    `kind` is 'rnn' (tanh), 'lstm' or 'gru'; `hidden` the size of the hidden state; `order` which
    way the image is read ('rows', 'columns' or 'reversed rows'); `steps` how many of the 28 time
    steps it reads, the first ones (a network that never sees the bottom rows of a digit).
    """

    def __init__(self, kind: str = "rnn", hidden: int = 128, order: str = "rows", steps: int = 28):
        super().__init__()
        if kind not in CELLS:
            raise ValueError(f"kind must be one of {sorted(CELLS)}, got {kind!r}")
        if isinstance(hidden, bool) or not isinstance(hidden, int) or hidden < 1:
            raise ValueError(f"hidden must be a whole number of at least 1, got {hidden!r}")
        if order not in ORDERS:
            raise ValueError(f"order must be one of {ORDERS}, got {order!r}")
        _check_steps(steps)
        self.kind, self.order, self.steps = kind, order, steps
        self.rnn = CELLS[kind](28, hidden, batch_first=True)
        self.head = nn.Linear(hidden, 10)

    def forward(self, X: torch.Tensor, steps: int | None = None) -> torch.Tensor:
        """Logits (N, 10) after reading the model's first `self.steps` time steps (all 28 unless
        it was built with fewer), or the first `steps` when given."""
        check_images(X, self.head.weight)
        steps = self.steps if steps is None else _check_steps(steps)
        outputs, _ = self.rnn(as_sequence(X, self.order)[:, :steps])
        return self.head(outputs[:, -1])

    def unrolled(self, X: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Logits (N, 10) and the hidden state after each time step, computed one step at a time
        so that each state is a node of the graph that autograd can differentiate against."""
        check_images(X, self.head.weight)
        seq = as_sequence(X, self.order)
        state, hidden = None, []
        for t in range(self.steps):
            _, state = self.rnn(seq[:, t : t + 1], state)
            hidden.append(state[0] if self.kind == "lstm" else state)
        return self.head(hidden[-1][0]), hidden


class CharLM(nn.Module):
    """A character-level language model: embedding → LSTM or GRU → linear, from character ids
    (B, T) to the logits of the next character after each one.

    `forward` gives one row of logits per id, (B·T, V), row b·T + t for window b and step t, the
    order in which the targets of a batch are flattened, so that it trains like a classifier;
    `read` gives them per window, (B, T, V), with the recurrent state to read on from.
    """

    def __init__(self, vocab_size: int, kind: str = "gru", hidden: int = 128, embedding: int = 32):
        super().__init__()
        cells = {"lstm": nn.LSTM, "gru": nn.GRU}
        if kind not in cells:
            raise ValueError(f"kind must be 'lstm' or 'gru', got {kind!r}")
        if not isinstance(vocab_size, int) or vocab_size < 2:
            raise ValueError(f"vocab_size must be a whole number >= 2, got {vocab_size!r}")
        self.vocab_size = vocab_size
        self.embed = nn.Embedding(vocab_size, embedding)
        self.rnn = cells[kind](embedding, hidden, batch_first=True)
        self.head = nn.Linear(hidden, vocab_size)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        """Logits (B·T, V) of the character after each of the ids (B, T)."""
        logits, _ = self.read(ids)
        return logits.flatten(0, 1)

    def read(self, ids: torch.Tensor, state=None) -> tuple[torch.Tensor, torch.Tensor | tuple]:
        """Logits (B, T, V) and the recurrent state after the last character, from `state`."""
        if not isinstance(ids, torch.Tensor) or ids.ndim != 2 or ids.is_floating_point():
            shape = tuple(ids.shape) if hasattr(ids, "shape") else type(ids).__name__
            hint = "; add the batch axis with ids.unsqueeze(0)" if shape and len(shape) == 1 else ""
            raise ValueError(f"expected integer ids of shape (B, T), got {shape}{hint}")
        if ids.numel() and not 0 <= int(ids.min()) <= int(ids.max()) < self.vocab_size:
            raise ValueError(
                f"ids must lie in [0, {self.vocab_size}), got {ids.min()}..{ids.max()}"
            )
        outputs, state = self.rnn(self.embed(ids), state)
        return self.head(outputs), state
