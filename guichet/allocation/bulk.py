"""Moved to guichet.bulk (evidence and notifications use it too); kept so that old imports still work."""

from guichet.bulk import BATCH, Encoded, insert, reserve_ids, uses_copy

__all__ = ["BATCH", "Encoded", "insert", "reserve_ids", "uses_copy"]
