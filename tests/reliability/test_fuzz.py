"""Bounded coverage-guided fuzzing (atheris) of every parser target in fuzz/.

The targets do not touch storage, so they run once, on the SQLite pass of the
suite. EXTENDDB_FUZZ_SECONDS sets the time per target (default 4)."""
from __future__ import annotations

import importlib.util
import os
import subprocess
import sys

import pytest

from .. import testenv
from ..server import ROOT

SECONDS = int(os.environ.get("EXTENDDB_FUZZ_SECONDS", "4"))
TARGET_NAMES = ["condition", "update", "projection", "key_condition", "attribute_value", "envelope", "sigv4",
                "compressed_body"]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(testenv.BACKEND != "sqlite", reason="backend-independent: runs on the SQLite pass"),
]


def test_seeds_pass_every_target():
    from fuzz.targets import SEEDS, TARGETS

    assert sorted(TARGETS) == sorted(TARGET_NAMES)
    for name, target in TARGETS.items():
        for seed in SEEDS[name]:
            target(seed)


@pytest.mark.skipif(importlib.util.find_spec("atheris") is None, reason="atheris is not installed")
@pytest.mark.parametrize("name", TARGET_NAMES)
def test_fuzz_target(name, tmp_path):
    from fuzz.targets import SEEDS

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for i, seed in enumerate(SEEDS[name]):
        (corpus / f"seed-{i}").write_bytes(seed)
    result = subprocess.run(
        [sys.executable, str(ROOT / "fuzz" / "run.py"), name, f"-max_total_time={SECONDS}", "-timeout=10",
         "-rss_limit_mb=1024", f"-artifact_prefix={tmp_path}/", str(corpus)],
        cwd=ROOT, capture_output=True, text=True, timeout=SECONDS + 120)
    runs = [line for line in result.stderr.splitlines() if line.startswith("Done ")]
    print(name, runs[-1] if runs else "")
    assert result.returncode == 0, result.stderr[-4000:]
