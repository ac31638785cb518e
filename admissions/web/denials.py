"""A cap on the audit rows that refusals of anonymous requests may add.

The audit log is append-only (triggers forbid deleting rows), so anything that writes a row
without signing in must not be able to grow it at will: 400 requests for a protected page
would otherwise add 400 rows. Past the limits a refusal is only counted, and the count is
written with the address's next row.
"""

from __future__ import annotations

import time

from admissions.web.chat_sessions import MAX_ADDRESSES, Bounded

# Refusals of requests nobody signed in for: at most this many rows per address (and in all)
# per window; the others are counted, and the count rides on the address's next row.
ANONYMOUS_ROWS_PER_ADDRESS = 60
ANONYMOUS_ROWS_TOTAL = 1000
ANONYMOUS_WINDOW_SECONDS = 600.0


class DenialLimiter:
    """Caps the audit rows anonymous refusals can add, so nobody can grow the log at will."""

    def __init__(
        self,
        per_address: int = ANONYMOUS_ROWS_PER_ADDRESS,
        total: int = ANONYMOUS_ROWS_TOTAL,
        window_seconds: float = ANONYMOUS_WINDOW_SECONDS,
    ) -> None:
        """Allow ``per_address`` rows per address and ``total`` rows per window."""
        self.per_address = per_address
        self.total = total
        self.window_seconds = window_seconds
        self._window = -1
        self._rows: dict[str, int] = {}
        self._total = 0
        self._suppressed: Bounded[str, int] = Bounded(MAX_ADDRESSES)

    def admit(self, address: str) -> int | None:
        """None: do not write this row; else how many rows were left out before it."""
        window = int(time.monotonic() // self.window_seconds)
        if window != self._window:
            self._window, self._rows, self._total = window, {}, 0
        written = self._rows.get(address, 0)
        if written >= self.per_address or self._total >= self.total:
            self._suppressed.touch(address, int)
            self._suppressed[address] += 1
            return None
        self._rows[address] = written + 1
        self._total += 1
        return self._suppressed.pop(address, 0)
