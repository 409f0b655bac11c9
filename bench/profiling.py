"""py-spy one ExtendDB worker while wrk drives GetItem, and summarise where the time goes.

`py-spy record --format raw` writes collapsed stacks ("frame;frame;frame count");
from them: the share of samples in which each function is on the stack
(inclusive) and at the top of the stack (self), and the same per module.
"""
from __future__ import annotations

import subprocess
import threading
import time
from collections import Counter
from pathlib import Path


def _short(frame: str) -> str:
    # "handler (wireapi/operations/items.py:42)" -> "handler (wireapi/operations/items.py)"
    name, _, where = frame.partition(" (")
    where = where.rstrip(")")
    path = where.rsplit(":", 1)[0]
    for marker in ("site-packages/", "/work/main/", "lib/python3.11/"):
        if marker in path:
            path = path.split(marker, 1)[1]
    return f"{name} ({path})"


def _module(frame: str) -> str:
    path = _short(frame).split(" (", 1)[1].rstrip(")")
    parts = path.split("/")
    if parts[0] in ("wireapi", "storage", "accounts", "extenddb_site"):
        return "/".join(parts[:2]) if len(parts) > 2 else path
    return parts[0].removesuffix(".py")


def summarise(raw: str, top: int = 15) -> dict:
    total = 0
    incl: Counter = Counter()
    self_: Counter = Counter()
    mod_self: Counter = Counter()
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = [_short(f) for f in stack.split(";") if f]
        # skip the thread/process header frame py-spy may add
        frames = [f for f in frames if not f.startswith("process ") and not f.startswith("thread ")]
        if not frames:
            continue
        for f in set(frames):
            incl[f] += n
        self_[frames[-1]] += n
        mod_self[_module(stack.split(";")[-1])] += n
    pct = (lambda n: round(100 * n / total, 1)) if total else (lambda n: 0)
    return {"samples": total,
            "self": [(f, pct(n)) for f, n in self_.most_common(top)],
            "inclusive": [(f, pct(n)) for f, n in incl.most_common(top + 10)],
            "modules_self": [(m, pct(n)) for m, n in mod_self.most_common(top)]}


def profile_run(srv, ds, args, tmp: Path, tools: dict, run_op, op: str = "GetItem", conns: int = 16) -> dict:
    pyspy = tools["bench_bin"] / "py-spy"
    worker = srv.worker_pids()[0]
    out = tmp / "profile.raw"
    duration = max(int(args.duration) - 2, 3)
    rec: dict = {}

    def record():
        rec["proc"] = subprocess.run(
            [str(pyspy), "record", "--pid", str(worker), "--duration", str(duration), "--rate", "250",
             "--format", "raw", "--nonblocking", "--output", str(out)], capture_output=True, text=True)

    t = threading.Thread(target=record)
    holder: dict = {}

    def drive():
        holder["res"] = run_op(srv, op, conns, ds, args, tmp, tools["wrk"], seed=4242,
                               duration=duration + 4)

    d = threading.Thread(target=drive)
    d.start()
    # start sampling once wrk is running (pool signing takes a moment)
    time.sleep(2.5 + args.pool / 4000)
    t.start()
    t.join()
    d.join()
    proc = rec.get("proc")
    if proc is None or proc.returncode or not out.exists():
        return {"error": (proc.stderr if proc else "py-spy did not run")[-2000:], "wrk": holder.get("res")}
    raw = out.read_text()
    summary = summarise(raw)
    summary["wrk"] = holder.get("res")
    summary["worker_pid"] = worker
    summary["op"], summary["connections"] = op, conns
    summary["summary"] = text(summary)
    return summary


def text(s: dict) -> str:
    w = s.get("wrk") or {}
    lines = [f"{s['samples']} samples of one of the workers over a {s['op']} run at {s['connections']} "
             f"connections ({w.get('rps', '?')} req/s while sampled, py-spy --nonblocking, 250 Hz).", "",
             "| self time (top of stack) | % | | inclusive (on the stack) | % |", "|---|---:|---|---|---:|"]
    # leave out the roots every sample shares (process bootstrap, event loop runner)
    incl = [x for x in s["inclusive"] if not x[0].startswith("<module>") and x[1] < 95]
    for i in range(max(len(s["self"]), 15)):
        a = s["self"][i] if i < len(s["self"]) else ("", "")
        b = incl[i] if i < len(incl) else ("", "")
        if not a[0] and not b[0]:
            break
        lines.append(f"| `{a[0]}` | {a[1]} | | `{b[0]}` | {b[1]} |")
    lines += ["", "Self time by module: " + ", ".join(f"{m} {p}%" for m, p in s["modules_self"])]
    return "\n".join(lines)
