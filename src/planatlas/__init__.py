"""planatlas: a geospatial planning atlas for district planning bureaus."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
