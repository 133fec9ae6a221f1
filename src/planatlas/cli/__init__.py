"""planatlas.cli."""
