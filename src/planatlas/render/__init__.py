"""planatlas.render."""
