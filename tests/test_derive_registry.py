"""Derivations are registered explicitly with their declared params: every one a layer spec names resolves, unknown names are refused."""

from __future__ import annotations

import inspect

import pytest

from conftest import GEODATA
from planatlas.catalog import load_catalog
from planatlas.derive import DERIVATIONS, get_derivation
from planatlas.errors import CatalogError


def test_every_derivation_the_bundled_geodata_names_is_registered():
    catalog = load_catalog(GEODATA)
    named = {catalog[name].geometry.derive for name in catalog} - {None}
    assert len(named) >= 5, "the bundled geodata should exercise several derivations"
    assert named <= set(DERIVATIONS), f"not registered: {sorted(named - set(DERIVATIONS))}"
    for name in named:
        assert get_derivation(name) is DERIVATIONS[name]


@pytest.mark.parametrize("name", sorted(DERIVATIONS))
def test_a_registered_derivation_takes_source_ctx_and_params(name):
    params = inspect.signature(DERIVATIONS[name].func).parameters
    assert list(params)[:1] == ["source"]
    assert params["ctx"].kind is inspect.Parameter.KEYWORD_ONLY
    assert params["params"].kind is inspect.Parameter.KEYWORD_ONLY


def test_an_unknown_derivation_is_refused_naming_the_known_ones():
    with pytest.raises(CatalogError, match=r"unknown derivation 'no_such'.*street_partition"):
        get_derivation("no_such")


def test_the_bundled_params_fit_every_declaration():
    from planatlas.derive.schema import check_params

    catalog = load_catalog(GEODATA)
    derived = [catalog[name] for name in catalog if catalog[name].geometry.derive]
    assert derived
    for spec in derived:
        assert check_params(spec, DERIVATIONS[spec.geometry.derive]) == [], spec.name
