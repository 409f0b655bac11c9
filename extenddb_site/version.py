"""The product's own version (not Django's): shown by `/health`, the `serve`
banner, `python3 bootstrap.py --version` and `manage.py extenddb_version`.

Scheme: 0.N.0, N being the number of the round of work that released it
(CHANGELOG.md names the commit each release ends at); the minor number goes
up with every round, the patch number for a fix to a released round. Kept in
this one file, importable without Django, so bootstrap.py can read it with
the system python before the virtual environment exists.
"""
__version__ = "0.11.0"
