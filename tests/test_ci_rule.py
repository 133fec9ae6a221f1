"""The one CI rule: ``CI`` set to anything but empty, ``0`` or ``false`` means every test runs."""

from __future__ import annotations

import pytest

from _ci import in_ci, skip_unless_available


@pytest.mark.parametrize("value", ["true", "TRUE", "True", "1", "yes", "on", "github", "2"])
def test_any_other_value_means_ci(value):
    assert in_ci({"CI": value})


@pytest.mark.parametrize("value", ["", "0", "false", "FALSE", "False"])
def test_empty_zero_and_false_mean_a_laptop(value):
    assert not in_ci({"CI": value})


def test_unset_means_a_laptop():
    assert not in_ci({})


def test_the_process_environment_is_the_default(monkeypatch):
    monkeypatch.setenv("CI", "1")
    assert in_ci()
    monkeypatch.setenv("CI", "false")
    assert not in_ci()
    monkeypatch.delenv("CI")
    assert not in_ci()


@pytest.mark.parametrize("value", ["1", "true", "yes"])
def test_under_ci_a_missing_tool_fails_instead_of_skipping(monkeypatch, value):
    monkeypatch.setenv("CI", value)
    with pytest.raises(pytest.fail.Exception, match="must not skip"):
        skip_unless_available("the tool is missing")


@pytest.mark.parametrize("value", [None, "0", "false"])
def test_on_a_laptop_a_missing_tool_skips(monkeypatch, value):
    if value is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", value)
    with pytest.raises(pytest.skip.Exception, match="the tool is missing"):
        skip_unless_available("the tool is missing")


@pytest.mark.parametrize("value", ["1", "yes"])
def test_a_missing_postgis_fails_under_any_ci_value(monkeypatch, tmp_path, value):
    """``CI=1`` once skipped the PostGIS tests silently; now every CI value makes it a failure."""
    from conftest_postgis import require_postgis

    monkeypatch.setenv("CI", value)
    monkeypatch.setenv("PLANATLAS_PG_BIN", str(tmp_path / "no-postgres"))
    with pytest.raises(pytest.fail.Exception, match="must not skip"):
        require_postgis()


@pytest.mark.parametrize("value", ["1", "yes"])
def test_a_missing_browser_fails_under_any_ci_value(monkeypatch, tmp_path, value):
    import browser_support

    monkeypatch.setenv("CI", value)
    monkeypatch.setattr(browser_support, "CHROMIUM", str(tmp_path / "no-chromium"))
    with pytest.raises(pytest.fail.Exception, match="must not skip"):
        browser_support.require_browser()
