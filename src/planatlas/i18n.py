"""Every text planatlas shows, in Chinese (default) and English: one table, looked up with :func:`t` (pure).

Keys are grouped by prefix: none for the app shell and atlas pages, ``query_`` for the Query page,
``export_`` for the Export page and ``print_`` for printed pages. Feature names stay in the plan's language.
"""

from __future__ import annotations

from collections.abc import Mapping

from planatlas.catalog import LANGS

DEFAULT_LANG = "zh"
LANG_NAMES = {"zh": "中文", "en": "English"}

__all__ = ["DEFAULT_LANG", "LANGS", "LANG_NAMES", "TEXT", "check_lang", "t", "texts"]

#: The app shell, the Atlas and the Data pages.
_APP: Mapping[str, Mapping[str, str]] = {
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
    "building_atlas": {"zh": "正在构建图集数据……", "en": "Building the atlas…"},
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
    "atlas_missing": {
        "zh": "图集不存在（可能已被删除），需要重新构建。",
        "en": "The atlas is missing (it may have been deleted) and needs to be rebuilt.",
    },
    "atlas_damaged": {
        "zh": "图集已损坏或不是 planatlas 图集，无法读取，需要重新构建。",
        "en": "The atlas is damaged or is not a planatlas atlas, so it cannot be read; it needs to be rebuilt.",
    },
    "atlas_rebuild_bundled": {"zh": "用内置规划数据重新构建图集", "en": "Rebuild the atlas from the bundled plan data"},
    "atlas_rebuild_dir": {
        "zh": "用数据目录“{dir}”（PLANATLAS_GEODATA_DIR）重新构建图集",
        "en": "Rebuild the atlas from the geodata directory “{dir}” (PLANATLAS_GEODATA_DIR)",
    },
    "atlas_rebuild_hint": {
        "zh": "若该图集是用 `planatlas build --source 目录` 从其他数据目录构建的，请在服务器上从那个目录重新构建，不要用此按钮。",
        "en": "If this atlas was built from another geodata directory with `planatlas build --source DIR`, "
        "rebuild it from that directory on the server instead of using this button.",
    },
    "atlas_rebuilding": {"zh": "正在重新构建图集……", "en": "Rebuilding the atlas…"},
    "atlas_rebuild_failed": {
        "zh": "重新构建失败，原图集未改动。请在服务器上运行 `planatlas validate` 查看原因。",
        "en": "The rebuild failed and nothing was changed. Run `planatlas validate` on the server to see why.",
    },
}

#: The Query page.
_QUERY: Mapping[str, Mapping[str, str]] = {
    "title": {"zh": "空间查询", "en": "Spatial query"},
    "intro": {
        "zh": "距离为EPSG:4548中几何之间的真实最短距离（非缓冲区或质心近似）；图集与PostGIS结果一致。",
        "en": "Distances are true shortest distances between geometries in EPSG:4548 (no buffer or centroid shortcut); the embedded atlas and PostGIS give identical answers.",
    },
    "kind": {"zh": "查询类型", "en": "Query"},
    "within": {"zh": "距离范围内", "en": "Within distance"},
    "nearest": {"zh": "最近要素", "en": "Nearest"},
    "inside": {"zh": "位于区域内", "en": "Inside zones"},
    "intersects": {"zh": "与区域相交", "en": "Intersecting zones"},
    "summarize": {"zh": "分区统计", "en": "Summarize per zone"},
    "coverage": {"zh": "覆盖率", "en": "Coverage"},
    "layer": {"zh": "查询图层", "en": "Layer searched"},
    "of": {"zh": "参照图层", "en": "Reference layer"},
    "zones": {"zh": "区域图层", "en": "Zone layer"},
    "by": {"zh": "按区域统计", "en": "Report by zones of"},
    "select_field": {"zh": "选择字段", "en": "Select by field"},
    "select_values": {"zh": "选择要素（留空为全部）", "en": "Features (empty: all)"},
    "all": {"zh": "（全部）", "en": "(all)"},
    "distance": {"zh": "距离（如 1km、500m）", "en": "Distance (e.g. 1km, 500m)"},
    "max_distance": {"zh": "最大距离（可留空）", "en": "Maximum distance (optional)"},
    "value": {"zh": "求和字段", "en": "Sum of field"},
    "weight": {"zh": "权重字段", "en": "Weight field"},
    "none": {"zh": "（无）", "en": "(none)"},
    "bad_distance": {"zh": "距离格式有误：", "en": "Distance not understood: "},
    "rows": {"zh": "条结果", "en": "rows"},
    "backend": {"zh": "数据后端", "en": "Backend"},
    "map": {"zh": "地图", "en": "Map"},
    "map_capped": {
        "zh": "地图仅显示前 {n} 个结果要素；表格与下载包含全部结果。",
        "en": "The map shows the first {n} result features; the table and downloads hold all of them.",
    },
    "ring": {"zh": "距离范围（示意，仅供显示）", "en": "Distance ring (display only)"},
    "reference": {"zh": "参照要素", "en": "Reference features"},
    "matches": {"zh": "查询结果", "en": "Matches"},
    "download": {"zh": "下载", "en": "Download"},
    "error": {"zh": "查询失败：", "en": "Query failed: "},
    "schematic": {
        "zh": "部分图层为示意性几何，距离结果仅与其精度相当。",
        "en": "Some layers are schematic; distances are only as good as their geometry.",
    },
}

#: The Export page.
_EXPORT: Mapping[str, Mapping[str, str]] = {
    "title": {"zh": "导出打印图", "en": "Export print maps"},
    "intro": {
        "zh": "生成可直接打印或粘贴进报告的图幅：标题、图例、比例尺、指北针、资料来源与精度说明（示意性几何注明“示意”）、区位图。坐标系 EPSG:4548。",
        "en": "Pages ready to print or paste into a report: title, legend, scale bar, north arrow, sources and precision (schematic geometry says so), locator inset. Drawn in EPSG:4548.",
    },
    "preset": {"zh": "专题图", "en": "Map"},
    "paper": {"zh": "纸张", "en": "Paper"},
    "orientation": {"zh": "方向", "en": "Orientation"},
    "portrait": {"zh": "纵向", "en": "Portrait"},
    "landscape": {"zh": "横向", "en": "Landscape"},
    "dpi": {"zh": "分辨率（dpi）", "en": "Resolution (dpi)"},
    "format": {"zh": "格式", "en": "Format"},
    "page_lang": {"zh": "图面语言", "en": "Page language"},
    "inset": {"zh": "区位图", "en": "Locator inset"},
    "labels": {"zh": "要素标注", "en": "Feature labels"},
    "make": {"zh": "生成", "en": "Render"},
    "preview": {"zh": "预览", "en": "Preview"},
    "download": {"zh": "下载", "en": "Download"},
    "html_note": {
        "zh": "HTML 为交互地图单文件，所有脚本与样式已内嵌，可离线打开（无底图）。",
        "en": "HTML is the interactive map as one file with every script and style inlined; it opens offline (no basemap).",
    },
    "series": {"zh": "分幅图册（每个街道或功能区一页）", "en": "Map series (one page per street or zone)"},
    "by": {"zh": "分幅单元", "en": "One page per"},
    "streets": {"zh": "街道", "en": "street"},
    "zones": {"zh": "功能区", "en": "zone"},
    "make_series": {"zh": "生成分幅 PDF", "en": "Render series PDF"},
    "pages": {"zh": "页", "en": "pages"},
    "error": {"zh": "无法导出：", "en": "Cannot export: "},
}

#: Printed pages (PNG/PDF/SVG exports and series).
_PRINT: Mapping[str, Mapping[str, str]] = {
    "north": {"zh": "北", "en": "N"},
    "sources": {"zh": "资料来源", "en": "Sources"},
    "precision": {"zh": "几何精度", "en": "Precision"},
    "schematic": {
        "zh": "示意边界：{layers}为示意性绘制，非测绘成果，仅表达规划空间关系",
        "en": "Schematic boundaries: {layers} are drawn schematically, not surveyed; they show planned spatial relations only",
    },
    "street": {
        "zh": "{layers}按所属街道示意落位，非实际位置",
        "en": "placed schematically inside their street, not at true positions: {layers}",
    },
    "approximate": {"zh": "{layers}为近似位置", "en": "approximate positions: {layers}"},
    "surveyed": {"zh": "{layers}为测绘位置", "en": "surveyed positions: {layers}"},
    "crs": {
        "zh": "坐标系 CGCS2000 / 3度带高斯-克吕格 117°E（EPSG:4548）",
        "en": "CRS CGCS2000 / 3-degree Gauss-Kruger CM 117E (EPSG:4548)",
    },
    "made": {"zh": "planatlas {version} 制图，{date}", "en": "Made with planatlas {version}, {date}"},
    "lines": {"zh": "第{lines}行", "en": "lines {lines}"},
    "legend": {"zh": "图例", "en": "Legend"},
    "inset": {"zh": "区位", "en": "Location"},
    "guidance": {"zh": "规划指引", "en": "Plan guidance"},
    "no_guidance": {"zh": "（该规划未对此单元单列指引）", "en": "(the plan gives no separate guidance for this unit)"},
    "page": {"zh": "第 {n}/{total} 页", "en": "page {n}/{total}"},
    "features": {"zh": "{n} 个要素", "en": "{n} features"},
}

TEXT: Mapping[str, Mapping[str, str]] = {
    **_APP,
    **{f"query_{key}": value for key, value in _QUERY.items()},
    **{f"export_{key}": value for key, value in _EXPORT.items()},
    **{f"print_{key}": value for key, value in _PRINT.items()},
}


def t(key: str, lang: str, **fmt: object) -> str:
    """The text ``key`` in ``lang`` (falls back to Chinese), formatted with ``fmt``."""
    try:
        entry = TEXT[key]
    except KeyError:
        msg = f"no UI text {key!r} in planatlas.i18n"
        raise KeyError(msg) from None
    text = entry.get(lang) or entry[DEFAULT_LANG]
    return text.format(**fmt) if fmt else text


def texts(prefix: str, lang: str) -> dict[str, str]:
    """Every text whose key starts with ``prefix``, in ``lang``, keyed without the prefix."""
    return {key.removeprefix(prefix): t(key, lang) for key in TEXT if key.startswith(prefix)}


def check_lang(lang: object) -> str:
    """``lang`` if it is a supported language, else the default (for untrusted URL input)."""
    return lang if isinstance(lang, str) and lang in LANGS else DEFAULT_LANG
