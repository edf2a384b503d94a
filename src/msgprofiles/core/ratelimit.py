"""Per-API-key rate limits (sliding window counter: O(1) per hit): in this process by
default, in Redis through the `limits` library when `MSGPROFILES_REDIS_URL` is set so that
every process shares one budget. Wrong API keys are limited per client address, so keys
cannot be guessed at speed (valid keys from the same address are not held back)."""

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


class _LocalWindows:
    """Sliding window counters in this process, the estimate `limits` makes: the requests of
    the current fixed window plus those of the previous one, weighted by how much of it the
    sliding window still covers. A hit is one dict lookup; `limits`' asyncio memory storage
    took 12 µs a hit, several percent of a request (measured, bench/run.py)."""

    def __init__(self, item: RateLimitItem) -> None:
        self.limit = item.amount
        self.period = item.get_expiry()
        self._windows: dict[str, tuple[int, int, int]] = {}  # identity: window, previous, current
        self._prune_at = 1024

    def hit(self, identity: str) -> RateLimitState:
        now = time.time()
        window = int(now // self.period)
        elapsed = now - window * self.period
        index, previous, current = self._windows.get(identity, (window, 0, 0))
        if index != window:
            previous, current = (current if index == window - 1 else 0), 0
        left = self.period - elapsed  # of the previous window, still inside the sliding one
        weighted = previous * left / self.period
        allowed = math.floor(weighted) + current + 1 <= self.limit
        current += allowed
        self._windows[identity] = (window, previous, current)
        if len(self._windows) >= self._prune_at:
            self._prune(window)
        # The previous window's weight drops by one request at a steady pace; this window's
        # requests start to weigh less when it ends.
        reset_after = left % (self.period / previous) if previous else left
        return RateLimitState(
            allowed=allowed,
            limit=self.limit,
            remaining=max(0, self.limit - math.floor(weighted + current)),
            reset_after=math.ceil(reset_after),
        )

    def _prune(self, window: int) -> None:
        """Forget identities idle for two windows (they count for nothing); amortized O(1)."""
        self._windows = {k: v for k, v in self._windows.items() if v[0] >= window - 1}
        self._prune_at = max(1024, 2 * len(self._windows))


class RateLimiter:
    def __init__(
        self, rate: str, redis_url: str | None = None, failure_rate: str = "60/minute"
    ) -> None:
        self.item: RateLimitItem = parse(rate)
        self.failure_item: RateLimitItem = parse(failure_rate)
        self._redis = (
            SlidingWindowCounterRateLimiter(
                storage_from_string(f"async+{redis_url}", implementation="redispy")
            )
            if redis_url
            else None
        )
        self._local = _LocalWindows(self.item)
        self._local_failures = _LocalWindows(self.failure_item)

    async def hit(self, identity: str) -> RateLimitState:
        if self._redis is None:
            return self._local.hit(identity)
        return await self._shared_hit(self.item, identity)

    async def hit_failure(self, address: str) -> RateLimitState:
        """Count a wrong API key from `address`."""
        if self._redis is None:
            return self._local_failures.hit(address)
        return await self._shared_hit(self.failure_item, f"auth-failure:{address}")

    async def _shared_hit(self, item: RateLimitItem, identity: str) -> RateLimitState:
        assert self._redis is not None
        allowed = await self._redis.hit(item, identity)
        stats = await self._redis.get_window_stats(item, identity)
        return RateLimitState(
            allowed=allowed,
            limit=item.amount,
            remaining=max(0, stats.remaining),
            reset_after=max(0, math.ceil(stats.reset_time - time.time())),
        )
