"""Text for a character-level language model, and the measures to judge one: the documentation
that CPython ships in `pydoc_data.topics` (no download), a fixed train/validation/test split, a
character vocabulary, perplexity, and the unigram and bigram count models to compare against."""

from __future__ import annotations

import math
import sys

import torch
from torch import nn

SPLIT = {"train": 0.8, "val": 0.1, "test": 0.1}  # share of each topic's lines, in this order
UNKNOWN = "\ufffd"  # stands for any character the training text does not hold


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


def perplexity(logits: torch.Tensor, targets: torch.Tensor) -> float:
    """exp of the mean cross entropy (in nats) of `logits` (..., V) for `targets` (...)."""
    if logits.ndim < 2 or logits.shape[:-1] != targets.shape:
        raise ValueError(
            "expected logits of shape (..., V) and targets of the shape before V, got "
            f"{tuple(logits.shape)} and {tuple(targets.shape)}"
        )
    loss = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.flatten())
    return math.exp(loss.item())


def perplexity_of_probabilities(p: torch.Tensor) -> float:
    """exp(-mean log p): the perplexity of a model that gave each observed symbol probability p."""
    p = torch.as_tensor(p, dtype=torch.float64)
    if p.numel() == 0 or (p < 0).any() or (p > 1).any():
        raise ValueError("expected one or more probabilities in [0, 1]")
    return math.exp(-p.log().mean().item())


def _check_ids(ids: torch.Tensor, size: int, what: str = "ids") -> None:
    """Raise unless `ids` is a 1-D integer tensor of at least 2 ids, each in [0, size)."""
    if not isinstance(ids, torch.Tensor) or ids.ndim != 1 or ids.is_floating_point():
        raise ValueError(f"expected {what} as a 1-D integer tensor, got {ids!r:.60}")
    if len(ids) < 2 or int(ids.min()) < 0 or int(ids.max()) >= size:
        raise ValueError(f"expected at least 2 {what} in [0, {size}), got {len(ids)}")


def unigram_log_probs(ids: torch.Tensor, size: int, alpha: float = 1.0) -> torch.Tensor:
    """log p(c) (size,) from character counts in `ids`, each count plus `alpha` (add-one)."""
    _check_ids(ids, size)
    counts = torch.bincount(ids, minlength=size).double() + alpha
    return (counts / counts.sum()).log()


def bigram_log_probs(ids: torch.Tensor, size: int, alpha: float = 1.0) -> torch.Tensor:
    """log p(next | previous) (size, size), row = previous character, from pair counts in
    `ids`, each count plus `alpha` (add-one smoothing: no pair gets probability 0)."""
    _check_ids(ids, size)
    pairs = torch.bincount(ids[:-1] * size + ids[1:], minlength=size * size)
    counts = pairs.reshape(size, size).double() + alpha
    return (counts / counts.sum(dim=1, keepdim=True)).log()


def count_perplexities(
    train_ids: torch.Tensor, test_ids: torch.Tensor, size: int, alpha: float = 1.0
) -> dict[str, float]:
    """Perplexity on `test_ids[1:]` of a uniform guess, a unigram and a bigram count model
    fitted to `train_ids` (the same characters a language model predicts from what precedes)."""
    _check_ids(test_ids, size, "test ids")
    uni = unigram_log_probs(train_ids, size, alpha)
    bi = bigram_log_probs(train_ids, size, alpha)
    return {
        "uniform": float(size),
        "unigram": math.exp(-uni[test_ids[1:]].mean().item()),
        "bigram": math.exp(-bi[test_ids[:-1], test_ids[1:]].mean().item()),
    }
