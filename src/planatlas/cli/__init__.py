"""The ``planatlas`` command line: one click command family per module, registered in :mod:`.main`.

``atlas`` (build, validate, layers, info, dump, datacard), ``query`` (spatial queries), ``export``
(print pages, map series, offline HTML), ``reconcile`` (plan figures beside the map), ``serve``
(the app); ``options`` holds what they share (options, settings, store access, error handling).
Each command parses its options, calls the library and prints; nothing here computes.
"""
