"""Place search: a typed name or alias → the places it may mean, with a position to zoom to and ask about.

One entry, :func:`place_index`, reads the names: from the gazetteer layer ``places`` when the atlas
has one (issue 10: ``name_zh``, ``name_en``, ``aliases``), then from the point layers of the atlas
(``name``, ``name_en``, ``aliases``) for what the gazetteer does not hold yet. :func:`search_places` is pure. Aliases written
``别名@行号`` (a plan line cited) are matched without the line number. Unlocated places (no
geometry) are listed but cannot be zoomed to.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd

from planatlas.crs import METRIC_CRS, STORAGE_CRS
from planatlas.errors import PlanAtlasError
from planatlas.store.base import LayerStore

__all__ = ["GAZETTEER_LAYER", "Place", "is_located", "nearest_place", "place_index", "search_places"]

#: The gazetteer layer searched when the atlas has it.
GAZETTEER_LAYER = "places"
_NAME_FIELDS = ("name", "name_zh", "name_en", "name_written")
#: Gazetteer kinds whose places are named as the layer holding them names its features (八一广场 → 八一广场站).
_KIND_LAYER = {"metro_station": "metro_stations"}


@dataclass(frozen=True)
class Place:
    """A named feature: where it is (EPSG:4490, None when unlocated) and every name it answers to."""

    layer: str
    key: str
    name: str
    names: tuple[str, ...]
    lon: float | None
    lat: float | None
    precision: str

    def label(self, layer_title: str) -> str:
        return f"{self.name} · {layer_title}"


def _fold(text: str) -> str:
    """Case- and width-insensitive form for matching (full-width letters, spaces)."""
    return unicodedata.normalize("NFKC", text).casefold().replace(" ", "")


def _alias_names(value: object) -> list[str]:
    if not isinstance(value, str):
        return []
    return [part.split("@")[0].strip() for part in value.split(";") if part.split("@")[0].strip()]


def _places_of(layer: str, frame: gpd.GeoDataFrame, key: str) -> list[Place]:
    out = []
    reps = frame.geometry.representative_point()
    for i, row in enumerate(frame.drop(columns=frame.geometry.name).to_dict("records")):
        names = [str(row[f]) for f in _NAME_FIELDS if isinstance(row.get(f), str) and row[f].strip()]
        names += _alias_names(row.get("aliases"))
        if not names:
            continue
        point = reps.iloc[i]
        located = point is not None and not point.is_empty
        out.append(
            Place(
                layer=_KIND_LAYER.get(str(row.get("kind")), layer) if layer == GAZETTEER_LAYER else layer,
                key=str(row[key]),
                name=names[0],
                names=tuple(dict.fromkeys(names)),
                lon=float(point.x) if located else None,
                lat=float(point.y) if located else None,
                precision=str(row.get("precision") or ""),
            )
        )
    return out


def place_index(store: LayerStore) -> list[Place]:
    """Every named place of the atlas: the gazetteer layer ``places`` first (when built), then the point
    layers' features it does not hold yet (same name at the same position: listed once)."""
    meta = store.metadata()["layers"]
    points = [n for n, info in meta.items() if info.get("geometry_type") in ("Point", "MultiPoint")]
    layers = [GAZETTEER_LAYER, *[n for n in points if n != GAZETTEER_LAYER]] if GAZETTEER_LAYER in meta else points
    places: list[Place] = []
    seen: set[tuple[str, float | None, float | None]] = set()
    for layer in layers:
        try:
            frame = store.read(layer)
            key = store.spec(layer).key
        except PlanAtlasError:  # a layer that cannot be read is left out of the search, not fatal
            continue
        if not isinstance(frame, gpd.GeoDataFrame):
            continue
        for place in _places_of(layer, frame, key):
            spot = (place.name, _rounded(place.lon), _rounded(place.lat))
            if spot not in seen:
                seen.add(spot)
                places.append(place)
    return places


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 5)  # about a metre


def search_places(places: Sequence[Place], text: str, *, limit: int = 10) -> list[Place]:
    """Places whose name or alias matches ``text``: exact first, then prefix, then substring.

    ``limit`` caps the list (pass a larger one to see more); ties keep the index order.
    """
    query = _fold(text or "")
    if not query:
        return []
    ranked: list[tuple[int, int, Place]] = []
    for i, place in enumerate(places):
        folded = [_fold(n) for n in place.names]
        if query in folded:
            rank = 0
        elif any(f.startswith(query) for f in folded):
            rank = 1
        elif any(query in f for f in folded):
            rank = 2
        else:
            continue
        ranked.append((rank, i, place))
    ranked.sort(key=lambda r: (r[0], r[1]))
    return [p for _, _, p in ranked[: max(limit, 0)]]


def nearest_place(places: Sequence[Place], lon: float, lat: float, *, within_m: float) -> Place | None:
    """The located place nearest ``(lon, lat)`` if it lies within ``within_m`` metres (EPSG:4548), else None."""
    located = [p for p in places if is_located(p)]
    if not located:
        return None
    xy = gpd.GeoSeries(
        gpd.points_from_xy([p.lon for p in located] + [lon], [p.lat for p in located] + [lat]), crs=STORAGE_CRS
    ).to_crs(METRIC_CRS)
    here = xy.iloc[-1]
    distances = xy.iloc[:-1].distance(here).to_numpy()
    best = int(distances.argmin())
    return located[best] if distances[best] <= within_m else None


def is_located(place: Place) -> bool:
    return place.lon is not None and place.lat is not None and math.isfinite(place.lon) and math.isfinite(place.lat)
