"""Plan versus map for the Xinjian District plan's spatial systems (pure).

Each :class:`PlanFigure` is one count or length the plan gives (seed 001), quoted verbatim with its
line, beside what the atlas maps for it: features present (stored, located or not), located (drawn)
and, for lengths, the measured length of the located (schematic) lines in EPSG:4548. A figure is
``stated`` when the plan writes the number, ``listed`` when the number is our count of the names
the plan lists (said so in the table). Nothing here reads files or databases except
:func:`reconcile_xinjian_from_store`, which only calls ``store.read``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import geopandas as gpd
import pandas as pd

from planatlas import crs as pcrs
from planatlas.catalog import UNLOCATED
from planatlas.store.base import LayerStore

Basis = Literal["stated", "listed"]
Measure = Literal["count", "km"]

#: Output columns of the table, in order.
XINJIAN_COLUMNS = [
    "topic",
    "item",
    "plan_text",
    "plan_value",
    "unit",
    "basis",
    "source_lines",
    "mapped_present",
    "mapped_located",
    "mapped_km",
    "diff",
    "note",
]


@dataclass(frozen=True)
class PlanFigure:
    """One figure of the plan and where the atlas holds what it counts.

    ``layer`` is the catalogue layer; ``column``/``values`` select its rows (all rows when
    ``column`` is None). ``measure`` ``km`` compares the plan's kilometres with the measured
    length of the located lines; ``count`` compares with the located features.
    """

    topic: str
    item: str
    plan_text: str
    plan_value: float
    unit: str
    basis: Basis
    source_lines: str
    layer: str
    column: str | None = None
    values: tuple[str, ...] = ()
    measure: Measure = "count"
    note: str = ""


_T = "交通 transport"
_F = "空间格局 frameworks"
_I = "指标 indicators"
_PT = "xinjian_transport_points"
_LN = "xinjian_transport_lines"
_FA = "xinjian_framework_areas"
_FL = "xinjian_framework_lines"
_NOT_NETWORK = "the plan's figure is the whole network in 2025 (existing roads included); the mapped km are the schematic project sections only"

#: The plan's figures, in table order.
PLAN_FIGURES: tuple[PlanFigure, ...] = (
    PlanFigure(
        _T,
        "铁路",
        "常岳昌高铁、京九高铁昌九段 … 南昌—高安城际铁路、南昌—丰城城际铁路",
        4,
        "条",
        "listed",
        "1536",
        _LN,
        "kind",
        ("铁路",),
    ),
    PlanFigure(
        _T,
        "铁路网",
        "“三纵两横”铁路网",
        5,
        "条",
        "stated",
        "1513",
        _LN,
        "kind",
        ("铁路",),
        note="三纵两横 = 5 lines; the plan names 4",
    ),
    PlanFigure(
        _T,
        "高速公路",
        "南昌西二环绕城高速公路工程、南昌北二环绕城高速公路工程",
        2,
        "条",
        "listed",
        "1538",
        _LN,
        "kind",
        ("高速公路",),
    ),
    PlanFigure(
        _T,
        "高速公路里程",
        "全区高速公路里程达到192.2公里",
        192.2,
        "公里",
        "stated",
        "1517",
        _LN,
        "kind",
        ("高速公路",),
        "km",
        _NOT_NETWORK,
    ),
    PlanFigure(
        _T,
        "高速公路互通",
        "溪霞互通、南昌北互通、厚田互通、流湖互通、西山互通、西山北互通",
        6,
        "处",
        "listed",
        "1538",
        _PT,
        "kind",
        ("互通",),
        note="the atlas also holds 长堎互通立交, terminus of a G320 project (line 1542)",
    ),
    PlanFigure(
        _T,
        "国省道改造与干线公路项目",
        "国省道改造提升工程 … 干线公路建设工程",
        17,
        "项",
        "listed",
        "1540;1542",
        _LN,
        "project",
        ("国省道改造提升工程", "干线公路建设工程"),
        note="17 entries in the box, S417（望城镇-省庄村） twice: 16 distinct, mapped once each",
    ),
    PlanFigure(
        _T,
        "普通国省干线公路里程",
        "普通国省干线公路里程达到333.2公里",
        333.2,
        "公里",
        "stated",
        "1517",
        _LN,
        "kind",
        ("国省道",),
        "km",
        _NOT_NETWORK,
    ),
    PlanFigure(
        _T,
        "县道升级改造",
        "X054 … X056 … X058 … X060 … X061 … X800",
        6,
        "项",
        "listed",
        "1544",
        _LN,
        "project",
        ("县道升级改造工程",),
    ),
    PlanFigure(
        _T,
        "乡道双车道拓宽",
        "建设里程共133.3公里",
        133.3,
        "公里",
        "stated",
        "1546",
        _LN,
        "kind",
        ("乡道",),
        "km",
        "a programme: no road is named, nothing can be drawn",
    ),
    PlanFigure(
        _T,
        "旅游公路",
        "等13条旅游公路",
        13,
        "条",
        "stated",
        "1548",
        _LN,
        "kind",
        ("旅游公路",),
        note="held as one programme row (unlocated): the plan names three destinations, not the roads",
    ),
    PlanFigure(
        _T,
        "港区",
        "以厚田港区、龙头岗港区、樵舍港区、北郊港区等为重点",
        4,
        "个",
        "listed",
        "1529",
        _PT,
        "kind",
        ("港区",),
    ),
    PlanFigure(_T, "锚地", "龙头岗港区锚地和樵舍港区锚地等2处锚地", 2, "处", "stated", "1529", _PT, "kind", ("锚地",)),
    PlanFigure(
        _T,
        "码头与机场",
        "南昌港龙头岗综合码头二期 … 南昌昌北机场三期工程",
        2,
        "项",
        "listed",
        "1529",
        _PT,
        "kind",
        ("码头", "机场"),
    ),
    PlanFigure(
        _T,
        "二级大型综合客运枢纽",
        "新建区客运站、昌北机场客运站两个二级大型综合客运枢纽场站",
        2,
        "个",
        "stated",
        "1533",
        _PT,
        "kind",
        ("客运枢纽",),
    ),
    PlanFigure(
        _T,
        "农村客运场站",
        "西山镇客运站、象山镇客运站、溪霞镇客运站等17座农村客运场站",
        17,
        "座",
        "stated",
        "1533",
        _PT,
        "kind",
        ("乡镇客运站",),
        note="the box (lines 1555-1557) lists 14 township stations by name; the text says 17",
    ),
    PlanFigure(
        _T,
        "客运枢纽工程",
        "新建新建区客运站、新建城公交枢纽、长陵公交首末站 … 昌邑乡客运站",
        21,
        "项",
        "listed",
        "1555;1557",
        _PT,
        "kind",
        ("客运枢纽", "公交枢纽", "公交首末站", "综合服务中心", "乡镇客运站"),
    ),
    PlanFigure(
        _F,
        "东融、西扩、南建、北合、中优",
        "“东融、西扩、南建、北合、中优”城市发展战略",
        5,
        "个方向",
        "listed",
        "929",
        _FL,
        "item_id",
        ("f5_dongrong", "f5_xituo", "f5_nanjian_axis", "f5_beihe"),
        note="中优 is an area (framework areas), the other four are drawn as directions",
    ),
    PlanFigure(
        _F,
        "组团",
        "厚田休闲组团、西山文化组团 … 乐化－樵舍组团 … 象山生态组团",
        4,
        "个",
        "listed",
        "934;936",
        _FA,
        "kind",
        ("组团",),
    ),
    PlanFigure(
        _F, "五集群", "“一带一谷五集群”的都市现代农业总体布局", 5, "个", "stated", "710", _FA, "kind", ("产业集群",)
    ),
    PlanFigure(
        _F,
        "生态功能区",
        "农业生态功能区 … 重点城镇建设功能区 … 梅岭生态功能区 … 鄱阳湖生态功能区",
        4,
        "个",
        "listed",
        "1320",
        _FA,
        "kind",
        ("生态功能区",),
    ),
    PlanFigure(
        _F,
        "三区三园",
        "大力实施“三区三园”战略",
        6,
        "个",
        "stated",
        "923",
        _FA,
        "framework",
        ("三区三园",),
        note="the plan does not say where: listed, not drawn",
    ),
    PlanFigure(
        _I,
        "专栏1-1 指标",
        "专栏1-1：“十三五”规划主要指标完成情况",
        31,
        "项",
        "listed",
        "22",
        "xinjian_indicators",
        "plan_table",
        ("专栏1-1",),
    ),
    PlanFigure(
        _I,
        "专栏2-1 指标",
        "专栏2-1：新建区“十四五”规划主要指标",
        24,
        "项",
        "listed",
        "331",
        "xinjian_indicators",
        "plan_table",
        ("专栏2-1",),
    ),
)


@dataclass
class XinjianReconciliation:
    """The table (one row per plan figure) and notes on what could not be compared."""

    table: pd.DataFrame
    notes: list[str] = field(default_factory=list)


def _rows(frame: pd.DataFrame, fig: PlanFigure) -> pd.DataFrame:
    if fig.column is None:
        return frame
    return frame.loc[frame[fig.column].astype(str).isin(fig.values)]


def _located(rows: pd.DataFrame) -> pd.DataFrame:
    if "precision" not in rows.columns:
        return rows
    keep = rows["precision"].astype(str) != UNLOCATED
    if isinstance(rows, gpd.GeoDataFrame):
        keep &= rows.geometry.notna().to_numpy()
    return rows.loc[keep]


def measured_km(rows: gpd.GeoDataFrame) -> float:
    """Length of the rows' lines in EPSG:4548, in km."""
    if rows.empty:
        return 0.0
    return float(pcrs.to_metric(rows, name="xinjian").geometry.length.sum()) / 1000.0


def reconcile_xinjian(layers: Mapping[str, pd.DataFrame]) -> XinjianReconciliation:
    """Set each of :data:`PLAN_FIGURES` beside the rows of ``layers`` (name -> frame) it counts.

    A figure whose layer is not in ``layers`` gets empty mapped cells and a note.
    """
    records = []
    notes: list[str] = []
    for fig in PLAN_FIGURES:
        rec: dict[str, object] = {
            "topic": fig.topic,
            "item": fig.item,
            "plan_text": fig.plan_text,
            "plan_value": fig.plan_value,
            "unit": fig.unit,
            "basis": fig.basis,
            "source_lines": fig.source_lines,
            "mapped_present": None,
            "mapped_located": None,
            "mapped_km": None,
            "diff": None,
            "note": fig.note,
        }
        frame = layers.get(fig.layer)
        if frame is None:
            notes.append(f"{fig.item}: layer {fig.layer} is not in the atlas")
        else:
            rows = _rows(frame, fig)
            located = _located(rows)
            rec["mapped_present"] = len(rows)
            rec["mapped_located"] = len(located)
            if fig.measure == "km" and isinstance(located, gpd.GeoDataFrame):
                km = round(measured_km(located), 1)
                rec["mapped_km"] = km
                rec["diff"] = round(km - fig.plan_value, 1)
            else:
                rec["diff"] = len(located) - fig.plan_value
        records.append(rec)
    table = pd.DataFrame.from_records(records, columns=XINJIAN_COLUMNS)
    notes.append(
        "diff = mapped (located; km of located schematic lines) − plan. 'listed' = our count of the names the plan lists."
    )
    return XinjianReconciliation(table=table, notes=notes)


#: A project's total investment as the plan writes it (``项目总投资25亿元``, ``总投资为7731万元``, ``计划总投资约1.7亿元``).
_INVESTMENT = re.compile(r"总投资[^0-9@;]{0,6}?(\d+(?:\.\d+)?)\s*(亿元|万元)")
#: The layer of the plan's projects (places helper) and its category and figures columns.
PROJECTS_LAYER = "xinjian_projects"


def investment_yi(figures: object) -> float | None:
    """The first total investment in a project's ``figures`` text, in 亿元 (万元 / 10 000), or None."""
    found = _INVESTMENT.search(str(figures or ""))
    if found is None:
        return None
    value = float(found.group(1))
    return value / 10_000 if found.group(2) == "万元" else value


def project_rows(projects: pd.DataFrame) -> pd.DataFrame:
    """Per category of the plan's projects: how many are listed and located, and their stated investment.

    ``plan_value`` is OUR sum of the total investments the plan states project by project (亿元),
    over the projects that state one (the note says how many); the plan gives no per-category total.
    """
    records = []
    located = _located(projects)
    for category, rows in projects.groupby("category", sort=True):
        amounts = [a for a in (investment_yi(f) for f in rows.get("figures", pd.Series(dtype=str))) if a is not None]
        boxes = "、".join(sorted(set(rows["box"].astype(str)))) if "box" in rows else ""
        records.append(
            {
                "topic": "项目 projects",
                "item": str(category),
                "plan_text": f"{boxes} 项目总投资（逐项原文之和）",
                "plan_value": round(sum(amounts), 2) if amounts else None,
                "unit": "亿元",
                "basis": "listed",
                "source_lines": boxes,
                "mapped_present": len(rows),
                "mapped_located": int(located.index.isin(rows.index).sum()),
                "mapped_km": None,
                "diff": None,
                "note": f"our sum of the 总投资 the plan states for {len(amounts)} of {len(rows)} projects",
            }
        )
    return pd.DataFrame.from_records(records, columns=XINJIAN_COLUMNS)


def reconcile_xinjian_from_store(store: LayerStore) -> XinjianReconciliation:
    """Read the layers :data:`PLAN_FIGURES` count (those the atlas holds) and reconcile.

    When the atlas holds the plan's projects (:data:`PROJECTS_LAYER`), one row per project
    category follows (:func:`project_rows`).
    """
    built = set(store.layers())
    names = sorted({fig.layer for fig in PLAN_FIGURES} & built)
    result = reconcile_xinjian({name: store.read(name) for name in names})
    if PROJECTS_LAYER in built:
        projects = project_rows(store.read(PROJECTS_LAYER))
        result.table = pd.concat([result.table, projects], ignore_index=True)
    return result


__all__ = [
    "PLAN_FIGURES",
    "PROJECTS_LAYER",
    "XINJIAN_COLUMNS",
    "PlanFigure",
    "XinjianReconciliation",
    "investment_yi",
    "measured_km",
    "project_rows",
    "reconcile_xinjian",
    "reconcile_xinjian_from_store",
]
