"""SmallCNN: output shape, parameter counts worked out by hand, layer order, errors on bad input."""

import pytest
import torch

from mnistlib import models

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
