"""Map presets: declarative definitions of what each thematic map shows (pure).

A :class:`Preset` is a titled list of :class:`PresetLayer` s drawn bottom to top. Each preset layer
names a catalogue layer (``layer``), its zh/en ``title``, a :class:`~planatlas.maps.style.Style`,
row ``filters``, a ``label`` column, the attribute ``fields`` its popup shows, and optional
derived geometry (``buffer_m``: rings around points, measured in EPSG:4548) or a ``count`` join
(a choropleth of how many rows of another layer reference each feature). Presets may declare
:class:`PresetParameter` s (the Jiuwang ``phase``); a filter value ``Param("phase")`` is bound
with ``preset.bind(phase=2022)`` or at preparation time.

Renderers use it like this (see :mod:`planatlas.maps.frames` for the data side)::

    preset = get_preset("jiuwang-roads")
    layers = prepare_preset(preset, load_frames(preset, store), params={"phase": 2022})
    for pl in layers:                          # PreparedLayer, bottom to top
        pl.layer.title_in("en"), pl.frame, pl.resolved.feature_colors(pl.frame)
        pl.resolved.legend("en", title=pl.layer.title)

Every prepared layer carries the precision classes of its features (``PreparedLayer.precision``);
:func:`schematic_note` gives the "schematic" caption renderers must show when any are schematic.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from planatlas.catalog import SEED_XIHU, SEED_XINJIAN
from planatlas.maps.style import Category, Style, text_in

FilterOp = Literal["==", "!=", "in", "not in", "<", "<=", ">", ">=", "notnull"]
_OPS = ("==", "!=", "in", "not in", "<", "<=", ">", ">=", "notnull")


@dataclass(frozen=True)
class Param:
    """A filter value supplied by a preset parameter at render time."""

    name: str


@dataclass(frozen=True)
class Filter:
    """Keep rows where ``column op value`` holds (``value`` may be a :class:`Param`)."""

    column: str
    op: FilterOp = "=="
    value: Any = None

    def __post_init__(self) -> None:
        if self.op not in _OPS:
            msg = f"filter op should be one of {_OPS}, got {self.op!r}"
            raise ValueError(msg)


@dataclass(frozen=True)
class Choice:
    value: Any
    label: Mapping[str, str]

    def label_in(self, lang: str) -> str:
        return text_in(self.label, lang, default=str(self.value))


@dataclass(frozen=True)
class PresetParameter:
    """A user choice of a preset (e.g. the Jiuwang construction phase)."""

    name: str
    title: Mapping[str, str]
    choices: tuple[Choice, ...]
    default: Any

    def choice(self, value: Any) -> Choice:
        for c in self.choices:
            if str(c.value) == str(value):
                return c
        allowed = ", ".join(str(c.value) for c in self.choices)
        msg = f"{self.name} should be one of {allowed}, got {value!r}"
        raise ValueError(msg)


@dataclass(frozen=True)
class CountJoin:
    """Count the rows of catalogue layer ``table`` whose ``table_on`` equals this layer's ``on``."""

    table: str
    on: str
    table_on: str
    column: str = "count"
    title: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PresetLayer:
    """One drawn layer of a preset.

    Parameters
    ----------
    id
        Unique within the preset (a catalogue layer may be drawn twice, e.g. zones and the belt).
    layer
        Catalogue layer name.
    title
        ``{"zh": …, "en": …}`` shown in the layer control and the legend.
    style
        Colours, classes, widths.
    filters
        All must hold for a row to be drawn.
    label
        Column labelling features (map labels, tooltips); ``label_en`` is used in English
        when the data has it.
    fields
        Attributes the popup/side panel shows, before the provenance fields.
    buffer_m
        Draw ``buffer_m``-metre rings (EPSG:4548) around the features instead of the features.
    count
        Add a count column from another layer (choropleths).
    show
        Visible when the map opens.
    legend
        Listed in the legend.
    interactive
        Tooltips, popups and click-to-details.
    simplify_m
        Display simplification tolerance in metres (shared edges kept for polygon coverages).
    labels_on_map
        Draw the label on the map (permanently), not only as a tooltip.
    map_label_strip
        Per language, a suffix dropped from on-map labels so they fit ("Nanpu Subdistrict" is
        labelled "Nanpu"); tooltips, popups and exports keep the full name.
    """

    id: str
    layer: str
    title: Mapping[str, str]
    style: Style = field(default_factory=Style)
    filters: tuple[Filter, ...] = ()
    label: str | None = "name"
    label_en: str | None = "name_en"
    fields: tuple[str, ...] = ()
    buffer_m: float | None = None
    count: CountJoin | None = None
    show: bool = True
    legend: bool = True
    interactive: bool = True
    simplify_m: float | None = None
    labels_on_map: bool = False
    map_label_strip: Mapping[str, str] = field(default_factory=dict)

    def title_in(self, lang: str) -> str:
        return text_in(self.title, lang, default=self.id)

    def map_label(self, name: str, lang: str) -> str:
        """The on-map form of a label (see ``map_label_strip``)."""
        suffix = self.map_label_strip.get(lang)
        return name.removesuffix(suffix) if suffix and name.endswith(suffix) and name != suffix else name

    def columns(self) -> set[str]:
        """Catalogue columns this layer reads (style, filters, label, fields, count key)."""
        cols = set(self.style.columns()) | {f.column for f in self.filters} | set(self.fields)
        if self.label:
            cols.add(self.label)
        if self.count:
            cols.add(self.count.on)
            cols.discard(self.count.column)
            cols -= self.style.columns() & {self.count.column}
        return cols


@dataclass(frozen=True)
class Preset:
    """A thematic map: title, subtitle (plan and year), layers bottom to top, parameters."""

    name: str
    title: Mapping[str, str]
    subtitle: Mapping[str, str]
    layers: tuple[PresetLayer, ...]
    parameters: tuple[PresetParameter, ...] = ()
    #: Layer ids whose extent frames the map (default: every layer).
    extent: tuple[str, ...] = ()
    #: Seed files the preset draws on (for the source note of exports).
    sources: tuple[str, ...] = ()
    description: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        ids = [pl.id for pl in self.layers]
        if len(ids) != len(set(ids)):
            msg = f"preset {self.name!r}: layer ids should be unique, got {ids!r}"
            raise ValueError(msg)

    def title_in(self, lang: str) -> str:
        return text_in(self.title, lang, default=self.name)

    def subtitle_in(self, lang: str) -> str:
        return text_in(self.subtitle, lang)

    def layer(self, layer_id: str) -> PresetLayer:
        for pl in self.layers:
            if pl.id == layer_id:
                return pl
        msg = f"preset {self.name!r} has no layer {layer_id!r}; it has {[p.id for p in self.layers]}"
        raise KeyError(msg)

    def catalogue_layers(self) -> list[str]:
        """Catalogue layers to load (drawn layers and count tables), in first-use order."""
        names: list[str] = []
        for pl in self.layers:
            for n in (pl.layer, pl.count.table if pl.count else None):
                if n and n not in names:
                    names.append(n)
        return names

    def parameter(self, name: str) -> PresetParameter:
        for p in self.parameters:
            if p.name == name:
                return p
        msg = f"preset {self.name!r} has no parameter {name!r}"
        raise KeyError(msg)

    def params_with_defaults(self, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Parameter values with defaults filled in, each checked against its choices."""
        params = dict(params or {})
        unknown = set(params) - {p.name for p in self.parameters}
        if unknown:
            msg = f"preset {self.name!r} has no parameter(s) {sorted(unknown)}"
            raise KeyError(msg)
        out = {}
        for p in self.parameters:
            value = params.get(p.name, p.default)
            out[p.name] = p.choice(value).value
        return out

    def bind(self, **params: Any) -> Preset:
        """A copy with every :class:`Param` filter value replaced by its value."""
        values = self.params_with_defaults(params)

        def bind_filter(f: Filter) -> Filter:
            return replace(f, value=values[f.value.name]) if isinstance(f.value, Param) else f

        layers = tuple(replace(pl, filters=tuple(bind_filter(f) for f in pl.filters)) for pl in self.layers)
        return replace(self, layers=layers, parameters=())


#: Titles of common attribute names (catalogue field titles take precedence).
FIELD_TITLES: Mapping[str, Mapping[str, str]] = {
    "name": {"zh": "名称", "en": "Name"},
    "name_en": {"zh": "英文名", "en": "English name"},
    "street_id": {"zh": "街道", "en": "Street"},
    "street": {"zh": "街道", "en": "Street"},
    "streets": {"zh": "街道", "en": "Streets"},
    "zone": {"zh": "功能区", "en": "Zone"},
    "zone_id": {"zh": "功能区", "en": "Zone"},
    "kind": {"zh": "类别", "en": "Kind"},
    "theme": {"zh": "特色主题", "en": "Theme"},
    "status": {"zh": "状态", "en": "Status"},
    "industry": {"zh": "行业", "en": "Industry"},
    "industries": {"zh": "重点产业", "en": "Key industries"},
    "approach": {"zh": "发展思路", "en": "Approach"},
    "level": {"zh": "等级", "en": "Level"},
    "lines": {"zh": "线路", "en": "Lines"},
    "line": {"zh": "线路", "en": "Line"},
    "interchange": {"zh": "换乘站", "en": "Interchange"},
    "uncertainty_m": {"zh": "位置误差（米）", "en": "Position uncertainty (m)"},
    "coord_basis": {"zh": "坐标依据", "en": "Coordinate basis"},
    "termini": {"zh": "起讫站", "en": "Termini"},
    "station_count": {"zh": "站点数", "en": "Stations"},
    "key_industries": {"zh": "重点产业", "en": "Key industries"},
    "zones": {"zh": "所属功能区", "en": "Zones"},
    "streets_as_written": {"zh": "范围（原文）", "en": "Extent (as written)"},
    "business_district": {"zh": "商圈", "en": "Business district"},
    "category": {"zh": "类别", "en": "Category"},
    "members": {"zh": "组成", "en": "Members"},
    "anchors": {"zh": "依托", "en": "Anchors"},
    "status_text": {"zh": "状态（原文）", "en": "Status (as written)"},
    "class": {"zh": "道路等级", "en": "Road class"},
    "plan_text": {"zh": "规划原文", "en": "Plan text"},
    "structure": {"zh": "空间结构", "en": "Structure"},
    "plan_area_text": {"zh": "规划面积（原文）", "en": "Plan area (as written)"},
    "area_km2_measured": {"zh": "量测面积（km²）", "en": "Measured area (km²)"},
    "plan_population_text": {"zh": "规划人口（原文）", "en": "Plan population (as written)"},
    "plan_total_investment_text": {"zh": "总投资（原文）", "en": "Total investment (as written)"},
    "programme_text": {"zh": "所属项目（原文）", "en": "Programme (as written)"},
    "road_class": {"zh": "道路等级", "en": "Road class"},
    "start_year": {"zh": "开工年份", "en": "Start year"},
    "from_road": {"zh": "起点道路", "en": "From"},
    "to_road": {"zh": "终点道路", "en": "To"},
    "hq_count": {"zh": "总部型企业数", "en": "HQ enterprises"},
    "precision": {"zh": "精度", "en": "Precision"},
    "geom_note": {"zh": "几何说明", "en": "Geometry note"},
    "plan_note": {"zh": "规划备注", "en": "Plan note"},
    "name_written": {"zh": "原文写法", "en": "As written"},
    "aliases": {"zh": "别名", "en": "Aliases"},
    "cluster_type": {"zh": "集聚区类型", "en": "Cluster type"},
    "support_category": {"zh": "多点支撑类别", "en": "Node category"},
    "name_variants": {"zh": "其他写法", "en": "Other spellings"},
    "location_basis": {"zh": "位置依据", "en": "Location basis"},
    "source_file": {"zh": "来源文件", "en": "Source file"},
    "source_lines": {"zh": "来源行号", "en": "Source lines"},
    "description": {"zh": "说明", "en": "Description"},
    "investment": {"zh": "投资", "en": "Investment"},
}

#: Labels of the precision classes.
PRECISION_LABELS: Mapping[str, Mapping[str, str]] = {
    "surveyed": {"zh": "实测", "en": "surveyed"},
    "approximate": {"zh": "近似位置", "en": "approximate"},
    "street": {"zh": "仅知所在街道", "en": "street only"},
    "schematic": {"zh": "示意", "en": "schematic"},
    "unlocated": {"zh": "位置未知（不绘制）", "en": "unlocated (not drawn)"},
}


def field_title(name: str, lang: str, catalogue_titles: Mapping[str, Mapping[str, str]] | None = None) -> str:
    """Title of an attribute in ``lang``: the catalogue's, else a common one, else the name."""
    if catalogue_titles and catalogue_titles.get(name):
        return text_in(catalogue_titles[name], lang, default=name)
    if name not in FIELD_TITLES and name.endswith("_id"):
        return "编号" if lang == "zh" else "ID"
    return text_in(FIELD_TITLES.get(name), lang, default=name)


def schematic_note(lang: str) -> str:
    """The caption shown wherever schematic geometry is drawn."""
    return {
        "zh": "示意图：标注“示意”的边界与线位为依据规划文本绘制的示意位置，非测绘成果。",
        "en": "Schematic: boundaries and alignments marked 'schematic' are drawn from the plan text, not surveyed.",
    }.get(lang, "schematic")


# --------------------------------------------------------------------------------------------
# The presets. Column names follow the catalogue in geodata/layers/*.toml.
# --------------------------------------------------------------------------------------------

_XIHU_SUB = {
    "zh": "《南昌市西湖区产业高质量发展规划（2022—2025年）》",
    "en": "Xihu District Industry High-Quality Development Plan 2022–2025, Nanchang",
}
_OUTLINE = Style(color="#333333", fill=False, weight=2.2, opacity=0.9)
_STREET_OUTLINE = Style(
    color="#6b6b6b",
    fill=False,
    weight=1.0,
    opacity=0.8,
    dash="4 3",
    label={"zh": "街道界线（示意）", "en": "Street boundaries (schematic)"},
)
_XIHU = (Filter("district_id", "==", "xihu"),)


def _district(show: bool = True) -> PresetLayer:
    return PresetLayer(
        id="district",
        layer="districts",
        title={"zh": "西湖区界", "en": "Xihu District"},
        style=_OUTLINE,
        filters=_XIHU,
        interactive=False,
        show=show,
        simplify_m=5.0,
    )


def _streets(style: Style = _STREET_OUTLINE, **kw: Any) -> PresetLayer:
    return PresetLayer(
        id=kw.pop("id", "streets"),
        layer="streets",
        title=kw.pop("title", {"zh": "街道", "en": "Streets"}),
        style=style,
        fields=kw.pop("fields", ("zones", "key_industries")),
        simplify_m=3.0,
        labels_on_map=True,
        map_label_strip={"en": " Subdistrict"},
        **kw,
    )


ZONE_COLORS = (
    Category(
        "commerce_tourism_culture",
        "#e69f00",
        {"zh": "商旅文融合发展示范区", "en": "Commerce–tourism–culture demonstration zone"},
    ),
    Category(
        "service_innovation",
        "#cc79a7",
        {"zh": "服务业创新发展样板区", "en": "Service-industry innovation model zone"},
    ),
    Category(
        "digital_economy",
        "#56b4e9",
        {"zh": "数字经济发展引领区", "en": "Digital-economy leading zone"},
    ),
    Category(
        "professional_services",
        "#009e73",
        {"zh": "高端专业服务拓展区", "en": "High-end professional services zone"},
    ),
)

BUSINESS_DISTRICT_CATEGORIES = (
    Category("business_circle", "#d95f02", {"zh": "商圈", "en": "business circle"}),
    Category("historic_block", "#7570b3", {"zh": "历史文化街区", "en": "historic-cultural block"}),
    Category("professional_market", "#1b9e77", {"zh": "专业市场", "en": "professional market"}),
    Category("food_street", "#e7298a", {"zh": "美食街区", "en": "food street"}),
    Category("night_market", "#66a61e", {"zh": "夜市街区", "en": "night market"}),
    Category("night_economy", "#a6761d", {"zh": "夜间经济街区", "en": "night-economy block"}),
    Category("feature_street", "#e6ab02", {"zh": "特色街区", "en": "feature street"}),
)


CLUSTER_TYPES = (
    Category("数字经济产业集聚区", "#1f77b4", {"zh": "数字经济产业集聚区", "en": "digital-economy cluster"}),
    Category("总部经济集聚区", "#1f3b8c", {"zh": "总部经济集聚区", "en": "headquarters cluster"}),
    Category("会展产业集聚区", "#17becf", {"zh": "会展产业集聚区", "en": "exhibition cluster"}),
    Category("特色夜市街区", "#e377c2", {"zh": "特色夜市街区", "en": "night-market street"}),
    Category("专业市场集聚区", "#8c564b", {"zh": "专业市场集聚区", "en": "professional-market cluster"}),
    Category("商业综合体", "#ff7f0e", {"zh": "商业综合体", "en": "commercial complex"}),
    Category("文化旅游集聚区", "#d62728", {"zh": "文化旅游集聚区", "en": "culture and tourism cluster"}),
    Category("文化创意产业集聚区", "#9467bd", {"zh": "文化创意产业集聚区", "en": "creative-industry cluster"}),
    Category("健康养老产业集聚区", "#2ca02c", {"zh": "健康养老产业集聚区", "en": "health and elderly-care cluster"}),
)

ONE_BELT_FOUR_ZONES = Preset(
    name="one-belt-four-zones",
    title={
        "zh": "西湖区“一带四区多点”产业空间布局",
        "en": "Xihu District: one belt, four zones, many nodes",
    },
    subtitle=_XIHU_SUB,
    sources=(SEED_XIHU,),
    extent=("district",),
    layers=(
        PresetLayer(
            id="zones",
            layer="zones",
            title={"zh": "四区协同", "en": "Four zones"},
            style=Style(
                kind="categorical",
                column="zone_id",
                categories=ZONE_COLORS,
                auto_categories=False,
                fill_opacity=0.45,
                weight=1.0,
            ),
            filters=(Filter("kind", "==", "zone"),),
            fields=("key_industries", "streets_as_written", "business_district"),
            simplify_m=3.0,
        ),
        _streets(),
        PresetLayer(
            id="belt",
            layer="zones",
            title={"zh": "一带引领", "en": "The belt"},
            style=Style(
                color="#1f3b8c",
                fill_opacity=0.35,
                weight=2.0,
                dash="8 4",
                label={"zh": "赣江东岸总部经济带", "en": "Ganjiang east-bank HQ economy belt"},
            ),
            filters=(Filter("kind", "==", "belt"),),
            fields=("key_industries", "streets_as_written"),
            simplify_m=3.0,
        ),
        PresetLayer(
            id="clusters",
            layer="clusters",
            title={"zh": "多点支撑：产业集聚区", "en": "Many nodes: industry clusters"},
            style=Style(
                kind="categorical",
                column="cluster_type",
                categories=CLUSTER_TYPES,
                auto_categories=False,
                radius=6,
                fill_opacity=0.95,
                stroke_color="#ffffff",
                weight=1.2,
            ),
            fields=("cluster_type", "support_category", "name_variants", "location_basis"),
        ),
        _district(),
    ),
)

JIUWANG_PHASE = PresetParameter(
    name="phase",
    title={"zh": "开工阶段", "en": "Construction phase"},
    choices=(
        Choice(2021, {"zh": "2021年", "en": "2021"}),
        Choice(2022, {"zh": "2021—2022年", "en": "2021–22"}),
        Choice(2023, {"zh": "2021—2023年", "en": "2021–23"}),
    ),
    default=2023,
)

JIUWANG_STRUCTURE = (
    Category("一心", "#e41a1c", {"zh": "一心", "en": "core"}),
    Category("一廊", "#4daf4a", {"zh": "一廊", "en": "green corridor"}),
    Category("两轴", "#ff7f00", {"zh": "两轴", "en": "development axes"}),
    Category("两片", "#984ea3", {"zh": "两片", "en": "districts"}),
    Category("生态廊道", "#a6d854", {"zh": "生态廊道", "en": "ecological corridors"}),
)

JIUWANG_PROJECT_CATEGORIES = (
    Category("医院", "#56b4e9", {"zh": "医院", "en": "hospital"}),
    Category("学校", "#009e73", {"zh": "学校", "en": "school"}),
    Category("污水处理", "#d55e00", {"zh": "污水处理", "en": "sewage treatment"}),
    Category("公园", "#e69f00", {"zh": "公园", "en": "park"}),
    Category("水系整治", "#0072b2", {"zh": "水系整治", "en": "waterway works"}),
    Category("安置点", "#cc79a7", {"zh": "安置点", "en": "resettlement site"}),
)

JIUWANG_ROADS = Preset(
    name="jiuwang-roads",
    title={
        "zh": "九望新城市政道路路网建设（2021—2023年开工）",
        "en": "Jiuwang New City road programme, 2021–2023",
    },
    subtitle={
        "zh": "《新建区国民经济和社会发展第十四个五年规划和二〇三五年远景目标纲要》（征求意见2稿）专栏6-1",
        "en": "Xinjian District 14th Five-Year Plan outline (draft 2 for comment), box 6-1",
    },
    sources=(SEED_XINJIAN,),
    parameters=(JIUWANG_PHASE,),
    extent=("boundary", "roads"),
    layers=(
        PresetLayer(
            id="structure",
            layer="jiuwang_areas",
            title={"zh": "空间结构：一心一廊两轴两片", "en": "Spatial structure"},
            style=Style(
                kind="categorical",
                column="kind",
                categories=JIUWANG_STRUCTURE,
                auto_categories=False,
                fill_opacity=0.25,
                weight=1.0,
            ),
            filters=(Filter("kind", "!=", "新城范围"),),
            fields=("kind", "structure", "plan_text"),
        ),
        PresetLayer(
            id="axes",
            layer="road_axes",
            title={"zh": "框架道路", "en": "Framework roads"},
            style=Style(
                color="#9e9e9e",
                fill=False,
                weight=1.2,
                opacity=0.8,
                label={"zh": "框架道路中线（示意）", "en": "Framework road centrelines"},
            ),
            fields=("kind",),
            legend=True,
        ),
        PresetLayer(
            id="boundary",
            layer="jiuwang_areas",
            title={"zh": "九望新城范围", "en": "Jiuwang New City"},
            style=Style(
                color="#222222",
                fill=False,
                weight=2.5,
                dash="10 5",
                label={"zh": "新城范围", "en": "New-city boundary"},
            ),
            filters=(Filter("kind", "==", "新城范围"),),
            fields=("plan_area_text", "area_km2_measured", "plan_population_text", "plan_text"),
        ),
        PresetLayer(
            id="roads",
            layer="jiuwang_roads",
            title={"zh": "市政道路（按开工年份）", "en": "Roads by start year"},
            style=Style(
                kind="categorical",
                column="start_year",
                auto_categories=False,
                fill=False,
                categories=(
                    Category(2021, "#d7301f", {"zh": "2021年开工", "en": "started 2021"}),
                    Category(2022, "#fc8d59", {"zh": "2022年开工", "en": "started 2022"}),
                    Category(2023, "#3182bd", {"zh": "2023年开工", "en": "started 2023"}),
                ),
                weight=3.0,
                opacity=0.95,
                radius=7,
                width_column="class",
                widths={"主干路": 6.0, "次干路": 4.0, "支路": 2.5, "互通立交": 8.0},
                width_labels={
                    "主干路": {"zh": "主干路", "en": "arterial road"},
                    "次干路": {"zh": "次干路", "en": "secondary road"},
                    "支路": {"zh": "支路", "en": "branch road"},
                    "互通立交": {"zh": "互通立交", "en": "interchange"},
                },
            ),
            filters=(Filter("start_year", "<=", Param("phase")),),
            fields=("class", "from_road", "to_road", "start_year", "plan_text"),
        ),
        PresetLayer(
            id="projects",
            layer="jiuwang_projects",
            title={"zh": "重大建设项目", "en": "Major projects"},
            style=Style(
                kind="categorical",
                column="category",
                categories=JIUWANG_PROJECT_CATEGORIES,
                radius=7,
                fill_opacity=0.95,
                stroke_color="#ffffff",
                weight=1.5,
            ),
            fields=("category", "plan_total_investment_text", "programme_text"),
        ),
    ),
)

BUILDING_STATUS = (
    Category("existing", "#1a9850", {"zh": "已建成", "en": "existing"}),
    Category("under_construction", "#fdae61", {"zh": "在建", "en": "under construction"}),
    Category("idle", "#7f7f7f", {"zh": "闲置", "en": "idle"}),
    Category("planned", "#4575b4", {"zh": "规划", "en": "planned"}),
)

THEME_GROUPS = (
    Category("数字经济", "#0072b2", {"zh": "数字经济", "en": "digital economy"}),
    Category("商贸消费", "#e69f00", {"zh": "商贸消费", "en": "commerce and retail"}),
    Category("金融保险", "#009e73", {"zh": "金融保险", "en": "finance and insurance"}),
    Category("文化旅游", "#cc79a7", {"zh": "文化旅游", "en": "culture and tourism"}),
    Category("健康养老", "#56b4e9", {"zh": "健康养老", "en": "health and elderly care"}),
    Category("专业服务", "#d55e00", {"zh": "专业服务", "en": "professional services"}),
    Category("总部经济", "#1f3b8c", {"zh": "总部经济", "en": "headquarters economy"}),
    Category("商务办公", "#8c564b", {"zh": "商务办公", "en": "offices"}),
    Category("其他", "#7f7f7f", {"zh": "其他", "en": "other"}),
)

BUILDINGS = Preset(
    name="buildings",
    title={
        "zh": "西湖区商务楼宇、特色楼宇与产业园区",
        "en": "Xihu District commercial buildings and parks",
    },
    subtitle=_XIHU_SUB,
    sources=(SEED_XIHU,),
    extent=("district",),
    layers=(
        _streets(),
        PresetLayer(
            id="by_theme",
            layer="buildings",
            title={"zh": "楼宇（按特色主题）", "en": "Buildings by theme"},
            style=Style(
                kind="categorical",
                column="theme_group",
                categories=THEME_GROUPS,
                color="#9e9e9e",
                radius=6,
                fill_opacity=0.85,
                stroke_color="#ffffff",
                weight=1.0,
            ),
            fields=("kind", "theme", "status_text", "street_id"),
        ),
        PresetLayer(
            id="by_status",
            layer="buildings",
            title={"zh": "楼宇（按状态）", "en": "Buildings by status"},
            style=Style(
                kind="categorical",
                column="status",
                categories=BUILDING_STATUS,
                radius=6,
                fill_opacity=0.85,
                stroke_color="#ffffff",
                weight=1.0,
            ),
            fields=("kind", "theme", "status_text", "street_id"),
            show=False,
        ),
        _district(),
    ),
)

ATTRACTION_CATEGORIES = (
    Category("scenic_area", "#1a9850", {"zh": "A级景区", "en": "scenic area"}),
    Category("museum", "#762a83", {"zh": "博物馆", "en": "museum"}),
    Category("memorial_hall", "#b2182b", {"zh": "纪念馆", "en": "memorial hall"}),
    Category("red_site", "#d73027", {"zh": "红色文化地标", "en": "red-culture site"}),
    Category("cultural_venue", "#4575b4", {"zh": "文化场馆", "en": "cultural venue"}),
    Category("theme_park", "#fdae61", {"zh": "主题乐园", "en": "theme park"}),
    Category("landmark", "#8073ac", {"zh": "城市地标", "en": "landmark"}),
)

COMMERCE_CULTURE = Preset(
    name="commerce-culture",
    title={
        "zh": "西湖区商圈、历史文化街区与文旅资源",
        "en": "Xihu District: commerce, historic blocks and culture",
    },
    subtitle=_XIHU_SUB,
    sources=(SEED_XIHU,),
    extent=("district",),
    layers=(
        _streets(),
        PresetLayer(
            id="business_districts",
            layer="business_districts",
            title={"zh": "商圈、街区与市场", "en": "Business districts, blocks and markets"},
            style=Style(
                kind="categorical",
                column="category",
                categories=BUSINESS_DISTRICT_CATEGORIES,
                radius=7,
                fill_opacity=0.9,
                stroke_color="#ffffff",
                weight=1.5,
            ),
            fields=("category", "members", "anchors", "streets", "status_text"),
        ),
        PresetLayer(
            id="attractions",
            layer="attractions",
            title={"zh": "景区与文化场馆", "en": "Attractions and museums"},
            style=Style(
                kind="categorical",
                column="category",
                categories=ATTRACTION_CATEGORIES,
                radius=5,
                fill_opacity=0.95,
                stroke_color="#333333",
                weight=1.0,
            ),
            fields=("category", "level", "status_text", "street_id"),
        ),
        _district(),
    ),
)

HQ_BY_STREET = Preset(
    name="hq-by-street",
    title={
        "zh": "西湖区总部型企业（机构）分街道分布",
        "en": "Xihu District HQ enterprises by street",
    },
    subtitle={
        "zh": "《南昌市西湖区产业高质量发展规划（2022—2025年）》附件2",
        "en": "Xihu District Industry High-Quality Development Plan 2022–2025, annex 2",
    },
    sources=(SEED_XIHU,),
    extent=("district",),
    layers=(
        _streets(
            id="hq_streets",
            title={"zh": "总部型企业数（按街道）", "en": "HQ enterprises per street"},
            style=Style(
                kind="graduated",
                column="hq_count",
                classes=4,
                scheme="equal_interval",
                palette=("#fff5eb", "#fdbe85", "#fd8d3c", "#d94701", "#8c2d04"),
                unit={"zh": "家", "en": "enterprises"},
                stroke_color="#555555",
                fill_opacity=0.75,
                weight=1.0,
            ),
            count=CountJoin(
                table="hq_enterprises",
                on="street_id",
                table_on="street_id",
                column="hq_count",
                title={"zh": "总部型企业数", "en": "HQ enterprises"},
            ),
            fields=("hq_count",),
        ),
        PresetLayer(
            id="hq_points",
            layer="hq_enterprises",
            title={
                "zh": "总部型企业（街道内示意位置）",
                "en": "HQ enterprises (placed in their street)",
            },
            style=Style(
                color="#333333",
                radius=3,
                fill_opacity=0.9,
                stroke_color="#ffffff",
                weight=0.8,
                label={"zh": "企业（仅知所在街道）", "en": "enterprise (street known only)"},
            ),
            fields=("industry", "street"),
            show=False,
        ),
        _district(),
    ),
)

METRO = Preset(
    name="metro",
    title={"zh": "西湖区及周边轨道交通", "en": "Metro lines and stations around Xihu District"},
    subtitle={"zh": "南昌地铁1—4号线", "en": "Nanchang Metro lines 1–4"},
    sources=(SEED_XIHU,),
    extent=("district",),
    layers=(
        _streets(),
        PresetLayer(
            id="rings",
            layer="metro_stations",
            title={"zh": "站点1公里范围", "en": "1 km around stations"},
            style=Style(
                color="#6a51a3",
                fill_opacity=0.08,
                weight=0.6,
                opacity=0.5,
                label={"zh": "站点周边1公里", "en": "1 km station catchment"},
            ),
            buffer_m=1000.0,
            interactive=False,
            show=True,
        ),
        PresetLayer(
            id="lines",
            layer="metro_lines",
            title={"zh": "地铁线路", "en": "Metro lines"},
            style=Style(
                kind="categorical",
                column="line_id",
                color_column="color",
                label_columns={"zh": "name", "en": "name_en"},
                fill=False,
                weight=4.0,
                opacity=0.95,
            ),
            fields=("termini", "station_count"),
        ),
        PresetLayer(
            id="stations",
            layer="metro_stations",
            title={"zh": "地铁站", "en": "Stations"},
            style=Style(
                kind="categorical",
                column="interchange",
                auto_categories=False,
                radius=5,
                fill_opacity=1.0,
                stroke_color="#333333",
                weight=1.5,
                categories=(
                    Category(True, "#ffffff", {"zh": "换乘站", "en": "interchange"}),
                    Category(False, "#bdbdbd", {"zh": "一般站", "en": "station"}),
                ),
            ),
            fields=("lines", "interchange", "uncertainty_m", "coord_basis"),
        ),
        _district(),
    ),
)

BUILDING_KIND_LABELS: Mapping[str, Mapping[str, str]] = {
    "office_building": {"zh": "商务楼宇", "en": "office building"},
    "hq_building": {"zh": "总部楼宇", "en": "headquarters building"},
    "industrial_park": {"zh": "产业园区", "en": "industrial park"},
    "live_streaming_base": {"zh": "直播基地", "en": "live-streaming base"},
    "commercial_complex": {"zh": "商业综合体", "en": "commercial complex"},
    "supermarket": {"zh": "商场超市", "en": "supermarket"},
    "market_building": {"zh": "专业市场楼宇", "en": "market building"},
    "exhibition_centre": {"zh": "会展中心", "en": "exhibition centre"},
    "cultural_complex": {"zh": "文化综合体", "en": "cultural complex"},
    "theme_building": {"zh": "特色楼宇（主题）", "en": "theme building"},
    "service_base": {"zh": "服务基地", "en": "service base"},
    "major_project": {"zh": "重大项目", "en": "major project"},
}

#: Display labels of coded attribute values, by field name (popups, details panel, exports).
VALUE_LABELS: Mapping[str, Mapping[str, Mapping[str, str]]] = {
    "status": {str(c.value): c.label for c in BUILDING_STATUS},
    "kind": {**BUILDING_KIND_LABELS, "belt": {"zh": "一带", "en": "belt"}, "zone": {"zh": "功能区", "en": "zone"}},
    "category": {
        **{str(c.value): c.label for c in BUSINESS_DISTRICT_CATEGORIES},
        **{str(c.value): c.label for c in ATTRACTION_CATEGORIES},
    },
    "interchange": {"True": {"zh": "是", "en": "yes"}, "False": {"zh": "否", "en": "no"}},
}


def value_label(field: str, value: object, lang: str) -> str:
    """How a coded value reads in ``lang`` (``existing`` -> 已建成); other values unchanged."""
    text = str(value)
    labels = VALUE_LABELS.get(field, {})
    return text_in(labels.get(text), lang, default=text) if text in labels else text


PRESETS: Mapping[str, Preset] = {
    p.name: p for p in (ONE_BELT_FOUR_ZONES, JIUWANG_ROADS, BUILDINGS, COMMERCE_CULTURE, HQ_BY_STREET, METRO)
}


def get_preset(name: str) -> Preset:
    """The preset called ``name`` (one of :data:`PRESETS`)."""
    try:
        return PRESETS[name]
    except KeyError:
        msg = f"preset should be one of {', '.join(PRESETS)}, got {name!r}"
        raise KeyError(msg) from None
