"""How long to leave a database alone after it failed: 0.5 s, doubling per failure up to 5 s.

Shared by the tracker store (``rasa_addons/tracker_health.py``) and the lock store
(``rasa_addons/lock_store.py``): during an outage each turn costs at most one timeout, and the
database is tried again soon after it is back. Each store logs the outage in its own words;
``failed`` and ``recovered`` say when (the first failure of an outage, the end of one).
"""

from __future__ import annotations

import time

FIRST_SECONDS = 0.5
MAX_SECONDS = 5.0


class Backoff:
    """The back-off state of one database."""

    def __init__(self) -> None:
        """No failure yet: the database is available."""
        self.seconds = 0.0  # the current back-off; 0 while the database works
        self.until = 0.0  # monotonic time before which the database is skipped

    @property
    def active(self) -> bool:
        """Whether the last attempt failed (the database has not answered since)."""
        return bool(self.seconds)

    def available(self) -> bool:
        """False during the back-off after a failure."""
        return time.monotonic() >= self.until

    def failed(self) -> bool:
        """Start or double the back-off; whether this is the first failure of an outage."""
        first = self.seconds == 0.0
        self.seconds = min(MAX_SECONDS, self.seconds * 2 if self.seconds else FIRST_SECONDS)
        self.until = time.monotonic() + self.seconds
        return first

    def recovered(self) -> bool:
        """End the back-off; whether there was one (the end of an outage)."""
        was_down = self.active
        self.seconds = 0.0
        self.until = 0.0
        return was_down
