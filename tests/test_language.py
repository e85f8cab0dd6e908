"""language: the pydoc text and its fixed split, the vocabulary round trip, the n-gram count
models and their tuned smoothing, and the language model on a tiny text: quick-mode settings,
random windows, training that lowers the perplexity, sampling, and the perplexity of a
continuation."""

import builtins
import math

import pytest
import torch

from mnistlib import language, models

TEXT = "abcabcabcabd" * 40


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


def test_count_models_by_hand():
    train_ids = torch.tensor([0, 1, 0, 1, 0])  # counts 3 and 2; pairs 0→1 twice, 1→0 twice
    uni = language.ngram_log_probs(train_ids, torch.tensor([0, 1, 0]), 2, order=1).exp()
    torch.testing.assert_close(uni, torch.tensor([3 / 7, 4 / 7], dtype=torch.float64))
    bi = language.ngram_log_probs(train_ids, torch.tensor([0, 1, 1]), 2, order=2).exp()
    torch.testing.assert_close(bi, torch.tensor([3 / 4, 1 / 4], dtype=torch.float64))
    # 3-grams after two start symbols S: SS→0, S0→1, 01→0 twice, 10→1; scoring 1 after "S0"
    # gives (1 + 1) / (1 + 2), scoring 1 after "01" gives (0 + 1) / (2 + 2)
    tri = language.ngram_log_probs(train_ids, torch.tensor([0, 1, 1]), 2, order=3).exp()
    torch.testing.assert_close(tri, torch.tensor([2 / 3, 1 / 4], dtype=torch.float64))
    scores = language.count_perplexities(train_ids, torch.tensor([0, 1, 0]), 2, orders=(1, 2, 3))
    assert list(scores) == ["uniform", "unigram", "bigram", "3-gram"]
    assert scores["uniform"] == 2.0
    assert scores["bigram"] == pytest.approx(4 / 3)
    assert scores["unigram"] == pytest.approx(math.exp(-(math.log(3 / 7) + math.log(4 / 7)) / 2))


def test_smoothing_is_tuned_on_the_validation_text():
    train_ids = torch.tensor([0, 1, 0, 1, 0])
    seen, unseen = torch.tensor([0, 1, 0, 1]), torch.tensor([0, 0, 0, 0])
    alphas = (1.0, 0.01)
    best = language.tune_smoothing(train_ids, seen, 2, orders=(2,), alphas=alphas)
    expected = language.count_perplexities(train_ids, seen, 2, orders=(2,), alpha=0.01)["bigram"]
    assert best == {2: (0.01, pytest.approx(expected))}
    assert language.tune_smoothing(train_ids, unseen, 2, orders=(2,), alphas=alphas)[2][0] == 1.0
    with pytest.raises(ValueError, match="at least one alpha"):
        language.tune_smoothing(train_ids, seen, 2, orders=(2,), alphas=())


def test_count_models_refuse_bad_input():
    ids = torch.tensor([0, 1, 2])
    with pytest.raises(ValueError, match="1-D integer tensor"):
        language.ngram_log_probs(torch.rand(5), ids, 3, order=1)
    with pytest.raises(ValueError, match="in \\[0, 3\\)"):
        language.ngram_log_probs(ids, torch.tensor([0, 3]), 3, order=2)
    with pytest.raises(ValueError, match="order must be a whole number of at least 1"):
        language.ngram_log_probs(ids, ids, 3, order=0)
    with pytest.raises(ValueError, match="alpha must be positive"):
        language.ngram_log_probs(ids, ids, 3, order=2, alpha=0)
    with pytest.raises(ValueError, match="overflow int64"):
        language.ngram_log_probs(ids, ids, 3, order=40)


@pytest.fixture
def vocab():
    return language.Vocabulary(TEXT)


def test_settings_shrink_in_quick_mode(monkeypatch):
    monkeypatch.setenv("MNISTLIB_QUICK", "1")
    assert language.settings() == language.QUICK
    monkeypatch.setenv("MNISTLIB_QUICK", "0")
    assert language.settings() == language.Settings()
    assert language.QUICK.steps < language.Settings().steps


def test_windows_draw_new_places_each_pass_with_targets_one_later(vocab):
    ids = vocab.encode(TEXT)
    windows = language.Windows(ids, batch_size=3, seq_len=5, steps=2, seed=1)
    first, second = list(windows), list(windows)
    assert len(first) == len(windows) == 2
    X, y = first[0]
    assert X.shape == (3, 5) and y.shape == (15,)
    assert torch.equal(y.view(3, 5)[:, :-1], X[:, 1:])  # each target is the next id
    assert not torch.equal(first[0][0], second[0][0])
    again = language.Windows(ids, batch_size=3, seq_len=5, steps=2, seed=1)
    assert all(torch.equal(a[0], b[0]) for a, b in zip(first, again, strict=True))
    with pytest.raises(ValueError, match="need more than 11 ids"):
        language.Windows(ids[:10], batch_size=3, seq_len=10, steps=2)


def test_training_beats_a_uniform_guess(vocab):
    torch.manual_seed(0)
    ids = vocab.encode(TEXT)
    model = models.CharLM(len(vocab), "lstm", hidden=16, embedding=4)
    config = language.Settings(hidden=16, embedding=4, seq_len=12, batch_size=8, steps=60, lr=0.02)
    before = language.evaluate_perplexity(model, ids)
    history = language.fit_lm(model, ids, config, val_ids=ids, evaluations=2, progress=False)
    assert len(history.batch_loss) == 60 and history.epochs == 2 and len(history.val_loss) == 2
    last = math.exp(history.val_loss[-1])
    assert last == pytest.approx(language.evaluate_perplexity(model, ids))
    assert last < before < 2 * len(vocab)
    assert last < 1.5  # the text is nearly deterministic
    assert language.continuation_perplexity(
        model, vocab, "abcab", "cabc"
    ) < language.continuation_perplexity(model, vocab, "abcab", "bbbb")


def test_fit_lm_prints_one_line_and_wants_rounds_of_equal_length(vocab, capsys):
    ids = vocab.encode(TEXT)
    model = models.CharLM(len(vocab), hidden=4, embedding=2)
    config = language.Settings(hidden=4, embedding=2, seq_len=8, batch_size=4, steps=20)
    language.fit_lm(model, ids, config, val_ids=ids, evaluations=4)
    out = capsys.readouterr().out
    assert out.startswith("language model: 20 steps in ") and "validation perplexity" in out
    with pytest.raises(ValueError, match="evaluations=3 does not divide the 20 steps"):
        language.fit_lm(model, ids, config, evaluations=3)


def test_evaluate_perplexity_scores_every_character_once(vocab):
    model = models.CharLM(len(vocab), hidden=4, embedding=2)
    torch.nn.init.zeros_(model.head.weight)
    torch.nn.init.zeros_(model.head.bias)  # uniform prediction, whatever the streams and padding
    ids = vocab.encode(TEXT[:37])
    assert language.evaluate_perplexity(model, ids, streams=5) == pytest.approx(len(vocab))


def test_sample_is_seeded_and_starts_with_the_prompt(vocab):
    model = models.CharLM(len(vocab), hidden=8, embedding=4)
    one = language.sample(model, vocab, "ab", length=20, temperature=0.7, seed=1)
    assert one == language.sample(model, vocab, "ab", length=20, temperature=0.7, seed=1)
    assert one.startswith("ab") and len(one) == 22
    with pytest.raises(ValueError, match="temperature must be positive"):
        language.sample(model, vocab, "ab", temperature=0)


def test_continuation_perplexity_is_finite_and_wants_both_parts(vocab):
    model = models.CharLM(len(vocab), hidden=4, embedding=2)
    assert math.isfinite(language.continuation_perplexity(model, vocab, "a", "b"))
    with pytest.raises(ValueError, match="non-empty context and a non-empty continuation"):
        language.continuation_perplexity(model, vocab, "", "b")
