"""
The dashboard's pair table: sortable columns, a filter and pages.

The table shows one page of the pairs in the explorer's order (`TableState`)
as a list of aligned rows: a page change sends only that page's rows, so
the table stays fast with thousands of pairs. A click on a column header
sorts by it (again: the other way); the filter row hides pairs (flagged
only, a text, a minimum pixel count); a legend says what the quality score
and the mosaic's colouring mean. Choices reach the dashboard through
`PairTable.on_choose`, `PairTable.on_sort` and `PairTable.on_filter`.
"""

from __future__ import annotations

import html
from collections.abc import Callable

import ipywidgets as W

from diffview.widgets._model import describe_fit
from diffview.widgets._table import COLUMNS, QUALITY_LEGEND, format_rows, header_text

__all__ = ["PairTable", "PAGE_ROWS"]

#: Rows on a page of the table.
PAGE_ROWS = 12

_STYLE = (
    "<style>"
    ".dv-table select,.dv-table-head button{font-family:"
    "'DejaVu Sans Mono',Menlo,Consolas,monospace;font-size:12px}"
    ".dv-table select{padding-left:2px}"
    ".dv-table-head{padding-left:4px}"
    ".dv-table-head button{padding:0!important;margin:0!important;"
    "text-align:left;height:22px;background:#eef1f5}"
    ".dv-legend{font-size:11px;color:#444;line-height:1.3}"
    "</style>"
)


class PairTable:
    """
    The pairs, one page at a time, the selected pair's title and its fit.

    Parameters
    ----------
    rows : int
        Rows on a page.

    Attributes
    ----------
    table : ipywidgets.Select
        ``(row text, index)`` of the pairs on the current page, the selected
        one chosen (when on this page).
    headers : dict of str -> ipywidgets.Button
        The column headers; a click sorts by the column.
    flagged_only : ipywidgets.Checkbox
    filter_text : ipywidgets.Text
    min_pixels : ipywidgets.Text
        The filter.
    page : int
        The current page (from 0).
    page_label : ipywidgets.HTML
        ``rows 1–12 of 2000`` (and how many the filter hides).
    box : ipywidgets.VBox
        Everything above, with the legend, to lay out.
    selected : ipywidgets.HTML
        Title of the selected pair (its label, images and any error).
    fit_text : ipywidgets.HTML
        Its plane fit and quality verdict.

    Examples
    --------
    >>> import tempfile
    >>> from diffview.sample import write_sample
    >>> from diffview.widgets import Explorer
    >>> ex = Explorer(write_sample(tempfile.mkdtemp(), "small"))
    >>> view = PairTable()
    >>> ex.subscribe(view.render)
    >>> ex.notify()
    >>> view.table.value == ex.selected
    True
    """

    def __init__(self, rows: int = PAGE_ROWS):
        self.rows = rows
        self.page = 0
        self._shown: list[int] = []
        self._explorer = None
        self._updating = False
        self.table = W.Select(options=[], rows=rows, layout=W.Layout(width="100%"))
        self.table.add_class("dv-table")
        self.headers = {}
        for name, (head, width, tip) in COLUMNS.items():
            b = W.Button(
                description=head, tooltip=tip, layout=W.Layout(width=f"{width}ch")
            )
            b.add_class(f"dv-head-{name}")
            self.headers[name] = b
        head = W.HBox(list(self.headers.values()), layout=W.Layout(overflow="hidden"))
        head.add_class("dv-table-head")
        self.flagged_only = W.Checkbox(
            value=False,
            description="flagged only",
            indent=False,
            layout=W.Layout(width="auto"),
        )
        self.filter_text = W.Text(
            placeholder="filter: image id, verdict…",
            continuous_update=False,
            layout=W.Layout(flex="1 1 120px", min_width="80px"),
        )
        self.filter_text.add_class("dv-filter-text")
        self.min_pixels = W.Text(
            value="",
            placeholder="min pixels",
            continuous_update=False,
            layout=W.Layout(width="90px"),
        )
        self.min_pixels.add_class("dv-min-pixels")
        self.prev_page = W.Button(description="◀", layout=W.Layout(width="32px"))
        self.next_page = W.Button(description="▶", layout=W.Layout(width="32px"))
        self.prev_page.on_click(lambda _: self.show_page(self.page - 1))
        self.next_page.on_click(lambda _: self.show_page(self.page + 1))
        self.page_label = W.HTML("")
        self.page_label.add_class("dv-page")
        legend = W.HTML(
            _STYLE + "<details class='dv-legend'><summary>what the columns, the "
            f"score and the colours mean</summary>{QUALITY_LEGEND}</details>"
        )
        self.box = W.VBox(
            [
                W.HBox([self.flagged_only, self.filter_text, self.min_pixels]),
                head,
                self.table,
                W.HBox([self.prev_page, self.page_label, self.next_page]),
                legend,
            ],
            layout=W.Layout(width="100%", overflow="hidden"),
        )
        self.selected = W.HTML("loading…")
        self.selected.add_class("dv-selected")
        self.fit_text = W.HTML("")

    # ------------------------------------------------------------------
    # The user's choices
    # ------------------------------------------------------------------

    def on_choose(self, callback: Callable[[int], None]) -> None:
        """
        Call ``callback(index)`` when the user chooses a pair in the table.

        Parameters
        ----------
        callback : callable
            Not called for the table's own updates.
        """

        def observe(change):
            if not self._updating and change["new"] is not None:
                callback(change["new"])

        self.table.observe(observe, names="value")

    def on_sort(self, callback: Callable[[str], None]) -> None:
        """
        Call ``callback(column)`` when the user clicks a column header.

        Parameters
        ----------
        callback : callable
            Called with a key of `COLUMNS`.
        """
        for name, button in self.headers.items():
            button.on_click(lambda _, name=name: callback(name))

    def on_filter(self, callback: Callable[[dict], None]) -> None:
        """
        Call ``callback(filter)`` when the user changes the filter.

        Parameters
        ----------
        callback : callable
            Called with ``{'flagged_only', 'text', 'min_pixels'}`` as typed.
        """

        def observe(_):
            callback(
                {
                    "flagged_only": self.flagged_only.value,
                    "text": self.filter_text.value,
                    "min_pixels": self.min_pixels.value,
                }
            )

        for w in (self.flagged_only, self.filter_text, self.min_pixels):
            w.observe(observe, names="value")

    # ------------------------------------------------------------------
    # Drawing
    # ------------------------------------------------------------------

    def _page_of_selected(self, ex) -> int:
        if ex.selected in ex.order:
            return ex.order.index(ex.selected) // self.rows
        return self.page

    def show_page(self, page: int) -> None:
        """
        Show a page of the table (clamped to the pages there are).

        Parameters
        ----------
        page : int
            From 0.
        """
        ex = self._explorer
        if ex is None:
            return
        n = len(ex.order)
        pages = max(1, -(-n // self.rows))
        self.page = min(max(int(page), 0), pages - 1)
        start = self.page * self.rows
        shown = self._shown = ex.order[start : start + self.rows]
        self._updating = True
        try:
            self.table.options = format_rows(ex, shown)
        finally:
            self._updating = False
        self._choose(ex.selected)
        hidden = len(ex.overlaps) - n
        text = f"rows {start + 1 if n else 0}–{start + len(shown)} of {n}"
        if hidden:
            text += f" ({hidden} hidden by the filter)"
        self.page_label.value = f"<span style='font-size:12px'>{text}</span>"
        self.prev_page.disabled = self.page == 0
        self.next_page.disabled = self.page >= pages - 1

    def render(self, explorer, changes) -> None:
        """
        Show the selected pair's page, the headers and the pair (a view).

        Parameters
        ----------
        explorer : Explorer
            The state: ``order``, ``column``, ``descending``, ``columns``,
            ``selected``, the pair's label, arrays (for a missing
            difference's reason), fit and verdict.
        changes : frozenset of str
            What changed (`CHANGES`).
        """
        ex = self._explorer = explorer
        page = self._page_of_selected(ex)
        if changes & {"workspace", "ranking", "flags", "corrections"}:
            for name, button in self.headers.items():
                button.description = header_text(name, ex.column, ex.descending)
            self.show_page(page)
        elif page != self.page:
            self.show_page(page)
        else:
            self._choose(ex.selected)
        if ex.selected is not None:
            self._show_selected(ex)

    def _choose(self, index) -> None:
        """Highlight a pair's row (none when it is not on this page)."""
        self._updating = True
        try:
            self.table.value = index if index in self._shown else None
        finally:
            self._updating = False

    def _show_selected(self, ex) -> None:
        view = ex.pair_view()
        ov = ex.overlaps[ex.selected]
        label = html.escape(ex.pair_label(ex.selected))
        text = f"<b>{label}</b>  {ov.plus} − {ov.minus}"
        if view.error:
            text += f'  <span style="color:#a00">{html.escape(view.error)}</span>'
        self.selected.value = text
        self.fit_text.value = (
            f"{html.escape(describe_fit(view.fit))}"
            f"<br>verdict: {html.escape(ex.verdict())}"
        )
