"""mnistlib: the data, models, training loops and plots shared by the MNIST notebook series."""

from importlib.metadata import PackageNotFoundError, version

from mnistlib import threads

threads.configure()  # before PyTorch loads: how its threads wait on a busy machine

try:
    __version__ = version("mnistlib")
except PackageNotFoundError:  # imported from a checkout that was never installed
    __version__ = "unknown"
