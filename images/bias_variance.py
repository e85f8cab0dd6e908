"""Make bias_variance.png: training and validation error against model complexity.

The curves are measured, not drawn by hand: polynomials of degree 0 to 11 are fitted by least
squares to noisy samples of sin(2πx) at 14 evenly spaced points, and their mean squared error is
averaged over 500 such training sets, on the training points and on 1,000 fresh validation points.

Run from anywhere: `python images/bias_variance.py`.
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from numpy.polynomial import Polynomial

N_TRAIN, N_VAL, NOISE, TRIALS = 14, 1000, 0.3, 500
DEGREES = np.arange(13)
OUT = Path(__file__).with_suffix(".png")


def noisy_sine(rng: np.random.Generator, x: np.ndarray) -> np.ndarray:
    """y = sin(2πx) + Gaussian noise of standard deviation NOISE."""
    return np.sin(2 * np.pi * x) + rng.normal(0, NOISE, len(x))


def errors(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Mean training and validation MSE per degree, averaged over TRIALS training sets."""
    x = np.linspace(0, 1, N_TRAIN)
    x_val = rng.uniform(0, 1, N_VAL)
    y_val = noisy_sine(rng, x_val)
    train_err, val_err = np.zeros(len(DEGREES)), np.zeros(len(DEGREES))
    for _ in range(TRIALS):
        y = noisy_sine(rng, x)
        for i, degree in enumerate(DEGREES):
            p = Polynomial.fit(x, y, degree)
            train_err[i] += np.mean((p(x) - y) ** 2) / TRIALS
            val_err[i] += np.mean((p(x_val) - y_val) ** 2) / TRIALS
    return train_err, val_err


def main() -> None:
    train_err, val_err = errors(np.random.default_rng(0))
    best = DEGREES[np.argmin(val_err)]
    fig, ax = plt.subplots(figsize=(8, 4.5))
    ax.axvspan(DEGREES[0] - 0.5, best - 0.5, color="tab:blue", alpha=0.08)
    ax.axvspan(best + 0.5, DEGREES[-1] + 0.5, color="tab:red", alpha=0.08)
    ax.plot(DEGREES, train_err, "-o", color="tab:blue", label="training error")
    ax.plot(DEGREES, val_err, "-o", color="tab:red", label="validation error")
    ax.axvline(best, color="gray", ls="--", lw=1)
    ax.annotate("best trade-off", (best, val_err.min()), xytext=(best + 0.15, 0.02), color="gray")
    ax.text(0.1, 0.9, "underfitting\n(high bias):\nboth errors high", color="tab:blue")
    overfit = "overfitting (high variance):\ntraining error keeps falling, validation error rises"
    ax.text(best + 0.8, 1.0, overfit, color="tab:red")
    ax.axhline(NOISE**2, color="black", lw=0.8, ls=":")
    ax.text(DEGREES[-1] - 3.2, NOISE**2 * 0.75, "noise level (best possible)", fontsize="small")
    ax.set(yscale="log", ylim=(0.004, 5), xlim=(DEGREES[0] - 0.5, DEGREES[-1] + 0.5))
    ax.set_xticks(DEGREES)
    ax.set(
        xlabel="model complexity (degree of the fitted polynomial)",
        ylabel="mean squared error (log scale)",
        title=f"Training and validation error of polynomials fitted to {N_TRAIN} noisy points",
    )
    ax.legend(loc="lower left")
    fig.tight_layout()
    fig.savefig(OUT, dpi=100)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
