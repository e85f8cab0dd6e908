"""charlm: shapes, quick-mode settings, training that lowers the perplexity, sampling, and the
perplexity of a continuation, on a tiny text."""

import math

import pytest
import torch

from mnistlib import charlm, language

TEXT = "abcabcabcabd" * 40


@pytest.fixture
def vocab():
    return language.Vocabulary(TEXT)


def test_shapes_and_state(vocab):
    model = charlm.CharLM(len(vocab), "gru", hidden=8, embedding=4)
    logits, state = model(vocab.encode("abca")[None])
    assert logits.shape == (1, 4, len(vocab))
    assert state.shape == (1, 1, 8)


def test_settings_shrink_in_quick_mode(monkeypatch):
    monkeypatch.setenv("MNISTLIB_QUICK", "1")
    assert charlm.settings() == charlm.QUICK
    monkeypatch.setenv("MNISTLIB_QUICK", "0")
    assert charlm.settings() == charlm.Settings()
    assert charlm.QUICK.steps < charlm.Settings().steps


def test_training_beats_a_uniform_guess(vocab):
    torch.manual_seed(0)
    ids = vocab.encode(TEXT)
    model = charlm.CharLM(len(vocab), "lstm", hidden=16, embedding=4)
    config = charlm.Settings(hidden=16, embedding=4, seq_len=12, batch_size=8, steps=60, lr=0.02)
    before = charlm.evaluate_perplexity(model, ids)
    history = charlm.fit_lm(model, ids, config, val_ids=ids, evaluations=2, progress=False)
    assert len(history.train_loss) == 60 and history.val_steps == [30, 60]
    assert history.val_perplexity[-1] < before < 2 * len(vocab)
    assert history.val_perplexity[-1] < 1.5  # the text is nearly deterministic
    assert charlm.continuation_perplexity(
        model, vocab, "abcab", "cabc"
    ) < charlm.continuation_perplexity(model, vocab, "abcab", "bbbb")


def test_evaluate_perplexity_scores_every_character_once(vocab):
    model = charlm.CharLM(len(vocab), hidden=4, embedding=2)
    torch.nn.init.zeros_(model.head.weight)
    torch.nn.init.zeros_(model.head.bias)  # uniform prediction, whatever the streams and padding
    ids = vocab.encode(TEXT[:37])
    assert charlm.evaluate_perplexity(model, ids, streams=5) == pytest.approx(len(vocab))


def test_sample_is_seeded_and_starts_with_the_prompt(vocab):
    model = charlm.CharLM(len(vocab), hidden=8, embedding=4)
    one = charlm.sample(model, vocab, "ab", length=20, temperature=0.7, seed=1)
    assert one == charlm.sample(model, vocab, "ab", length=20, temperature=0.7, seed=1)
    assert one.startswith("ab") and len(one) == 22
    with pytest.raises(ValueError, match="temperature must be positive"):
        charlm.sample(model, vocab, "ab", temperature=0)


def test_wrong_input_is_refused(vocab):
    model = charlm.CharLM(len(vocab), hidden=4, embedding=2)
    with pytest.raises(ValueError, match="add the batch axis"):
        model(vocab.encode("abc"))
    with pytest.raises(ValueError, match="integer ids of shape \\(B, T\\)"):
        model(torch.rand(2, 3))
    with pytest.raises(ValueError, match="ids must lie in"):
        model(torch.tensor([[0, 99]]))
    with pytest.raises(ValueError, match="kind must be 'lstm' or 'gru'"):
        charlm.CharLM(5, "rnn")
    assert math.isfinite(charlm.continuation_perplexity(model, vocab, "a", "b"))
