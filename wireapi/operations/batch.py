"""Placeholder: filled in by the batch work."""
HANDLERS: dict = {}
