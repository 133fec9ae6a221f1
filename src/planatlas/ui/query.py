"""The Query page: ask by clicking the map, drawing on it, searching a place or choosing features.

Streamlit calls only. The question is kept in session state (``pq_*``) and in the permalink
(``?page=query&kind=within&layer=buildings&at=LON,LAT&distance=1km``); answers come from
:func:`planatlas.query.run_query` (so the page shows what the CLI prints, on GeoPackage or PostGIS),
the map from :func:`planatlas.render.query_map.query_map`, the planner's table from
:mod:`planatlas.query.readable`, the downloads and the print page from :mod:`planatlas.ui.answer`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import shapely
import streamlit as st

from planatlas.crs import METRIC_CRS, STORAGE_CRS
from planatlas.errors import PlanAtlasError
from planatlas.i18n import t
from planatlas.query import QUERY_KINDS, IndexCache, QueryRequest, QueryResult, parse_distance, run_query
from planatlas.query.readable import format_distance, question_title, reference_name
from planatlas.query.reference import DrawnReference, drawn_reference, format_at, parse_at
from planatlas.render.query_map import QUERY_FEATURE_CAP, query_map
from planatlas.ui.answer import render_answer, result_bytes
from planatlas.ui.atlas import asset_base_url
from planatlas.ui.places import point_label, render_place_search
from planatlas.ui.query_state import of_state_key
from planatlas.ui.widgets import error_text, stable_choice

if TYPE_CHECKING:
    from planatlas.settings import Settings
    from planatlas.store.base import LayerStore

#: What can be asked around each kind of reference.
REF_MODES = ("point", "area", "features")
KINDS_BY_REF = {
    "point": ("within", "nearest"),
    "area": ("inside", "intersects", "summarize"),
    "features": QUERY_KINDS,
}
#: The permalink's parameters (``ref`` is implied by ``at``).
URL_PARAMS = ("kind", "layer", "at", "distance", "of", "field", "values", "ref")
MAP_HEIGHT = 560
_DEFAULT_NEAREST = 10


def _geometry_layers(store: LayerStore) -> list[str]:
    meta = store.metadata()["layers"]
    return [n for n, info in meta.items() if info.get("geometry_type", "None") != "None"]


def _title(store: LayerStore, name: str, lang: str) -> str:
    try:
        return f"{store.spec(name).title_in(lang)} ({name})"
    except PlanAtlasError:  # a layer without a readable spec still gets a label
        return name


def _layer_title(store: LayerStore, name: str, lang: str) -> str:
    try:
        return store.spec(name).title_in(lang)
    except PlanAtlasError:
        return name


# ---- state from the permalink -------------------------------------------------------------------
def init_from_url(layers: list[str]) -> None:
    """Seed the question from the URL on the session's first visit (URLs are untrusted: checked)."""
    if st.session_state.get("pq_seeded"):
        return
    st.session_state["pq_seeded"] = True
    params = st.query_params
    at = params.get("at")
    if at:
        try:
            st.session_state["pq_at"] = format_at(parse_at(at, crs=params.get("at_crs") or STORAGE_CRS))
            st.session_state["pq_ref"] = "point"
        except ValueError:
            st.session_state["pq_url_problem"] = at
    ref = params.get("ref")
    if ref in REF_MODES and not at:
        st.session_state["pq_ref"] = ref
    mode = st.session_state.get("pq_ref", "features")
    kind = params.get("kind")
    if kind in KINDS_BY_REF[mode]:
        st.session_state["pq_kind"] = kind
    if params.get("layer") in layers:
        st.session_state["pq_layer"] = params.get("layer")
    if params.get("of") in layers:
        st.session_state[of_state_key(str(st.session_state.get("pq_kind", "within")))] = params.get("of")
    if params.get("field"):
        st.session_state["pq_field"] = params.get("field")
    if params.get("values"):
        st.session_state["pq_values"] = [v for v in str(params.get("values")).split(",") if v]
    distance = params.get("distance")
    if distance:
        try:
            parse_distance(distance)
            st.session_state["pq_distance"] = distance
        except ValueError:
            st.session_state["pq_url_problem"] = distance


def _sync_url(values: dict[str, str]) -> None:
    keep = {k: v for k, v in st.query_params.to_dict().items() if k in ("page", "lang")}
    wanted = {**keep, **{k: v for k, v in values.items() if v}}
    if st.query_params.to_dict() != wanted:
        st.query_params.from_dict(wanted)


# ---- the question -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Question:
    """What the page asks: the request (None when a reference is still missing) and its words."""

    request: QueryRequest | None
    reference_text: str
    missing: str = ""
    permalink: tuple[tuple[str, str], ...] = ()


def _distance_input(kind: str, lang: str) -> str | None:
    if kind in ("within", "coverage"):
        if "pq_distance" not in st.session_state:
            st.session_state["pq_distance"] = "1km"
        return str(st.text_input(t("query_distance", lang), key="pq_distance"))
    if kind == "nearest":
        text = st.text_input(t("query_max_distance", lang), key="pq_max_distance", value="")
        return text or None
    return None


def _features_question(
    store: LayerStore, layers: list[str], kind: str, layer: str, distance: str | None, lang: str
) -> Question:
    """The form: reference (or zone) features chosen by layer, field and values."""
    label = functools.partial(_title, store, lang=lang)
    zone_kinds = ("inside", "intersects", "summarize")
    default_of = "streets" if kind in zone_kinds else "metro_stations"
    of = stable_choice(
        st.selectbox,
        t("query_zones" if kind in zone_kinds else "query_of", lang),
        layers,
        state_key=of_state_key(kind),
        lang=lang,
        default=default_of if default_of in layers else layers[0],
        format_func=label,
    )
    spec = store.spec(of)
    fields = [spec.key, *[f for f in spec.fields if f != spec.key]]
    field = stable_choice(
        st.selectbox,
        t("query_select_field", lang),
        fields,
        state_key="pq_field",
        lang=lang,
        default="name" if "name" in fields else spec.key,
    )
    values = sorted({str(v) for v in store.read(of, columns=[field])[field].dropna()})
    widget_key = f"pq_values_{of}_{field}_{lang}"
    if widget_key not in st.session_state:
        st.session_state[widget_key] = [v for v in st.session_state.get("pq_values", []) if v in values]
    chosen = st.multiselect(
        t("query_select_values", lang), values, key=widget_key, placeholder=t("query_placeholder_all", lang)
    )
    st.session_state["pq_values"] = chosen
    by = None
    if kind == "coverage":
        by = stable_choice(
            st.selectbox,
            t("query_by", lang),
            layers,
            state_key="pq_by",
            lang=lang,
            default="streets",
            format_func=label,
        )
    value = None
    if kind in ("summarize", "coverage"):
        numeric = [f for f, fs in store.spec(layer).fields.items() if fs.type in ("int", "float")]
        value = st.selectbox(
            t("query_value" if kind == "summarize" else "query_weight", lang),
            [None, *numeric],
            key=f"pq_value_{layer}_{lang}",
            format_func=lambda v: t("query_none", lang) if v is None else v,
        )
    where = {field: chosen} if chosen else {}
    if chosen:
        names = chosen
        name_field = "name_en" if lang == "en" and "name_en" in spec.fields else "name"
        if field != name_field and name_field in spec.fields:
            frame = store.read(of, where={field: chosen}, columns=[name_field])
            names = [str(n) for n in frame[name_field].dropna()] or chosen
        ref_text = reference_name(of, names, lang)
    else:
        ref_text = _layer_title(store, of, lang)
    rq = QueryRequest(kind=kind, layer=layer, of=of, where=where, distance=distance, by=by, value=value)
    link = (("ref", "features"), ("of", of), ("field", field), ("values", ",".join(chosen)))
    return Question(rq, ref_text, permalink=link)


def _point_question(store: LayerStore, kind: str, layer: str, distance: str | None, lang: str) -> Question:
    at = st.session_state.get("pq_at")
    if not at:
        return Question(None, "", missing=t("query_no_point", lang))
    point = parse_at(at)
    label = point_label(store, at, lang)
    limit = None
    if kind == "nearest":
        limit = int(st.number_input(t("query_nearest_count", lang), 1, 500, _DEFAULT_NEAREST, key="pq_limit"))
    rq = QueryRequest(kind=kind, layer=layer, of=label, at=point, distance=distance, limit=limit)
    return Question(rq, label, permalink=(("at", at),))


def _area_question(kind: str, layer: str, lang: str) -> Question:
    drawn = st.session_state.get("pq_area")
    ref = drawn_reference(drawn) if drawn else None
    if ref is None:
        return Question(None, "", missing=t("query_no_area", lang))
    if ref.radius_m is not None:
        text = t("query_drawn_circle", lang, r=format_distance(ref.radius_m, lang))
        if kind == "summarize":  # counts per street need an area: the circle as a 128-gon, in EPSG:4548
            disk = gpd.GeoSeries([ref.geometry], crs=STORAGE_CRS).to_crs(METRIC_CRS).buffer(ref.radius_m, quad_segs=32)
            rq = QueryRequest(kind=kind, layer=layer, of=text, at=disk.to_crs(STORAGE_CRS).iloc[0])
        else:  # inside / meeting a circle: within its radius of the centre, exactly
            rq = QueryRequest(kind="within", layer=layer, of=text, at=ref.geometry, distance=ref.radius_m)
        return Question(rq, text)
    return Question(
        QueryRequest(kind=kind, layer=layer, of=t("query_drawn_area", lang), at=ref.geometry),
        t("query_drawn_area", lang),
    )


# ---- the map's events ---------------------------------------------------------------------------
def _take_map_events(out: dict[str, Any] | None, lang: str) -> None:
    """A new click asks around that point; a new drawn shape asks about it; a drawn line is measured."""
    out = out or {}
    clicked = out.get("last_clicked")
    if isinstance(clicked, dict) and clicked != st.session_state.get("pq_seen_click"):
        st.session_state["pq_seen_click"] = clicked
        try:
            point = parse_at(f"{float(clicked['lng'])},{float(clicked['lat'])}")
        except (KeyError, TypeError, ValueError):
            point = None
        if point is not None and st.session_state.get("pq_seen_drawing_at") != clicked:
            st.session_state["pq_at"] = format_at(point)
            st.session_state.pop("pq_at_place", None)
            st.session_state["pq_ref"] = "point"
            if st.session_state.get("pq_kind") not in KINDS_BY_REF["point"]:
                st.session_state["pq_kind"] = "within"
            st.rerun()
    drawing = out.get("last_active_drawing")
    if isinstance(drawing, dict) and drawing != st.session_state.get("pq_seen_drawing"):
        st.session_state["pq_seen_drawing"] = drawing
        st.session_state["pq_seen_drawing_at"] = clicked  # the clicks that drew it are not questions
        geometry = drawing.get("geometry") or {}
        if geometry.get("type") == "LineString":
            st.session_state["pq_measured"] = drawing
            st.rerun()
        if drawn_reference(drawing) is not None:
            st.session_state["pq_area"] = drawing
            st.session_state["pq_ref"] = "area"
            if st.session_state.get("pq_kind") not in KINDS_BY_REF["area"]:
                st.session_state["pq_kind"] = "inside"
            st.rerun()


def _measured_caption(lang: str) -> None:
    """The length of a measured line, or the area of the drawn area, in EPSG:4548."""
    for key, kind in (("pq_measured", "line"), ("pq_area", "area")):
        feature = st.session_state.get(key)
        if not feature:
            continue
        try:
            geom = shapely.geometry.shape(feature["geometry"])
        except (KeyError, TypeError, ValueError, AttributeError):
            continue
        metric = gpd.GeoSeries([geom], crs=STORAGE_CRS).to_crs(METRIC_CRS).iloc[0]
        if kind == "line" and geom.geom_type == "LineString":
            st.caption(t("query_measured_line", lang, d=format_distance(metric.length, lang)))
        elif geom.geom_type in ("Polygon", "MultiPolygon"):
            area_km2 = metric.area / 1e6
            area = f"{area_km2:.2f} 平方公里" if lang == "zh" else f"{area_km2:.2f} km²"
            st.caption(t("query_measured_area", lang, a=area, d=format_distance(metric.length, lang)))


# ---- page ---------------------------------------------------------------------------------------
def _context(store: LayerStore, layer: str) -> list[gpd.GeoDataFrame]:
    """Street outlines and the searched layer's features, greyed, so a click lands somewhere known."""
    frames = []
    for name in ("streets", layer):
        try:
            frame = store.read(name, columns=["name"])
        except (PlanAtlasError, KeyError, ValueError):  # a layer without names, or not in this atlas
            continue
        if isinstance(frame, gpd.GeoDataFrame) and len(frame) <= QUERY_FEATURE_CAP:
            frames.append(frame)
    return frames


def render_page(store: LayerStore, settings: Settings, lang: str) -> None:
    """Draw the Query page."""
    # streamlit_folium declares its component when imported: only when a page is drawn (nothing at import)
    from streamlit_folium import st_folium  # noqa: PLC0415 - declares a component on import: not at import time

    st.header(t("query_title", lang))
    st.markdown(t("query_how", lang))
    st.caption(t("query_intro", lang))
    layers = _geometry_layers(store)
    if not layers:
        st.info(t("query_empty", lang))
        return
    init_from_url(layers)
    if st.session_state.pop("pq_url_problem", None) is not None:
        st.warning(t("query_bad_distance", lang) + t("query_no_point", lang))
    focus = render_place_search(store, lang)

    c1, c2, c3 = st.columns(3)
    with c1:
        mode = stable_choice(
            st.radio,
            t("query_ref_mode", lang),
            REF_MODES,
            state_key="pq_ref",
            lang=lang,
            default="features",
            format_func=lambda m: t(f"query_ref_{m}", lang),
            horizontal=True,
        )
        kinds = KINDS_BY_REF[mode]
        kind = stable_choice(
            st.selectbox,
            t("query_kind", lang),
            kinds,
            state_key="pq_kind",
            lang=lang,
            format_func=lambda k: t(f"query_{k}", lang),
        )
    with c2:
        layer = stable_choice(
            st.selectbox,
            t("query_layer", lang),
            layers,
            state_key="pq_layer",
            lang=lang,
            default="buildings" if "buildings" in layers else layers[0],
            format_func=functools.partial(_title, store, lang=lang),
        )
    with c3:
        distance = _distance_input(kind, lang) if mode != "area" else None
    if distance is not None:
        try:
            parse_distance(distance)
        except ValueError as exc:
            st.error(t("query_bad_distance", lang) + error_text(exc))
            return

    result: QueryResult | None = None
    try:
        if mode == "features":
            with c2:
                question = _features_question(store, layers, kind, layer, distance, lang)
        elif mode == "point":
            with c3:
                question = _point_question(store, kind, layer, distance, lang)
        else:
            question = _area_question(kind, layer, lang)
        if question.request is not None:
            result = run_query(store, question.request, cache=_index_cache())
    except (PlanAtlasError, ValueError, LookupError) as exc:  # a refused question: say why; the page stays usable
        st.error(t("query_error", lang) + error_text(exc))
        return

    left, right = st.columns([3, 2], gap="medium")
    with left:
        key = store.spec(layer).key
        ref_key = "ref_id" if result is None or result.request.at is not None else store.spec(result.request.of).key
        if result is not None and result.request.kind == "summarize" and result.request.at is None:
            key = ref_key
        shown = result if result is not None and result.request.kind != "coverage" else None
        fmap = query_map(
            shown,
            key=key,
            ref_key=ref_key,
            lang=lang,
            context=_context(store, layer),
            tools=True,
            focus=focus,
            asset_base_url=asset_base_url(),
        )
        out = st_folium(
            fmap,
            key="pq_map",
            height=MAP_HEIGHT,
            use_container_width=True,
            returned_objects=["last_clicked", "last_active_drawing"],
        )
        _take_map_events(out, lang)
        _measured_caption(lang)
        if result is not None and len(result.frame) > QUERY_FEATURE_CAP:
            st.caption(t("query_map_capped", lang, n=QUERY_FEATURE_CAP))
    with right:
        if result is None:
            st.info(question.missing)
        else:
            title = question_title(
                kind=result.request.kind,
                layer_title=_layer_title(store, layer, lang),
                reference=question.reference_text,
                distance=result.request.distance,
                lang=lang,
            )
            render_answer(store, result, title=title, lang=lang)
    link = {"kind": kind, "layer": layer, "distance": distance or "", **dict(question.permalink)}
    _sync_url({k: v for k, v in link.items() if k in URL_PARAMS})


@st.cache_resource(show_spinner=False)
def _index_cache() -> IndexCache:
    """One dict per app process holding prepared distance indexes (keyed by atlas content and layer)."""
    return {}


__all__ = ["KINDS_BY_REF", "REF_MODES", "DrawnReference", "render_page", "result_bytes"]
