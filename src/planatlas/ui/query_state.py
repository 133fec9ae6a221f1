"""Session-state keys of the Query page's question, shared with the pages that start a question (Atlas)."""

from __future__ import annotations

#: Query kinds that ask about zones (the reference is an area the features lie in or meet).
ZONE_KINDS = ("inside", "intersects", "summarize")


def of_state_key(kind: str) -> str:
    """Zones (inside, intersects, summarize) and references (within, nearest, coverage) are chosen apart."""
    return "pq_of_zone" if kind in ZONE_KINDS else "pq_of_ref"
