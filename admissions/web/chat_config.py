"""Settings of the public chat path (the widget's ``/chat/`` routes), read from the environment."""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from admissions.settings_env import flag, number

logger = logging.getLogger(__name__)

MIN_SECRET_BYTES = 32


def _idle_minutes(env: Mapping[str, str], default: float) -> float:
    """``CHAT_IDLE_MINUTES`` (or the older ``CHAT_IDLE_HOURS``), at least half a minute."""
    if env.get("CHAT_IDLE_MINUTES", "").strip():
        return number(env, "CHAT_IDLE_MINUTES", default, 0.5)
    return number(env, "CHAT_IDLE_HOURS", default / 60, 0.01) * 60


def load_secret(env: Mapping[str, str]) -> bytes:
    """The key that signs chat cookies: ``CHAT_SECRET``, else a 0600 file under ``VAR_DIR``.

    Without either (tests, one-off runs) a random per-process key is used: chats then do not
    survive a restart of the app (the visitor starts a new conversation).
    """
    raw = env.get("CHAT_SECRET", "")
    if raw:
        if len(raw.encode()) < MIN_SECRET_BYTES:
            raise ValueError(f"CHAT_SECRET must be at least {MIN_SECRET_BYTES} characters")
        return raw.encode()
    path_text = env.get("CHAT_SECRET_FILE") or (
        str(Path(env["VAR_DIR"]) / "chat_secret") if env.get("VAR_DIR") else ""
    )
    if not path_text:
        logger.warning("no CHAT_SECRET or VAR_DIR: chat sessions will not survive a restart")
        return secrets.token_bytes(MIN_SECRET_BYTES)
    path = Path(path_text)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process created it first: read theirs
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(MIN_SECRET_BYTES))
    secret = path.read_text().strip().encode()
    if len(secret) < MIN_SECRET_BYTES:
        raise ValueError(f"{path} holds a chat secret shorter than {MIN_SECRET_BYTES} characters")
    return secret


@dataclass(frozen=True)
class ChatConfig:
    """Everything configurable about the public chat path (see ``from_env``)."""

    rasa_url: str = "http://127.0.0.1:5005"
    rasa_jwt_secret: str = ""  # when set, the tracker API is called with an HS256 JWT
    # The serving file a model swap rewrites (admissions.training.serving): when it exists,
    # its URL wins over rasa_url, read again whenever it changes.
    rasa_serving_file: str = ""
    rasa_timeout: float = 10.0  # seconds for one call to Rasa
    secret: bytes = field(default_factory=lambda: secrets.token_bytes(MIN_SECRET_BYTES), repr=False)
    # A conversation cookie unused this long is no longer honoured: short, because a family
    # member on the same computer must not find the chat (a shared device, issue 15 #7).
    idle_minutes: float = 30.0
    max_message_chars: int = 2000
    max_body_bytes: int = 16 * 1024
    # token buckets: (burst, tokens per second)
    session_burst: float = 20
    session_rate: float = 0.75
    address_burst: float = 90
    address_rate: float = 1.5
    start_burst: float = 30  # new conversations per address
    start_rate: float = 1 / 20
    demo_page: bool = True  # serve the demo facility page at /

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ChatConfig:
        """Read ``RASA_URL``, ``RASA_SERVING_FILE``, ``RASA_JWT_SECRET``, ``CHAT_*``, DEMO_PAGE."""
        env = os.environ if env is None else env
        return cls(
            rasa_url=(env.get("RASA_URL") or cls.rasa_url).rstrip("/"),
            rasa_jwt_secret=env.get("RASA_JWT_SECRET", ""),
            rasa_serving_file=env.get("RASA_SERVING_FILE", "").strip(),
            rasa_timeout=number(env, "CHAT_RASA_TIMEOUT", cls.rasa_timeout, 0.1),
            secret=load_secret(env),
            idle_minutes=_idle_minutes(env, cls.idle_minutes),
            session_burst=number(env, "CHAT_SESSION_BURST", cls.session_burst, 1),
            session_rate=number(env, "CHAT_SESSION_RATE", cls.session_rate, 0.001),
            address_burst=number(env, "CHAT_ADDRESS_BURST", cls.address_burst, 1),
            address_rate=number(env, "CHAT_ADDRESS_RATE", cls.address_rate, 0.001),
            start_burst=number(env, "CHAT_START_BURST", cls.start_burst, 1),
            start_rate=number(env, "CHAT_START_RATE", cls.start_rate, 0.0001),
            demo_page=flag(env, "DEMO_PAGE", cls.demo_page),
        )
