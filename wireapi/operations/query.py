"""Placeholder: filled in by the query work."""
HANDLERS: dict = {}
