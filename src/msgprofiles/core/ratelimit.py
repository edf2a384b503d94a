"""Per-API-key rate limits with the `limits` library (sliding window counter: O(1) per hit):
in memory by default, in Redis when `MSGPROFILES_REDIS_URL` is set so that every process
shares one budget. Wrong API keys are limited per client address, so keys cannot be guessed
at speed (valid keys from the same address are not held back)."""

import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.storage import storage_from_string


@dataclass(frozen=True, slots=True)
class RateLimitState:
    allowed: bool
    limit: int
    remaining: int
    reset_after: int  # seconds until the window frees a request

    def raw_headers(self) -> list[tuple[bytes, bytes]]:
        """For a response being sent: appended as they are, no header merging needed."""
        return [(name.lower().encode(), value.encode()) for name, value in self.headers().items()]

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
    def __init__(
        self, rate: str, redis_url: str | None = None, failure_rate: str = "60/minute"
    ) -> None:
        self.item: RateLimitItem = parse(rate)
        self.failure_item: RateLimitItem = parse(failure_rate)
        # The asyncio memory storage expires keys from an asyncio task; the synchronous one
        # runs a timer thread every 10 ms that takes the GIL from the event loop (measured).
        storage = (
            storage_from_string(f"async+{redis_url}", implementation="redispy")
            if redis_url
            else storage_from_string("async+memory://")
        )
        self._limiter = SlidingWindowCounterRateLimiter(storage)

    async def hit(self, identity: str) -> RateLimitState:
        return await self._hit(self.item, identity)

    async def hit_failure(self, address: str) -> RateLimitState:
        """Count a wrong API key from `address`."""
        return await self._hit(self.failure_item, f"auth-failure:{address}")

    async def _hit(self, item: RateLimitItem, identity: str) -> RateLimitState:
        allowed = await self._limiter.hit(item, identity)
        stats = await self._limiter.get_window_stats(item, identity)
        return RateLimitState(
            allowed=allowed,
            limit=item.amount,
            remaining=max(0, stats.remaining),
            reset_after=max(0, math.ceil(stats.reset_time - time.time())),
        )
