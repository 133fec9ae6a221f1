"""planatlas.ui."""
