#!/usr/bin/env python3
"""ExtendDB benchmark: this server (PostgreSQL and SQLite, HTTPS) against dynalite and moto.

    .venv/bin/python bench/run.py                 # full matrix: 100k items, 10 s wrk runs, 16 and 64 connections
    .venv/bin/python bench/run.py --quick         # 10k items, 5 s runs
    .venv/bin/python bench/run.py --growth        # 5M items with 3 GSIs vs 10k (PostgreSQL)
    .venv/bin/python bench/run.py --smoke         # CI: seconds; SQLite only (+ dynalite); exit 1 unless it ran cleanly
    .venv/bin/python bench/run.py --profile       # also py-spy a worker during a GetItem run on PostgreSQL

See bench/README.md for what each figure means.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
import traceback
from datetime import date, datetime, timezone
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(1, str(BENCH.parent))

import urllib3  # noqa: E402

import report  # noqa: E402
import servers  # noqa: E402
import workload  # noqa: E402
import wrkrun  # noqa: E402

urllib3.disable_warnings()

ALL_SERVERS = ["extenddb-pg", "extenddb-sqlite", "dynalite", "dynalite-http", "moto", "extenddb-pg-baseline",
               "extenddb-sqlite-baseline"]
DEFAULT_SERVERS = ["dynalite", "moto", "extenddb-pg", "extenddb-sqlite"]


def parse_args(argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="10k items, 5 s runs, smaller pools")
    mode.add_argument("--smoke", action="store_true", help="CI check: seconds, SQLite only (+dynalite)")
    mode.add_argument("--growth", action="store_true",
                      help="5M items with 3 GSIs vs 10k: GetItem, GSI Query, GSI-moving UpdateItem (PostgreSQL)")
    ap.add_argument("--items", type=int, help="items to load (default 100000)")
    ap.add_argument("--partitions", type=int, help="partition keys (default 1000)")
    ap.add_argument("--duration", type=float, help="seconds per wrk run (default 10)")
    ap.add_argument("--connections", help="comma-separated wrk connection counts (default 16,64)")
    ap.add_argument("--servers", help=f"comma-separated, from {','.join(ALL_SERVERS)}")
    ap.add_argument("--ops", help=f"comma-separated, from {','.join(workload.OPERATIONS)}")
    ap.add_argument("--pool", type=int, help="pre-signed requests per wrk run (default 5000)")
    ap.add_argument("--loaders", type=int, default=4, help="concurrent BatchWriteItem loader processes")
    ap.add_argument("--warmup", type=float, help="seconds of warm-up per operation (default 2)")
    ap.add_argument("--workers", type=int, default=2, help="ExtendDB worker processes")
    ap.add_argument("--wrk-threads", type=int, default=1)
    ap.add_argument("--no-wrk", action="store_true",
                    help="with --smoke: drive requests from Python, as when wrk cannot be installed")
    ap.add_argument("--profile", action="store_true", help="py-spy one ExtendDB-PG worker during GetItem")
    ap.add_argument("--interleave", action="store_true",
                    help="start every server at once and run each operation on each server back to back "
                         "(fairer on a shared, noisy machine)")
    ap.add_argument("--baseline", metavar="TREE",
                    help="another checkout (e.g. the commit before a change) served on PostgreSQL as "
                         "extenddb-pg-baseline, added to --servers unless --servers names "
                         "extenddb-sqlite-baseline (the same tree on SQLite)")
    ap.add_argument("--growth-items", type=int, default=5_000_000)
    ap.add_argument("--growth-ops", help="comma-separated, from GetItem,Query:gsi1,Query:gsi2,Query:gsi3,UpdateItem:gsi")
    ap.add_argument("--growth-small", type=int, default=10_000)
    ap.add_argument("--growth-rounds", type=int, default=3, help="alternating small/big rounds (median counts)")
    ap.add_argument("--out", default=str(BENCH / "results"), help="results directory")
    ap.add_argument("--no-save", action="store_true", help="do not write results files")
    args = ap.parse_args(argv)

    if args.smoke:
        defaults = dict(items=300, partitions=10, duration=2, connections="8", pool=200, warmup=0,
                        servers="extenddb-sqlite,dynalite")
        args.loaders = min(args.loaders, 2)
        args.no_save = True  # CI: leave the tree clean
    elif args.quick:
        defaults = dict(items=10_000, partitions=100, duration=5, connections="16,64", pool=2000, warmup=1,
                        servers=",".join(DEFAULT_SERVERS))
    elif args.growth:
        defaults = dict(items=0, partitions=0, duration=10, connections="16,64", pool=20_000, warmup=3,
                        servers="extenddb-pg")
    else:
        defaults = dict(items=100_000, partitions=1000, duration=10, connections="16,64", pool=5000, warmup=2,
                        servers=",".join(DEFAULT_SERVERS))
    for k, v in defaults.items():
        if getattr(args, k) is None:
            setattr(args, k, v)
    args.connections = [int(c) for c in str(args.connections).split(",")]
    args.servers = [s.strip() for s in args.servers.split(",") if s.strip()]
    args.ops = [o.strip() for o in (args.ops or ",".join(workload.OPERATIONS)).split(",")]
    import growth
    args.growth_ops = [o.strip() for o in (args.growth_ops or ",".join(growth.GSI_OPS)).split(",")]
    for o in args.growth_ops:
        if o not in growth.GSI_OPS:
            ap.error(f"unknown growth operation {o}")
    baselines = {"extenddb-pg-baseline", "extenddb-sqlite-baseline"}
    if args.baseline and not baselines & set(args.servers):
        args.servers.insert(0, "extenddb-pg-baseline")
    if baselines & set(args.servers) and not args.baseline:
        ap.error("extenddb-pg-baseline / extenddb-sqlite-baseline need --baseline TREE")
    for s in args.servers:
        if s not in ALL_SERVERS:
            ap.error(f"unknown server {s}")
    for o in args.ops:
        if o not in workload.OPERATIONS:
            ap.error(f"unknown operation {o}")
    return args


def machine() -> dict:
    cpu = ""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cores": os.cpu_count(), "cpu": cpu, "python": platform.python_version(),
            "kernel": platform.release(), "mem_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
                                                          / 2**30, 1)}


def log(msg: str) -> None:
    print(f"[{datetime.now().strftime('%H:%M:%S')}] {msg}", flush=True)


def start(name: str, tools: dict, args) -> servers.Server:
    if name == "extenddb-pg":
        return servers.start_extenddb("postgres", args.workers)
    if name == "extenddb-sqlite":
        return servers.start_extenddb("sqlite", args.workers)
    if name == "extenddb-pg-baseline":
        return servers.start_extenddb("postgres", args.workers, root=Path(args.baseline).resolve(), name=name)
    if name == "extenddb-sqlite-baseline":
        return servers.start_extenddb("sqlite", args.workers, root=Path(args.baseline).resolve(), name=name)
    if name in ("dynalite", "dynalite-http"):
        return servers.start_dynalite(tools["dynalite"], tls=(name == "dynalite"))
    if name == "moto":
        return servers.start_moto(tools["bench_bin"])
    raise ValueError(name)


def verify_for(srv: servers.Server):
    return srv.ca_bundle if srv.ca_bundle else False


# moto is seconds per call on 100k items for these (TransactWriteItems deep-copies the whole table,
# moto/dynamodb/models/__init__.py; Query walks the table): with many connections every request
# times out and moto keeps working off the backlog into the next run. Keep its concurrency low.
MOTO_SLOW_OPS = {"Query": 2, "TransactWriteItems": 2}


def run_op(srv, op, conns, ds, args, tmp: Path, wrk: str, seed: int, table: str = workload.TABLE,
           duration: float | None = None) -> dict:
    """Sign a fresh pool, write the Lua files, run wrk once."""
    pool = tmp / f"{srv.name}-{table}-{op}-{conns}.pool.lua"
    script = tmp / f"{srv.name}-{table}-{op}-{conns}.wrk.lua"
    t0 = time.perf_counter()
    raws: list[bytes] | None = [] if wrk is None else None
    first = workload.build_pool(pool, srv.endpoint, srv.access_key, srv.secret_key, op, ds, args.pool, seed,
                                table, raws)
    sign_s = time.perf_counter() - t0
    try:
        status, text = workload.probe(srv.endpoint, *first)
    except OSError as exc:
        status, text = 0, f"probe failed: {type(exc).__name__}: {exc}"
    if workload.is_unsupported(status, text):
        pool.unlink(missing_ok=True)
        return {"unsupported": True, "probe": f"{status} {text[:200]}"}
    wrkrun.write_script(script, pool)
    used, timeout = conns, 5
    if srv.kind == "moto" and op in MOTO_SLOW_OPS:
        used, timeout = min(conns, MOTO_SLOW_OPS[op]), 60
    load_before = os.getloadavg()[0]
    if wrk is None:  # --smoke without wrk: the Python stand-in, to check that the operation runs
        res = wrkrun.run_python(srv.endpoint, raws, used, duration or args.duration, timeout)
    else:
        res = wrkrun.run(wrk, srv.endpoint, script, used, duration or args.duration, args.wrk_threads, timeout)
    # the machine may be shared: a 1-minute load average well above the run's own use marks noise
    res["loadavg_1m"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    if used != conns:
        res["connections_used"] = used
    res["sign_s"] = round(sign_s, 2)
    if status >= 300 or status == 0:
        res["probe"] = f"{status} {text[:200]}"
    pool.unlink(missing_ok=True)
    script.unlink(missing_ok=True)
    return res


def bench_server(name: str, tools: dict, args, ds: workload.DataSet, tmp: Path, profile: bool) -> dict:
    out: dict = {"server": name, "rows": []}
    log(f"{name}: starting")
    try:
        srv = start(name, tools, args)
    except Exception as exc:  # noqa: BLE001 - report and go on with the next server
        tail = [ln for ln in str(exc).splitlines() if ln.strip()]
        out["error"] = f"{type(exc).__name__}: {tail[0] if tail else ''} ... {' / '.join(tail[-2:])}"
        out["server_log_tail"] = str(exc)[-3000:]
        log(f"{name}: failed to start: {out['error']}")
        return out
    out["info"] = srv.info
    out["endpoint"] = srv.endpoint
    peak: dict = {}

    def sample_memory() -> dict:
        mem = srv.memory()
        if mem["workers_sum_mb"] >= peak.get("workers_sum_mb", 0):
            peak.update(mem)
        peak["max_worker_mb"] = max(peak.get("max_worker_mb", 0), *mem["workers_mb"])
        return mem

    try:
        out["memory_idle"] = sample_memory()
        workload.create_table(srv.endpoint, srv.access_key, srv.secret_key, verify_for(srv))
        log(f"{name}: loading {ds.count} items over {ds.partitions} partition keys")
        out["load"] = workload.load(srv.endpoint, srv.access_key, srv.secret_key, verify_for(srv), ds, args.loaders)
        out["memory_loaded"] = sample_memory()
        log(f"{name}: loaded in {out['load']['seconds']} s ({out['load']['items_per_s']} items/s); "
            f"memory {out['memory_loaded']}")
        for n, op in enumerate(args.ops):
            if args.warmup:
                w = run_op(srv, op, args.connections[0], ds, args, tmp, tools["wrk"], seed=1000 + n,
                           duration=args.warmup)
                if w.get("unsupported"):
                    log(f"{name}: {op} not supported ({w['probe']})")
                    for c in args.connections:
                        out["rows"].append({"server": name, "op": op, "connections": c, "unsupported": True,
                                            "probe": w["probe"]})
                    continue
            for conns in args.connections:
                res = run_op(srv, op, conns, ds, args, tmp, tools["wrk"], seed=n * 100 + conns)
                row = {"server": name, "op": op, "connections": conns, **res}
                if not res.get("unsupported"):
                    row["memory"] = sample_memory()
                    log(f"{name}: {op} c={conns}: {res['rps']} req/s p50 {res['p50_ms']} ms p99 {res['p99_ms']} ms "
                        f"errors {res['errors']} mem {row['memory']['workers_mb']}"
                        + (f"  first error: {res['error_sample'][:160]}" if res["errors"] else ""))
                else:
                    log(f"{name}: {op} not supported ({res['probe']})")
                out["rows"].append(row)
                if res.get("unsupported"):
                    for c in args.connections[args.connections.index(conns) + 1:]:
                        out["rows"].append({**row, "connections": c})
                    break
        if profile and srv.kind == "extenddb":
            import profiling
            log(f"{name}: profiling one worker with py-spy during GetItem")
            out["profile"] = profiling.profile_run(srv, ds, args, tmp, tools, run_op)
        out["memory_peak"] = peak
    except Exception as exc:  # noqa: BLE001 - report and go on with the next server
        out["error"] = f"{type(exc).__name__}: {exc}"
        traceback.print_exc()
        try:
            out["server_log_tail"] = srv.log_path.read_text()[-3000:]
        except OSError:
            pass
    finally:
        srv.stop()
        log(f"{name}: stopped")
    return out


def bench_interleaved(names: list[str], tools: dict, args, ds: workload.DataSet, tmp: Path) -> list[dict]:
    """Every server up and loaded at once; then each operation and connection count runs on each
    server back to back, with the same requests, so a burst of other work on a shared machine
    falls on all of them alike."""
    outs: list[dict] = []
    live: list[tuple[servers.Server, dict]] = []
    try:
        for name in names:
            out: dict = {"server": name, "rows": []}
            outs.append(out)
            log(f"{name}: starting")
            try:
                srv = start(name, tools, args)
            except Exception as exc:  # noqa: BLE001 - report and go on with the next server
                out["error"] = f"{type(exc).__name__}: {str(exc)[-500:]}"
                log(f"{name}: failed to start: {out['error']}")
                continue
            live.append((srv, out))
            out["info"], out["endpoint"] = srv.info, srv.endpoint
            out["memory_idle"] = srv.memory()
            workload.create_table(srv.endpoint, srv.access_key, srv.secret_key, verify_for(srv))
            log(f"{name}: loading {ds.count} items over {ds.partitions} partition keys")
            out["load"] = workload.load(srv.endpoint, srv.access_key, srv.secret_key, verify_for(srv), ds,
                                        args.loaders)
            out["memory_loaded"] = srv.memory()
            log(f"{name}: loaded in {out['load']['seconds']} s ({out['load']['items_per_s']} items/s)")
        # CPU per request of each ExtendDB-on-PostgreSQL server (its processes and its database's
        # backends): req/s and p99 stretch with whatever else the machine does, CPU per request hardly.
        import growth
        samplers = {out["server"]: growth.CpuSampler(srv, srv.info["database_url"], whole_tree=True)
                    for srv, out in live if srv.info.get("database_url")}
        for n, op in enumerate(args.ops):
            for conns in args.connections:
                for srv, out in live:
                    name = out["server"]
                    if any(r["op"] == op and r.get("unsupported") for r in out["rows"]):
                        out["rows"].append({"server": name, "op": op, "connections": conns, "unsupported": True})
                        continue
                    if args.warmup and conns == args.connections[0]:
                        run_op(srv, op, conns, ds, args, tmp, tools["wrk"], seed=1000 + n, duration=args.warmup)
                    cpu = samplers.get(name)
                    before = cpu.snapshot() if cpu else None
                    res = run_op(srv, op, conns, ds, args, tmp, tools["wrk"], seed=n * 100 + conns)
                    if cpu and not res.get("unsupported"):
                        res.update(cpu.per_request(before, res.get("requests", 0)))
                    row = {"server": name, "op": op, "connections": conns, **res}
                    if res.get("unsupported"):
                        log(f"{name}: {op} not supported ({res['probe']})")
                    else:
                        row["memory"] = srv.memory()
                        log(f"{name}: {op} c={conns}: {res['rps']} req/s p50 {res['p50_ms']} ms p99 {res['p99_ms']} ms "
                            f"errors {res['errors']} load {res['loadavg_1m']}"
                            + (f" CPU/req {res['worker_cpu_us']} + PG {res['pg_cpu_us']} us" if "pg_cpu_us" in res else ""))
                    out["rows"].append(row)
        for _, out in live:
            mems = [r["memory"] for r in out["rows"] if "memory" in r]
            if mems:
                top = max(mems, key=lambda m: m["workers_sum_mb"])
                out["memory_peak"] = {**top, "max_worker_mb": max(max(m["workers_mb"]) for m in mems)}
    finally:
        for srv, _ in live:
            srv.stop()
            log(f"{srv.name}: stopped")
    return outs


def run_growth(args, tools, tmp: Path) -> dict:
    """A small and a big table with three GSIs each, filled by SQL and checked against the API's
    rows; the index statements' plans on the big one; then each operation alternately on the
    small and the big table, `--growth-rounds` times per connection count (medians compared)."""
    import growth
    small = growth.GsiDataSet(args.growth_small, max(1, args.growth_small // 100))
    big = growth.GsiDataSet(args.growth_items, max(1, args.growth_items // 100))
    srv = servers.start_extenddb("postgres", args.workers)
    result: dict = {"server": "extenddb-pg", "info": srv.info, "fills": [], "checks": [], "runs": [],
                    "ops": args.growth_ops}
    try:
        client = workload.make_client(srv.endpoint, srv.access_key, srv.secret_key, verify_for(srv))
        for table, ds in (("small", small), ("big", big)):
            growth.create_gsi_table(client, table)
            log(f"growth: filling {table} with {ds.count} items and their 3 GSIs' entries by SQL")
            result["fills"].append(growth.fill_gsi(srv.info["database_url"], table, ds))
            log(f"growth: {result['fills'][-1]}")
            result["checks"].append({"table": table, **growth.check_rows_against_api(
                client, srv.info["database_url"], table, ds, ds.count // 2 + 7)})
            log(f"growth: {table}: generated rows match the API's ({result['checks'][-1]})")
            # pages per statement, measured as soon as the table is filled: the small table's
            # figures are those of a database of 10,000 items (the big one shares its B-trees later)
            result.setdefault("buffers", {})[table] = growth.buffers_per_statement(
                srv.info["database_url"], table, ds)
            log(f"growth: {table}: shared buffers per statement (EXPLAIN ANALYZE, mean of 20 items): "
                f"{result['buffers'][table]}")
        result["explain"] = growth.explain_index_statements(srv.info["database_url"], "big")
        result["buffers"]["small, in the full database"] = growth.buffers_per_statement(
            srv.info["database_url"], "small", small)
        for label, e in result["explain"].items():
            if label != "_ids":
                log(f"growth: EXPLAIN {label}: {' / '.join(ln.strip() for ln in e['plan'])}")
        cpu = growth.CpuSampler(srv, srv.info["database_url"])
        # alternate small/big per round, per operation and connection count: the machine is noisy
        for n, op in enumerate(args.growth_ops):
            for conns in args.connections:
                for rnd in range(args.growth_rounds):
                    for table, ds in (("small", small), ("big", big)):
                        if args.warmup and rnd == 0:
                            run_op(srv, op, conns, ds, args, tmp, tools["wrk"], seed=77 + n, table=table,
                                   duration=args.warmup)
                        before = cpu.snapshot()
                        res = run_op(srv, op, conns, ds, args, tmp, tools["wrk"], seed=n * 1000 + rnd * 10 + conns,
                                     table=table)
                        res.update(cpu.per_request(before, res.get("requests", 0)))
                        res.update(op=op, table=table, items=ds.count, connections=conns, round=rnd + 1)
                        result["runs"].append(res)
                        log(f"growth: {op} {table} ({ds.count} items) c={conns} round {rnd + 1}: {res['rps']} "
                            f"req/s p50 {res['p50_ms']} p99 {res['p99_ms']} errors {res['errors']} "
                            f"CPU/req server {res['worker_cpu_us']} us + PostgreSQL {res['pg_cpu_us']} us "
                            f"load {res['loadavg_1m']}")
        result["memory"] = srv.memory()
    finally:
        srv.stop()
    return result


def smoke_check(results: dict) -> list[str]:
    problems = []
    for srv in results["servers"]:
        ours = srv["server"].startswith("extenddb")
        if "error" in srv:
            if ours:
                problems.append(f"{srv['server']}: {srv['error']}")
            continue
        if not ours:
            continue
        for row in srv["rows"]:
            tag = f"{srv['server']} {row['op']} c={row['connections']}"
            if row.get("unsupported"):
                problems.append(f"{tag}: unsupported ({row.get('probe')})")
            elif row["requests"] <= 0:
                problems.append(f"{tag}: no requests completed")
            elif row["errors"]:
                problems.append(f"{tag}: {row['errors']} errors ({row['non2xx']} non-2xx, "
                                f"{row['socket_errors']} socket); first: {row['error_sample'][:300]}")
        ran = {(r["op"]) for r in srv["rows"]}
        for op in results["args"]["ops"]:
            if op not in ran:
                problems.append(f"{srv['server']}: {op} did not run")
    if not any(s["server"].startswith("extenddb") for s in results["servers"]):
        problems.append("ExtendDB did not run")
    return problems


def main(argv=None) -> int:
    args = parse_args(argv)
    started = time.time()
    try:
        if args.no_wrk and args.smoke:
            raise SystemExit("--no-wrk")
        tools: dict = {"wrk": servers.ensure_wrk()}
    except SystemExit as exc:
        if not args.smoke:
            raise
        # CI on a machine without a Debian mirror: smoke-test with the Python driver instead
        log(f"{exc}; --smoke goes on with a Python load driver (no speed figures)")
        tools = {"wrk": None}
    if any(s.startswith("dynalite") for s in args.servers):
        tools["dynalite"] = servers.ensure_dynalite()
        if tools["dynalite"] is None:
            log("node/npm not found: skipping dynalite")
            args.servers = [s for s in args.servers if not s.startswith("dynalite")]
    if "moto" in args.servers or args.profile:
        tools["bench_bin"] = servers.ensure_bench_venv()
    git = {}
    try:
        import subprocess
        git["commit"] = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=BENCH.parent, capture_output=True,
                                       text=True).stdout.strip()
        git["dirty_server_files"] = [ln[3:] for ln in subprocess.run(
            ["git", "status", "--porcelain"], cwd=BENCH.parent, capture_output=True, text=True).stdout.splitlines()
            if not ln[3:].startswith("bench/")]
    except OSError:
        pass
    meta = {"date": date.today().isoformat(), "git": git, "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "machine": machine(), "mode": "smoke" if args.smoke else "quick" if args.quick else
            "growth" if args.growth else "full"}
    results: dict = {"meta": meta, "args": {k: v for k, v in vars(args).items()}, "servers": []}
    with tempfile.TemporaryDirectory(prefix="extenddb-bench-") as tmpdir:
        tmp = Path(tmpdir)
        if args.growth:
            results["growth"] = run_growth(args, tools, tmp)
        else:
            ds = workload.DataSet(args.items, args.partitions)
            results["dataset"] = {"items": ds.count, "partitions": ds.partitions,
                                  "item_size": workload.item_size(ds.item(0)), "table": workload.TABLE}
            if args.interleave:
                results["servers"] = bench_interleaved(args.servers, tools, args, ds, tmp)
            for name in [] if args.interleave else args.servers:
                results["servers"].append(
                    bench_server(name, tools, args, ds, tmp, args.profile and name == "extenddb-pg"))
    meta["seconds"] = round(time.time() - started, 1)
    report.annotate(results)
    text = report.markdown(results)
    print()
    print(text)
    if not args.no_save:
        out_dir = Path(args.out)
        out_dir.mkdir(parents=True, exist_ok=True)
        suffix = {"full": "", "quick": "-quick", "growth": "-growth", "smoke": "-smoke"}[meta["mode"]]
        stem = f"{meta['date']}-{meta['machine']['cores']}core{suffix}" + ("-interleaved" if args.interleave else "")
        for ext, content in (("json", json.dumps(results, indent=1, default=str)), ("md", text)):
            tmp_path = out_dir / f"{stem}.{ext}.tmp"
            tmp_path.write_text(content + "\n")
            tmp_path.replace(out_dir / f"{stem}.{ext}")
        log(f"results: {out_dir / stem}.json / .md")
    if args.smoke:
        problems = smoke_check(results)
        checked = sum(1 for srv in results["servers"] if srv["server"].startswith("extenddb")
                      for _ in srv["rows"])
        if problems:
            print("SMOKE FAILED:\n  " + "\n  ".join(problems), file=sys.stderr)
            print(f"smoke: {max(checked - len(problems), 0)} passed, {len(problems)} failed")
            return 1
        print(f"smoke: {checked} passed, 0 failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
