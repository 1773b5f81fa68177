"""The counters of limiter elements: requests or cost per key, in a fixed or sliding window.

A limiter element (`rate` in the API schema, `rate_limit` in the docs) counts requests
(`limitType: count`) or their cost (`cost`) per value of its `key`, such as
`metadata.user_id`, within `window` seconds
(https://developers.cloudflare.com/ai-gateway/features/dynamic-routing/json-configuration/).
A request without the key's value counts against one counter shared by the whole
gateway. Counters are kept per gateway, route, element and key, on the gateway's clock.

- `fixed`: calendar-aligned windows (`[now - now % window, ...)`), as the gateway's own
  rate limiting counts (https://developers.cloudflare.com/ai-gateway/features/rate-limiting/);
  also the technique of a limiter that names none.
- `sliding`: what was counted in the last `window` seconds.

A count limiter admits a request while fewer than `limit` were counted, and counts it;
a cost limiter admits one while less than `limit` was spent, and the cost of the model
response is added once it is known (`add`).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Final

DEFAULT_TECHNIQUE: Final = "fixed"


@dataclass(slots=True)
class _Window:
    start: float = 0.0
    total: float = 0.0
    entries: deque[tuple[float, float]] = field(default_factory=deque)


class LimitCounters:
    """Counters by key; safe to use from several threads."""

    def __init__(self) -> None:
        self._windows: dict[Hashable, _Window] = {}
        self._lock = threading.Lock()

    def spent(self, key: Hashable, technique: str | None, window_s: float, now: float) -> float:
        """What was counted under `key` in its current window.

        Args:
            key: The counter (gateway, route, element, key value).
            technique: `fixed` (also None) or `sliding`.
            window_s: The window, in seconds.
            now: The gateway clock's time.

        Returns:
            Requests or cost counted.
        """
        with self._lock:
            return self._current(key, technique, window_s, now).total

    def admit(
        self, key: Hashable, technique: str | None, window_s: float, now: float, limit: float
    ) -> bool:
        """Count one request if fewer than `limit` were counted (a count limiter).

        Args:
            key: The counter.
            technique: `fixed` (also None) or `sliding`.
            window_s: The window, in seconds.
            now: The gateway clock's time.
            limit: Requests allowed per window.

        Returns:
            False when the request is over the limit (it is then not counted).
        """
        with self._lock:
            window = self._current(key, technique, window_s, now)
            if window.total + 1 > limit:
                return False
            self._add(window, technique, now, 1.0)
            return True

    def add(
        self, key: Hashable, technique: str | None, window_s: float, now: float, amount: float
    ) -> None:
        """Add `amount` (a response's cost) to the counter.

        Args:
            key: The counter.
            technique: `fixed` (also None) or `sliding`.
            window_s: The window, in seconds.
            now: The gateway clock's time.
            amount: What to add.
        """
        with self._lock:
            self._add(self._current(key, technique, window_s, now), technique, now, amount)

    def forget(self, matching: Hashable) -> None:
        """Drop every counter whose key is a tuple starting with `matching`.

        Args:
            matching: The first part of the keys to drop.
        """
        with self._lock:
            for key in [k for k in self._windows if isinstance(k, tuple) and k[:1] == (matching,)]:
                del self._windows[key]

    def _current(
        self, key: Hashable, technique: str | None, window_s: float, now: float
    ) -> _Window:
        window = self._windows.setdefault(key, _Window())
        if (technique or DEFAULT_TECHNIQUE) == "sliding":
            entries = window.entries
            while entries and entries[0][0] <= now - window_s:
                window.total -= entries.popleft()[1]
            if not entries:
                window.total = 0.0  # no float drift once empty
            return window
        start = now - (now % window_s)
        if start != window.start:
            window.start, window.total = start, 0.0
        return window

    @staticmethod
    def _add(window: _Window, technique: str | None, now: float, amount: float) -> None:
        window.total += amount
        if (technique or DEFAULT_TECHNIQUE) == "sliding":
            window.entries.append((now, amount))
