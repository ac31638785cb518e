"""Small response helpers."""

from __future__ import annotations

from aiohttp import web


def redirect(location: str, *, status: int = 303) -> web.Response:
    """A redirect response (303 after a form post, so the browser follows with GET)."""
    return web.Response(status=status, headers={"Location": location})
