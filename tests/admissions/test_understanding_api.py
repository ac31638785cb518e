"""The understanding package has one public entry point: code outside it imports the package.

A reader's internals (how the schedule reader segments a sentence, which regex finds a shift's
end) can then change without touching the actions, the crisis net or the channel.
"""

from __future__ import annotations

import ast
from pathlib import Path

import admissions.understanding as understanding

ROOT = Path(__file__).resolve().parents[2]
OUTSIDE = ["actions", "rasa_addons", "benchmarks", "admissions"]


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
        elif isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
    return names


def test_code_outside_the_package_imports_only_its_public_entry_point() -> None:
    offenders = []
    for top in OUTSIDE:
        for path in (ROOT / top).rglob("*.py"):
            if "understanding" in path.relative_to(ROOT).parts:
                continue
            for name in _imports(path):
                if name.startswith("admissions.understanding."):
                    offenders.append(f"{path.relative_to(ROOT)} imports {name}")
    assert offenders == []


def test_every_public_name_is_there() -> None:
    missing = [name for name in understanding.__all__ if not hasattr(understanding, name)]
    assert missing == []


def test_one_parse_reads_a_message_several_ways() -> None:
    doc = understanding.parse("9-5 mon-fri")
    assert doc is not None
    as_work = understanding.extract_facts(doc, asked_about="work")
    as_free = understanding.extract_facts(doc, asked_about="free")
    assert as_work.busy is not None and as_work.free is None
    assert as_free.free is not None and as_free.busy is None
    assert understanding.parse("   ") is None
    assert understanding.extract_facts(None).mentioned() == {}
