"""Blob store adapters (private to the storage area)."""
