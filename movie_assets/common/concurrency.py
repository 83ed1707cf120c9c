"""Running many coroutines at once, bounded, and failing as one."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


async def gather_or_cancel(coroutines: Iterable[Awaitable[R]]) -> list[R]:
    """Like `asyncio.gather`, but the first exception (e.g. a 401) cancels the calls still in flight."""
    tasks = [asyncio.ensure_future(c) for c in coroutines]
    try:
        return await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


async def bounded_map(func: Callable[[T], Awaitable[R]], items: Iterable[T], concurrency: int) -> list[R]:
    """``[await func(item) for item in items]`` with at most ``concurrency`` calls in flight, results in
    input order; the first exception cancels the calls still in flight."""
    semaphore = asyncio.Semaphore(max(1, concurrency))

    async def bounded(item: T) -> R:
        async with semaphore:
            return await func(item)

    return await gather_or_cancel(bounded(item) for item in items)
