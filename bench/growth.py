"""GetItem throughput on a big table vs a small one (PostgreSQL).

Both tables are created through the API (CreateTable) and then filled with
INSERT … SELECT generate_series straight into ddb_item, in the server's own
row format (storage/backends/sql.py, storage/keycodec.py):
  hash_key / range_key  S keys as their UTF-8 bytes
  body                  the item's DynamoDB JSON as orjson writes it (compact, insertion order)
  size                  wireapi.values.item_size of the item (constant here: fixed-width values)
  segment_hash          zlib.crc32(hash_key) & 0xFFFF, computed in Python for each partition key
The items are those of workload.DataSet, so the same request pools apply.
"""
from __future__ import annotations

import time
import zlib

import orjson
import psycopg

from workload import PAYLOAD_LEN, DataSet, item_size

SEGMENT_MASK = 0xFFFF


def _server_item_size(item: dict) -> int:
    """The server's own rule when it imports cleanly; else the same rule re-stated here."""
    try:
        from wireapi.values import item_size as server_item_size
        return server_item_size(item)
    except Exception:  # noqa: BLE001 - the server tree may be mid-change
        return item_size(item)


def fill(database_url: str, table: str, ds: DataSet) -> dict:
    """Insert ds.count items of `table` (already created through the API) with SQL."""
    sample = ds.item(0)
    size = _server_item_size(sample)
    # orjson of the sample, with the variable parts as format() placeholders
    body_fmt = orjson.dumps({"pk": {"S": "@PK@"}, "sk": {"S": "@SK@"}, "v": {"N": "0"},
                             "payload": {"S": "@PAYLOAD@"}}).decode()
    body_fmt = body_fmt.replace("%", "%%").replace("@PK@", "%1$s").replace("@SK@", "%2$s").replace(
        "@PAYLOAD@", "%3$s")
    started = time.perf_counter()
    with psycopg.connect(database_url, autocommit=True) as conn:
        table_id = conn.execute("SELECT id FROM ddb_table WHERE name = %s", (table,)).fetchone()[0]
        conn.execute("SET synchronous_commit = off")
        conn.execute("CREATE TEMP TABLE bench_pk (p int PRIMARY KEY, pk text, seg int)")
        with conn.cursor().copy("COPY bench_pk (p, pk, seg) FROM STDIN") as copy:
            for p in range(ds.partitions):
                pk = f"p{p:06d}"
                copy.write_row((p, pk, zlib.crc32(pk.encode()) & SEGMENT_MASK))
        conn.execute("ANALYZE bench_pk")
        # payload: the same noise window the Python DataSet uses, taken from a noise table
        from workload import _NOISE
        conn.execute("CREATE TEMP TABLE bench_noise (t text)")
        conn.execute("INSERT INTO bench_noise VALUES (%s)", (_NOISE,))
        span = len(_NOISE) - PAYLOAD_LEN
        conn.execute(
            f"""
            INSERT INTO ddb_item (table_id, hash_key, range_key, body, size, segment_hash)
            SELECT %(tid)s, convert_to(k.pk, 'UTF8'), convert_to(s.sk, 'UTF8'),
                   convert_to(format(%(fmt)s, k.pk, s.sk,
                                     substr(n.t, ((g.i::bigint * 7919) %% {span})::int + 1, {PAYLOAD_LEN})),
                              'UTF8'),
                   %(size)s, k.seg
            FROM generate_series(0, %(count)s - 1) AS g(i)
            JOIN bench_pk k ON k.p = g.i %% %(parts)s
            CROSS JOIN LATERAL (SELECT 's' || lpad((g.i / %(parts)s)::text, 6, '0') AS sk) s
            CROSS JOIN bench_noise n
            """,
            {"tid": table_id, "fmt": body_fmt, "size": size, "count": ds.count, "parts": ds.partitions})
        conn.execute("ANALYZE ddb_item")
        rows = conn.execute("SELECT count(*) FROM ddb_item WHERE table_id = %s", (table_id,)).fetchone()[0]
        check = conn.execute("SELECT body FROM ddb_item WHERE table_id = %s AND hash_key = %s AND range_key = %s",
                             (table_id, ds.key_of(ds.count - 1)[0].encode(), ds.key_of(ds.count - 1)[1].encode())
                             ).fetchone()
        rel = conn.execute("SELECT pg_size_pretty(pg_total_relation_size('ddb_item'))").fetchone()[0]
    if check is None or orjson.loads(bytes(check[0])) != ds.item(ds.count - 1):
        raise RuntimeError(f"SQL-generated row differs from the item the API would store: {check!r}")
    return {"table": table, "items": rows, "seconds": round(time.perf_counter() - started, 1),
            "item_size": size, "ddb_item_total_size": rel}
