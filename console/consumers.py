"""The live stream tail: one websocket consumer that follows a table's stream.

It is authenticated by the administrator's session (channels' AuthMiddleware
reads the same session cookie as the pages), refuses other origins and the
plaintext listener, and reads the stream with DescribeTable, DescribeStream,
GetShardIterator and GetRecords through console.calls, so the reads are
authorised (dynamodb:GetRecords on the stream), checked and logged exactly as
a client's GetRecords would be. Records are sent as JSON as they arrive.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any
from urllib.parse import parse_qs

import orjson
from channels.generic.websocket import AsyncWebsocketConsumer

from .calls import Caller, DynamoDBError, call, caller_for, message_of

log = logging.getLogger("extenddb.console")

POLL_SECONDS = 1.0  # between GetRecords calls while the shard has nothing new
RECORDS_LIMIT = 100
REFUSED = 4403  # websocket close code: not allowed


def _header(scope: dict[str, Any], name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return ""


class StreamTail(AsyncWebsocketConsumer):
    caller: Caller
    task: asyncio.Task | None = None

    async def connect(self) -> None:
        user = self.scope.get("user")
        same_origin = _header(self.scope, b"origin") == "https://" + _header(self.scope, b"host")
        allowed = (self.scope.get("scheme") == "wss" and same_origin and user is not None
                   and user.is_authenticated and user.is_active and user.is_staff
                   and await user.ahas_perm("storage.view_table"))
        if not allowed:
            await self.close(code=REFUSED)
            return
        # The scope the calls see: the client's address for the access log, HTTPS for aws:SecureTransport.
        self.caller = await caller_for(user, {"client": self.scope.get("client"), "scheme": "https"})
        await self.accept()
        name = self.scope["url_route"]["kwargs"]["name"]
        query = parse_qs(self.scope.get("query_string", b"").decode())
        start = "TRIM_HORIZON" if query.get("from") == ["trim_horizon"] else "LATEST"
        self.task = asyncio.create_task(self._follow(name, start))

    async def disconnect(self, code: int) -> None:
        if self.task is not None:
            self.task.cancel()

    async def _send(self, message: dict[str, Any]) -> None:
        await self.send(text_data=orjson.dumps(message).decode())

    async def _follow(self, name: str, start: str) -> None:
        try:
            await self._read(name, start)
        except asyncio.CancelledError:
            raise
        except DynamoDBError as exc:
            await self._send({"type": "error", "text": message_of(exc)})
            await self.close()
        except Exception:  # a bug: say so on the page, keep the server's log
            log.exception("stream tail of %s failed", name)
            await self._send({"type": "error", "text": "The stream tail stopped on an internal error."})
            await self.close()

    async def _read(self, name: str, start: str) -> None:
        table = (await call(self.caller, "DescribeTable", {"TableName": name}))["Table"]
        arn = table.get("LatestStreamArn")
        if not table.get("StreamSpecification", {}).get("StreamEnabled") or not arn:
            await self._send({"type": "error", "text": f"Table {name} has no stream enabled."})
            await self.close()
            return
        stream = (await call(self.caller, "DescribeStream", {"StreamArn": arn}, "dynamodbstreams"))["StreamDescription"]
        shard = stream["Shards"][-1]["ShardId"]
        iterator = (await call(self.caller, "GetShardIterator", {
            "StreamArn": arn, "ShardId": shard, "ShardIteratorType": start}, "dynamodbstreams"))["ShardIterator"]
        await self._send({"type": "status", "text": f"Watching {name} ({stream.get('StreamViewType', '')}), "
                                                    f"from {'the oldest record' if start == 'TRIM_HORIZON' else 'now'}."})
        while iterator:
            result = await call(self.caller, "GetRecords", {"ShardIterator": iterator, "Limit": RECORDS_LIMIT},
                                "dynamodbstreams")
            for record in result.get("Records", []):
                change = record.get("dynamodb", {})
                await self._send({"type": "record", "event": record.get("eventName"),
                                  "seq": change.get("SequenceNumber"), "time": change.get("ApproximateCreationDateTime"),
                                  "keys": change.get("Keys"), "new": change.get("NewImage"), "old": change.get("OldImage")})
            iterator = result.get("NextShardIterator")
            if not result.get("Records"):
                await asyncio.sleep(POLL_SECONDS)
        await self._send({"type": "status", "text": "The stream was disabled; no more records will come."})
        await self.close()
