"""Rasa's second reading of one visitor message: one rule for the widget's history
(``chat_rasa.history_from_tracker``), the staff transcript (``transcript.build``) and the load
benchmark's count of stored messages (``benchmarks/load_reconcile.py``).

The two-stage fallback reverts the visitor's message (a ``rewind`` event right after it) and
Rasa reads that same message again, storing a second ``user`` event: said once, read twice. The
default fallback answers first ("Sorry, ...") and then rewinds: what the visitor says next is
new, even when they said the same words earlier. Pure: no web or Rasa imports.
"""

from __future__ import annotations


class Rereading:
    """Feed it one conversation's events in order; it says which ``user`` event is a re-reading."""

    def __init__(self) -> None:
        self._last: str | None = None  # the visitor's message, if nothing was shown since
        self._reverted: str | None = None  # the message a rewind has just reverted

    def visitor(self, raw: str) -> bool:
        """A ``user`` event, ``raw`` as Rasa received it (text or button payload): True when it
        is the message the last rewind reverted, read again (show it once); else it is new."""
        again = self._reverted is not None and raw == self._reverted
        self._reverted = None
        self._last = raw
        return again

    def assistant(self) -> None:
        """The assistant said something: a rewind now reverts no visitor message."""
        self._last = None
        self._reverted = None

    def rewind(self) -> None:
        """A ``rewind`` event: it reverts the visitor's message if that came last."""
        self._reverted = self._last
