"""Everything a derivation reads, checked like a layer's own data before the derivation runs.

:func:`prepare_inputs` checks the layer's ``params`` against the derivation's declaration, the
geometry source against the derivation's source rule, and reads each declared side-input file
(confined to the geodata directory) through the same readers and geometry checks as a layer
source. Every problem is collected and raised once, located by file, layer, feature and param.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from planatlas.atlas_source import file_sha256
from planatlas.catalog import confine_path
from planatlas.checks import check_input_geometry
from planatlas.derive.schema import DerivationSpec, GeometryFile, TableFile, check_params
from planatlas.errors import Problem, SourceError, ValidationError
from planatlas.io import read_source, read_table

if TYPE_CHECKING:
    import geopandas as gpd

    from planatlas.catalog import LayerSpec


def prepare_inputs(
    root: Path, spec: LayerSpec, declared: DerivationSpec, source: gpd.GeoDataFrame | None
) -> tuple[dict[str, pd.DataFrame], list[dict[str, str]]]:
    """The derivation's side inputs by param name, and the provenance records of the files read.

    Raises
    ------
    ValidationError
        With every problem of the params, the geometry source and the side-input files.
    """
    problems = check_params(spec, declared)
    if source is not None and declared.source is not None:
        problems += check_input_geometry(
            source,
            types=declared.source.types,
            allow_missing=declared.source.allow_missing,
            file=spec.geometry.source,
            layer=spec.name,
            key=spec.key,
        )
    if problems:
        raise ValidationError(problems)
    inputs: dict[str, pd.DataFrame] = {}
    sources: list[dict[str, str]] = []
    joined = {j.table for j in spec.joins}
    for param, kind in declared.side_inputs().items():
        relative = spec.geometry.params.get(param)
        if relative is None:
            continue
        frame, found = _read_side_input(root, spec, param, kind, str(relative))
        problems += found
        if frame is None or found:
            continue
        inputs[param] = frame
        if relative not in joined:  # a join table is recorded where it is joined
            digest = file_sha256(root / relative)
            sources.append({"path": str(relative), "sha256": digest})
    if problems:
        raise ValidationError(problems)
    return inputs, sources


def _read_side_input(
    root: Path, spec: LayerSpec, param: str, kind: GeometryFile | TableFile, relative: str
) -> tuple[pd.DataFrame | None, list[Problem]]:
    """One side-input file read and checked, or ``None`` and why not (file, layer, feature, param)."""
    path, outside = confine_path(root, relative)
    if outside is not None:
        return None, [Problem(outside, file=spec.path, layer=spec.name, field=f"params.{param}")]
    try:
        if isinstance(kind, TableFile):
            return read_table(path), []
        crs = spec.geometry.params.get(kind.crs_param, kind.default_crs)
        frame = read_source(path, crs=str(crs))
    except SourceError as exc:
        return None, [
            Problem(p.message, file=relative, layer=spec.name, feature=p.feature, field=p.field or f"params.{param}")
            for p in exc.problems
        ]
    found = check_input_geometry(
        frame, types=kind.types, allow_missing=False, file=relative, layer=spec.name, key=spec.key
    )
    return frame, found
