"""The growth run (bench/run.py --growth): a big table against a small one, both with three GSIs.

Both tables are created through the API (CreateTable) and then filled with INSERT … SELECT
generate_series straight into ddb_item and ddb_index_entry, in the server's own row format
(storage/backends/sql.py, storage/keycodec.py, wireapi/indexes.py):
  hash_key / range_key      S keys as their UTF-8 bytes
  body                      the item's DynamoDB JSON as orjson writes it (compact, insertion order)
  size                      wireapi.values.item_size of the item (constant here: fixed-width values)
  segment_hash              zlib.crc32(hash_key) & 0xFFFF, computed in Python for each partition key
  index_hash / index_range  the index key values' bytes (b"" without a range key)
  entry body / size         the index's projection of the item, as the write path builds it
check_rows_against_api() proves the format on one item of each table.
"""
from __future__ import annotations

import os
import time
import zlib

import orjson
import psycopg

import servers
from workload import DataSet, item_size

SEGMENT_MASK = 0xFFFF


# --- the GSI growth run: a table with three GSIs, filled by SQL ------------------------------
#
# Items of about 200 bytes: {pk, sk, v, payload (S, GSI_PAYLOAD_LEN), g1, g2, g3}; gN (S,
# "h000042") is item i's key in index gsiN: (i * A[n] mod count) // 100, so every GSI partition
# holds 100 items from all over the table, in a different mix per index. The indexes:
#   gsi1  hash g1, range sk, projection ALL
#   gsi2  hash g2, range sk, projection KEYS_ONLY
#   gsi3  hash g3,           projection INCLUDE [v]
# Rows of ddb_item and ddb_index_entry are generated in the server's format (see fill above and
# wireapi/indexes.py: index_hash/index_range are the key values' bytes, body the projection as
# orjson writes it, in the item's attribute order), and check_rows_against_api() proves it: it
# deletes a generated item through the API (which must remove the generated index entries, found
# by the keys the API computes) and puts it back (which must write byte-identical rows).

GSI_PAYLOAD_LEN = 100
GSI_MULTIPLIERS = (7919, 104729, 1299709)  # primes: coprime to any count of the form 2^a 5^b
GSI_NAMES = ("g1", "g2", "g3")  # the key attributes
GSI_INDEXES = ("gsi1", "gsi2", "gsi3")  # the index names (DynamoDB: at least 3 characters)
GSI_PROJECTIONS = ({"ProjectionType": "ALL"}, {"ProjectionType": "KEYS_ONLY"},
                   {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["v"]})
GSI_OPS = ["GetItem", "Query:gsi1", "Query:gsi2", "Query:gsi3", "UpdateItem:gsi"]


class GsiDataSet(DataSet):
    """DataSet with three GSI key attributes; request_body() makes the GSI operations."""

    @property
    def gsi_partitions(self) -> int:
        return max(1, self.count // 100)

    def gsi_key(self, n: int, i: int) -> str:
        return f"h{(i * GSI_MULTIPLIERS[n] % self.count) // 100:06d}"

    def item(self, i: int, version: int = 0) -> dict:
        pk, sk = self.key_of(i)
        off = (i * 7919) % (len(_noise()) - GSI_PAYLOAD_LEN)
        item = {"pk": {"S": pk}, "sk": {"S": sk}, "v": {"N": "0"},
                "payload": {"S": _noise()[off:off + GSI_PAYLOAD_LEN]}}
        for n, name in enumerate(GSI_NAMES):
            item[name] = {"S": self.gsi_key(n, i)}
        return item

    def request_body(self, op: str, rng, seq: int, table: str) -> dict:
        if op.startswith("Query:"):
            index = op.split(":", 1)[1]
            name = GSI_NAMES[GSI_INDEXES.index(index)]
            return {"TableName": table, "IndexName": index, "KeyConditionExpression": f"{name} = :h",
                    "ExpressionAttributeValues": {":h": {"S": f"h{rng.randrange(self.gsi_partitions):06d}"}},
                    "Limit": 10}
        if op == "UpdateItem:gsi":  # moves the item in all three indexes (3 entry deletes, 3 inserts)
            g = self.gsi_partitions
            return {"TableName": table, "Key": self.key(rng.randrange(self.count)),
                    "UpdateExpression": "SET g1 = :a, g2 = :b, g3 = :c",
                    "ExpressionAttributeValues": {f":{x}": {"S": f"h{rng.randrange(g):06d}"} for x in "abc"}}
        return None  # the usual operations: workload.request_body


def _noise() -> str:
    from workload import _NOISE
    return _NOISE


def create_gsi_table(client, name: str) -> None:
    client.create_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"} for a in ("pk", "sk", *GSI_NAMES)],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[
            {"IndexName": x, "KeySchema": [{"AttributeName": g, "KeyType": "HASH"}]
             + ([{"AttributeName": "sk", "KeyType": "RANGE"}] if g != "g3" else []),
             "Projection": p} for x, g, p in zip(GSI_INDEXES, GSI_NAMES, GSI_PROJECTIONS)],
        BillingMode="PAY_PER_REQUEST")
    for _ in range(400):
        desc = client.describe_table(TableName=name)["Table"]
        if desc["TableStatus"] == "ACTIVE" and all(i["IndexStatus"] == "ACTIVE"
                                                    for i in desc.get("GlobalSecondaryIndexes", [])):
            return
        time.sleep(0.05)
    raise RuntimeError(f"table {name} did not become ACTIVE")


def _projected(n: int, item: dict) -> dict:
    """wireapi.indexes.project for index n (the key attributes, plus INCLUDE's)."""
    proj = GSI_PROJECTIONS[n]
    if proj["ProjectionType"] == "ALL":
        return item
    kept = {"pk", "sk", GSI_NAMES[n], *(["sk"] if n != 2 else []), *proj.get("NonKeyAttributes", [])}
    return {k: v for k, v in item.items() if k in kept}


_PLACEHOLDERS = {"@PK@": 1, "@SK@": 2, "@PAYLOAD@": 3, "@G1@": 4, "@G2@": 5, "@G3@": 6}


def _body_format(item: dict) -> str:
    """orjson of a placeholder item, as a format() string taking pk, sk, payload, g1, g2, g3."""
    text = orjson.dumps(item).decode().replace("%", "%%")
    for mark, pos in _PLACEHOLDERS.items():
        text = text.replace(mark, f"%{pos}$s")
    return text


def _with_fmt(query: str) -> str:
    """SQL written with literal % signs, @FMT@ where the format string parameter goes and @NOISE@
    the payload noise, as bytea: substr of a UTF-8 text walks it from the start (40 µs a row
    here), of a bytea it is a slice (and a value read from a table would be a compressed TOAST
    value, decompressed again for every row)."""
    return query.replace("%", "%%").replace("@FMT@", "%(fmt)s").replace("@NOISE@", "%(noise)s::bytea")


def fill_gsi(database_url: str, table: str, ds: GsiDataSet) -> dict:
    """Insert the table's items and their entries in its three GSIs with SQL, in key order."""
    marks = {"pk": {"S": "@PK@"}, "sk": {"S": "@SK@"}, "v": {"N": "0"}, "payload": {"S": "@PAYLOAD@"},
             "g1": {"S": "@G1@"}, "g2": {"S": "@G2@"}, "g3": {"S": "@G3@"}}
    sample = ds.item(0)
    n_items, parts = ds.count, ds.partitions
    span = len(_noise()) - GSI_PAYLOAD_LEN
    # the text columns of item i (g.i), shared by every statement
    cols = (f"'p' || lpad((g.i % {parts})::text, 6, '0') AS pk, 's' || lpad((g.i / {parts})::text, 6, '0') AS sk, "
            f"convert_from(substr(@NOISE@, ((g.i * 7919) % {span})::int + 1, {GSI_PAYLOAD_LEN}), 'UTF8') AS payload, "
            + ", ".join(f"'h' || lpad(((g.i * {m}) % {n_items} / 100)::text, 6, '0') AS g{k + 1}"
                        for k, m in enumerate(GSI_MULTIPLIERS)))
    started = time.perf_counter()
    timings = {}
    with psycopg.connect(database_url, autocommit=True) as conn:
        table_id = conn.execute("SELECT id FROM ddb_table WHERE name = %s", (table,)).fetchone()[0]
        index_ids = dict(conn.execute("SELECT name, id FROM ddb_index WHERE table_id = %s", (table_id,)).fetchall())
        conn.execute("SET synchronous_commit = off")
        # a bulk load's habit: no per-row foreign-key trigger (each row's table_id / index_id is
        # the one just read, so the check could not fail; it would queue 20M deferred checks)
        conn.execute("SET session_replication_role = replica")
        conn.execute("SET work_mem = '256MB'")
        conn.execute("SET maintenance_work_mem = '512MB'")
        conn.execute("SET jit = off")
        # segment_hash = crc32(pk) & 0xFFFF per partition key, computed in Python (as fill() does)
        conn.execute("CREATE TEMP TABLE IF NOT EXISTS bench_seg (p int PRIMARY KEY, seg int)")
        conn.execute("TRUNCATE bench_seg")
        with conn.cursor().copy("COPY bench_seg (p, seg) FROM STDIN") as copy:
            for p in range(parts):
                copy.write_row((p, zlib.crc32(f"p{p:06d}".encode()) & SEGMENT_MASK))
        conn.execute("ANALYZE bench_seg")
        t0 = time.perf_counter()
        # items in primary-key order (partition p, then k): the B-tree only ever appends
        conn.execute(_with_fmt(
            f"""
            INSERT INTO ddb_item (table_id, hash_key, range_key, body, size, segment_hash)
            SELECT {table_id}, convert_to(x.pk, 'UTF8'), convert_to(x.sk, 'UTF8'),
                   convert_to(format(@FMT@, x.pk, x.sk, x.payload, x.g1, x.g2, x.g3), 'UTF8'), {item_size(sample)}, s.seg
            FROM (SELECT {cols}, g.i % {parts} AS p
                  FROM generate_series(0, {parts} - 1) AS pp(p)
                  CROSS JOIN LATERAL generate_series(pp.p::bigint, {n_items} - 1, {parts}) AS g(i)) x
            JOIN bench_seg s ON s.p = x.p
            """), {"fmt": _body_format(marks), "noise": _noise().encode()})
        timings["items_s"] = round(time.perf_counter() - t0, 1)
        for n, name in enumerate(GSI_INDEXES):
            t0 = time.perf_counter()
            has_range = n != 2
            order = f"h, g.i / {parts}, g.i % {parts}" if has_range else f"h, g.i % {parts}, g.i / {parts}"
            # entries in the index's key order (index_hash, index_range, hash_key, range_key): sort
            # the item numbers, then build each row
            conn.execute(_with_fmt(
                f"""
                INSERT INTO ddb_index_entry (index_id, index_hash, index_range, hash_key, range_key, body, size)
                SELECT {index_ids[name]}, convert_to(x.g{n + 1}, 'UTF8'), {"convert_to(x.sk, 'UTF8')" if has_range else "''::bytea"},
                       convert_to(x.pk, 'UTF8'), convert_to(x.sk, 'UTF8'),
                       convert_to(format(@FMT@, x.pk, x.sk, x.payload, x.g1, x.g2, x.g3), 'UTF8'),
                       {item_size(_projected(n, sample))}
                FROM (SELECT g.i, (g.i * {GSI_MULTIPLIERS[n]}) % {n_items} / 100 AS h
                      FROM generate_series(0::bigint, {n_items} - 1) AS g(i) ORDER BY {order}) g
                CROSS JOIN LATERAL (SELECT {cols}) x
                """), {"fmt": _body_format(_projected(n, marks)), "noise": _noise().encode()})
            timings[f"{name}_s"] = round(time.perf_counter() - t0, 1)
        conn.execute("ANALYZE ddb_item")
        conn.execute("ANALYZE ddb_index_entry")
        rows = conn.execute("SELECT count(*) FROM ddb_item WHERE table_id = %s", (table_id,)).fetchone()[0]
        entries = conn.execute("SELECT count(*) FROM ddb_index_entry WHERE index_id = ANY(%s)",
                               (list(index_ids.values()),)).fetchone()[0]
        sizes = dict(conn.execute(
            "SELECT c, pg_size_pretty(pg_total_relation_size(c)) FROM unnest(ARRAY['ddb_item', 'ddb_index_entry']) c"
        ).fetchall())
    return {"table": table, "items": rows, "index_entries": entries, "seconds": round(time.perf_counter() - started, 1),
            **timings, "item_size": item_size(sample), "ddb_item_total_size": sizes["ddb_item"],
            "ddb_index_entry_total_size": sizes["ddb_index_entry"]}


def _rows_of(conn, table_id: int, pk: bytes, sk: bytes) -> tuple:
    item = conn.execute("SELECT body, size, segment_hash FROM ddb_item WHERE table_id = %s AND hash_key = %s "
                        "AND range_key = %s", (table_id, pk, sk)).fetchone()
    entries = conn.execute(
        "SELECT i.name, e.index_hash, e.index_range, e.body, e.size FROM ddb_index_entry e "
        "JOIN ddb_index i ON i.id = e.index_id WHERE i.table_id = %s AND e.hash_key = %s AND e.range_key = %s "
        "ORDER BY i.name", (table_id, pk, sk)).fetchall()
    return (tuple(bytes(x) if isinstance(x, memoryview) else x for x in item) if item else None,
            [tuple(bytes(x) if isinstance(x, memoryview) else x for x in e) for e in entries])


def check_rows_against_api(client, database_url: str, table: str, ds: GsiDataSet, i: int) -> dict:
    """Delete generated item i through the API and put it back: the API must remove exactly the
    generated index entries and then write byte-identical rows."""
    pk, sk = ds.key_of(i)
    key = (pk.encode(), sk.encode())
    with psycopg.connect(database_url, autocommit=True) as conn:
        table_id = conn.execute("SELECT id FROM ddb_table WHERE name = %s", (table,)).fetchone()[0]
        generated = _rows_of(conn, table_id, *key)
        if generated[0] is None or len(generated[1]) != 3:
            raise RuntimeError(f"{table}: generated rows of item {i} missing: {generated!r}")
        client.delete_item(TableName=table, Key=ds.key(i))
        after_delete = _rows_of(conn, table_id, *key)
        if after_delete != (None, []):
            raise RuntimeError(f"{table}: DeleteItem left generated rows behind (keys differ): {after_delete!r}")
        client.put_item(TableName=table, Item=ds.item(i))
        written = _rows_of(conn, table_id, *key)
    if written != generated:
        raise RuntimeError(f"{table}: SQL-generated rows differ from the API's:\n{generated!r}\n{written!r}")
    return {"item": i, "entries": len(written[1]), "identical": True}


def explain_index_statements(database_url: str, table: str) -> dict:
    """The generic plans (what a prepared statement runs after its fifth execution) of the
    statements a GSI-moving UpdateItem and a GSI Query run, on this table's data."""
    import re
    from storage.backends import sql as server_sql
    stmts = {
        "GET_ITEM_CHECKED (read old item)": (server_sql.GET_ITEM_CHECKED, "bigint, bigint, bytea, bytea"),
        "UPDATE_ITEM": (server_sql.UPDATE_ITEM, "bytea, int, bigint, bytea, bytea"),
        "DELETE_INDEX_ENTRY": (server_sql.DELETE_INDEX_ENTRY, "bigint, bytea, bytea, bytea, bytea"),
        "UPSERT_INDEX_ENTRY": (server_sql.UPSERT_INDEX_ENTRY, "bigint, bytea, bytea, bytea, bytea, bytea, int"),
        **({"write_many (a transaction's deferred item and entry writes)": (
            server_sql.write_many(tuple(server_sql.WRITE_PARTS)),
            "bigint[], bytea[], bytea[], bytea[], int[], bigint[], bytea[], bytea[], "
            "bigint[], bytea[], bytea[], bytea[], bytea[], "
            "bigint[], bytea[], bytea[], bytea[], bytea[], bytea[], int[]")}
           if hasattr(server_sql, "write_many") else {}),
        "query_index (Query on a GSI)": (server_sql.query_index((False, False, False, False), True, False),
                                         "bigint, bytea, bigint"),
    }
    out: dict = {}
    with psycopg.connect(database_url, autocommit=True) as conn:
        table_id = conn.execute("SELECT id FROM ddb_table WHERE name = %s", (table,)).fetchone()[0]
        index_id = conn.execute("SELECT min(id) FROM ddb_index WHERE table_id = %s", (table_id,)).fetchone()[0]
        conn.execute("SET plan_cache_mode = force_generic_plan")
        for n, (label, (text, types)) in enumerate(stmts.items()):
            count = iter(range(1, 100))
            numbered = re.sub(r"%s", lambda _: f"${next(count)}", text)
            conn.execute(f"PREPARE bench_x{n} ({types}) AS {numbered}")
            nargs = len(types.split(","))
            args = ", ".join(["NULL"] * nargs)
            plan = [r[0] for r in conn.execute(f"EXPLAIN EXECUTE bench_x{n} ({args})").fetchall()]
            conn.execute(f"DEALLOCATE bench_x{n}")
            out[label] = {"plan": plan, "seq_scan": any("Seq Scan" in ln for ln in plan)}
        out["_ids"] = {"table_id": table_id, "index_id": index_id}
    return out


class CpuSampler:
    """CPU time of the server's workers and of the PostgreSQL backends serving its database
    (from /proc), so that a run's cost per request can be read on a machine other work loads:
    req/s and latency stretch with the load, CPU per request hardly does."""

    def __init__(self, srv, database_url: str, whole_tree: bool = False) -> None:
        # whole_tree: every process of the server (parent, workers, background), for trees whose
        # workers are forked rather than spawned (worker_pids() cannot tell them apart).
        self.srv, self.database_url, self.whole_tree = srv, database_url, whole_tree
        self.tick = os.sysconf("SC_CLK_TCK")

    def _pids(self) -> tuple[list[int], list[int]]:
        with psycopg.connect(self.database_url, autocommit=True) as conn:
            backends = [r[0] for r in conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")]
        if self.whole_tree:
            return servers.descendants(self.srv.process.pid), backends
        return self.srv.worker_pids(), backends

    def _cpu(self, pid: int) -> float:
        try:
            fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / self.tick  # utime + stime

    def snapshot(self) -> dict[str, dict[int, float]]:
        workers, backends = self._pids()
        return {"worker": {p: self._cpu(p) for p in workers}, "pg": {p: self._cpu(p) for p in backends}}

    def per_request(self, before: dict, requests: int) -> dict:
        after = self.snapshot()
        out = {}
        for kind in ("worker", "pg"):
            spent = sum(cpu - before[kind].get(pid, 0.0) for pid, cpu in after[kind].items())
            out[f"{kind}_cpu_us"] = round(spent / max(requests, 1) * 1e6, 1)
        return out


def _buffers(plan: list[str]) -> int:
    """Shared buffers the statement touched (hit + read), from its top node's Buffers line."""
    import re
    for line in plan:
        if "Buffers:" in line and "shared" in line:
            return sum(int(n) for n in re.findall(r"(?:hit|read)=(\d+)", line.split("shared", 1)[1].split(",")[0]))
    return 0


def buffers_per_statement(database_url: str, table: str, ds: GsiDataSet, samples: int = 20) -> dict:
    """Pages each statement of a GSI-moving UpdateItem (and a GSI Query) touches on this table:
    EXPLAIN (ANALYZE, BUFFERS) of the server's own statements on `samples` random items, in a
    transaction rolled back. A B-tree probe costs its depth in pages, so the counts should
    grow by about one page per level from 10,000 to 5,000,000 rows, not with the row count;
    unlike req/s, they do not depend on what else the machine runs."""
    import random
    from storage.backends import sql as server_sql
    rng = random.Random(5)
    totals: dict[str, list[int]] = {}
    parts = ("item_updates", "entry_deletes", "entry_puts")
    with psycopg.connect(database_url) as conn:
        table_id = conn.execute("SELECT id FROM ddb_table WHERE name = %s", (table,)).fetchone()[0]
        ids = dict(conn.execute("SELECT name, id FROM ddb_index WHERE table_id = %s", (table_id,)).fetchall())
        for _ in range(samples):
            i = rng.randrange(ds.count)
            pk, sk = (x.encode() for x in ds.key_of(i))
            item = ds.item(i)
            new = dict(item)
            for name in GSI_NAMES:
                new[name] = {"S": f"h{rng.randrange(ds.gsi_partitions):06d}"}
            deletes, puts = [], []
            for n, index in enumerate(GSI_INDEXES):
                rng_old = sk if n != 2 else b""
                deletes.append((ids[index], item[GSI_NAMES[n]]["S"].encode(), rng_old, pk, sk))
                entry = _projected(n, new)
                puts.append((ids[index], new[GSI_NAMES[n]]["S"].encode(), rng_old, pk, sk, orjson.dumps(entry),
                             item_size(entry)))
            statements = {
                "read the item (GET_ITEM_CHECKED)": (server_sql.GET_ITEM_CHECKED, (table_id, table_id, pk, sk)),
                "Query on gsi1 (Limit 10)": (server_sql.query_index((False, False, False, False), True, False),
                                             (ids["gsi1"], item["g1"]["S"].encode(), 10)),
            }
            if hasattr(server_sql, "write_many"):
                params: list = [[table_id], [pk], [sk], [orjson.dumps(new)], [item_size(new)]]
                params += list(map(list, zip(*deletes))) + list(map(list, zip(*puts)))
                statements["the write: item update + 3 entry deletes + 3 upserts (write_many)"] = (
                    server_sql.write_many(parts), params)
            for label, (text, args) in statements.items():
                plan = [r[0] for r in conn.execute("EXPLAIN (ANALYZE, BUFFERS) " + text, args).fetchall()]
                totals.setdefault(label, []).append(_buffers(plan))
        conn.rollback()
    return {label: round(sum(v) / len(v), 1) for label, v in totals.items()}
