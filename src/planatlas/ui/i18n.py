"""UI text in Chinese (default) and English: one table, looked up with :func:`t` (pure)."""

from __future__ import annotations

from collections.abc import Mapping

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"
LANG_NAMES = {"zh": "中文", "en": "English"}

TEXT: Mapping[str, Mapping[str, str]] = {
    "app_title": {"zh": "规划图集 planatlas", "en": "planatlas planning atlas"},
    "app_caption": {
        "zh": "南昌市西湖区产业规划与新建区九望新城规划的空间图集",
        "en": "Spatial atlas of the Xihu District industry plan and the Jiuwang New City plan, Nanchang",
    },
    "language": {"zh": "语言 Language", "en": "Language 语言"},
    "page": {"zh": "页面", "en": "Page"},
    "page_atlas": {"zh": "图集", "en": "Atlas"},
    "page_query": {"zh": "查询", "en": "Query"},
    "page_export": {"zh": "导出", "en": "Export"},
    "page_data": {"zh": "数据", "en": "Data"},
    "preset": {"zh": "专题图", "en": "Map"},
    "basemap": {"zh": "底图", "en": "Basemap"},
    "details": {"zh": "规划详情", "en": "Plan details"},
    "plan_text": {"zh": "规划原文（所引行）", "en": "Plan text (cited lines)"},
    "details_hint": {
        "zh": "点击地图上的要素，在此查看其规划内容与来源。",
        "en": "Click a feature on the map to see what the plan says about it and where.",
    },
    "details_missing": {"zh": "未找到该要素。", "en": "Feature not found."},
    "layer": {"zh": "图层", "en": "Layer"},
    "provenance": {"zh": "来源与精度", "en": "Source and precision"},
    "schematic_warning": {
        "zh": "此图含示意性几何：边界与线位依据规划文本绘制，非测绘成果。",
        "en": "This map contains schematic geometry drawn from the plan text, not surveyed.",
    },
    "tianditu_no_key": {
        "zh": "天地图需要密钥：请设置环境变量 PLANATLAS_TIANDITU_KEY。已改用无底图。",
        "en": "Tianditu needs a key: set PLANATLAS_TIANDITU_KEY. Showing no basemap instead.",
    },
    "basemap_online": {
        "zh": "在线底图需要互联网；离线或内网环境请选择“无底图”。",
        "en": "Online basemaps need the internet; choose 'No basemap' when offline.",
    },
    "amap_shift": {
        "zh": "高德底图使用GCJ-02坐标：图层已临时偏移以便与底图对齐（仅用于显示）。",
        "en": "AMap uses GCJ-02: the layers are shifted for display so they line up with it.",
    },
    "placeholder": {
        "zh": "此页面由另一模块提供，尚未安装。",
        "en": "This page is provided by another module that is not installed yet.",
    },
    "building_atlas": {"zh": "正在构建图集数据……", "en": "Building the atlas…"},
    # Data page
    "catalogue": {"zh": "图层目录", "en": "Layer catalogue"},
    "col_layer": {"zh": "图层", "en": "Layer"},
    "col_title": {"zh": "名称", "en": "Title"},
    "col_geometry": {"zh": "几何类型", "en": "Geometry"},
    "col_count": {"zh": "要素数", "en": "Features"},
    "col_precision": {"zh": "精度", "en": "Precision"},
    "col_source": {"zh": "来源", "en": "Source"},
    "col_files": {"zh": "源文件", "en": "Source files"},
    "col_licence": {"zh": "许可", "en": "Licence"},
    "col_limits": {"zh": "已知局限", "en": "Known limits"},
    "validation": {"zh": "校验报告", "en": "Validation report"},
    "validation_ok": {"zh": "校验通过：{n} 个图层，无问题。", "en": "Validation passed: {n} layers, no problems."},
    "validation_failed": {"zh": "校验发现问题：", "en": "Validation found problems:"},
    "built_at": {"zh": "构建时间", "en": "Built at"},
    "attributes": {"zh": "属性表", "en": "Attribute table"},
    "search": {"zh": "搜索", "en": "Search"},
    "rows_shown": {"zh": "显示 {n} / {total} 行", "en": "{n} of {total} rows"},
    "download_csv": {"zh": "下载 CSV", "en": "Download CSV"},
    "download_geojson": {"zh": "下载 GeoJSON", "en": "Download GeoJSON"},
    "download_atlas": {"zh": "下载整个图集（GeoPackage）", "en": "Download the whole atlas (GeoPackage)"},
    "reconcile": {"zh": "九望新城路网：规划与图面核对", "en": "Jiuwang roads: plan versus map"},
    "reconcile_notes": {"zh": "说明", "en": "Notes"},
    "reconcile_missing": {"zh": "核对模块不可用：{err}", "en": "Reconciliation unavailable: {err}"},
    "description": {"zh": "说明", "en": "Description"},
    "notes": {"zh": "备注", "en": "Notes"},
}


def t(key: str, lang: str, **fmt: object) -> str:
    """The UI text ``key`` in ``lang`` (falls back to Chinese), formatted with ``fmt``."""
    try:
        entry = TEXT[key]
    except KeyError:
        msg = f"no UI text {key!r}"
        raise KeyError(msg) from None
    text = entry.get(lang) or entry[DEFAULT_LANG]
    return text.format(**fmt) if fmt else text


def check_lang(lang: object) -> str:
    """``lang`` if it is a supported language, else the default (for untrusted URL input)."""
    return lang if isinstance(lang, str) and lang in LANGS else DEFAULT_LANG
