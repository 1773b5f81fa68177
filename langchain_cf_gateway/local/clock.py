"""The server's clock, which tests can move forward (cache TTLs, rate-limit windows)."""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timezone


class Clock:
    """Wall-clock seconds, plus an offset that `advance` moves forward.

    `LocalGateway(clock=...)` accepts another callable returning epoch seconds.
    """

    def __init__(self, source: Callable[[], float] = time.time) -> None:
        self._source = source
        self.offset = 0.0

    def __call__(self) -> float:
        """The clock's time: epoch seconds plus `offset`."""
        return self._source() + self.offset

    def advance(self, seconds: float) -> None:
        """Jump `seconds` into the future: cache entries expire, rate windows roll over.

        Raises:
            ValueError: `seconds` is negative.
        """
        if seconds < 0:
            raise ValueError("the clock only moves forward; seconds must be >= 0")
        self.offset += seconds

    def iso(self, at: float | None = None) -> str:
        """ISO 8601 UTC with milliseconds, as Cloudflare's API writes timestamps."""
        moment = datetime.fromtimestamp(self() if at is None else at, tz=timezone.utc)
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")

    def uuid7(self) -> str:
        """A lowercase UUIDv7 (RFC 9562) stamped with this clock: the shape of log ids."""
        ms = int(self() * 1000) & ((1 << 48) - 1)
        # Log ids are opaque, not secrets: the Mersenne Twister is ~50x cheaper than
        # os.urandom under load, and this runs for every request.
        rand = random.getrandbits(80)
        value = (ms << 80) | rand
        value = (value & ~(0xF << 76)) | (0x7 << 76)
        value = (value & ~(0x3 << 62)) | (0x2 << 62)
        return str(uuid.UUID(int=value))
