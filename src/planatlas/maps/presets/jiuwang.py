"""The Jiuwang New City preset of the Xinjian District plan: roads by start year, structure, projects.

Source: 《新建区国民经济和社会发展第十四个五年规划和二〇三五年远景目标纲要》 (征求意见2稿), box 6-1
(seed file :data:`~planatlas.catalog.SEED_XINJIAN`). The ``phase`` parameter draws the roads started
up to a year.
"""

from __future__ import annotations

from planatlas.catalog import SEED_XINJIAN
from planatlas.maps.presets.model import Choice, Filter, Param, Preset, PresetLayer, PresetParameter
from planatlas.maps.style import Category, Style

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
