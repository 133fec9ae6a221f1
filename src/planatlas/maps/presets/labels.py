"""Label tables of the maps: attribute titles, precision classes, coded values, the schematic caption.

Catalogue field titles (``geodata/layers/*.toml``) take precedence over :data:`FIELD_TITLES`;
:func:`value_label` turns coded values (``existing``) into words (已建成) for popups, the details
panel and exports.
"""

from __future__ import annotations

from collections.abc import Mapping

from planatlas.maps.presets.xihu import ATTRACTION_CATEGORIES, BUILDING_STATUS, BUSINESS_DISTRICT_CATEGORIES
from planatlas.maps.style import text_in

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


#: Labels of the `kind` codes of buildings and parks.
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
