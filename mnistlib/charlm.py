"""A character-level language model: an LSTM or GRU that reads text one character at a time and
gives the probability of the next; its training, its held-out perplexity, and text sampled from it.
The text, the vocabulary and the count baselines are in `mnistlib.language`."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import torch
from torch import nn

from mnistlib import data
from mnistlib.language import Vocabulary, _check_ids
from mnistlib.train import model_device, progress_bar


@dataclass(frozen=True)
class Settings:
    """The size of the model and of its training: `steps` updates on `batch_size` windows of
    `seq_len` characters each, Adam at `lr`, gradients clipped to norm `clip`."""

    kind: str = "gru"
    hidden: int = 128
    embedding: int = 32
    seq_len: int = 64
    batch_size: int = 32
    steps: int = 300
    lr: float = 5e-3
    clip: float = 1.0


QUICK = Settings(hidden=32, embedding=16, seq_len=32, batch_size=16, steps=30)


def settings(quick: bool | None = None) -> Settings:
    """The settings of the notebook's model: `Settings()`, or the small `QUICK` in quick mode."""
    return QUICK if (data.is_quick() if quick is None else quick) else Settings()


class CharLM(nn.Module):
    """Embedding → LSTM or GRU → linear: ids (B, T) to logits (B, T, V) for the next character."""

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

    def forward(self, ids: torch.Tensor, state=None):
        """Logits (B, T, V) and the recurrent state after the last character."""
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


def random_windows(ids: torch.Tensor, batch_size: int, seq_len: int, generator) -> tuple:
    """Inputs and targets (batch_size, seq_len): windows at random places, targets one later."""
    starts = torch.randint(0, len(ids) - seq_len - 1, (batch_size,), generator=generator)
    index = starts[:, None] + torch.arange(seq_len + 1)
    windows = ids[index]
    return windows[:, :-1], windows[:, 1:]


@dataclass
class LMHistory:
    """Training loss per step, validation perplexity at some steps, and seconds in all."""

    train_loss: list[float] = field(default_factory=list)
    val_steps: list[int] = field(default_factory=list)
    val_perplexity: list[float] = field(default_factory=list)
    seconds: float = 0.0


def fit_lm(
    model: CharLM,
    ids: torch.Tensor,
    config: Settings,
    val_ids: torch.Tensor | None = None,
    evaluations: int = 5,
    seed: int = 0,
    progress: bool = True,
) -> LMHistory:
    """Train `model` on random windows of `ids` as `config` says; measure the perplexity on
    `val_ids` `evaluations` times along the way. Prints one summary line at the end."""
    _check_ids(ids, model.vocab_size)
    if len(ids) <= config.seq_len + 1:
        raise ValueError(f"need more than {config.seq_len + 1} ids to cut windows, got {len(ids)}")
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    where, history = model_device(model), LMHistory()
    check_at = {round(config.steps * (i + 1) / evaluations) for i in range(evaluations)}
    start = time.perf_counter()
    for step in progress_bar(range(1, config.steps + 1), "language model", "step", progress):
        model.train()
        X, y = (
            t.to(where) for t in random_windows(ids, config.batch_size, config.seq_len, generator)
        )
        logits, _ = model(X)
        loss = nn.functional.cross_entropy(logits.reshape(-1, model.vocab_size), y.flatten())
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), config.clip)
        optimizer.step()
        history.train_loss.append(loss.item())
        if val_ids is not None and step in check_at:
            history.val_steps.append(step)
            history.val_perplexity.append(evaluate_perplexity(model, val_ids))
    history.seconds = time.perf_counter() - start
    if progress:
        line = f"language model: {config.steps} steps in {history.seconds:.1f} s"
        line += f", training loss {sum(history.train_loss[-20:]) / 20:.3f} (last 20 steps)"
        if history.val_perplexity:
            line += f", validation perplexity {history.val_perplexity[-1]:.2f}"
        print(line)
    return history


@torch.no_grad()
def evaluate_perplexity(model: CharLM, ids: torch.Tensor, streams: int = 16) -> float:
    """Perplexity of `model` on `ids[1:]`, each character predicted from all before it in its
    stream: the text is cut into `streams` consecutive pieces read side by side."""
    _check_ids(ids, model.vocab_size)
    where = model_device(model)
    model.eval()
    inputs, targets = ids[:-1], ids[1:]
    length = math.ceil(len(inputs) / streams)
    pad = streams * length - len(inputs)
    inputs = torch.cat([inputs, inputs.new_zeros(pad)]).reshape(streams, length)
    targets = torch.cat([targets, targets.new_full((pad,), -100)]).reshape(streams, length)
    logits, _ = model(inputs.to(where))
    loss = nn.functional.cross_entropy(
        logits.reshape(-1, model.vocab_size), targets.flatten().to(where), ignore_index=-100
    )
    return math.exp(loss.item())


@torch.no_grad()
def sample(
    model: CharLM,
    vocab: Vocabulary,
    prompt: str,
    length: int = 200,
    temperature: float = 1.0,
    seed: int = 0,
) -> str:
    """`prompt` followed by `length` characters drawn one at a time from the model's softmax of
    logits / `temperature` (below 1: safer, more repetitive; above 1: more surprising)."""
    if temperature <= 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    if not prompt:
        raise ValueError("expected a prompt of at least one character to start from")
    generator = torch.Generator().manual_seed(seed)
    model.eval()
    where = model_device(model)
    logits, state = model(vocab.encode(prompt)[None].to(where))
    chars = []
    for _ in range(length):
        probs = torch.softmax(logits[0, -1].double().cpu() / temperature, dim=0)
        nxt = torch.multinomial(probs, 1, generator=generator)
        chars.append(vocab.chars[nxt.item()])
        logits, state = model(nxt[None].to(where), state)
    return prompt + "".join(chars)


@torch.no_grad()
def continuation_perplexity(
    model: CharLM, vocab: Vocabulary, context: str, continuation: str
) -> float:
    """Perplexity of the characters of `continuation` when they follow `context`."""
    if not context or not continuation:
        raise ValueError("expected a non-empty context and a non-empty continuation")
    model.eval()
    ids = vocab.encode(context + continuation)[None].to(model_device(model))
    logits, _ = model(ids[:, :-1])
    scored = len(continuation)
    return math.exp(nn.functional.cross_entropy(logits[0, -scored:], ids[0, -scored:]).item())
