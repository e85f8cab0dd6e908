"""models: output shapes, parameter counts worked out by hand, layer order, the output-size rule
against PyTorch's layers, reading a digit row by row, the language model, errors on bad input."""

import itertools

import pytest
import torch
from torch import nn

from mnistlib import models


def test_softmax_regression_shape_and_parameters():
    model = models.SoftmaxRegression()
    assert model(torch.rand(5, 1, 28, 28)).shape == (5, 10)
    assert models.count_parameters(model) == 784 * 10 + 10


@pytest.mark.parametrize(
    ("hidden", "expected"),
    [
        ((10,), 784 * 10 + 10 + 10 * 10 + 10),
        ((128,), 784 * 128 + 128 + 128 * 10 + 10),
        ((50, 50, 50), (784 * 50 + 50) + 2 * (50 * 50 + 50) + (50 * 10 + 10)),
    ],
)
def test_mlp_parameter_counts(hidden, expected):
    model = models.MLP(*hidden)
    assert models.count_parameters(model) == expected
    assert model(torch.rand(3, 1, 28, 28)).shape == (3, 10)


def test_reference_mlp_has_dropout_after_first_layer_only():
    model = models.MLP(50, 50, 50, dropout=(0.2, 0, 0))
    kinds = [type(m).__name__ for m in model.layers]
    assert kinds == [
        "Flatten",
        "Linear",
        "ReLU",
        "Dropout",
        "Linear",
        "ReLU",
        "Linear",
        "ReLU",
        "Linear",
    ]
    assert model.layers[3].p == 0.2


@pytest.mark.parametrize(
    ("where", "order"), [("before", ["BatchNorm1d", "Tanh"]), ("after", ["Tanh", "BatchNorm1d"])]
)
def test_mlp_batch_norm_placement(where, order):
    model = models.MLP(30, activation=nn.Tanh, batch_norm=where)
    kinds = [type(m).__name__ for m in model.layers]
    assert kinds[2:4] == order
    assert models.count_parameters(model) == 784 * 30 + 30 + 2 * 30 + 30 * 10 + 10


def test_dropout_is_off_in_eval_mode():
    torch.manual_seed(0)
    model = models.MLP(20, dropout=0.5).eval()
    X = torch.rand(4, 1, 28, 28)
    assert torch.equal(model(X), model(X))


@pytest.mark.parametrize(
    ("shape", "message"),
    [
        ((64, 784), "got \\(64, 784\\); did you flatten twice\\?"),
        ((64, 28, 28), "add the channel axis"),
        ((64, 3, 28, 28), "expected images of shape \\(N, 1, 28, 28\\), got \\(64, 3, 28, 28\\)"),
    ],
)
@pytest.mark.parametrize("model", [models.SoftmaxRegression(), models.MLP(10)])
def test_wrong_shape_names_the_expected_one(model, shape, message):
    with pytest.raises(ValueError, match=message):
        model(torch.rand(shape))


def test_integer_images_are_refused():
    with pytest.raises(TypeError, match="expected float images"):
        models.MLP(10)(torch.zeros(2, 1, 28, 28, dtype=torch.uint8))
    with pytest.raises(TypeError, match="expected a torch.Tensor"):
        models.check_images([[0.0]])


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        ((), {}, "one or more hidden layer sizes"),
        ((0,), {}, "one or more hidden layer sizes"),
        ((10, 10), {"dropout": (0.1,)}, "1 dropout rates for 2 hidden layers"),
        ((10,), {"batch_norm": "middle"}, "batch_norm must be"),
    ],
)
def test_mlp_rejects_bad_arguments(args, kwargs, message):
    with pytest.raises(ValueError, match=message):
        models.MLP(*args, **kwargs)


# conv 1→8: 8·(1·3·3) + 8 = 80; conv 8→16: 16·(8·3·3) + 16 = 1168; linear 16·7·7 → 10: 7850
SMALL_CNN_PARAMETERS = 80 + 1168 + 7850


def test_small_cnn_output_shape_and_parameter_count():
    model = models.SmallCNN()
    assert model(torch.rand(5, 1, 28, 28)).shape == (5, 10)
    assert models.count_parameters(model) == SMALL_CNN_PARAMETERS == 9098


def test_small_cnn_batch_norm_adds_a_scale_and_shift_per_channel():
    model = models.SmallCNN((8, 16), batch_norm=True)
    assert models.count_parameters(model) == SMALL_CNN_PARAMETERS + 2 * 8 + 2 * 16
    kinds = [type(m).__name__ for m in model.layers]
    assert kinds[:4] == ["Conv2d", "BatchNorm2d", "ReLU", "MaxPool2d"]
    assert model(torch.rand(3, 1, 28, 28)).shape == (3, 10)


def test_small_cnn_with_one_block_pools_once():
    model = models.SmallCNN((4,))
    # conv 1→4: 4·9 + 4 = 40; linear 4·14·14 → 10: 7840 + 10
    assert models.count_parameters(model) == 40 + 4 * 14 * 14 * 10 + 10
    assert model(torch.rand(2, 1, 28, 28)).shape == (2, 10)


def test_small_cnn_rejects_flattened_images():
    with pytest.raises(ValueError, match=r"\(N, 1, 28, 28\), got \(4, 784\); did you flatten"):
        models.SmallCNN()(torch.rand(4, 784))


def test_small_cnn_rejects_integer_images():
    with pytest.raises(TypeError, match="float images"):
        models.SmallCNN()(torch.zeros(2, 1, 28, 28, dtype=torch.uint8))


@pytest.mark.parametrize("channels", [(), (8, 0), (2, 2, 2, 2, 2)])
def test_small_cnn_rejects_bad_channel_counts(channels):
    with pytest.raises(ValueError, match="channel counts"):
        models.SmallCNN(channels)


# SmallCNN((4, 8)), a 4,266-parameter CNN: conv 1→4: 4·9 + 4 = 40; conv 4→8: 8·(4·9) + 8 = 296;
# linear 8·7·7 → 10: 3,930
TINY_CNN_PARAMETERS = 40 + 296 + 392 * 10 + 10
# ConvNet: conv 1→32: 320; conv 32→64: 64·288 + 64 = 18,496; 1,600 → 128: 204,928; 128 → 10: 1,290
CONV_NET_PARAMETERS = 320 + 18_496 + (1600 * 128 + 128) + (128 * 10 + 10)


def test_small_cnn_4_8_shapes_and_parameter_count():
    model = models.SmallCNN((4, 8))
    assert model(torch.rand(5, 1, 28, 28)).shape == (5, 10)
    assert models.count_parameters(model) == TINY_CNN_PARAMETERS == 4266


def test_conv_net_shapes_parameters_and_the_hidden_relu():
    model = models.ConvNet()
    assert model(torch.rand(3, 1, 28, 28)).shape == (3, 10)
    assert models.count_parameters(model) == CONV_NET_PARAMETERS == 225_034
    kinds = [type(m).__name__ for m in model.layers][-5:]
    assert kinds == ["Flatten", "Linear", "ReLU", "Dropout", "Linear"]
    linear = models.ConvNet(hidden_relu=False)
    assert [type(m).__name__ for m in linear.layers][-4:] == [
        "Flatten",
        "Linear",
        "Dropout",
        "Linear",
    ]
    assert models.count_parameters(linear) == CONV_NET_PARAMETERS  # a ReLU has no parameters


def test_conv_net_batch_norm_adds_two_per_channel():
    model = models.ConvNet(batch_norm=True)
    assert models.count_parameters(model) == CONV_NET_PARAMETERS + 2 * (32 + 64)
    assert [type(m).__name__ for m in model.layers][:4] == [
        "Conv2d",
        "BatchNorm2d",
        "ReLU",
        "MaxPool2d",
    ]
    with pytest.raises(ValueError, match="expected two channel counts"):
        models.ConvNet(channels=(32,))


# TwoDigitMLP: 42·28 = 1,176 inputs → 64: 75,328; 64 → 20: 1,300
TWO_DIGIT_MLP_PARAMETERS = (1176 * 64 + 64) + (64 * 20 + 20)
# TwoDigitCNN: convolutions 16·9 + 16 = 160, 32·(16·9) + 32 = 4,640, 64·(32·9) + 64 = 18,496;
# 42 × 28 → 21 × 14 → 10 × 7 → 5 × 3, so 64·5·3 = 960 → 256: 246,016; 256 → 20: 5,140
TWO_DIGIT_CNN_PARAMETERS = 160 + 4640 + 18_496 + (960 * 256 + 256) + (256 * 20 + 20)


@pytest.mark.parametrize(
    ("model", "parameters"),
    [
        (models.TwoDigitMLP(), TWO_DIGIT_MLP_PARAMETERS),
        (models.TwoDigitMLP(activation=nn.ReLU), TWO_DIGIT_MLP_PARAMETERS),
        (models.TwoDigitCNN(), TWO_DIGIT_CNN_PARAMETERS),
    ],
)
def test_two_digit_models_return_two_rows_of_logits_per_canvas(model, parameters):
    assert model(torch.rand(4, 1, 42, 28)).shape == (8, 10)
    assert models.count_parameters(model) == parameters


def test_two_digit_mlp_without_activation_is_one_linear_map():
    torch.manual_seed(0)
    model = models.TwoDigitMLP()
    a, b = torch.rand(2, 1, 42, 28), torch.rand(2, 1, 42, 28)
    bias = model(torch.zeros(2, 1, 42, 28))
    torch.testing.assert_close(model(a + b) - bias, (model(a) - bias) + (model(b) - bias))
    assert [type(m).__name__ for m in models.TwoDigitMLP(activation=nn.ReLU).layers] == [
        "Flatten",
        "Linear",
        "ReLU",
        "Linear",
    ]


def test_two_digit_cnn_derives_its_sizes_from_the_canvas_height():
    model = models.TwoDigitCNN(height=38)  # 38 → 19 → 9 → 4 rows
    assert model(torch.rand(2, 1, 38, 28)).shape == (4, 10)
    assert model.layers[-4].in_features == 64 * 4 * 3
    with_norm = models.TwoDigitCNN(batch_norm=True)
    assert models.count_parameters(with_norm) == TWO_DIGIT_CNN_PARAMETERS + 2 * (16 + 32 + 64)
    with pytest.raises(ValueError, match="expected channel counts >= 1"):
        models.TwoDigitCNN(channels=())


@pytest.mark.parametrize("model", [models.TwoDigitMLP(), models.TwoDigitCNN()])
def test_two_digit_models_name_the_expected_canvas(model):
    with pytest.raises(ValueError, match=r"expected images of shape \(N, 1, 42, 28\), got "):
        model(torch.rand(2, 1, 28, 28))
    with pytest.raises(ValueError, match="add the channel axis"):
        model(torch.rand(2, 42, 28))
    with pytest.raises(TypeError, match="float images"):
        model(torch.zeros(2, 1, 42, 28, dtype=torch.uint8))


@pytest.mark.parametrize("model", [models.SmallCNN((4, 8)), models.ConvNet()])
def test_cnns_reject_a_two_digit_canvas(model):
    with pytest.raises(ValueError, match=r"\(N, 1, 28, 28\), got \(2, 1, 42, 28\)"):
        model(torch.rand(2, 1, 42, 28))


CASES = [
    (n, k, p, s)
    for n, k, p, s in itertools.product((1, 5, 7, 28, 42), (1, 2, 3, 5, 7), (0, 1, 2, 3), (1, 2, 3))
    if k <= n + 2 * p
]


@pytest.mark.parametrize(("n", "k", "p", "s"), CASES)
def test_output_size_matches_conv2d_and_max_pool(n, k, p, s):
    X = torch.zeros(1, 1, n, n)
    conv = nn.Conv2d(1, 1, kernel_size=k, padding=p, stride=s)
    assert conv(X).shape[-1] == models.output_size(n, k, p, s)
    if p <= k // 2:  # PyTorch allows pooling padding of at most half the kernel
        pool = nn.MaxPool2d(kernel_size=k, stride=s, padding=p)
        assert pool(X).shape[-1] == models.output_size(n, k, p, s)


def test_output_size_of_the_worked_examples():
    assert models.output_size(5, 3) == 3  # valid
    assert models.output_size(5, 3, padding=1) == 5  # same
    assert models.output_size(5, 3, padding=1, stride=2) == 3
    assert models.output_size(28, 2, stride=2) == 14  # 2 × 2 max pool


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((5, 7), "a kernel of 7 does not fit in 5 pixels with padding 0"),
        ((5, 3, -1), "padding must be an integer >= 0, got -1"),
        ((5, 3, 0, 0), "stride must be an integer >= 1, got 0"),
        ((0, 3), "n must be an integer >= 1, got 0"),
        ((5.0, 3), "n must be an integer >= 1, got 5.0"),
    ],
)
def test_output_size_rejects_bad_sizes(args, message):
    with pytest.raises(ValueError, match=message):
        models.output_size(*args)


def test_check_images_takes_the_size_to_expect():
    models.check_images(torch.rand(2, 1, 42, 28), size=(42, 28))
    with pytest.raises(ValueError, match=r"\(N, 1, 42, 28\), got \(2, 1176\); did you flatten"):
        models.check_images(torch.rand(2, 42 * 28), size=(42, 28))
    with pytest.raises(TypeError, match="expected torch.float32 images like the model's weights"):
        models.TwoDigitMLP()(torch.rand(2, 1, 42, 28, dtype=torch.float64))


def test_rows_columns_and_reversed_rows():
    X = torch.arange(2 * 28 * 28, dtype=torch.float32).reshape(2, 1, 28, 28)
    rows = models.as_sequence(X)
    assert rows.shape == (2, 28, 28)
    assert torch.equal(rows[1, 3], X[1, 0, 3])
    assert torch.equal(models.as_sequence(X, "columns")[1, 3], X[1, 0, :, 3])
    assert torch.equal(models.as_sequence(X, "reversed rows")[1, 0], X[1, 0, 27])


@pytest.mark.parametrize(
    ("kind", "cell"),
    [
        ("rnn", 28 * 128 + 128 * 128 + 2 * 128),
        ("lstm", 4 * (28 * 128 + 128 * 128 + 2 * 128)),
        ("gru", 3 * (28 * 128 + 128 * 128 + 2 * 128)),
    ],
)
def test_digit_rnn_parameter_counts_by_hand(kind, cell):
    model = models.DigitRNN(kind, 128)
    assert models.count_parameters(model.rnn) == cell
    assert models.count_parameters(model) == cell + 128 * 10 + 10
    assert model(torch.rand(3, 1, 28, 28)).shape == (3, 10)


def test_vanilla_cell_is_the_tensorflow_count_plus_one_bias():
    assert models.count_parameters(models.DigitRNN("rnn").rnn) == 20_096 + 128


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_unrolled_agrees_with_forward(kind):
    torch.manual_seed(0)
    model = models.DigitRNN(kind, 12)
    X = torch.randn(4, 1, 28, 28)
    logits, hidden = model.unrolled(X)
    torch.testing.assert_close(logits, model(X))
    assert len(hidden) == 28 and hidden[0].shape == (1, 4, 12)


def test_reading_steps_changes_what_the_model_sees():
    torch.manual_seed(0)
    model = models.DigitRNN("gru", 8)
    X = torch.randn(2, 1, 28, 28)
    X2 = X.clone()
    X2[:, :, 10:] = 0  # rows the model does not read when steps=10
    torch.testing.assert_close(model(X, steps=10), model(X2, steps=10))
    assert not torch.allclose(model(X), model(X2))


def test_a_model_built_to_read_k_steps_never_sees_the_rows_below():
    torch.manual_seed(0)
    model = models.DigitRNN("lstm", 8, steps=16)
    X = torch.randn(2, 1, 28, 28)
    X2 = X.clone()
    X2[:, :, 16:] = 0
    torch.testing.assert_close(model(X), model(X2))
    torch.testing.assert_close(model(X), model(X, steps=16))
    assert not torch.allclose(model(X, steps=28), model(X2, steps=28))
    with pytest.raises(ValueError, match="steps must be a whole number from 1 to 28"):
        models.DigitRNN("rnn", steps=29)


@pytest.mark.parametrize(
    ("shape", "message"),
    [
        ((4, 28, 28), "add the channel axis"),
        ((4, 784), "did you flatten twice"),
        ((4, 1, 28, 27), "expected images of shape \\(N, 1, 28, 28\\)"),
    ],
)
def test_digit_rnn_refuses_a_wrong_shape_clearly(shape, message):
    with pytest.raises(ValueError, match=message):
        models.DigitRNN("lstm", 8)(torch.rand(shape))


def test_digit_rnn_refuses_bad_settings():
    with pytest.raises(ValueError, match="kind must be one of"):
        models.DigitRNN("transformer")
    with pytest.raises(ValueError, match="order must be one of"):
        models.DigitRNN("rnn", order="diagonal")
    with pytest.raises(ValueError, match="steps must be a whole number from 1 to 28"):
        models.DigitRNN("rnn", 4)(torch.rand(1, 1, 28, 28), steps=0)


def test_char_lm_reads_windows_and_gives_one_row_of_logits_per_id():
    torch.manual_seed(0)
    model = models.CharLM(6, "gru", hidden=8, embedding=4)
    ids = torch.tensor([[1, 2, 3, 1], [2, 3, 1, 2]])
    logits, state = model.read(ids)
    assert logits.shape == (2, 4, 6) and state.shape == (1, 2, 8)
    torch.testing.assert_close(model(ids), logits.flatten(0, 1))
    torch.testing.assert_close(model(ids)[4 + 2], logits[1, 2])  # row b·T + t
    lstm = models.CharLM(6, "lstm", hidden=8, embedding=4)
    rest, _ = lstm.read(ids[:, 2:], lstm.read(ids[:, :2])[1])
    torch.testing.assert_close(rest, lstm.read(ids)[0][:, 2:])  # the state carries on


def test_char_lm_refuses_wrong_input():
    model = models.CharLM(5, hidden=4, embedding=2)
    with pytest.raises(ValueError, match="add the batch axis"):
        model(torch.tensor([1, 2, 3]))
    with pytest.raises(ValueError, match="integer ids of shape \\(B, T\\)"):
        model(torch.rand(2, 3))
    with pytest.raises(ValueError, match="ids must lie in"):
        model.read(torch.tensor([[0, 99]]))
    with pytest.raises(ValueError, match="kind must be 'lstm' or 'gru'"):
        models.CharLM(5, "rnn")
    with pytest.raises(ValueError, match="vocab_size must be a whole number >= 2"):
        models.CharLM(1)


@pytest.mark.parametrize("build", [models.ConvNet, models.TwoDigitCNN])
def test_cnns_take_their_dropout_rate(build):
    assert build(dropout=0.0).layers[-2].p == 0.0
    assert build().layers[-2].p == 0.5
    with pytest.raises(ValueError, match="dropout is a probability from 0 to below 1, got 1.5"):
        build(dropout=1.5)
    with pytest.raises(ValueError, match="got True"):
        build(dropout=True)
