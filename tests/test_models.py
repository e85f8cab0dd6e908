"""models: output shapes, parameter counts worked out by hand, layer order, errors on bad input."""

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
