"""Batching of concurrent, independent statements of one worker.

The first request of an event-loop turn schedules a flush; every request that
arrives before the flush runs joins its batch. A lone request pays one extra
loop turn; N concurrent ones pay one round trip (and one commit) instead of N.
"""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class Coalescer(Generic[T, R]):
    def __init__(self, flush: Callable[[list[T]], Awaitable[list[R]]]) -> None:
        self._flush_batch = flush
        self._pending: list[tuple[T, asyncio.Future[R]]] = []

    async def submit(self, item: T) -> R:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[R] = loop.create_future()
        self._pending.append((item, future))
        if len(self._pending) == 1:
            loop.call_soon(self._start, loop)
        return await future

    def _start(self, loop: asyncio.AbstractEventLoop) -> None:
        loop.create_task(self._flush())

    async def _flush(self) -> None:
        batch, self._pending = self._pending, []
        try:
            results = await self._flush_batch([item for item, _ in batch])
        except BaseException as exc:  # every waiter hears of the failure
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
            return
        for (_, future), result in zip(batch, results):
            if not future.done():
                future.set_result(result)
