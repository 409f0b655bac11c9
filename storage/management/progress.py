"""Progress bars for long operator commands (backupdb, importtable, exporttable,
restore): one look, one option, on stderr so stdout stays a clean result.

    from storage.management.progress import add_progress_option, progress_bar

    def add_arguments(self, parser):
        add_progress_option(parser)

    def handle(self, *args, **opts):
        with progress_bar(opts, total=n, unit="item", desc="restore") as bar:
            bar.update(k)

By default a bar is drawn only when stderr is a terminal (a cron job's or
journald's log gets no carriage returns); --progress forces it, --no-progress
hides it.
"""
from __future__ import annotations

import argparse
import sys
from typing import Any

from tqdm import tqdm


def add_progress_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                        help="draw a progress bar on stderr (default: only when stderr is a terminal)")


def progress_bar(options: dict[str, Any], *, total: float | None, unit: str, desc: str) -> tqdm:
    """A tqdm bar honouring --progress/--no-progress; total None counts without a percentage.

    unit "B" scales to kB/MB/GB."""
    wanted = options.get("progress")
    if wanted is None:
        wanted = sys.stderr.isatty()
    return tqdm(total=total, unit=unit, unit_scale=unit == "B", unit_divisor=1024 if unit == "B" else 1000,
                desc=desc, file=sys.stderr, disable=not wanted, mininterval=0.5, dynamic_ncols=True,
                leave=True)
