"""Placeholder: filled in by the transact work."""
HANDLERS: dict = {}
