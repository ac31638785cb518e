"""The client address behind proxies: only proxies on the allow-list are believed, every
X-Forwarded-For line counts and the rightmost untrusted hop is the client; IPv6 clients are
limited by their /64."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from multidict import CIMultiDict

from admissions.web import addresses
from admissions.web.main import init_app
from admissions.web.settings import Settings
from tests.web.conftest import CSRF_RE, audit_rows

LOOPBACK = addresses.parse_networks(addresses.LOOPBACK)
PROXIES = addresses.parse_networks("127.0.0.1, 10.0.0.0/8, 2001:db8:ffff::/48")


@pytest.mark.parametrize(
    ("peer", "lines", "client"),
    [
        ("127.0.0.1", ["198.51.100.7"], "198.51.100.7"),
        # a client-written first hop is never taken, on the same line or a separate one
        ("127.0.0.1", ["6.6.6.6, 198.51.100.7"], "198.51.100.7"),
        ("127.0.0.1", ["6.6.6.6", "198.51.100.7"], "198.51.100.7"),
        ("127.0.0.1", ["6.6.6.6", "7.7.7.7, 198.51.100.7"], "198.51.100.7"),
        # chains of our own proxies are skipped from the right
        ("127.0.0.1", ["6.6.6.6, 198.51.100.7, 10.1.2.3"], "198.51.100.7"),
        ("127.0.0.1", ["198.51.100.7", "10.1.2.3", "10.9.9.9"], "198.51.100.7"),
        # nothing forwarded, or only our own proxies: as far as we can see
        ("127.0.0.1", [], "127.0.0.1"),
        ("127.0.0.1", ["10.1.2.3"], "10.1.2.3"),
        # garbage a client wrote stops the walk at the last hop a proxy of ours wrote
        ("127.0.0.1", ["not-an-ip"], "127.0.0.1"),
        ("127.0.0.1", ["not-an-ip, 10.1.2.3"], "10.1.2.3"),
        # ports, brackets and IPv4-mapped IPv6
        ("127.0.0.1", ["[2001:db8::5]:443"], "2001:db8::5"),
        ("127.0.0.1", ["198.51.100.7:5000"], "198.51.100.7"),
        ("127.0.0.1", ["::ffff:198.51.100.7"], "198.51.100.7"),
        ("2001:db8:ffff::1", ["2001:db8:1::9"], "2001:db8:1::9"),
        # a peer that is not on the list is the client, whatever it says
        ("203.0.113.5", ["198.51.100.7"], "203.0.113.5"),
        ("10.0.0.1", ["198.51.100.7"], "198.51.100.7"),
    ],
)
def test_client_address(peer: str, lines: list[str], client: str) -> None:
    assert addresses.client_address(peer, lines, PROXIES) == client


def test_ipv6_is_limited_by_its_64_and_ipv4_by_itself() -> None:
    assert addresses.bucket("2001:db8:1:2:aaaa::1") == "2001:db8:1:2::/64"
    assert addresses.bucket("2001:db8:1:2:bbbb:cccc:dddd:eeee") == "2001:db8:1:2::/64"
    assert addresses.bucket("2001:db8:1:3::1") == "2001:db8:1:3::/64"
    assert addresses.bucket("198.51.100.7") == "198.51.100.7"
    assert addresses.bucket("::ffff:198.51.100.7") == "198.51.100.7"
    assert addresses.bucket(None) == "unknown"


def test_the_allow_list_is_read_from_the_environment() -> None:
    settings = Settings.from_env({"ADMISSIONS_WEB_TRUSTED_PROXIES": "10.0.0.0/8, ::1"})
    assert settings.trust_proxy
    assert [str(n) for n in settings.proxy_networks()] == ["10.0.0.0/8", "::1/128"]
    assert Settings.from_env({}).proxy_networks() == ()  # nothing believed by default
    only_flag = Settings.from_env({"ADMISSIONS_WEB_TRUST_PROXY": "1"})
    assert only_flag.proxy_networks() == LOOPBACK  # a proxy on this machine
    with pytest.raises(ValueError, match="ADMISSIONS_WEB_TRUSTED_PROXIES"):
        Settings.from_env({"ADMISSIONS_WEB_TRUSTED_PROXIES": "10.0.0.0/8, proxy.local"})


async def _guesses(client: Any, forwarded: list[list[tuple[str, str]]]) -> list[int]:
    """One wrong sign-in per header list (each for another username), in order."""
    statuses = []
    for i, headers in enumerate(forwarded):
        page = await client.get("/staff/login")
        token = CSRF_RE.search(await page.text()).group(1)
        response = await client.post(
            "/staff/login",
            data={"csrf_token": token, "username": f"user{i}", "password": "guess"},
            headers=CIMultiDict(headers),
            allow_redirects=False,
        )
        statuses.append(response.status)
    return statuses


async def _app_client(aiohttp_client: Any, settings: Settings, **changes: Any) -> Any:
    return await aiohttp_client(init_app(dataclasses.replace(settings, **changes)))


async def test_rotating_a_forged_first_header_line_does_not_evade_the_limit(
    aiohttp_client, settings, tracker, app_db
):
    # The test client connects from 127.0.0.1: the proxy on the allow-list. It appends the
    # real client on its own header line; the client writes a new address on each request.
    client = await _app_client(aiohttp_client, settings, trust_proxy=True)
    forwarded = [
        [("X-Forwarded-For", f"6.6.{i}.{i}"), ("X-Forwarded-For", "198.51.100.7")]
        for i in range(21)
    ]
    assert await _guesses(client, forwarded) == [401] * 20 + [429]
    assert audit_rows(app_db)[-1].address == "198.51.100.7"


async def test_headers_from_a_peer_not_on_the_list_are_ignored(
    aiohttp_client, settings, tracker, app_db
):
    client = await _app_client(
        aiohttp_client, settings, trust_proxy=True, trusted_proxies="10.0.0.0/8"
    )
    forwarded = [[("X-Forwarded-For", f"198.51.100.{i + 1}")] for i in range(21)]
    assert await _guesses(client, forwarded) == [401] * 20 + [429]
    assert audit_rows(app_db)[-1].address == "127.0.0.1"
    page = await client.get("/staff/login", headers={"X-Forwarded-Proto": "https"})
    assert "Secure" not in page.headers["Set-Cookie"]  # not HTTPS on an untrusted word


async def test_ipv6_addresses_in_one_64_share_a_limit(aiohttp_client, settings, tracker, app_db):
    client = await _app_client(aiohttp_client, settings, trust_proxy=True)
    forwarded = [[("X-Forwarded-For", f"2001:db8:1:2::{i + 1:x}")] for i in range(21)]
    assert await _guesses(client, forwarded) == [401] * 20 + [429]
    assert audit_rows(app_db)[-1].address == "2001:db8:1:2::15"  # the audit keeps the address
    other = await _guesses(client, [[("X-Forwarded-For", "2001:db8:1:3::1")]])
    assert other == [401]  # the next /64 is another client
