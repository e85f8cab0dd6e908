"""Splits, quick mode and the in-memory loader, on synthetic IDX files."""

import pytest
import torch
from conftest import N_TEST, N_TRAIN, tiny_mnist
from torch.utils.data import DataLoader, Subset
from torchvision import transforms

from mnistlib import data


def test_load_mnist_splits_80_20_and_test(synthetic_root):
    train, val, test = data.load_mnist(synthetic_root)
    assert (len(train), len(val), len(test)) == (N_TRAIN * 8 // 10, N_TRAIN * 2 // 10, N_TEST)
    assert set(train.indices).isdisjoint(val.indices)
    assert sorted(train.indices + val.indices) == list(range(N_TRAIN))
    X, y = train[0]
    assert X.shape == (1, 28, 28) and X.dtype == torch.float32 and 0 <= X.min() <= X.max() <= 1


def test_split_is_the_same_every_time(synthetic_root):
    first, _, _ = data.load_mnist(synthetic_root)
    again, _, _ = data.load_mnist(synthetic_root)
    expected = torch.randperm(N_TRAIN, generator=torch.Generator().manual_seed(55))
    assert first.indices == again.indices == expected[: len(first)].tolist()


def test_quick_mode_gives_small_balanced_subsets(synthetic_root, monkeypatch):
    monkeypatch.setattr(data, "QUICK_SIZES", {"train": 100, "val": 50, "test": 30})
    monkeypatch.setenv("MNISTLIB_QUICK", "1")
    train, val, test = data.load_mnist(synthetic_root)
    assert (len(train), len(val), len(test)) == (100, 50, 30)
    for ds, per_class in ((train, 10), (val, 5), (test, 3)):
        _, labels = data.to_tensors(ds)
        assert torch.bincount(labels, minlength=10).tolist() == [per_class] * 10
    again, _, _ = data.load_mnist(synthetic_root)
    assert again.indices == train.indices


@pytest.mark.parametrize(
    ("value", "quick"), [("1", True), ("yes", True), ("0", False), ("", False), ("false", False)]
)
def test_is_quick_reads_the_environment(monkeypatch, value, quick):
    monkeypatch.setenv("MNISTLIB_QUICK", value)
    assert data.is_quick() is quick


def test_data_root_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("MNISTLIB_DATA_ROOT", str(tmp_path))
    assert data.data_root() == tmp_path


def test_data_root_from_environment_expands_the_home_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("MNISTLIB_DATA_ROOT", "~/mnist-data")  # as a .env file gives it, unexpanded
    assert data.data_root() == tmp_path / "mnist-data"


def test_load_mnist_expands_the_home_folder(synthetic_root, monkeypatch):
    monkeypatch.setenv("HOME", str(synthetic_root.parent))
    monkeypatch.chdir(synthetic_root.parent)
    train, val, test = data.load_mnist(root=f"~/{synthetic_root.name}")
    assert (len(train), len(val), len(test)) == (N_TRAIN * 8 // 10, N_TRAIN * 2 // 10, N_TEST)
    assert not (synthetic_root.parent / "~").exists()


def test_to_tensors_of_nested_subsets(synthetic_root):
    train, _, _ = data.load_mnist(synthetic_root)
    inner = Subset(train, [3, 1, 4])
    images, labels = data.to_tensors(inner)
    assert images.shape == (3, 28, 28) and images.dtype == torch.uint8
    expected = [train[i][1] for i in (3, 1, 4)]
    assert labels.tolist() == expected


def test_to_tensors_rejects_other_datasets():
    with pytest.raises(TypeError, match="expected a torchvision MNIST dataset"):
        data.to_tensors([1, 2, 3])


def test_in_memory_batches_equal_dataloader_with_totensor(synthetic_root):
    train, _, _ = data.load_mnist(synthetic_root)
    reference = DataLoader(train, batch_size=64)
    for (X, y), (X_ref, y_ref) in zip(
        data.InMemoryLoader(train, batch_size=64), reference, strict=True
    ):
        assert X.shape == X_ref.shape and X.dtype == X_ref.dtype
        assert torch.equal(X, X_ref) and torch.equal(y, y_ref)


def test_normalize_matches_torchvision_normalize(synthetic_root):
    pipeline = transforms.Compose(
        [transforms.ToTensor(), transforms.Normalize((data.MEAN,), (data.STD,))]
    )
    train, _, _ = data.load_mnist(synthetic_root, transform=pipeline)
    X_ref, _ = next(iter(DataLoader(train, batch_size=32)))
    X, _ = next(iter(data.InMemoryLoader(train, batch_size=32, normalize=True)))
    torch.testing.assert_close(X, X_ref)


def test_shuffle_is_seeded_and_covers_every_image_once():
    images = torch.arange(100, dtype=torch.uint8).repeat_interleave(784).reshape(100, 28, 28)
    labels = torch.arange(100)

    def epoch(loader):
        return torch.cat([y for _, y in loader]).tolist()

    a = data.InMemoryLoader((images, labels), batch_size=16, shuffle=True, seed=3)
    b = data.InMemoryLoader((images, labels), batch_size=16, shuffle=True, seed=3)
    c = data.InMemoryLoader((images, labels), batch_size=16, shuffle=True, seed=4)
    first = epoch(a)
    assert sorted(first) == list(range(100)) and first != list(range(100))
    assert first == epoch(b) and first != epoch(c)
    assert epoch(a) != first  # a new order every epoch
    for X, y in a:  # images and labels stay paired
        assert torch.equal((X[:, 0, 0, 0] * 255).round().long(), y)


@pytest.mark.parametrize(
    ("drop_last", "batches", "last", "samples"), [(False, 4, 4, 100), (True, 3, 32, 96)]
)
def test_last_batch_policy(drop_last, batches, last, samples):
    images, labels = torch.zeros(100, 28, 28, dtype=torch.uint8), torch.zeros(100)
    loader = data.InMemoryLoader((images, labels), batch_size=32, drop_last=drop_last)
    sizes = [len(y) for _, y in loader]
    assert len(loader) == len(sizes) == batches and sizes[-1] == last
    assert sum(sizes) == samples
    assert all(y.dtype == torch.int64 for _, y in loader)


@pytest.mark.parametrize(
    ("images", "labels", "kwargs", "message"),
    [
        (torch.zeros(4, 784, dtype=torch.uint8), torch.zeros(4), {}, "shape \\(4, 784\\)"),
        (torch.zeros(4, 28, 28), torch.zeros(4), {}, "got torch.float32"),
        (torch.zeros(4, 28, 28, dtype=torch.uint8), torch.zeros(3), {}, "4 images but 3 labels"),
        (
            torch.zeros(4, 28, 28, dtype=torch.uint8),
            torch.zeros(4),
            {"batch_size": 0},
            "at least 1",
        ),
    ],
)
def test_loader_rejects_bad_input(images, labels, kwargs, message):
    with pytest.raises(ValueError, match=message):
        data.InMemoryLoader((images, labels), **kwargs)


def test_sorted_by_label_keeps_each_image_with_its_label():
    images, labels = tiny_mnist(30)
    sorted_images, sorted_labels = data.sorted_by_label((images, labels))
    assert sorted_labels.tolist() == [d for d in range(10) for _ in range(3)]
    assert torch.equal(sorted_images[:3], images[[0, 10, 20]])  # the three 0s, in their order


def test_set_seed_fixes_the_batch_order_of_a_loader_without_its_own_seed():
    loader = data.InMemoryLoader(tiny_mnist(50), batch_size=10, shuffle=True)
    torch.manual_seed(1)
    first = [y.tolist() for _, y in loader]
    torch.manual_seed(1)
    assert [y.tolist() for _, y in loader] == first


def test_augment_changes_each_batch_before_normalization():
    images, labels = torch.full((4, 28, 28), 255, dtype=torch.uint8), torch.arange(4)
    loader = data.InMemoryLoader((images, labels), batch_size=4, augment=lambda X: X * 0)
    X, _ = next(iter(loader))
    assert (X == 0).all()
    loader.normalize = True
    X, _ = next(iter(loader))
    torch.testing.assert_close(X, torch.full_like(X, -data.MEAN / data.STD))


def test_loader_follows_a_normalizing_transform(synthetic_root):
    to_tensor = transforms.ToTensor()
    normalize = transforms.Normalize((data.MEAN,), (data.STD,))
    train, _, _ = data.load_mnist(synthetic_root, transforms.Compose([to_tensor, normalize]))
    X, _ = next(iter(data.InMemoryLoader(train, batch_size=8)))
    X_ref = torch.stack([train[i][0] for i in range(8)])
    torch.testing.assert_close(X, X_ref)


def test_loader_refuses_a_transform_it_would_skip(synthetic_root):
    flip = transforms.Compose([transforms.RandomHorizontalFlip(), transforms.ToTensor()])
    train, _, _ = data.load_mnist(synthetic_root, flip)
    with pytest.raises(ValueError, match="use a DataLoader for other transforms"):
        data.InMemoryLoader(train)
