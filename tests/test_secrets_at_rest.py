"""No secret access key is ever stored or logged in clear: scan every column of
every table, and the server's log, after the key has been created and used."""
from __future__ import annotations

import uuid

from .conftest import make_client
from .server import create_key, manage
from .test_authz import off_loop


def _all_cells() -> list[tuple[str, object]]:
    from django.db import connection

    cells = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            quoted = connection.ops.quote_name(table)
            cursor.execute(f"SELECT * FROM {quoted}")  # table names come from the schema, not users
            cells.extend((table, cell) for row in cursor.fetchall() for cell in row)
    return cells


def _cells(django_db_blocker):
    with django_db_blocker.unblock():
        return off_loop(_all_cells)


def _contains(cell, secret: str) -> bool:
    if isinstance(cell, memoryview):
        cell = cell.tobytes()
    if isinstance(cell, bytes):
        return secret.encode() in cell
    return secret in str(cell)


def test_no_secret_in_clear_in_database_or_log(server, ddb, django_db_blocker):
    user = f"s{uuid.uuid4().hex[:8]}"
    created = create_key(user)
    imported_secret = "imPorted/Secret+Key0123456789abcdefABCDEF"
    imported_id = "AKIA" + uuid.uuid4().hex[:16].upper()
    manage("importkey", "--user", user, "--access-key-id", imported_id, input=imported_secret + "\n")
    from .server import Key

    for key in (created, Key(imported_id, imported_secret)):
        client = make_client(server, key)
        client.list_tables()
        name = f"sec-{uuid.uuid4().hex[:8]}"
        client.create_table(TableName=name, AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}], BillingMode="PAY_PER_REQUEST")
        client.put_item(TableName=name, Item={"pk": {"S": "x"}})
        client.delete_table(TableName=name)
    manage("listkeys")

    secrets = (created.secret_access_key, imported_secret)
    leaks = [table for table, cell in _cells(django_db_blocker) for s in secrets if _contains(cell, s)]
    assert leaks == []
    log_text = server.log_path.read_text(errors="replace")
    assert all(s not in log_text for s in secrets)
