"""The staff app's settings, read once from the environment."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from admissions.db.models import ROLES
from admissions.facility import default_facility_path
from admissions.settings_env import flag, seconds, whole
from admissions.web import addresses

# Roles that must sign in with a second factor (TOTP): admin always, others by configuration.
TOTP_ALWAYS = ("admin",)


def _totp_roles(env: Mapping[str, str]) -> tuple[str, ...]:
    names = [r.strip() for r in env.get("ADMISSIONS_WEB_TOTP_ROLES", "").split(",") if r.strip()]
    for name in names:
        if name not in ROLES:
            raise ValueError(
                f"ADMISSIONS_WEB_TOTP_ROLES: unknown role {name!r} (use {', '.join(ROLES)})"
            )
    return tuple(sorted({*TOTP_ALWAYS, *names}))


def check_webhook_url(url: str) -> str:
    """The CRM webhook's URL if acceptable: https, or http only to a loopback address."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme == "https" and host:
        return url
    if parts.scheme == "http" and _loopback(host):
        return url
    raise ValueError(
        "CRM_WEBHOOK_URL must be https:// (plain http only to 127.0.0.1, ::1 or localhost)"
    )


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


MIN_SECRET_BYTES = 32


@dataclass(frozen=True)
class WebhookSettings:
    """Where completed handoff packets are pushed (off while ``url`` is empty)."""

    url: str = ""
    secret: bytes = field(default=b"", repr=False)
    timeout_seconds: float = 10.0
    max_attempts: int = 12  # then the packet is dead-lettered (an admin may resend it)
    retry_seconds: float = 30.0  # first retry; doubled each time
    retry_max_seconds: float = 3600.0
    interval_seconds: float = 10.0  # how often the outbox scans for completed packets

    @property
    def enabled(self) -> bool:
        """Whether a receiver is configured."""
        return bool(self.url)

    def retry_delay(self, attempts: int) -> float:
        """Seconds to wait after the ``attempts``-th failed attempt (exponential backoff)."""
        return min(self.retry_max_seconds, self.retry_seconds * 2 ** max(0, attempts - 1))

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> WebhookSettings:
        """Read ``CRM_WEBHOOK_URL``, ``CRM_WEBHOOK_SECRET`` (or ``_SECRET_FILE``) and the rest."""
        url = env.get("CRM_WEBHOOK_URL", "").strip()
        secret = env.get("CRM_WEBHOOK_SECRET", "").strip().encode()
        if env.get("CRM_WEBHOOK_SECRET_FILE", "").strip():
            path = Path(env["CRM_WEBHOOK_SECRET_FILE"].strip())
            secret = path.read_bytes().strip()
        if url:
            check_webhook_url(url)
            if len(secret) < MIN_SECRET_BYTES:
                raise ValueError(
                    f"CRM_WEBHOOK_SECRET (or CRM_WEBHOOK_SECRET_FILE) needs at least "
                    f"{MIN_SECRET_BYTES} characters when CRM_WEBHOOK_URL is set"
                )
        return cls(
            url=url,
            secret=secret,
            timeout_seconds=seconds(env, "CRM_WEBHOOK_TIMEOUT_SECONDS", 10.0, 0.1),
            max_attempts=whole(env, "CRM_WEBHOOK_MAX_ATTEMPTS", 12, 1),
            retry_seconds=seconds(env, "CRM_WEBHOOK_RETRY_SECONDS", 30.0, 0.01),
            retry_max_seconds=seconds(env, "CRM_WEBHOOK_RETRY_MAX_SECONDS", 3600.0, 0.01),
            interval_seconds=seconds(env, "CRM_WEBHOOK_INTERVAL_SECONDS", 10.0, 0.01),
        )


@dataclass(frozen=True)
class Settings:
    """Everything configurable about the staff app (see ``from_env`` for the variables)."""

    tracker_db_url: str = "sqlite:///var/tracker.db"
    app_db_url: str = "sqlite:///var/admissions.db"
    host: str = "127.0.0.1"
    port: int = 8080
    facility_file: Path = field(default_factory=default_facility_path)
    retention_days: int = 90
    retention_interval_minutes: int = 60  # 0 turns the in-app purge job off
    session_idle_minutes: int = 30
    session_max_hours: int = 12
    trust_proxy: bool = False  # honour X-Forwarded-For/-Proto from a TLS reverse proxy
    # proxies whose forwarded headers are believed (comma-separated addresses / networks);
    # empty with trust_proxy on means a proxy on this machine (loopback)
    trusted_proxies: str = ""
    secure_cookies: bool = False  # force Secure cookies (also set whenever the request is HTTPS)
    allowed_origins: tuple[str, ...] = field(default_factory=tuple)  # extra origins for POSTs
    page_size: int = 50
    login_max_failures_account: int = 5
    login_max_failures_address: int = 20
    login_window_minutes: int = 15
    password_checks: int = 2  # Argon2 verifications running at once (64 MiB each)
    password_check_wait_seconds: float = 10.0  # then "busy, try again" instead of queueing
    # roles whose accounts need a TOTP second factor (admin always; ADMISSIONS_WEB_TOTP_ROLES)
    totp_roles: tuple[str, ...] = TOTP_ALWAYS
    second_factor_minutes: int = 10  # how long a sign-in may wait for its code / enrolment
    webhook: WebhookSettings = field(default_factory=WebhookSettings)  # CRM_WEBHOOK_*

    def needs_totp(self, roles: frozenset[str] | set[str]) -> bool:
        """Whether an account with ``roles`` must sign in with a second factor."""
        return bool(set(roles) & {*TOTP_ALWAYS, *self.totp_roles})

    def proxy_networks(self) -> tuple[addresses.Network, ...]:
        """The proxies whose X-Forwarded-* headers are believed (none unless trust_proxy)."""
        if not self.trust_proxy:
            return ()
        return addresses.parse_networks(self.trusted_proxies or addresses.LOOPBACK)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read ``TRACKER_DB_URL``, ``APP_DB_URL``, ``ADMISSIONS_WEB_*``, ``RETENTION_*``..."""
        env = os.environ if env is None else env
        raw_origins = env.get("ADMISSIONS_WEB_ORIGINS", "").split(",")
        origins = tuple(o.strip().rstrip("/") for o in raw_origins if o.strip())
        proxies = env.get("ADMISSIONS_WEB_TRUSTED_PROXIES", "").strip()
        try:
            addresses.parse_networks(proxies)
        except ValueError as exc:
            raise ValueError(f"ADMISSIONS_WEB_TRUSTED_PROXIES: {exc}") from None
        return cls(
            tracker_db_url=env.get("TRACKER_DB_URL") or cls.tracker_db_url,
            app_db_url=env.get("APP_DB_URL") or cls.app_db_url,
            host=env.get("ADMISSIONS_WEB_HOST") or cls.host,
            port=whole(env, "ADMISSIONS_WEB_PORT", cls.port, low=1),
            facility_file=Path(env["FACILITY_FILE"])
            if env.get("FACILITY_FILE")
            else default_facility_path(),
            retention_days=whole(env, "RETENTION_DAYS", cls.retention_days, low=1),
            retention_interval_minutes=whole(
                env, "RETENTION_INTERVAL_MINUTES", cls.retention_interval_minutes
            ),
            session_idle_minutes=whole(env, "SESSION_IDLE_MINUTES", cls.session_idle_minutes, 1),
            session_max_hours=whole(env, "SESSION_MAX_HOURS", cls.session_max_hours, 1),
            trust_proxy=flag(env, "ADMISSIONS_WEB_TRUST_PROXY") or bool(proxies),
            trusted_proxies=proxies,
            secure_cookies=flag(env, "ADMISSIONS_WEB_SECURE_COOKIES"),
            allowed_origins=origins,
            password_checks=whole(env, "ADMISSIONS_WEB_PASSWORD_CHECKS", cls.password_checks, 1),
            totp_roles=_totp_roles(env),
            webhook=WebhookSettings.from_env(env),
        )
