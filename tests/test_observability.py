"""What an operator watches: /health, /ready, /metrics (and who may read it),
the Grafana dashboard's queries against what a real server exports, JSON logs
line by line under traffic, and background jobs' start and end lines."""
from __future__ import annotations

import json
import re
import ssl
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from extenddb_site.version import __version__

from .conftest import poll
from .reliability import harness
from .server import ROOT

DASHBOARD = ROOT / "docs" / "grafana" / "extenddb.json"


def get(server, path: str, headers: dict | None = None) -> tuple[int, bytes, Any]:
    context = ssl.create_default_context(cafile=server.ca_bundle)
    request = urllib.request.Request(server.endpoint + path, headers=headers or {})
    try:
        with urllib.request.urlopen(request, context=context, timeout=30) as response:
            return response.status, response.read(), response.headers
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), exc.headers


def scrape(server, headers: dict | None = None) -> dict[str, float]:
    """Every sample of /metrics, keyed `name{label="value",…}` with labels sorted."""
    status, body, _ = get(server, "/metrics", headers)
    assert status == 200, body
    samples = {}
    for family in text_string_to_metric_families(body.decode()):
        for sample in family.samples:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
            samples[f"{sample.name}{{{labels}}}"] = sample.value
    return samples


def families(server) -> set[str]:
    """The metric names /metrics declares (# TYPE lines), with their sample names."""
    _, body, _ = get(server, "/metrics")
    names = set()
    for family in text_string_to_metric_families(body.decode()):
        names.add(family.name)
        names.update(s.name for s in family.samples)
        suffixes = {"counter": ["_total"], "histogram": ["_bucket", "_sum", "_count"]}.get(family.type, [])
        names.update(family.name + s for s in suffixes)
    return names


def create_table(ddb, name: str) -> None:
    ddb.create_table(TableName=name, AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}], BillingMode="PAY_PER_REQUEST")


# --- liveness and readiness ---------------------------------------------------------

def test_health_is_json_with_the_version(server):
    status, body, headers = get(server, "/health")
    assert status == 200
    assert json.loads(body) == {"status": "ok", "version": __version__}
    assert "no-cache" in headers.get("Cache-Control", "")


def test_get_root_still_answers_the_plain_health_text(server):
    status, body, _ = get(server, "/")
    assert status == 200 and body.startswith(b"healthy: dynamodb.local")


def test_ready_when_the_database_answers_and_migrations_are_applied(server):
    status, body, _ = get(server, "/ready")
    assert status == 200, body
    assert json.loads(body)["status"] == "ready"


def test_not_ready_while_a_migration_is_pending():
    *_, before, newest = sorted(p.stem for p in (ROOT / "storage" / "migrations").glob("0*.py"))
    with harness.deployment() as dep:
        dep.manage("migrate", "storage", before, "--noinput")  # the newest storage migration undone
        srv = dep.start(workers=1)
        status, body, _ = get(srv, "/ready")
        assert status == 503
        reason = json.loads(body)["reason"]
        assert "not applied" in reason and f"storage.{newest}" in reason
        assert get(srv, "/health")[0] == 200  # alive all the same


@pytest.mark.skipif(harness.testenv.BACKEND != "postgres", reason="a database server that stops: PostgreSQL")
@pytest.mark.skipif(harness.private_cluster_available() is not None,
                    reason=str(harness.private_cluster_available()))
def test_not_ready_while_the_database_is_down():
    # A private cluster, stopped under the running server: alive, not ready, and why; ready again after.
    with harness.private_cluster() as cluster, harness.deployment(cluster.url) as dep:
        srv = dep.start(workers=1)
        assert get(srv, "/ready")[0] == 200
        cluster.ctl("-m", "immediate", "stop")
        status, body, _ = get(srv, "/ready")
        assert status == 503
        assert json.loads(body)["reason"].startswith("database ")
        assert json.loads(get(srv, "/health")[1])["status"] == "ok"
        cluster.ctl("-o", f"-p {cluster.port} -k {cluster.root} -c listen_addresses=127.0.0.1", "start")
        assert poll(lambda: get(srv, "/ready")[0] == 200, timeout=60)


# --- /metrics ------------------------------------------------------------------------

def test_metrics_move_with_traffic():
    # A server of its own: the shared one has spent its table-label budget (MAX_TABLE_LABELS)
    # on the tables of the tests before this one.
    with harness.deployment() as dep:
        key = dep.create_key("metrics")
        server = dep.start(workers=2)
        _metrics_move_with_traffic(server, harness.client(server, key))


def _metrics_move_with_traffic(server, ddb) -> None:
    table = f"m-{uuid.uuid4().hex[:10]}"
    create_table(ddb, table)
    invented = f"invented-{uuid.uuid4().hex[:10]}"
    key = f'outcome="OK",table="{table}"'

    def count(samples: dict, name: str, labels: str) -> float:
        return samples.get(f"{name}{{{labels}}}", 0.0)

    before = scrape(server)
    for i in range(7):
        ddb.put_item(TableName=table, Item={"pk": {"S": str(i)}, "v": {"S": "x" * 100}})
    for i in range(5):
        ddb.get_item(TableName=table, Key={"pk": {"S": str(i)}})
    for _ in range(3):
        with pytest.raises(ddb.exceptions.ResourceNotFoundException):
            ddb.get_item(TableName=invented, Key={"pk": {"S": "x"}})

    other = 'operation="GetItem",outcome="ResourceNotFoundException",table="_other"'

    def moved():
        # Each worker flushes its counts every second: wait until every worker's are in.
        now = scrape(server)
        done = (count(now, "extenddb_requests_total", f'operation="PutItem",{key}')
                - count(before, "extenddb_requests_total", f'operation="PutItem",{key}') == 7
                and count(now, "extenddb_requests_total", f'operation="GetItem",{key}')
                - count(before, "extenddb_requests_total", f'operation="GetItem",{key}') == 5
                and count(now, "extenddb_requests_total", other) - count(before, "extenddb_requests_total", other) >= 3)
        return now if done else None

    after = poll(moved, timeout=30)
    assert after, "PutItem/GetItem/ResourceNotFound counters did not move by 7, 5 and 3"
    assert not any(invented in name for name in after), "an invented table name became a label"
    assert (count(after, "extenddb_request_duration_seconds_count", 'operation="PutItem"')
            - count(before, "extenddb_request_duration_seconds_count", 'operation="PutItem"')) >= 7
    assert (count(after, "extenddb_request_duration_seconds_bucket", 'le="+Inf",operation="PutItem"')
            >= count(after, "extenddb_request_duration_seconds_count", 'operation="PutItem"'))
    assert (count(after, "extenddb_request_bytes_total", 'operation="PutItem"')
            - count(before, "extenddb_request_bytes_total", 'operation="PutItem"')) >= 7 * 100
    assert "extenddb_inflight_requests{}" in after
    assert after[f'extenddb_build_info{{version="{__version__}"}}'] == 1
    ddb.delete_table(TableName=table)


def test_metrics_of_the_connection_pool_on_postgres(server, ddb):
    if harness.testenv.BACKEND != "postgres":
        pytest.skip("SQLite has no connection pool")
    ddb.list_tables()
    samples = poll(lambda: (s := scrape(server)) and any(n.startswith("extenddb_db_pool_connections{")
                                                         for n in s) and s, timeout=30)
    assert samples['extenddb_db_pool_max_connections{pool="primary"}'] >= 1


def test_metrics_need_an_allowed_address_or_the_token(key):
    token = uuid.uuid4().hex
    with harness.deployment() as dep:
        srv = dep.start(workers=1, env={"EXTENDDB_METRICS_ALLOWED_NETWORKS": "192.0.2.0/24",
                                        "EXTENDDB_METRICS_TOKEN": token})
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": token}):
            status, body, _ = get(srv, "/metrics", headers)
            assert status == 403, headers
            assert b"extenddb_requests" not in body
        status, body, headers = get(srv, "/metrics", {"Authorization": f"Bearer {token}"})
        assert status == 200
        assert headers["Content-Type"].startswith("text/plain; version=")
        assert b"# TYPE extenddb_requests_total counter" in body


def test_metrics_directory_is_per_server_start_and_removed_at_stop():
    with harness.deployment() as dep:
        srv = dep.start(workers=2)
        root = dep.data_dir / "metrics"
        assert [p.name for p in root.iterdir()] == [str(srv.process.pid)]
        stale = root / "999999999"  # a server that is gone: removed at the next start
        stale.mkdir()
        srv.stop()
        assert not (root / str(srv.process.pid)).exists()
        srv = dep.start(workers=1)
        assert [p.name for p in root.iterdir()] == [str(srv.process.pid)]


def test_metrics_scrape_while_a_process_file_is_still_empty():
    """prometheus-client creates a process's file empty and sizes it a moment later (a worker
    starting, a job's process): a scrape in between is still a 200 with every other sample."""
    with harness.deployment() as dep:
        srv = dep.start(workers=1)
        folder = dep.data_dir / "metrics" / str(srv.process.pid)
        (folder / "counter_999999999.db").touch()  # created, not yet sized
        status, body, _ = get(srv, "/metrics")
        assert status == 200, body[:300]
        assert b"# TYPE extenddb_" in body


# --- the Grafana dashboard ----------------------------------------------------------------

def _dashboard_queries(dashboard: dict) -> list[str]:
    queries = []

    def walk(panels):
        for panel in panels:
            queries.extend(t["expr"] for t in panel.get("targets", []))
            walk(panel.get("panels", []))

    walk(dashboard["panels"])
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "query":
            queries.append(variable["definition"])
    return queries


def test_grafana_dashboard_queries_name_exported_metrics(server, ddb):
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["uid"] and dashboard["title"] and dashboard["schemaVersion"] >= 30
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids)), "panel ids repeat"
    for panel in dashboard["panels"]:
        assert set(panel["gridPos"]) == {"h", "w", "x", "y"} and panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24
    queries = _dashboard_queries(dashboard)
    assert len(queries) >= 20
    ddb.list_tables()  # some traffic, so the request families have samples as well
    exported = families(server)
    for query in queries:
        assert query.count("(") == query.count(")"), query
        named = set(re.findall(r"\bextenddb_[a-z_]+", query))
        assert named, f"a query naming no ExtendDB metric: {query}"
        missing = named - exported
        assert not missing, f"{query}: not exported by the server: {missing}"


# --- logs --------------------------------------------------------------------------------

def test_json_logs_parse_line_by_line_under_traffic(tmp_path):
    with harness.deployment() as dep:
        key = dep.create_key("json-logs")
        s3_root = tmp_path / "s3"
        (s3_root / "bucket").mkdir(parents=True)
        srv = dep.start(workers=2, env={"EXTENDDB_LOG_FORMAT": "json", "EXTENDDB_TTL_SWEEP_SECONDS": "0.5",
                                        "EXTENDDB_S3_ROOT": str(s3_root)})
        ddb = harness.client(srv, key)
        table = "logged"
        create_table(ddb, table)
        ddb.update_time_to_live(TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"})
        ddb.put_item(TableName=table, Item={"pk": {"S": "gone"}, "exp": {"N": str(int(time.time()) - 3600)}})  # expired an hour ago
        ddb.get_item(TableName=table, Key={"pk": {"S": "gone"}})
        with pytest.raises(ddb.exceptions.ResourceNotFoundException):
            ddb.get_item(TableName="no-such-table", Key={"pk": {"S": "x"}})
        get(srv, "/no-such-page")  # Django's own "Not Found" warning
        backup = ddb.create_backup(TableName=table, BackupName="backup")["BackupDetails"]["BackupArn"]
        ddb.restore_table_from_backup(TargetTableName="restored", BackupArn=backup)
        ddb.update_continuous_backups(TableName=table,
                                      PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
        arn = ddb.export_table_to_point_in_time(TableArn=ddb.describe_table(TableName=table)["Table"]["TableArn"],
                                                S3Bucket="bucket")["ExportDescription"]["ExportArn"]
        requests = 10  # DynamoDB requests so far
        log = Path(srv.log_path)

        def lines() -> list[dict]:
            return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]

        def jobs_done():
            entries = lines()
            ended = {(e.get("job"), e.get("outcome")) for e in entries if e.get("event") == "end"}
            return {("ttl-sweep", "ok"), ("restore", "ok"), ("export", "ok")} <= ended
        assert poll(jobs_done, timeout=60), log.read_text()[-3000:]
        assert ddb.describe_export(ExportArn=arn)["ExportDescription"]["ExportStatus"] == "COMPLETED"
        srv.stop()

        entries = lines()  # every line is one JSON object (json.loads raises otherwise)
        assert all({"time", "level", "logger", "message"} <= set(e) for e in entries)
        endpoint = [e for e in entries if e["message"].startswith("Endpoint:")]
        assert endpoint and endpoint[0]["version"] == __version__
        served = [e for e in entries if e["logger"] == "extenddb.request"]
        assert len(served) >= requests
        put = next(e for e in served if e["operation"] == "PutItem")
        assert put["table"] == table and put["outcome"] == "OK" and put["status"] == 200
        assert put["principal"] == "json-logs" and len(put["request_id"]) == 52
        assert put["latency_ms"] > 0 and put["bytes_in"] > 0 and put["bytes_out"] >= 0
        missing = next(e for e in served if e["table"] == "no-such-table")
        assert missing["outcome"] == "ResourceNotFoundException" and missing["status"] == 400
        assert any(e["logger"] == "django.request" and "Not Found" in e["message"] for e in entries)
        assert not [e for e in entries if e["logger"].startswith("psycopg")]  # no line per connection checkout
        ttl = [e for e in entries if e.get("job") == "ttl-sweep" and e.get("event") == "end"]
        assert any(e.get("deleted") == 1 for e in ttl)
        for kind in ("restore", "export"):
            events = [e["event"] for e in entries if e.get("job") == kind]
            assert events[0] == "start" and events[-1] == "end", (kind, events)


def test_text_logs_leave_requests_out_by_default():
    with harness.deployment() as dep:
        key = dep.create_key("text-logs")
        srv = dep.start(workers=1)
        ddb = harness.client(srv, key)
        ddb.list_tables()
        get(srv, "/no-such-page")
        log = Path(srv.log_path)
        # The port answers a moment before `serve` has seen every worker start and printed the line.
        assert poll(lambda: "Endpoint: https://" in log.read_text(), timeout=30), log.read_text()
        srv.stop()
        text = log.read_text()
        assert re.search(r"^\S+Z WARNING django.request Not Found: /no-such-page", text, re.M), text
        assert "extenddb.request" not in text
