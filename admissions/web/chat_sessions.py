"""Visitor chat sessions: server-issued conversation ids in signed cookies, rate limits.

The conversation id is ``secrets.token_hex(16)`` (128 random bits), chosen here and never by
the client. The browser holds it only inside an HttpOnly, SameSite=Strict cookie signed with
HMAC-SHA256, so a client cannot present an id it was not given. Everything else about a
session (its lock, rate bucket, recent replies, the buttons it may press) lives in memory.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import re
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

COOKIE = "chat_session"
# Over HTTPS: the __Host- prefix means Secure, Path=/ and no Domain, so no subdomain can set it.
SECURE_COOKIE = "__Host-chat_session"
_VERSION = "v1"
_ID_RE = re.compile(r"[0-9a-f]{32}")
MAX_STATES = 20_000
MAX_ADDRESSES = 20_000
RECENT_REPLIES = 16

K = TypeVar("K")
V = TypeVar("V")


def new_conversation_id() -> str:
    """A fresh conversation id: 128 random bits as 32 hex characters."""
    return secrets.token_hex(16)


def _mac(secret: bytes, conversation_id: str, issued: int) -> str:
    message = f"chat-cookie|{_VERSION}|{conversation_id}|{issued}".encode()
    digest = hmac.new(secret, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def sign(secret: bytes, conversation_id: str, issued: int | None = None) -> str:
    """The cookie value for ``conversation_id``: ``v1.<id>.<issued>.<mac>``."""
    when = int(time.time()) if issued is None else issued
    return f"{_VERSION}.{conversation_id}.{when}.{_mac(secret, conversation_id, when)}"


def verify(secret: bytes, value: str | None, max_idle_seconds: float) -> str | None:
    """The conversation id in a cookie this server signed and that has not gone idle."""
    if not value or len(value) > 200:
        return None
    parts = value.split(".")
    if len(parts) != 4 or parts[0] != _VERSION or not _ID_RE.fullmatch(parts[1]):
        return None
    if not parts[2].isdigit():
        return None
    issued = int(parts[2])
    expected = _mac(secret, parts[1], issued)
    if not hmac.compare_digest(expected.encode(), parts[3].encode()):
        return None
    age = time.time() - issued
    if age > max_idle_seconds or age < -300:
        return None
    return parts[1]


class Bounded(OrderedDict[K, V], Generic[K, V]):
    """An insertion-ordered dict that forgets its oldest entries past ``limit``."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def touch(self, key: K, make: Callable[[], V]) -> V:
        """The entry for ``key`` (created by ``make`` if missing), marked most recent."""
        if key in self:
            self.move_to_end(key)
            return self[key]
        value = make()
        self[key] = value
        while len(self) > self.limit:
            self.popitem(last=False)
        return value


@dataclass
class Bucket:
    """A token bucket: ``burst`` tokens, refilled at ``rate`` per second."""

    burst: float
    rate: float
    tokens: float = field(init=False)
    stamp: float = field(init=False, default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self.tokens = self.burst

    def take(self) -> float:
        """0 when a token was taken, else the seconds to wait for the next one."""
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


@dataclass
class SessionState:
    """What the app remembers about one live conversation (in memory only)."""

    bucket: Bucket
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    # client message id -> the replies already delivered (a resend gets the same answer)
    replies: Bounded[str, list[dict[str, Any]]] = field(
        default_factory=lambda: Bounded(RECENT_REPLIES)
    )
    # slash payloads the visitor may press now (from the bot's latest buttons); None = unknown
    offered: frozenset[str] | None = None


class SessionStore:
    """Live conversation states, ended conversations and the per-address rate buckets."""

    def __init__(
        self,
        session_burst: float,
        session_rate: float,
        address_burst: float,
        address_rate: float,
        start_burst: float,
        start_rate: float,
        ended_ttl_seconds: float,
    ) -> None:
        self._session = (session_burst, session_rate)
        self._address = (address_burst, address_rate)
        self._start = (start_burst, start_rate)
        self._ended_ttl = ended_ttl_seconds
        self.states: Bounded[str, SessionState] = Bounded(MAX_STATES)
        self.ended: Bounded[str, float] = Bounded(MAX_STATES * 5)
        self.address_buckets: Bounded[str, Bucket] = Bounded(MAX_ADDRESSES)
        self.start_buckets: Bounded[str, Bucket] = Bounded(MAX_ADDRESSES)

    def state(self, conversation_id: str) -> SessionState:
        """The in-memory state of a live conversation (created on first use)."""
        return self.states.touch(conversation_id, lambda: SessionState(Bucket(*self._session)))

    def is_ended(self, conversation_id: str) -> bool:
        """True when the visitor ended this conversation (within the cookie lifetime)."""
        when = self.ended.get(conversation_id)
        if when is None:
            return False
        if time.monotonic() - when > self._ended_ttl:
            del self.ended[conversation_id]
            return False
        return True

    def end(self, conversation_id: str) -> None:
        """Forget a conversation's state; its cookie is refused from now on."""
        self.states.pop(conversation_id, None)
        self.ended.touch(conversation_id, time.monotonic)

    def address_wait(self, address: str) -> float:
        """Seconds this address must wait before its next message (0: go ahead)."""
        return self.address_buckets.touch(address, lambda: Bucket(*self._address)).take()

    def start_wait(self, address: str) -> float:
        """Seconds this address must wait before starting another conversation."""
        return self.start_buckets.touch(address, lambda: Bucket(*self._start)).take()
