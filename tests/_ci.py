"""The one rule for what ``CI`` means to the suite: under CI every test runs, so a skip is a failure.

``CI`` set to any non-empty value other than ``0`` or ``false`` (any case) means CI: ``.ci/run``
sets ``CI=true``, other runners set ``CI=1`` or ``CI=yes``. On a laptop without an optional system
tool (PostGIS, Chromium, a CJK font, GDAL) the tests needing it skip; under CI they fail instead.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import NoReturn

import pytest

_NOT_CI = {"", "0", "false"}


def in_ci(environ: Mapping[str, str] | None = None) -> bool:
    """Whether ``CI`` (in ``environ``, default ``os.environ``) asks for every test to run."""
    env = os.environ if environ is None else environ
    return env.get("CI", "").lower() not in _NOT_CI


def skip_unless_available(reason: str) -> NoReturn:
    """Skip on a laptop that lacks an optional system tool; fail under CI, where it must exist."""
    if in_ci():
        pytest.fail(f"{reason} (CI={os.environ.get('CI')!r}: this test must not skip; .ci/run installs it)")
    pytest.skip(reason)
