"""
Axes helpers the dashboard's views share.

A toolbar's Home that belongs to the pair shown (`reset_history`) and axis
labels at fixed spots (`fixed_label_positions`), so that a draw lays out
only the tick labels it shows.
"""

from __future__ import annotations

__all__ = ["fixed_label_positions", "reset_history"]


def reset_history(fig) -> None:
    """
    Make a figure's current view its toolbar's Home.

    The toolbar's view history belongs to the pair shown: without this, Home
    goes back to the first pair's limits, where a later pair has no pixel.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        On an ipympl canvas (a figure without a toolbar is left alone).

    Examples
    --------
    >>> from diffview.widgets._canvas import new_figure
    >>> fig = new_figure((1.0, 1.0))
    >>> reset_history(fig)
    >>> len(fig.canvas.toolbar._nav_stack)
    1
    >>> fig.canvas.close()
    """
    toolbar = getattr(fig.canvas, "toolbar", None)
    if toolbar is not None:
        toolbar.update()  # forget the views of the last pair
        toolbar.push_current()


def fixed_label_positions(ax) -> None:
    """
    Place an Axes' axis labels at fixed spots, not after its tick labels.

    Matplotlib places an axis label past the tick labels of the Axes and
    of every Axes sharing it: each draw of the plus panel laid out the
    tick labels of all four panels. At fixed spots a draw lays out only
    the ticks it shows.

    Parameters
    ----------
    ax : matplotlib.axes.Axes

    Examples
    --------
    >>> from diffview.widgets._canvas import new_figure
    >>> fig = new_figure((1.0, 1.0))
    >>> ax = fig.add_axes((0.2, 0.2, 0.7, 0.7))
    >>> fixed_label_positions(ax)
    >>> tuple(float(v) for v in ax.xaxis.label.get_position())
    (0.5, -0.14)
    >>> fig.canvas.close()
    """
    ax.xaxis.set_label_coords(0.5, -0.14)
    ax.yaxis.set_label_coords(-0.18, 0.5)
