"""Presets of the Xihu District industry plan: one belt four zones, buildings, commerce, HQs, metro.

Source: 《南昌市西湖区产业高质量发展规划（2022—2025年）》 (seed file :data:`~planatlas.catalog.SEED_XIHU`).
Column names follow the catalogue in ``geodata/layers/*.toml``; the category tables here fix each
coded value's colour and zh/en legend label.
"""

from __future__ import annotations

from collections.abc import Mapping

from planatlas.catalog import SEED_XIHU
from planatlas.maps.presets.model import CountJoin, Filter, Preset, PresetLayer
from planatlas.maps.style import Category, Style

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


def _district(*, show: bool = True) -> PresetLayer:
    """The district outline, drawn on top of every Xihu map."""
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


def _streets(
    *,
    layer_id: str = "streets",
    title: Mapping[str, str] | None = None,
    style: Style = _STREET_OUTLINE,
    fields: tuple[str, ...] = ("zones", "key_industries"),
    count: CountJoin | None = None,
) -> PresetLayer:
    """The streets (subdistricts), labelled on the map; outlines unless ``style`` says otherwise."""
    return PresetLayer(
        id=layer_id,
        layer="streets",
        title=title or {"zh": "街道", "en": "Streets"},
        style=style,
        fields=fields,
        count=count,
        simplify_m=3.0,
        labels_on_map=True,
        map_label_strip={"en": " Subdistrict"},
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
            layer_id="hq_streets",
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
                    Category(value=True, color="#ffffff", label={"zh": "换乘站", "en": "interchange"}),
                    Category(value=False, color="#bdbdbd", label={"zh": "一般站", "en": "station"}),
                ),
            ),
            fields=("lines", "interchange", "uncertainty_m", "coord_basis"),
        ),
        _district(),
    ),
)
