"""A durable local spool of tracker events the database could not take yet.

One append-only JSON-lines file per conversation (named by a hash of its id, so no id appears
in a file name), each line one ``events`` row plus its idempotency key. Every append is
written with one ``write`` loop, then ``fsync``'d (and the directory too when the file is
new) before it returns: once ``append`` returns, the turn survives ``kill -9`` and power
loss. A crash in the middle of an append leaves a partial last line; that turn was never
acknowledged, and the partial line is cut off when the spool is opened again.

Files are created 0600 in a 0700 directory: they hold the same health information as the
database. They are deleted as soon as their rows are in the database.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

SUFFIX = ".jsonl"


@dataclass(frozen=True)
class EventRow:
    """One row of Rasa's ``events`` table plus the event's idempotency key."""

    key: str
    type_name: str
    timestamp: float | None
    intent_name: str | None
    action_name: str | None
    data: str

    def as_json(self, sender_id: str) -> str:
        """The row as one spool line (without the newline)."""
        return json.dumps(
            {
                "sender_id": sender_id,
                "key": self.key,
                "type_name": self.type_name,
                "timestamp": self.timestamp,
                "intent_name": self.intent_name,
                "action_name": self.action_name,
                "data": self.data,
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, line: str) -> tuple[str, EventRow]:
        """Parse a spool line into (sender id, row); raises ValueError when malformed."""
        raw: Any = json.loads(line)
        if not isinstance(raw, dict):
            raise ValueError("spool line is not an object")
        fields = [raw.get(k) for k in ("sender_id", "key", "type_name", "data")]
        if not all(isinstance(v, str) for v in fields):
            raise ValueError("spool line lacks a field")
        sender, key, type_name, data = (str(v) for v in fields)
        ts = raw.get("timestamp")
        return sender, cls(
            key=key,
            type_name=type_name,
            timestamp=float(ts) if isinstance(ts, (int, float)) else None,
            intent_name=raw.get("intent_name"),
            action_name=raw.get("action_name"),
            data=data,
        )


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Spool:
    """The spool directory: append, read and clear one conversation's pending rows.

    File operations run on the tracker store's I/O thread, under the conversation's lock; the
    in-memory index is also read from the event loop, so it has its own lock.
    """

    def __init__(self, directory: str | Path) -> None:
        """Open (create) the directory and index the files already in it."""
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        with contextlib.suppress(OSError):
            os.chmod(self.directory, 0o700)
        self._keys: dict[str, set[str]] = {}
        self._index_lock = threading.Lock()
        for path in sorted(self.directory.glob(f"*{SUFFIX}")):
            self._load(path)

    def path_for(self, sender_id: str) -> Path:
        """The spool file of one conversation."""
        digest = hashlib.sha256(sender_id.encode("utf-8", "surrogatepass")).hexdigest()
        return self.directory / f"{digest[:40]}{SUFFIX}"

    def _load(self, path: Path) -> None:
        raw = path.read_bytes()
        end = raw.rfind(b"\n") + 1
        if end < len(raw):  # a torn, never-acknowledged append: cut it off
            logger.warning(
                "spool: dropping a partial line (%d bytes) left by a crash", len(raw) - end
            )
            os.truncate(path, end)
            raw = raw[:end]
        sender: str | None = None
        keys: set[str] = set()
        for line in raw.decode("utf-8", "replace").splitlines():
            try:
                line_sender, row = EventRow.from_json(line)
            except ValueError:
                logger.warning("spool: skipping a malformed line in %s", path.name)
                continue
            sender = sender or line_sender
            keys.add(row.key)
        if sender is None:
            path.unlink()
            return
        with self._index_lock:
            self._keys[sender] = keys

    def senders(self) -> list[str]:
        """Conversations with rows waiting for the database."""
        with self._index_lock:
            return list(self._keys)

    def has(self, sender_id: str) -> bool:
        """Whether rows are waiting for this conversation."""
        with self._index_lock:
            return sender_id in self._keys

    def keys(self, sender_id: str) -> set[str]:
        """Keys of the rows waiting for this conversation."""
        with self._index_lock:
            return set(self._keys.get(sender_id, ()))

    def __len__(self) -> int:
        """Number of rows waiting, all conversations."""
        with self._index_lock:
            return sum(len(k) for k in self._keys.values())

    def append(self, sender_id: str, rows: list[EventRow]) -> None:
        """Durably append rows for one conversation (returns after fsync)."""
        if not rows:
            return
        path = self.path_for(sender_id)
        payload = "".join(row.as_json(sender_id) + "\n" for row in rows).encode(
            "utf-8", "surrogatepass"
        )
        is_new = not path.exists()
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            start = os.fstat(fd).st_size
            try:
                view = memoryview(payload)
                while view:
                    written = os.write(fd, view)
                    view = view[written:]
                os.fsync(fd)
            except OSError:
                with contextlib.suppress(OSError):
                    os.ftruncate(fd, start)
                raise
        finally:
            os.close(fd)
        if is_new:
            _fsync_dir(self.directory)
        with self._index_lock:
            self._keys.setdefault(sender_id, set()).update(row.key for row in rows)

    def read(self, sender_id: str) -> list[EventRow]:
        """This conversation's waiting rows, in the order they were appended."""
        if not self.has(sender_id):
            return []
        path = self.path_for(sender_id)
        try:
            text = path.read_bytes().decode("utf-8", "surrogatepass")
        except FileNotFoundError:
            with self._index_lock:
                self._keys.pop(sender_id, None)
            return []
        rows: list[EventRow] = []
        for line in text.splitlines():
            try:
                line_sender, row = EventRow.from_json(line)
            except ValueError:
                continue
            if line_sender == sender_id:
                rows.append(row)
        return rows

    def clear(self, sender_id: str) -> None:
        """Forget this conversation's rows (they are in the database now)."""
        path = self.path_for(sender_id)
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            _fsync_dir(self.directory)
        with self._index_lock:
            self._keys.pop(sender_id, None)
