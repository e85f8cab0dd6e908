"""mnistlib: the data, models, training loops and plots shared by the MNIST notebook series."""

__version__ = "0.1.0"
