"""Which Rasa server the chat proxy talks to: the one the serving file names, read cheaply.

A model swap (``admissions.training.serving``) starts a second Rasa process and then replaces
the serving file (``RASA_SERVING_FILE``, e.g. ``var/rasa-serving.json``) atomically. The proxy
asks ``RasaTarget.url()`` at the start of every turn: one ``stat`` of the file, and a read only
when it changed, so each new turn goes to the process serving at that moment. Without the file
(or with none configured) the fixed ``RASA_URL`` is used.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

logger = logging.getLogger(__name__)


class RasaTarget:
    """The serving Rasa's base URL: from the serving file when it exists, else ``fallback``."""

    def __init__(self, fallback: str, serving_file: str | os.PathLike[str] | None = None) -> None:
        """``fallback`` when there is no serving file (or none is configured)."""
        self.fallback = fallback.rstrip("/")
        self.path = Path(serving_file) if serving_file else None
        self._key: tuple[int, int, int] | None = None
        self._url = self.fallback

    def url(self) -> str:
        """The base URL to send the next request to."""
        if self.path is None:
            return self.fallback
        try:
            st = os.stat(self.path)
        except OSError:
            self._key = None
            return self.fallback
        key = (st.st_mtime_ns, st.st_ino, st.st_size)
        if key != self._key:
            try:
                data = json.loads(self.path.read_text(encoding="utf-8"))
                url = str(data["url"]).rstrip("/")
            except (OSError, ValueError, KeyError, TypeError):
                logger.warning("could not read the Rasa serving file; keeping the last URL")
                return self._url
            if url != self._url:
                logger.info("chat: Rasa now served at %s", url)
            self._key, self._url = key, url
        return self._url

    def __call__(self) -> str:
        """Same as ``url()``."""
        return self.url()
