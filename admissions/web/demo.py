"""Public demo facility page with the chat widget (filled in by the widget work)."""

from __future__ import annotations

from aiohttp import web


def setup_demo(app: web.Application) -> None:
    """Register the public demo page and the widget's static files on ``app``."""
    return None
