"""mnistlib: the data, models, training loops and plots shared by the MNIST notebook series."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("mnistlib")
except PackageNotFoundError:  # imported from a checkout that was never installed
    __version__ = "unknown"
