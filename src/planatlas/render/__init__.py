"""Renderers: loaded preset data (:class:`planatlas.maps.load.PresetData`) in, map objects out; one writer.

Interactive: :mod:`.interactive` (``build_map`` → ``folium.Map``), :mod:`.query_map`, with
:mod:`.basemaps` and :mod:`.leaflet` (controls and styling in JavaScript) and :mod:`.assets`
(vendored Leaflet). Print: :mod:`.static` (``render_map`` → :class:`.page.RenderedPage`) from
:mod:`.fonts`, :mod:`.page`, :mod:`.layers`, :mod:`.labels`, :mod:`.furniture`, :mod:`.notes` and
:mod:`.series`. Files are written only by :mod:`.write`.
"""
