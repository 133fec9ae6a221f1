"""A one-call distance index: GEOS's STRtree and ``dwithin``, cheap to build, for answers asked once.

:class:`ProximityIndex` pays a preparation (anchors, a segment table) that a long-lived process (the
app) recovers over many queries; a single CLI call does not. :class:`TreeIndex` answers the same two
questions with the same exact semantics (GEOS decides every pair) after building only an STRtree, so
:func:`planatlas.query.run_query` uses it when no prepared index is cached.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import shapely
from numpy.typing import NDArray

__all__ = ["DistanceIndex", "TreeIndex"]


class DistanceIndex(Protocol):
    """What :func:`planatlas.query.within_distance` asks of a prepared target layer (EPSG:4548)."""

    def __len__(self) -> int:
        """Number of target geometries (the layer's rows, empty ones included)."""

    def pairs_within(
        self, reference: NDArray[np.object_], distance: float, *, distances: bool = True
    ) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
        """All (target index, reference index, distance) pairs with distance ≤ ``distance``."""

    def count_within(self, reference: NDArray[np.object_], distance: float) -> NDArray[np.int64]:
        """For each target, how many ``reference`` geometries lie within ``distance``."""


class TreeIndex:
    """Target geometries in EPSG:4548 behind an STRtree; pairs decided and measured by GEOS.

    Parameters
    ----------
    geoms
        Target geometries in EPSG:4548; empty or missing ones never match.
    """

    def __init__(self, geoms: NDArray[np.object_]) -> None:
        self.geoms = np.asarray(geoms, dtype=object)
        self.tree = shapely.STRtree(self.geoms)

    def __len__(self) -> int:
        return len(self.geoms)

    def pairs_within(
        self, reference: NDArray[np.object_], distance: float, *, distances: bool = True
    ) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
        """All (target index, reference index, distance) pairs with distance ≤ ``distance``, in no order.

        With ``distances=False`` the distances are NaN (GEOS ``dwithin`` decided the pairs).
        """
        reference = np.asarray(reference, dtype=object)
        r, t = self.tree.query(reference, predicate="dwithin", distance=distance)
        t, r = t.astype(np.int64), r.astype(np.int64)
        d = shapely.distance(self.geoms[t], reference[r]) if distances else np.full(len(t), np.nan)
        return t, r, np.asarray(d, dtype=np.float64)

    def count_within(self, reference: NDArray[np.object_], distance: float) -> NDArray[np.int64]:
        """For each target, how many ``reference`` geometries lie within ``distance`` (exact)."""
        t, _, _ = self.pairs_within(reference, distance, distances=False)
        return np.bincount(t, minlength=len(self.geoms)).astype(np.int64)
