"""Every figure of the series, behind one door: `plots.show_*` draw pictures (digits, weights,
filters, feature maps, canvases, diagrams), `plots.plot_*` draw charts against an epoch, a step, a
layer or an amount. Each returns its matplotlib Figure; the data come first, the options are
keyword-only, and an optional `title` comes last; each says what it drew in its alt text, which
Jupyter saves with the picture. Importing this package sets the series' figure style once."""

from mnistlib.plots.alt_text import add_alt_text_to_outputs, alt_text, set_alt_text
from mnistlib.plots.curves import (
    plot_accuracy_against,
    plot_activations,
    plot_batch_losses,
    plot_clipping,
    plot_gradient_norms,
    plot_history,
    plot_lr,
    plot_per_step,
    plot_perplexity,
)
from mnistlib.plots.images import (
    plot_confusion_matrix,
    show_canvases,
    show_digits,
    show_failures,
    show_feature_maps,
    show_filters,
    show_maps,
    show_matrices,
    show_padding,
    show_pixel_values,
    show_reading,
    show_unrolled,
    show_weights,
)
from mnistlib.plots.style import legend_outside, use_projector_style

__all__ = [
    "alt_text",
    "legend_outside",
    "plot_accuracy_against",
    "plot_activations",
    "plot_batch_losses",
    "plot_clipping",
    "plot_confusion_matrix",
    "plot_gradient_norms",
    "plot_history",
    "plot_lr",
    "plot_per_step",
    "plot_perplexity",
    "show_canvases",
    "show_digits",
    "show_failures",
    "show_feature_maps",
    "show_filters",
    "show_maps",
    "show_matrices",
    "show_padding",
    "show_pixel_values",
    "show_reading",
    "show_unrolled",
    "set_alt_text",
    "show_weights",
]

use_projector_style()
add_alt_text_to_outputs()
