"""
The dashboard's mosaic tools, zoom lock and change explainer, built and wired.

A mixin of `Dashboard`: `DashboardTools` makes the `MosaicTools` (zoom to
the pair, follow the selection, whole mosaic, large mosaic), the `ZoomLock`
of the pair panels and the `ChangeExplainer` of flags and re-solves, and
connects their controls, and a click on the mosaic, to guarded actions (an
error lands in the dashboard's error area).
"""

from __future__ import annotations

from diffview.widgets._display import panel_units
from diffview.widgets._explain import ChangeExplainer
from diffview.widgets._mosaicview import MosaicTools
from diffview.widgets._textviews import _action, _event
from diffview.widgets._zoomlock import ZoomLock

__all__ = ["DashboardTools"]


class DashboardTools:
    """
    Mosaic tools, zoom lock and change explainer of the dashboard (mixin).

    Uses the dashboard's ``mosaic``, ``pairs``, ``explorer``, ``probe`` and
    ``show_error``.

    Attributes
    ----------
    mosaic_tools : MosaicTools
    zoom_lock : ZoomLock
    explain : ChangeExplainer
    """

    def _build_tools(self) -> None:
        self.mosaic_tools = MosaicTools(self.mosaic)
        self.zoom_lock = ZoomLock(self.pairs)
        self.explain = ChangeExplainer(self.mosaic, units=panel_units)

    def _connect_tools(self) -> None:
        tools = self.mosaic_tools
        tools.zoom_button.on_click(lambda _: self.zoom_pair())
        tools.home_button.on_click(lambda _: self._whole_mosaic())
        tools.follow.observe(self._on_follow, names="value")
        tools.large.observe(self._on_large, names="value")

    @property
    def mosaic_large(self) -> bool:
        """The mosaic is shown as large as the page allows."""
        return bool(self.mosaic_tools.large.value)

    @_action
    def zoom_pair(self) -> None:
        """Zoom the mosaic to the selected pair (button, key ``z``)."""
        self.mosaic_tools.zoom_to_pair(self.explorer)

    @_action
    def _whole_mosaic(self) -> None:
        self.mosaic_tools.show_whole()

    @_event
    def _on_follow(self, change) -> None:
        if change["new"] and self.explorer is not None:
            self.mosaic_tools.zoom_to_pair(self.explorer)

    @_event
    def _on_quality(self, change) -> None:
        self.mosaic.set_quality_visible(bool(change["new"]))

    @_event
    def _on_click(self, event) -> None:
        toolbar = getattr(self.mosaic.fig.canvas, "toolbar", None)
        if (
            getattr(toolbar, "mode", "") not in ("", None)
            or event.inaxes is not self.mosaic.ax
        ):
            return
        index = self.explorer.pick(event.xdata, event.ydata)
        if index is not None:
            self.select(index)

    @_event
    def _on_large(self, change) -> None:
        from diffview.widgets._layout import fit_figures

        fit_figures(self, self.probe.width)
