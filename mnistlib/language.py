"""The side subject of notebook 06, a character-level language model: its text, the
documentation that CPython ships in `pydoc_data.topics` (no download), with a fixed
train/validation/test split and a character vocabulary; random windows to train on; the model's
settings, training, held-out perplexity and sampling; and the n-gram count models (unigram,
bigram and longer contexts, with add-alpha smoothing) to compare against. The network itself,
`CharLM`, is in `mnistlib.models`."""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch
from torch import nn

from mnistlib import data, train
from mnistlib.models import CharLM

SPLIT = {"train": 0.8, "val": 0.1, "test": 0.1}  # share of each topic's lines, in this order
UNKNOWN = "\ufffd"  # stands for any character the training text does not hold
NGRAM_NAMES = {1: "unigram", 2: "bigram"}  # the orders with names of their own


def load_topics() -> dict[str, str]:
    """{topic: text} of the documentation pages that `help()` shows, from the standard library."""
    try:
        from pydoc_data.topics import topics
    except ImportError as exc:
        raise ImportError(
            "the language model's text is the standard-library module pydoc_data.topics, which "
            f"this Python ({sys.version.split()[0]} at {sys.executable}) does not have ({exc}); "
            "some slim builds leave it out: install your Python's full standard library "
            "or run this with another Python"
        ) from exc
    if not isinstance(topics, dict) or not topics:
        raise ImportError("pydoc_data.topics holds no documentation topics")
    return topics


def text_splits() -> dict[str, str]:
    """The text split by lines, the same way every run: the first 80% of each topic's lines go to
    'train', the next 10% to 'val', the last 10% to 'test' (topics in alphabetical order)."""
    parts = {name: [] for name in SPLIT}
    for _, text in sorted(load_topics().items()):
        lines = text.splitlines(keepends=True)
        start = 0
        for i, (name, share) in enumerate(SPLIT.items()):
            stop = len(lines) if i == len(SPLIT) - 1 else start + round(share * len(lines))
            parts[name] += lines[start:stop]
            start = stop
    return {name: "".join(lines) for name, lines in parts.items()}


class Vocabulary:
    """The characters of a text, numbered 1, 2, ... in sorted order; 0 is `UNKNOWN`, which
    stands for every character the text did not hold."""

    def __init__(self, text: str):
        if not isinstance(text, str) or not text:
            raise ValueError("expected a non-empty string to build the vocabulary from")
        self.chars = [UNKNOWN] + sorted(set(text) - {UNKNOWN})
        self.index = {c: i for i, c in enumerate(self.chars)}

    def __len__(self) -> int:
        return len(self.chars)

    def __repr__(self) -> str:
        return f"Vocabulary({len(self)} characters)"

    def encode(self, text: str) -> torch.Tensor:
        """The characters of `text` as int64 ids (N,); unknown characters become 0."""
        if not isinstance(text, str):
            raise TypeError(f"expected a string, got {type(text).__name__}")
        return torch.tensor([self.index.get(c, 0) for c in text], dtype=torch.long)

    def decode(self, ids) -> str:
        """The text of a sequence of ids (a 1-D tensor or list)."""
        ids = torch.as_tensor(ids)
        if ids.ndim != 1 or ids.is_floating_point():
            raise ValueError(f"expected a 1-D sequence of integer ids, got {ids.dtype} {ids.shape}")
        if len(ids) and not 0 <= int(ids.min()) <= int(ids.max()) < len(self):
            raise ValueError(f"ids must lie in [0, {len(self)}), got {ids.min()}..{ids.max()}")
        return "".join(self.chars[i] for i in ids.tolist())


def _check_ids(ids: torch.Tensor, size: int, what: str = "ids") -> None:
    """Raise unless `ids` is a 1-D integer tensor of at least 2 ids, each in [0, size)."""
    if not isinstance(ids, torch.Tensor) or ids.ndim != 1 or ids.is_floating_point():
        raise ValueError(f"expected {what} as a 1-D integer tensor, got {ids!r:.60}")
    if len(ids) < 2 or int(ids.min()) < 0 or int(ids.max()) >= size:
        raise ValueError(f"expected at least 2 {what} in [0, {size}), got {len(ids)}")


def ngram_log_probs(
    train_ids: torch.Tensor, test_ids: torch.Tensor, size: int, order: int, alpha: float = 1.0
) -> torch.Tensor:
    """log p of each of `test_ids[1:]` (float64) under an `order`-gram count model of `train_ids`:
    p(c | the n−1 characters before) = (count of the n-gram + alpha) / (count of its context +
    alpha·size). Before the first character the context is padded with a start symbol."""
    _check_ids(train_ids, size, "training ids")
    _check_ids(test_ids, size, "test ids")
    if isinstance(order, bool) or not isinstance(order, int) or order < 1:
        raise ValueError(f"order must be a whole number of at least 1 (1 = unigram), got {order!r}")
    if (size + 1) ** order >= 2**63:
        raise ValueError(
            f"order {order} is too long for {size} characters: its keys overflow int64"
        )
    if not alpha > 0:
        raise ValueError(f"alpha must be positive, or unseen characters get probability 0: {alpha}")

    def keys(ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Each position's (context, context + character) as one integer each, base size + 1."""
        padded = torch.cat([ids.new_full((order - 1,), size), ids])
        context = torch.zeros(len(ids), dtype=torch.long)
        for back in range(order - 1, 0, -1):
            context = context * (size + 1) + padded[order - 1 - back : len(padded) - back]
        return context, context * (size + 1) + ids

    def counts_of(table: torch.Tensor, queries: torch.Tensor) -> torch.Tensor:
        """How often each query occurs in `table`."""
        values, counts = table.unique(return_counts=True)
        where = torch.searchsorted(values, queries).clamp(max=len(values) - 1)
        return torch.where(values[where] == queries, counts[where], 0).double()

    train_context, train_gram = keys(train_ids)
    test_context, test_gram = keys(test_ids)
    numerator = counts_of(train_gram, test_gram[1:]) + alpha
    return (numerator / (counts_of(train_context, test_context[1:]) + alpha * size)).log()


def count_perplexities(
    train_ids: torch.Tensor,
    test_ids: torch.Tensor,
    size: int,
    orders: Sequence[int] = (1, 2),
    alpha: float | Mapping[int, float] = 1.0,
) -> dict[str, float]:
    """Perplexity on `test_ids[1:]` of a uniform guess and of an n-gram count model of
    `train_ids` for each n in `orders` (named 'unigram', 'bigram', then '3-gram', ...), the same
    characters a language model predicts; `alpha` is one smoothing for all or {order: alpha}."""
    scores = {"uniform": float(size)}
    for order in orders:
        smoothing = alpha[order] if isinstance(alpha, Mapping) else alpha
        log_probs = ngram_log_probs(train_ids, test_ids, size, order, smoothing)
        scores[NGRAM_NAMES.get(order, f"{order}-gram")] = math.exp(-log_probs.mean().item())
    return scores


def tune_smoothing(
    train_ids: torch.Tensor,
    val_ids: torch.Tensor,
    size: int,
    orders: Sequence[int],
    alphas: Sequence[float],
) -> dict[int, tuple[float, float]]:
    """{order: (alpha, validation perplexity)}: for each order, the alpha among `alphas` whose
    count model has the lowest perplexity on `val_ids`."""
    if not alphas:
        raise ValueError("expected at least one alpha to try, got none")
    best = {}
    for order in orders:
        tried = {
            a: math.exp(-ngram_log_probs(train_ids, val_ids, size, order, a).mean().item())
            for a in alphas
        }
        best[order] = min(tried.items(), key=lambda item: item[1])
    return best


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


class Windows:
    """Batches to train a language model on: `steps` per pass, each of `batch_size` windows of
    `seq_len` ids cut at random places of `ids`, as inputs (B, T) and targets (B·T,), the ids one
    place later, flattened in the order of `CharLM`'s logits. The places come from one generator
    seeded with `seed`, so that every pass draws new windows."""

    def __init__(self, ids: torch.Tensor, batch_size: int, seq_len: int, steps: int, seed: int = 0):
        if len(ids) <= seq_len + 1:
            raise ValueError(f"need more than {seq_len + 1} ids to cut windows, got {len(ids)}")
        self.ids, self.batch_size, self.seq_len, self.steps = ids, batch_size, seq_len, steps
        self.generator = torch.Generator().manual_seed(seed)

    def __len__(self) -> int:
        return self.steps

    def __iter__(self):
        last_start = len(self.ids) - self.seq_len - 1
        for _ in range(self.steps):
            starts = torch.randint(0, last_start, (self.batch_size,), generator=self.generator)
            windows = self.ids[starts[:, None] + torch.arange(self.seq_len + 1)]
            yield windows[:, :-1], windows[:, 1:].flatten()


def fit_lm(
    model: CharLM,
    ids: torch.Tensor,
    config: Settings,
    val_ids: torch.Tensor | None = None,
    evaluations: int = 5,
    seed: int = 0,
    progress: bool = True,
) -> train.History:
    """Train `model` on random windows of `ids` as `config` says, with `train.train_one_epoch`,
    in `evaluations` rounds of equal numbers of steps, each followed by a measure on `val_ids`.

    The History has one entry per round, `val_loss` being the log of the validation perplexity,
    and the loss of every step in `batch_loss`. Prints one summary line at the end.
    """
    _check_ids(ids, model.vocab_size)
    if isinstance(evaluations, bool) or not isinstance(evaluations, int) or evaluations < 1:
        raise ValueError(f"evaluations must be a whole number of at least 1, got {evaluations!r}")
    if config.steps % evaluations:
        raise ValueError(
            f"evaluations={evaluations} does not divide the {config.steps} steps into rounds of "
            "equal length"
        )
    windows = Windows(ids, config.batch_size, config.seq_len, config.steps // evaluations, seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    history, loss_fn = train.History(), nn.CrossEntropyLoss()
    bar = train.progress_bar(range(config.steps), "language model", "step", progress)

    def count(_: train.Step) -> None:
        bar.update()

    for _ in range(evaluations):
        history.lr.append(optimizer.param_groups[0]["lr"])
        start = time.perf_counter()
        acc, loss = train.train_one_epoch(
            model,
            windows,
            loss_fn,
            optimizer,
            history.batch_loss,
            max_norm=config.clip,
            on_batch=count,
        )
        history.seconds.append(time.perf_counter() - start)
        history.train_acc.append(acc)
        history.train_loss.append(loss)
        if val_ids is not None:
            history.val_loss.append(_held_out_loss(model, val_ids))
    bar.close()
    if progress:
        line = f"language model: {config.steps} steps in {sum(history.seconds):.1f} s"
        line += f", training loss {sum(history.batch_loss[-20:]) / 20:.3f} (last 20 steps)"
        if history.val_loss:
            line += f", validation perplexity {math.exp(history.val_loss[-1]):.2f}"
        print(line)
    return history


@torch.no_grad()
def _held_out_loss(model: CharLM, ids: torch.Tensor, streams: int = 16) -> float:
    """Mean cross entropy (nats) of `model` on `ids[1:]`, as `evaluate_perplexity` reads them."""
    _check_ids(ids, model.vocab_size)
    where = train.model_device(model)
    model.eval()
    inputs, targets = ids[:-1], ids[1:]
    length = math.ceil(len(inputs) / streams)
    pad = streams * length - len(inputs)
    inputs = torch.cat([inputs, inputs.new_zeros(pad)]).reshape(streams, length)
    targets = torch.cat([targets, targets.new_full((pad,), -100)]).reshape(streams, length)
    logits, _ = model.read(inputs.to(where))
    loss = nn.functional.cross_entropy(
        logits.reshape(-1, model.vocab_size), targets.flatten().to(where), ignore_index=-100
    )
    return loss.item()


def evaluate_perplexity(model: CharLM, ids: torch.Tensor, streams: int = 16) -> float:
    """Perplexity of `model` on `ids[1:]`, each character predicted from all before it in its
    stream: the text is cut into `streams` consecutive pieces read side by side."""
    return math.exp(_held_out_loss(model, ids, streams))


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
    where = train.model_device(model)
    logits, state = model.read(vocab.encode(prompt)[None].to(where))
    chars = []
    for _ in range(length):
        probs = torch.softmax(logits[0, -1].double().cpu() / temperature, dim=0)
        nxt = torch.multinomial(probs, 1, generator=generator)
        chars.append(vocab.chars[nxt.item()])
        logits, state = model.read(nxt[None].to(where), state)
    return prompt + "".join(chars)


@torch.no_grad()
def continuation_perplexity(
    model: CharLM, vocab: Vocabulary, context: str, continuation: str
) -> float:
    """Perplexity of the characters of `continuation` when they follow `context`."""
    if not context or not continuation:
        raise ValueError("expected a non-empty context and a non-empty continuation")
    model.eval()
    ids = vocab.encode(context + continuation)[None].to(train.model_device(model))
    logits, _ = model.read(ids[:, :-1])
    scored = len(continuation)
    return math.exp(nn.functional.cross_entropy(logits[0, -scored:], ids[0, -scored:]).item())
