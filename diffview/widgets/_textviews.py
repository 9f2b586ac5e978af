"""
The dashboard's text views.

The flag list with the residual table of a re-solve, and the message area
(the pair table is `diffview.widgets._pairtable`).

Each is an `Explorer` view (``render(explorer, changes)``) owning its
ipywidgets.
"""

from __future__ import annotations

import functools
import html
import traceback

import ipywidgets as W
import numpy as np

from diffview.errors import DiffviewError

__all__ = ["FlagPanel", "MessageArea", "residual_html", "error_html"]


class FlagPanel:
    """
    The flags set so far and the fitted levels after the last re-solve.

    Attributes
    ----------
    flag_list : ipywidgets.Select
        ``(text, (kind, key))`` of every flag.
    residuals : ipywidgets.HTML
        `residual_html` of the explorer's residual table (empty before a
        re-solve).

    Examples
    --------
    >>> import tempfile
    >>> from diffview.sample import write_sample
    >>> from diffview.widgets import Explorer
    >>> ex = Explorer(write_sample(tempfile.mkdtemp(), "small"))
    >>> view = FlagPanel()
    >>> ex.subscribe(view.render)
    >>> ex.flag_pair(reason="stars")
    >>> [text for text, _ in view.flag_list.options] == [
    ...     f"pair {ex.key(ex.selected)}: stars"]
    True
    """

    def __init__(self):
        self.flag_list = W.Select(options=[], rows=5, layout=W.Layout(width="300px"))
        self.residuals = W.HTML("")

    def render(self, explorer, changes) -> None:
        """
        Show the flags and the residuals (an `Explorer` view).

        Parameters
        ----------
        explorer : Explorer
            The state: ``flags()``, ``solver`` and ``residual_table()``.
        changes : frozenset of str
            What changed (`CHANGES`).
        """
        if changes & {"workspace", "flags"}:
            self.flag_list.options = [
                (f"{kind} {key}: {reason}", (kind, key))
                for kind, key, reason in explorer.flags()
            ]
        if "corrections" in changes and explorer.solver is not None:
            self.residuals.value = residual_html(explorer.residual_table())


def residual_html(table, limit: int = 200) -> str:
    """
    Format the residual table as HTML, largest ``before`` first.

    Parameters
    ----------
    table : astropy.table.Table
        `Explorer.residual_table` (``plus minus flagged raw before after``).
    limit : int
        Rows shown at most.

    Returns
    -------
    str
        A scrolling ``<table>``.

    Examples
    --------
    >>> from astropy.table import Table
    >>> t = Table({"plus": [0, 1], "minus": [1, 2], "flagged": [False, True],
    ...            "raw": [1.0, 5.0], "before": [0.5, -3.0], "after": [0.1, 0.2]})
    >>> text = residual_html(t)
    >>> text.index("<td>-3</td>") < text.index("<td>0.5</td>")
    True
    """
    order = np.argsort(-np.abs(np.asarray(table["before"], float)))[:limit]
    head = (
        "<tr><th>plus</th><th>minus</th><th>flagged</th><th>raw</th>"
        "<th>before</th><th>after</th></tr>"
    )
    rows = []
    for k in order:
        r = table[int(k)]
        rows.append(
            f"<tr><td>{r['plus']}</td><td>{r['minus']}</td>"
            f"<td>{'yes' if r['flagged'] else ''}</td><td>{r['raw']:.4g}</td>"
            f"<td>{r['before']:.4g}</td><td>{r['after']:.4g}</td></tr>"
        )
    return (
        '<div style="max-height:220px;overflow:auto;font-size:90%">'
        "<b>fitted level at box centre (DN)</b>"
        f"<table>{head}{''.join(rows)}</table></div>"
    )


def error_html(exc: BaseException) -> tuple[str, str]:
    """
    Format an exception for the dashboard's error area.

    Parameters
    ----------
    exc : BaseException
        A `DiffviewError` (a user error) is shown without its traceback,
        anything else with the traceback under "details".

    Returns
    -------
    text : str
        ``Type: message``.
    html : str
        The error box.

    Examples
    --------
    >>> from diffview.errors import InputError
    >>> text, box = error_html(InputError("no pair 99"))
    >>> text, "details" in box
    ('InputError: no pair 99', False)
    """
    text = f"{type(exc).__name__}: {exc}"
    body = f"<b>Error</b>: {html.escape(text)}"
    if not isinstance(exc, DiffviewError):
        tb = "".join(traceback.format_exception(exc)[-6:])
        body += (
            f"<details><summary>details</summary><pre>{html.escape(tb)}</pre></details>"
        )
    box = (
        f'<div style="color:#a00;background:#fee;padding:4px;'
        f'border:1px solid #a00">{body}</div>'
    )
    return text, box


class MessageArea:
    """
    The dashboard's message area: an error box and a note line.

    The error box shows what went wrong with the last user action (hidden
    once the next one works); the note line what the user should know about
    the data (pairs that failed, no pairs at all, where an export went).

    Attributes
    ----------
    error : ipywidgets.HTML
        The error box (hidden when empty).
    message : ipywidgets.HTML
        The note line (hidden when empty).

    Examples
    --------
    >>> from diffview.errors import InputError
    >>> area = MessageArea()
    >>> area.show_error(InputError("no pair 99"))
    >>> area.error_text, area.error.layout.display is None
    ('InputError: no pair 99', True)
    >>> area.show_message("3 of 11 pairs failed")
    >>> area.message_text
    '3 of 11 pairs failed'
    """

    def __init__(self):
        self.error = W.HTML("", layout=W.Layout(display="none"))
        self.error.add_class("dv-error")
        self.message = W.HTML("", layout=W.Layout(display="none"))
        self.message.add_class("dv-message")
        self.error_text = ""
        self.message_text = ""

    def show_error(self, exc: BaseException) -> None:
        """
        Show an exception in the error box (see `error_html`).

        Parameters
        ----------
        exc : BaseException
            The exception.
        """
        self.error_text, self.error.value = error_html(exc)
        self.error.layout.display = None

    def clear_error(self) -> None:
        """Hide the error box."""
        self.error_text = ""
        self.error.value = ""
        self.error.layout.display = "none"

    def show_message(self, text: str) -> None:
        """
        Show a note (empty: hide the note line); one line per line of text.

        Parameters
        ----------
        text : str
            The note.
        """
        self.message_text = text
        self.message.value = "<br>".join(html.escape(t) for t in text.splitlines())
        self.message.layout.display = None if text else "none"


# --------------------------------------------------------------------------
# The dashboard's controls and its guard around callbacks
# --------------------------------------------------------------------------


def _guard(clear: bool):
    """Run a callback; show any exception in the dashboard's error area.

    ``clear``: a user action, which first hides the last error.
    """

    def decorate(method):
        @functools.wraps(method)
        def wrapper(self, *args, **kwargs):
            try:
                if clear:
                    self.clear_error()
                return method(self, *args, **kwargs)
            except Exception as exc:  # noqa: BLE001 - every error must reach the user
                self.show_error(exc)
                return None

        return wrapper

    return decorate


_action = _guard(clear=True)
_event = _guard(clear=False)


def _button(description: str, css: str) -> W.Button:
    b = W.Button(description=description, layout=W.Layout(width="auto"))
    b.add_class(css)
    return b


def _text(value: str, description: str, width: str, **kw) -> W.Text:
    return W.Text(
        value=value, description=description, layout=W.Layout(width=width), **kw
    )
