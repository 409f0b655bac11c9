"""The layers, checked on the source: storage/ is the bottom floor and imports
neither the wire protocol nor the console; nothing below the site wiring
imports the console (it is the top floor: only extenddb_site mounts it)."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("accounts", "console", "extenddb_site", "storage", "wireapi", "tools", "bench", "fuzz", "tests")


def _imports(path: Path) -> set[str]:
    """Every module a file imports, at the top or inside a function."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in (
                "import_module", "__import__") and node.args and isinstance(node.args[0], ast.Constant):
            found.add(str(node.args[0].value))
    return found


def _modules(package: str):
    for path in sorted((ROOT / package).rglob("*.py")):
        if ".venv" not in path.parts and "node_modules" not in path.parts:
            yield path


def _offenders(package: str, forbidden: tuple[str, ...]) -> list[str]:
    out = []
    for path in _modules(package):
        for module in sorted(_imports(path)):
            if module.split(".")[0] in forbidden:
                out.append(f"{path.relative_to(ROOT)} imports {module}")
    return out


def test_storage_imports_neither_the_wire_protocol_nor_the_console():
    assert _offenders("storage", ("wireapi", "console")) == []


def test_nothing_but_the_site_wiring_imports_the_console():
    offenders = []
    for package in PACKAGES:
        if package not in ("console", "extenddb_site"):
            offenders += _offenders(package, ("console",))
    assert offenders == []


def test_accounts_stays_below_the_wire_protocol():
    assert _offenders("accounts", ("wireapi", "console")) == []


def test_the_checker_sees_imports_inside_functions(tmp_path):
    sample = tmp_path / "m.py"
    sample.write_text("def f():\n    from wireapi.app import x\n    import console.views\n")
    assert {"wireapi.app", "console.views"} <= _imports(sample)
