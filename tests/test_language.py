"""language: the pydoc text and its fixed split, the vocabulary round trip, perplexity on cases
worked out by hand, and the unigram and bigram count models."""

import builtins
import math

import pytest
import torch

from mnistlib import language


def test_splits_are_fixed_and_cover_the_text():
    first, second = language.text_splits(), language.text_splits()
    assert first == second
    assert list(first) == ["train", "val", "test"]
    total = sum(len(t) for t in language.load_topics().values())
    assert sum(len(t) for t in first.values()) == total
    assert 0.75 < len(first["train"]) / total < 0.85


def test_missing_pydoc_data_names_what_is_missing(monkeypatch):
    real_import = builtins.__import__

    def no_pydoc_data(name, *args, **kwargs):
        if name.startswith("pydoc_data"):
            raise ModuleNotFoundError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pydoc_data)
    with pytest.raises(ImportError, match="pydoc_data.topics"):
        language.load_topics()


def test_vocabulary_round_trip():
    vocab = language.Vocabulary("hello, world\n")
    assert len(vocab) == len(set("hello, world\n")) + 1
    text = "low, held\nword"
    ids = vocab.encode(text)
    assert ids.dtype == torch.long and ids.shape == (len(text),)
    assert vocab.decode(ids) == text
    assert vocab.decode(vocab.encode("hex")) == "he" + language.UNKNOWN


def test_vocabulary_of_the_training_text_round_trips_the_validation_text():
    splits = language.text_splits()
    vocab = language.Vocabulary(splits["train"])
    assert vocab.decode(vocab.encode(splits["val"][:2000])) == splits["val"][:2000]


def test_vocabulary_errors():
    vocab = language.Vocabulary("ab")
    with pytest.raises(ValueError, match="non-empty string"):
        language.Vocabulary("")
    with pytest.raises(TypeError, match="expected a string"):
        vocab.encode(["a"])
    with pytest.raises(ValueError, match="ids must lie in \\[0, 3\\)"):
        vocab.decode([0, 5])


def test_uniform_perplexity_is_the_number_of_choices():
    for size in (2, 10, 104):
        logits = torch.zeros(7, size)
        assert language.perplexity(logits, torch.arange(7) % size) == pytest.approx(size)


def test_perfect_model_has_perplexity_one():
    targets = torch.tensor([3, 1, 4, 1, 5])
    logits = 100.0 * torch.nn.functional.one_hot(targets, 10).float()
    assert language.perplexity(logits, targets) == pytest.approx(1.0)


def test_known_distribution():
    # probabilities 1/2 and 1/8 for the two observed symbols: exp(-(ln 1/2 + ln 1/8) / 2) = 4
    probs = torch.tensor([[0.5, 0.25, 0.25], [0.125, 0.125, 0.75]])
    assert language.perplexity(probs.log(), torch.tensor([0, 1])) == pytest.approx(4.0)
    assert language.perplexity_of_probabilities([0.5, 0.125]) == pytest.approx(4.0)
    # sequence logits (B, T, V) work the same way
    logits = probs.log()[None]
    assert language.perplexity(logits, torch.tensor([[0, 1]])) == pytest.approx(4.0)


def test_perplexity_errors():
    with pytest.raises(ValueError, match="expected logits of shape"):
        language.perplexity(torch.zeros(4, 10), torch.zeros(5, dtype=torch.long))
    with pytest.raises(ValueError, match="probabilities in \\[0, 1\\]"):
        language.perplexity_of_probabilities([1.5])


def test_count_models_by_hand():
    ids = torch.tensor([0, 1, 0, 1, 0])  # counts 3 and 2; pairs 0→1 twice, 1→0 twice
    uni = language.unigram_log_probs(ids, 2, alpha=0).exp()
    torch.testing.assert_close(uni, torch.tensor([0.6, 0.4], dtype=torch.float64))
    bi = language.bigram_log_probs(ids, 2, alpha=1).exp()
    torch.testing.assert_close(bi, torch.tensor([[1 / 4, 3 / 4], [3 / 4, 1 / 4]]).double())
    scores = language.count_perplexities(ids, torch.tensor([0, 1, 0]), 2)
    assert scores["uniform"] == 2.0
    assert scores["bigram"] == pytest.approx(4 / 3)
    assert scores["unigram"] == pytest.approx(math.exp(-(math.log(3 / 7) + math.log(4 / 7)) / 2))


def test_count_models_refuse_bad_ids():
    with pytest.raises(ValueError, match="1-D integer tensor"):
        language.unigram_log_probs(torch.rand(5), 3)
    with pytest.raises(ValueError, match="in \\[0, 3\\)"):
        language.bigram_log_probs(torch.tensor([0, 3]), 3)
