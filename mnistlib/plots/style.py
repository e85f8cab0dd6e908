"""One look for every figure: fonts large enough for a projector at 1024 × 768, set once, when
`mnistlib.plots` is imported."""

import matplotlib.pyplot as plt

PROJECTOR = {
    "font.size": 12,
    "axes.titlesize": 13,
    "axes.labelsize": 12,
    "legend.fontsize": 11,
    "xtick.labelsize": 11,
    "ytick.labelsize": 11,
    "figure.titlesize": 14,
    "figure.dpi": 80,
    "savefig.dpi": 80,
}
MARKERS_UP_TO = 20  # points per curve; longer curves are drawn as plain lines


def use_projector_style() -> None:
    """Set matplotlib's defaults to the series' sizes."""
    plt.rcParams.update(PROJECTOR)


def legend_outside(ax: plt.Axes) -> None:
    """Put the legend of `ax` to the right of the plot, where it cannot hide data."""
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), borderaxespad=0)
