import threading, time
from concurrent.futures import ThreadPoolExecutor
from .conftest import make_client
from .test_streams import make_table, iterator

def test_stress(server, key, ddb):
    streams = make_client(server, key, "dynamodbstreams")
    table, arn = make_table(ddb)
    keys = [f"k{i}" for i in range(4)]
    errors = []
    def writer(n):
        client = make_client(server, key)
        for i in range(60):
            a, b = keys[(n + i) % 4], keys[(n + i + 1) % 4]
            try:
                if n % 2 == 0:
                    client.transact_write_items(TransactItems=[
                        {"Update": {"TableName": table, "Key": {"pk": {"S": k}}, "UpdateExpression": "ADD c :one",
                                    "ExpressionAttributeValues": {":one": {"N": "1"}}}} for k in (a, b)])
                else:
                    client.batch_write_item(RequestItems={table: [{"PutRequest": {"Item": {"pk": {"S": k}, "v": {"N": str(i)}, "w": {"N": str(n)}}}} for k in (b, a)]})
            except Exception as e:
                errors.append(repr(e))
    t0 = time.time()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(writer, range(8)))
    print("elapsed", time.time() - t0, "errors", len(errors), errors[:3])
    assert not errors
