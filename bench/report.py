"""Ratios, targets and the Markdown report of a bench/run.py run."""
from __future__ import annotations

import statistics

OURS = ("extenddb-pg", "extenddb-sqlite")
TARGET_SERVER = "extenddb-pg"


def _ratio(a, b):
    if a is None or b in (None, 0):
        return None
    return round(a / b, 2)


def _rows(results: dict) -> list[dict]:
    return [r for s in results.get("servers", []) for r in s.get("rows", [])]


def _find(rows, server, op, conns):
    for r in rows:
        if r["server"] == server and r["op"] == op and r["connections"] == conns and not r.get("unsupported"):
            return r
    return None


def _server(results, name):
    for s in results.get("servers", []):
        if s["server"] == name:
            return s
    return None


def annotate(results: dict) -> None:
    """Add each row's ratios to dynalite (TLS; plain HTTP if that is all that ran) and to moto."""
    rows = _rows(results)
    names = {s["server"] for s in results.get("servers", [])}
    dyn = "dynalite" if "dynalite" in names else "dynalite-http" if "dynalite-http" in names else None
    results["reference"] = {"dynalite": dyn, "moto": "moto" if "moto" in names else None}
    for r in rows:
        if r.get("unsupported"):
            continue
        for ref_name, ref in (("dynalite", dyn), ("moto", "moto" if "moto" in names else None)):
            other = _find(rows, ref, r["op"], r["connections"]) if ref else None
            if other is None or ref == r["server"]:
                continue
            r[f"vs_{ref_name}"] = {
                "rps": _ratio(r["rps"], other["rps"]),
                "p50": _ratio(r["p50_ms"], other["p50_ms"]),
                "p99": _ratio(r["p99_ms"], other["p99_ms"]),
                "mem": _ratio(r.get("memory", {}).get("workers_sum_mb"), other.get("memory", {}).get("workers_sum_mb")),
            }
    results["targets"] = targets(results)


def _verdict(ok):
    return "n/a" if ok is None else ("PASS" if ok else "FAIL")


def targets(results: dict) -> list[dict]:
    rows = _rows(results)
    out = []
    conns = results.get("args", {}).get("connections", [16, 64])
    ref = results.get("reference", {})
    if _server(results, TARGET_SERVER):
        for op, need in (("GetItem", 1.0), ("PutItem", 1.0), ("Query", 2.0)):
            for c in conns:
                r = _find(rows, TARGET_SERVER, op, c)
                v = r.get("vs_dynalite", {}).get("rps") if r else None
                out.append({"target": f"{op} req/s >= {need:g}x {ref.get('dynalite') or 'dynalite'} (c={c})",
                            "value": f"{v}x" if v is not None else "-",
                            "verdict": _verdict(None if v is None else v >= need)})
        worst = None
        for r in rows:
            if r["server"] == TARGET_SERVER and not r.get("unsupported"):
                v = r.get("vs_moto", {}).get("rps")
                if v is not None and (worst is None or v < worst[0]):
                    worst = (v, r["op"], r["connections"])
        out.append({"target": "every operation req/s >= 20x moto",
                    "value": f"lowest {worst[0]}x ({worst[1]}, c={worst[2]})" if worst else "-",
                    "verdict": _verdict(None if worst is None else worst[0] >= 20)})
        p99 = [(r["p99_ms"], r["op"]) for r in rows
               if r["server"] == TARGET_SERVER and r["connections"] == 16 and not r.get("unsupported")]
        if p99:
            m = max(p99)
            out.append({"target": "p99 <= 10 ms at 16 connections (every operation)",
                        "value": f"worst {m[0]} ms ({m[1]})", "verdict": _verdict(m[0] <= 10)})
        peak = (_server(results, TARGET_SERVER) or {}).get("memory_peak", {})
        if peak.get("max_worker_mb"):
            out.append({"target": "server memory <= 150 MB per worker",
                        "value": f"max {peak['max_worker_mb']} MB", "verdict": _verdict(peak["max_worker_mb"] <= 150)})
    g = results.get("growth")
    if g and g.get("runs"):
        big_items = max(r["items"] for r in g["runs"])
        small_items = min(r["items"] for r in g["runs"])
        for op in g.get("ops") or ["GetItem"]:
            for c in sorted({r["connections"] for r in g["runs"]}):
                sel = [r for r in g["runs"] if r.get("op", "GetItem") == op and r["connections"] == c]
                small = [r["rps"] for r in sel if r["table"] == "small"]
                big = [r["rps"] for r in sel if r["table"] == "big"]
                if small and big:
                    s, b = statistics.median(small), statistics.median(big)
                    out.append({"target": f"{op} on {big_items:,} items within 10% of {small_items:,} (c={c})",
                                "value": f"median {b:.0f} vs {s:.0f} req/s ({(b / s - 1) * 100:+.1f}%)",
                                "verdict": _verdict(b >= 0.9 * s)})
                    cpus = {t: [r["worker_cpu_us"] + r["pg_cpu_us"] for r in sel if r["table"] == t
                                and "worker_cpu_us" in r] for t in ("small", "big")}
                    if cpus["small"] and cpus["big"]:
                        cs, cb = statistics.median(cpus["small"]), statistics.median(cpus["big"])
                        out.append({"target": f"{op} on {big_items:,} items: CPU per request (server + PostgreSQL) "
                                              f"within 10% of {small_items:,} (c={c})",
                                    "value": f"median {cb:.0f} vs {cs:.0f} µs ({(cb / cs - 1) * 100:+.1f}%)",
                                    "verdict": _verdict(cb <= 1.1 * cs)})
                    p99 = statistics.median([r["p99_ms"] for r in sel if r["table"] == "big"])
                    out.append({"target": f"{op} on {big_items:,} items: p99 <= 20 ms (c={c})",
                                "value": f"median p99 {p99} ms (small: "
                                         f"{statistics.median([r['p99_ms'] for r in sel if r['table'] == 'small'])} ms)",
                                "verdict": _verdict(p99 <= 20)})
        plans = {k: v for k, v in (g.get("explain") or {}).items() if k != "_ids"}
        if plans:
            seq = [k for k, v in plans.items() if v["seq_scan"]]
            out.append({"target": "index statements of UpdateItem/Query use an index (EXPLAIN, generic plans)",
                        "value": "Seq Scan in: " + ", ".join(seq) if seq else f"no Seq Scan in {len(plans)} plans",
                        "verdict": _verdict(not seq)})
    return out


def _fmt(v, suffix=""):
    return "-" if v is None else f"{v}{suffix}"


def markdown(results: dict) -> str:
    meta = results["meta"]
    m = meta["machine"]
    lines = [f"# Benchmark {meta['date']} ({meta['mode']})", "",
             f"{m['cores']} cores ({m['cpu']}), {m['mem_gb']} GB, Python {m['python']}, kernel {m['kernel']}; "
             f"run took {meta.get('seconds', '?')} s. Server tree: commit {meta.get('git', {}).get('commit', '?')}"
             + (f" + uncommitted changes in {len(meta['git']['dirty_server_files'])} files"
                if meta.get("git", {}).get("dirty_server_files") else "") + ".", ""]
    args = results["args"]
    if "dataset" in results:
        d = results["dataset"]
        lines += [f"Data: {d['items']:,} items of {d['item_size']} bytes over {d['partitions']:,} partition keys "
                  f"(pk S + sk S). wrk: {args['duration']:g} s per run, {args['wrk_threads']} thread(s), "
                  f"pools of {args['pool']:,} pre-signed requests. ExtendDB: {args['workers']} workers, HTTPS. "
                  f"Ratios: `xdyn` against {results['reference'].get('dynalite') or '-'}, `xmoto` against "
                  f"moto, in this run. For latency and memory a ratio below 1 is better.", ""]
        lines += ["| server | operation | conns | req/s | xdyn | xmoto | p50 ms | xdyn | xmoto | p99 ms | xdyn | xmoto "
                  "| errors | RSS MB workers (sum) | xdyn | xmoto |",
                  "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|"]
        order = {op: i for i, op in enumerate(args["ops"])}
        rows = sorted(_rows(results), key=lambda r: (order.get(r["op"], 99), r["connections"],
                                                     ["extenddb-pg-baseline", "extenddb-pg", "extenddb-sqlite-baseline",
                                                      "extenddb-sqlite", "dynalite", "dynalite-http",
                                                      "moto"].index(r["server"])))
        for r in rows:
            if r.get("unsupported"):
                lines.append(f"| {r['server']} | {r['op']} | {r['connections']} | unsupported | | | | | | | | | | | | |")
                continue
            vd, vm = r.get("vs_dynalite", {}), r.get("vs_moto", {})
            mem = r.get("memory", {})
            workers = "+".join(f"{w:.0f}" for w in mem.get("workers_mb", []))
            memtxt = f"{workers} ({mem.get('workers_sum_mb', 0):.0f})" if len(mem.get("workers_mb", [])) > 1 \
                else f"{mem.get('workers_sum_mb', 0):.0f}"
            err = r["errors"]
            errtxt = f"{err}" if not err else f"**{err}** ({r['non2xx']} non-2xx, {r['socket_errors']} socket)"
            ctxt = f"{r['connections']} (ran {r['connections_used']})" if r.get("connections_used") else r["connections"]
            lines.append(
                f"| {r['server']} | {r['op']} | {ctxt} | {r['rps']:.0f} | {_fmt(vd.get('rps'))} | "
                f"{_fmt(vm.get('rps'))} | {r['p50_ms']} | {_fmt(vd.get('p50'))} | {_fmt(vm.get('p50'))} | "
                f"{r['p99_ms']} | {_fmt(vd.get('p99'))} | {_fmt(vm.get('p99'))} | {errtxt} | {memtxt} | "
                f"{_fmt(vd.get('mem'))} | {_fmt(vm.get('mem'))} |")
        lines.append("")
        cpu_rows = [r for r in rows if "pg_cpu_us" in r]
        if cpu_rows:  # --interleave samples the ExtendDB-on-PostgreSQL servers' CPU (steadier than req/s)
            lines += ["CPU per request (every process of the server, and its database's PostgreSQL backends):", "",
                      "| server | operation | conns | server µs | PostgreSQL µs | total µs |", "|---|---|---:|---:|---:|---:|"]
            lines += [f"| {r['server']} | {r['op']} | {r['connections']} | {r['worker_cpu_us']} | {r['pg_cpu_us']} | "
                      f"{round(r['worker_cpu_us'] + r['pg_cpu_us'], 1)} |" for r in cpu_rows]
            lines.append("")
        lines += ["| server | load (BatchWriteItem, 25 a call) | items/s | RSS MB idle | after load | peak (per worker) |",
                  "|---|---:|---:|---:|---:|---|"]
        for s in results["servers"]:
            if "error" in s and "load" not in s:
                lines.append(f"| {s['server']} | failed: {s['error'][:120]} | | | | |")
                continue
            ld = s.get("load", {})
            peak = s.get("memory_peak", {})
            how = "" if ld.get("method", "BatchWriteItem") == "BatchWriteItem" else \
                f" (with {ld['method']}: BatchWriteItem unsupported)"
            lines.append(f"| {s['server']} | {ld.get('seconds', '-')} s{how} | {ld.get('items_per_s', '-')} | "
                         f"{s.get('memory_idle', {}).get('workers_sum_mb', '-')} | "
                         f"{s.get('memory_loaded', {}).get('workers_sum_mb', '-')} | "
                         f"{peak.get('workers_sum_mb', '-')} ({'+'.join(str(w) for w in peak.get('workers_mb', []))}) |")
        lines.append("")
        errs = [f"- {r['server']} {r['op']} c={r['connections']}: {r['error_sample'][:300]}"
                for r in _rows(results) if not r.get("unsupported") and r.get("errors")]
        failed = [f"- {s['server']}: {s['error']}" for s in results["servers"] if "error" in s]
        if errs or failed:
            lines += ["First error per run:", ""] + errs + failed + [""]
    g = results.get("growth")
    if g:
        lines += ["## Big table vs small table, three GSIs (ExtendDB on PostgreSQL, HTTPS)", ""]
        for f in g.get("fills", []):
            extra = (f", {f['index_entries']:,} index entries; ddb_index_entry now {f['ddb_index_entry_total_size']}"
                     if "index_entries" in f else "")
            lines.append(f"- `{f['table']}`: {f['items']:,} items of {f['item_size']} bytes filled by SQL in "
                         f"{f['seconds']} s (ddb_item now {f['ddb_item_total_size']}{extra})")
        for c in g.get("checks", []):
            lines.append(f"- `{c['table']}`: item {c['item']:,} deleted and put back through the API: the API "
                         f"removed the {c['entries']} generated index entries and wrote byte-identical rows")
        lines += ["", "CPU µs/req: the server's processes and the PostgreSQL backends of its database, from /proc "
                  "(steadier than req/s when other work loads the machine).", "",
                  "| operation | table | items | conns | round | req/s | p50 ms | p99 ms | errors | CPU µs/req server "
                  "| CPU µs/req PostgreSQL | load |",
                  "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
        for r in g.get("runs", []):
            lines.append(f"| {r.get('op', 'GetItem')} | {r['table']} | {r['items']:,} | {r['connections']} | "
                         f"{r['round']} | {r['rps']:.0f} | {r['p50_ms']} | {r['p99_ms']} | {r['errors']} | "
                         f"{r.get('worker_cpu_us', '-')} | {r.get('pg_cpu_us', '-')} | {r.get('loadavg_1m', '')} |")
        lines.append("")
        buf = g.get("buffers")
        if buf:
            lines += ["### Pages touched per statement (EXPLAIN (ANALYZE, BUFFERS), mean over 20 random items)", "",
                      "| statement | " + " | ".join(buf) + " |", "|---|" + "---:|" * len(buf)]
            for label in buf.get("small", {}):
                lines.append(f"| {label} | " + " | ".join(str(b.get(label, "-")) for b in buf.values()) + " |")
            lines.append("")
        plans = {k: v for k, v in (g.get("explain") or {}).items() if k != "_ids"}
        if plans:
            lines += ["### Generic plans on the big table (`plan_cache_mode = force_generic_plan`)", ""]
            for label, e in plans.items():
                lines += [f"- {label}:", "", "  ```", *[f"  {ln}" for ln in e["plan"]], "  ```"]
            lines.append("")
    prof = next((s.get("profile") for s in results.get("servers", []) if s.get("profile")), None)
    if prof:
        lines += ["## Profile (py-spy, one worker, GetItem)", "", prof.get("summary", ""), ""]
    if results.get("targets"):
        lines += ["## Targets (ExtendDB on PostgreSQL over HTTPS)", "", "| target | measured | verdict |",
                  "|---|---|---|"]
        lines += [f"| {t['target']} | {t['value']} | {t['verdict']} |" for t in results["targets"]]
        lines.append("")
    return "\n".join(lines)
