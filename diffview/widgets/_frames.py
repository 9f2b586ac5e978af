"""
The dashboard's frames drawn as soon as the page has them.

ipympl's front end shows a frame from the kernel by loading it into an
``<img>`` from a blob URL and drawing it in the image's ``load`` event; it
also encodes the picture it had before into a data URL (kept for the
notebook's saved widget state) on every frame. Traced in Chromium on the
dashboard, a pair panel's frame waited 20-40 ms between its message
arriving and its ``load`` event: the bytes go to the browser process and
back, and the event is queued behind the page's other work.

`FrameDrawer`, a hidden anywidget, gives the dashboard's own canvases a
shorter path: each frame is decoded with ``createImageBitmap`` and drawn as
soon as it is decoded; a frame overtaken by a newer one before it is
decoded is dropped; the saved picture is updated when the page is idle.
The change is made on the front end's canvas model, for the canvases named
in `FrameDrawer.canvases` only: other figures in the page (a user's own
ipympl figures) keep ipympl's path. Where the front end is not the one
expected (no ``handle_binary`` to take over, no ``createImageBitmap``),
everything keeps ipympl's path.
"""

from __future__ import annotations

import anywidget
import traitlets

__all__ = ["FrameDrawer"]

_ESM = r"""
// ORIGINAL on ipympl's canvas model class: its own handle_binary; SHORT on
// a canvas model (its own property, never inherited): take the short path.
const ORIGINAL = Symbol.for("diffview.frames.original");
const SHORT = Symbol.for("diffview.frames.short");
const later = (f) => window.requestIdleCallback
  ? window.requestIdleCallback(f, { timeout: 2000 }) : window.setTimeout(f, 200);

// Keep the picture the notebook saves (ipympl's _data_url) for idle time.
function keepForSaving(m) {
  if (m.__dvSaving) return;
  m.__dvSaving = true;
  later(() => {
    m.__dvSaving = false;
    try { m.set("_data_url", m.offscreen_canvas.toDataURL()); } catch (e) { /* gone */ }
  });
}

function draw(m, buffer) {
  const bytes = ArrayBuffer.isView(buffer)
    ? new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength)
    : new Uint8Array(buffer);
  const seq = (m.__dvFrame = (m.__dvFrame || 0) + 1);
  m.waiting_for_image = false;
  createImageBitmap(new Blob([bytes], { type: "image/png" })).then((bitmap) => {
    if (seq !== m.__dvFrame) { bitmap.close(); return; }  // a newer one came
    const canvas = m.offscreen_canvas, ctx = m.offscreen_context;
    if (m.get("_image_mode") === "full") {
      ctx.clearRect(0, 0, canvas.width, canvas.height);
    }
    ctx.drawImage(bitmap, 0, 0);
    // ipympl redraws model.image after a resize: the newest picture
    const old = m.image;
    m.image = bitmap;
    if (old && typeof old.close === "function") old.close();
    m._for_each_view((view) => view.update_canvas());
    keepForSaving(m);
  }, (error) => console.warn("diffview: a frame could not be decoded", error));
}

// Take over handle_binary once per canvas model class, for marked models.
function takeOver(proto) {
  if (Object.prototype.hasOwnProperty.call(proto, ORIGINAL)) return true;
  const original = proto.handle_binary;
  if (typeof original !== "function" || typeof proto._for_each_view !== "function") {
    return false;
  }
  proto[ORIGINAL] = original;
  proto.handle_binary = function (msg, buffers) {
    const short = Object.prototype.hasOwnProperty.call(this, SHORT);
    if (short && buffers && buffers.length) return draw(this, buffers[0]);
    return original.call(this, msg, buffers);
  };
  return true;
}

async function mark(model) {
  if (typeof window.createImageBitmap !== "function") return;
  const manager = model.widget_manager;
  if (!manager || typeof manager.get_model !== "function") return;
  for (const id of model.get("canvases")) {
    let canvas;
    try { canvas = await manager.get_model(id); } catch (e) { continue; }
    if (!canvas || !canvas.offscreen_context) continue;
    if (takeOver(Object.getPrototypeOf(canvas))) canvas[SHORT] = true;
  }
}

export default {
  initialize({ model }) {
    mark(model);
    model.on("change:canvases", () => mark(model));
  },
  render({ el }) { el.style.display = "none"; },
};
"""


class FrameDrawer(anywidget.AnyWidget):
    """
    A hidden widget that makes the page draw its canvases' frames at once.

    Parameters
    ----------
    canvases : list of ipympl canvases
        The figures' canvases (`diffview.widgets._canvas.PanelCanvas`) whose
        frames take the short path.

    Attributes
    ----------
    canvases : list of str
        Their widget model ids.

    Examples
    --------
    >>> from diffview.widgets._canvas import new_figure
    >>> fig = new_figure((1.0, 1.0))
    >>> FrameDrawer([fig.canvas]).canvases == [fig.canvas.model_id]
    True
    >>> fig.canvas.close()
    """

    _esm = _ESM
    canvases = traitlets.List(traitlets.Unicode()).tag(sync=True)

    def __init__(self, canvases=(), **kwargs):
        super().__init__(canvases=[c.model_id for c in canvases], **kwargs)
