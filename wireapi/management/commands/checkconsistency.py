"""`manage.py checkconsistency [--table T]`: compare every index and stream
with its base table (see wireapi.consistency); exit status 1 on any problem."""
from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from wireapi.consistency import check
from storage.models import Table


class Command(BaseCommand):
    help = "Check that every secondary index and stream agrees with its base table."

    def add_arguments(self, parser):
        parser.add_argument("--table", default=None, help="check only this table")
        parser.add_argument("--max-problems", type=int, default=100,
                            help="problems printed per table (all are counted)")

    def handle(self, *args, **opts):
        try:
            reports = check(opts["table"])
        except Table.DoesNotExist:
            raise CommandError(f"no table named {opts['table']!r}") from None
        total = 0
        for report in reports:
            total += len(report.problems)
            status = "ok" if not report.problems else f"{len(report.problems)} problem(s)"
            self.stdout.write(f"{report.table}: {report.items} items, {report.index_entries} index entries, "
                              f"{report.stream_records} stream records, "
                              f"{report.history_versions} history versions"
                              + (f", {report.index_key_violations} index key violation(s)"
                                 if report.index_key_violations else "") + f": {status}")
            for problem in report.problems[:opts["max_problems"]]:
                self.stdout.write(f"  {problem.kind}: {problem.detail}")
        self.stdout.write(f"{len(reports)} table(s) checked, {total} problem(s)")
        if total:
            raise CommandError(f"{total} consistency problem(s) found")
