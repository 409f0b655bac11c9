"""docs/admin.md shows the console as it is: tools/screenshots.py photographs every page the
guide shows (here, into a temporary folder, against the test server), and the guide refers
to exactly the pictures the script makes, each of them committed."""
from __future__ import annotations

import importlib.util
import re

from ..server import ROOT, manage

DOC = ROOT / "docs" / "admin.md"


def _tool():
    spec = importlib.util.spec_from_file_location("screenshots", ROOT / "tools" / "screenshots.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_guide_shows_exactly_what_the_script_photographs(console, ddb, tmp_path):
    tool = _tool()
    tool.seed_accounts(manage)
    names = tool.seed(ddb)
    written = tool.capture(console, ddb, tmp_path, names, manage)
    assert written == list(tool.SHOTS)
    assert all((tmp_path / name).stat().st_size > 10_000 for name in written)  # a page, not a blank
    shown = re.findall(r"\]\(images/([^)]+\.png)\)", DOC.read_text(encoding="utf-8"))
    assert sorted(shown) == sorted(tool.SHOTS), "docs/admin.md and tools/screenshots.py disagree"
    assert all((DOC.parent / "images" / name).exists() for name in shown)
    assert not console.console_errors, console.console_errors
