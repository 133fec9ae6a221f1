"""planatlas.maps."""
