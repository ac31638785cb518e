"""An access log line without query strings (they can carry search terms) or client data."""

from __future__ import annotations

from aiohttp.abc import AbstractAccessLogger
from aiohttp.web import BaseRequest, StreamResponse


class AccessLogger(AbstractAccessLogger):
    """``METHOD /path STATUS 12.3ms``: no query string, no headers, no body."""

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        """Write one line at INFO."""
        self.logger.info(
            "%s %s %s %.1fms", request.method, request.path, response.status, time * 1000
        )
