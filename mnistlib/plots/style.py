"""One look for every figure: fonts large enough for a projector at 1024 × 768, and lines a reader
with colour-blindness can tell apart, set once, when `mnistlib.plots` is imported."""

import matplotlib.pyplot as plt
from cycler import cycler

# Okabe and Ito's eight colours, chosen to stay distinct under every common kind of colour-blindness
# (black last: it is the colour of the axes). With each colour comes its own line style, so that
# lines can be told apart in a grey print too.
BLUE, ORANGE, GREEN, VERMILLION, PURPLE, SKY_BLUE, YELLOW, BLACK = (
    "#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000",
)  # fmt: skip
LINE_STYLES = ("-", "--", "-.", ":", "-", "--", "-.", ":")

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
    "lines.linewidth": 2,
    "axes.prop_cycle": cycler(
        color=[BLUE, ORANGE, GREEN, VERMILLION, PURPLE, SKY_BLUE, YELLOW, BLACK],
        linestyle=LINE_STYLES,
    ),
}
MARKERS_UP_TO = 20  # points per curve; longer curves are drawn as plain lines


def use_projector_style() -> None:
    """Set matplotlib's defaults to the series' sizes."""
    plt.rcParams.update(PROJECTOR)


def legend_outside(ax: plt.Axes) -> None:
    """Put the legend of `ax` below its figure, across the whole width, where it can neither hide
    data nor take width from the plot (the figure gets the constrained layout that places it)."""
    handles, labels = ax.get_legend_handles_labels()
    if ax.figure.get_layout_engine() is None:
        ax.figure.set_layout_engine("constrained")
    ax.figure.legend(handles, labels, loc="outside lower center", ncols=min(3, len(labels)))
