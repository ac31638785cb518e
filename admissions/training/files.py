"""Reading the project's files: YAML through libyaml, and one digest over files and folders
(what a training snapshot or an evaluation depends on). No other training module below it."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

# libyaml's parser when PyYAML has it (~10x faster; the same documents, errors with line
# marks): the staff inbox and annotation pages read every NLU file and the domain per request.
_SAFE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml(text: str) -> Any:
    """``yaml.safe_load`` through libyaml when available."""
    return yaml.load(text, Loader=_SAFE_LOADER)  # noqa: S506 - a safe loader


def digest(paths: Iterable[Path]) -> str:
    """SHA-256 over the names and bytes of files; a folder counts every file under it (in
    path order), a missing path counts as nothing."""
    sha = hashlib.sha256()
    for root in paths:
        files = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else [root]
        for path in files:
            if path.exists():
                sha.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return sha.hexdigest()
