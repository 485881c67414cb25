"""A signature drawn on the screen: a canvas that takes mouse, finger and pen through pointer events.

The script is served inline by the app with the page (no CDN): it listens on the document for pointer
events on any `canvas[data-signature]`, so a canvas that React re-renders keeps working. The state reads
the drawing with `rx.call_script(signature_data_url(id))` (a PNG data URL, "" while nothing is drawn).
"""

from __future__ import annotations

import json

import reflex as rx

SIGNATURE_SCRIPT = """
(function () {
  if (window.signaturePad) return;
  var drawing = null;
  function at(canvas, e) {
    var r = canvas.getBoundingClientRect();
    return [(e.clientX - r.left) * canvas.width / r.width, (e.clientY - r.top) * canvas.height / r.height];
  }
  document.addEventListener('pointerdown', function (e) {
    var c = e.target && e.target.closest ? e.target.closest('canvas[data-signature]') : null;
    if (!c) return;
    e.preventDefault();
    drawing = c;
    try { c.setPointerCapture(e.pointerId); } catch (err) {}
    var g = c.getContext('2d');
    g.lineWidth = 2.5; g.lineCap = 'round'; g.lineJoin = 'round'; g.strokeStyle = '#111';
    var p = at(c, e);
    g.beginPath(); g.moveTo(p[0], p[1]);
  });
  document.addEventListener('pointermove', function (e) {
    if (!drawing) return;
    var p = at(drawing, e), g = drawing.getContext('2d');
    g.lineTo(p[0], p[1]); g.stroke();
    drawing.dataset.inked = '1';
  });
  ['pointerup', 'pointercancel'].forEach(function (kind) {
    document.addEventListener(kind, function () { drawing = null; });
  });
  window.signaturePad = {
    dataUrl: function (id) {
      var c = document.getElementById(id);
      return c && c.dataset.inked ? c.toDataURL('image/png') : '';
    },
    clear: function (id) {
      var c = document.getElementById(id);
      if (!c) return;
      c.getContext('2d').clearRect(0, 0, c.width, c.height);
      delete c.dataset.inked;
    }
  };
})();
"""


def signature_data_url(canvas_id: str) -> str:
    """JavaScript that answers the drawing as a PNG data URL ("" when nothing was drawn)."""
    return f"window.signaturePad ? window.signaturePad.dataUrl({json.dumps(canvas_id)}) : ''"


def signature_pad(canvas_id: str, label: str) -> rx.Component:
    """The box to sign in, with a Clear button; touch-action none so a finger draws instead of scrolling."""
    return rx.vstack(
        rx.el.canvas(
            id=canvas_id,
            # The drawing's own pixels, as attributes: Reflex turns width=/height= props into CSS, which
            # overrode width 100% and left a 300 x 150 default bitmap in a box too small to sign in.
            custom_attrs={"width": "600", "height": "180", "data-signature": "1", "aria-label": label, "role": "img"},
            style={
                "width": "100%",
                "max_width": "600px",
                "aspect_ratio": "600 / 180",
                "border": "1px dashed var(--gray-8)",
                "border_radius": "6px",
                "background": "white",
                "touch_action": "none",
                "cursor": "crosshair",
            },
            on_mount=rx.call_script(SIGNATURE_SCRIPT),
        ),
        rx.hstack(
            rx.text(label, size="1", color_scheme="gray"),
            rx.spacer(),
            rx.button(
                "Clear",
                type="button",
                size="1",
                variant="ghost",
                id=f"{canvas_id}-clear",
                on_click=rx.call_script(f"window.signaturePad && window.signaturePad.clear({json.dumps(canvas_id)})"),
            ),
            width="100%",
            max_width="600px",
        ),
        spacing="1",
        width="100%",
    )
