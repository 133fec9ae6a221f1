"""The map's asking tools: draw (rectangle, polygon, circle), measure (line, area) and their texts.

Leaflet.draw is vendored (:mod:`planatlas.render.assets`, loaded by
``use_package_assets(m, …, draw=True)``); :class:`AskTools` adds its control with folium's Draw
template but none of folium's CDN links, and translates every text the toolbar shows
(``L.drawLocal``) from ``texts.toml`` (``draw_`` keys). A drawn line is the measure tool: its length
shows while drawing and the app reports it; drawn areas show their area while drawing.
"""

from __future__ import annotations

import folium
from branca.element import MacroElement
from folium.plugins import Draw
from folium.template import Template

from planatlas.i18n import t

__all__ = ["AskTools", "DrawTexts", "add_ask_tools"]

#: The Leaflet.draw texts replaced, as (path in ``L.drawLocal``, text key).
_DRAW_TEXTS = (
    ("draw.toolbar.actions.title", "draw_cancel_title"),
    ("draw.toolbar.actions.text", "draw_cancel"),
    ("draw.toolbar.finish.title", "draw_finish_title"),
    ("draw.toolbar.finish.text", "draw_finish"),
    ("draw.toolbar.undo.title", "draw_undo_title"),
    ("draw.toolbar.undo.text", "draw_undo"),
    ("draw.toolbar.buttons.polyline", "draw_measure_line"),
    ("draw.toolbar.buttons.polygon", "draw_polygon"),
    ("draw.toolbar.buttons.rectangle", "draw_rectangle"),
    ("draw.toolbar.buttons.circle", "draw_circle"),
    ("draw.handlers.circle.tooltip.start", "draw_circle_start"),
    ("draw.handlers.circle.radius", "draw_radius"),
    ("draw.handlers.polygon.tooltip.start", "draw_polygon_start"),
    ("draw.handlers.polygon.tooltip.cont", "draw_polygon_cont"),
    ("draw.handlers.polygon.tooltip.end", "draw_polygon_end"),
    ("draw.handlers.polyline.tooltip.start", "draw_line_start"),
    ("draw.handlers.polyline.tooltip.cont", "draw_line_cont"),
    ("draw.handlers.polyline.tooltip.end", "draw_line_end"),
    ("draw.handlers.polyline.error", "draw_line_error"),
    ("draw.handlers.rectangle.tooltip.start", "draw_rectangle_start"),
    ("draw.handlers.simpleshape.tooltip.end", "draw_shape_end"),
    ("edit.toolbar.buttons.remove", "draw_remove"),
    ("edit.toolbar.buttons.removeDisabled", "draw_remove_none"),
    ("edit.toolbar.actions.clearAll.title", "draw_clear_title"),
    ("edit.toolbar.actions.clearAll.text", "draw_clear"),
    ("edit.toolbar.actions.save.title", "draw_save_title"),
    ("edit.toolbar.actions.save.text", "draw_save"),
    ("edit.toolbar.actions.cancel.title", "draw_cancel_title"),
    ("edit.toolbar.actions.cancel.text", "draw_cancel"),
    ("edit.handlers.remove.tooltip.text", "draw_remove_hint"),
)


class DrawTexts(MacroElement):
    """Sets ``L.drawLocal`` (Leaflet.draw's texts) to the page language before the control is made,
    and keeps the clicks that draw a shape from reaching the map's click listeners."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function() {
            var texts = {{ this.texts|tojson }};
            Object.keys(texts).forEach(function(path) {
                var parts = path.split('.'), node = L.drawLocal;
                for (var i = 0; i < parts.length - 1; i++) {
                    if (!node[parts[i]]) { return; }
                    node = node[parts[i]];
                }
                node[parts[parts.length - 1]] = texts[path];
            });
            // While a shape is being drawn its clicks are not questions: the map's own click
            // listeners (the app's "ask around this point") are set aside until drawing stops.
            var m = {{ this._parent.get_name() }};
            m.on('draw:drawstart', function() {
                var own = (m._events.click || []).filter(function(h) { return !h.ctx || h.ctx === m; });
                own.forEach(function(h) { m.off('click', h.fn, h.ctx); });
                m.__paHeldClicks = (m.__paHeldClicks || []).concat(own);
            });
            m.on('draw:drawstop', function() {
                setTimeout(function() {  // after the click that ends the drawing has passed
                    (m.__paHeldClicks || []).forEach(function(h) { m.on('click', h.fn, h.ctx); });
                    m.__paHeldClicks = [];
                }, 0);
            });
        })();
        {% endmacro %}
        """
    )

    def __init__(self, lang: str) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # branca's Element.__init__ is not annotated
        self._name = "DrawTexts"
        self.texts = {path: t(key, lang) for path, key in _DRAW_TEXTS}


class AskTools(Draw):
    """folium's Draw control without its CDN links (the vendored Leaflet.draw is on the map)."""

    default_js: list[tuple[str, str]] = []  # noqa: RUF012 - folium reads these class attributes
    default_css: list[tuple[str, str]] = []  # noqa: RUF012


def add_ask_tools(m: folium.Map, lang: str) -> folium.Map:
    """Add the draw tools (rectangle, polygon, circle to ask; a line to measure) to ``m`` in ``lang``.

    ``m`` must load Leaflet.draw (``use_package_assets(m, …, draw=True)``).
    """
    DrawTexts(lang).add_to(m)
    shape = {"color": "#d7301f", "weight": 2, "fillOpacity": 0.08}
    AskTools(  # type: ignore[no-untyped-call]  # folium's Draw.__init__ is not annotated
        position="topleft",
        show_geometry_on_click=False,
        draw_options={
            "polyline": {"metric": True, "feet": False, "showLength": True, "shapeOptions": {"color": "#2b8cbe"}},
            "polygon": {"metric": True, "showArea": True, "allowIntersection": False, "shapeOptions": shape},
            "rectangle": {"metric": True, "showArea": True, "shapeOptions": shape},
            "circle": {"metric": True, "feet": False, "showRadius": True, "shapeOptions": shape},
            "marker": False,
            "circlemarker": False,
        },
        edit_options={"edit": False},
    ).add_to(m)
    return m
