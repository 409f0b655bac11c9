"""Run one fuzz target under atheris (coverage-guided) for a bounded time.

    .venv/bin/python fuzz/run.py condition -max_total_time=20 [corpus_dir]

A crash prints the input and exits non-zero; turn it into a regression test
(tests/reliability/test_hostile_input.py) and fix the parser.
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import atheris  # noqa: E402

with atheris.instrument_imports(include=["wireapi"]):
    from fuzz.targets import TARGETS  # noqa: E402


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in TARGETS:
        raise SystemExit(f"usage: run.py {{{','.join(TARGETS)}}} [libFuzzer options]")
    target = TARGETS[sys.argv[1]]
    atheris.Setup([sys.argv[0], *sys.argv[2:]], target)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
