"""Per-API-key rate limits with the `limits` library (sliding window counter: O(1) per hit):
in memory by default, in Redis when `MSGPROFILES_REDIS_URL` is set so that every process
shares one budget."""

import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits import strategies as sync_strategies
from limits.aio import strategies as async_strategies
from limits.storage import MemoryStorage, storage_from_string


@dataclass(frozen=True, slots=True)
class RateLimitState:
    allowed: bool
    limit: int
    remaining: int
    reset_after: int  # seconds until the window frees a request

    def headers(self) -> dict[str, str]:
        headers = {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset_after),
        }
        if not self.allowed:
            headers["Retry-After"] = str(max(1, self.reset_after))
        return headers


class RateLimiter:
    def __init__(self, rate: str, redis_url: str | None = None) -> None:
        self.item: RateLimitItem = parse(rate)
        # In memory the storage is synchronous: calling it directly skips the async wrappers,
        # which cost more than the counting itself.
        self._memory = (
            None if redis_url else sync_strategies.SlidingWindowCounterRateLimiter(MemoryStorage())
        )
        self._redis = (
            async_strategies.SlidingWindowCounterRateLimiter(
                storage_from_string(f"async+{redis_url}", implementation="redispy")
            )
            if redis_url
            else None
        )

    async def hit(self, identity: str) -> RateLimitState:
        if self._memory is not None:
            allowed = self._memory.hit(self.item, identity)
            stats = self._memory.get_window_stats(self.item, identity)
        else:
            assert self._redis is not None
            allowed = await self._redis.hit(self.item, identity)
            stats = await self._redis.get_window_stats(self.item, identity)
        return RateLimitState(
            allowed=allowed,
            limit=self.item.amount,
            remaining=max(0, stats.remaining),
            reset_after=max(0, math.ceil(stats.reset_time - time.time())),
        )
