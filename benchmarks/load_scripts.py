"""What each simulated visitor of `make bench-load` says: the messages of whole assessments,
recorded once by playing scripted visitors (``benchmarks/visitors/``) against this assistant,
cached under ``build/bench-load/`` per model, visitor files, simulator and server code."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from benchmarks import servers
from benchmarks.conversation import Conversation
from benchmarks.rasa_rest import Rasa
from benchmarks.visitor import Visitor, load_visitors

ROOT = servers.ROOT


def pick_visitors(visitors: list[Visitor], count: int) -> list[Visitor]:
    """``count`` visitors taken in turn from each kind, leaving out expected crises."""
    by_kind: dict[str, list[Visitor]] = {}
    for v in visitors:
        if not v.expect_crisis:
            by_kind.setdefault(v.kind, []).append(v)
    picked: list[Visitor] = []
    while len(picked) < count and any(by_kind.values()):
        for group in by_kind.values():
            if group and len(picked) < count:
                picked.append(group.pop(0))
    return picked


class _Recorder(Rasa):
    """Rasa's REST channel, remembering what was sent (button taps as their payloads)."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.sent: list[str] = []

    def say(self, sender: str, text: str) -> list[dict[str, Any]]:
        """Send and remember one message."""
        self.sent.append(text)
        return super().say(sender, text)


def digest(paths: Iterable[Path], extra: str) -> str:
    """The first 16 hex digits of SHA-256 over ``extra`` and the files' bytes."""
    digest = hashlib.sha256(extra.encode())
    for path in paths:
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()[:16]


def scripts_for(url: str, count: int, code: str = "tree", log: Any = print) -> list[dict[str, Any]]:
    """Messages of ``count`` whole assessments, recorded against ``url`` or from the cache.

    The cache is keyed by the model, the visitor files, the simulator and ``code`` (the server
    code: "tree", or the commit of a snapshot).
    """
    files = [servers.MODEL, *sorted((ROOT / "benchmarks" / "visitors").glob("*.yml"))]
    files += [ROOT / "benchmarks" / name for name in ("conversation.py", "visitor.py")]
    cache = servers.CACHE / f"scripts-{digest(files, f'{count}:{code}')}.json"
    if cache.exists():
        return list(json.loads(cache.read_text()))
    log(f"==> recording {count} whole assessments (once per model and visitor files)")
    scripts = []
    for visitor in pick_visitors(load_visitors(), count):
        rasa = _Recorder(url)
        outcome = Conversation(visitor, rasa).run()
        scripts.append({"visitor": visitor.name, "success": outcome.success, "messages": rasa.sent})
        log(f"    {visitor.name}: {len(rasa.sent)} messages, success={outcome.success}")
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(scripts, indent=1) + "\n")
    return scripts
