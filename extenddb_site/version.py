"""The product's own version (PEP 440); the release before it was 0.10.0 (commit e8136df)."""
__version__ = "0.11.0"
